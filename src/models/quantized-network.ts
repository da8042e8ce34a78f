import { z } from "zod";
import { isCommittableOffset } from "../util/field.js";
import { type QuantizedAdd, QuantizedAddSchema } from "./layers/add.js";
import { concatSize, type QuantizedConcat, QuantizedConcatSchema } from "./layers/concat.js";
import { type QuantizedConv2d, QuantizedConv2dSchema } from "./layers/conv2d.js";
import { type QuantizedDense, QuantizedDenseSchema } from "./layers/dense.js";
import { type QuantizedEmbedding, QuantizedEmbeddingSchema } from "./layers/embedding.js";
import { type QuantizedMaxPool2d, QuantizedMaxPool2dSchema } from "./layers/max-pool2d.js";
import { type QuantizedMul, QuantizedMulSchema } from "./layers/mul.js";
import { outputWidthOf, type QuantizedRescale, QuantizedRescaleSchema } from "./layers/rescale.js";
import { bigintString, int } from "./layers/schema-parts.js";
import { type QuantizedSumPool2d, QuantizedSumPool2dSchema } from "./layers/sum-pool2d.js";
import { layerInputTensors } from "./network-graph.js";

export type {
  QuantizedAdd,
  QuantizedConcat,
  QuantizedConv2d,
  QuantizedDense,
  QuantizedEmbedding,
  QuantizedMaxPool2d,
  QuantizedMul,
  QuantizedRescale,
  QuantizedSumPool2d,
};

/**
 * Where a layer reads from: the tensors it reads, by index (0: the network's input, t ≥ 1: the output of layer
 * t − 1), joined in this order. Absent: the previous layer's output (a chain). Merges (`add`, `concat`, `mul`)
 * always state theirs; every other kind reads one tensor. The wiring is part of the model commitment.
 */
export interface LayerWiring {
  inputs?: number[];
}

/**
 * How one input scalar is represented: x ≈ xq / 2^fracBits with xq in [lo, hi] (hi = lo + 2^bits - 1). With
 * `featureFracBits` (per-feature input scales, for tabular inputs in raw units), input i is read as
 * xq_i / 2^featureFracBits[i] and `fracBits` is their minimum; the first layer (a dense layer) then quantizes column
 * i of its weights at 2^(accumulator scale − featureFracBits[i]), so every product lands on one accumulator scale.
 */
export interface InputQuantization {
  bits: number;
  fracBits: number;
  lo: bigint;
  hi: bigint;
  /** Per-feature scales (one per input value); absent: every input at 2^fracBits. Part of the model commitment. */
  featureFracBits?: number[];
}

/** The scale of input value i: its own with per-feature scales, else the shared one. */
export function inputFracBits(input: InputQuantization, i: number): number {
  return input.featureFracBits?.[i] ?? input.fracBits;
}

/**
 * One step of verinfer's integer semantics. Linear steps (`dense`, `conv2d`, `sumPool2d`) produce accumulators
 * that are linear in their inputs (free in the circuit); `rescale` (with its optional ReLU) and `maxPool2d` are
 * the only steps that cost constraints. Tensors are flat, channels-last.
 */
export type QuantizedLayer = (
  | QuantizedDense
  | QuantizedConv2d
  | QuantizedSumPool2d
  | QuantizedRescale
  | QuantizedMaxPool2d
  | QuantizedAdd
  | QuantizedConcat
  | QuantizedMul
  | QuantizedEmbedding
) &
  LayerWiring;

/** The kind of a {@link QuantizedLayer}. */
export type QuantizedLayerKind = QuantizedLayer["kind"];

/** The proven class of a softmax head: argmax of the outputs (lowest index on ties), a public signal. */
export interface ArgmaxHead {
  kind: "argmax";
  /** Signed width of the comparisons, from interval analysis. */
  bits: number;
}

/**
 * The proven class of a binary classifier that ends in a sigmoid on one logit: 1 when the logit (the last rescale's
 * q, before its sigmoid) is >= 0, else 0 — the sign bit that rescale already proves, a public signal beside the
 * proven sigmoid output.
 */
export interface SignHead {
  kind: "sign";
}

/** A whole network in verinfer's exact integer semantics: what the circuit computes and the model commitment covers. */
export interface QuantizedNetwork {
  inputShape: number[];
  inputSize: number;
  input: InputQuantization;
  layers: QuantizedLayer[];
  /** Shape of the output (the logits of a softmax head). */
  outputShape: number[];
  /** Scale of the outputs: the `outFracBits` of the last rescale. */
  outputFracBits: number;
  /** Output packing width: the widest qBits of the last rescale. */
  outputWidth: number;
  /** Present when the float model ends in a softmax. */
  head?: ArgmaxHead | SignHead;
}

/** Number of values a layer reads. */
export function layerInputSize(l: QuantizedLayer): number {
  switch (l.kind) {
    case "dense":
      return l.nIn;
    case "rescale":
    case "mul":
      return l.kind === "mul" ? 2 * l.size : l.size;
    case "add":
      return l.size * l.shifts.length;
    case "concat":
      return concatSize(l);
    case "embedding":
      return l.length;
    default:
      return l.inShape[0] * l.inShape[1] * l.inShape[2];
  }
}

/** Number of values a layer writes. */
export function layerOutputSize(l: QuantizedLayer): number {
  switch (l.kind) {
    case "dense":
      return l.nOut;
    case "rescale":
    case "add":
    case "mul":
      return l.size;
    case "concat":
      return concatSize(l);
    case "embedding":
      return l.length * l.dim;
    default:
      return l.outShape[0] * l.outShape[1] * l.outShape[2];
  }
}

/**
 * The rescale the network's outputs come from: the last layer when it is a rescale, or the rescale a chain of max
 * poolings ending at the last layer reads (followed through the wiring); undefined when the outputs come from
 * anything else. Its qBits bound the outputs, which makes the output packing binding.
 */
export function lastRescale(net: Pick<QuantizedNetwork, "layers">): QuantizedRescale | undefined {
  let l = net.layers.length - 1;
  while (l >= 0) {
    const layer = net.layers[l] as QuantizedLayer;
    if (layer.kind === "rescale") return layer;
    if (layer.kind !== "maxPool2d") return undefined;
    const from = layerInputTensors(layer, l);
    if (from.length !== 1) return undefined;
    l = (from[0] as number) - 1;
  }
  return undefined;
}

const wiring = { inputs: z.array(int.min(0)).min(1).optional() };
/**
 * What an embedding needs: to be the first layer, reading ids (input lo = 0, fracBits = 0), and a `[vocab][dim]`
 * table of weightBits-bit signed integers (what its commitment packs).
 */
function embeddingIssues(
  input: { lo: bigint; fracBits: number },
  layer: QuantizedEmbedding,
  l: number,
  issue: (message: string, path: (string | number)[]) => void,
): void {
  const at = ["layers", l];
  if (l !== 0) issue(`layer ${l} is an embedding but not the first layer`, at);
  if (input.lo !== 0n || input.fracBits !== 0) issue("an embedding's input (token ids) needs lo = 0, fracBits = 0", at);
  const half = 1n << BigInt(layer.weightBits - 1);
  if (layer.table.length !== layer.vocab || layer.table.some((r) => r.length !== layer.dim)) {
    issue(`layer ${l}'s table must be ${layer.vocab} rows of ${layer.dim}`, at);
  } else if (layer.table.some((r) => r.some((v) => v < -half || v >= half))) {
    issue(`layer ${l}'s table entries must fit ${layer.weightBits} signed bits`, at);
  }
}

/** A weighted layer's weights must fit weightBits signed bits: its commitment packs them in slots of that width. */
function weightRangeIssues(
  layer: { weightBits: number; weights: bigint[][] },
  l: number,
  issue: (message: string, path: (string | number)[]) => void,
): void {
  const half = 1n << BigInt(layer.weightBits - 1);
  if (layer.weights.some((r) => r.some((w) => w < -half || w >= half))) {
    issue(`layer ${l}'s weights must fit ${layer.weightBits} signed bits`, ["layers", l]);
  }
}

/**
 * Whether a pooling's windows fit its input: without padding each lies inside it; with padding (pt, pl) each holds
 * at least one input position (pad before < window, and the last window starts inside the input).
 */
function poolWindowsFit(layer: QuantizedSumPool2d | QuantizedMaxPool2d): boolean {
  if (layer.outShape[2] !== layer.inShape[2]) return false;
  const pad = layer.padding ?? [0, 0];
  // Unpadded: every window inside (poolIsPadded is false). Padded: none of padding only.
  return ([0, 1] as const).every(
    (a) => pad[a] < layer.poolSize[a] && (layer.outShape[a] - 1) * layer.strides[a] - pad[a] <= layer.inShape[a] - 1,
  );
}

/** zod schema of a serialized {@link QuantizedNetwork} (bigints as decimal strings). */
export const QuantizedNetworkSchema = z
  .object({
    inputShape: z.array(int.positive()),
    inputSize: int.positive(),
    input: z.object({
      bits: int.min(1).max(64),
      fracBits: int,
      lo: bigintString,
      hi: bigintString,
      featureFracBits: z.array(int.min(-256).max(256)).optional(),
    }),
    layers: z
      .array(
        z.discriminatedUnion("kind", [
          QuantizedDenseSchema.extend(wiring),
          QuantizedConv2dSchema.extend(wiring),
          QuantizedSumPool2dSchema.extend(wiring),
          QuantizedRescaleSchema.extend(wiring),
          QuantizedMaxPool2dSchema.extend(wiring),
          QuantizedAddSchema.extend(wiring),
          QuantizedConcatSchema.extend(wiring),
          QuantizedMulSchema.extend(wiring),
          QuantizedEmbeddingSchema.extend(wiring),
        ]),
      )
      .min(1),
    outputShape: z.array(int.positive()),
    outputFracBits: int,
    outputWidth: int.min(2).max(250),
    head: z
      .union([
        z.object({ kind: z.literal("argmax"), bits: int.min(2).max(250) }),
        z.object({ kind: z.literal("sign") }).strict(),
      ])
      .optional(),
  })
  // The network commitment hashes kinds and sizes, then weights and biases flat, and not `input.hi`: these make
  // its parse unique and keep every field the integer reference reads determined by what is hashed.
  .superRefine((net, ctx) => {
    const issue = (message: string, path: (string | number)[]) => ctx.addIssue({ code: "custom", message, path });
    // The model commitment hashes lo as a field element and the input commitment's header holds lo + 2^127 in
    // 128 bits: outside [-2^127, 2^127), lo and lo + p would be two networks with one model id.
    if (!isCommittableOffset(net.input.lo)) {
      issue("input.lo must lie in [-2^127, 2^127)", ["input", "lo"]);
    }
    if (net.input.hi !== net.input.lo + (1n << BigInt(net.input.bits)) - 1n) {
      issue("input.hi must be lo + 2^bits - 1 (what the circuit's range check accepts)", ["input", "hi"]);
    }
    const features = net.input.featureFracBits;
    if (features) {
      // Per-feature scales: one per input value, fracBits their minimum, read by a dense first layer (a
      // permutation or a window of the input would mix scales).
      if (features.length !== net.inputSize) issue("input.featureFracBits needs one scale per input value", ["input"]);
      else if (net.input.fracBits !== features.reduce((m, f) => Math.min(m, f)))
        issue("input.fracBits must be the smallest feature scale", ["input", "fracBits"]);
      else if (features.every((f) => f === net.input.fracBits))
        // One spelling per input format: equal scales are the shared fracBits (another tag, another model id).
        issue("equal per-feature scales are stated as the shared fracBits alone", ["input", "featureFracBits"]);
      const first = net.layers[0];
      if (first?.kind !== "dense" || net.layers.slice(1).some((l) => l.inputs?.includes(0))) {
        issue("per-feature input scales need a dense first layer that alone reads the input", ["input"]);
      }
    }
    // Per tensor (0: the input, t: layer t − 1's output), its size and what its values are: rescaled
    // (range-proven), sums of rescaled values (sum pools after a rescale), or accumulators of a weighted layer or
    // merge. A weighted layer reads either of the first two; a merge reads rescaled values only.
    type State = "rescaled" | "pooled" | "accumulated";
    const sizes = [net.inputSize];
    const states: State[] = ["rescaled"];
    let state: State = "rescaled";
    for (const [l, layer] of net.layers.entries()) {
      const at = ["layers", l];
      const from = layerInputTensors(layer, l);
      const merge = layer.kind === "add" || layer.kind === "concat" || layer.kind === "mul";
      if (from.some((t) => t > l)) issue(`layer ${l} reads a tensor that is not computed before it`, at);
      const wanted = layer.kind === "add" ? layer.shifts.length : layer.kind === "concat" ? layer.parts.length : 2;
      if (merge ? from.length !== wanted : from.length !== 1) {
        issue(`layer ${l} reads ${from.length} tensors, ${merge ? wanted : 1} expected`, at);
      }
      const inStates = from.map((t) => states[t] ?? "rescaled");
      state = inStates[0] ?? "rescaled";
      const n = from.reduce((a, t) => a + (sizes[t] ?? 0), 0);
      if (layerInputSize(layer) !== n)
        issue(`layer ${l} reads ${layerInputSize(layer)} values, its input has ${n}`, at);
      if (merge && inStates.some((s) => s !== "rescaled")) issue(`layer ${l} merges values that are not rescaled`, at);
      if (merge) {
        // Each input exactly as large as the merge reads it.
        const each = (k: number) =>
          layer.kind === "concat" ? layer.outer * (layer.parts[k] as number) : (layer as { size: number }).size;
        if (from.some((t, k) => sizes[t] !== each(k))) issue(`layer ${l}'s inputs do not have the sizes it reads`, at);
      }
      switch (layer.kind) {
        case "dense":
          if (layer.bias.length !== layer.nOut) issue(`layer ${l} needs ${layer.nOut} biases`, at);
          if (layer.weights.length !== layer.nOut || layer.weights.some((r) => r.length !== layer.nIn)) {
            issue(`layer ${l} weights must be ${layer.nOut} rows of ${layer.nIn}`, at);
          }
          weightRangeIssues(layer, l, issue);
          if (state === "accumulated") issue(`layer ${l} is weighted but reads unrescaled accumulators`, at);
          state = "accumulated";
          break;
        case "conv2d": {
          const [kh, kw] = layer.kernelSize;
          const row = kh * kw * layer.inShape[2];
          if (layer.bias.length !== layer.outShape[2]) issue(`layer ${l} needs ${layer.outShape[2]} biases`, at);
          if (layer.weights.length !== layer.outShape[2] || layer.weights.some((r) => r.length !== row)) {
            issue(`layer ${l} weights must be ${layer.outShape[2]} rows of ${row}`, at);
          }
          weightRangeIssues(layer, l, issue);
          if (layer.padding[0] >= kh || layer.padding[1] >= kw) issue(`layer ${l} pads more than its kernel`, at);
          if (state === "accumulated") issue(`layer ${l} is weighted but reads unrescaled accumulators`, at);
          state = "accumulated";
          break;
        }
        case "sumPool2d":
        case "maxPool2d": {
          if (!poolWindowsFit(layer)) issue(`layer ${l}'s windows must lie inside its (padded) input`, at);
          if (layer.kind === "sumPool2d" && state === "rescaled") state = "pooled";
          break;
        }
        case "embedding":
          embeddingIssues(net.input, layer, l, issue);
          state = "rescaled";
          break;
        case "rescale":
          if (layer.qBits.length !== layer.size) issue(`layer ${l} needs ${layer.size} qBits`, at);
          if (layer.qBits.some((b) => b + layer.shift > 250)) issue(`layer ${l} needs shift + qBits <= 250`, at);
          state = "rescaled";
          break;
        case "concat":
          // A permutation of rescaled values: still rescaled.
          state = "rescaled";
          break;
        case "add":
        case "mul":
          state = "accumulated";
          break;
      }
      sizes.push(layerOutputSize(layer));
      states.push(state);
    }
    const n = sizes[sizes.length - 1] as number;
    if (state !== "rescaled") issue("the network must end in rescaled values", ["layers"]);
    if (net.outputShape.reduce((a, b) => a * b, 1) !== n) issue(`outputShape must hold ${n} values`, ["outputShape"]);
    const last = lastRescale(net);
    if (!last) {
      issue("the outputs must come from a rescale (or max pooling of one)", ["layers"]);
    } else {
      // A smooth activation's outputs are table values at their own scale, not within qBits: only a sigmoid head's
      // one output may be one, and its outputWidth is then the table's exact width over every q its range check
      // admits, so the output packing (outputWidth-bit slots) stays binding.
      const signHead = net.head?.kind === "sign";
      if (last.piecewise && !signHead)
        issue(`the outputs must not be a smooth activation's (${last.activation})`, ["layers"]);
      if (net.outputWidth !== outputWidthOf(last, signHead))
        issue("outputWidth must be the widest qBits of the last rescale (a sigmoid head: its table's)", [
          "outputWidth",
        ]);
      if (signHead && (last !== net.layers[net.layers.length - 1] || last.activation !== "sigmoid" || last.size !== 1))
        issue("a sign head reads the last layer: a one-unit sigmoid rescale", ["head"]);
      if (net.outputFracBits !== last.outFracBits)
        issue("outputFracBits must be the last rescale's", ["outputFracBits"]);
    }
  });

/** Serializes a {@link QuantizedNetwork} to JSON-safe data (bigints as decimal strings). */
export function quantizedNetworkToJson(net: QuantizedNetwork): unknown {
  return JSON.parse(JSON.stringify(net, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
}

/** Parses the JSON form produced by {@link quantizedNetworkToJson}. */
export function quantizedNetworkFromJson(json: unknown): QuantizedNetwork {
  return QuantizedNetworkSchema.parse(json) as QuantizedNetwork;
}
