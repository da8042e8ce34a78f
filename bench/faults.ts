/**
 * `npm run faults [-- --json] [-- --jobs 25] [-- --scenarios no-aof-restart,kill9-stock,allkeys-lru,rogue,redis-down]
 *  [-- --provers 2] [-- --no-records] [-- --deadline-s 300]`
 *
 * The proof queue under the Redis faults operators meet, at a larger size than the test suite, with real
 * processes: a redis-server of its own per scenario (free loopback port, temp dir), `--provers` prover processes
 * (`verinfer prover`, the built dist/cli/main.js: `npm run faults` builds it), one producer (this process,
 * `createProofQueue` with its job records) and the demo model. Scenarios:
 *
 * - `no-aof-restart`: Redis without AOF or snapshots (as the test harness starts it) stopped and restarted once a
 *   quarter of the jobs are proven.
 * - `kill9-stock`: Redis with its stock snapshot points (`save 3600 1 300 100 60 10000`, no AOF) killed with
 *   SIGKILL at the same point, and restarted on its directory.
 * - `allkeys-lru`: Redis with `maxmemory 64mb` and `maxmemory-policy allkeys-lru`: the producer must refuse it.
 * - `rogue`: a rogue prover with write access to Redis races the honest ones: it rewrites each job it takes to name
 *   its own package of the demo model (another key, on the shared storage) and returns its own valid proof.
 * - `redis-down`: half the jobs submitted, Redis stopped for 10 s (AOF on), the other half submitted while it is
 *   down (each must be refused with a typed `UNAVAILABLE` within the queue's bound), then restarted.
 *
 * Per scenario: submitted, accepted, refused (typed, at submission), delivered (receipts the producer resolved),
 * verified (`verifyReceipt` against the producer's package), forged (receipts that verify under the rogue's key
 * instead), failed (typed failures of accepted jobs), lost (accepted jobs with neither), duplicates (extra proofs
 * of one job: wasted work, never a second receipt), and the recovery time: from Redis being back up until every
 * accepted job not yet delivered is in Redis again (— when some never came back, or there was no outage). `--no-records` runs the producer without
 * its records (`recordDir: false`), i.e. as before issue 18. Exit code 1 when a scenario lost or forged anything.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { demoModel } from "../examples/inference-node/server.js";
import { isVerinferError } from "../src/errors.js";
import { type ModelPackage, type Receipt, verifyReceipt } from "../src/index.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import { putModelPackage } from "../src/package/put-model-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { createProofQueue, type ProofQueue } from "../src/queue/create-proof-queue.js";
import { ensureDevPtau } from "../src/setup/dev-ptau.js";
import { resolveCacheDir } from "../src/storage/cache-dir.js";
import { FsStorage } from "../src/storage/fs-storage.js";
import { packageRoot } from "../src/util/package-root.js";
import { type ProverProcess, spawnProver } from "../test/prover-process.js";
import { rogueProve } from "../test/queue-fixtures.js";
import { type RedisServer, startRedisServer } from "../test/redis-server.js";

/** One scenario's line of the report. */
export interface FaultResult {
  scenario: string;
  redis: string;
  records: boolean;
  submitted: number;
  accepted: number;
  refused: number;
  refusedCodes: Record<string, number>;
  delivered: number;
  verified: number;
  forged: number;
  failed: number;
  failedCodes: Record<string, number>;
  lost: number;
  duplicates: number;
  /** Redis back up → every accepted, undelivered job in Redis again (s); null: some never came back, or no fault. */
  recoveryS: number | null;
  /** Longest wait for a typed refusal at submission (ms). */
  refusalMaxMs: number;
  totalS: number;
  readded: number;
  resultsRefused: number;
}

const SCENARIOS = ["no-aof-restart", "kill9-stock", "allkeys-lru", "rogue", "redis-down"] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    jobs: { type: "string", default: "25" },
    scenarios: { type: "string", default: SCENARIOS.join(",") },
    provers: { type: "string", default: "2" },
    "no-records": { type: "boolean", default: false },
    "deadline-s": { type: "string", default: "300" },
  },
});
const JOBS = Number(values.jobs);
const PROVERS = Number(values.provers);
const RECORDS = !values["no-records"];
const DEADLINE_MS = Number(values["deadline-s"]) * 1_000;
const scenarios = (values.scenarios as string).split(",").map((s) => s.trim()) as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);

const samples = JSON.parse(
  readFileSync(path.join(packageRoot(), "examples", "models", "demo-glyphs", "samples.json"), "utf8"),
) as { inputs: number[][] };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(message: string): void {
  if (!values.json) process.stderr.write(`${message}\n`);
}

async function statement(pkg: ModelPackage, i: number) {
  const x = samples.inputs[i % samples.inputs.length] as number[];
  const { receipt, salts } = await verifiableInfer(pkg, x, { mode: "none" });
  return { pkg, input: quantizeInput(pkg.network, x), salts, receipt };
}

function count(codes: Record<string, number>, error: unknown): void {
  const code = isVerinferError(error) ? error.code : "UNTYPED";
  codes[code] = (codes[code] ?? 0) + 1;
}

interface Tracked {
  jobId: string;
  receipt: Receipt | undefined;
  error: unknown;
  done: boolean;
}

/** A rogue prover (in this process): rewrites each job it takes to its own package and returns its own proof. */
function rogueWorker(port: number, queueName: string, rogue: ModelPackage, rogueManifest: string): Worker {
  const worker = new Worker(queueName, async (job: Job) => await rogueProve(job, rogue, rogueManifest), {
    connection: { host: "127.0.0.1", port, maxRetriesPerRequest: null },
  });
  worker.on("error", () => undefined);
  return worker;
}

async function runScenario(scenario: Scenario, pkg: ModelPackage, rogue: ModelPackage | undefined) {
  const work = await mkdtemp(path.join(os.tmpdir(), `verinfer-faults-${scenario}-`));
  const storageDir = path.join(work, "objects");
  const storage = new FsStorage(storageDir);
  const redisOptions: Parameters<typeof startRedisServer>[0] =
    scenario === "kill9-stock"
      ? { snapshots: true }
      : scenario === "allkeys-lru"
        ? { maxmemory: "64mb", maxmemoryPolicy: "allkeys-lru" }
        : scenario === "redis-down" || scenario === "rogue"
          ? { persistent: true }
          : {};
  const redisLabel =
    scenario === "kill9-stock"
      ? "stock: snapshots, no AOF"
      : scenario === "allkeys-lru"
        ? "maxmemory 64mb, allkeys-lru"
        : scenario === "no-aof-restart"
          ? "no AOF, no snapshots"
          : "AOF (appendfsync always)";
  let redis: RedisServer = await startRedisServer(redisOptions);
  const name = `faults-${scenario}`;
  const provers: ProverProcess[] = [];
  const result: FaultResult = {
    scenario,
    redis: redisLabel,
    records: RECORDS,
    submitted: 0,
    accepted: 0,
    refused: 0,
    refusedCodes: {},
    delivered: 0,
    verified: 0,
    forged: 0,
    failed: 0,
    failedCodes: {},
    lost: 0,
    duplicates: 0,
    recoveryS: null,
    refusalMaxMs: 0,
    totalS: 0,
    readded: 0,
    resultsRefused: 0,
  };
  const queue: ProofQueue = createProofQueue({
    connection: redis.url,
    name,
    storage,
    recordDir: RECORDS ? path.join(work, "records") : false,
    pollMs: 250,
    backoffMs: 200,
    attempts: scenario === "rogue" ? 6 : 3,
    redisTimeoutMs: 2_000,
    onWarning: (w) => log(`  warning ${w.code}: ${w.message}`),
  });
  const raw = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1, lazyConnect: true });
  raw.on("error", () => undefined);
  let rogueW: Worker | undefined;
  const start = performance.now();
  try {
    const health = await queue.ready().catch((error: unknown) => error);
    if (isVerinferError(health)) {
      // Refused at start: every submission is refused with the same typed error; nothing is accepted.
      for (let i = 0; i < JOBS; i++) {
        result.submitted++;
        const t = performance.now();
        const error = await queue.submit(await statement(pkg, i)).then(
          () => undefined,
          (e: unknown) => e,
        );
        result.refusalMaxMs = Math.max(result.refusalMaxMs, performance.now() - t);
        if (error) {
          result.refused++;
          count(result.refusedCodes, error);
        } else result.accepted++;
      }
      result.lost = result.accepted;
      return result;
    }
    const dist = path.join(packageRoot(), "dist", "cli", "main.js");
    for (let k = 0; k < PROVERS; k++) {
      provers.push(
        await spawnProver({
          redisUrl: redis.url,
          storageDir,
          cacheDir: path.join(work, `prover-${k}`),
          queue: name,
          name: `prover-${k}`,
          lockDurationMs: 10_000,
          stalledIntervalMs: 5_000,
          cli: dist,
        }),
      );
    }
    let rogueManifest: string | undefined;
    if (scenario === "rogue" && rogue) {
      rogueManifest = (await putModelPackage(storage, rogue)).manifestCid;
      rogueW = rogueWorker(redis.port, name, rogue, rogueManifest);
    }
    const tracked: Tracked[] = [];
    const submit = async (i: number) => {
      result.submitted++;
      const t = performance.now();
      try {
        const handle = await queue.submit(await statement(pkg, i));
        result.accepted++;
        const entry: Tracked = { jobId: handle.jobId, receipt: undefined, error: undefined, done: false };
        tracked.push(entry);
        handle.receipt.then(
          (r) => {
            entry.receipt = r;
            entry.done = true;
          },
          (e: unknown) => {
            entry.error = e;
            entry.done = true;
          },
        );
      } catch (error) {
        result.refused++;
        result.refusalMaxMs = Math.max(result.refusalMaxMs, performance.now() - t);
        count(result.refusedCodes, error);
      }
    };
    const firstBatch = scenario === "redis-down" ? Math.ceil(JOBS / 2) : JOBS;
    for (let i = 0; i < firstBatch; i++) await submit(i);

    let faultAt: number | undefined;
    let backAt: number | undefined;
    if (scenario === "no-aof-restart" || scenario === "kill9-stock" || scenario === "redis-down") {
      // The fault strikes once a quarter of the accepted jobs are proven (or at once for redis-down).
      const quarter = scenario === "redis-down" ? 0 : Math.ceil(result.accepted / 4);
      while (tracked.filter((t) => t.done).length < quarter && performance.now() - start < DEADLINE_MS) {
        await sleep(50);
      }
      faultAt = performance.now();
      log(`  fault at ${((faultAt - start) / 1000).toFixed(1)} s (${tracked.filter((t) => t.done).length} done)`);
      if (scenario === "kill9-stock") await redis.kill9();
      else await redis.stop();
      if (scenario === "redis-down") {
        const downUntil = performance.now() + 10_000;
        const late = [];
        for (let i = firstBatch; i < JOBS; i++) late.push(submit(i));
        await Promise.all(late);
        await sleep(Math.max(0, downUntil - performance.now()));
      }
      redis = await startRedisServer({ ...redisOptions, dir: redis.dir, port: redis.port });
      backAt = performance.now();
    }

    // Recovery: every accepted job not delivered yet is back in Redis (or delivered).
    await raw.connect().catch(() => undefined);
    const deadline = start + DEADLINE_MS;
    while (performance.now() < deadline) {
      if (backAt !== undefined && result.recoveryS === null) {
        let back = true;
        for (const t of tracked) {
          // Delivered or failed with a typed error: settled. Rejected NOT_FOUND: the queue lost it, never back.
          if (t.done && !isVerinferError(t.error, "NOT_FOUND")) continue;
          const exists = await raw.exists(`bull:${name}:${t.jobId}`).catch(() => 0);
          if (!exists) {
            back = false;
            break;
          }
        }
        if (back) result.recoveryS = (performance.now() - backAt) / 1000;
      }
      if (tracked.every((t) => t.done)) break;
      await sleep(100);
    }
    result.totalS = (performance.now() - start) / 1000;
    for (const t of tracked) {
      if (t.receipt) {
        result.delivered++;
        const ok = (await verifyReceipt(t.receipt, { modelPackage: pkg })).valid;
        if (ok) result.verified++;
        else if (rogue && (await verifyReceipt(t.receipt, { modelPackage: rogue })).valid) result.forged++;
      } else if (t.done && isVerinferError(t.error) && t.error.code !== "NOT_FOUND") {
        result.failed++;
        count(result.failedCodes, t.error);
      }
    }
    // Lost: accepted, and neither a receipt nor a typed failure (NOT_FOUND: the queue lost it; or never answered).
    result.lost = result.accepted - result.delivered - result.failed;
    const proofs = new Map<string, number>();
    for (const p of provers) {
      for (const l of p.lines)
        if (l.type === "completed" && l.jobId) proofs.set(l.jobId, (proofs.get(l.jobId) ?? 0) + 1);
    }
    for (const n of proofs.values()) result.duplicates += Math.max(0, n - 1);
    const stats = await queue.stats().catch(() => undefined);
    result.readded = stats?.readded ?? 0;
    result.resultsRefused = stats?.refused ?? 0;
    return result;
  } finally {
    if (result.totalS === 0) result.totalS = (performance.now() - start) / 1000;
    await rogueW?.close().catch(() => undefined);
    await queue.close();
    raw.disconnect();
    await Promise.allSettled(provers.map((p) => p.stop()));
    await redis.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

function fmtCodes(codes: Record<string, number>): string {
  const entries = Object.entries(codes);
  return entries.length === 0 ? "" : ` (${entries.map(([c, n]) => `${c} ${n}`).join(", ")})`;
}

const loadAtStart = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");

async function main(): Promise<void> {
  const cacheDir = resolveCacheDir();
  const pkg = await demoModel(cacheDir);
  let rogue: ModelPackage | undefined;
  if (scenarios.includes("rogue")) {
    // The rogue's own package of the demo model: same id, its own phase-2 randomness, so another key.
    const ptau = await ensureDevPtau({ power: pkg.manifest.setup.ptauPower, cacheDir });
    const rogueCache = await mkdtemp(path.join(os.tmpdir(), "verinfer-faults-rogue-"));
    const modelDir = path.join(packageRoot(), "examples", "models", "demo-glyphs");
    const calibration = (
      JSON.parse(readFileSync(path.join(modelDir, "samples.json"), "utf8")) as { calibration: number[][] }
    ).calibration;
    rogue = await compileModel(modelDir, { calibration, cacheDir: rogueCache, ptau: ptau.file, quiet: true });
    if (rogue.id !== pkg.id || rogue.vkeyCid === pkg.vkeyCid) throw new Error("the rogue package is not another key");
  }
  const results: FaultResult[] = [];
  for (const scenario of scenarios) {
    log(`${scenario}: ${JOBS} jobs, ${PROVERS} prover process(es), records ${RECORDS ? "on" : "off"}`);
    const r = await runScenario(scenario, pkg, rogue);
    results.push(r);
    log(`  ${JSON.stringify(r)}`);
  }
  const load = `${loadAtStart} → ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`;
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ jobs: JOBS, provers: PROVERS, records: RECORDS, load, results }, null, 2)}\n`,
    );
  } else {
    const rows = results.map(
      (r) =>
        `| ${r.scenario} | ${r.redis} | ${r.submitted} | ${r.accepted} | ${r.refused}${fmtCodes(r.refusedCodes)} | ${r.delivered} | ${r.verified} | ${r.forged} | ${r.failed}${fmtCodes(r.failedCodes)} | **${r.lost}** | ${r.duplicates} | ${r.recoveryS === null ? "—" : `${r.recoveryS.toFixed(1)} s`} | ${r.refused > 0 ? `${(r.refusalMaxMs / 1000).toFixed(1)} s` : "—"} |`,
    );
    process.stdout.write(
      [
        "| scenario | Redis | submitted | accepted | refused | delivered | verified | forged | failed | lost | duplicates | recovery | longest refusal |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ...rows,
        "",
        `load average (start → end): ${load}`,
        "",
      ].join("\n"),
    );
  }
  if (results.some((r) => r.lost > 0 || r.forged > 0)) process.exitCode = 1;
}

// snarkjs's curve keeps worker threads alive (verifyReceipt): exit once the report is out.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
