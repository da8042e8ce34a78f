/**
 * `npm run load:cluster [-- --json] [-- --out report.json] [-- --requests 1000] [-- --concurrency 100]
 *  [-- --provers 1,2] [-- --workers-per-prover 1] [-- --max-depth 256] [-- --kill-every-s 20]
 *  [-- --runs pool,cluster,kill] [-- --deadline-s 900] [-- --lock-ms 10000] [-- --max-stalled 2]`
 *
 * A proof cluster on this machine, over loopback only: a redis-server of its own (free port, temp dir), K
 * prover processes (`verinfer prover`, `--workers-per-prover` W prover threads each: W = 1 stands for a
 * one-core prover machine) and one inference-node process
 * (examples/inference-node with `VERINFER_REDIS_URL`), the demo model. The client (this process) fires
 * `--requests` POST /infer requests, `--concurrency` at a time, fetches every receipt back by its CID (the bytes
 * must hash to it) and verifies it with `verifyReceipt`.
 *
 * Runs, for each K of `--provers`: `pool` (the same node process with an in-process prover pool of K×W threads:
 * the baseline on the same cores) and `cluster`; then `kill`: the cluster with the largest K while the oldest
 * prover is killed with SIGKILL every `--kill-every-s` and a new one started in its place (as a supervisor
 * would); a tick is skipped while fewer than K provers are up. Provers lock jobs for `--lock-ms` (stalled
 * check at half of it) and allow `--max-stalled` redeliveries.
 *
 * Reports per run: ok / rejected (429 OVERLOADED) / errors (typed) / lost (anything else: no answer, or a
 * receipt that does not verify) / verified, proofs/s, p50/p99 latency, peak RSS (VmHWM) of every process, the
 * load average; then the ratios cluster K=2 / K=1 and cluster / pool, and the issue's targets (lost = 0, every
 * receipt verified, K=2 ≥ 1.8× K=1, cluster ≥ 0.9× pool) each marked met or not. Exit code 1 when any run lost
 * a request.
 *
 * The load generator stays off the provers' cores while it is timed: its clients only send requests and keep
 * the answers; fetching every receipt back by CID and verifying it (a pairing check each) happens after the
 * run's clock has stopped (`verifyS` reports how long it took). The inference node does verify every proof a
 * prover returns before it answers (`verifyProofs`, on by default): that is part of the cluster's cost, and the
 * pool baseline does not pay it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { setMaxListeners } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { collectJob } from "../examples/inference-node/collect-job.js";
import { demoModel } from "../examples/inference-node/server.js";
import { cidOf, ERROR_CODES, type ModelPackage, type Receipt, verifyReceipt } from "../src/index.js";
import { packageRoot } from "../src/util/package-root.js";
import { type ProverProcess, spawnProver } from "../test/prover-process.js";
import { freePort, type RedisServer, startRedisServer } from "../test/redis-server.js";

/** One run's line of the JSON report. */
export interface ClusterRunResult {
  run: "pool" | "cluster" | "kill";
  provers: number;
  /** Prover threads: per prover process (cluster, kill), or in the node's own pool (pool: K×W). */
  workers: number;
  requests: number;
  ok: number;
  rejected: number;
  errors: number;
  lost: number;
  verified: number;
  proofsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  proveMsP50: number;
  wallS: number;
  /** Fetching and verifying the receipts, after the timed window. */
  verifyS: number;
  /** Peak resident memory (VmHWM) of each process, MB. */
  peakRssMb: Record<string, number>;
  /** Provers killed (kill run), and kill ticks skipped while a replacement was still starting. */
  killed: number;
  killTicksSkipped: number;
  /** Jobs BullMQ redelivered (from the node's /health). */
  redelivered: number;
  loadAvgStart: number;
  loadAvgEnd: number;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const KNOWN_CODES = new Set<string>(ERROR_CODES);

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/** Peak resident set of a process (VmHWM), MB; 0 when it is gone. */
function peakRssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
    return round(kb / 1024, 0);
  } catch {
    return 0;
  }
}

function options() {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "100" },
      provers: { type: "string", default: "1,2" },
      "workers-per-prover": { type: "string", default: "1" },
      out: { type: "string" },
      "max-depth": { type: "string", default: "256" },
      "kill-every-s": { type: "string", default: "20" },
      runs: { type: "string", default: "pool,cluster,kill" },
      "deadline-s": { type: "string", default: "900" },
      "lock-ms": { type: "string", default: "10000" },
      "max-stalled": { type: "string", default: "2" },
      json: { type: "boolean", default: false },
    },
  });
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  return {
    requests: int("requests", values.requests, 1),
    concurrency: int("concurrency", values.concurrency, 1),
    provers: values.provers.split(",").map((k) => int("provers", k, 1)),
    workersPerProver: int("workers-per-prover", values["workers-per-prover"], 1),
    out: values.out,
    maxDepth: int("max-depth", values["max-depth"], 1),
    killEveryMs: int("kill-every-s", values["kill-every-s"], 1) * 1000,
    runs: new Set(values.runs.split(",")),
    deadlineMs: int("deadline-s", values["deadline-s"], 1) * 1000,
    lockMs: int("lock-ms", values["lock-ms"], 500),
    maxStalled: int("max-stalled", values["max-stalled"], 0),
    json: values.json,
  };
}
type Options = ReturnType<typeof options>;

interface NodeProcess {
  child: ChildProcess;
  base: string;
  stop(): Promise<void>;
}

/** Starts examples/inference-node (built) as a process and waits for /health. */
async function startNode(env: Record<string, string>, cacheDir: string): Promise<NodeProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(packageRoot(), "build", "examples", "inference-node", "server.js")],
    {
      stdio: ["ignore", "ignore", "pipe"],
      // One client sends every request: the node's per-client write quota would throttle the load it measures.
      env: {
        ...process.env,
        ...env,
        PORT: String(port),
        VERINFER_CACHE: cacheDir,
        VERINFER_LOG: "off",
        VERINFER_CLIENT_QUOTA: "off",
      },
    },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the inference node exited: ${stderr}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the inference node did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    child,
    base,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Outcome {
  kind: "ok" | "rejected" | "error" | "lost";
  ms: number;
  cid?: string;
  receipt?: Receipt;
  why?: string;
}

/**
 * POST /infer over node:http: unlike fetch (undici gives up on a response whose headers take over 300 s), it
 * waits as long as the node holds the request — a queued proof may wait minutes on a busy machine.
 */
function post(base: string, body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${base}/infer`,
      { method: "POST", headers: { "content-type": "application/json" }, signal },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Fires the requests and verifies every receipt; → counts and latencies. */
async function load(base: string, pkg: ModelPackage, inputs: number[][], opts: Options) {
  const deadline = new AbortController();
  setMaxListeners(opts.concurrency + 10, deadline.signal);
  const timer = setTimeout(() => deadline.abort(), opts.deadlineMs);
  const outcomes: Outcome[] = [];
  let next = 0;
  const t0 = performance.now();
  const client = async () => {
    for (let i = next++; i < opts.requests; i = next++) {
      if (deadline.signal.aborted) {
        outcomes.push({ kind: "lost", ms: 0, why: "deadline" });
        continue;
      }
      const start = performance.now();
      try {
        const body0 = JSON.stringify({ modelId: pkg.id, input: inputs[i % inputs.length], mode: "zk" });
        const response = await post(base, body0, deadline.signal);
        const text = response.text;
        const ms = performance.now() - start;
        let body: { cid?: string; receipt?: Receipt; code?: unknown; statusUrl?: string } | undefined;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (response.status === 202 && typeof body?.statusUrl === "string") {
          // Past the node's wait budget: the client holds the job's handle and collects the receipt by it.
          const job = await collectJob(`${base}${body.statusUrl}`, deadline.signal);
          const done = performance.now() - start;
          if (job.cid && job.receipt) outcomes.push({ kind: "ok", ms: done, cid: job.cid, receipt: job.receipt });
          else outcomes.push({ kind: "lost", ms: done, why: `job ${body.statusUrl}: ${job.why}` });
        } else if (response.status === 200 && body?.cid && body.receipt) {
          outcomes.push({ kind: "ok", ms, cid: body.cid, receipt: body.receipt });
        } else if (response.status === 429 && body?.code === "OVERLOADED") {
          outcomes.push({ kind: "rejected", ms });
        } else if (typeof body?.code === "string" && KNOWN_CODES.has(body.code)) {
          outcomes.push({ kind: "error", ms, why: `${response.status} ${body.code}` });
        } else {
          outcomes.push({ kind: "lost", ms, why: `${response.status} ${text.slice(0, 200)}` });
        }
      } catch (error) {
        outcomes.push({ kind: "lost", ms: performance.now() - start, why: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, client));
  const wallS = (performance.now() - t0) / 1000;
  clearTimeout(timer);
  // The clock has stopped: receipts are fetched and verified now, not while the provers are being timed.
  const v0 = performance.now();
  let verified = 0;
  for (const o of outcomes.filter((x) => x.kind === "ok")) {
    const back = await fetch(`${base}/receipts/${o.cid}`);
    const bytes = new Uint8Array(await back.arrayBuffer());
    const stored =
      back.status === 200 && cidOf(bytes) === o.cid
        ? (JSON.parse(new TextDecoder().decode(bytes)) as Receipt)
        : undefined;
    const result = stored ? await verifyReceipt(stored, { modelPackage: pkg, requireMode: "zk" }) : { valid: false };
    if (result.valid) verified++;
    else {
      o.kind = "lost";
      o.why = "receipt does not verify";
    }
  }
  const verifyS = (performance.now() - v0) / 1000;
  const count = (kind: Outcome["kind"]) => outcomes.filter((o) => o.kind === kind).length;
  const ok = outcomes.filter((o) => o.kind === "ok");
  const whys = [...new Set(outcomes.filter((o) => o.kind !== "ok" && o.kind !== "rejected").map((o) => o.why))];
  return {
    ok: ok.length,
    rejected: count("rejected"),
    errors: count("error"),
    lost: opts.requests - verified - count("rejected") - count("error"),
    verified,
    proofsPerSec: round(ok.length / wallS, 2),
    p50Ms: round(
      percentile(
        ok.map((o) => o.ms),
        50,
      ),
    ),
    p99Ms: round(
      percentile(
        ok.map((o) => o.ms),
        99,
      ),
    ),
    proveMsP50: round(
      percentile(
        ok.flatMap((o) => o.receipt?.timings.proveMs ?? []),
        50,
      ),
    ),
    wallS: round(wallS, 2),
    verifyS: round(verifyS, 2),
    whys: whys.slice(0, 5),
  };
}

async function warmUp(base: string, pkg: ModelPackage, inputs: number[][], n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      post(
        base,
        JSON.stringify({ modelId: pkg.id, input: inputs[i % inputs.length], mode: "zk" }),
        AbortSignal.timeout(600_000),
      ),
    ),
  );
}

async function run(
  kind: ClusterRunResult["run"],
  k: number,
  opts: Options,
  ctx: { pkg: ModelPackage; inputs: number[][]; cacheDir: string; work: string },
  log: (m: string) => void,
): Promise<ClusterRunResult> {
  const loadAvgStart = round(os.loadavg()[0] as number, 2);
  const peaks: Record<string, number> = {};
  let redis: RedisServer | undefined;
  const provers: ProverProcess[] = [];
  let node: NodeProcess | undefined;
  let killer: NodeJS.Timeout | undefined;
  // The kill run's clock of kills starts with the timed requests, not during the warm-up.
  let startKiller: (() => void) | undefined;
  let killed = 0;
  let skipped = 0;
  try {
    let env: Record<string, string>;
    if (kind === "pool") {
      env = { VERINFER_WORKERS: String(k * opts.workersPerProver) };
    } else {
      redis = await startRedisServer({ persistent: true });
      const storageDir = path.join(ctx.work, `objects-${kind}-${k}`);
      await mkdir(storageDir, { recursive: true });
      let serial = 0;
      const spawnOne = async () => {
        const name = `prover-${++serial}`;
        const p = await spawnProver({
          redisUrl: redis?.url as string,
          storageDir,
          cacheDir: path.join(ctx.work, `cache-${kind}-${k}-${name}`),
          queue: "bench",
          name,
          workers: opts.workersPerProver,
          lockDurationMs: opts.lockMs,
          stalledIntervalMs: Math.max(500, Math.round(opts.lockMs / 2)),
          maxStalled: opts.maxStalled,
          cli: path.join(packageRoot(), "build", "src", "cli", "main.js"),
        });
        provers.push(p);
        return p;
      };
      await Promise.all(Array.from({ length: k }, spawnOne));
      env = {
        VERINFER_REDIS_URL: redis.url,
        VERINFER_STORAGE: storageDir,
        VERINFER_MAX_DEPTH: String(opts.maxDepth),
        VERINFER_QUEUE_NAME: "bench",
      };
      if (kind === "kill") {
        startKiller = () => {
          killer = setInterval(() => {
            // The longest-running prover goes; a tick is skipped while the last victim's replacement is still
            // starting (fewer than K up), so one prover is always proving.
            const live = provers.filter((p) => !p.exited);
            if (live.length < k) {
              skipped++;
              return;
            }
            const victim = live[0];
            if (!victim) return;
            peaks[victim.name] = peakRssMb(victim.pid);
            killed++;
            log(`  kill -9 ${victim.name} (pid ${victim.pid}); starting a replacement`);
            void victim.kill9().then(spawnOne);
          }, opts.killEveryMs);
        };
      }
    }
    node = await startNode(
      { ...env, ...(kind === "pool" ? {} : { VERINFER_WORKERS: "0" }), VERINFER_MAX_IN_FLIGHT: String(opts.maxDepth) },
      ctx.cacheDir,
    );
    log(`${kind} K=${k} W=${opts.workersPerProver}: warming up…`);
    await warmUp(node.base, ctx.pkg, ctx.inputs, 2 * k * opts.workersPerProver);
    log(`${kind} K=${k}: ${opts.requests} requests, ${opts.concurrency} at a time…`);
    startKiller?.();
    const result = await load(node.base, ctx.pkg, ctx.inputs, opts);
    if (killer) clearInterval(killer);
    const health = (await (await fetch(`${node.base}/health`)).json()) as { queue?: { redelivered: number } };
    peaks.node = peakRssMb(node.child.pid);
    for (const p of provers) if (!p.exited) peaks[p.name] = peakRssMb(p.pid);
    if (redis) peaks.redis = peakRssMb(redis.pid);
    // On stderr even with --json: why a request was not answered with a verified receipt.
    if (result.whys.length > 0) console.error(`${kind} K=${k} not ok: ${result.whys.join(" | ")}`);
    const { whys: _whys, ...counts } = result;
    return {
      run: kind,
      provers: k,
      workers: kind === "pool" ? k * opts.workersPerProver : opts.workersPerProver,
      requests: opts.requests,
      ...counts,
      peakRssMb: peaks,
      killed,
      killTicksSkipped: skipped,
      redelivered: health.queue?.redelivered ?? 0,
      loadAvgStart,
      loadAvgEnd: round(os.loadavg()[0] as number, 2),
    };
  } finally {
    if (killer) clearInterval(killer);
    await node?.stop();
    await Promise.allSettled(provers.map((p) => p.stop()));
    await redis?.destroy();
  }
}

async function main(): Promise<void> {
  const loadAvgBefore = round(os.loadavg()[0] as number, 2);
  const opts = options();
  const log = (m: string) => {
    if (!opts.json) console.error(m);
  };
  const inputs = (
    JSON.parse(readFileSync(path.join(packageRoot(), "examples", "models", "demo-glyphs", "samples.json"), "utf8")) as {
      inputs: number[][];
    }
  ).inputs;
  const cacheDir = path.join(packageRoot(), ".verinfer-cache", "bench-cluster");
  const pkg = await demoModel(cacheDir);
  const work = await mkdtemp(path.join(os.tmpdir(), "verinfer-cluster-"));
  const results: ClusterRunResult[] = [];
  try {
    for (const k of opts.provers) {
      for (const kind of ["pool", "cluster"] as const) {
        if (opts.runs.has(kind)) results.push(await run(kind, k, opts, { pkg, inputs, cacheDir, work }, log));
      }
    }
    if (opts.runs.has("kill")) {
      const k = Math.max(...opts.provers, 2);
      results.push(await run("kill", k, opts, { pkg, inputs, cacheDir, work }, log));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const find = (run: string, k: number) => results.find((r) => r.run === run && r.provers === k)?.proofsPerSec;
  const ratios: Record<string, number> = {};
  const c1 = find("cluster", 1);
  const c2 = find("cluster", 2);
  if (c1 && c2) ratios.clusterK2OverK1 = round(c2 / c1, 2);
  for (const k of opts.provers) {
    const c = find("cluster", k);
    const p = find("pool", k);
    if (c && p) ratios[`clusterOverPoolK${k}`] = round(c / p, 2);
  }
  const clusterRuns = results.filter((r) => r.run !== "pool");
  const targets = {
    lostZero: results.every((r) => r.lost === 0),
    everyReceiptVerified: results.every((r) => r.verified === r.ok),
    ...(ratios.clusterK2OverK1 === undefined ? {} : { k2AtLeast1_8xK1: ratios.clusterK2OverK1 >= 1.8 }),
    ...(Object.keys(ratios).some((k) => k.startsWith("clusterOverPool"))
      ? {
          clusterAtLeast0_9xPool: Object.entries(ratios)
            .filter(([k]) => k.startsWith("clusterOverPool"))
            .every(([, v]) => v >= 0.9),
        }
      : {}),
    killRunLostZero: clusterRuns.filter((r) => r.run === "kill").every((r) => r.lost === 0),
  };
  const report = {
    config: {
      requests: opts.requests,
      concurrency: opts.concurrency,
      provers: opts.provers,
      workersPerProver: opts.workersPerProver,
      maxDepth: opts.maxDepth,
      killEveryS: opts.killEveryMs / 1000,
      lockMs: opts.lockMs,
      runs: [...opts.runs],
    },
    results,
    ratios,
    targets,
    cores: os.availableParallelism(),
    loadAvgBefore,
    at: new Date().toISOString(),
  };
  if (opts.out) writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  if (opts.json) console.log(JSON.stringify(report));
  else {
    console.table(results.map(({ peakRssMb: peaks, ...r }) => ({ ...r, peakRssMb: JSON.stringify(peaks) })));
    console.table([ratios]);
    console.table([targets]);
  }
  process.exit(results.every((r) => r.lost === 0) ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
