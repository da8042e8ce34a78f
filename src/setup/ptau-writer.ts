import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../util/progress.js";
import {
  type FixedBaseResult,
  type FixedBaseTask,
  type FixedBaseWorkerInit,
  fixedBaseWorkerSource,
  type PointsTask,
  windowCount,
} from "./fixed-base-worker.js";
import { type Elem, freshCurve, snarkjsInternals, type WasmCurve } from "./snarkjs-internals.js";

/** The name the contribution record of every verinfer dev ptau carries. */
export const DEV_CONTRIBUTION_NAME = "verinfer dev";

/** Largest power the writer accepts (the Lagrange section of 2^(power+1) needs Fr's 2-adicity, 28). */
export const MAX_WRITER_POWER = 27;

/** Parameters of {@link writeDevPtau}. */
export interface WriteDevPtauParams {
  /** The file holds 2^power powers (circuits up to 2^power constraints). */
  power: number;
  /** Where to write it (atomically: a temporary file beside it is renamed over it). */
  file: string;
  /** Worker threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Tuning: points per worker task. Default 8192 in G1, 4096 in G2. */
  chunk?: number;
  /** Tuning: fixed-base window width in bits, 4–16. Default: the cheapest for the size (16 from about 2^15). */
  window?: number;
  onProgress?: OnProgress;
}

/** What {@link writeDevPtau} did. */
export interface WriteDevPtauResult {
  file: string;
  power: number;
  bytes: number;
  seconds: number;
  /** The contribution's response hash (hex), as `snarkjs powersoftau verify` prints it. */
  responseHash: string;
}

const G1_LEM = 64;
const G2_LEM = 128;
const DEFAULT_CHUNK = { 1: 8192, 2: 4096 } as const;
/** Relative cost of one G2 affine addition to one in G1 (measured on ffjavascript's wasm: ~4.8×). */
const G2_COST = 4.8;

type Group = 1 | 2;

interface Job {
  group: Group;
  position: number;
  task: PointsTask;
  /** Index in the hash stream of sections 2..6, in file order. */
  hashSeq?: number;
}

/** Byte layout of a prepared ptau of `power` with one contribution record of `recordBytes`. */
function layout(power: number, recordBytes: number) {
  const n = 2 ** power;
  const sizes: Array<[number, number]> = [
    [1, 4 + 32 + 4 + 4],
    [2, (2 * n - 1) * G1_LEM],
    [3, n * G2_LEM],
    [4, n * G1_LEM],
    [5, n * G1_LEM],
    [6, G2_LEM],
    [7, 4 + recordBytes],
    [12, (4 * n - 1) * G1_LEM],
    [13, (2 * n - 1) * G2_LEM],
    [14, (2 * n - 1) * G1_LEM],
    [15, (2 * n - 1) * G1_LEM],
  ];
  const start = new Map<number, number>();
  let pos = 12;
  for (const [id, size] of sizes) {
    start.set(id, pos + 12);
    pos += 12 + size;
  }
  return { sizes, start: (id: number) => start.get(id) as number, total: pos };
}

/** A uniformly random nonzero Fr element, by rejection (no bigint copy of the secret is made). */
export function randomFr(curve: WasmCurve): Elem {
  const r = new Uint8Array(32);
  {
    let q = curve.Fr.toObject(curve.Fr.e(-1)) + 1n;
    for (let i = 0; i < 32; i++, q >>= 8n) r[i] = Number(q & 0xffn);
  }
  for (;;) {
    const b = randomBytes(32);
    b[31] = (b[31] as number) & 0x3f;
    let less = false;
    for (let i = 31; i >= 0; i--) {
      if ((b[i] as number) !== (r[i] as number)) {
        less = (b[i] as number) < (r[i] as number);
        break;
      }
    }
    if (less && b.some((x) => x !== 0)) {
      const e = curve.Fr.fromRprLE(b, 0);
      b.fill(0);
      return e;
    }
    b.fill(0);
  }
}

export function chooseWindow(points: number, threads: number): number {
  let best = 4;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let w = 4; w <= 16; w++) {
    const cost = points * windowCount(w) + (windowCount(w) * 2 ** (w - 1)) / threads;
    if (cost < bestCost) {
      bestCost = cost;
      best = w;
    }
  }
  return best;
}

export class WorkerSet {
  private readonly workers: Worker[];
  private readonly pending: Array<((r: FixedBaseResult) => void) | undefined>;
  private failure: Error | undefined;

  constructor(count: number, init: FixedBaseWorkerInit) {
    this.workers = [];
    this.pending = [];
    for (let i = 0; i < count; i++) {
      const worker = new Worker(fixedBaseWorkerSource(), { eval: true, workerData: { init } });
      worker.on("message", (r: FixedBaseResult) => {
        const resolve = this.pending[i];
        this.pending[i] = undefined;
        resolve?.(r);
      });
      worker.on("error", (error) => {
        this.failure = error;
        const resolve = this.pending[i];
        this.pending[i] = undefined;
        resolve?.({ ok: false, error: String(error) });
      });
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  async run(i: number, task: FixedBaseTask): Promise<FixedBaseResult> {
    if (this.failure) throw this.failure;
    const worker = this.workers[i] as Worker;
    const result = await new Promise<FixedBaseResult>((resolve) => {
      this.pending[i] = resolve;
      // Transferring the parameters (secret-derived) detaches them here: no copy stays on this thread.
      worker.postMessage(task, task.type === "points" ? task.params.map((p) => p.buffer as ArrayBuffer) : []);
    });
    if (!result.ok) throw new VerinferError("INTERNAL", "a dev ptau worker failed", { details: result.error });
    return result;
  }

  /**
   * Builds the fixed-base window table of `group` for `w`-bit windows (each worker builds a share of the windows into
   * one shared buffer) and loads the whole table into every worker: what each points task of that group needs first.
   * Returns the number of windows.
   */
  async loadTable(group: 1 | 2, w: number): Promise<number> {
    const windows = windowCount(w);
    const shared = new SharedArrayBuffer(windows * 2 ** (w - 1) * (group === 1 ? G1_LEM : G2_LEM));
    const per = Math.ceil(windows / this.size);
    const each = (task: (i: number) => FixedBaseTask) =>
      Promise.all(Array.from({ length: this.size }, (_, i) => this.run(i, task(i))));
    await each((i) => ({
      type: "table",
      group,
      w,
      from: Math.min(windows, i * per),
      to: Math.min(windows, (i + 1) * per),
      shared,
    }));
    await each(() => ({ type: "load", group, w, windows, shared }));
    return windows;
  }

  /**
   * Runs `jobs` (points tasks of the group whose table is loaded) on every worker, each taking the next job when it
   * is done with one, and hands each result to `done` (awaited before that worker takes another job).
   */
  async drain<J extends { task: PointsTask }>(
    jobs: readonly J[],
    done: (job: J, result: FixedBaseResult) => void | Promise<void>,
  ): Promise<void> {
    const queue = [...jobs];
    await Promise.all(
      Array.from({ length: this.size }, async (_, i) => {
        for (let job = queue.shift(); job; job = queue.shift()) await done(job, await this.run(i, job.task));
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((_, i) => this.run(i, { type: "wipe" })));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/**
 * snarkjs's first challenge hash of a fresh accumulator of `power`: blake2b over the blank response hash and every
 * section of the blank file (generators only), uncompressed. Computed with Node's blake2b512 (same function).
 */
function firstChallengeHash(curve: WasmCurve, power: number): Uint8Array {
  const n = 2 ** power;
  const h = createHash("blake2b512");
  h.update(createHash("blake2b512").digest());
  const g1 = new Uint8Array(G1_LEM);
  const g2 = new Uint8Array(G2_LEM);
  curve.G1.toRprUncompressed(g1, 0, curve.G1.g);
  curve.G2.toRprUncompressed(g2, 0, curve.G2.g);
  const repeat = (p: Uint8Array, count: number) => {
    const block = Math.min(count, 65536);
    const buff = new Uint8Array(block * p.length);
    for (let i = 0; i < block; i++) buff.set(p, i * p.length);
    let left = count;
    while (left > 0) {
      const k = Math.min(left, block);
      h.update(buff.subarray(0, k * p.length));
      left -= k;
    }
  };
  repeat(g1, 2 * n - 1);
  repeat(g2, n);
  repeat(g1, n);
  repeat(g1, n);
  h.update(g2);
  return new Uint8Array(h.digest());
}

/**
 * Writes a prepared development powers-of-tau file (snarkjs's `ptau` format, sections 1–7 and 12–15) for
 * `2^power` powers, computing every point directly from secrets τ, α, β that this process draws and then
 * overwrites: monomial sections are `[τ^i]·G`, Lagrange sections `[L_i(τ)]·G` with `L_i(τ)` evaluated in the field
 * (barycentric formula), each a fixed-base multiplication on worker threads. No group FFT, so 2^16 takes well under
 * a minute where snarkjs's `prepare phase2` takes twenty.
 *
 * The one contribution record (named {@link DEV_CONTRIBUTION_NAME}) is what `snarkjs powersoftau contribute`
 * writes: proofs of knowledge of τ, α, β against the first challenge of a fresh accumulator, and the response and
 * next-challenge hashes of the points, so `snarkjs powersoftau verify` accepts the file. Whoever ran this could
 * have kept τ: development only.
 *
 * Secrets live only in memory (never on disk, never in a bigint); their buffers and the workers' memories are
 * zeroed when done — best effort: copies the JavaScript engine makes internally are beyond reach.
 *
 * @example
 * ```ts
 * const { seconds } = await writeDevPtau({ power: 16, file: "/tmp/dev-16.ptau" });
 * ```
 */
export async function writeDevPtau(params: WriteDevPtauParams): Promise<WriteDevPtauResult> {
  return writePtauFromSecrets(params);
}

/** Secrets of a dev setup (Fr elements, Montgomery form), for {@link writePtauFromSecrets}. */
export interface PtauSecrets {
  tau: Elem;
  alpha: Elem;
  beta: Elem;
}

/**
 * {@link writeDevPtau} with secrets the caller drew (the dev zkey writer shares them, so its zkey matches this
 * ptau). It works on copies and wipes them; the caller wipes its own.
 *
 * @internal
 * @example
 * ```ts
 * await writePtauFromSecrets({ power: 10, file }, { tau, alpha, beta });
 * ```
 */
export async function writePtauFromSecrets(
  params: WriteDevPtauParams,
  given?: PtauSecrets,
): Promise<WriteDevPtauResult> {
  const { power, file, onProgress } = params;
  if (!Number.isInteger(power) || power < 1 || power > MAX_WRITER_POWER) {
    throw new VerinferError("INVALID_OPTIONS", `power must be an integer in [1, ${MAX_WRITER_POWER}]`);
  }
  const threads = params.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new VerinferError("INVALID_OPTIONS", `threads must be a positive integer, got ${String(threads)}`);
  }
  for (const [name, v, lo, hi] of [
    ["chunk", params.chunk, 1, 1 << 16],
    ["window", params.window, 4, 16],
  ] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= lo && v <= hi)) {
      throw new VerinferError("INVALID_OPTIONS", `${name} must be an integer in [${lo}, ${hi}]`);
    }
  }
  const CHUNK = params.chunk ? { 1: params.chunk, 2: params.chunk } : DEFAULT_CHUNK;
  const started = performance.now();
  const report = (message: string, done?: boolean, counted?: { fraction: number; etaMs: number }) =>
    onProgress?.({ stage: "ptau", message, ...(done ? { done } : {}), ...counted });
  const internals = await snarkjsInternals();
  const curve = await freshCurve();
  const { Fr, G1, G2 } = curve;
  const n = 2 ** power;

  const wipe = (e: Elem) => {
    if (e.byteLength > 0) e.fill(0); // a transferred (detached) buffer is already gone from this thread
    return e;
  };
  /** Secret-derived intermediates, wiped once used. */
  const temporaries: Elem[] = [];
  const scratch = (e: Elem) => {
    temporaries.push(e);
    return e;
  };
  let jobs: Record<Group, Job[]> = { 1: [], 2: [] };
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(tmp, "w", 0o644);
  const workers = new WorkerSet(threads, {
    code: curve.tm.code,
    pFree: curve.tm.u32[0] as number,
    pages: curve.tm.u32.buffer.byteLength / 65536,
    pG1gen: curve.tm.pG1gen,
    pG2gen: curve.tm.pG2gen,
  });
  const tau = given ? given.tau.slice() : randomFr(curve);
  const alpha = given ? given.alpha.slice() : randomFr(curve);
  const beta = given ? given.beta.slice() : randomFr(curve);
  const secrets: Elem[] = [tau, alpha, beta];
  try {
    // τ must not lie on any evaluation domain (2^(power+1)-th roots of unity); probability ~2^-227.
    const onDomain = Fr.eq(wipe(Fr.exp(tau, 2 * n)), Fr.one);
    if (onDomain) throw new VerinferError("INTERNAL", "tau hit the evaluation domain");
    report(`2^${power}: challenge hash and proofs of knowledge`);
    const challenge = firstChallengeHash(curve, power);
    const key = proofsOfKnowledge(curve, internals, challenge, { tau, alpha, beta });

    const name = new TextEncoder().encode(DEV_CONTRIBUTION_NAME);
    const recordBytes = 3 * G1_LEM + 2 * G2_LEM + (6 * G1_LEM + 3 * G2_LEM) + 216 + 64 + 4 + 4 + 2 + name.length;
    const lay = layout(power, recordBytes);
    await writeHeaders(handle, curve, power, lay.sizes);

    // Jobs, in file order within each group.
    jobs = { 1: [], 2: [] };
    let hashSeq = 0;
    const geometric = (group: Group, section: number, count: number, factor: Elem, hashed: boolean) => {
      const size = group === 1 ? G1_LEM : G2_LEM;
      const step = Fr.exp(tau, CHUNK[group]);
      let t = factor;
      for (let a = 0; a < count; a += CHUNK[group]) {
        const k = Math.min(CHUNK[group], count - a);
        const job: Job = {
          group,
          position: lay.start(section) + a * size,
          task: { type: "points", kind: "geometric", n: k, params: [t.slice(), tau.slice()], hashForms: hashed },
        };
        if (hashed) job.hashSeq = hashSeq++;
        jobs[group].push(job);
        const next = Fr.mul(t, step);
        if (t !== factor) wipe(t);
        t = next;
      }
      wipe(t);
      wipe(step);
    };
    const lagrange = (group: Group, section: number, maxPower: number, factor: Elem) => {
      const size = group === 1 ? G1_LEM : G2_LEM;
      let base = lay.start(section);
      for (let p = 0; p <= maxPower; p++) {
        const m = 2 ** p;
        const omega = Fr.w[p] as Elem;
        const tauM = Fr.exp(tau, m);
        const invM = Fr.inv(Fr.e(m));
        const c = Fr.mul(scratch(Fr.mul(factor, scratch(Fr.sub(tauM, Fr.one)))), invM);
        // The extended power of tauG1 (2^(power+1) points from 2^(power+1)-1 powers): its last power counts as zero.
        const e = p === power + 1 ? Fr.mul(scratch(Fr.mul(factor, scratch(Fr.exp(tau, m - 1)))), invM) : Fr.zero;
        const step = Fr.exp(omega, CHUNK[group]);
        let x = Fr.one;
        for (let a = 0; a < m; a += CHUNK[group]) {
          const k = Math.min(CHUNK[group], m - a);
          jobs[group].push({
            group,
            position: base + a * size,
            task: {
              type: "points",
              kind: "lagrange",
              n: k,
              params: [x.slice(), omega.slice(), tau.slice(), c.slice(), e.slice()],
              hashForms: false,
            },
          });
          x = Fr.mul(x, step);
        }
        for (const v of [tauM, c, e]) if (v !== Fr.zero) wipe(v);
        for (const v of temporaries.splice(0)) wipe(v);
        base += m * size;
      }
    };
    // Hash order is file order: 2 (G1), 3 (G2), 4, 5 (G1), 6 (G2).
    geometric(1, 2, 2 * n - 1, Fr.one, true);
    geometric(2, 3, n, Fr.one, true);
    geometric(1, 4, n, alpha, true);
    geometric(1, 5, n, beta, true);
    geometric(2, 6, 1, beta, true);
    lagrange(1, 12, power + 1, Fr.one);
    lagrange(2, 13, power, Fr.one);
    lagrange(1, 14, power, alpha);
    lagrange(1, 15, power, beta);

    const pointsOf = (g: Group) => jobs[g].reduce((s, j) => s + j.task.n, 0);
    const plan = ([1, 2] as const).map((group) => {
      const w = params.window ?? chooseWindow(pointsOf(group), threads);
      return { group, w, windows: windowCount(w) };
    });
    const unit = (g: Group) => (g === 1 ? 1 : G2_COST);
    const total = plan.reduce(
      (s, { group, w, windows }) => s + unit(group) * (pointsOf(group) * windows + windows * 2 ** (w - 1)),
      0,
    );
    let done = 0;
    let lastReport = 0;
    const advance = (units: number, what: string) => {
      done += units;
      const now = performance.now();
      if (now - lastReport < 1000) return;
      lastReport = now;
      const elapsed = (now - started) / 1000;
      const left = (elapsed * (total - done)) / Math.max(done, 1);
      report(`2^${power}: ${what}, ${Math.floor((100 * done) / total)}% — about ${formatSeconds(left)} left`, false, {
        fraction: Math.min(done / total, 1),
        etaMs: left * 1000,
      });
    };

    const compressed: Uint8Array[] = [];
    const uncompressed: Uint8Array[] = [];
    for (const { group, w, windows } of plan) {
      await workers.loadTable(group, w);
      advance(unit(group) * windows * 2 ** (w - 1), `G${group} table`);
      await workers.drain(jobs[group], async (job, r) => {
        const lem = r.lem as Uint8Array;
        await handle.write(lem, 0, lem.length, job.position);
        if (job.hashSeq !== undefined) {
          compressed[job.hashSeq] = r.compressed as Uint8Array;
          uncompressed[job.hashSeq] = r.uncompressed as Uint8Array;
        }
        advance(unit(group) * job.task.n * windows, `G${group} points`);
      });
    }

    // The hash chain of `powersoftau contribute`: response = blake2b(challenge ‖ compressed points ‖ public key),
    // its partial state stored; next challenge = blake2b(response ‖ uncompressed points).
    report(`2^${power}: contribution record`);
    const responseHasher = internals.blake2b.create({ dkLen: 64 });
    responseHasher.update(challenge);
    for (const c of compressed) responseHasher.update(c);
    const partialHash = internals.toPartialHash(responseHasher);
    const keyU = new Uint8Array(6 * G1_LEM + 3 * G2_LEM);
    internals.toPtauPubKeyRpr(keyU, 0, curve, key, false);
    responseHasher.update(keyU);
    const responseHash = responseHasher.digest();
    const next = createHash("blake2b512");
    next.update(responseHash);
    for (const u of uncompressed) next.update(u);
    const nextChallenge = new Uint8Array(next.digest());

    const record = new Uint8Array(4 + recordBytes);
    const view = new DataView(record.buffer);
    view.setUint32(0, 1, true);
    let o = 4;
    const putG1 = (p: Elem) => {
      G1.toRprLEM(record, o, p);
      o += G1_LEM;
    };
    const putG2 = (p: Elem) => {
      G2.toRprLEM(record, o, p);
      o += G2_LEM;
    };
    putG1(G1.timesFr(G1.g, tau));
    putG2(G2.timesFr(G2.g, tau));
    putG1(G1.timesFr(G1.g, alpha));
    putG1(G1.timesFr(G1.g, beta));
    putG2(G2.timesFr(G2.g, beta));
    internals.toPtauPubKeyRpr(record, o, curve, key, true);
    o += 6 * G1_LEM + 3 * G2_LEM;
    record.set(partialHash, o);
    o += 216;
    record.set(nextChallenge, o);
    o += 64;
    view.setUint32(o, 0, true); // type 0: a contribution, not a beacon
    view.setUint32(o + 4, 2 + name.length, true);
    record[o + 8] = 1; // parameter 1: name
    record[o + 9] = name.length;
    record.set(name, o + 10);
    await handle.write(record, 0, record.length, lay.start(7));
    await handle.sync();
    await handle.close();
    await rename(tmp, file);
    const seconds = (performance.now() - started) / 1000;
    report(`dev ptau 2^${power} written in ${formatSeconds(seconds)}`, true);
    return { file, power, bytes: lay.total, seconds, responseHash: hex(responseHash) };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw error;
  } finally {
    for (const s of secrets) wipe(s);
    // Jobs a failure left unsent still hold copies of the secret (sent ones were transferred, so are empty).
    for (const job of [...jobs[1], ...jobs[2]]) for (const p of job.task.params) wipe(p);
    await workers.close();
    // The one-off curve's wasm memory holds the operands of its last field operations: secret-derived.
    new Uint8Array(curve.tm.memory.buffer).fill(0);
  }
}

async function writeHeaders(
  handle: import("node:fs/promises").FileHandle,
  curve: WasmCurve,
  power: number,
  sizes: Array<[number, number]>,
): Promise<void> {
  const head = new Uint8Array(12 + 12 + 44);
  const v = new DataView(head.buffer);
  head.set(new TextEncoder().encode("ptau"), 0);
  v.setUint32(4, 1, true);
  v.setUint32(8, sizes.length, true);
  let pos = 12;
  for (const [id, size] of sizes) {
    const h = new Uint8Array(12);
    const hv = new DataView(h.buffer);
    hv.setUint32(0, id, true);
    hv.setBigUint64(4, BigInt(size), true);
    await handle.write(h, 0, 12, pos);
    pos += 12 + size;
  }
  // Section 1: n8, q, power, ceremony power.
  v.setUint32(24, 32, true);
  let q = curve.q;
  for (let i = 0; i < 32; i++, q >>= 8n) head[28 + i] = Number(q & 0xffn);
  v.setUint32(60, power, true);
  v.setUint32(64, power, true);
  await handle.write(head, 0, 12, 0);
  await handle.write(head, 24, 44, 24);
}

interface PubKeyPart {
  g1_s: Elem;
  g1_sx: Elem;
  g2_sp: Elem;
  g2_spx: Elem;
}

/**
 * The public key of a ptau contribution: for each secret x (personalization 0 τ, 1 α, 2 β), a random G1 point s,
 * x·s, and x times the G2 point snarkjs derives from the challenge and both — a proof of knowledge of x.
 */
function proofsOfKnowledge(
  curve: WasmCurve,
  internals: Awaited<ReturnType<typeof snarkjsInternals>>,
  challenge: Uint8Array,
  secrets: { tau: Elem; alpha: Elem; beta: Elem },
): { tau: PubKeyPart; alpha: PubKeyPart; beta: PubKeyPart } {
  const { G1, G2 } = curve;
  const part = (x: Elem, personalization: number): PubKeyPart => {
    const r = randomFr(curve);
    const g1_s = G1.toAffine(G1.timesFr(G1.g, r));
    r.fill(0);
    const g1_sx = G1.toAffine(G1.timesFr(g1_s, x));
    const g2_sp = G2.toAffine(internals.getG2sp(curve, personalization, challenge, g1_s, g1_sx));
    const g2_spx = G2.toAffine(G2.timesFr(g2_sp, x));
    return { g1_s, g1_sx, g2_sp, g2_spx };
  };
  return { tau: part(secrets.tau, 0), alpha: part(secrets.alpha, 1), beta: part(secrets.beta, 2) };
}
