import type { OnnxNode } from "../decode-onnx.js";
import type { ImporterState } from "./importer-state.js";

/**
 * What a node's translator did with it. `"pending"`: its output is not a layer's yet (an input normalization
 * waiting for the layer it folds into), so it is not recorded for branches to read.
 */
export type TranslateOutcome = undefined | "pending";

/**
 * How the importer reads one ONNX op: one entry of {@link ONNX_OPS}. An op with no `translate` is read only when
 * every input is a constant (it is folded by `foldConstant`); on the variable path it is refused.
 */
export interface OnnxOpTranslator {
  /**
   * The opset the op entered ONNX's default domain in, where that is later than the oldest opset verinfer reads: in
   * a model of an older opset the op does not exist, and a node of it is refused as such.
   */
  sinceOpset?: number;
  /** Attribute checks that need no shapes, run on every node before anything is built: why it is refused, if it is. */
  check?: (node: OnnxNode) => string | undefined;
  /** Reads a node with one variable input (the state's `live` tensor) into layers. */
  translate?: (node: OnnxNode, state: ImporterState) => TranslateOutcome | undefined;
  /** Reads a node with two or more variable inputs (a merge); `inputs` are their names. */
  merge?: (node: OnnxNode, state: ImporterState, inputs: string[]) => void;
  /** Computes a constant from what the importer tracks (a Shape), whatever its inputs are. */
  constant?: (node: OnnxNode, state: ImporterState) => void;
  /** May read the tensor of a pending input normalization (the layer it folds into, or a no-op). */
  takesInputAffine?: true;
}
