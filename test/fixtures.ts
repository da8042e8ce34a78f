import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll } from "vitest";
import type { Groth16ReceiptProof, Receipt, ReceiptProof } from "../src/attest/receipt.js";
import type { DenseNetwork } from "../src/models/dense-network.js";
import type { ModelPackage } from "../src/package/model-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";

/** Repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Cache shared by every test file of a run (the dev ptau is generated once, by global-setup). */
export const TEST_CACHE = path.join(ROOT, ".verinfer-cache", "test");

/** The bundled demo model: 16 → 8 relu → 4. */
export const DEMO_MODEL_DIR = path.join(ROOT, "examples", "models", "demo-glyphs");

/**
 * The demo's eight held-out inputs, as a tuple: `demoSamples.inputs[3]` is a `number[]` to the type checker
 * too, so it can be passed where a `ModelInput` is expected.
 */
type DemoInputs = [number[], number[], number[], number[], number[], number[], number[], number[]];

/** The demo model's calibration samples and held-out inputs. */
export const demoSamples = JSON.parse(readFileSync(path.join(DEMO_MODEL_DIR, "samples.json"), "utf8")) as {
  calibration: number[][];
  inputs: DemoInputs;
  labels: number[];
};
if (demoSamples.inputs.length !== 8) throw new Error("samples.json: the fixtures expect 8 held-out inputs");

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

/** A receipt of mode "zk" with a Groth16 proof. */
export type ZkReceipt = Receipt & { proof: Groth16ReceiptProof };

/** A receipt of mode "zk" with a proof of any system. */
export type AnyZkReceipt = Receipt & { proof: ReceiptProof };

/** Narrows a receipt to a Groth16 zk receipt, failing the test when it has no (Groth16) proof. */
export function asZk(receipt: Receipt): ZkReceipt {
  if (!receipt.proof) throw new Error(`expected a zk receipt, got mode ${receipt.mode}`);
  if (receipt.proof.system !== "groth16") throw new Error(`expected a groth16 proof, got ${receipt.proof.system}`);
  return receipt as ZkReceipt;
}

/** Narrows a receipt to a zk receipt of any proof system, failing the test when it has no proof. */
export function asAnyZk(receipt: Receipt): AnyZkReceipt {
  if (!receipt.proof) throw new Error(`expected a zk receipt, got mode ${receipt.mode}`);
  return receipt as AnyZkReceipt;
}

/** A second, tiny model: 4 → 3 relu → 4, so its vkey has as many public signals as the demo's. */
export const tinyNetwork: DenseNetwork = {
  inputShape: [4],
  inputSize: 4,
  layers: [
    {
      name: "tiny_hidden",
      units: 3,
      activation: "relu",
      kernel: [
        [0.5, -0.25, 0.125],
        [-0.5, 0.75, 0.25],
        [0.25, 0.5, -0.75],
        [1, -0.125, 0.5],
      ],
      bias: [0.1, -0.05, 0],
    },
    {
      name: "tiny_out",
      units: 4,
      activation: "linear",
      kernel: [
        [0.3, -0.6, 0.2, 0.9],
        [-0.4, 0.8, -0.1, 0.5],
        [0.7, 0.1, -0.9, -0.3],
      ],
      bias: [0, 0.2, -0.1, 0.05],
    },
  ],
};
export const tinyCalibration = [
  [0, 0, 0, 0],
  [1, 1, 1, 1],
  [0.2, 0.9, 0.4, 0.1],
  [0.8, 0.3, 0.6, 0.5],
];

/** Compiles (or fetches from the test cache) the tiny second model. */
export function tinyPackage(): Promise<ModelPackage> {
  return compileModel(tinyNetwork, { calibration: tinyCalibration, cacheDir: TEST_CACHE, quiet: true });
}

/**
 * Runs the CLI as users run it — the built dist/cli/main.js (`npm test` builds before vitest) — with the test
 * cache, and returns its exit code and output.
 */
export async function runCli(
  args: string[],
  options: { cache?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, "dist", "cli", "main.js"), ...args],
      {
        env: { ...process.env, VERINFER_CACHE: options.cache ?? TEST_CACHE },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * A maker of temporary directories for one test file, all removed after the file's tests. Call it at the top
 * level of the test file.
 */
export function tempDirs(prefix: string): () => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
