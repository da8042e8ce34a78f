/**
 * Σ scalar_i · base_i on the prover curve with verinfer's batch-affine Pippenger windows
 * (`src/proof-systems/wasm/batch-affine-msm.ts`).
 *
 * @module
 */
import { VerinferError } from "../errors.js";
import {
  msmDigitsFunction,
  msmSignedWindows,
  msmWindowFunction,
  msmWindowScratchBytes,
} from "./wasm/batch-affine-msm.js";
import type { CurveTaskCommand, ProverCurve } from "./wasm/prover-curve.js";

/** Parameters of {@link batchAffineMultiExp}. */
export interface BatchAffineMultiExpParams {
  curve: ProverCurve;
  group: "G1" | "G2";
  /** n affine points, Montgomery form (64 bytes each on G1, 128 on G2; all-zero bytes = the point at infinity). */
  bases: Uint8Array;
  /** n little-endian scalars of equal width (bytes.length / n bytes each, 1 to 32). */
  scalars: Uint8Array;
  /**
   * The most points one task takes (internal, for tests): by default as many as fit {@link TASK_BYTES}; more points
   * are split into chunks whose sums are added.
   */
  maxChunkPoints?: number;
  /**
   * Window bits, an integer in 1..{@link MAX_WINDOW_BITS}; by default chosen from n and the scalars' bit length
   * ({@link msmWindowBits}).
   */
  windowBits?: number;
}

/**
 * The widest window the wasm supports: its digits come from one 32-bit load shifted by up to 7 bits (wider windows
 * lose bits silently), and `1 << c` must not overflow.
 */
export const MAX_WINDOW_BITS = 24;

/**
 * The wasm memory one task may take: ffjavascript's workers stop growing their memory at 2 GiB, and a task that runs
 * past it on the threaded curve never answers (the proof hangs and the worker stays busy for good).
 */
export const TASK_BYTES = 2 ** 29;

/** Relative cost of a bucket in the running sum (two Jacobian additions) against one batch-affine addition. */
const BUCKET_COST = 4;
/** Relative cost of a round's field inversion and bucket walks (f1m_inverse is ~4 µs, ~7 batch-affine additions). */
const ROUND_COST = 10;

/**
 * The window width minimising windows × (n + BUCKET_COST · 2^(c−1) + ROUND_COST · rounds): each window adds every
 * point once (batch-affine), walks every bucket once (Jacobian; signed digits need 2^(c−1) buckets) and pays one
 * inversion per round (about log2 of the fullest bucket).
 */
export function msmWindowBits(n: number, bits: number): number {
  let best = 1;
  let bestCost = Number.POSITIVE_INFINITY;
  // Up to bits + 1: a signed digit of a b-bit scalar fits one window of b + 1 bits.
  for (let c = 1; c <= Math.min(20, bits + 1); c++) {
    const rounds = Math.log2(Math.max(1, n / 2 ** (c - 1))) + 2;
    const cost = msmSignedWindows(bits, c) * (n + BUCKET_COST * 2 ** (c - 1) + ROUND_COST * rounds);
    if (cost < bestCost) {
      best = c;
      bestCost = cost;
    }
  }
  return best;
}

/** The number of bits below the highest set bit of any of the n `size`-byte scalars (0 when all are zero). */
function scalarBits(scalars: Uint8Array, size: number, n: number): number {
  for (let byte = size - 1; byte >= 0; byte--) {
    let or = 0;
    for (let i = 0; i < n; i++) or |= scalars[i * size + byte] as number;
    if (or !== 0) return 8 * byte + (32 - Math.clz32(or));
  }
  return 0;
}

/**
 * Σ scalar_i · base_i (Jacobian, Montgomery bytes, as ffjavascript's `multiExpAffine` returns it). The points are
 * split into chunks small enough that a task's wasm memory stays within {@link TASK_BYTES}, and each chunk's
 * windows into one task per thread of the curve: each task copies its chunk's bases and scalars once and runs its
 * windows one after the other. All tasks are queued at once; the chunks' sums are added.
 *
 * @throws VerinferError `INVALID_INPUT` when the bases are not whole points, the scalars not 1 to 32 bytes each or
 *   `windowBits` not an integer in 1..{@link MAX_WINDOW_BITS}.
 *
 * @example
 * ```ts
 * const curve = await proverCurve({ singleThread: false });
 * const p = await batchAffineMultiExp({ curve, group: "G1", bases, scalars });
 * ```
 */
export async function batchAffineMultiExp(params: BatchAffineMultiExpParams): Promise<Uint8Array> {
  const { curve, group, windowBits } = params;
  if (windowBits !== undefined && !(Number.isInteger(windowBits) && windowBits >= 1 && windowBits <= MAX_WINDOW_BITS)) {
    throw new VerinferError(
      "INVALID_INPUT",
      `multi-exponentiation: window bits ${String(windowBits)} are not an integer in 1..${MAX_WINDOW_BITS}`,
    );
  }
  // A view into a larger buffer (a zkey's point section) would be cloned whole into every worker task.
  const own = (a: Uint8Array) => (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice());
  const { bases, scalars } = params;
  const G = curve[group];
  const n8 = G.F.n8;
  const pointBytes = 2 * n8;
  const n = Math.floor(bases.byteLength / pointBytes);
  if (n * pointBytes !== bases.byteLength) {
    throw new VerinferError("INVALID_INPUT", `multi-exponentiation: ${bases.byteLength} bytes are not whole points`);
  }
  if (n === 0) return G.zero;
  const size = scalars.byteLength / n;
  if (!Number.isInteger(size) || size < 1 || size > 32) {
    throw new VerinferError(
      "INVALID_INPUT",
      `multi-exponentiation: ${scalars.byteLength} scalar bytes for ${n} points`,
    );
  }
  const bits = scalarBits(scalars, size, n);
  if (bits === 0) return G.zero;
  const threads = Math.max(1, curve.tm.concurrency);
  const within = (width: number) =>
    Math.max(1, msmChunkPoints({ n8, scalarBytes: size, bits, windowBits: width, threads, budget: TASK_BYTES }));
  const c = windowBits ?? msmWindowBits(Math.min(n, within(msmWindowBits(n, bits))), bits);
  const most = Math.min(within(c), params.maxChunkPoints ?? Number.POSITIVE_INFINITY);
  // Chunks of equal size: Σ over all points is the sum of the chunks' sums.
  const nChunks = Math.ceil(n / most);
  const sums = await Promise.all(
    Array.from({ length: nChunks }, (_, k) => {
      const from = Math.floor((k * n) / nChunks);
      const to = Math.floor(((k + 1) * n) / nChunks);
      return chunkSum({
        curve,
        group,
        bases: own(bases.subarray(from * pointBytes, to * pointBytes)),
        scalars: own(scalars.subarray(from * size, to * size)),
        size,
        c,
      });
    }),
  );
  return sums.reduce((a, b) => G.add(a, b), G.zero);
}

/**
 * Bytes of wasm memory one task of {@link batchAffineMultiExp} takes: `n` points (field elements of `n8` bytes),
 * scalars of `scalarBytes` bytes, `windows` windows of `windowBits` bits.
 */
export function msmTaskBytes(p: {
  n: number;
  n8: number;
  scalarBytes: number;
  windowBits: number;
  windows: number;
}): number {
  const { n, n8, scalarBytes, windowBits, windows } = p;
  // ffjavascript aligns each allocation to 8 bytes: one slack of 8 per buffer.
  const buffers = 4 + windows;
  return (
    n * 2 * n8 +
    n * scalarBytes +
    4 * n * windows +
    msmWindowScratchBytes(n, windowBits, n8) +
    windows * 3 * n8 +
    8 * buffers
  );
}

/**
 * The most points one multi-exponentiation task may take so that its wasm memory (bases, scalars, the digits of its
 * windows, the window scratch; {@link msmTaskBytes}) stays within `budget` bytes, with the windows of `bits`-bit
 * scalars split over `threads` tasks as {@link batchAffineMultiExp} splits them.
 */
export function msmChunkPoints(p: {
  n8: number;
  scalarBytes: number;
  bits: number;
  windowBits: number;
  threads: number;
  budget: number;
}): number {
  const nWindows = msmSignedWindows(p.bits, p.windowBits);
  const windows = Math.ceil(nWindows / Math.min(nWindows, p.threads));
  const bytes = (n: number) =>
    msmTaskBytes({ n, n8: p.n8, scalarBytes: p.scalarBytes, windowBits: p.windowBits, windows });
  // msmTaskBytes grows by at most `perPoint` a point (the scratch's pair slots count half a point's 2·n8, rounded up).
  const perPoint = 2 * p.n8 + p.scalarBytes + 4 * windows + 2 * p.n8 + 2 + p.n8 + 8;
  return Math.max(0, Math.floor((p.budget - bytes(0)) / perPoint));
}

/** One chunk's Σ scalar_i · base_i: its windows split into one task per thread of the curve. */
async function chunkSum(p: {
  curve: ProverCurve;
  group: "G1" | "G2";
  bases: Uint8Array;
  scalars: Uint8Array;
  size: number;
  c: number;
}): Promise<Uint8Array> {
  const { curve, group, bases, scalars, size, c } = p;
  const G = curve[group];
  const n8 = G.F.n8;
  const n = scalars.byteLength / size;
  const bits = scalarBits(scalars, size, n);
  if (bits === 0) return G.zero;
  const nWindows = msmSignedWindows(bits, c);
  const nTasks = Math.min(nWindows, Math.max(1, curve.tm.concurrency));
  const prefix = group === "G1" ? "g1m" : "g2m";
  const fnName = msmWindowFunction(prefix);
  /** The top window's digits are below 2^(bits − w·c) + 1: fewer buckets. */
  const windowC = (w: number) => Math.min(c, bits - w * c + 1);
  const jacobianBytes = 3 * n8;
  const tasks: Array<Promise<Uint8Array[]>> = [];
  const taskWindows: number[][] = [];
  for (let t = 0; t < nTasks; t++) {
    // A contiguous range of windows: the digits below it are walked for their carries only, not stored.
    const first = Math.floor((t * nWindows) / nTasks);
    const end = Math.floor(((t + 1) * nWindows) / nTasks);
    const windows: number[] = [];
    for (let w = first; w < end; w++) windows.push(w);
    const task: CurveTaskCommand[] = [
      { cmd: "ALLOCSET", var: 0, buff: bases },
      { cmd: "ALLOCSET", var: 1, buff: scalars },
      { cmd: "ALLOC", var: 2, len: 4 * n * (end - first) },
      { cmd: "ALLOC", var: 3, len: msmWindowScratchBytes(n, c, n8) },
      {
        cmd: "CALL",
        fnName: msmDigitsFunction(prefix),
        params: [
          { var: 0 },
          { var: 1 },
          { val: size },
          { val: n },
          { val: c },
          { val: first },
          { val: end },
          { var: 2 },
        ],
      },
    ];
    for (const [i, w] of windows.entries()) {
      task.push(
        { cmd: "ALLOC", var: 4 + i, len: jacobianBytes },
        {
          cmd: "CALL",
          fnName,
          params: [
            { var: 0 },
            { var: 2, offset: 4 * n * (w - first) },
            { val: n },
            { val: windowC(w) },
            { var: 3 },
            { var: 4 + i },
          ],
        },
        { cmd: "GET", out: i, var: 4 + i, len: jacobianBytes },
      );
    }
    tasks.push(curve.tm.queueAction(task));
    taskWindows.push(windows);
  }
  const windowSums: Uint8Array[] = new Array(nWindows);
  for (const [t, out] of (await Promise.all(tasks)).entries()) {
    for (const [i, w] of (taskWindows[t] as number[]).entries()) windowSums[w] = out[i] as Uint8Array;
  }
  let res = G.zero;
  for (let w = nWindows - 1; w >= 0; w--) {
    if (!G.isZero(res)) for (let j = 0; j < c; j++) res = G.double(res);
    res = G.add(res, windowSums[w] as Uint8Array);
  }
  return res;
}
