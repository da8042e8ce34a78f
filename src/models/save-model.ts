import { mkdir } from "node:fs/promises";
import path from "node:path";
import type * as tfTypes from "@tensorflow/tfjs";
import { VerinferError } from "../errors.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { tf } from "./backend.js";

/** The single weight shard a saved model directory holds. */
export const WEIGHTS_FILE = "weights.bin";

/**
 * A tf.io save handler writing `model.json` and a single `weights.bin` shard into `dir`, laid out as tfjs-node's
 * `file://` handler writes them — without tfjs-node, whose native binary is an optional dependency. `loadModel`
 * and `compileModel(dir)` read what it writes.
 *
 * @example
 * ```ts
 * await model.save(directorySaveHandler("models/my-model"));
 * ```
 */
export function directorySaveHandler(dir: string): tfTypes.io.IOHandler {
  return {
    save: async (artifacts) => {
      if (!(artifacts.modelTopology && artifacts.weightSpecs && artifacts.weightData)) {
        throw new VerinferError("INVALID_MODEL", "model artifacts lack a topology or weights");
      }
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
      };
      await mkdir(dir, { recursive: true });
      await atomicWrite(path.join(dir, WEIGHTS_FILE), new Uint8Array(weightData));
      await atomicWrite(path.join(dir, "model.json"), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/**
 * Saves a tfjs LayersModel to a directory (`model.json` + `weights.bin`) without tfjs-node.
 *
 * @example
 * ```ts
 * await saveModel(model, "models/my-model");
 * const pkg = await compileModel("models/my-model", { calibration });
 * ```
 */
export async function saveModel(model: tfTypes.LayersModel, dir: string): Promise<void> {
  await model.save(directorySaveHandler(dir));
}
