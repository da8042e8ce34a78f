/**
 * `npm run load [-- --json] [-- --requests 500] [-- --concurrency 500] [-- --workers 2] [-- --max-queue 254]
 *  [-- --mode zk|none|mixed] [-- --deadline-s 240]`
 *
 * Starts the inference node (examples/inference-node) on 127.0.0.1 — loopback only — with the demo model and a
 * prover pool of `--workers` threads (0: prove in the server's thread), fires `--requests` POST /infer requests
 * with at most `--concurrency` open at once, and stops by itself at the deadline (requests still open then are
 * aborted and count as lost). Every 200 answer's receipt is fetched back by its CID, checked to hash to that
 * CID, and verified: zk receipts with `verifyReceipt`, `none` receipts (`--mode mixed`) by `reexecute` with the
 * salts the node kept.
 *
 * Prints a table, or with --json one line: `{ requests, ok, rejected, errors, lost, verified, p50Ms, p99Ms,
 * proofsPerSec, peakRssMb, … }`. A 202 (the proof outlasted the node's wait budget) is followed by polling
 * `GET /jobs/:id` and counts as ok once collected (`handles` counts them). `rejected` are 429s with `Retry-After`
 * and code OVERLOADED; `errors` are
 * other answers with a typed error code; `lost` is everything else — no answer, an untyped failure, or a 200
 * whose receipt does not verify — and must be 0 (the exit code is 1 otherwise). Latencies are of the 200
 * answers; `peakRssMb` is this process's peak, which holds the server, its prover threads and the client.
 */

import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { collectJob } from "../examples/inference-node/collect-job.js";
import { buildServer, demoModel } from "../examples/inference-node/server.js";
import {
  canonicalJson,
  cidOf,
  createProverPool,
  ERROR_CODES,
  FsStorage,
  type Receipt,
  type ReceiptMode,
  reexecute,
  verifyReceipt,
} from "../src/index.js";
import { packageRoot } from "../src/util/package-root.js";

/** The JSON line `npm run load -- --json` prints. */
export interface LoadTestResult {
  requests: number;
  ok: number;
  rejected: number;
  /** Requests answered 202 (the proof outlasted the node's wait budget) and collected by their job id. */
  handles: number;
  errors: number;
  lost: number;
  verified: number;
  p50Ms: number;
  p99Ms: number;
  /** zk receipts (each a Groth16 proof) answered per second of the load phase. */
  proofsPerSec: number;
  /** Receipts of any mode answered per second of the load phase. */
  receiptsPerSec: number;
  peakRssMb: number;
  workers: number;
  maxQueue: number;
  concurrency: number;
  mode: string;
  wallS: number;
  /** The 99th percentile of the 429 answers: how fast a full node says so. */
  rejectedP99Ms: number;
  /** Requests still unanswered when the deadline hit. */
  timedOut: number;
  /** Median time on the prover (witness + Groth16) of the zk receipts, from their timings. */
  proveMsP50: number;
}

interface Outcome {
  kind: "ok" | "rejected" | "error" | "lost";
  ms: number;
  /** The node answered 202 with the job's handle first; the receipt came from `GET /jobs/:id`. */
  handle?: boolean;
  cid?: string;
  receipt?: Receipt;
  index: number;
  why?: string;
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
const KNOWN_CODES = new Set<string>([...ERROR_CODES, "NOT_FOUND"]);

function options() {
  const { values } = parseArgs({
    options: {
      requests: { type: "string", default: "500" },
      concurrency: { type: "string" },
      workers: { type: "string", default: "2" },
      "max-queue": { type: "string" },
      mode: { type: "string", default: "zk" },
      "deadline-s": { type: "string", default: "240" },
      json: { type: "boolean", default: false },
    },
  });
  const int = (name: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const requests = int("requests", values.requests, 1);
  const workers = int("workers", values.workers, 0);
  const mode = values.mode;
  if (!["zk", "none", "mixed"].includes(mode)) throw new Error("--mode must be zk, none or mixed");
  return {
    requests,
    concurrency: int("concurrency", values.concurrency ?? String(requests), 1),
    workers,
    // Default: about half of 500 concurrent requests fit; the rest are refused at once.
    maxQueue: int("max-queue", values["max-queue"] ?? String(Math.max(0, 256 - workers)), 0),
    mode: mode as "zk" | "none" | "mixed",
    deadlineMs: int("deadline-s", values["deadline-s"], 1) * 1000,
    json: values.json,
  };
}

/** Runs the load test; → its result line. */
export async function runLoadTest(opts: ReturnType<typeof options>): Promise<LoadTestResult> {
  const log = (m: string) => {
    if (!opts.json) console.error(m);
  };
  const samples = JSON.parse(
    readFileSync(path.join(packageRoot(), "examples", "models", "demo-glyphs", "samples.json"), "utf8"),
  ) as { inputs: number[][] };
  const pkg = await demoModel();
  const work = await mkdtemp(path.join(os.tmpdir(), "verinfer-load-"));
  const pool =
    opts.workers > 0
      ? createProverPool({ workers: opts.workers, maxQueue: opts.maxQueue, jobTimeoutMs: 60_000 })
      : undefined;
  const storage = new FsStorage(path.join(work, "objects"));
  const app = await buildServer({
    models: [pkg],
    storage,
    pool,
    saltsDir: path.join(work, "salts"),
    jobsDir: path.join(work, "jobs"),
    ...(pool ? {} : { maxInFlight: opts.workers + opts.maxQueue || 1 }),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const inputOf = (i: number) => samples.inputs[i % samples.inputs.length] as number[];
  const modeOf = (i: number): ReceiptMode => (opts.mode === "mixed" ? (i % 2 ? "none" : "zk") : opts.mode);

  const post = (i: number, signal: AbortSignal) =>
    fetch(`${base}/infer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ modelId: pkg.id, input: inputOf(i), mode: modeOf(i) }),
      signal,
    });

  try {
    // Warm-up, one request per worker, not counted: each worker reads the zkey and builds its curve once.
    log(`warming up ${Math.max(1, opts.workers)} worker(s)…`);
    await Promise.all(
      Array.from({ length: Math.max(1, opts.workers) }, (_, i) => post(i, AbortSignal.timeout(60_000))),
    );

    log(`${opts.requests} requests, ${opts.concurrency} at a time, deadline ${opts.deadlineMs / 1000} s…`);
    const deadline = new AbortController();
    setMaxListeners(opts.concurrency + 10, deadline.signal);
    const timer = setTimeout(() => deadline.abort(), opts.deadlineMs);
    const outcomes: Outcome[] = [];
    let next = 0;
    const t0 = performance.now();
    const client = async () => {
      for (let i = next++; i < opts.requests; i = next++) {
        if (deadline.signal.aborted) {
          outcomes.push({ kind: "lost", ms: 0, index: i, why: "not sent before the deadline" });
          continue;
        }
        const start = performance.now();
        try {
          // One signal per request, tied to the deadline: fetch leaves a listener on the signal it is given.
          const request = new AbortController();
          const abort = () => request.abort();
          deadline.signal.addEventListener("abort", abort, { once: true });
          let response: Response;
          let text: string;
          try {
            response = await post(i, request.signal);
            text = await response.text();
          } finally {
            deadline.signal.removeEventListener("abort", abort);
          }
          const ms = performance.now() - start;
          let body: { cid?: string; receipt?: Receipt; code?: unknown; statusUrl?: string } | undefined;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          if (response.status === 202 && typeof body?.statusUrl === "string") {
            // Accepted past the node's wait budget: the client holds the job's handle and collects it.
            const job = await collectJob(`${base}${body.statusUrl}`, deadline.signal);
            const done = performance.now() - start;
            if (job.cid && job.receipt) {
              outcomes.push({ kind: "ok", ms: done, cid: job.cid, receipt: job.receipt, index: i, handle: true });
            } else outcomes.push({ kind: "lost", ms: done, index: i, why: `job ${body.statusUrl}: ${job.why}` });
          } else if (response.status === 200 && body?.cid && body.receipt) {
            outcomes.push({ kind: "ok", ms, cid: body.cid, receipt: body.receipt, index: i });
          } else if (response.status === 429 && response.headers.get("retry-after") && body?.code === "OVERLOADED") {
            outcomes.push({ kind: "rejected", ms, index: i });
          } else if (typeof body?.code === "string" && KNOWN_CODES.has(body.code)) {
            outcomes.push({ kind: "error", ms, index: i, why: `${response.status} ${body.code}` });
          } else {
            outcomes.push({ kind: "lost", ms, index: i, why: `${response.status} ${text.slice(0, 200)}` });
          }
        } catch (error) {
          const why = deadline.signal.aborted ? "deadline" : String(error);
          outcomes.push({ kind: "lost", ms: performance.now() - start, index: i, why });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, client));
    const wallS = (performance.now() - t0) / 1000;
    clearTimeout(timer);
    const timedOut = outcomes.filter((o) => o.why === "deadline" || o.why === "not sent before the deadline").length;

    // Every receipt back by its CID: the bytes must hash to it and parse to the receipt we were given.
    log("fetching and verifying receipts…");
    const ok = outcomes.filter((o) => o.kind === "ok");
    let verified = 0;
    const failures: string[] = [];
    for (const o of ok) {
      const receipt = o.receipt as Receipt;
      const back = await fetch(`${base}/receipts/${o.cid}`);
      const bytes = new Uint8Array(await back.arrayBuffer());
      if (back.status !== 200 || cidOf(bytes) !== o.cid) {
        failures.push(`request ${o.index}: GET /receipts/${o.cid} → ${back.status}`);
        o.kind = "lost";
        continue;
      }
      const stored = JSON.parse(new TextDecoder().decode(bytes)) as Receipt;
      let result: { valid: boolean; reason?: string };
      if (receipt.mode === "none") {
        const saltsFile = path.join(work, "salts", `${o.cid}.json`);
        const salts = JSON.parse(readFileSync(saltsFile, "utf8")) as { input: string; output: string };
        result = await reexecute(stored, { modelPackage: pkg, input: inputOf(o.index), salts });
      } else {
        result = await verifyReceipt(stored, { modelPackage: pkg, requireMode: "zk" });
      }
      if (result.valid && cidOf(utf8(canonicalJson(receipt))) === o.cid) verified++;
      else {
        failures.push(`request ${o.index}: ${result.reason ?? "the receipt answered is not the one stored"}`);
        o.kind = "lost";
      }
    }
    for (const f of failures.slice(0, 10)) log(`  not verified: ${f}`);
    for (const o of outcomes.filter((x) => x.kind === "lost").slice(0, 10)) log(`  lost: ${o.index} ${o.why}`);

    const count = (kind: Outcome["kind"]) => outcomes.filter((o) => o.kind === kind).length;
    const okMs = ok.map((o) => o.ms);
    const rejectedMs = outcomes.filter((o) => o.kind === "rejected").map((o) => o.ms);
    return {
      requests: opts.requests,
      ok: ok.length,
      rejected: count("rejected"),
      handles: outcomes.filter((o) => o.handle).length,
      errors: count("error"),
      lost: opts.requests - verified - count("rejected") - count("error"),
      verified,
      p50Ms: round(percentile(okMs, 50)),
      p99Ms: round(percentile(okMs, 99)),
      proofsPerSec: round(ok.filter((o) => o.receipt?.mode === "zk").length / wallS, 2),
      receiptsPerSec: round(ok.length / wallS, 2),
      peakRssMb: round(process.resourceUsage().maxRSS / 1024, 0),
      workers: opts.workers,
      maxQueue: opts.maxQueue,
      concurrency: opts.concurrency,
      mode: opts.mode,
      wallS: round(wallS, 2),
      rejectedP99Ms: round(percentile(rejectedMs, 99)),
      timedOut,
      proveMsP50: round(
        percentile(
          ok.flatMap((o) => o.receipt?.timings.proveMs ?? []),
          50,
        ),
      ),
    };
  } finally {
    // After a deadline the node may still hold accepted work: give it a bounded time to finish, then go anyway.
    const closed = (async () => {
      await app.close();
      await pool?.close();
    })();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const opts = options();
  const result = await runLoadTest(opts);
  if (opts.json) console.log(JSON.stringify(result));
  else console.table([result]);
  process.exit(result.lost === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
