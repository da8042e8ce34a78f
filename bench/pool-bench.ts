/**
 * `npm run bench:pool [-- --proofs N] [-- --model name] [-- --workers 1,2]`: proving
 * throughput of the prover pool against in-process proving. For each worker count, a fresh pool is warmed (one
 * job per worker loads the zkey and witness wasm and builds the curve), then N jobs are submitted at once and
 * timed until the last proof; every proof is verified afterwards, outside the timing. The in-process line proves
 * the same N inputs one after another on this thread with snarkjs's default thread pool (one thread per core)
 * — what `verifiableInfer` does without a pool. Pool workers prove single-threaded, one core each. Prints one
 * JSON line per configuration, then the scaling ratios.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { randomSalt } from "../src/attest/commitments.js";
import { type Groth16ProofBundle, proveGroth16 } from "../src/circuits/prove-groth16.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import type { ModelPackage } from "../src/package/model-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { createProverPool } from "../src/receipts/prover-pool.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median } from "./bench-util.js";

/** One configuration's result. */
export interface PoolBenchResult {
  model: string;
  mode: "in-process" | "pool";
  /** 0 for in-process proving. */
  workers: number;
  proofs: number;
  seconds: number;
  proofsPerSec: number;
  /** Median witness + proving time of one proof (on the worker, for the pool). */
  p50Ms: number;
  /** Median time from submission to proof (queue wait included); the pool only. */
  p50LatencyMs?: number;
  /** CPU time of this process (all its threads) over wall time: how many cores the configuration kept busy. */
  coresBusy: number;
}

interface Job {
  input: bigint[];
  salts: { input: bigint; output: bigint };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
}

async function verifyAll(
  pkg: ModelPackage,
  proofs: Pick<Groth16ProofBundle, "proof" | "publicSignals">[] | { proof: unknown; publicSignals: string[] }[],
): Promise<void> {
  for (const p of proofs) {
    if (!(await snarkjs.groth16.verify(pkg.vkey, p.publicSignals, p.proof))) throw new Error("a proof did not verify");
  }
}

async function inProcess(model: string, pkg: ModelPackage, jobs: Job[]): Promise<PoolBenchResult> {
  const { witness, zkey } = await pkg.provingArtifacts();
  const prove = (job: Job) =>
    proveGroth16({
      witness,
      zkey,
      inputs: { input: job.input, inputSalt: job.salts.input, outputSalt: job.salts.output },
    });
  await prove(jobs[0] as Job);
  const times: number[] = [];
  const proofs: Groth16ProofBundle[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const job of jobs) {
    const t = performance.now();
    proofs.push(await prove(job));
    times.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  const coresBusy = cpuSeconds(cpu0) / seconds;
  await verifyAll(pkg, proofs);
  return {
    model,
    mode: "in-process",
    workers: 0,
    proofs: jobs.length,
    seconds: round(seconds, 2),
    proofsPerSec: round(jobs.length / seconds, 3),
    p50Ms: Math.round(median(times)),
    coresBusy: round(coresBusy, 2),
  };
}

async function pooled(model: string, pkg: ModelPackage, jobs: Job[], workers: number): Promise<PoolBenchResult> {
  const pool = createProverPool({ workers, maxQueue: jobs.length });
  try {
    // Warm-up: one job per worker, all at once, so that each worker loads the model and builds its curve.
    await Promise.all(Array.from({ length: workers }, () => pool.prove({ pkg, ...(jobs[0] as Job) })));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const latencies: number[] = [];
    const results = await Promise.all(
      jobs.map((job) =>
        pool.prove({ pkg, ...job }).then((r) => {
          latencies.push(performance.now() - t0);
          return r;
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const coresBusy = cpuSeconds(cpu0) / seconds;
    await verifyAll(pkg, results);
    return {
      model,
      mode: "pool",
      workers,
      proofs: jobs.length,
      seconds: round(seconds, 2),
      proofsPerSec: round(jobs.length / seconds, 3),
      p50Ms: Math.round(median(results.map((r) => r.timings.proveMs))),
      p50LatencyMs: Math.round(median(latencies)),
      coresBusy: round(coresBusy, 2),
    };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const proofs = Number(argValue("--proofs") ?? 12);
  if (!Number.isInteger(proofs) || proofs < 2) throw new Error("--proofs must be an integer >= 2");
  const model = argValue("--model") ?? "mlp-784-56-10";
  const workerCounts = (argValue("--workers") ?? "1,2").split(",").map(Number);
  const dir =
    model === "demo-glyphs"
      ? path.join(packageRoot(), "examples", "models", "demo-glyphs")
      : path.join(packageRoot(), "bench", "models", model);
  const samples = JSON.parse(readFileSync(path.join(dir, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs: number[][];
  };
  const pkg = await compileModel(dir, { calibration: samples.calibration, quiet: true });
  const jobs: Job[] = Array.from({ length: proofs }, (_, i) => ({
    input: quantizeInput(pkg.network, samples.inputs[i % samples.inputs.length]),
    salts: { input: randomSalt(), output: randomSalt() },
  }));
  process.stderr.write(
    `${model}: ${pkg.manifest.circuit.constraints} constraints, ${proofs} proofs per configuration, ` +
      `${os.availableParallelism()} cores, load average ${os.loadavg()[0]?.toFixed(2)}\n`,
  );

  const results: PoolBenchResult[] = [];
  const emit = (r: PoolBenchResult) => {
    results.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    const expected = Math.min(r.workers, os.availableParallelism());
    if (r.mode === "pool" && r.coresBusy < 0.85 * expected) {
      process.stderr.write(
        `warning: ${r.workers} worker(s) kept only ${r.coresBusy} cores busy: other load on this machine; ` +
          "its numbers do not measure scaling\n",
      );
    }
  };
  emit(await inProcess(model, pkg, jobs));
  for (const workers of workerCounts) emit(await pooled(model, pkg, jobs, workers));
  const base = results[0] as PoolBenchResult;
  const one = results.find((r) => r.mode === "pool" && r.workers === 1);
  for (const r of results.filter((x) => x.mode === "pool")) {
    process.stdout.write(
      `${JSON.stringify({
        workers: r.workers,
        vsOneWorker: one ? round(r.proofsPerSec / one.proofsPerSec, 2) : null,
        vsInProcess: round(r.proofsPerSec / base.proofsPerSec, 2),
      })}\n`,
    );
  }
  process.stderr.write(`load average after: ${os.loadavg()[0]?.toFixed(2)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
