import * as snarkjs from "snarkjs";
import { compileModel } from "../src/pipeline/compile-model.js";
import { DEMO_MODEL_DIR, demoSamples, TEST_CACHE, tinyPackage } from "./fixtures.js";

/**
 * Compiles the demo and tiny models once before the test files run in parallel, so they share one dev ptau and
 * one zkey each (two files compiling the same model at once would each get their own key).
 */
export default async function setup(): Promise<void> {
  // `npx vitest run` skips npm test's first step: the same redis-server check, before any compile.
  await import("./require-redis.mjs");
  await compileModel(DEMO_MODEL_DIR, { calibration: demoSamples.calibration, cacheDir: TEST_CACHE, quiet: true });
  await tinyPackage();
  // snarkjs's curve keeps worker threads alive; this process is vitest's own, so end them here.
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
}
