import { samePadding, windowCount } from "../../network.js";
import type { OnnxNode } from "../decode-onnx.js";
import type { Pads2d } from "../onnx-step.js";
import { floatAttr, intsAttr, stringAttr } from "../onnx-tensor.js";
import { invalidNode, nodeInputs } from "./importer-state.js";
import type { OnnxOpTranslator } from "./op-translator.js";

/**
 * `Pad` of the height and width axes with zeros: kept pending, then folded into the next Conv ("valid"/"same" or
 * explicit pads) or applied as a ZeroPadding2D layer before whatever reads it.
 */
export const pad: OnnxOpTranslator = {
  check: (node) =>
    stringAttr(node, "mode", "constant") !== "constant"
      ? `mode "${stringAttr(node, "mode", "")}" is not supported`
      : undefined,
  translate: (node, state) => {
    const ins = nodeInputs(node);
    if (state.live.layout !== "nchw") throw state.refuse(node, "pads a tensor that is not NCHW");
    const pads = state.opset < 11 ? intsAttr(node, "pads") : state.requireConst(node, 1, "pads").data;
    if (!pads) throw invalidNode(node, "has no pads attribute");
    const value = state.opset < 11 ? floatAttr(node, "value", 0) : (state.constOf(ins[2])?.data[0] ?? 0);
    if (ins[2] && !state.constOf(ins[2])) throw state.refuse(node, "the pad value must be a constant");
    if (value !== 0) throw state.refuse(node, `pads with ${value}; only zero padding is supported`);
    const axes = ins[3] ? state.requireConst(node, 3, "axes").data.map((a) => (a < 0 ? a + 4 : a)) : [0, 1, 2, 3];
    if (
      new Set(axes).size !== axes.length ||
      axes.some((a) => !Number.isInteger(a) || a < 0 || a > 3) ||
      pads.length !== 2 * axes.length ||
      pads.some((p) => !Number.isInteger(p))
    ) {
      throw invalidNode(node, `has pads [${pads.join(", ")}] for axes [${axes.join(", ")}] of a 4-D tensor`);
    }
    const full = new Array<number>(8).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i] as number;
      full[a + 4] = pads[i + axes.length] as number;
    });
    if (full.some((p) => p < 0)) throw state.refuse(node, "has negative pads (cropping)");
    if (full[0] || full[1] || full[4] || full[5]) throw state.refuse(node, "pads the batch or channel axis");
    const prev = state.pendingPad ?? [
      [0, 0],
      [0, 0],
    ];
    const next: Pads2d = [
      [prev[0][0] + (full[2] as number), prev[0][1] + (full[6] as number)],
      [prev[1][0] + (full[3] as number), prev[1][1] + (full[7] as number)],
    ];
    state.pendingPad = next.flat().some((p) => p > 0) ? next : undefined;
    return undefined;
  },
};

/** A node's own `pads` attribute as {@link Pads2d}, or `undefined` when it pads nothing. */
export function ownPads(node: OnnxNode): Pads2d | undefined {
  const p = intsAttr(node, "pads");
  if (!p || p.every((v) => v === 0)) return undefined;
  return [
    [p[0] as number, p[2] as number],
    [p[1] as number, p[3] as number],
  ];
}

/** The output height and width of a window over a padded plane (ONNX floors; `ceil_mode` rounds up). */
export function windowOut(
  size: [number, number],
  k: [number, number],
  s: [number, number],
  pads: Pads2d,
  round: (x: number) => number = Math.floor,
): [number, number] {
  return [
    windowCount(size[0] + pads[0][0] + pads[0][1], k[0], s[0], round),
    windowCount(size[1] + pads[1][0] + pads[1][1], k[1], s[1], round),
  ];
}

/**
 * Conv/pool padding in tfjs terms: the node's own pads (or auto_pad) plus a preceding Pad node's, as "valid",
 * Keras "same" (total `max((out−1)·s + k − size, 0)`, the odd one at the bottom/right), or explicit zero padding
 * and "valid".
 */
export function windowPadding(
  node: OnnxNode,
  size: [number, number],
  kernel: [number, number],
  strides: [number, number],
  extra: Pads2d | undefined,
): { padding: "valid" | "same"; pads: Pads2d; zeroPad?: Pads2d } {
  const autoPad = stringAttr(node, "auto_pad", "NOTSET");
  let pads: Pads2d = ownPads(node) ?? [
    [0, 0],
    [0, 0],
  ];
  const same = ([0, 1] as const).map((a) => samePadding(size[a], kernel[a], strides[a]).pads) as Pads2d;
  if (autoPad === "SAME_UPPER") pads = same;
  else if (autoPad === "SAME_LOWER") pads = [same[0].slice().reverse(), same[1].slice().reverse()] as Pads2d;
  else if (autoPad === "VALID")
    pads = [
      [0, 0],
      [0, 0],
    ];
  if (extra)
    pads = [
      [pads[0][0] + extra[0][0], pads[0][1] + extra[0][1]],
      [pads[1][0] + extra[1][0], pads[1][1] + extra[1][1]],
    ];
  const flat = pads.flat();
  if (flat.every((p) => p === 0)) return { padding: "valid", pads };
  if (flat.every((p, i) => p === same.flat()[i])) return { padding: "same", pads };
  return { padding: "valid", pads, zeroPad: pads };
}
