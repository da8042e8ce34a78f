import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isVerinferError } from "../errors.js";
import { loadModelPackage, type ModelPackage } from "../package/model-package.js";
import { type CompileModelOptions, compileCacheKey } from "../pipeline/compile-model.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { toolchainVersions } from "../util/toolchain.js";

/** What a source record holds: the id of the package compiled from that source with those options. */
interface SourceRecord {
  format: "verinfer/source@1";
  modelId: string;
}

function sha256(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** JSON with sorted keys, so that two equal option objects give one string. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * The key of a tfjs model directory compiled with given options: the bytes of model.json and of every weight file
 * it names, every option that shapes the package, the compiler revision and the toolchain. `undefined` when the
 * directory cannot be read as a tfjs model (compileModel then reports what is wrong) or when a ptau file is
 * passed (its content, not its path, names it; compileModel hashes it).
 */
async function sourceKey(modelDir: string, options: CompileModelOptions): Promise<string | undefined> {
  if (options.ptau !== undefined) return undefined;
  try {
    const modelJson = await readFile(path.join(modelDir, "model.json"));
    const manifest = parseStrictJson(modelJson.toString("utf8")) as { weightsManifest?: Array<{ paths?: string[] }> };
    const weightFiles = (manifest.weightsManifest ?? []).flatMap((group) => group.paths ?? []);
    const weights: string[] = [];
    for (const file of weightFiles) weights.push(sha256(await readFile(path.join(modelDir, file))));
    const { onProgress: _p, cacheDir: _c, quiet: _q, force: _f, ...shaping } = options;
    const source = canonical({ modelJson: sha256(modelJson), weights, options: shaping });
    return compileCacheKey({ networkJson: source, ptauSha256: undefined, toolchain: toolchainVersions() });
  } catch {
    return undefined;
  }
}

function recordFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, "sources", `${key}.json`);
}

/**
 * The package a tfjs model directory was last compiled to with these options, without loading tfjs or quantizing
 * (what made `verinfer infer` slow: every call requantized the model). The package is loaded by id, so its
 * identity is recomputed and its artifacts hash-checked as for any load; a record whose package is gone or fails
 * that check is ignored and the model is compiled again.
 *
 * @example
 * ```ts
 * const pkg = (await findCompiledSource(dir, options)) ?? (await compileAndRecord(dir, options, compileModel));
 * ```
 */
export async function findCompiledSource(
  modelDir: string,
  options: CompileModelOptions,
): Promise<ModelPackage | undefined> {
  const key = await sourceKey(modelDir, options);
  if (!key) return undefined;
  const cacheDir = resolveCacheDir(options.cacheDir);
  let record: SourceRecord;
  try {
    record = parseStrictJson(await readFile(recordFile(cacheDir, key), "utf8")) as SourceRecord;
  } catch {
    return undefined;
  }
  if (record.format !== "verinfer/source@1" || !/^0x[0-9a-f]{64}$/.test(String(record.modelId))) return undefined;
  try {
    return await loadModelPackage(record.modelId, { cacheDir });
  } catch (error) {
    if (isVerinferError(error)) return undefined;
    throw error;
  }
}

/** Records that `modelDir` with `options` compiled to `pkg`, for {@link findCompiledSource}. */
export async function recordCompiledSource(
  modelDir: string,
  options: CompileModelOptions,
  pkg: ModelPackage,
): Promise<void> {
  const key = await sourceKey(modelDir, options);
  if (!key) return;
  const record: SourceRecord = { format: "verinfer/source@1", modelId: pkg.id };
  await atomicWrite(recordFile(resolveCacheDir(options.cacheDir), key), JSON.stringify(record));
}
