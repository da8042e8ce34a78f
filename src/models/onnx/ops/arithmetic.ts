import type { OnnxNode } from "../decode-onnx.js";
import { type INPUT_AFFINE_OPS, inputAffineOf } from "../input-affine.js";
import { sizeOf } from "../onnx-tensor.js";
import { type ImporterState, nodeInputs } from "./importer-state.js";
import { addMerge, mulMerge } from "./merges.js";
import type { OnnxOpTranslator, TranslateOutcome } from "./op-translator.js";

/**
 * `Add`/`Sub`/`Mul`/`Div` by a constant before the first weighted layer: an input normalization (per feature of a
 * `[batch, features]` input, per channel of an NCHW one), kept pending and folded into the Gemm/MatMul/Conv that
 * reads it.
 */
function inputAffine(node: OnnxNode, state: ImporterState): TranslateOutcome {
  const live = state.live;
  const nchw = live.layout === "nchw";
  if (!nchw && (live.layout !== "flat" || live.shape.length !== 2)) {
    throw state.refuse(
      node,
      "normalizes a tensor that is not [batch, features] or NCHW; only the model's input is folded (per feature or per channel)",
    );
  }
  const ins = nodeInputs(node);
  const k = ins.findIndex((x) => x !== undefined && x !== live.name);
  const constant = state.requireConst(node, k, "the other operand");
  if (nchw) {
    // Broadcast against [N, C, H, W]: a scalar, or C values on the channel axis ([C, 1, 1], [1, C, 1, 1]).
    const dims = [...new Array<number>(Math.max(0, 4 - constant.dims.length)).fill(1), ...constant.dims];
    const perChannel = dims.length === 4 && dims.every((d, a) => d === 1 || (a === 1 && d === live.shape[1]));
    if (!perChannel) {
      throw state.refuse(node, `has a constant of shape [${constant.dims}], not a scalar or one value per channel`);
    }
  }
  const next = inputAffineOf({
    prev: state.inputAffine,
    op: node.opType as (typeof INPUT_AFFINE_OPS)[number],
    constant,
    constantFirst: k === 0,
    features: live.shape[1] as number,
  });
  if (typeof next === "string") throw state.refuse(node, next);
  state.inputAffine = next;
  state.shapes.set(node.output[0] as string, live.shape.slice());
  live.name = node.output[0] as string;
  return "pending";
}

/** A constant bias after MatMul (per unit) or Conv (per channel) that has no bias and no activation yet. */
function bias(node: OnnxNode, state: ImporterState): undefined {
  const cT = state.constOf(nodeInputs(node).find((x) => x !== state.live.name));
  const prev = state.lastStep();
  if (
    !cT ||
    !prev ||
    !state.fusable() ||
    (prev.kind !== "dense" && prev.kind !== "conv2d") ||
    prev.activation !== "linear" ||
    state.pendingPad
  ) {
    throw state.refuse(node, "only adds a constant bias right after MatMul, Gemm or Conv");
  }
  const units = prev.kind === "dense" ? prev.units : prev.filters;
  const perUnit =
    prev.kind === "dense"
      ? cT.data.length === units || cT.data.length === 1
      : sizeOf(cT.dims) === units && cT.dims.slice(-2).every((d) => d === 1);
  if (!perUnit)
    throw state.refuse(
      node,
      `adds a constant of shape [${cT.dims}], not a per-${prev.kind === "dense" ? "unit" : "channel"} bias`,
    );
  const add = Float32Array.from({ length: units }, (_, u) => cT.data[cT.data.length === 1 ? 0 : u] as number);
  prev.bias = prev.bias ? prev.bias.map((v, u) => v + (add[u] as number)) : add;
  return undefined;
}

/** On the variable path after the first weighted layer, an op read only as an input normalization is refused. */
function onlyAtInput(node: OnnxNode, state: ImporterState): TranslateOutcome {
  if (state.atInput()) return inputAffine(node, state);
  throw state.refuse(node, "op not supported on the variable path");
}

/** `Add`: an input normalization, a bias, or (of two variable tensors) a residual merge. */
export const add: OnnxOpTranslator = {
  translate: (node, state) => (state.atInput() ? inputAffine(node, state) : bias(node, state)),
  merge: addMerge,
  takesInputAffine: true,
};
/** `Sub` by a constant: an input normalization. */
export const sub: OnnxOpTranslator = { translate: onlyAtInput, takesInputAffine: true };
/** `Mul`: by a constant, an input normalization; of two variable tensors, elementwise gating. */
export const mul: OnnxOpTranslator = { translate: onlyAtInput, merge: mulMerge, takesInputAffine: true };
/** `Div` by a constant: an input normalization. */
export const div: OnnxOpTranslator = { translate: onlyAtInput, takesInputAffine: true };
