import type { OnnxNode } from "../decode-onnx.js";
import { type INPUT_AFFINE_OPS, inputAffineOf } from "../input-affine.js";
import { sizeOf } from "../onnx-tensor.js";
import { type ImporterState, nodeInputs } from "./importer-state.js";
import { addMerge, mulMerge } from "./merges.js";
import type { OnnxOpTranslator, TranslateOutcome } from "./op-translator.js";

/**
 * `Add`/`Sub`/`Mul`/`Div` by a constant before the first weighted layer: an input normalization, kept pending and
 * folded into the Gemm/MatMul that reads it.
 */
function inputAffine(node: OnnxNode, state: ImporterState): TranslateOutcome {
  const live = state.live;
  if (live.layout !== "flat" || live.shape.length !== 2) {
    throw state.refuse(node, "normalizes a tensor that is not [batch, features]; only flat inputs are folded");
  }
  const ins = nodeInputs(node);
  const k = ins.findIndex((x) => x !== undefined && x !== live.name);
  const next = inputAffineOf({
    prev: state.inputAffine,
    op: node.opType as (typeof INPUT_AFFINE_OPS)[number],
    constant: state.requireConst(node, k, "the other operand"),
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
