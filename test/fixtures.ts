import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Receipt, ReceiptProof } from "../src/attest/receipt.js";
import { compileModel } from "../src/compile-model.js";
import type { ModelPackage } from "../src/storage/model-package.js";

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Cache shared by every test file of a run (the dev ptau is generated once, by global-setup). */
export const TEST_CACHE = path.join(ROOT, ".verinfer-cache", "test");

/** The bundled demo model: 16 → 8 relu → 4. */
export const DEMO_MODEL_DIR = path.join(ROOT, "examples", "models", "demo-glyphs");

/** The demo model's calibration samples and held-out inputs. */
export const demoSamples = JSON.parse(readFileSync(path.join(DEMO_MODEL_DIR, "samples.json"), "utf8")) as {
  calibration: number[][];
  inputs: number[][];
  labels: number[];
};

/** Compiles (or fetches from the test cache) the demo model. */
export function demoPackage(): Promise<ModelPackage> {
  return compileModel(DEMO_MODEL_DIR, { calibration: demoSamples.calibration, cacheDir: TEST_CACHE, quiet: true });
}

/** Awaits a promise that must reject and returns what it rejected with. */
export async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** A receipt of mode "zk", whose proof is present. */
export type ZkReceipt = Receipt & { proof: ReceiptProof };

/** Narrows a receipt to a zk receipt, failing the test when it has no proof. */
export function asZk(receipt: Receipt): ZkReceipt {
  if (!receipt.proof) throw new Error(`expected a zk receipt, got mode ${receipt.mode}`);
  return receipt as ZkReceipt;
}
