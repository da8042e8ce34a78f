import { FIELD_PRIME } from "../../util/field.js";
import { FFT_FUNCTIONS } from "./fft-plugin.js";

/** The parts of an ffjavascript bn128 curve (built with {@link fftPlugin}) the coset transform calls. */
export interface CosetCurve {
  Fr: {
    s: number;
    w: Uint8Array[];
    e(v: bigint | number): Uint8Array;
    inv(a: Uint8Array): Uint8Array;
  };
  tm: { queueAction(task: unknown[]): Promise<Uint8Array[]> };
}

/** The tables of one domain size and coset (see {@link cosetTables}), as Montgomery elements. */
export interface CosetTables {
  /** log2 of the domain size n. */
  power: number;
  /** w^j for j < n/2, w the curve's n-th root of unity (`Fr.w[power]`). */
  tw: Uint8Array;
  /** w^-j for j < n/2. */
  twInv: Uint8Array;
  /** At position p: R/n · g^rev(p), g the coset's generator, rev reversing `power` bits, R = 2^256 mod p. */
  factors: Uint8Array;
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
  const n = 2 ** power;
  const half = Math.max(n / 2, 1);
  const w = curve.Fr.w[power] as Uint8Array;
  const one = curve.Fr.e(1);
  const first = curve.Fr.e((R * modPow(BigInt(n), FIELD_PRIME - 2n)) % FIELD_PRIME);
  const [tw, twInv, factors] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: one },
    { cmd: "ALLOCSET", var: 1, buff: w },
    { cmd: "ALLOCSET", var: 2, buff: curve.Fr.inv(w) },
    { cmd: "ALLOCSET", var: 3, buff: first },
    { cmd: "ALLOCSET", var: 4, buff: g },
    { cmd: "ALLOC", var: 5, len: half * N8 },
    { cmd: "ALLOC", var: 6, len: half * N8 },
    { cmd: "ALLOC", var: 7, len: n * N8 },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.powers, params: [{ var: 5 }, { val: half }, { var: 0 }, { var: 1 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.powers, params: [{ var: 6 }, { val: half }, { var: 0 }, { var: 2 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.cosetFactors, params: [{ var: 7 }, { val: power }, { var: 3 }, { var: 4 }] },
    { cmd: "GET", out: 0, var: 5, len: half * N8 },
    { cmd: "GET", out: 1, var: 6, len: half * N8 },
    { cmd: "GET", out: 2, var: 7, len: n * N8 },
  ]);
  return { power, tw: tw as Uint8Array, twInv: twInv as Uint8Array, factors: factors as Uint8Array };
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
    { cmd: "ALLOCSET", var: 2, buff: tables.factors },
    { cmd: "ALLOCSET", var: 3, buff: tables.tw },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.dif, params: [{ var: 0 }, { val: n }, { var: 1 }, { val: 1 }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.mul, params: [{ var: 0 }, { var: 2 }, { val: n }] },
    { cmd: "CALL", fnName: FFT_FUNCTIONS.dit, params: [{ var: 0 }, { val: n }, { var: 3 }, { val: 1 }] },
    { cmd: "GET", out: 0, var: 0, len: n * N8 },
  ]);
  return out as Uint8Array;
}
