import { readFile } from "node:fs/promises";
import type * as tfTypes from "@tensorflow/tfjs";
import { VerinferError } from "../../errors.js";
import { initBackend } from "../backend.js";
import { buildTfjsModel } from "./build-tfjs-model.js";
import { decodeOnnx } from "./decode-onnx.js";
import { importOnnxGraph } from "./import-onnx-graph.js";

/**
 * Imports an ONNX model (a `.onnx` file's path or bytes) as the equivalent tfjs LayersModel, which verinfer then
 * compiles, runs and proves like any tfjs model.
 *
 * Layout: ONNX is NCHW, tfjs is channels-last. The returned model takes `[height, width, channels]` inputs (HWC)
 * for an NCHW graph and `[features]` for a 2-D one; convert an NCHW sample with {@link nchwToHwc} (with one
 * channel, as for MNIST, the flat values are the same in both layouts). Its outputs equal the ONNX graph's, in
 * the same order: the Flatten before the first Dense keeps ONNX's CHW feature order by permuting that Dense's
 * kernel rows.
 *
 * Every node is checked before anything is built: an unsupported one fails the whole import, naming every
 * unsupported node. Conv+BatchNormalization stay separate tfjs layers; Dropout and Identity are dropped; a Pad
 * folds into the next Conv when it amounts to "valid" or "same" padding, else it becomes a ZeroPadding2D layer.
 *
 * @param source - path of a `.onnx` file, or its bytes.
 * @throws VerinferError `ARTIFACT_MISSING` (no such file), `ARTIFACT_CORRUPT` (not a protobuf ModelProto),
 *   `INVALID_MODEL` (not a single-input single-output chain, bad shapes, opset outside 9–18),
 *   `UNSUPPORTED_LAYER` (listing every unsupported node, with the supported ops).
 * @example
 * ```ts
 * const model = await loadOnnxModel("bench/models/mnist-bn-cnn.onnx");
 * const pkg = await compileModel(model, { calibration });
 * ```
 */
export async function loadOnnxModel(source: string | Uint8Array): Promise<tfTypes.LayersModel> {
  let bytes: Uint8Array;
  if (typeof source === "string") {
    try {
      bytes = await readFile(source);
    } catch (cause) {
      throw new VerinferError("ARTIFACT_MISSING", `cannot read ONNX model ${source}`, { cause });
    }
  } else if (source instanceof Uint8Array) {
    bytes = source;
  } else {
    throw new VerinferError("INVALID_INPUT", "loadOnnxModel takes a file path or the bytes of an .onnx file");
  }
  let chain: ReturnType<typeof importOnnxGraph>;
  try {
    chain = importOnnxGraph(decodeOnnx(bytes));
  } catch (cause) {
    if (cause instanceof VerinferError) throw cause;
    // A graph that decodes but contradicts itself in a way no check above names: still a typed error.
    throw new VerinferError("INVALID_MODEL", "the ONNX graph is inconsistent", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  if (chain.steps.length === 0) throw new VerinferError("INVALID_MODEL", "the ONNX graph has no layer (only no-ops)");
  // The model's variables live on the active backend: pick the best one before creating them.
  await initBackend();
  try {
    return buildTfjsModel(chain);
  } catch (cause) {
    throw new VerinferError("INVALID_MODEL", "tfjs could not build the imported ONNX model", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}
