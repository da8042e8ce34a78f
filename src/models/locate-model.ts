import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";

/** What {@link locateModel} found at a user's model path. */
export interface LocatedModel {
  kind: "tfjs" | "onnx";
  /** The tfjs `model.json` or the `.onnx` file. */
  file: string;
  /** The folder the model lies in (where its weight shards and default `samples.json` are). */
  dir: string;
}

const isFile = (p: string) =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

/**
 * Finds the model a user's path names: a folder holding a tfjs `model.json`, a `model.json` itself, or an `.onnx`
 * file — before anything else (a calibration file, a backend) is read, so a wrong path is reported as that.
 *
 * @throws VerinferError `ARTIFACT_MISSING` "no model at <path>", with what was looked for (and any `.onnx` file
 *   the folder holds instead).
 * @example
 * ```ts
 * const { kind, file } = await locateModel("examples/models/demo-glyphs"); // "tfjs", …/model.json
 * ```
 */
export async function locateModel(modelPath: string): Promise<LocatedModel> {
  const missing = (lookedFor: string, hint?: string) =>
    new VerinferError("ARTIFACT_MISSING", `no model at ${modelPath}`, {
      details: `looked for ${lookedFor}${hint ? `; ${hint}` : ""}`,
      meta: { path: modelPath },
    });
  if (modelPath.toLowerCase().endsWith(".onnx")) {
    if (await isFile(modelPath)) return { kind: "onnx", file: modelPath, dir: path.dirname(modelPath) };
    throw missing(`the ONNX file ${path.resolve(modelPath)}`);
  }
  const info = await stat(modelPath).catch(() => undefined);
  if (info === undefined) {
    throw missing(
      `${path.resolve(modelPath)}: no such file or folder (a model is a folder with model.json, or an .onnx file)`,
    );
  }
  if (info.isFile()) return { kind: "tfjs", file: modelPath, dir: path.dirname(modelPath) };
  const modelJson = path.join(modelPath, "model.json");
  if (await isFile(modelJson)) return { kind: "tfjs", file: modelJson, dir: modelPath };
  const onnx = (await readdir(modelPath).catch(() => [] as string[])).filter((f) => f.toLowerCase().endsWith(".onnx"));
  throw missing(
    `${path.resolve(modelJson)} (a tfjs LayersModel)`,
    onnx.length > 0 ? `the folder holds ${onnx.join(", ")}: pass that file` : undefined,
  );
}
