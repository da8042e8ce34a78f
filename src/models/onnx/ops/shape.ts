import type { OnnxNode } from "../decode-onnx.js";
import { reshapeTarget } from "../fold-constant.js";
import { intAttr, intsAttr, sizeOf } from "../onnx-tensor.js";
import { type ImporterState, invalidNode, type Layout, nodeInputs } from "./importer-state.js";
import type { OnnxOpTranslator } from "./op-translator.js";

/** `Identity`: nothing to build. */
export const identity: OnnxOpTranslator = { translate: () => undefined, takesInputAffine: true };

/** `Dropout` in inference mode: nothing to build; a training-mode one or a used mask is refused. */
export const dropout: OnnxOpTranslator = {
  translate: (node, state) => {
    const ins = nodeInputs(node);
    const training = ins[2] ? state.constOf(ins[2]) : undefined;
    if (ins[2] && training?.data[0] !== 0) throw state.refuse(node, "runs in training mode");
    if (
      node.output.slice(1).some((o) => o) &&
      state.graph.node.some((m) => m.input.includes(node.output[1] as string))
    ) {
      throw state.refuse(node, "its mask output is used");
    }
    return undefined;
  },
};

/** `Shape`: folded to a constant from the shape the importer tracks (or a constant's dims). */
export const shape: OnnxOpTranslator = {
  constant: (node, state) => {
    const dims = state.shapes.get(node.input[0] as string) ?? state.constOf(node.input[0])?.dims;
    if (!dims) throw invalidNode(node, "reads the shape of an unknown tensor");
    const rank = dims.length;
    const norm = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
    const part = dims.slice(norm(intAttr(node, "start", 0)), norm(intAttr(node, "end", rank)));
    state.setConst(
      node.output[0] as string,
      { dims: [part.length], data: part, kind: "int" },
      `ONNX node "${node.name}"`,
    );
  },
};

/** The dims a Flatten/Reshape/Squeeze of the live tensor (of ONNX shape `shape`) gives. */
function targetOf(node: OnnxNode, state: ImporterState, shape: number[]): number[] {
  const live = { shape };
  const n = live.shape[0] as number;
  if (node.opType === "Flatten") {
    const axis = intAttr(node, "axis", 1);
    const a = axis < 0 ? axis + live.shape.length : axis;
    if (a !== 1) throw state.refuse(node, `flattens at axis ${axis}; only axis 1 (keep the batch) is supported`);
    return [n, sizeOf(live.shape.slice(1))];
  }
  if (node.opType === "Reshape") return reshapeTarget(node, live.shape, state.requireConst(node, 1, "the shape").data);
  const axes = state.opset >= 13 ? state.constOf(nodeInputs(node)[1])?.data : intsAttr(node, "axes");
  const norm = (axes ?? live.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
    a < 0 ? a + live.shape.length : a,
  );
  if (norm.includes(0) || norm.some((a) => live.shape[a] !== 1))
    throw state.refuse(node, "squeezes the batch axis or an axis of size > 1");
  return live.shape.filter((_, i) => !norm.includes(i));
}

/**
 * `Flatten`, `Reshape` and `Squeeze` of the variable tensor: a no-op when the shape does not change, else only a
 * flattening to `[batch, features]` (a tfjs Flatten of an NCHW tensor; features then in tfjs's HWC order, which
 * the next Dense's rows or a Permute put back in ONNX's CHW order).
 */
function flattenLike(node: OnnxNode, state: ImporterState): undefined {
  // The tensor as ONNX holds it: with a pending Pad's zeros (flushed below before a flattening).
  const pad = state.pendingPad;
  const shape = pad
    ? state.live.shape.map((d, a) => (a < 2 ? d : d + (pad[a - 2] as [number, number]).reduce((x, y) => x + y)))
    : state.live.shape;
  const [n, c, h, w] = shape as [number, number, number, number];
  const target = targetOf(node, state, shape);
  const live = { shape };
  const sameBatch = Object.is(target[0], n) || target[0] === n;
  if (target.length === live.shape.length && target.every((d, i) => Object.is(d, live.shape[i]))) return undefined;
  if (!sameBatch || target.length !== 2)
    throw state.refuse(
      node,
      `reshapes [${live.shape}] to [${target}]; only flattening to [batch, features] is supported`,
    );
  state.flushPad(node);
  if (state.live.layout === "nchw") {
    const step = state.steps.length;
    state.pushStep({ kind: "flatten", name: node.name, chwOrder: false });
    // With one channel, or a 1×1 plane, CHW and HWC orders coincide.
    const layout: Layout = c === 1 || h * w === 1 ? "flat" : "flatChw";
    state.live = {
      name: state.live.name,
      shape: target,
      layout,
      ...(layout === "flatChw" ? { chw: { c, h, w, step } } : {}),
    };
  } else if (state.live.layout === "pooled") {
    state.live = { name: state.live.name, shape: target, layout: "flat" };
  } else if (state.live.layout === "seq") {
    // [N, L, D] flattens L-major in ONNX and in tfjs's [L, D] alike.
    state.pushStep({ kind: "flatten", name: node.name, chwOrder: false });
    state.live = { name: state.live.name, shape: target, layout: "flat" };
  } else if (state.live.layout !== "flat" && state.live.layout !== "flatChw") {
    throw state.refuse(node, "flattens a transposed sequence ([N, dim, length]); flatten before transposing");
  }
  return undefined;
}

/** `Flatten` (axis 1). */
export const flatten: OnnxOpTranslator = { translate: flattenLike };
/** `Reshape` to `[batch, features]` with a constant (folded) shape. */
export const reshape: OnnxOpTranslator = { translate: flattenLike };
/** `Squeeze` of unit axes (other than the batch). */
export const squeeze: OnnxOpTranslator = { translate: flattenLike };

/**
 * `Transpose` of a sequence's last two axes (`[N, L, D]` ↔ `[N, D, L]`, perm `[0, 2, 1]`): no layer, tfjs keeps
 * `[L, D]`; the pooling after it knows which axis is which. Other variable transposes are refused; a constant one
 * is folded.
 */
export const transpose: OnnxOpTranslator = {
  translate: (node, state) => {
    const perm = intsAttr(node, "perm");
    const swap = perm?.length === 3 && perm[0] === 0 && perm[1] === 2 && perm[2] === 1;
    const layout = state.live.layout;
    if (!swap || (layout !== "seq" && layout !== "seqT")) {
      throw state.refuse(node, "only swaps the last two axes of an embedded sequence (perm [0, 2, 1])");
    }
    const [n, a, b] = state.live.shape as [number, number, number];
    state.live = { name: state.live.name, shape: [n, b, a], layout: layout === "seq" ? "seqT" : "seq" };
    return undefined;
  },
};

/** An op read only when every input is a constant (shape arithmetic), folded by `foldConstant`. */
export const constantOnly: OnnxOpTranslator = {};
