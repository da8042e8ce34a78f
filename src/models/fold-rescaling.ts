import type { Conv2dLayer, DenseLayer, Layer } from "./network.js";

/** A Keras `Rescaling` (y = scale·x + offset, scalars) waiting for the weighted layer it folds into. */
export interface PendingRescaling {
  scale: number;
  offset: number;
}

/** Two rescalings one after the other, as one. */
export function composeRescaling(first: PendingRescaling | undefined, next: PendingRescaling): PendingRescaling {
  if (!first) return next;
  return { scale: first.scale * next.scale, offset: first.offset * next.scale + next.offset };
}

/**
 * Folds a rescaling into the Dense or Conv2D that reads it: W ← scale·W, b ← b + offset·Σ W over each output's
 * inputs — exact for a Dense and for a "valid" convolution; a "same" convolution pads with zeros of the rescaled
 * input, which an offset would move, so it is folded only when the offset is 0. Returns why not, or the new layer.
 */
export function foldRescaling(r: PendingRescaling, layer: Layer): Layer | string {
  if (layer.kind === undefined || layer.kind === "dense") {
    const d = layer as DenseLayer;
    const kernel = d.kernel.map((row) => row.map((w) => r.scale * w));
    const bias = d.bias.map((b, u) => b + r.offset * d.kernel.reduce((s, row) => s + (row[u] as number), 0));
    return { ...d, kernel, bias };
  }
  if (layer.kind === "conv2d") {
    const c = layer as Conv2dLayer;
    if (c.padding === "same" && r.offset !== 0) return "is a Rescaling with an offset before a 'same' convolution";
    const kernel = c.kernel.map((a) => a.map((b) => b.map((row) => row.map((w) => r.scale * w))));
    const bias = c.bias.map(
      (b, o) => b + r.offset * (c.kernel.flat(2) as number[][]).reduce((s, row) => s + (row[o] as number), 0),
    );
    return { ...c, kernel, bias };
  }
  return "is a Rescaling not followed by a Dense or Conv2D (only Flatten/Reshape/Dropout may lie between)";
}
