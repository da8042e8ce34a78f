import type { OnnxNode } from "../decode-onnx.js";
import { intAttr } from "../onnx-tensor.js";
import type { ImporterState, TensorState } from "./importer-state.js";
import type { OnnxOpTranslator } from "./op-translator.js";

/**
 * A merge of variable tensors: `Add`/`Mul` of tensors of one shape (no broadcasting), `Concat` on the channel
 * axis of NCHW tensors or the feature axis of [batch, features] ones. Inputs in a layout the channels-last graph
 * cannot merge as they are (features flattened from CHW order, a pending Pad) are refused.
 */
function mergeOf(kind: "add" | "multiply" | "concatenate"): NonNullable<OnnxOpTranslator["merge"]> {
  return (node: OnnxNode, state: ImporterState, inputs: string[]) => {
    const states = inputs.map((t) => state.saved.get(t));
    if (states.some((s) => !s)) throw state.refuse(node, "reads a tensor computed after it");
    const ins = states as TensorState[];
    const [first] = ins as [TensorState];
    if (kind === "multiply" && ins.length !== 2) throw state.refuse(node, "multiplies more than two tensors");
    if (ins.some((s) => s.pendingPad)) throw state.refuse(node, "merges a tensor that a Pad node pads");
    const layout = first.live.layout;
    if (ins.some((s) => s.live.layout !== layout) || layout === "flatChw" || layout === "pooled") {
      throw state.refuse(node, "merges tensors of different layouts (flatten both the same way first)");
    }
    const shapes = ins.map((s) => s.live.shape);
    const rank = first.live.shape.length;
    let shape: number[];
    if (kind === "concatenate") {
      if (layout !== "nchw" && layout !== "flat") throw state.refuse(node, "concatenates sequences");
      const raw = intAttr(node, "axis", state.opset < 4 ? 1 : Number.NaN);
      const axis = raw < 0 ? raw + rank : raw;
      if (axis !== 1)
        throw state.refuse(node, `concatenates along axis ${raw}; only the channel/feature axis 1 is supported`);
      const rest = (sh: number[]) => sh.filter((_d, i) => i !== 1).join();
      if (shapes.some((sh) => sh.length !== rank || rest(sh) !== rest(first.live.shape))) {
        throw state.refuse(node, "concatenates tensors whose other axes differ");
      }
      shape = first.live.shape.slice();
      shape[1] = shapes.reduce((a, sh) => a + (sh[1] as number), 0);
    } else {
      if (shapes.some((sh) => sh.join() !== first.live.shape.join())) {
        throw state.refuse(node, "merges tensors of different shapes (broadcasting is not supported)");
      }
      shape = first.live.shape.slice();
    }
    state.steps.push({ kind, name: node.name, from: ins.map((s) => s.curStep) });
    state.live = { name: node.output[0] as string, shape, layout };
    state.curStep = state.steps.length;
    state.pendingPad = undefined;
    state.shapes.set(node.output[0] as string, state.live.shape.slice());
    state.save();
  };
}

/** `Add` of two or more variable tensors (a residual connection): a tfjs `add` layer. */
export const addMerge = mergeOf("add");
/** `Mul` of two variable tensors (elementwise gating): a tfjs `multiply` layer. */
export const mulMerge = mergeOf("multiply");
/** `Concat`: of shape constants, folded; of variable tensors on the channel/feature axis, a tfjs `concatenate` layer. */
export const concat: OnnxOpTranslator = { merge: mergeOf("concatenate") };
