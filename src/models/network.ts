import { z } from "zod";
import { VerinferError } from "../errors.js";
import { hardSigmoidParams, hardSigmoidRadiusBits, TABLED_ACTIVATIONS } from "./layers/piecewise.js";

/**
 * Activations verinfer proves inside the network (softmax is a head: see {@link Network.head}): `relu6` is
 * min(max(x, 0), 6); `leakyRelu` is x for x >= 0 and alpha·x below, with alpha = 2^-k (see
 * {@link ActivationLayer.alpha}), proven only as a standalone activation layer; the smooth ones
 * ({@link TABLED_ACTIVATIONS}, tfjs's names where tfjs has them) are proven as committed piecewise-linear tables (`layers/piecewise.ts`).
 */
export const ACTIVATIONS = ["relu", "linear", "relu6", "leakyRelu", ...TABLED_ACTIVATIONS] as const;
/** One of {@link ACTIVATIONS}. */
export type Activation = (typeof ACTIVATIONS)[number];
/** Activations a Dense or Conv2D layer applies itself (tfjs's activation names). */
export const LAYER_ACTIVATIONS = ["relu", "linear", "relu6"] as const;
/** One of {@link LAYER_ACTIVATIONS}. */
export type LayerActivation = (typeof LAYER_ACTIVATIONS)[number];
/** The LeakyReLU slopes verinfer proves: 2^-k for k in [1, MAX_LEAK_SHIFT] (a shift of the negative values). */
export const MAX_LEAK_SHIFT = 16;

/** k with alpha = 2^-k, or undefined when alpha is not a slope verinfer proves. */
export function leakShiftOf(alpha: number): number | undefined {
  if (!(alpha > 0 && alpha < 1)) return undefined;
  const k = -Math.log2(alpha);
  return Number.isInteger(k) && k >= 1 && k <= MAX_LEAK_SHIFT ? k : undefined;
}
/** Padding of a convolution or pooling window, as in Keras: "same" pads with zeros (convolution). */
export const PADDINGS = ["valid", "same"] as const;
/** One of {@link PADDINGS}. */
export type Padding = (typeof PADDINGS)[number];

/** A pair of sizes along (height, width). */
export type Pair = [number, number];

/**
 * Explicit padding of the height and width axes, `[[top, bottom], [left, right]]`: what a `ZeroPadding2D`, an ONNX
 * `pads` attribute or asymmetric padding states. A layer that has it uses it instead of its `padding` ("valid").
 */
export type Pads = [[number, number], [number, number]];

/**
 * A dense layer in float: `y = act(x · kernel + bias)`, kernel indexed `[in][out]` as in Keras, over its input
 * flattened in row-major order. `kind` may be omitted (the layer format of verinfer's first, dense-only networks).
 */
export interface DenseLayer {
  kind?: "dense";
  name: string;
  units: number;
  activation: LayerActivation;
  kernel: number[][];
  bias: number[];
}

/**
 * A 2-D convolution on a channels-last `[height, width, channels]` input: kernel indexed
 * `[kh][kw][inChannels][filters]` as in Keras, "same" padding = zero padding with Keras's split (the extra
 * row/column at the bottom/right).
 */
export interface Conv2dLayer {
  kind: "conv2d";
  name: string;
  filters: number;
  kernelSize: Pair;
  strides: Pair;
  padding: Padding;
  /** Explicit zero padding (asymmetric allowed), in place of `padding`: see {@link Pads}. */
  pads?: Pads;
  activation: LayerActivation;
  kernel: number[][][][];
  bias: number[];
}

/**
 * Average or max pooling over windows of a channels-last input. Padding ("same", or explicit `pads`) adds positions
 * no window value comes from: max pooling skips them (pads with −∞), average pooling divides by the number of
 * input positions in the window (Keras "same", ONNX `count_include_pad = 0`) or, with `countIncludePad`, by the
 * whole window size (the padded positions count as zeros). Every window holds at least one input position.
 */
export interface Pool2dLayer {
  kind: "avgPool2d" | "maxPool2d";
  name: string;
  poolSize: Pair;
  strides: Pair;
  padding: Padding;
  /** Explicit padding, in place of `padding`: see {@link Pads}. */
  pads?: Pads;
  /** Average pooling only: padded positions count in the divisor (as zeros). */
  countIncludePad?: boolean;
}

/**
 * A lookup of token ids in a table (Keras `Embedding`, ONNX `Gather` on a constant table): input `[length]` of
 * integer ids in [0, inputDim), output the rows `[1, length, outputDim]` (a 1-D sequence as a height-1 image, so
 * that 1-D convolutions and poolings run as 2-D ones). Only as a network's first layer: its input is the ids.
 */
export interface EmbeddingLayer {
  kind: "embedding";
  name: string;
  /** Vocabulary size. */
  inputDim: number;
  outputDim: number;
  /** `[inputDim][outputDim]`. */
  table: number[][];
}

/** The mean of each channel over the whole `[height, width]` plane; output `[channels]`. */
export interface GlobalAvgPool2dLayer {
  kind: "globalAvgPool2d";
  name: string;
}

/** A layout change only (Flatten, Reshape): values keep their row-major (channels-last) order. */
export interface ReshapeLayer {
  kind: "reshape";
  name: string;
  /** The output shape, without the batch axis. */
  shape: number[];
}

/** A standalone activation. */
export interface ActivationLayer {
  kind: "activation";
  name: string;
  activation: Activation;
  /**
   * The negative slope of a `leakyRelu` (a power of two, see {@link leakShiftOf}), or a `hardSigmoid`'s slope
   * (clip(alpha·x + beta, 0, 1), default 0.2; PyTorch's Hardsigmoid: 1/6); absent otherwise.
   */
  alpha?: number;
  /** A `hardSigmoid`'s offset (default 0.5); absent otherwise. */
  beta?: number;
}

/**
 * A merge of earlier tensors (a layer with two or more {@link LayerWiring.inputs}): `add` and `mul` elementwise
 * (inputs of one shape: a residual sum, a gating product), `concat` along the last axis (channels of a
 * channels-last image, or features).
 */
export interface MergeLayer {
  kind: "add" | "concat" | "mul";
  name: string;
}

/**
 * Where a float layer reads from: the tensors it reads, by index (0: the network's input, t ≥ 1: the output of
 * layer t − 1). Absent: the previous layer's output, so a chain states no wiring. A merge reads two or more.
 */
export interface LayerWiring {
  inputs?: number[];
}

/** One layer of verinfer's float IR (what the tfjs and ONNX loaders produce). */
export type Layer = (
  | DenseLayer
  | Conv2dLayer
  | Pool2dLayer
  | GlobalAvgPool2dLayer
  | ReshapeLayer
  | ActivationLayer
  | MergeLayer
  | EmbeddingLayer
) &
  LayerWiring;

/** The kind of a {@link Layer} (`dense` when omitted). */
export type LayerKind = NonNullable<Layer["kind"]>;

/**
 * A feed-forward chain of layers, the float model verinfer quantizes. Tensors are channels-last and flattened in
 * row-major order, which is the order of tfjs's Flatten.
 */
export interface Network {
  /** Shape of one input, without the batch axis (e.g. `[28, 28, 1]`). */
  inputShape: number[];
  /** Number of scalars in one input. */
  inputSize: number;
  layers: Layer[];
  /**
   * `"softmax"`: the model ends in a softmax. The circuit proves the logits (the output of the layers) and their
   * argmax; probabilities are computed in float and are not proven.
   */
  head?: "softmax";
}

/** The float IR of a network of dense layers only: the name of {@link Network} before convolutions. */
export type DenseNetwork = Network;

/** Whether a layer is a {@link DenseLayer} (whose `kind` may be omitted). */
export function isDenseLayer(layer: Layer): layer is DenseLayer {
  return layer.kind === undefined || layer.kind === "dense";
}

/** The kind of a layer, `dense` when omitted. */
export function layerKind(layer: Layer): LayerKind {
  return layer.kind ?? "dense";
}

/**
 * The network with its activations' parameters in their one spelling ({@link hardSigmoidParams}); the network itself
 * when they already are.
 */
export function canonicalNetwork<N extends Network>(net: N): N {
  const layers = net.layers.map((layer) => {
    if (layer.kind !== "activation" || layer.activation !== "hardSigmoid") return layer;
    const params = hardSigmoidParams(layer);
    if (params.alpha === layer.alpha && params.beta === layer.beta) return layer;
    const { alpha: _, beta: __, ...rest } = layer;
    return { ...rest, ...params };
  });
  return layers.every((layer, i) => layer === net.layers[i]) ? net : { ...net, layers };
}

const finite = z.number().refine(Number.isFinite, "must be finite");
const positive = z.number().int().positive();
const pair = z.tuple([positive, positive]);
const nonNegative = z.number().int().min(0);
const padsSchema = z.tuple([z.tuple([nonNegative, nonNegative]), z.tuple([nonNegative, nonNegative])]);

const wiring = { inputs: z.array(z.number().int().nonnegative()).min(1).optional() };

/** zod schema of one {@link Layer}. */
export const LayerSchema = z.union([
  z.object({ kind: z.enum(["add", "concat", "mul"]), name: z.string(), ...wiring }),
  z.object({
    kind: z.literal("dense").optional(),
    name: z.string(),
    ...wiring,
    units: positive,
    activation: z.enum(LAYER_ACTIVATIONS),
    kernel: z.array(z.array(finite)),
    bias: z.array(finite),
  }),
  z.object({
    kind: z.literal("conv2d"),
    name: z.string(),
    ...wiring,
    filters: positive,
    kernelSize: pair,
    strides: pair,
    padding: z.enum(PADDINGS),
    pads: padsSchema.optional(),
    activation: z.enum(LAYER_ACTIVATIONS),
    kernel: z.array(z.array(z.array(z.array(finite)))),
    bias: z.array(finite),
  }),
  z.object({
    kind: z.enum(["avgPool2d", "maxPool2d"]),
    name: z.string(),
    ...wiring,
    poolSize: pair,
    strides: pair,
    padding: z.enum(PADDINGS),
    pads: padsSchema.optional(),
    countIncludePad: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal("embedding"),
    name: z.string(),
    inputDim: positive,
    outputDim: positive,
    table: z.array(z.array(finite)),
  }),
  z.object({ kind: z.literal("globalAvgPool2d"), name: z.string(), ...wiring }),
  z.object({ kind: z.literal("reshape"), name: z.string(), shape: z.array(positive).min(1), ...wiring }),
  z
    .object({
      kind: z.literal("activation"),
      name: z.string(),
      ...wiring,
      activation: z.enum(ACTIVATIONS),
      alpha: z.number().optional(),
      beta: z.number().optional(),
    })
    .refine(
      (l) =>
        l.activation === "leakyRelu"
          ? l.alpha !== undefined && leakShiftOf(l.alpha) !== undefined && l.beta === undefined
          : l.activation === "hardSigmoid"
            ? hardSigmoidRadiusBits(l) !== undefined
            : l.alpha === undefined && l.beta === undefined,
      "alpha is a power of two 2^-k (k in 1..16) on a leakyRelu, a positive slope (and beta an offset) on a " +
        "hardSigmoid, and absent otherwise",
    ),
]);

/** zod schema of {@link Network} (stored inside model packages). */
export const NetworkSchema = z.object({
  inputShape: z.array(positive),
  inputSize: positive,
  layers: z.array(LayerSchema).min(1),
  head: z.literal("softmax").optional(),
});

/** The former name of {@link NetworkSchema}. */
export const DenseNetworkSchema = NetworkSchema;

/**
 * How many windows of `window` values at `stride` fit in `padded` values (Keras and ONNX round down, ONNX's
 * `ceil_mode` up); never negative. The one output-size formula of every sliding window.
 */
export function windowCount(
  padded: number,
  window: number,
  stride: number,
  round: (x: number) => number = Math.floor,
): number {
  return Math.max(0, round((padded - window) / stride) + 1);
}

/**
 * Keras "same" padding along one axis (ONNX `SAME_UPPER`): `ceil(size / stride)` windows, padded by
 * `max((out − 1)·stride + window − size, 0)` in all, the odd one after.
 */
export function samePadding(size: number, window: number, stride: number): { out: number; pads: [number, number] } {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + window - size, 0);
  return { out, pads: [Math.floor(total / 2), total - Math.floor(total / 2)] };
}

/**
 * Output size and padding `[before, after]` of a window sliding along axis `a` (0: height, 1: width) of a layer
 * with explicit {@link Pads} or a Keras `padding`. `after` may exceed what the last window reads (ONNX floors).
 */
export function windowGeometry(
  layer: { strides: Pair; padding: Padding; pads?: Pads },
  size: number,
  window: number,
  a: 0 | 1,
): { out: number; pads: [number, number] } {
  const stride = layer.strides[a];
  const pads = layer.pads?.[a];
  if (pads) return { out: windowCount(size + pads[0] + pads[1], window, stride), pads: [pads[0], pads[1]] };
  if (layer.padding === "same") return samePadding(size, window, stride);
  return { out: windowCount(size, window, stride), pads: [0, 0] };
}

function invalid(layer: Layer, why: string): VerinferError {
  return new VerinferError("INVALID_MODEL", `layer "${layer.name}" (${layerKind(layer)}) ${why}`);
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * The output shape of a layer applied to `inShape`, checking that the layer fits its input and its weights.
 *
 * @throws VerinferError `INVALID_MODEL` when they do not fit.
 */
export function layerOutputShape(layer: Layer, inShape: readonly number[]): number[] {
  if (isDenseLayer(layer)) {
    // A dense layer reads its input flattened (row-major), as verinfer's dense-only networks always did. (The tfjs
    // loader refuses a Keras Dense on a multi-dimensional input, which acts on the last axis only.)
    const nIn = size(inShape);
    if (layer.kernel.length !== nIn || layer.kernel.some((r) => r.length !== layer.units)) {
      throw invalid(layer, `needs a kernel of ${nIn} × ${layer.units}`);
    }
    if (layer.bias.length !== layer.units) throw invalid(layer, `needs ${layer.units} biases`);
    return [layer.units];
  }
  const rank3 = () => {
    if (inShape.length !== 3)
      throw invalid(layer, `needs a [height, width, channels] input, got [${inShape.join(", ")}]`);
    return inShape as [number, number, number];
  };
  switch (layer.kind) {
    case "conv2d": {
      const [h, w, c] = rank3();
      const [kh, kw] = layer.kernelSize;
      const k = layer.kernel;
      const shapeOk =
        k.length === kh &&
        k.every((r) => r.length === kw && r.every((s) => s.length === c && s.every((t) => t.length === layer.filters)));
      if (!shapeOk) throw invalid(layer, `needs a kernel of ${kh} × ${kw} × ${c} × ${layer.filters}`);
      if (layer.bias.length !== layer.filters) throw invalid(layer, `needs ${layer.filters} biases`);
      if (layer.pads && layer.padding !== "valid") throw invalid(layer, 'states pads with padding "same"');
      const y = windowGeometry(layer, h, kh, 0);
      const x = windowGeometry(layer, w, kw, 1);
      if (y.out <= 0 || x.out <= 0) throw invalid(layer, "has a kernel larger than its input");
      if (y.pads[0] >= kh || x.pads[0] >= kw || y.pads[1] >= kh || x.pads[1] >= kw) {
        throw new VerinferError(
          "UNSUPPORTED_LAYER",
          `layer "${layer.name}" (conv2d) pads as much as its kernel or more (pads ${y.pads.join("/")} × ` +
            `${x.pads.join("/")} for a ${kh}×${kw} kernel): an output window would read padding only`,
          {
            details:
              `pads ${y.pads.join("/")} × ${x.pads.join("/")} for a ${kh}×${kw} kernel, so an output window reads ` +
              "padding only (its output would be the bias alone), which is not supported: verinfer proves a " +
              "convolution whose every window holds at least one input position (each pad smaller than the kernel " +
              "along its axis). Pad less, or crop the output rows/columns that read only padding",
            meta: { layer: layer.name, className: "conv2d" },
          },
        );
      }
      return [y.out, x.out, layer.filters];
    }
    case "avgPool2d":
    case "maxPool2d": {
      const [h, w, c] = rank3();
      if (layer.pads && layer.padding !== "valid") throw invalid(layer, 'states pads with padding "same"');
      if (layer.countIncludePad !== undefined && layer.kind !== "avgPool2d") {
        throw invalid(layer, "states countIncludePad but is not an average pooling");
      }
      const [ph, pw] = layer.poolSize;
      const y = windowGeometry(layer, h, ph, 0);
      const x = windowGeometry(layer, w, pw, 1);
      if (y.out <= 0 || x.out <= 0) throw invalid(layer, "has a window larger than its input");
      if (y.pads[0] >= ph || x.pads[0] >= pw || y.pads[1] >= ph || x.pads[1] >= pw) {
        throw new VerinferError(
          "UNSUPPORTED_LAYER",
          `layer "${layer.name}" (${layer.kind}) pads as much as its window`,
          {
            details: "a pooling window must hold at least one input position: pad less than the window size",
            meta: { layer: layer.name, className: layer.kind },
          },
        );
      }
      return [y.out, x.out, c];
    }
    case "globalAvgPool2d":
      return [rank3()[2]];
    case "embedding":
      if (inShape.length !== 1) throw invalid(layer, `reads [length] token ids, got [${inShape.join(", ")}]`);
      if (layer.table.length !== layer.inputDim || layer.table.some((r) => r.length !== layer.outputDim)) {
        throw invalid(layer, `needs a table of ${layer.inputDim} × ${layer.outputDim}`);
      }
      return [1, inShape[0] as number, layer.outputDim];
    case "reshape":
      if (size(layer.shape) !== size(inShape)) {
        throw invalid(layer, `cannot reshape [${inShape.join(", ")}] to [${layer.shape.join(", ")}]`);
      }
      return layer.shape.slice();
    case "activation":
      if (!(ACTIVATIONS as readonly string[]).includes(layer.activation)) {
        throw invalid(layer, `has unknown activation "${String(layer.activation)}"`);
      }
      if (layer.activation === "leakyRelu" && (layer.alpha === undefined || leakShiftOf(layer.alpha) === undefined)) {
        throw new VerinferError(
          "UNSUPPORTED_LAYER",
          `layer "${layer.name}" (activation) is a LeakyReLU with slope ${layer.alpha}`,
          {
            details: `verinfer proves LeakyReLU slopes 2^-k for k in 1..${MAX_LEAK_SHIFT} (0.5, 0.25, …, 0.125 …)`,
            meta: { layer: layer.name, className: "LeakyReLU" },
          },
        );
      }
      if (layer.activation === "hardSigmoid" && hardSigmoidRadiusBits(layer) === undefined) {
        throw new VerinferError(
          "UNSUPPORTED_LAYER",
          `layer "${layer.name}" (activation) is a hardSigmoid with slope ${layer.alpha} and offset ${layer.beta}`,
          {
            details: "verinfer proves clip(alpha·x + beta, 0, 1) for alpha > 0 with both kinks within ±4096",
            meta: { layer: layer.name, className: "HardSigmoid" },
          },
        );
      }
      if (layer.activation !== "leakyRelu" && layer.activation !== "hardSigmoid" && layer.alpha !== undefined) {
        throw invalid(layer, "states a slope but is not a leakyRelu or a hardSigmoid");
      }
      if (layer.activation !== "hardSigmoid" && layer.beta !== undefined) {
        throw invalid(layer, "states an offset but is not a hardSigmoid");
      }
      return inShape.slice();
    case "add":
    case "concat":
    case "mul":
      // A merge of one tensor is no merge: networkShapes gives a merge all its inputs.
      throw invalid(layer, "merges a single tensor");
  }
}

/**
 * The shape after each layer (index 0: the input), checking that every layer fits its input.
 *
 * @throws VerinferError `INVALID_MODEL` when a layer does not fit its input or the input shape is wrong.
 */
export function networkShapes(net: Network): number[][] {
  if (size(net.inputShape) !== net.inputSize) {
    throw new VerinferError(
      "INVALID_MODEL",
      `input shape [${net.inputShape.join(", ")}] does not hold ${net.inputSize} values`,
    );
  }
  const shapes = [net.inputShape.slice()];
  net.layers.forEach((layer, l) => {
    if (layer.kind === "embedding" && l !== 0) throw invalid(layer, "is not the first layer (it reads the input ids)");
    const from = floatInputTensors(layer, l);
    if (from.some((t) => !(Number.isInteger(t) && t >= 0 && t <= l))) {
      throw invalid(layer, `reads tensor ${from.join(", ")}: a layer reads the input or earlier layers' outputs`);
    }
    const ins = from.map((t) => shapes[t] as number[]);
    const merge = layer.kind === "add" || layer.kind === "concat" || layer.kind === "mul";
    if (merge !== ins.length > 1 || (layer.kind === "mul" && ins.length !== 2)) {
      throw invalid(layer, `reads ${ins.length} tensors`);
    }
    shapes.push(merge ? mergeOutputShape(layer, ins) : layerOutputShape(layer, ins[0] as number[]));
  });
  return shapes;
}

/** The float tensors a layer reads (0: the input, t: layer t − 1's output); the previous one by default. */
export function floatInputTensors(layer: Layer, l: number): number[] {
  return layer.inputs ? layer.inputs.slice() : [l];
}

/** Whether every layer of a float network reads the previous one's output only. */
export function isChainNetwork(net: Pick<Network, "layers">): boolean {
  return net.layers.every((layer, l) => {
    const t = floatInputTensors(layer, l);
    return t.length === 1 && t[0] === l;
  });
}

/**
 * The output shape of a merge: `add` and `mul` need inputs of one shape, `concat` inputs that differ in their last
 * axis only (which it sums).
 *
 * @throws VerinferError `INVALID_MODEL` when the shapes do not fit.
 */
export function mergeOutputShape(layer: Layer, ins: readonly (readonly number[])[]): number[] {
  const [first] = ins as [readonly number[]];
  const show = ins.map((s) => `[${s.join(", ")}]`).join(" and ");
  if (layer.kind === "concat") {
    const lead = (s: readonly number[]) => s.slice(0, -1).join();
    if (ins.some((s) => s.length !== first.length || lead(s) !== lead(first))) {
      throw invalid(layer, `cannot concatenate ${show} along the last axis`);
    }
    return [...first.slice(0, -1), ins.reduce((a, s) => a + (s[s.length - 1] as number), 0)];
  }
  if (ins.some((s) => s.join() !== first.join())) throw invalid(layer, `cannot merge ${show}: shapes differ`);
  return first.slice();
}
