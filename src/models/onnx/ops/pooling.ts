import type { OnnxNode } from "../decode-onnx.js";
import type { OnnxStep, Pads2d } from "../onnx-step.js";
import { intAttr, intsAttr } from "../onnx-tensor.js";
import { type ImporterState, nodeInputs } from "./importer-state.js";
import type { OnnxOpTranslator } from "./op-translator.js";
import { windowOut, windowPadding } from "./padding.js";

/** A MaxPool / AveragePool (count_include_pad = 0) whose own pads are neither valid nor Keras "same". */
function paddedPoolStep(
  node: OnnxNode,
  state: ImporterState,
  window: { poolSize: [number, number]; strides: [number, number]; pads: Pads2d },
): OnnxStep {
  if (intAttr(node, "ceil_mode", 0) === 1) throw state.refuse(node, "ceil_mode with explicit pads");
  return { kind: "paddedPool2d", name: node.name, pool: node.opType === "MaxPool" ? "max" : "avg", ...window };
}

/**
 * `MaxPool` / `AveragePool` (2-D): tfjs pooling with "valid"/"same" padding, a padded pooling for other own pads
 * (max skips them, average leaves them out of the count), and a ZeroPadding2D for counted pads.
 */
function pool2d(node: OnnxNode, state: ImporterState): undefined {
  const [n, c] = state.live.shape as [number, number, number, number];
  if (state.live.layout !== "nchw") throw state.refuse(node, "pools a tensor that is not NCHW");
  const k = intsAttr(node, "kernel_shape") as [number, number];
  const s = (intsAttr(node, "strides") ?? [1, 1]) as [number, number];
  const includePad = node.opType === "AveragePool" && intAttr(node, "count_include_pad", 0) === 1;
  // A Pad node's zeros are values: they stay as ZeroPadding2D. A pool's own pads are not (MaxPool ignores
  // them, AveragePool leaves them out of the count unless count_include_pad), which is tfjs's "same".
  state.flushPad(node);
  const [H, W] = [state.live.shape[2] as number, state.live.shape[3] as number];
  const own = windowPadding(node, [H, W], k, s, undefined);
  if (own.zeroPad && !includePad) {
    state.pushStep(paddedPoolStep(node, state, { poolSize: k, strides: s, pads: own.zeroPad }));
    state.live.shape = [n, c, ...windowOut([H, W], k, s, own.zeroPad)];
    return undefined;
  }
  if (own.padding === "same" && includePad) {
    state.pendingPad = own.pads;
    own.padding = "valid";
  } else if (own.zeroPad) state.pendingPad = own.zeroPad;
  const outFloor = windowOut([H, W], k, s, own.pads);
  const outCeil = windowOut([H, W], k, s, own.pads, Math.ceil);
  if (intAttr(node, "ceil_mode", 0) === 1 && (outCeil[0] !== outFloor[0] || outCeil[1] !== outFloor[1])) {
    throw state.refuse(node, "ceil_mode changes the output size");
  }
  state.flushPad(node);
  state.pushStep({
    kind: node.opType === "MaxPool" ? "maxPooling2d" : "averagePooling2d",
    name: node.name,
    poolSize: k,
    strides: s,
    padding: own.padding,
  });
  state.live.shape = [n, c, ...outFloor];
  return undefined;
}

/** Attribute checks shared by MaxPool and AveragePool. */
function checkPool(node: OnnxNode): string | undefined {
  if (intsAttr(node, "dilations")?.some((d) => d !== 1)) return "dilated pooling is not supported";
  if (node.output.length > 1 && node.output[1]) return "the Indices output is not supported";
  if (intAttr(node, "storage_order", 0) !== 0) return "storage_order 1 is not supported";
  const k = intsAttr(node, "kernel_shape");
  if (k?.length !== 2) return "only 2-D pooling is supported";
  return undefined;
}

/** `MaxPool`. */
export const maxPool: OnnxOpTranslator = { check: checkPool, translate: pool2d };
/** `AveragePool` (count_include_pad 0 or 1). */
export const averagePool: OnnxOpTranslator = { check: checkPool, translate: pool2d };

/** `GlobalAveragePool` of an NCHW tensor: a tfjs GlobalAveragePooling2D. */
export const globalAveragePool: OnnxOpTranslator = {
  translate: (node, state) => {
    const [n, c] = state.live.shape as [number, number];
    if (state.live.layout === "seqT") {
      // [N, D, L] → [N, D, 1]: the mean over the positions.
      state.pushStep({ kind: "globalAveragePooling1d", name: node.name });
      state.live = { name: state.live.name, shape: [n, c, 1], layout: "pooled" };
      return undefined;
    }
    if (state.live.layout !== "nchw") throw state.refuse(node, "pools a tensor that is not NCHW");
    state.flushPad(node);
    state.pushStep({ kind: "globalAveragePooling2d", name: node.name });
    state.live = { name: state.live.name, shape: [n, c, 1, 1], layout: "pooled" };
    return undefined;
  },
};

/** Whether a ReduceMean averages exactly the axes 2 and 3 (attribute before opset 18, input from 18). */
function reducesPlane(node: OnnxNode, opset: number, axesInput: readonly number[] | undefined): boolean {
  const axes = opset >= 18 ? axesInput : intsAttr(node, "axes");
  if (!axes) return false;
  const norm = [...new Set(axes.map((a) => (a < 0 ? a + 4 : a)))].sort();
  return norm.length === 2 && norm[0] === 2 && norm[1] === 3;
}

/** `ReduceMean` over the height and width axes (`x.mean((2, 3))`): global average pooling by another name. */
export const reduceMean: OnnxOpTranslator = {
  translate: (node, state) => {
    const [n, c] = state.live.shape as [number, number];
    const axesInput = state.constOf(nodeInputs(node)[1])?.data;
    const layout = state.live.layout;
    if (layout === "seq" || layout === "seqT") {
      // The mean over the positions: axis 1 of [N, L, D], axis 2 of [N, D, L].
      const axes = state.opset >= 18 ? axesInput : intsAttr(node, "axes");
      const axis = layout === "seq" ? 1 : 2;
      if (axes?.length !== 1 || ((axes[0] as number) + 3) % 3 !== axis) {
        throw state.refuse(node, "only a mean over a sequence's positions is supported");
      }
      const dim = (layout === "seq" ? state.live.shape[2] : state.live.shape[1]) as number;
      state.pushStep({ kind: "globalAveragePooling1d", name: node.name });
      const keep = intAttr(node, "keepdims", 1) === 1;
      if (keep && layout === "seq")
        throw state.refuse(node, "keeps the position axis before the features; use keepdims=0");
      state.live = keep
        ? { name: state.live.name, shape: [n, dim, 1], layout: "pooled" }
        : { name: state.live.name, shape: [n, dim], layout: "flat" };
      return undefined;
    }
    if (layout !== "nchw" || !reducesPlane(node, state.opset, axesInput)) {
      throw state.refuse(node, "only a mean over the height and width axes (2, 3) of an NCHW tensor is supported");
    }
    state.flushPad(node);
    state.pushStep({ kind: "globalAveragePooling2d", name: node.name });
    const keep = intAttr(node, "keepdims", 1) === 1;
    state.live = keep
      ? { name: state.live.name, shape: [n, c, 1, 1], layout: "pooled" }
      : { name: state.live.name, shape: [n, c], layout: "flat" };
    return undefined;
  },
};
