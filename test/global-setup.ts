import * as snarkjs from "snarkjs";
import { compileModel } from "../src/compile-model.js";
import { DEMO_MODEL_DIR, demoSamples, TEST_CACHE } from "./fixtures.js";

/** Compiles the demo model once before the test files run in parallel, so they share one dev ptau and zkey. */
export default async function setup(): Promise<void> {
  await compileModel(DEMO_MODEL_DIR, { calibration: demoSamples.calibration, cacheDir: TEST_CACHE, quiet: true });
  // snarkjs's curve keeps worker threads alive; this process is vitest's own, so end them here.
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
}
