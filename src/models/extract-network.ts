import type * as tfTypes from "@tensorflow/tfjs";
import { VerinferError } from "../errors.js";
import { composeRescaling, foldRescaling, type PendingRescaling } from "./fold-rescaling.js";
import { hardSigmoidParams, isSmoothActivation, SMOOTH_ACTIVATIONS } from "./layers/piecewise.js";
import {
  type ActivationLayer,
  type Conv2dLayer,
  type DenseLayer,
  LAYER_ACTIVATIONS,
  type Layer,
  type LayerActivation,
  layerOutputShape,
  leakShiftOf,
  MAX_LEAK_SHIFT,
  type Network,
  type Padding,
  type Pads,
  type Pair,
  windowGeometry,
} from "./network.js";
import { PaddedPool2D, type PaddedPool2DArgs } from "./padded-pool-layer.js";
import { TFJS_MERGES, TfjsGraph } from "./tfjs-graph.js";
import { VerinferActivation, type VerinferActivationArgs } from "./verinfer-activation-layer.js";

/** tfjs layer classes verinfer accepts; anything else is an `UNSUPPORTED_LAYER` error naming every such layer. */
export const SUPPORTED_LAYERS = [
  "InputLayer",
  "Dense",
  "Conv2D",
  "DepthwiseConv2D",
  "AveragePooling2D",
  "MaxPooling2D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling2D",
  "ZeroPadding2D",
  "Conv1D",
  "MaxPooling1D",
  "AveragePooling1D",
  "GlobalAveragePooling1D",
  "GlobalMaxPooling1D",
  "Embedding",
  "Flatten",
  "Reshape",
  "Activation",
  "ReLU",
  "LeakyReLU",
  "BatchNormalization",
  "Dropout",
  "Add",
  "Concatenate",
  "Multiply",
  "Softmax",
  "Rescaling",
] as const;

/** One layer a model cannot be proven with, and why. */
export interface UnsupportedLayer {
  layer: string;
  className: string;
  why: string;
}

type Config = Record<string, unknown>;

function pairOf(v: unknown, fallback: number): Pair {
  if (Array.isArray(v)) return [Number(v[0] ?? fallback), Number(v[1] ?? v[0] ?? fallback)];
  if (typeof v === "number") return [v, v];
  return [fallback, fallback];
}

function weightsOf(layer: tfTypes.layers.Layer): unknown[] {
  return layer.getWeights().map((w) => w.arraySync());
}

function assertFinite(name: string, values: readonly number[]): void {
  if (!values.every(Number.isFinite)) {
    throw new VerinferError("INVALID_MODEL", `layer "${name}" has a NaN or infinite weight`);
  }
}

/** A BatchNormalization layer as y = a · x + c per channel (the last axis). */
function batchNormAffine(layer: tfTypes.layers.Layer, channels: number): { a: number[]; c: number[] } {
  const config = layer.getConfig() as Config;
  const w = layer.getWeights().map((t) => t.arraySync() as number[]);
  let k = 0;
  const gamma = config.scale === false ? new Array<number>(channels).fill(1) : (w[k++] as number[]);
  const beta = config.center === false ? new Array<number>(channels).fill(0) : (w[k++] as number[]);
  const mean = w[k++] as number[];
  const variance = w[k++] as number[];
  const eps = Number(config.epsilon ?? 1e-3);
  if ([gamma, beta, mean, variance].some((v) => !v || v.length !== channels)) {
    throw new VerinferError(
      "INVALID_MODEL",
      `layer "${layer.name}" has batch-normalization weights of unexpected shape`,
    );
  }
  const a = gamma.map((g, i) => g / Math.sqrt((variance[i] as number) + eps));
  const c = beta.map((b, i) => b - (a[i] as number) * (mean[i] as number));
  assertFinite(layer.name, [...a, ...c]);
  return { a, c };
}

/** Folds y = a·x + c (per output channel) into a weighted layer with linear activation. */
function foldAffine(target: DenseLayer | Conv2dLayer, a: readonly number[], c: readonly number[]): void {
  target.bias = target.bias.map((b, j) => (a[j] as number) * b + (c[j] as number));
  if (target.kind === "conv2d") {
    target.kernel = target.kernel.map((r) => r.map((s) => s.map((t) => t.map((w, j) => w * (a[j] as number)))));
  } else {
    target.kernel = target.kernel.map((r) => r.map((w, j) => w * (a[j] as number)));
  }
}

/** A standalone per-channel affine as a weighted layer with a diagonal kernel (zeros cost nothing in a circuit). */
function affineLayer(name: string, shape: readonly number[], a: readonly number[], c: readonly number[]): Layer {
  const n = a.length;
  const diagonal = (i: number) => a.map((v, j) => (i === j ? v : 0));
  if (shape.length === 1) {
    return { kind: "dense", name, units: n, activation: "linear", kernel: a.map((_v, i) => diagonal(i)), bias: [...c] };
  }
  return {
    kind: "conv2d",
    name,
    filters: n,
    kernelSize: [1, 1],
    strides: [1, 1],
    padding: "valid",
    activation: "linear",
    kernel: [[a.map((_v, i) => diagonal(i))]],
    bias: [...c],
  };
}

/** A ZeroPadding2D's `[[top, bottom], [left, right]]` (tfjs normalizes its config to this form). */
function zeroPaddingOf(config: Config): Pads {
  const p = config.padding;
  const pair = (v: unknown): [number, number] =>
    Array.isArray(v) ? [Number(v[0] ?? 0), Number(v[1] ?? v[0] ?? 0)] : [Number(v ?? 1), Number(v ?? 1)];
  if (Array.isArray(p)) return [pair(p[0]), pair(p[1] ?? p[0])];
  return [pair(p), pair(p)];
}

function addPads(a: Pads | undefined, b: Pads): Pads {
  if (!a) return b;
  return [
    [a[0][0] + b[0][0], a[0][1] + b[0][1]],
    [a[1][0] + b[1][0], a[1][1] + b[1][1]],
  ];
}

function paddedShape(shape: readonly number[], pads: Pads): number[] {
  const [h, w, c] = shape as [number, number, number];
  return [h + pads[0][0] + pads[0][1], w + pads[1][0] + pads[1][1], c];
}

/**
 * Folds a ZeroPadding2D's zeros into the convolution after it: its own padding ("same" on the padded size) plus
 * the ZeroPadding2D's, as explicit pads on the unpadded input — the same output, one layer.
 */
function foldPadsInto(conv: Conv2dLayer, before: Pads, shape: readonly number[]): void {
  const padded = paddedShape(shape, before);
  const own = ([0, 1] as const).map(
    (a) => windowGeometry(conv, padded[a] as number, conv.kernelSize[a], a).pads,
  ) as Pads;
  conv.pads = addPads(before, own);
  conv.padding = "valid";
}

/**
 * A Keras depthwise kernel `[kh][kw][C][m]` as the equivalent full kernel `[kh][kw][C][C·m]`: output channel
 * c·m + j reads input channel c only (Keras's channel order), every other weight 0.
 */
function depthwiseKernel(dk: number[][][][]): number[][][][] {
  return dk.map((row) =>
    row.map((cell) => {
      const c = cell.length;
      const m = cell[0]?.length ?? 0;
      return cell.map((mult, ci) =>
        Array.from({ length: c * m }, (_, co) => (Math.floor(co / m) === ci ? (mult[co % m] as number) : 0)),
      );
    }),
  );
}

/** A {@link PaddedPool2D} (ONNX pooling with explicit pads) as a pooling layer with explicit pads. */
function paddedPoolLayer(name: string, config: Config): Layer {
  const c = config as unknown as PaddedPool2DArgs;
  return {
    kind: c.pool === "max" ? "maxPool2d" : "avgPool2d",
    name,
    poolSize: [c.poolSize[0], c.poolSize[1]],
    strides: [c.strides[0], c.strides[1]],
    padding: "valid",
    pads: [
      [c.pads[0][0], c.pads[0][1]],
      [c.pads[1][0], c.pads[1][1]],
    ],
    ...(c.pool === "avg" ? { countIncludePad: c.countIncludePad === true } : {}),
  };
}

/** tfjs 1-D layers, read as 2-D ones on a height-1 image `[1, length, channels]`. */
const ONE_D_LAYERS = new Set([
  "Conv1D",
  "MaxPooling1D",
  "AveragePooling1D",
  "GlobalAveragePooling1D",
  "GlobalMaxPooling1D",
]);

/** Parameters of {@link sequenceLayer}. */
interface SequenceLayerParams {
  layer: tfTypes.layers.Layer;
  /** verinfer's shape of the layer's input (`[length]` ids, `[length, channels]`, or `[1, length, channels]`). */
  shape: readonly number[];
  first: boolean;
  refuse: (layer: tfTypes.layers.Layer, why: string) => void;
  activationOf: (name: unknown) => LayerActivation | undefined;
}

/**
 * The layers of a 1-D layer, an Embedding or a GlobalMaxPooling2D: a sequence `[length, channels]` is read as the
 * height-1 image `[1, length, channels]` (a Reshape first, which costs nothing), so Conv1D/pooling run as the 2-D
 * kinds with window height 1; an Embedding outputs `[1, length, dim]` itself; global max pooling is a max pooling
 * over the whole plane, then a Reshape to `[channels]`.
 */
function sequenceLayer(p: SequenceLayerParams): Layer[] | undefined {
  const { layer, refuse } = p;
  const cls = layer.getClassName();
  const config = layer.getConfig() as Config;
  const name = layer.name;
  if (cls === "Embedding") {
    if (!p.first || p.shape.length !== 1) {
      refuse(layer, "is not the model's first layer on its [length] input of token ids");
      return undefined;
    }
    if (config.maskZero === true) {
      refuse(layer, "masks zeros (maskZero); verinfer proves unmasked lookups");
      return undefined;
    }
    const [table] = weightsOf(layer) as [number[][]];
    assertFinite(name, table.flat());
    return [
      {
        kind: "embedding",
        name,
        inputDim: Number(config.inputDim),
        outputDim: Number(config.outputDim),
        table,
      },
    ];
  }
  const pre: Layer[] = [];
  let shape = p.shape.slice();
  if (shape.length === 2) {
    shape = [1, shape[0] as number, shape[1] as number];
    pre.push({ kind: "reshape", name: `${name}_as_2d`, shape: shape.slice() });
  }
  if (shape.length !== 3 || (cls !== "GlobalMaxPooling2D" && shape[0] !== 1)) {
    refuse(layer, `needs a [length, channels] input, got [${p.shape.join(", ")}]`);
    return undefined;
  }
  const one = (v: unknown, fallback: number): number => Number(Array.isArray(v) ? (v[0] ?? fallback) : (v ?? fallback));
  const padding = String(config.padding ?? "valid");
  switch (cls) {
    case "Conv1D": {
      if (one(config.dilationRate, 1) !== 1) {
        refuse(layer, "is a dilated convolution");
        return undefined;
      }
      if (!["valid", "same"].includes(padding)) {
        // tfjs cannot run a causal Conv1D (its float reference): refused rather than proven unchecked.
        refuse(layer, `has unsupported padding "${padding}" (tfjs does not run causal convolutions)`);
        return undefined;
      }
      const activation = p.activationOf(config.activation);
      if (activation === undefined) return undefined;
      const [kernel, bias] = weightsOf(layer) as [number[][][], number[] | undefined];
      const filters = Number(config.filters);
      const k = one(config.kernelSize, 1);
      const b = config.useBias === false || !bias ? new Array<number>(filters).fill(0) : bias;
      assertFinite(name, (kernel.flat(2) as number[]).concat(b));
      const conv: Conv2dLayer = {
        kind: "conv2d",
        name,
        filters,
        kernelSize: [1, k],
        strides: [1, one(config.strides, 1)],
        padding: padding as Padding,
        activation,
        kernel: [kernel],
        bias: b,
      };
      return [...pre, conv];
    }
    case "MaxPooling1D":
    case "AveragePooling1D": {
      if (!["valid", "same"].includes(padding)) {
        refuse(layer, `has unsupported padding "${padding}"`);
        return undefined;
      }
      const size = one(config.poolSize, 2);
      return [
        ...pre,
        {
          kind: cls === "MaxPooling1D" ? "maxPool2d" : "avgPool2d",
          name,
          poolSize: [1, size],
          strides: [1, config.strides == null ? size : one(config.strides, size)],
          padding: padding as Padding,
        },
      ];
    }
    case "GlobalAveragePooling1D":
      return [...pre, { kind: "globalAvgPool2d", name }];
    default: {
      // GlobalMaxPooling1D / GlobalMaxPooling2D.
      const [h, w, c] = shape as [number, number, number];
      return [
        ...pre,
        { kind: "maxPool2d", name, poolSize: [h, w], strides: [h, w], padding: "valid" },
        { kind: "reshape", name: `${name}_flat`, shape: [c] },
      ];
    }
  }
}

/**
 * A tfjs merge (Add, Concatenate on the last axis, Multiply of two tensors) as a float merge layer, or undefined
 * (refused) when it is another form.
 */
function mergeLayer(
  layer: tfTypes.layers.Layer,
  from: readonly number[],
  shape: readonly number[],
  refuse: (layer: tfTypes.layers.Layer, why: string) => void,
): Layer | undefined {
  const cls = layer.getClassName();
  const kind = TFJS_MERGES[cls] as "add" | "concat" | "mul";
  const axis = Number((layer.getConfig() as Config).axis ?? -1);
  if (kind === "concat" && axis !== -1 && axis !== shape.length) {
    refuse(layer, `concatenates along axis ${axis}; verinfer concatenates along the last (channels) axis`);
    return undefined;
  }
  if (kind === "mul" && from.length !== 2) {
    refuse(layer, `multiplies ${from.length} tensors; verinfer proves products of two`);
    return undefined;
  }
  return { kind, name: layer.name };
}

/**
 * Reads a tfjs LayersModel (Sequential, or functional with branches and Add / Concatenate / Multiply merges) into
 * verinfer's float IR
 * ({@link Network}), refusing anything it cannot prove before any compilation starts: every unsupported layer at
 * once. Dropout and linear activations are dropped, BatchNormalization is folded into the Dense/Conv2D before it
 * (or kept as a per-channel affine), a softmax on the last layer becomes the network's softmax head.
 *
 * @throws VerinferError `UNSUPPORTED_LAYER` naming every unsupported layer (`meta.unsupported`) and the supported
 *   ones; `INVALID_MODEL` when the model is not a single-input single-output chain or has malformed weights.
 * @example
 * ```ts
 * const net = extractNetwork(await loadModel("./my-model"));
 * ```
 */
export function extractNetwork(model: tfTypes.LayersModel): Network {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new VerinferError("INVALID_MODEL", "model must have exactly one input and one output");
  }
  const inputShape = (model.inputs[0]?.shape ?? []).slice(1);
  if (inputShape.some((d) => d === null || !Number.isInteger(d) || (d as number) <= 0)) {
    throw new VerinferError("INVALID_MODEL", `model input shape [${inputShape.join(", ")}] must be fully known`);
  }
  const dims = inputShape as number[];
  const inputSize = dims.reduce((a, b) => a * b, 1);
  const unsupported: UnsupportedLayer[] = [];
  const refuse = (layer: tfTypes.layers.Layer, why: string) =>
    unsupported.push({ layer: layer.name, className: layer.getClassName(), why });
  const layers: Layer[] = [];
  let shape: number[] = dims.slice();
  const graph = new TfjsGraph(dims);
  let from: number[] = [0];
  let head: "softmax" | undefined;
  /** A smooth activation a Dense or Conv2D states: proven as an activation layer after it. */
  let trailing: ActivationLayer | undefined;
  /** A Keras Rescaling, folded into the next Dense/Conv2D. */
  let rescaling: PendingRescaling | undefined;
  const all = model.layers.filter((l) => l.getClassName() !== "InputLayer");
  /** Zero padding of a ZeroPadding2D, waiting to fold into the Conv2D or AveragePooling2D after it. */
  let pendingPad: { layer: tfTypes.layers.Layer; pads: Pads } | undefined;
  const step = (index: number, layer: tfTypes.layers.Layer): Layer | Layer[] | undefined => {
    const cls = layer.getClassName();
    const config = layer.getConfig() as Config;
    const isLast = index === all.length - 1;
    if (
      layer.inboundNodes.length > 1 ||
      ((layer.inboundNodes[0]?.inboundLayers.length ?? 1) > 1 && TFJS_MERGES[cls] === undefined)
    ) {
      refuse(layer, "is applied more than once (shared weights) or reads several tensors");
      return undefined;
    }
    // An activation: relu/relu6/linear, or softmax as the last layer's (the head).
    const activationOf = (name: unknown): LayerActivation | undefined => {
      const a = String(name ?? "linear");
      if ((LAYER_ACTIVATIONS as readonly string[]).includes(a)) return a as LayerActivation;
      if (isSmoothActivation(a)) {
        trailing = { kind: "activation", name: `${layer.name}/${a}`, activation: a };
        return "linear";
      }
      if (a === "softmax" && isLast) {
        head = "softmax";
        return "linear";
      }
      refuse(
        layer,
        a === "softmax" ? "has a softmax that is not on the last layer" : `has unsupported activation "${a}"`,
      );
      return undefined;
    };
    if (config.dataFormat === "channelsFirst" || config.data_format === "channels_first") {
      refuse(layer, "is channels-first; verinfer reads channels-last tensors");
      return undefined;
    }
    const padsBefore = pendingPad?.pads;
    if (cls === "ZeroPadding2D") {
      pendingPad = { layer, pads: addPads(padsBefore, zeroPaddingOf(config)) };
      return undefined;
    }
    if (pendingPad) {
      const foldable =
        cls === "Conv2D" ||
        cls === "DepthwiseConv2D" ||
        (cls === "AveragePooling2D" && String(config.padding ?? "valid") === "valid");
      if (!foldable) {
        refuse(
          pendingPad.layer,
          `is followed by ${cls}: verinfer folds a ZeroPadding2D into the Conv2D or "valid" AveragePooling2D after it ` +
            '(for a max pooling, padding "same" pads with −∞)',
        );
        shape = paddedShape(shape, pendingPad.pads);
      }
      pendingPad = undefined;
      if (!foldable) return undefined;
    }
    if (ONE_D_LAYERS.has(cls) || cls === "Embedding" || cls === "GlobalMaxPooling2D") {
      return sequenceLayer({ layer, shape, first: layers.length === 0, refuse, activationOf });
    }
    let out: Layer | undefined;
    switch (cls) {
      case "Dropout":
      case "SpatialDropout1D":
      case "GaussianNoise":
      case "GaussianDropout":
        return undefined; // identity at inference
      case "Flatten":
        out = { kind: "reshape", name: layer.name, shape: [shape.reduce((a, b) => a * b, 1)] };
        break;
      case "Reshape":
        out = { kind: "reshape", name: layer.name, shape: (config.targetShape as number[]).slice() };
        break;
      case "Activation": {
        const a = activationOf(config.activation);
        if (trailing) {
          out = { ...trailing, name: layer.name };
          trailing = undefined;
          break;
        }
        if (a === undefined || a === "linear") return undefined;
        out = { kind: "activation", name: layer.name, activation: a };
        break;
      }
      case "Rescaling": {
        const scale = Number(config.scale ?? 1);
        const offset = Number(config.offset ?? 0);
        if (!Number.isFinite(scale) || !Number.isFinite(offset)) {
          refuse(layer, "is a Rescaling by a scale or offset that is not a finite number");
          return undefined;
        }
        rescaling = composeRescaling(rescaling, { scale, offset });
        return undefined;
      }
      case "Softmax": {
        const axes = (Array.isArray(config.axis) ? config.axis : [config.axis ?? -1]).map(Number);
        const lastAxis = axes.length === 1 && (axes[0] === -1 || axes[0] === shape.length);
        if (!isLast || !lastAxis) {
          refuse(
            layer,
            isLast ? "is a softmax over an axis other than the last" : "is a softmax that is not the last layer",
          );
          return undefined;
        }
        head = "softmax";
        return undefined;
      }
      case "ReLU": {
        const maxValue = config.maxValue == null ? undefined : Number(config.maxValue);
        if ((maxValue !== undefined && maxValue !== 6) || Number(config.threshold ?? 0) !== 0) {
          refuse(layer, "is a ReLU with a max value other than 6, or a threshold");
          return undefined;
        }
        const slope = Number(config.negativeSlope ?? 0);
        if (slope !== 0) {
          if (maxValue !== undefined || leakShiftOf(slope) === undefined) {
            refuse(layer, `is a ReLU with negative slope ${slope} (verinfer proves 2^-k, k in 1..${MAX_LEAK_SHIFT})`);
            return undefined;
          }
          out = { kind: "activation", name: layer.name, activation: "leakyRelu", alpha: slope };
          break;
        }
        out = { kind: "activation", name: layer.name, activation: maxValue === 6 ? "relu6" : "relu" };
        break;
      }
      case "LeakyReLU": {
        const alpha = Number(config.alpha ?? 0.3);
        if (leakShiftOf(alpha) === undefined) {
          refuse(
            layer,
            `is a LeakyReLU with slope ${alpha}; verinfer proves slopes 2^-k for k in 1..${MAX_LEAK_SHIFT} (0.5, 0.25, 0.125, …)`,
          );
          return undefined;
        }
        out = { kind: "activation", name: layer.name, activation: "leakyRelu", alpha };
        break;
      }
      case "Dense": {
        if (shape.length !== 1) {
          refuse(layer, "receives a multi-dimensional input; add a Flatten layer before it");
          return undefined;
        }
        const activation = activationOf(config.activation);
        if (activation === undefined) return undefined;
        const [kernel, bias] = weightsOf(layer) as [number[][], number[] | undefined];
        const units = Number(config.units);
        if (!kernel || kernel.length !== shape[0] || kernel[0]?.length !== units) {
          throw new VerinferError("INVALID_MODEL", `layer "${layer.name}" has a kernel of unexpected shape`);
        }
        const b = config.useBias === false || !bias ? new Array<number>(units).fill(0) : bias;
        assertFinite(layer.name, kernel.flat().concat(b));
        out = { kind: "dense", name: layer.name, units, activation, kernel, bias: b };
        break;
      }
      case "DepthwiseConv2D":
      case "Conv2D": {
        if (pairOf(config.dilationRate, 1).some((d) => d !== 1)) {
          refuse(layer, "is a dilated convolution");
          return undefined;
        }
        if (shape.length !== 3) {
          refuse(layer, `needs a [height, width, channels] input, got [${shape.join(", ")}]`);
          return undefined;
        }
        const activation = activationOf(config.activation);
        if (activation === undefined) return undefined;
        const [given, bias] = weightsOf(layer) as [number[][][][], number[] | undefined];
        // A depthwise kernel [kh][kw][C][m] as the full [kh][kw][C][C·m] one (zeros across channels: free).
        const kernel = cls === "DepthwiseConv2D" ? depthwiseKernel(given) : given;
        const filters = cls === "DepthwiseConv2D" ? (kernel[0]?.[0]?.[0]?.length ?? 0) : Number(config.filters);
        const b = config.useBias === false || !bias ? new Array<number>(filters).fill(0) : bias;
        assertFinite(layer.name, (kernel.flat(3) as number[]).concat(b));
        out = {
          kind: "conv2d",
          name: layer.name,
          filters,
          kernelSize: pairOf(config.kernelSize, 1),
          strides: pairOf(config.strides, 1),
          padding: String(config.padding ?? "valid") as Padding,
          activation,
          kernel,
          bias: b,
        };
        if (!["valid", "same"].includes(out.padding)) {
          refuse(layer, `has unsupported padding "${out.padding}"`);
          return undefined;
        }
        if (padsBefore) foldPadsInto(out, padsBefore, shape);
        break;
      }
      case "AveragePooling2D":
      case "MaxPooling2D": {
        const poolSize = pairOf(config.poolSize, 2);
        const padding = String(config.padding ?? "valid") as Padding;
        if (!["valid", "same"].includes(padding)) {
          refuse(layer, `has unsupported padding "${padding}"`);
          return undefined;
        }
        out = {
          kind: cls === "MaxPooling2D" ? "maxPool2d" : "avgPool2d",
          name: layer.name,
          poolSize,
          strides: config.strides == null ? poolSize : pairOf(config.strides, 1),
          padding,
        };
        // After a ZeroPadding2D (a "valid" average pooling only): the zeros count in the average.
        if (padsBefore && out.kind === "avgPool2d") Object.assign(out, { pads: padsBefore, countIncludePad: true });
        break;
      }
      case "GlobalAveragePooling2D":
        out = { kind: "globalAvgPool2d", name: layer.name };
        break;
      case PaddedPool2D.className:
        out = paddedPoolLayer(layer.name, config);
        break;
      case VerinferActivation.className: {
        const c = config as unknown as VerinferActivationArgs;
        out = {
          kind: "activation",
          name: layer.name,
          activation: c.activation,
          ...(c.activation === "hardSigmoid"
            ? hardSigmoidParams(c)
            : {
                ...(c.alpha === undefined ? {} : { alpha: c.alpha }),
                ...(c.beta === undefined ? {} : { beta: c.beta }),
              }),
        };
        break;
      }
      case "BatchNormalization": {
        const axis = Array.isArray(config.axis) ? config.axis : [config.axis ?? -1];
        if (axis.length !== 1 || (Number(axis[0]) !== -1 && Number(axis[0]) !== shape.length)) {
          refuse(layer, "normalizes an axis other than the last (channels)");
          return undefined;
        }
        const { a, c } = batchNormAffine(layer, shape[shape.length - 1] as number);
        const prev = layers[layers.length - 1];
        const foldable =
          prev &&
          graph.foldsIntoPrevious(layer, layers.length) &&
          (prev.kind === undefined || prev.kind === "dense" || prev.kind === "conv2d") &&
          prev.activation === "linear";
        if (foldable) {
          foldAffine(prev as DenseLayer | Conv2dLayer, a, c);
          return undefined;
        }
        out = affineLayer(layer.name, shape, a, c);
        break;
      }
      case "Add":
      case "Concatenate":
      case "Multiply":
        out = mergeLayer(layer, from, shape, refuse);
        if (!out) return undefined;
        break;
      case "Permute":
        // An ONNX Flatten of an NCHW tensor that no Gemm/MatMul reads (the model's output): its CHW order is
        // folded into the next Dense's rows when there is one, and otherwise imports as Permute + Flatten.
        refuse(
          layer,
          "is not supported: the integer network has no transpose layer (an ONNX Flatten of an NCHW tensor is " +
            "proven only when a Gemm/MatMul reads it, which takes the CHW order into its rows; end the model in " +
            "a Linear layer)",
        );
        return undefined;
      default:
        refuse(layer, "is not supported");
        return undefined;
    }
    if (rescaling && out.kind !== "reshape") {
      const folded = foldRescaling(rescaling, out);
      rescaling = undefined;
      if (typeof folded === "string") {
        refuse(layer, folded);
        return undefined;
      }
      out = folded;
    }
    try {
      graph.outputShape(out, from);
    } catch (e) {
      if (e instanceof VerinferError && e.code === "UNSUPPORTED_LAYER") {
        refuse(layer, e.details ?? e.shortMessage);
        return undefined;
      }
      throw e;
    }
    return out;
  };
  for (const [index, layer] of all.entries()) {
    const refused = unsupported.length;
    trailing = undefined;
    // A functional model is a graph: each layer reads the tensors of its inbound layers (by default the last one).
    from = graph.inputsOf(layer);
    shape = (graph.shapes[from[0] ?? 0] ?? shape).slice();
    const out = step(index, layer);
    if (out) {
      // A tfjs layer may become several (a 1-D layer as its 2-D form between reshapes, a smooth activation after
      // its layer): the first reads the layer's inbound tensors, each next one the one before.
      const made = [...(Array.isArray(out) ? out : [out]), ...(trailing ? [trailing] : [])];
      let outShape: number[] = [];
      for (const [k, l] of made.entries()) {
        if (k === 0 && !(from.length === 1 && from[0] === layers.length)) l.inputs = from.slice();
        outShape = k === 0 ? graph.outputShape(l, from) : layerOutputShape(l, outShape);
        layers.push(l);
        if (k < made.length - 1) graph.addedInner(outShape);
      }
      shape = outShape;
      graph.added(layer, outShape);
    } else if (unsupported.length > refused) {
      // Past a refused layer, read on from the shape tfjs gives its output, to find every other refusal too.
      graph.added(
        layer,
        (layer.outputShape as (number | null)[]).slice(1).map((d) => d ?? 0),
      );
    } else {
      graph.passed(layer, from[0] ?? layers.length);
    }
  }
  if (pendingPad) refuse(pendingPad.layer, "pads the model's output; a ZeroPadding2D must be followed by a Conv2D");
  if (rescaling)
    unsupported.push({ layer: "(end)", className: "Rescaling", why: "is not followed by a Dense or Conv2D" });
  if (unsupported.length > 0) {
    const first = unsupported[0] as UnsupportedLayer;
    throw new VerinferError(
      "UNSUPPORTED_LAYER",
      unsupported.map((u) => `layer "${u.layer}" (${u.className}) ${u.why}`).join("; "),
      {
        details:
          `verinfer proves models (chains, or graphs with merges) of ${SUPPORTED_LAYERS.join(", ")}, with ${[...LAYER_ACTIVATIONS, ...SMOOTH_ACTIVATIONS].join(", ")} ` +
          "activations, LeakyReLU slopes 2^-k, and a softmax on the last layer only.",
        meta: { layer: first.layer, className: first.className, unsupported, supported: [...SUPPORTED_LAYERS] },
      },
    );
  }
  if (!graph.isOutput(model.outputs[0]?.sourceLayer, layers.length)) {
    throw new VerinferError("INVALID_MODEL", "the model's output is not its last layer's output");
  }
  if (!layers.some((l) => l.kind === undefined || l.kind === "dense" || l.kind === "conv2d")) {
    throw new VerinferError("INVALID_MODEL", "model has no Dense or Conv2D layer");
  }
  return { inputShape: dims, inputSize, layers, ...(head ? { head } : {}) };
}
