/**
 * An inference node in miniature: compile (or fetch from cache) a model once at start-up, then answer each
 * request with a receipt anyone can check. Keeps the salts privately and hands the receipt out.
 *
 * Run: `npm run example:service` — prints one receipt summary per request as JSON lines.
 * In an application, import from "verinfer" instead of "../src/index.js".
 */
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileModel, isVerinferError, type ModelInput, type Receipt, verifiableInfer } from "../src/index.js";
import { packageRoot } from "../src/util/package-root.js";

/** What one request returns to the caller. */
export interface ServiceResponse {
  status: 200 | 400;
  receipt?: Receipt;
  error?: { code: string; message: string };
}

/** Runs the example: three requests, one of them malformed. Returns the responses. */
export async function main(cacheDir?: string): Promise<ServiceResponse[]> {
  const modelDir = path.join(packageRoot(), "examples", "models", "demo-glyphs");
  const samples = JSON.parse(readFileSync(path.join(modelDir, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs: number[][];
  };
  // Start-up: compile once; later runs hit the content-addressed cache.
  const pkg = await compileModel(modelDir, { calibration: samples.calibration, ...(cacheDir ? { cacheDir } : {}) });
  const saltsDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-salts-"));

  const requests = [samples.inputs[0], samples.inputs[1], [1, 2, Number.NaN]] as ModelInput[];
  const responses: ServiceResponse[] = [];
  for (const input of requests) {
    try {
      const { receipt, salts } = await verifiableInfer(pkg, input);
      // Salts open the commitments later (re-execution, disputes): keep them, never publish them.
      await writeFile(path.join(saltsDir, `${receipt.input.commitment}.json`), JSON.stringify(salts), { mode: 0o600 });
      responses.push({ status: 200, receipt });
    } catch (error) {
      if (!isVerinferError(error)) throw error;
      responses.push({ status: 400, error: { code: error.code, message: error.shortMessage } });
    }
  }
  return responses;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (responses) => {
      for (const r of responses) {
        const summary = r.receipt
          ? {
              status: r.status,
              model: r.receipt.model.id,
              output: r.receipt.output.values,
              proveMs: r.receipt.timings.proveMs,
            }
          : r;
        console.log(JSON.stringify(summary));
      }
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
