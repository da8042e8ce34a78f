/**
 * `npm run bench:pool-restarts [-- --lifetimes 30] [-- --workers 1] [-- --jobs 3]`: a soak of prover pools that end
 * and start again in one process, as a node's pool does when a job times out, a worker crashes or the node
 * reloads. Each lifetime creates a pool, proves `--jobs` demo-model jobs at once, verifies them and closes the
 * pool, so every lifetime's workers are new threads. Prints one JSON line per lifetime and a summary line; exits 1
 * when a proof failed or did not verify. A process that aborts (exit 134, SIGABRT) is what this soak exists to
 * catch: blake-hash's native addon, once loaded by worker threads that had ended, corrupted the heap after 4, 2
 * and 3 lifetimes in three runs of 30 (a fourth run, of 8, survived; see docs/queue-and-deployment.md).
 */
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { demoModel } from "../examples/inference-node/server.js";
import { randomSalt } from "../src/attest/commitments.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import { createProverPool } from "../src/receipts/prover-pool.js";
import { positiveIntArg } from "./bench-util.js";

async function main(): Promise<number> {
  const lifetimes = positiveIntArg("--lifetimes", 30);
  const workers = positiveIntArg("--workers", 1);
  const jobs = positiveIntArg("--jobs", 3);
  const pkg = await demoModel();
  const input = quantizeInput(
    pkg.network,
    Array.from({ length: 16 }, (_, i) => (i % 5) / 5),
  );
  let failed = 0;
  const t0 = performance.now();
  for (let lifetime = 0; lifetime < lifetimes; lifetime++) {
    const pool = createProverPool({ workers, maxQueue: jobs, jobTimeoutMs: 60_000 });
    const t = performance.now();
    const results = await Promise.allSettled(
      Array.from({ length: jobs }, () =>
        pool.prove({ pkg, input, salts: { input: randomSalt(), output: randomSalt() } }),
      ),
    );
    await pool.close();
    const errors: string[] = [];
    for (const r of results) {
      if (r.status === "rejected") errors.push(String(r.reason));
      else if (!(await snarkjs.groth16.verify(pkg.vkey, r.value.publicSignals, r.value.proof)))
        errors.push("a proof did not verify");
    }
    failed += errors.length;
    console.log(JSON.stringify({ lifetime, ms: Math.round(performance.now() - t), errors }));
  }
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(
    JSON.stringify({
      lifetimes,
      workers,
      jobs,
      failed,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
      rssMb: rss,
    }),
  );
  return failed;
}

// Exits explicitly, as the other benches do: snarkjs's verifier leaves its curve's worker threads running.
main().then(
  (failed) => process.exit(failed > 0 ? 1 : 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
