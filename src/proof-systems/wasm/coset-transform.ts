import { VerinferError } from "../../errors.js";
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

/**
 * The most wasm memory a coset transform task may take (a half transform or a whole one holds 96·n bytes for a
 * domain of n points): ffjavascript's workers stop growing their memory at 2 GiB, and a task that runs past it on the
 * threaded curve never answers.
 */
export const COSET_TASK_BYTES = 1.5 * 2 ** 30;

/** Bytes of wasm memory the largest task of a coset transform over 2^power points takes (values and tables). */
export function cosetTaskBytes(power: number): number {
  return 96 * 2 ** power;
}

/**
 * Refuses a domain whose transform tasks would not fit a worker's memory, before anything is queued.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` when a task would take more than {@link COSET_TASK_BYTES}.
 */
export function checkCosetDomain(power: number): void {
  if (cosetTaskBytes(power) > COSET_TASK_BYTES) {
    throw new VerinferError(
      "UNSUPPORTED_MODE",
      `the circuit's domain of 2^${power} points is beyond the in-process prover`,
      {
        details: `its coset transform needs ${cosetTaskBytes(power)} bytes of wasm memory in one task, over the ${COSET_TASK_BYTES} a prover worker can hold (ffjavascript's workers stop at 2 GiB)`,
        meta: { power, maxPower: Math.floor(Math.log2(COSET_TASK_BYTES / 96)) },
      },
    );
  }
}
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

/** Twiddle and coset-factor tables of one domain and coset (Montgomery elements, in shared memory). */
interface CosetTables {
  /** w^j for j < n/2. */
  tw: SharedArrayBuffer;
  /** w^-j for j < n/2. */
  twInv: SharedArrayBuffer;
  /** R/n · g^rev(p) at position p (rev over `power` bits), in two halves: positions below n/2, the rest. */
  factors: [SharedArrayBuffer, SharedArrayBuffer];
}

const shared = (v: Uint8Array): SharedArrayBuffer => {
  const out = new SharedArrayBuffer(v.byteLength);
  new Uint8Array(out).set(v);
  return out;
};

/**
 * A task's input without copies on the way: a buffer (shared or not) rather than a view (ffjavascript's workers
 * copy a typed array once more before writing it into the wasm memory; a shared buffer is not even cloned).
 */
export function taskBuffer(v: Uint8Array): Uint8Array | ArrayBufferLike {
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v.buffer : v;
}

/** Makes the tables in one wasm task (2n multiplications). */
async function makeTables(domain: CosetDomain): Promise<CosetTables> {
  const k = constants(domain);
  const n = 2 ** domain.power;
  const half = n / 2;
  const [tw, twInv, factors] = await domain.curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 1, buff: k },
    { cmd: "ALLOC", var: 2, len: N8 },
    { cmd: "ALLOC", var: 3, len: half * N8 },
    { cmd: "ALLOC", var: 4, len: half * N8 },
    { cmd: "ALLOC", var: 5, len: n * N8 },
    call("frm_inverse", at(1, W), at(2)),
    call(FFT_FUNCTIONS.powers, at(3), val(half), at(1, ONE), at(1, W)),
    call(FFT_FUNCTIONS.powers, at(4), val(half), at(1, ONE), at(2)),
    call(FFT_FUNCTIONS.cosetFactors, at(5), val(domain.power), at(1, FIRST), at(1, G)),
    { cmd: "GET", out: 0, var: 3, len: half * N8 },
    { cmd: "GET", out: 1, var: 4, len: half * N8 },
    { cmd: "GET", out: 2, var: 5, len: n * N8 },
  ]);
  const f = factors as Uint8Array;
  return {
    tw: shared(tw as Uint8Array),
    twInv: shared(twInv as Uint8Array),
    factors: [shared(f.subarray(0, half * N8)), shared(f.subarray(half * N8))],
  };
}

const ONE = 0;
const W = 1;
const FIRST = 2;
const G = 3;

/** The tables made per curve, by domain and coset: the last 2 asked for (4 MiB for 2^16 points). */
const tableCache = new WeakMap<object, Map<string, Promise<CosetTables>>>();

function tablesFor(domain: CosetDomain): Promise<CosetTables> {
  const { curve, power, g } = domain;
  let perCurve = tableCache.get(curve);
  if (!perCurve) {
    perCurve = new Map();
    tableCache.set(curve, perCurve);
  }
  const id = `${power}:${Buffer.from(g).toString("hex")}`;
  let tables = perCurve.get(id);
  if (!tables) {
    tables = makeTables(domain);
    tables.catch(() => perCurve.delete(id));
    perCurve.set(id, tables);
    while (perCurve.size > 2) perCurve.delete(perCurve.keys().next().value as string);
  }
  return tables;
}

/**
 * A polynomial's values on the domain (plain 32-byte little-endian elements, natural order) → its values on the
 * coset (Montgomery elements, natural order), in one task: inverse FFT by decimation in frequency, one
 * multiplication by the coset factors (R/n · g^rev(p) at position p), forward FFT by decimation in time. Equal to
 * wasmcurves's `frm_batchToMontgomery`, `frm_ifft`, `frm_batchApplyKey(1, g)`, `frm_fft`.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` for a domain whose task would not fit a worker ({@link checkCosetDomain}).
 */
export async function cosetTransform(params: CosetDomain & { evals: Uint8Array }): Promise<Uint8Array> {
  const { curve, power, evals } = params;
  checkCosetDomain(power);
  const n = 2 ** power;
  const t = await tablesFor(params);
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: taskBuffer(evals) },
    { cmd: "ALLOCSET", var: 1, buff: t.twInv },
    { cmd: "ALLOCSET", var: 2, buff: t.factors[0] },
    { cmd: "ALLOCSET", var: 3, buff: t.factors[1] },
    { cmd: "ALLOCSET", var: 4, buff: t.tw },
    call(FFT_FUNCTIONS.dif, at(0), val(n), at(1), val(1)),
    call(FFT_FUNCTIONS.mul, at(0), at(2), val(n / 2)),
    call(FFT_FUNCTIONS.mul, at(0, n / 2), at(3), val(n / 2)),
    call(FFT_FUNCTIONS.dit, at(0), val(n), at(4), val(1)),
    { cmd: "GET", out: 0, var: 0, len: n * N8 },
  ]);
  return out as Uint8Array;
}

/**
 * One half of a coset transform: the inverse FFT's first stage for one half of its outputs, then that half alone
 * (an inverse FFT of n/2 points, its half of the coset factors, a forward FFT of n/2 points, both FFTs with every
 * other twiddle of the tables): the forward FFT's values before its last stage, positions [h·n/2, (h + 1)·n/2).
 */
async function transformHalf(domain: CosetDomain, t: CosetTables, evals: Uint8Array, h: 0 | 1): Promise<Uint8Array> {
  const n = 2 ** domain.power;
  const m = n / 2;
  const [out] = await domain.curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: taskBuffer(evals) },
    { cmd: "ALLOCSET", var: 1, buff: t.twInv },
    { cmd: "ALLOCSET", var: 2, buff: t.factors[h] },
    { cmd: "ALLOCSET", var: 3, buff: t.tw },
    { cmd: "ALLOC", var: 4, len: m * N8 },
    call(FFT_FUNCTIONS.difSplit, at(0), val(n), at(1), val(1), at(4), val(h)),
    call(FFT_FUNCTIONS.dif, at(4), val(m), at(1), val(2)),
    call(FFT_FUNCTIONS.mul, at(4), at(2), val(m)),
    call(FFT_FUNCTIONS.dit, at(4), val(m), at(3), val(2)),
    { cmd: "GET", out: 0, var: 4, len: m * N8 },
  ]);
  return out as Uint8Array;
}

/**
 * H's scalars of a Groth16 proof (snarkjs's QAP): A, B, C (their values on the domain, plain 32-byte elements;
 * pass them in SharedArrayBuffers to spare the copies into the workers) to their values on the coset, then
 * (A·B − C) out of Montgomery form, natural order. Each transform is split in two halves that run as separate tasks
 * (six tasks share the threads evenly); the forward FFTs' last stage is done with the join, in one task per thread
 * (`parts`, default the curve's thread count) over a range of positions. The domain's twiddle and coset-factor
 * tables are made once (one task) and kept per curve.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` for a domain whose tasks would not fit a worker ({@link checkCosetDomain}).
 */
export async function cosetHScalars(
  params: CosetDomain & { a: Uint8Array; b: Uint8Array; c: Uint8Array; parts?: number },
): Promise<Uint8Array> {
  const { curve, power } = params;
  checkCosetDomain(power);
  const n = 2 ** power;
  const m = n / 2;
  const t = await tablesFor(params);
  const halves = await Promise.all(
    [params.a, params.b, params.c].flatMap((evals) => [
      transformHalf(params, t, evals, 0),
      transformHalf(params, t, evals, 1),
    ]),
  );
  const parts = Math.max(1, Math.min(params.parts ?? curve.tm.concurrency ?? 1, m / 2));
  const h = new Uint8Array(n * N8);
  await Promise.all(
    Array.from({ length: parts }, async (_, part) => {
      const from = Math.floor((part * m) / parts);
      const count = Math.floor(((part + 1) * m) / parts) - from;
      const range = (v: Uint8Array) => v.slice(from * N8, (from + count) * N8).buffer;
      // vars 0–5: the ranges of A's, B's, C's halves; 6: w^j (j < n/2); 7: H's range.
      const join = (lo: number) =>
        call(FFT_FUNCTIONS.ditJoin, at(lo), at(lo + 1), val(count), at(6, from), val(1), at(lo), at(lo + 1));
      const [out] = await curve.tm.queueAction([
        ...halves.map((v, i) => ({ cmd: "ALLOCSET", var: i, buff: range(v) })),
        { cmd: "ALLOCSET", var: 6, buff: t.tw },
        { cmd: "ALLOC", var: 7, len: 2 * count * N8 },
        join(0),
        join(2),
        join(4),
        call("qap_joinABC", at(0), at(2), at(4), val(count), at(7)),
        call("qap_joinABC", at(1), at(3), at(5), val(count), at(7, count)),
        call("frm_batchFromMontgomery", at(7), val(2 * count), at(7)),
        { cmd: "GET", out: 0, var: 7, len: 2 * count * N8 },
      ]);
      const joined = out as Uint8Array;
      h.set(joined.subarray(0, count * N8), from * N8);
      h.set(joined.subarray(count * N8), (m + from) * N8);
    }),
  );
  return h;
}
