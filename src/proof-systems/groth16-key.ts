import { binfileSections, r1csLayout } from "../circuits/snark-binfile.js";
import { VerinferError } from "../errors.js";
import { BASE_FIELD_MODULUS, FIELD_PRIME } from "../util/field.js";
import { type FieldVector, powMod, readU256, type SparseRows, setElement } from "./groth16-field.js";

/** R⁻² mod p: a zkey stores each A/B coefficient c as c·R² mod p (R = 2^256), snarkjs's Montgomery trick. */
const R_INV2 = powMod(powMod(1n << 256n, 2n), FIELD_PRIME - 2n);

/**
 * A Groth16 proving key parsed once: the zkey's sizes, its points as views into the zkey bytes (affine,
 * Montgomery, as snarkjs's multi-exponentiations read them), its A and B matrices as compact rows, and — with the
 * circuit's r1cs — its C matrix, so a witness can be checked before any point work.
 */
export interface Groth16ProvingKey {
  nVars: number;
  nPublic: number;
  domainSize: number;
  /** log2(domainSize). */
  power: number;
  /** Rows of the QAP that A or B touch (constraints, then one row per public input and the constant). */
  rows: number;
  a: SparseRows;
  b: SparseRows;
  /** C of the r1cs, one row per constraint (`undefined` without an r1cs). */
  c: SparseRows | undefined;
  /** r1cs constraints (the rows `c` has); 0 without an r1cs. */
  nConstraints: number;
  /** Header points, affine Montgomery bytes (G1: 64, G2: 128). */
  alpha1: Uint8Array;
  beta1: Uint8Array;
  beta2: Uint8Array;
  delta1: Uint8Array;
  delta2: Uint8Array;
  /** Point sections 5–9 (A, B1, B2, C, H). */
  pointsA: Uint8Array;
  pointsB1: Uint8Array;
  pointsB2: Uint8Array;
  pointsC: Uint8Array;
  pointsH: Uint8Array;
}

/** Parameters of {@link loadGroth16Key}. */
export interface LoadGroth16KeyParams {
  zkey: Uint8Array;
  /** The circuit's r1cs: with it, every proof checks A·w ∘ B·w = C·w before its multi-exponentiations. */
  r1cs?: Uint8Array;
}

const corrupt = (what: string): never => {
  throw new VerinferError("ARTIFACT_CORRUPT", `not a groth16 zkey: ${what}`);
};

/**
 * Parses a snarkjs Groth16 zkey (and optionally its r1cs) into a {@link Groth16ProvingKey}. The points stay views
 * into `zkey` (no copy); the coefficient section becomes compressed rows with small coefficients as numbers.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` for a truncated or malformed zkey (or r1cs), or another curve's.
 * @example
 * ```ts
 * const key = loadGroth16Key({ zkey, r1cs });
 * const { proof, publicSignals } = await proveWithGroth16Key({ key, wtns });
 * ```
 */
export function loadGroth16Key(params: LoadGroth16KeyParams): Groth16ProvingKey {
  const { zkey } = params;
  const sections = binfileSections(zkey, "zkey", "ARTIFACT_CORRUPT");
  const view = new DataView(zkey.buffer, zkey.byteOffset, zkey.byteLength);
  const section = (type: number, size?: number) => {
    const s = sections.get(type) ?? corrupt(`no section ${type}`);
    if (size !== undefined && s.size !== size) corrupt(`section ${type} has ${s.size} bytes, expected ${size}`);
    return zkey.subarray(s.start, s.start + s.size);
  };
  const protocol = section(1, 4);
  if (new DataView(protocol.buffer, protocol.byteOffset, 4).getUint32(0, true) !== 1) corrupt("not groth16");
  const h = sections.get(2) ?? corrupt("no header");
  if (h.size !== 4 + 32 + 4 + 32 + 12 + 64 * 3 + 128 * 3) corrupt("header of unexpected size");
  let at = h.start;
  if (view.getUint32(at, true) !== 32 || readU256(view, at + 4) !== BASE_FIELD_MODULUS) corrupt("not a bn128 key");
  at += 36;
  if (view.getUint32(at, true) !== 32 || readU256(view, at + 4) !== FIELD_PRIME) corrupt("not a bn128 key");
  at += 36;
  const nVars = view.getUint32(at, true);
  const nPublic = view.getUint32(at + 4, true);
  const domainSize = view.getUint32(at + 8, true);
  at += 12;
  const power = Math.log2(domainSize);
  if (!Number.isInteger(power) || power < 1 || power > 28) corrupt(`domain size ${domainSize}`);
  if (nVars < nPublic + 1) corrupt(`${nVars} variables for ${nPublic} public signals`);
  const point = (bytes: number) => {
    const p = zkey.subarray(at, at + bytes);
    at += bytes;
    return p;
  };
  const alpha1 = point(64);
  const beta1 = point(64);
  const beta2 = point(128);
  point(128); // gamma_2: the verifier's
  const delta1 = point(64);
  const delta2 = point(128);
  // The point sections first: their lengths bound nVars and domainSize by the file's own size before anything is
  // allocated from them (a small corrupt header must not allocate gigabytes).
  const pointsA = section(5, nVars * 64);
  const pointsB1 = section(6, nVars * 64);
  const pointsB2 = section(7, nVars * 128);
  const pointsC = section(8, (nVars - nPublic - 1) * 64);
  const pointsH = section(9, domainSize * 64);
  const { a, b, rows } = coefficientRows(section(4), nVars, domainSize);
  const key: Groth16ProvingKey = {
    nVars,
    nPublic,
    domainSize,
    power,
    rows,
    a,
    b,
    c: undefined,
    nConstraints: 0,
    alpha1,
    beta1,
    beta2,
    delta1,
    delta2,
    pointsA,
    pointsB1,
    pointsB2,
    pointsC,
    pointsH,
  };
  return params.r1cs ? withR1cs(key, params.r1cs) : key;
}

/**
 * The key with the C matrix of the circuit's r1cs (replacing any it had): what {@link loadGroth16Key} adds when given
 * an r1cs, without parsing the zkey again.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` for a malformed r1cs or one of another circuit than the key's.
 * @example
 * ```ts
 * const checked = withR1cs(loadGroth16Key({ zkey }), r1cs);
 * ```
 */
export function withR1cs(key: Groth16ProvingKey, r1cs: Uint8Array): Groth16ProvingKey {
  return { ...key, ...r1csC(r1cs, key.nVars, key.nPublic, key.rows) };
}

/** The coefficient section (`[m, c, s, coef·R²]` entries) as A and B rows. */
function coefficientRows(coefs: Uint8Array, nVars: number, domainSize: number) {
  const view = new DataView(coefs.buffer, coefs.byteOffset, coefs.byteLength);
  if (coefs.byteLength < 4) corrupt("empty coefficient section");
  const n = view.getUint32(0, true);
  if (coefs.byteLength !== 4 + n * 44) corrupt("coefficient section of unexpected size");
  const counts = [new Int32Array(domainSize + 1), new Int32Array(domainSize + 1)] as const;
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const o = 4 + i * 44;
    const m = view.getUint32(o, true);
    const c = view.getUint32(o + 4, true);
    const s = view.getUint32(o + 8, true);
    if (m > 1 || c >= domainSize || s >= nVars) corrupt(`coefficient ${i} out of range`);
    (counts[m as 0 | 1][c + 1] as number)++;
    if (c + 1 > rows) rows = c + 1;
  }
  const decoded = new Map<bigint, bigint>();
  const build = (m: 0 | 1): SparseRows => {
    const start = counts[m];
    for (let r = 0; r < domainSize; r++) start[r + 1] = (start[r + 1] as number) + (start[r] as number);
    const total = start[domainSize] as number;
    const fill = start.slice(0, domainSize);
    const signal = new Int32Array(total);
    const coef: FieldVector = { num: new Float64Array(total), big: new Map() };
    for (let i = 0; i < n; i++) {
      const o = 4 + i * 44;
      if (view.getUint32(o, true) !== m) continue;
      const c = view.getUint32(o + 4, true);
      const k = (fill[c] as number)++;
      signal[k] = view.getUint32(o + 8, true);
      const stored = readU256(view, o + 12);
      if (stored >= FIELD_PRIME) corrupt(`coefficient ${i} not reduced`);
      let v = decoded.get(stored);
      if (v === undefined) {
        v = (stored * R_INV2) % FIELD_PRIME;
        decoded.set(stored, v);
      }
      setElement(coef, k, v);
    }
    return { rows, start: start.subarray(0, rows + 1), signal, coef };
  };
  return { a: build(0), b: build(1), rows };
}

/** The C matrix of an r1cs, one row per constraint, checked against the zkey's sizes. */
function r1csC(
  r1cs: Uint8Array,
  nVars: number,
  nPublic: number,
  zkeyRows: number,
): { c: SparseRows; nConstraints: number } {
  const layout = r1csLayout(r1cs, "ARTIFACT_CORRUPT");
  if (layout.n8 !== 32 || layout.prime !== FIELD_PRIME) corrupt("the r1cs is not over bn128");
  if (layout.nWires !== nVars) corrupt(`the r1cs has ${layout.nWires} wires, the zkey ${nVars}`);
  const nConstraints = layout.nConstraints;
  if (layout.nPublic !== nPublic || nConstraints + nPublic + 1 !== zkeyRows) {
    corrupt(`the r1cs (${nConstraints} constraints, ${layout.nPublic} public) is not the zkey's circuit`);
  }
  const view = new DataView(r1cs.buffer, r1cs.byteOffset, r1cs.byteLength);
  const end = layout.constraints.start + layout.constraints.size;
  let at = layout.constraints.start;
  const need = (bytes: number) => {
    if (at + bytes > end) corrupt("r1cs constraints section truncated");
  };
  const skipLc = () => {
    need(4);
    const k = view.getUint32(at, true);
    need(4 + k * 36);
    at += 4 + k * 36;
  };
  const start = new Int32Array(nConstraints + 1);
  const signals: number[] = [];
  const values: bigint[] = [];
  for (let i = 0; i < nConstraints; i++) {
    skipLc();
    skipLc();
    need(4);
    const k = view.getUint32(at, true);
    need(4 + k * 36);
    at += 4;
    for (let j = 0; j < k; j++) {
      const s = view.getUint32(at, true);
      const v = readU256(view, at + 4);
      if (s >= nVars || v >= FIELD_PRIME) corrupt(`r1cs constraint ${i} has a term out of range`);
      signals.push(s);
      values.push(v);
      at += 36;
    }
    start[i + 1] = signals.length;
  }
  const coef: FieldVector = { num: new Float64Array(values.length), big: new Map() };
  for (const [k, v] of values.entries()) setElement(coef, k, v);
  return { c: { rows: nConstraints, start, signal: Int32Array.from(signals), coef }, nConstraints };
}
