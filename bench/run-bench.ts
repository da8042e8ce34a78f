/**
 * `npm run bench [-- --json] [-- --runs N] [-- --models a,b] [-- --circuit-backend direct|circom]`: compiles each benchmark model from scratch
 * (the dev ptau is reused from the cache and reported separately), then proves and verifies warm, in process.
 * Prints a table, or one JSON object per model with --json. Timings are medians of warm runs.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { type CircuitBackend, compileModel } from "../src/pipeline/compile-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../src/receipts/verify-receipt.js";
import { packageRoot } from "../src/util/package-root.js";
import type { ProgressEvent } from "../src/util/progress.js";
import { argValue, circuitBackendArg, median } from "./bench-util.js";
import { type ProveProfile, profileProve } from "./prove-profile.js";

interface BenchModel {
  name: string;
  dir: string;
}

const MODELS: BenchModel[] = [
  { name: "demo-glyphs-16-8-4", dir: path.join(packageRoot(), "examples", "models", "demo-glyphs") },
  { name: "mlp-784-56-10", dir: path.join(packageRoot(), "bench", "models", "mlp-784-56-10") },
];

/** One benchmark result line. */
export interface BenchResult {
  model: string;
  params: number;
  constraints: number;
  compileMs: number;
  setupMs: number;
  ptauMs: number;
  proveMsMedian: number;
  verifyMsMedian: number;
  peakRssMb: number;
  maxAbsError: number;
  runs: number;
  backend: string;
  circuitBackend: CircuitBackend;
  largeScalarFraction: number;
  proveProfile: Omit<ProveProfile, "largeScalarFraction">;
}

async function benchModel(model: BenchModel, runs: number, circuitBackend: CircuitBackend): Promise<BenchResult> {
  const samples = JSON.parse(readFileSync(path.join(model.dir, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs: number[][];
  };
  const marks: Partial<Record<ProgressEvent["stage"], number>> = {};
  const onProgress = (e: ProgressEvent) => {
    marks[e.stage] ??= performance.now();
  };
  const t0 = performance.now();
  const pkg = await compileModel(model.dir, {
    calibration: samples.calibration,
    force: true,
    quiet: true,
    onProgress,
    circuitBackend,
  });
  const end = performance.now();
  const compileStart = marks.codegen ?? t0;
  // A shared dev ptau written before the setup is reported apart; a Groth16 dev setup writes its own ptau from the
  // zkey's secrets inside the setup step (the "ptau" events come after "setup" began), so it counts as setup.
  const ptauFirst = marks.ptau !== undefined && marks.setup !== undefined && marks.ptau < marks.setup;
  const setupStart = Math.min(marks.ptau ?? end, marks.setup ?? end);
  const ptauMs = ptauFirst ? (marks.setup as number) - (marks.ptau as number) : 0;
  const params = pkg.network.layers.reduce(
    (n, l) => n + (l.kind === "dense" || l.kind === "conv2d" ? l.weights.flat().length + l.bias.length : 0),
    0,
  );

  const prove: number[] = [];
  const verify: number[] = [];
  let maxAbsError = 0;
  let backend = "";
  // Run 0 warms the curve, the witness generator and tfjs; it is not counted.
  for (let i = 0; i <= runs; i++) {
    const input = samples.inputs[i % samples.inputs.length] as number[];
    const { receipt } = await verifiableInfer(pkg, input);
    const t = performance.now();
    const result = await verifyReceipt(receipt, { modelPackage: pkg });
    const verifyMs = performance.now() - t;
    if (!result.valid) throw new Error(`bench receipt did not verify: ${result.reason}`);
    maxAbsError = Math.max(maxAbsError, receipt.output.maxAbsError);
    backend = receipt.backend;
    if (i > 0) {
      prove.push(receipt.timings.proveMs as number);
      verify.push(verifyMs);
    }
  }
  const { largeScalarFraction, ...proveProfile } = await profileProve(pkg, samples.inputs[0] as number[]);
  return {
    model: model.name,
    params,
    constraints: pkg.manifest.circuit.constraints,
    compileMs: Math.round(setupStart - compileStart),
    setupMs: Math.round(end - setupStart - ptauMs),
    ptauMs: Math.round(ptauMs),
    proveMsMedian: Math.round(median(prove)),
    verifyMsMedian: Math.round(median(verify) * 10) / 10,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    maxAbsError: Number(maxAbsError.toPrecision(3)),
    runs,
    backend,
    circuitBackend,
    largeScalarFraction,
    proveProfile,
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const runs = Number(argValue("--runs") ?? 7);
  if (!Number.isInteger(runs) || runs < 5) throw new Error("--runs must be an integer >= 5");
  const only = argValue("--models")?.split(",");
  const models = only ? MODELS.filter((m) => only.includes(m.name)) : MODELS;
  const circuitBackend = circuitBackendArg();
  const results: BenchResult[] = [];
  for (const model of models) {
    const r = await benchModel(model, runs, circuitBackend);
    results.push(r);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  if (!json) {
    console.table(results);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
