import { VerinferError } from "../errors.js";
import type { QuantizedLayer, QuantizedNetwork } from "./quantized-network.js";

/**
 * The tensors a layer reads, by index: 0 is the network's input, t ≥ 1 the output of layer t − 1. A layer without
 * `inputs` reads the previous layer's output (tensor l for layer l), so a chain states no wiring at all.
 */
export function layerInputTensors(layer: Pick<QuantizedLayer, "inputs">, l: number): number[] {
  return layer.inputs ? layer.inputs.slice() : [l];
}

/** Whether every layer reads the previous one's output only: a chain, whose commitment states no wiring. */
export function isChain(net: Pick<QuantizedNetwork, "layers">): boolean {
  return net.layers.every((layer, l) => {
    const t = layerInputTensors(layer, l);
    return t.length === 1 && t[0] === l;
  });
}

/** Per tensor, the index of the last layer that reads it (−1 when none does). */
export function lastReaders(net: Pick<QuantizedNetwork, "layers">): number[] {
  const last = new Array<number>(net.layers.length + 1).fill(-1);
  net.layers.forEach((layer, l) => {
    for (const t of layerInputTensors(layer, l)) if (t >= 0 && t < last.length) last[t] = l;
  });
  return last;
}

/**
 * Walks a network's graph in layer order: each layer gets its input tensors (joined by `join`, in the order its
 * `inputs` lists them) and returns its output; a tensor no later layer reads is dropped as soon as it is read last.
 * Returns the last layer's output (the network's output), or the input for a network without layers.
 */
export function walkNetwork<T>(
  net: Pick<QuantizedNetwork, "layers">,
  input: T,
  join: (parts: T[]) => T,
  step: (layer: QuantizedLayer, input: T, l: number) => T,
): T {
  const last = lastReaders(net);
  const tensors: (T | undefined)[] = [input];
  let out = input;
  net.layers.forEach((layer, l) => {
    const ids = layerInputTensors(layer, l);
    const parts = ids.map((t) => {
      const v = t <= l && Number.isInteger(t) ? tensors[t] : undefined;
      if (v === undefined)
        throw new VerinferError("INVALID_MODEL", `layer ${l} reads tensor ${t}, which is not an earlier one`);
      return v;
    });
    out = step(layer, parts.length === 1 ? (parts[0] as T) : join(parts), l);
    for (const t of ids) if (last[t] === l && t !== l + 1) tensors[t] = undefined;
    tensors.push(out);
  });
  return out;
}
