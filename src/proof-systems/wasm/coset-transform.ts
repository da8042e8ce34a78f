import { FIELD_PRIME } from "../../util/field.js";
import { FFT_FUNCTIONS, type fftPlugin } from "./fft-plugin.js";

/** The parts of an ffjavascript bn128 curve (built with {@link fftPlugin}) the coset transform calls. */
export interface CosetCurve {
  Fr: {
    s: number;
    w: Uint8Array[];
    e(v: bigint | number): Uint8Array;
  };
  tm: { queueAction(task: unknown[]): Promise<Uint8Array[]> };
}

/** Whether `curve`'s wasm was built with {@link fftPlugin} (ffjavascript's curves without plugins lack its functions). */
export function hasFftPlugin(curve: object): boolean {
  const tm = (curve as { tm?: { instance?: { exports?: Record<string, unknown> } } }).tm;
  return typeof tm?.instance?.exports?.[FFT_FUNCTIONS.ditJoin] === "function";
}

/** The tables of one domain size and coset (see {@link cosetTables}), as Montgomery elements. */
export interface CosetTables {
  /** log2 of the domain size n. */
  power: number;
  /** w^j for j < n/2, w the curve's n-th root of unity (`Fr.w[power]`). */
  tw: Uint8Array;
  /** w^-j for j < n/2. */
  twInv: Uint8Array;
  /**
   * At position p: R/n · g^rev(p), g the coset's generator, rev reversing `power` bits, R = 2^256 mod p; in two
   * halves (positions below n/2, the rest), each a buffer of its own so that a task copies only its half.
   */
  factors: [Uint8Array, Uint8Array];
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

/**
 * Makes the twiddle and coset-factor tables of a domain of 2^power points and the coset g·⟨w⟩ in one wasm task
 * (n multiplications in all). The factors fold the inverse FFT's 1/n and the conversion of the input to Montgomery
 * form (the input's plain bytes read as Montgomery elements are x/R) into the coset's powers.
 */
export async function cosetTables(params: { curve: CosetCurve; power: number; g: Uint8Array }): Promise<CosetTables> {
  const { curve, power, g } = params;
  if (!Number.isInteger(power) || power < 1 || power > curve.Fr.s) {
    throw new RangeError(`cosetTables: a domain of 2^${power} points`);
  }
  const n = 2 ** power;
  const half = n / 2;
  const w = curve.Fr.w[power] as Uint8Array;
  const one = curve.Fr.e(1);
  const first = curve.Fr.e((R * modPow(BigInt(n), FIELD_PRIME - 2n)) % FIELD_PRIME);
  const [tw, twInv, factors] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: one },
    { cmd: "ALLOCSET", var: 1, buff: w },
    { cmd: "ALLOC", var: 2, len: N8 },
    { cmd: "ALLOCSET", var: 3, buff: first },
    { cmd: "ALLOCSET", var: 4, buff: g },
    { cmd: "ALLOC", var: 5, len: half * N8 },
    { cmd: "ALLOC", var: 6, len: half * N8 },
    { cmd: "ALLOC", var: 7, len: n * N8 },
    { cmd: "CALL", fnName: "frm_inverse", params: [{ var: 1 }, { var: 2 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.powers, params: [{ var: 5 }, { val: half }, { var: 0 }, { var: 1 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.powers, params: [{ var: 6 }, { val: half }, { var: 0 }, { var: 2 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.cosetFactors, params: [{ var: 7 }, { val: power }, { var: 3 }, { var: 4 }] },
    { cmd: "GET", out: 0, var: 5, len: half * N8 },
    { cmd: "GET", out: 1, var: 6, len: half * N8 },
    { cmd: "GET", out: 2, var: 7, len: n * N8 },
  ]);
  const all = factors as Uint8Array;
  const cut = (n / 2) * N8;
  return { power, tw: tw as Uint8Array, twInv: twInv as Uint8Array, factors: [all.slice(0, cut), all.slice(cut)] };
}

/**
 * A polynomial's values on the domain (plain 32-byte little-endian elements, natural order) → its values on the
 * coset (Montgomery elements, natural order), in one task: inverse FFT by decimation in frequency, one
 * multiplication by the factors, forward FFT by decimation in time. Equal to wasmcurves's `frm_batchToMontgomery`,
 * `frm_ifft`, `frm_batchApplyKey(1, g)`, `frm_fft`.
 */
export async function cosetTransform(params: {
  curve: CosetCurve;
  tables: CosetTables;
  evals: Uint8Array;
}): Promise<Uint8Array> {
  const { curve, tables, evals } = params;
  const n = 2 ** tables.power;
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: evals },
    { cmd: "ALLOCSET", var: 1, buff: tables.twInv },
    { cmd: "ALLOCSET", var: 2, buff: tables.factors[0] },
    { cmd: "ALLOCSET", var: 3, buff: tables.tw },
    { cmd: "ALLOCSET", var: 4, buff: tables.factors[1] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.dif, params: [{ var: 0 }, { val: n }, { var: 1 }, { val: 1 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.mul, params: [{ var: 0 }, { var: 2 }, { val: n / 2 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.mul, params: [{ var: 0, offset: (n / 2) * N8 }, { var: 4 }, { val: n / 2 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.dit, params: [{ var: 0 }, { val: n }, { var: 3 }, { val: 1 }] },
    { cmd: "GET", out: 0, var: 0, len: n * N8 },
  ]);
  return out as Uint8Array;
}

/** The tables made per curve, by domain size and coset. */
const tableCache = new WeakMap<object, Map<string, Promise<CosetTables>>>();

/**
 * {@link cosetTables}, kept per curve: the last 2 domains and cosets asked for (2n elements, 4 MiB for 2^16 points;
 * making them costs about a tenth of one proof's transforms).
 */
export function cachedCosetTables(params: { curve: CosetCurve; power: number; g: Uint8Array }): Promise<CosetTables> {
  const { curve, power, g } = params;
  let perCurve = tableCache.get(curve);
  if (!perCurve) {
    perCurve = new Map();
    tableCache.set(curve, perCurve);
  }
  const id = `${power}:${Buffer.from(g).toString("hex")}`;
  let tables = perCurve.get(id);
  if (!tables) {
    tables = cosetTables(params);
    tables.catch(() => perCurve.delete(id));
    perCurve.set(id, tables);
    while (perCurve.size > 2) perCurve.delete(perCurve.keys().next().value as string);
  }
  return tables;
}

/**
 * One half of a coset transform: the inverse FFT's first stage for one half of its outputs, then that half alone
 * (an inverse FFT of size n/2, the factors' half, a forward FFT of size n/2): the forward FFT's input before its last
 * stage, positions [half·n/2, (half + 1)·n/2).
 */
async function transformHalf(curve: CosetCurve, tables: CosetTables, evals: Uint8Array, half: 0 | 1) {
  const n = 2 ** tables.power;
  const m = n / 2;
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: evals },
    { cmd: "ALLOCSET", var: 1, buff: tables.twInv },
    { cmd: "ALLOCSET", var: 2, buff: tables.factors[half] },
    { cmd: "ALLOCSET", var: 3, buff: tables.tw },
    { cmd: "ALLOC", var: 4, len: m * N8 },
    {
      cmd: "CALL",
      fnName: FFT_FUNCTIONS.difSplit,
      params: [{ var: 0 }, { val: n }, { var: 1 }, { val: 1 }, { var: 4 }, { val: half }],
    },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.dif, params: [{ var: 4 }, { val: m }, { var: 1 }, { val: 2 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.mul, params: [{ var: 4 }, { var: 2 }, { val: m }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.dit, params: [{ var: 4 }, { val: m }, { var: 3 }, { val: 2 }] },
    { cmd: "GET", out: 0, var: 4, len: m * N8 },
  ]);
  return out as Uint8Array;
}

/**
 * H's scalars of a Groth16 proof (snarkjs's QAP): A, B, C (their values on the domain, plain 32-byte elements) to
 * their values on the coset, then (A·B − C) out of Montgomery form, natural order. Each transform is split in two
 * halves that run as separate tasks (six tasks share the threads evenly); the forward FFTs' last stage is done with
 * the join, in one task per thread over a range of positions.
 */
export async function cosetHScalars(params: {
  curve: CosetCurve & { tm: { concurrency?: number } };
  tables: CosetTables;
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
  /** Join tasks (default: the curve's thread count). */
  parts?: number;
}): Promise<Uint8Array> {
  const { curve, tables } = params;
  const n = 2 ** tables.power;
  if (n < 4) throw new RangeError("cosetHScalars needs a domain of at least 4 points");
  const m = n / 2;
  const halves = await Promise.all(
    [params.a, params.b, params.c].flatMap((evals) => [
      transformHalf(curve, tables, evals, 0),
      transformHalf(curve, tables, evals, 1),
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
      const join = (lo: number) => ({
        cmd: "CALL",
        fnName: FFT_FUNCTIONS.ditJoin,
        params: [{ var: lo }, { var: lo + 1 }, { val: count }, { var: 6 }, { val: 1 }, { var: lo }, { var: lo + 1 }],
      });
      const [out] = await curve.tm.queueAction([
        ...halves.map((v, i) => ({ cmd: "ALLOCSET", var: i, buff: range(v) })),
        { cmd: "ALLOCSET", var: 6, buff: range(tables.tw) },
        { cmd: "ALLOC", var: 7, len: 2 * count * N8 },
        join(0),
        join(2),
        join(4),
        {
          cmd: "CALL",
          fnName: "qap_joinABC",
          params: [{ var: 0 }, { var: 2 }, { var: 4 }, { val: count }, { var: 7 }],
        },
        {
          cmd: "CALL",
          fnName: "qap_joinABC",
          params: [{ var: 1 }, { var: 3 }, { var: 5 }, { val: count }, { var: 7, offset: count * N8 }],
        },
        { cmd: "CALL", fnName: "frm_batchFromMontgomery", params: [{ var: 7 }, { val: 2 * count }, { var: 7 }] },
        { cmd: "GET", out: 0, var: 7, len: 2 * count * N8 },
      ]);
      const joined = out as Uint8Array;
      h.set(joined.subarray(0, count * N8), from * N8);
      h.set(joined.subarray(count * N8), (m + from) * N8);
    }),
  );
  return h;
}
