import { FIELD_PRIME } from "../../util/field.js";
import { FFT_FUNCTIONS, type fftPlugin } from "./fft-plugin.js";

/** The parts of an ffjavascript bn128 curve (built with {@link fftPlugin}) the coset transform calls. */
export interface CosetCurve {
  Fr: {
    s: number;
    w: Uint8Array[];
    e(v: bigint | number): Uint8Array;
  };
  tm: { queueAction(task: unknown[]): Promise<Uint8Array[]>; concurrency?: number };
}

/** Whether `curve`'s wasm was built with {@link fftPlugin} (ffjavascript's curves without plugins lack its functions). */
export function hasFftPlugin(curve: object): boolean {
  const tm = (curve as { tm?: { instance?: { exports?: Record<string, unknown> } } }).tm;
  return typeof tm?.instance?.exports?.[FFT_FUNCTIONS.ditJoin] === "function";
}

/** A domain of 2^power points and the coset g·⟨w⟩ to transform to (g a Montgomery element of the curve's Fr). */
export interface CosetDomain {
  curve: CosetCurve;
  power: number;
  g: Uint8Array;
}

const N8 = 32;
const R = (1n << 256n) % FIELD_PRIME;

function modPow(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = b % FIELD_PRIME;
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % FIELD_PRIME;
    x = (x * x) % FIELD_PRIME;
  }
  return r;
}

type Call = { cmd: "CALL"; fnName: string; params: Array<{ var: number; offset?: number } | { val: number }> };
const call = (fnName: string, ...params: Call["params"]): Call => ({ cmd: "CALL", fnName, params });
const at = (v: number, element = 0) => ({ var: v, offset: element * N8 });
const val = (v: number) => ({ val: v });

/**
 * The constants a task starts from, as one buffer of Montgomery elements: 1, w (the domain's root `Fr.w[power]`),
 * R/n and g. The first factor R/n folds the inverse FFT's 1/n and the conversion of the input to Montgomery form
 * (the input's plain bytes, read as Montgomery elements, are x/R) into the coset's powers.
 */
function constants(domain: CosetDomain): Uint8Array {
  const { curve, power, g } = domain;
  if (!Number.isInteger(power) || power < 1 || power > curve.Fr.s) {
    throw new RangeError(`coset transform: a domain of 2^${power} points`);
  }
  const out = new Uint8Array(4 * N8);
  out.set(curve.Fr.e(1), 0);
  out.set(curve.Fr.w[power] as Uint8Array, N8);
  out.set(curve.Fr.e((R * modPow(2n ** BigInt(power), FIELD_PRIME - 2n)) % FIELD_PRIME), 2 * N8);
  out.set(g, 3 * N8);
  return out;
}

// Each task makes the tables it needs (twiddles, coset factors) in wasm: on this hardware a multiplication per
// element is cheaper than copying a table into a worker (a structured clone and a copy into the wasm memory).
const ONE = 0;
const W = 1;
const FIRST = 2;
const G = 3;

/**
 * A polynomial's values on the domain (plain 32-byte little-endian elements, natural order) → its values on the
 * coset (Montgomery elements, natural order), in one task: inverse FFT by decimation in frequency, one
 * multiplication by the coset factors (R/n · g^rev(p) at position p), forward FFT by decimation in time. Equal to
 * wasmcurves's `frm_batchToMontgomery`, `frm_ifft`, `frm_batchApplyKey(1, g)`, `frm_fft`.
 */
export async function cosetTransform(params: CosetDomain & { evals: Uint8Array }): Promise<Uint8Array> {
  const { curve, power, evals } = params;
  const k = constants(params);
  const n = 2 ** power;
  const half = n / 2;
  // var 2: w^-1; var 3: w^j, var 4: w^-j (j < n/2); var 5: the factors.
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: evals },
    { cmd: "ALLOCSET", var: 1, buff: k },
    { cmd: "ALLOC", var: 2, len: N8 },
    { cmd: "ALLOC", var: 3, len: half * N8 },
    { cmd: "ALLOC", var: 4, len: half * N8 },
    { cmd: "ALLOC", var: 5, len: n * N8 },
    call("frm_inverse", at(1, W), at(2)),
    call(FFT_FUNCTIONS.powers, at(3), val(half), at(1, ONE), at(1, W)),
    call(FFT_FUNCTIONS.powers, at(4), val(half), at(1, ONE), at(2)),
    call(FFT_FUNCTIONS.cosetFactors, at(5), val(power), at(1, FIRST), at(1, G)),
    call(FFT_FUNCTIONS.dif, at(0), val(n), at(4), val(1)),
    call(FFT_FUNCTIONS.mul, at(0), at(5), val(n)),
    call(FFT_FUNCTIONS.dit, at(0), val(n), at(3), val(1)),
    { cmd: "GET", out: 0, var: 0, len: n * N8 },
  ]);
  return out as Uint8Array;
}

/**
 * One half of a coset transform: the inverse FFT's first stage for one half of its outputs (the even- or the
 * odd-indexed outputs' inputs), then that half alone (an inverse FFT of n/2 points, its half of the coset factors, a
 * forward FFT of n/2 points): the forward FFT's values before its last stage, positions [h·n/2, (h + 1)·n/2).
 * Position h·n/2 + q's factor is R/n · g^(h + 2·rev(q)), rev over power − 1 bits.
 */
async function transformHalf(domain: CosetDomain, k: Uint8Array, evals: Uint8Array, h: 0 | 1): Promise<Uint8Array> {
  const { curve, power } = domain;
  const n = 2 ** power;
  const m = n / 2;
  // var 2: [w^-1, w^-2, w^2, g^2, R/n · g^h]; var 3: w^-j (j < n/2, for the upper half's first stage);
  // var 4: w^-2j, var 5: w^2j (j < n/4); var 6: the half's factors; var 7: the half.
  const d = (i: number) => at(2, i);
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: evals },
    { cmd: "ALLOCSET", var: 1, buff: k },
    { cmd: "ALLOC", var: 2, len: 5 * N8 },
    { cmd: "ALLOC", var: 3, len: h ? m * N8 : N8 },
    { cmd: "ALLOC", var: 4, len: (m / 2) * N8 },
    { cmd: "ALLOC", var: 5, len: (m / 2) * N8 },
    { cmd: "ALLOC", var: 6, len: m * N8 },
    { cmd: "ALLOC", var: 7, len: m * N8 },
    call("frm_inverse", at(1, W), d(0)),
    call("frm_mul", d(0), d(0), d(1)),
    call("frm_mul", at(1, W), at(1, W), d(2)),
    call("frm_mul", at(1, G), at(1, G), d(3)),
    h ? call("frm_mul", at(1, FIRST), at(1, G), d(4)) : call("frm_copy", at(1, FIRST), d(4)),
    ...(h ? [call(FFT_FUNCTIONS.powers, at(3), val(m), at(1, ONE), d(0))] : []),
    call(FFT_FUNCTIONS.powers, at(4), val(m / 2), at(1, ONE), d(1)),
    call(FFT_FUNCTIONS.powers, at(5), val(m / 2), at(1, ONE), d(2)),
    call(FFT_FUNCTIONS.cosetFactors, at(6), val(power - 1), d(4), d(3)),
    call(FFT_FUNCTIONS.difSplit, at(0), val(n), at(3), val(1), at(7), val(h)),
    call(FFT_FUNCTIONS.dif, at(7), val(m), at(4), val(1)),
    call(FFT_FUNCTIONS.mul, at(7), at(6), val(m)),
    call(FFT_FUNCTIONS.dit, at(7), val(m), at(5), val(1)),
    { cmd: "GET", out: 0, var: 7, len: m * N8 },
  ]);
  return out as Uint8Array;
}

/**
 * H's scalars of a Groth16 proof (snarkjs's QAP): A, B, C (their values on the domain, plain 32-byte elements) to
 * their values on the coset, then (A·B − C) out of Montgomery form, natural order. Each transform is split in two
 * halves that run as separate tasks (six tasks share the threads evenly); the forward FFTs' last stage is done with
 * the join, in one task per thread (`parts`, default the curve's thread count) over a range of positions.
 */
export async function cosetHScalars(
  params: CosetDomain & { a: Uint8Array; b: Uint8Array; c: Uint8Array; parts?: number },
): Promise<Uint8Array> {
  const { curve, power } = params;
  const k = constants(params);
  const n = 2 ** power;
  if (n < 4) throw new RangeError("cosetHScalars needs a domain of at least 4 points");
  const m = n / 2;
  const halves = await Promise.all(
    [params.a, params.b, params.c].flatMap((evals) => [
      transformHalf(params, k, evals, 0),
      transformHalf(params, k, evals, 1),
    ]),
  );
  const parts = Math.max(1, Math.min(params.parts ?? curve.tm.concurrency ?? 1, m / 2));
  const h = new Uint8Array(n * N8);
  await Promise.all(
    Array.from({ length: parts }, async (_, part) => {
      const from = Math.floor((part * m) / parts);
      const count = Math.floor(((part + 1) * m) / parts) - from;
      // slice, not subarray: a view would take its whole buffer along to the worker.
      const range = (v: Uint8Array) => v.slice(from * N8, (from + count) * N8);
      const exponent = new Uint8Array(8);
      new DataView(exponent.buffer).setUint32(0, from, true);
      // vars 0–5: the ranges of A's, B's, C's halves; 8: w^from; 9: w^i for i in the range; 10: H's range.
      const join = (lo: number) =>
        call(FFT_FUNCTIONS.ditJoin, at(lo), at(lo + 1), val(count), at(9), val(1), at(lo), at(lo + 1));
      const [out] = await curve.tm.queueAction([
        ...halves.map((v, i) => ({ cmd: "ALLOCSET", var: i, buff: range(v) })),
        { cmd: "ALLOCSET", var: 6, buff: k },
        { cmd: "ALLOCSET", var: 7, buff: exponent },
        { cmd: "ALLOC", var: 8, len: N8 },
        { cmd: "ALLOC", var: 9, len: count * N8 },
        { cmd: "ALLOC", var: 10, len: 2 * count * N8 },
        call("frm_exp", at(6, W), at(7), val(8), at(8)),
        call(FFT_FUNCTIONS.powers, at(9), val(count), at(8), at(6, W)),
        join(0),
        join(2),
        join(4),
        call("qap_joinABC", at(0), at(2), at(4), val(count), at(10)),
        call("qap_joinABC", at(1), at(3), at(5), val(count), at(10, count)),
        call("frm_batchFromMontgomery", at(10), val(2 * count), at(10)),
        { cmd: "GET", out: 0, var: 10, len: 2 * count * N8 },
      ]);
      const joined = out as Uint8Array;
      h.set(joined.subarray(0, count * N8), from * N8);
      h.set(joined.subarray(count * N8), (m + from) * N8);
    }),
  );
  return h;
}
