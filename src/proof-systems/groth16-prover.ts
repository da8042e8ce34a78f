import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { binfileSections } from "../circuits/snark-binfile.js";
import { VerinferError } from "../errors.js";
import { FIELD_PRIME } from "../util/field.js";
import { batchAffineMultiExp } from "./batch-affine-multi-exp.js";
import {
  elementAt,
  type FieldVector,
  firstMismatch,
  multiplyPointwise,
  multiplyRows,
  readU256,
  readVector,
  writeVector,
} from "./groth16-field.js";
import type { Groth16ProvingKey } from "./groth16-key.js";
import { type CurveGroup, multiExpByWidth, scalarWidths } from "./groth16-msm.js";
import { checkCosetDomain, cosetHScalars } from "./wasm/coset-transform.js";
import { type ProverCurve, proverCurve } from "./wasm/prover-curve.js";

/** Milliseconds spent in each stage of one proof (see {@link proveWithGroth16Key}'s `onTimings`). */
export interface Groth16ProveTimings {
  /** Reading the witness, A·w and B·w, C = A∘B, and the constraint check (`checkMs` of it). */
  abcMs: number;
  /** The r1cs check A·w ∘ B·w = C·w (0 without an r1cs in the key). */
  checkMs: number;
  /** A, B, C to the odd coset (the coset transform's six FFTs) and joining them into H's scalars. */
  fftMs: number;
  msmAMs: number;
  msmB1Ms: number;
  msmB2Ms: number;
  msmCMs: number;
  msmHMs: number;
  /** The same stages in CPU milliseconds of the whole process (every thread). */
  cpu?: Omit<Groth16ProveTimings, "cpu">;
}

/** Parameters of {@link proveWithGroth16Key}. */
export interface ProveWithGroth16KeyParams {
  key: Groth16ProvingKey;
  /** The witness as a `.wtns` file (snarkjs's format). */
  wtns: Uint8Array;
  /** Prove on this thread only (a pool worker's curve); otherwise on snarkjs's shared, threaded curve. */
  singleThread?: boolean;
  /**
   * Receives where this proof's time went. Profiling runs the stages one after the other; without it the FFTs and
   * every multi-exponentiation run at once (faster on a thread pool).
   */
  onTimings?: (timings: Groth16ProveTimings) => void;
  /**
   * Whose multi-exponentiations: verinfer's batch-affine windows (the default) or ffjavascript's
   * `multiExpAffine` (the reference, kept for before/after benchmarks). Both give the same proof.
   */
  msm?: "batch-affine" | "ffjavascript";
}

/** The witness of a `.wtns` file as field elements, checked against the key's sizes. */
function readWitness(wtns: Uint8Array, nVars: number): { bytes: Uint8Array; values: FieldVector } {
  const fail = (why: string): never => {
    throw new VerinferError("PROVE_FAILED", `malformed witness: ${why}`);
  };
  const sections = binfileSections(wtns, "wtns", "PROVE_FAILED");
  const header = sections.get(1) ?? fail("no header");
  const data = sections.get(2) ?? fail("no values");
  const view = new DataView(wtns.buffer, wtns.byteOffset, wtns.byteLength);
  if (header.size !== 40 || view.getUint32(header.start, true) !== 32) fail("not 32-byte field elements");
  if (readU256(view, header.start + 4) !== FIELD_PRIME) fail("not over bn128's scalar field");
  const n = view.getUint32(header.start + 36, true);
  if (n !== nVars || data.size !== 32 * n) fail(`${n} values for a circuit of ${nVars}`);
  const bytes = wtns.subarray(data.start, data.start + data.size);
  const values = readVector(bytes, 0, n);
  if ("notReduced" in values) return fail(`value ${values.notReduced} is not below p`);
  // Wire 0 is the constant 1 the verifier assumes: a witness without it (all zeros) satisfies every R1CS.
  if (elementAt(values, 0) !== 1n) fail("wire 0 (the constant one) is not 1");
  return { bytes, values };
}

/**
 * A·w, B·w and C = A∘B over the QAP's rows: what snarkjs's `buildABC` computes from the zkey, here as exact field
 * elements.
 */
export function evaluateGroth16Abc(
  key: Groth16ProvingKey,
  witness: FieldVector,
): { a: FieldVector; b: FieldVector; c: FieldVector } {
  const vec = (): FieldVector => ({ num: new Float64Array(key.rows), big: new Map() });
  const a = vec();
  const b = vec();
  const c = vec();
  multiplyRows(key.a, witness, a);
  multiplyRows(key.b, witness, b);
  multiplyPointwise(a, b, key.rows, c);
  return { a, b, c };
}

/**
 * The first r1cs constraint a witness breaks (A·w ∘ B·w ≠ C·w, with `a` and `b` from {@link evaluateGroth16Abc}),
 * −1 when it satisfies them all, `undefined` when the key holds no r1cs.
 */
export function violatedConstraint(
  key: Groth16ProvingKey,
  witness: FieldVector,
  abc: { a: FieldVector; b: FieldVector },
): number | undefined {
  if (!key.c) return undefined;
  const cw: FieldVector = { num: new Float64Array(key.nConstraints), big: new Map() };
  multiplyRows(key.c, witness, cw);
  return firstMismatch(abc.a, abc.b, cw, key.nConstraints);
}

/** A uniformly random element of Fr (512 random bits mod p), as a Montgomery element of `curve`. */
function randomFr(curve: ProverCurve): Uint8Array {
  const bytes = randomBytes(64);
  let v = 0n;
  for (const byte of bytes) v = (v << 8n) | BigInt(byte);
  return curve.Fr.e(v % FIELD_PRIME);
}

/** Below this many points a multi-exponentiation is ffjavascript's (measured with `npm run bench:msm`'s code). */
const BATCH_AFFINE_MIN_POINTS = { G1: 128, G2: 64 } as const;

const strings = (v: unknown): unknown => (Array.isArray(v) ? v.map(strings) : String(v));

/**
 * A Groth16 proof from a parsed key and a witness: the same proof snarkjs's `groth16.prove` makes (its format,
 * its QAP, its curve's multi-exponentiations), with A·w and B·w evaluated from compact rows in exact small-number
 * arithmetic, H's scalars by verinfer's coset transform (the fft plugin's wasm, each transform split in two tasks),
 * and the witness multi-exponentiations grouped by scalar width.
 *
 * @throws VerinferError `PROVE_FAILED` for a malformed witness or one that breaks a constraint (checked against
 *   the r1cs when the key holds it, before any point work); `UNSUPPORTED_MODE` for a domain too large for the
 *   in-process prover's workers (before any work).
 * @example
 * ```ts
 * const key = loadGroth16Key({ zkey, r1cs });
 * const { proof, publicSignals } = await proveWithGroth16Key({ key, wtns });
 * ```
 */
export async function proveWithGroth16Key(params: ProveWithGroth16KeyParams): Promise<{
  proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: string; curve: string };
  publicSignals: string[];
}> {
  const { key } = params;
  // Before any work is queued: a domain too large for a worker's memory would hang the threaded curve.
  checkCosetDomain(key.power);
  const profile = params.onTimings !== undefined;
  const stamps: Array<{ wall: number; cpu: number }> = [];
  const stamp = () => {
    if (!profile) return;
    const u = process.cpuUsage();
    stamps.push({ wall: performance.now(), cpu: (u.user + u.system) / 1000 });
  };
  stamp();
  const { bytes: wBytes, values } = readWitness(params.wtns, key.nVars);
  const abc = evaluateGroth16Abc(key, values);
  stamp();
  const violated = violatedConstraint(key, values, abc);
  if (violated !== undefined && violated >= 0) {
    throw new VerinferError("PROVE_FAILED", `the witness breaks constraint ${violated}`, {
      details: "A·w ∘ B·w ≠ C·w: the inputs do not satisfy the circuit",
    });
  }
  stamp();
  const curve = await proverCurve({ singleThread: params.singleThread ?? false });
  const { Fr, G1, G2 } = curve;
  /**
   * A group whose multi-exponentiation is verinfer's batch-affine one, except for the few points of a small width
   * group, where one field inversion per round costs more than it saves (ffjavascript's is faster there).
   */
  const batchAffine = (group: "G1" | "G2"): CurveGroup => ({
    zero: curve[group].zero,
    add: (a, b) => curve[group].add(a, b),
    multiExpAffine: (bases, scalars) =>
      bases.byteLength / (2 * curve[group].F.n8) < BATCH_AFFINE_MIN_POINTS[group]
        ? curve[group].multiExpAffine(bases, scalars)
        : batchAffineMultiExp({ curve, group, bases, scalars }),
  });
  const reference = params.msm === "ffjavascript";
  const g1 = reference ? G1 : batchAffine("G1");
  const g2 = reference ? G2 : batchAffine("G2");
  const msmH = (h: Uint8Array) =>
    reference
      ? G1.multiExpAffine(key.pointsH, h)
      : batchAffineMultiExp({ curve, group: "G1", bases: key.pointsH, scalars: h });
  const inc = key.power === Fr.s ? Fr.shift : (Fr.w[key.power + 1] as Uint8Array);
  /**
   * H's scalars (snarkjs's QAP): A, B, C from their values on the domain to their values on the odd coset by the fft
   * plugin's coset transform (each split in two halves, six tasks), then A·B − C out of Montgomery form.
   */
  const hScalars = async () => {
    const plain = (v: FieldVector) => {
      // Shared memory: the transform's workers read it without a copy on the way.
      const evals = new Uint8Array(new SharedArrayBuffer(key.domainSize * 32));
      writeVector(v, key.rows, evals);
      return evals;
    };
    return cosetHScalars({ curve, power: key.power, g: inc, a: plain(abc.a), b: plain(abc.b), c: plain(abc.c) });
  };
  const widths = scalarWidths(wBytes, 0, key.nVars);
  const msm = (group: CurveGroup, bases: Uint8Array, pointBytes: number, from: number) =>
    multiExpByWidth({
      group,
      bases,
      pointBytes,
      scalars: wBytes,
      scalarAt: from * 32,
      widths: widths.subarray(from),
      n: key.nVars - from,
    });
  const msmA = () => msm(g1, key.pointsA, 64, 0);
  const msmB1 = () => msm(g1, key.pointsB1, 64, 0);
  const msmB2 = () => msm(g2, key.pointsB2, 128, 0);
  const msmC = () => msm(g1, key.pointsC, 64, key.nPublic + 1);
  let piA: Uint8Array;
  let piB1: Uint8Array;
  let piB2: Uint8Array;
  let piC: Uint8Array;
  let resH: Uint8Array;
  if (profile) {
    // One stage at a time, so that each stage's time is its own.
    const h = await hScalars();
    stamp();
    piA = await msmA();
    stamp();
    piB1 = await msmB1();
    stamp();
    piB2 = await msmB2();
    stamp();
    piC = await msmC();
    stamp();
    resH = await msmH(h);
    stamp();
  } else {
    // Everything at once: the thread pool always has work (the coset transforms' joins and the small width groups of the
    // witness MSMs leave threads idle when run alone).
    [resH, piA, piB1, piB2, piC] = await Promise.all([hScalars().then(msmH), msmA(), msmB1(), msmB2(), msmC()]);
  }

  const r = randomFr(curve);
  const s = randomFr(curve);
  const alpha1 = G1.fromRprLEM(key.alpha1, 0);
  const beta1 = G1.fromRprLEM(key.beta1, 0);
  const beta2 = G2.fromRprLEM(key.beta2, 0);
  const delta1 = G1.fromRprLEM(key.delta1, 0);
  const delta2 = G2.fromRprLEM(key.delta2, 0);
  const pi_a = G1.add(G1.add(piA, alpha1), G1.timesFr(delta1, r));
  const pi_b = G2.add(G2.add(piB2, beta2), G2.timesFr(delta2, s));
  const pib1 = G1.add(G1.add(piB1, beta1), G1.timesFr(delta1, s));
  let pi_c = G1.add(piC, resH);
  pi_c = G1.add(pi_c, G1.timesFr(pi_a, s));
  pi_c = G1.add(pi_c, G1.timesFr(pib1, r));
  pi_c = G1.add(pi_c, G1.timesFr(delta1, Fr.neg(Fr.mul(r, s))));

  const view = new DataView(wBytes.buffer, wBytes.byteOffset, wBytes.byteLength);
  const publicSignals: string[] = [];
  for (let i = 1; i <= key.nPublic; i++) publicSignals.push(readU256(view, 32 * i).toString());
  if (params.onTimings) {
    const span = (i: number, k: "wall" | "cpu") => (stamps[i + 1]?.[k] ?? 0) - (stamps[i]?.[k] ?? 0);
    const stages = (k: "wall" | "cpu") => ({
      abcMs: span(0, k) + span(1, k),
      checkMs: key.c ? span(1, k) : 0,
      fftMs: span(2, k),
      msmAMs: span(3, k),
      msmB1Ms: span(4, k),
      msmB2Ms: span(5, k),
      msmCMs: span(6, k),
      msmHMs: span(7, k),
    });
    params.onTimings({ ...stages("wall"), cpu: stages("cpu") });
  }
  return {
    proof: {
      pi_a: strings(G1.toObject(G1.toAffine(pi_a))) as string[],
      pi_b: strings(G2.toObject(G2.toAffine(pi_b))) as string[][],
      pi_c: strings(G1.toObject(G1.toAffine(pi_c))) as string[],
      protocol: "groth16",
      curve: curve.name,
    },
    publicSignals,
  };
}
