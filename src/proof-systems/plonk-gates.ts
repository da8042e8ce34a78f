import { r1csLayout } from "../circuits/snark-binfile.js";
import { toField } from "../util/field.js";

/** What {@link plonkGateCount} finds in an r1cs. */
export interface PlonkGateCount {
  /** R1CS constraints (what Groth16 pays for). */
  constraints: number;
  /** Public signals (outputs + public inputs). */
  nPublic: number;
  /**
   * PLONK gates snarkjs `plonk setup` makes of the r1cs: one per public signal, one per constraint, and one
   * addition gate for every term past the first (multiplications: per side) or past the third (linear
   * constraints) — R1CS linear combinations are free, PLONK gates are not.
   */
  gates: number;
}

type Lc = Map<number, bigint>;

const mod = toField;

/** Terms of a linear combination that are not the constant wire 0. */
function variableTerms(lc: Lc): number {
  let n = 0;
  for (const [wire, coef] of lc) if (wire !== 0 && coef !== 0n) n++;
  return n;
}

/** Gates snarkjs's `reduceCoefs(lc, maxC)` emits plus the constraint's own gate share. */
function extraGates(terms: number, maxC: number): number {
  return Math.max(0, terms - maxC);
}

/** k·lc1 − lc2, as snarkjs's `join`. */
function join(lc1: Lc, k: bigint, lc2: Lc): Lc {
  const out: Lc = new Map();
  for (const [w, c] of lc1) out.set(w, mod((out.get(w) ?? 0n) + k * c));
  for (const [w, c] of lc2) out.set(w, mod((out.get(w) ?? 0n) - c));
  for (const [w, c] of out) if (c === 0n) out.delete(w);
  return out;
}

function kind(lc: Lc): "zero" | "constant" | "variable" {
  if (variableTerms(lc) > 0) return "variable";
  return mod(lc.get(0) ?? 0n) !== 0n ? "constant" : "zero";
}

/** The sizes an r1cs header states (see {@link readR1csHeader}). */
export interface R1csHeader {
  constraints: number;
  /** Public signals (outputs + public inputs). */
  nPublic: number;
}

function parseHeader(r1cs: Uint8Array) {
  const { n8, nPublic, nConstraints, constraints } = r1csLayout(r1cs, "ARTIFACT_CORRUPT");
  return { n8, nPublic, nConstraints, constraintsAt: constraints.start };
}

/**
 * The constraint and public-signal counts of a circom `.r1cs` header (what Groth16 pays for and sizes its ptau by).
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` when the bytes are not an r1cs file.
 * @example
 * ```ts
 * const { constraints, nPublic } = readR1csHeader(compiled.r1cs);
 * ```
 */
export function readR1csHeader(r1cs: Uint8Array): R1csHeader {
  const { nConstraints, nPublic } = parseHeader(r1cs);
  return { constraints: nConstraints, nPublic };
}

/**
 * Counts the PLONK gates of a circom `.r1cs` exactly as snarkjs's PLONK and FFLONK setups convert it, without
 * a ptau: what sizes the ptau a universal setup needs before it runs.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` when the bytes are not an r1cs file.
 * @example
 * ```ts
 * const { constraints, gates } = plonkGateCount(compiled.r1cs);
 * ```
 */
export function plonkGateCount(r1cs: Uint8Array): PlonkGateCount {
  const view = new DataView(r1cs.buffer, r1cs.byteOffset, r1cs.byteLength);
  const { n8, nPublic, nConstraints, constraintsAt } = parseHeader(r1cs);
  let at = constraintsAt;
  const readLc = (): Lc => {
    const n = view.getUint32(at, true);
    at += 4;
    const lc: Lc = new Map();
    for (let j = 0; j < n; j++) {
      const wire = view.getUint32(at, true);
      let v = 0n;
      for (let b = n8 - 1; b >= 0; b--) v = (v << 8n) | BigInt(r1cs[at + 4 + b] as number);
      at += 4 + n8;
      lc.set(wire, mod((lc.get(wire) ?? 0n) + v));
    }
    for (const [w, c] of lc) if (c === 0n) lc.delete(w);
    return lc;
  };
  let gates = nPublic;
  for (let c = 0; c < nConstraints; c++) {
    const a = readLc();
    const b = readLc();
    const cc = readLc();
    const ka = kind(a);
    const kb = kind(b);
    if (ka === "zero" || kb === "zero") {
      gates += 1 + extraGates(variableTerms(cc), 3);
    } else if (ka === "constant") {
      gates += 1 + extraGates(variableTerms(join(b, a.get(0) ?? 0n, cc)), 3);
    } else if (kb === "constant") {
      gates += 1 + extraGates(variableTerms(join(a, b.get(0) ?? 0n, cc)), 3);
    } else {
      gates += 1 + extraGates(variableTerms(a), 1) + extraGates(variableTerms(b), 1) + extraGates(variableTerms(cc), 1);
    }
  }
  return { constraints: nConstraints, nPublic, gates };
}
