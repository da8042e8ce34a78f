import type { OnnxNode } from "../decode-onnx.js";
import { foldInputAffine } from "../input-affine.js";
import { type ConstTensor, checkTensorSize, floatAttr, intAttr, intsAttr } from "../onnx-tensor.js";
import { type ImporterState, invalidNode, nodeInputs } from "./importer-state.js";
import type { OnnxOpTranslator } from "./op-translator.js";
import { windowOut, windowPadding } from "./padding.js";

function f32(t: ConstTensor): Float32Array {
  return Float32Array.from(t.data);
}

/**
 * A grouped (or depthwise) Conv's `[O, C/g, kh, kw]` weight as the full `[O, C, kh, kw]` one, zero outside each output
 * channel's group: the same convolution, and the zeros cost nothing in the circuit (weights are constants of its
 * linear combinations). `group` = 1 returns the weight unchanged.
 */
function ungroupedWeight(node: OnnxNode, weight: ConstTensor, channels: number): ConstTensor {
  const g = intAttr(node, "group", 1);
  if (g === 1 || weight.dims.length !== 4) return weight;
  const [o, ig, kh, kw] = weight.dims as [number, number, number, number];
  if (ig * g !== channels || o % g !== 0) {
    throw invalidNode(node, `has ${g} groups and weights [${weight.dims}] for ${channels} input channels`);
  }
  checkTensorSize(`ONNX node "${node.name}" (Conv) as an ungrouped convolution`, [o, channels, kh, kw]);
  const data = new Array<number>(o * channels * kh * kw).fill(0);
  const perGroup = o / g;
  for (let oc = 0; oc < o; oc++) {
    const first = Math.floor(oc / perGroup) * ig;
    for (let j = 0; j < ig; j++)
      for (let t = 0; t < kh * kw; t++)
        data[(oc * channels + first + j) * kh * kw + t] = weight.data[(oc * ig + j) * kh * kw + t] as number;
  }
  return { dims: [o, channels, kh, kw], data, kind: weight.kind };
}

/**
 * `Conv` (2-D, any stride and padding, groups as a full convolution with zero weights): a tfjs Conv2D with the
 * weight in HWIO order; pads that are neither "valid" nor "same" become a ZeroPadding2D before it. A pending
 * per-channel input normalization is folded into its weights and bias.
 */
export const conv: OnnxOpTranslator = {
  check: (node) => {
    if (intAttr(node, "group", 1) < 1) return "has a group count below 1";
    if (intsAttr(node, "dilations")?.some((d) => d !== 1)) return "dilated convolution is not supported";
    const k = intsAttr(node, "kernel_shape");
    if (k && k.length !== 2) return `${k.length}-D convolution is not supported (2-D only)`;
    return undefined;
  },
  translate: (node, state) => {
    const [n, c, h, w] = state.live.shape as [number, number, number, number];
    if (state.live.layout !== "nchw") throw state.refuse(node, "convolves a tensor that is not NCHW");
    const weight = ungroupedWeight(node, state.requireConst(node, 1, "the weight"), c);
    const bias = nodeInputs(node)[2] ? state.requireConst(node, 2, "the bias") : undefined;
    const [o, i, kh, kw] = weight.dims as [number, number, number, number];
    if (weight.dims.length !== 4 || i !== c)
      throw invalidNode(node, `has weights [${weight.dims}] for ${c} input channels`);
    if (bias && bias.data.length !== o) throw invalidNode(node, `has ${bias.data.length} biases for ${o} filters`);
    const k = intsAttr(node, "kernel_shape");
    if (k && (k[0] !== kh || k[1] !== kw))
      throw invalidNode(node, "has a kernel_shape that does not match its weights");
    const s = (intsAttr(node, "strides") ?? [1, 1]) as [number, number];
    const padding = windowPadding(node, [h, w], [kh, kw], s, state.pendingPad);
    state.pendingPad = undefined;
    if (padding.zeroPad) {
      state.pendingPad = padding.zeroPad;
      state.flushPad(node);
    }
    let kernel: Float32Array = new Float32Array(kh * kw * i * o);
    for (let oc = 0; oc < o; oc++)
      for (let ic = 0; ic < i; ic++)
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            kernel[((y * kw + x) * i + ic) * o + oc] = weight.data[((oc * i + ic) * kh + y) * kw + x] as number;
    let convBias = bias ? f32(bias) : undefined;
    if (state.inputAffine) {
      // Per-channel (x − mean[c]) / std[c] folded into the weights: exact where every tap reads an input pixel. A
      // padded tap reads 0 of the normalized input, which is −mean/std of the raw one, unless nothing is subtracted.
      const { scale, offset } = state.inputAffine;
      if (padding.pads.flat().some((p) => p !== 0) && offset.some((v) => v !== 0)) {
        throw state.refuse(
          node,
          "pads an input normalized with an offset (x − mean); folding it would change the border: normalize outside the model, or pad without offset",
        );
      }
      const rows = kh * kw * i;
      const folded = foldInputAffine({
        affine: {
          scale: Array.from({ length: rows }, (_, r) => scale[r % i] as number),
          offset: Array.from({ length: rows }, (_, r) => offset[r % i] as number),
        },
        kernel,
        bias: convBias,
        units: o,
      });
      state.inputAffine = undefined;
      kernel = folded.kernel;
      convBias = folded.bias;
    }
    state.pushStep({
      kind: "conv2d",
      name: node.name,
      filters: o,
      kernelSize: [kh, kw],
      strides: s,
      padding: padding.padding,
      kernel,
      inChannels: i,
      bias: convBias,
      activation: "linear",
    });
    state.live.shape = [n, o, ...windowOut([h, w], [kh, kw], s, padding.pads)];
    return undefined;
  },
  takesInputAffine: true,
};

/**
 * `Gemm` / `MatMul` of `[batch, features]` by a constant matrix: a tfjs Dense (alpha and beta folded, the rows
 * permuted back to ONNX's CHW order after a Flatten, a pending input normalization folded in).
 */
function dense(node: OnnxNode, state: ImporterState): undefined {
  const live = state.live;
  const n = live.shape[0] as number;
  if (live.layout === "nchw" || live.layout === "pooled" || live.shape.length !== 2) {
    throw state.refuse(node, `multiplies a rank-${live.shape.length} tensor; flatten it first`);
  }
  state.flushPad(node);
  const bMat = state.requireConst(node, 1, "the weight matrix");
  const transB = node.opType === "Gemm" && intAttr(node, "transB", 0) === 1;
  if (bMat.dims.length !== 2) throw state.refuse(node, "needs a 2-D weight matrix");
  const [rows, cols] = bMat.dims as [number, number];
  const [kIn, units] = transB ? [cols, rows] : [rows, cols];
  const features = live.shape[1] as number;
  if (kIn !== features) throw invalidNode(node, `has a ${rows}×${cols} weight for ${features} inputs`);
  const alpha = node.opType === "Gemm" ? floatAttr(node, "alpha", 1) : 1;
  const order = state.featureOrder() ?? Array.from({ length: kIn }, (_, r) => r);
  const kernel = new Float32Array(kIn * units);
  for (let t = 0; t < kIn; t++) {
    const r = order[t] as number;
    for (let u = 0; u < units; u++)
      kernel[t * units + u] = alpha * (bMat.data[transB ? u * kIn + r : r * units + u] as number);
  }
  let bias: Float32Array | undefined;
  if (node.opType === "Gemm" && nodeInputs(node)[2]) {
    const cT = state.requireConst(node, 2, "the bias");
    const beta = floatAttr(node, "beta", 1);
    if (cT.data.length !== units && cT.data.length !== 1)
      throw state.refuse(node, `has a bias of shape [${cT.dims}]; only per-unit bias is supported`);
    bias = Float32Array.from({ length: units }, (_, u) => beta * (cT.data[cT.data.length === 1 ? 0 : u] as number));
  }
  if (state.inputAffine) {
    const folded = foldInputAffine({ affine: state.inputAffine, kernel, bias, units });
    state.inputAffine = undefined;
    state.pushStep({ kind: "dense", name: node.name, units, inputs: kIn, ...folded, activation: "linear" });
  } else state.pushStep({ kind: "dense", name: node.name, units, inputs: kIn, kernel, bias, activation: "linear" });
  state.live = { name: state.live.name, shape: [n, units], layout: "flat" };
  return undefined;
}

/** `Gemm` (transA 0, any transB, alpha and beta). */
export const gemm: OnnxOpTranslator = {
  check: (node) => (intAttr(node, "transA", 0) !== 0 ? "transA = 1 is not supported" : undefined),
  translate: dense,
  takesInputAffine: true,
};
/** `MatMul` by a constant 2-D matrix. */
export const matMul: OnnxOpTranslator = { translate: dense, takesInputAffine: true };

/** `BatchNormalization` in inference mode with constant statistics: a tfjs BatchNormalization layer. */
export const batchNormalization: OnnxOpTranslator = {
  check: (node) => {
    if (intAttr(node, "training_mode", 0) !== 0) return "training mode is not supported";
    if (node.output.slice(1).some((o) => o)) return "the running-statistics outputs are not supported";
    return undefined;
  },
  translate: (node, state) => {
    if (!["nchw", "pooled", "flat", "flatChw"].includes(state.live.layout)) {
      throw state.refuse(node, "normalizes a sequence; verinfer reads BatchNormalization of NCHW or flat tensors");
    }
    const c = state.live.shape[1] as number;
    const [scale, b, mean, variance] = [1, 2, 3, 4].map((k) =>
      state.requireConst(node, k, "every statistic"),
    ) as ConstTensor[];
    const channels =
      state.live.layout === "nchw" || state.live.layout === "pooled" ? c : (state.live.shape[1] as number);
    if ([scale, b, mean, variance].some((t) => t?.data.length !== channels))
      throw invalidNode(node, `needs ${channels} values per statistic`);
    const order = state.featureOrder();
    const arrange = (t: ConstTensor) => (order ? Float32Array.from(order, (r) => t.data[r] as number) : f32(t));
    state.flushPad(node);
    state.pushStep({
      kind: "batchNormalization",
      name: node.name,
      epsilon: floatAttr(node, "epsilon", 1e-5),
      gamma: arrange(scale as ConstTensor),
      beta: arrange(b as ConstTensor),
      mean: arrange(mean as ConstTensor),
      variance: arrange(variance as ConstTensor),
    });
    return undefined;
  },
};
