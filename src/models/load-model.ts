import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { isVerinferError, VerinferError } from "../errors.js";
import { readUntrustedFile } from "../storage/read-untrusted-file.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { initBackend, tf } from "./backend.js";
import { locateModel } from "./locate-model.js";
import { loadOnnxModel } from "./onnx/load-onnx-model.js";

const WeightsManifestSchema = z.array(
  z.object({
    paths: z.array(z.string().min(1)),
    weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), dtype: z.string() }).loose()),
  }),
);

/** zod schema of a tfjs LayersModel `model.json` (the fields verinfer reads). */
export const TfjsModelJsonSchema = z
  .object({
    modelTopology: z.record(z.string(), z.unknown()),
    weightsManifest: WeightsManifestSchema,
    format: z.string().optional(),
  })
  .loose();

async function readOrThrow(file: string, what: string, root?: string, maxBytes?: number): Promise<Buffer> {
  try {
    // A shard named by model.json (a model from elsewhere) is a regular file inside the model's directory, no
    // larger than its weights: never a link, FIFO or device, never `../` out of it.
    if (root !== undefined) return await readUntrustedFile(file, what, { root, maxBytes: maxBytes ?? 0 });
    return await readFile(file);
  } catch (cause) {
    if (isVerinferError(cause, "ARTIFACT_CORRUPT")) throw cause;
    throw new VerinferError("ARTIFACT_MISSING", `cannot read ${what} ${file}`, { cause });
  }
}

/**
 * Loads a tfjs LayersModel from a directory holding `model.json` and its weight shards, without the
 * `file://` handler (which ships only with tfjs-node). Shard sizes are checked against the manifest. A path
 * ending in `.onnx` is imported with {@link loadOnnxModel} (the equivalent tfjs model, channels-last input).
 *
 * @param dir - a directory, the path of a `model.json` inside it, or the path of an `.onnx` file.
 * @throws VerinferError `ARTIFACT_MISSING` ("no model at <dir>", or a missing shard), `ARTIFACT_CORRUPT` (bad JSON, short shard, bad
 *   protobuf), `UNSUPPORTED_LAYER` (ONNX ops verinfer does not import).
 * @example
 * ```ts
 * const model = await loadModel("examples/models/demo-glyphs");
 * ```
 */
export async function loadModel(dir: string): Promise<import("@tensorflow/tfjs").LayersModel> {
  const located = await locateModel(dir);
  if (located.kind === "onnx") return loadOnnxModel(located.file);
  // The model's variables live on the active backend: pick the best one before creating them.
  await initBackend();
  const modelJsonPath = located.file;
  const root = path.dirname(modelJsonPath);
  const raw = await readOrThrow(modelJsonPath, "model file");
  let json: z.infer<typeof TfjsModelJsonSchema>;
  try {
    json = TfjsModelJsonSchema.parse(parseStrictJson(raw.toString("utf8")));
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", `${modelJsonPath} is not a tfjs LayersModel model.json`, { cause });
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const odd = weightSpecs.find((s) => s.dtype !== "float32" || "quantization" in s);
  if (odd) {
    throw new VerinferError(
      "INVALID_MODEL",
      `weight ${odd.name} is stored as ${odd.dtype}; only float32 weights are read`,
      {
        details: "re-save the model without tfjs-converter weight quantization",
      },
    );
  }
  const expected = weightSpecs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) shards.push(await readOrThrow(path.join(root, p), "weight shard", root, expected));
  }
  const weightData = Buffer.concat(shards);
  if (weightData.byteLength !== expected) {
    throw new VerinferError(
      "ARTIFACT_CORRUPT",
      `weight shards of ${modelJsonPath} hold ${weightData.byteLength} bytes`,
      {
        details: `the manifest describes ${expected} bytes of float32 weights`,
      },
    );
  }
  const buffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength);
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: weightSpecs as import("@tensorflow/tfjs").io.WeightsManifestEntry[],
        weightData: buffer,
      }),
    );
  } catch (cause) {
    throw new VerinferError("INVALID_MODEL", `tfjs could not build the model in ${modelJsonPath}`, {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}
