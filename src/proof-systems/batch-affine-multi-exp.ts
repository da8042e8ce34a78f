/**
 * Σ scalar_i · base_i on the prover curve with verinfer's batch-affine Pippenger windows
 * (`src/proof-systems/wasm/batch-affine-msm.ts`).
 *
 * @module
 */
import { msmWindowFunction, msmWindowScratchBytes } from "./wasm/batch-affine-msm.js";
import type { CurveTaskCommand, ProverCurve } from "./wasm/prover-curve.js";

/** Parameters of {@link batchAffineMultiExp}. */
export interface BatchAffineMultiExpParams {
  curve: ProverCurve;
  group: "G1" | "G2";
  /** n affine points, Montgomery form (64 bytes each on G1, 128 on G2; all-zero bytes = the point at infinity). */
  bases: Uint8Array;
  /** n little-endian scalars of equal width (bytes.length / n bytes each, 1 to 32). */
  scalars: Uint8Array;
  /** Window bits; by default chosen from n and the scalars' bit length ({@link msmWindowBits}). */
  windowBits?: number;
}

/** Relative cost of a bucket in the running sum (two Jacobian additions) against one batch-affine addition. */
const BUCKET_COST = 4;

/**
 * The window width minimising windows × (n + BUCKET_COST · 2^c): each window adds every point once (batch-affine)
 * and walks every bucket once (Jacobian).
 */
export function msmWindowBits(n: number, bits: number): number {
  let best = 1;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let c = 1; c <= Math.min(20, Math.max(1, bits)); c++) {
    const cost = Math.ceil(bits / c) * (n + BUCKET_COST * 2 ** c);
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
 * Σ scalar_i · base_i (Jacobian, Montgomery bytes, as ffjavascript's `multiExpAffine` returns it). The windows are
 * split into one task per thread of the curve: each task copies the bases and scalars once and runs its windows
 * one after the other.
 *
 * @example
 * ```ts
 * const curve = await proverCurve({ singleThread: false });
 * const p = await batchAffineMultiExp({ curve, group: "G1", bases, scalars });
 * ```
 */
export async function batchAffineMultiExp(params: BatchAffineMultiExpParams): Promise<Uint8Array> {
  const { curve, group, bases, scalars } = params;
  const G = curve[group];
  const n8 = G.F.n8;
  const pointBytes = 2 * n8;
  const n = Math.floor(bases.byteLength / pointBytes);
  if (n * pointBytes !== bases.byteLength) throw new Error("batchAffineMultiExp: bases are not whole points");
  if (n === 0) return G.zero;
  const size = scalars.byteLength / n;
  if (!Number.isInteger(size) || size < 1 || size > 32) throw new Error("batchAffineMultiExp: scalar size");
  const bits = scalarBits(scalars, size, n);
  if (bits === 0) return G.zero;
  const c = params.windowBits ?? msmWindowBits(n, bits);
  const nWindows = Math.ceil(bits / c);
  const nTasks = Math.min(nWindows, Math.max(1, curve.tm.concurrency));
  const fnName = msmWindowFunction(group === "G1" ? "g1m" : "g2m");
  const jacobianBytes = 3 * n8;
  const tasks: Array<Promise<Uint8Array[]>> = [];
  const taskWindows: number[][] = [];
  for (let t = 0; t < nTasks; t++) {
    // Windows t, t + nTasks, …: the high (narrower) window does not all land in one task.
    const windows: number[] = [];
    for (let w = t; w < nWindows; w += nTasks) windows.push(w);
    const cMax = Math.max(...windows.map((w) => Math.min(c, bits - w * c)));
    const task: CurveTaskCommand[] = [
      { cmd: "ALLOCSET", var: 0, buff: bases },
      { cmd: "ALLOCSET", var: 1, buff: scalars },
      { cmd: "ALLOC", var: 2, len: msmWindowScratchBytes(n, cMax, n8) },
    ];
    for (const [i, w] of windows.entries()) {
      task.push(
        { cmd: "ALLOC", var: 3 + i, len: jacobianBytes },
        {
          cmd: "CALL",
          fnName,
          params: [
            { var: 0 },
            { var: 1 },
            { val: size },
            { val: n },
            { val: w * c },
            { val: Math.min(c, bits - w * c) },
            { var: 2 },
            { var: 3 + i },
          ],
        },
        { cmd: "GET", out: i, var: 3 + i, len: jacobianBytes },
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
