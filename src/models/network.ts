import { z } from "zod";
import { VerinferError } from "../errors.js";
import { SMOOTH_ACTIVATIONS } from "./layers/piecewise.js";

/**
 * Activations verinfer proves inside the network (softmax is a head: see {@link Network.head}): `relu6` is
 * min(max(x, 0), 6); `leakyRelu` is x for x >= 0 and alpha·x below, with alpha = 2^-k (see
 * {@link ActivationLayer.alpha}), proven only as a standalone activation layer; the smooth ones
 * ({@link SMOOTH_ACTIVATIONS}, tfjs's names) are proven as committed piecewise-linear tables (`layers/piecewise.ts`).
 */
export const ACTIVATIONS = ["relu", "linear", "relu6", "leakyRelu", ...SMOOTH_ACTIVATIONS] as const;
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
  activation: LayerActivation;
  kernel: number[][][][];
  bias: number[];
}

/**
 * Average or max pooling over windows of a channels-last input. Only windows that lie wholly inside the input
 * are accepted ("same" padding only where it pads nothing), so every window has `poolSize[0] · poolSize[1]`
 * elements.
 */
export interface Pool2dLayer {
  kind: "avgPool2d" | "maxPool2d";
  name: string;
  poolSize: Pair;
  strides: Pair;
  padding: Padding;
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
  /** The negative slope of a `leakyRelu` (a power of two, see {@link leakShiftOf}); absent otherwise. */
  alpha?: number;
}

/** One layer of verinfer's float IR (what the tfjs and ONNX loaders produce). */
export type Layer = DenseLayer | Conv2dLayer | Pool2dLayer | GlobalAvgPool2dLayer | ReshapeLayer | ActivationLayer;

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

const finite = z.number().refine(Number.isFinite, "must be finite");
const positive = z.number().int().positive();
const pair = z.tuple([positive, positive]);

/** zod schema of one {@link Layer}. */
export const LayerSchema = z.union([
  z.object({
    kind: z.literal("dense").optional(),
    name: z.string(),
    units: positive,
    activation: z.enum(LAYER_ACTIVATIONS),
    kernel: z.array(z.array(finite)),
    bias: z.array(finite),
  }),
  z.object({
    kind: z.literal("conv2d"),
    name: z.string(),
    filters: positive,
    kernelSize: pair,
    strides: pair,
    padding: z.enum(PADDINGS),
    activation: z.enum(LAYER_ACTIVATIONS),
    kernel: z.array(z.array(z.array(z.array(finite)))),
    bias: z.array(finite),
  }),
  z.object({
    kind: z.enum(["avgPool2d", "maxPool2d"]),
    name: z.string(),
    poolSize: pair,
    strides: pair,
    padding: z.enum(PADDINGS),
  }),
  z.object({ kind: z.literal("globalAvgPool2d"), name: z.string() }),
  z.object({ kind: z.literal("reshape"), name: z.string(), shape: z.array(positive).min(1) }),
  z
    .object({
      kind: z.literal("activation"),
      name: z.string(),
      activation: z.enum(ACTIVATIONS),
      alpha: z.number().optional(),
    })
    .refine(
      (l) =>
        l.activation === "leakyRelu"
          ? l.alpha !== undefined && leakShiftOf(l.alpha) !== undefined
          : l.alpha === undefined,
      "alpha is a power of two 2^-k (k in 1..16) on a leakyRelu, and absent otherwise",
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

/** Output size and padding of a window sliding along one axis, as Keras computes them. */
export function windowAxis(
  size: number,
  window: number,
  stride: number,
  padding: Padding,
): { out: number; padBefore: number; padTotal: number } {
  if (padding === "valid") {
    return { out: Math.max(0, Math.floor((size - window) / stride) + 1), padBefore: 0, padTotal: 0 };
  }
  const out = Math.ceil(size / stride);
  const padTotal = Math.max((out - 1) * stride + window - size, 0);
  return { out, padBefore: Math.floor(padTotal / 2), padTotal };
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
      const y = windowAxis(h, kh, layer.strides[0], layer.padding);
      const x = windowAxis(w, kw, layer.strides[1], layer.padding);
      if (y.out <= 0 || x.out <= 0) throw invalid(layer, "has a kernel larger than its input");
      return [y.out, x.out, layer.filters];
    }
    case "avgPool2d":
    case "maxPool2d": {
      const [h, w, c] = rank3();
      const y = windowAxis(h, layer.poolSize[0], layer.strides[0], layer.padding);
      const x = windowAxis(w, layer.poolSize[1], layer.strides[1], layer.padding);
      if (y.out <= 0 || x.out <= 0) throw invalid(layer, "has a window larger than its input");
      if (y.padTotal > 0 || x.padTotal > 0) {
        throw new VerinferError("UNSUPPORTED_LAYER", `layer "${layer.name}" (${layer.kind}) pads its input`, {
          details: 'pooling windows must lie inside the input ("valid", or "same" where it pads nothing)',
          meta: { layer: layer.name, className: layer.kind },
        });
      }
      return [y.out, x.out, c];
    }
    case "globalAvgPool2d":
      return [rank3()[2]];
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
      if (layer.activation !== "leakyRelu" && layer.alpha !== undefined) {
        throw invalid(layer, "states a slope but is not a leakyRelu");
      }
      return inShape.slice();
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
  for (const layer of net.layers) shapes.push(layerOutputShape(layer, shapes[shapes.length - 1] as number[]));
  return shapes;
}
