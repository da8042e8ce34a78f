import { hardSigmoidRadiusBits, type SmoothActivation } from "../../layers/piecewise.js";
import { leakShiftOf, MAX_LEAK_SHIFT } from "../../network.js";
import type { OnnxNode } from "../decode-onnx.js";
import { floatAttr, intAttr, stringAttr } from "../onnx-tensor.js";
import { type ImporterState, nodeInputs } from "./importer-state.js";
import type { OnnxOpTranslator } from "./op-translator.js";

/** `Relu`: fused into the Dense/Conv before it when it may be, else an Activation layer. */
export const relu: OnnxOpTranslator = {
  translate: (node, state) => {
    state.setActivation(node, "relu");
    return undefined;
  },
};

/** `Clip(0, ∞)` as ReLU and `Clip(0, 6)` as ReLU6; other bounds are refused. */
export const clip: OnnxOpTranslator = {
  translate: (node, state) => {
    const ins = nodeInputs(node);
    const lo = state.opset < 11 ? floatAttr(node, "min", -Infinity) : (state.constOf(ins[1])?.data[0] ?? -Infinity);
    const hi = state.opset < 11 ? floatAttr(node, "max", Infinity) : (state.constOf(ins[2])?.data[0] ?? Infinity);
    if ((ins[1] && !state.constOf(ins[1])) || (ins[2] && !state.constOf(ins[2])))
      throw state.refuse(node, "min/max must be constants");
    if (lo === 0 && hi === Infinity) state.setActivation(node, "relu");
    else if (lo === 0 && hi === 6) state.setActivation(node, "relu6");
    else throw state.refuse(node, `Clip(${lo}, ${hi}) is not supported (only Clip(0, ∞) as ReLU, Clip(0, 6) as ReLU6)`);
    return undefined;
  },
};

/** `LeakyRelu` of a slope 2^-k (checked before import): a LeakyReLU layer. */
export const leakyRelu: OnnxOpTranslator = {
  check: (node) => {
    const alpha = floatAttr(node, "alpha", 0.01);
    if (leakShiftOf(alpha) === undefined) {
      return `slope ${alpha} is not proven (verinfer proves LeakyReLU slopes 2^-k for k in 1..${MAX_LEAK_SHIFT})`;
    }
    return undefined;
  },
  translate: (node, state) => {
    state.flushPad(node);
    state.pushStep({ kind: "leakyRelu", name: node.name, alpha: floatAttr(node, "alpha", 0.01) });
    return undefined;
  },
};

/** A smooth activation, fused like ReLU. */
function smooth(activation: (node: OnnxNode) => SmoothActivation): OnnxOpTranslator["translate"] {
  return (node: OnnxNode, state: ImporterState) => {
    state.setActivation(node, activation(node));
    return undefined;
  };
}

/** `Sigmoid`. */
export const sigmoid: OnnxOpTranslator = { translate: smooth(() => "sigmoid") };
/** `Tanh`. */
export const tanh: OnnxOpTranslator = { translate: smooth(() => "tanh") };
/** `Softplus`. */
export const softplus: OnnxOpTranslator = { translate: smooth(() => "softplus") };

/**
 * `HardSigmoid` clip(alpha·x + beta, 0, 1): with tfjs's slope and offset (0.2, 0.5, ONNX's defaults) a smooth
 * activation fused like ReLU; with others (PyTorch's Hardsigmoid: alpha 1/6) verinfer's own activation layer.
 */
export const hardSigmoid: OnnxOpTranslator = {
  check: (node) => {
    const [alpha, beta] = [floatAttr(node, "alpha", 0.2), floatAttr(node, "beta", 0.5)];
    if (hardSigmoidRadiusBits({ alpha, beta }) === undefined)
      return `HardSigmoid(alpha ${alpha}, beta ${beta}) is not proven (the slope must be positive, the kinks within ±4096)`;
    return undefined;
  },
  translate: (node, state) => {
    const [alpha, beta] = [floatAttr(node, "alpha", 0.2), floatAttr(node, "beta", 0.5)];
    if (Math.abs(alpha - 0.2) <= 1e-6 && Math.abs(beta - 0.5) <= 1e-6) {
      state.setActivation(node, "hardSigmoid");
      return undefined;
    }
    state.flushPad(node);
    state.pushStep({ kind: "verinferActivation", name: node.name, activation: "hardSigmoid", alpha, beta });
    return undefined;
  },
};

/** An activation tfjs has no layer for, as verinfer's own activation layer. */
function ownActivation(activation: "hardSwish" | "exp"): OnnxOpTranslator {
  return {
    translate: (node, state) => {
      state.flushPad(node);
      state.pushStep({ kind: "verinferActivation", name: node.name, activation });
      return undefined;
    },
  };
}

/** `HardSwish` (opset 14; PyTorch's Hardswish): x·relu6(x + 3)/6. */
export const hardSwish: OnnxOpTranslator = { ...ownActivation("hardSwish"), sinceOpset: 14 };
/** `Exp` on the variable path: a table on a bounded window (see `tablePiecewise`). */
export const exp: OnnxOpTranslator = ownActivation("exp");

/** `Swish` (SiLU, also fused from PyTorch's `Sigmoid(x)·x`). */
export const swish: OnnxOpTranslator = { translate: smooth(() => "swish") };

/** `Gelu` (opset 20, or fused from PyTorch's Erf subgraph): exact, or the tanh approximation as `gelu_new`. */
export const gelu: OnnxOpTranslator = {
  check: (node) =>
    ["none", "tanh"].includes(stringAttr(node, "approximate", "none"))
      ? undefined
      : `approximate "${stringAttr(node, "approximate", "")}" is not supported`,
  translate: smooth((node) => (stringAttr(node, "approximate", "none") === "tanh" ? "gelu_new" : "gelu")),
};

/**
 * `Softmax` / `LogSoftmax` over the classes, as the last node only: a softmax head (the proven class is the argmax
 * of the proven logits either way).
 */
function softmaxHead(node: OnnxNode, state: ImporterState): undefined {
  if (state.live.layout === "nchw" || state.live.shape.length !== 2)
    throw state.refuse(node, "is applied to a tensor that is not [batch, classes]");
  const axis = intAttr(node, "axis", state.opset < 13 ? 1 : -1);
  if (axis !== 1 && axis !== -1) throw state.refuse(node, `softmax over axis ${axis} is not supported`);
  if (node.output[0] !== state.graph.output[0]?.name)
    throw state.refuse(node, "is not the last node; softmax is only supported as the output");
  state.toOnnxOrder();
  state.setActivation(node, "softmax");
  return undefined;
}

/** `Softmax` as the output. */
export const softmax: OnnxOpTranslator = { translate: softmaxHead };
/** `LogSoftmax` as the output. */
export const logSoftmax: OnnxOpTranslator = { translate: softmaxHead };
