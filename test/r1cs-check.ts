// Test helpers: an independent R1CS checker, witness computation, and compilation of tiny gadget circuits.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { WitnessCalculatorBuilder } from "circom_runtime";
import * as snarkjs from "snarkjs";
import { type CompiledCircuit, compileCircuit } from "../src/circuits/compile-circuit.js";
import { binfileSections } from "../src/circuits/snark-binfile.js";
import { FIELD_PRIME, toField } from "../src/util/field.js";

/** One linear combination: (wire index, coefficient) pairs. */
export type LinearCombination = Array<[number, bigint]>;

/** A parsed `.r1cs` file (circom's binary format, version 1). */
export interface R1cs {
  prime: bigint;
  nWires: number;
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
  /** Each constraint A·w * B·w = C·w. */
  constraints: Array<[LinearCombination, LinearCombination, LinearCombination]>;
}

function readLE(bytes: Uint8Array, offset: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] as number);
  return v;
}

/**
 * Parses an `.r1cs` file. Written here rather than taken from r1csfile (untyped, and it builds a threaded curve
 * just to hold coefficients) so that the checker shares no code with snarkjs.
 */
export function parseR1cs(bytes: Uint8Array): R1cs {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The section table through src's one binfile reader; the constraints themselves are parsed here, independently.
  const sections = binfileSections(bytes, "r1cs", "ARTIFACT_CORRUPT");
  const header = sections.get(1);
  const body = sections.get(2);
  if (!header || !body) throw new Error("r1cs file lacks its header or constraints section");
  let p = header.start;
  const n8 = view.getUint32(p, true);
  const prime = readLE(bytes, p + 4, n8);
  p += 4 + n8;
  const nWires = view.getUint32(p, true);
  const nOutputs = view.getUint32(p + 4, true);
  const nPubInputs = view.getUint32(p + 8, true);
  const nPrvInputs = view.getUint32(p + 12, true);
  const nConstraints = view.getUint32(p + 24, true); // after nLabels (u64)

  let q = body.start;
  const readLC = (): LinearCombination => {
    const n = view.getUint32(q, true);
    q += 4;
    const lc: LinearCombination = [];
    for (let i = 0; i < n; i++) {
      lc.push([view.getUint32(q, true), readLE(bytes, q + 4, n8)]);
      q += 4 + n8;
    }
    return lc;
  };
  const constraints: R1cs["constraints"] = [];
  for (let i = 0; i < nConstraints; i++) constraints.push([readLC(), readLC(), readLC()]);
  if (q !== body.start + body.size) throw new Error("r1cs constraints section has trailing bytes");
  return { prime, nWires, nOutputs, nPubInputs, nPrvInputs, constraints };
}

/** Result of {@link checkR1cs}. */
export interface R1csCheck {
  ok: boolean;
  /** Index of the first violated constraint, -1 when all hold. */
  firstFailing: number;
}

function evalLC(lc: LinearCombination, w: readonly bigint[], p: bigint): bigint {
  let acc = 0n;
  for (const [idx, coeff] of lc) {
    const v = w[idx];
    if (v === undefined) throw new Error(`witness has no wire ${idx}`);
    acc += coeff * v;
  }
  return acc % p;
}

/** Evaluates every constraint A·w * B·w = C·w (mod p) on a witness (w[0] must be 1). */
export function checkR1cs(r1cs: R1cs | Uint8Array, witness: readonly bigint[]): R1csCheck {
  const sys = r1cs instanceof Uint8Array ? parseR1cs(r1cs) : r1cs;
  const p = sys.prime;
  if (witness.length !== sys.nWires) throw new Error(`witness has ${witness.length} wires, r1cs ${sys.nWires}`);
  const w = witness.map((v) => ((v % p) + p) % p);
  if (w[0] !== 1n) return { ok: false, firstFailing: -1 };
  for (const [i, [a, b, c]] of sys.constraints.entries()) {
    if ((evalLC(a, w, p) * evalLC(b, w, p) - evalLC(c, w, p)) % p !== 0n) return { ok: false, firstFailing: i };
  }
  return { ok: true, firstFailing: -1 };
}

/** Encodes a witness as a `.wtns` file (version 2), e.g. to hand a tampered witness to snarkjs. */
export function encodeWtns(witness: readonly bigint[], prime: bigint = FIELD_PRIME): Uint8Array {
  const n8 = 32;
  const headerSize = 4 + n8 + 4;
  const dataSize = witness.length * n8;
  const out = new Uint8Array(12 + 12 + headerSize + 12 + dataSize);
  const view = new DataView(out.buffer);
  out.set([..."wtns"].map((c) => c.charCodeAt(0)));
  view.setUint32(4, 2, true);
  view.setUint32(8, 2, true);
  const writeLE = (offset: number, v: bigint) => {
    let x = v;
    for (let i = 0; i < n8; i++) {
      out[offset + i] = Number(x & 0xffn);
      x >>= 8n;
    }
  };
  let pos = 12;
  view.setUint32(pos, 1, true);
  view.setBigUint64(pos + 4, BigInt(headerSize), true);
  view.setUint32(pos + 12, n8, true);
  writeLE(pos + 16, prime);
  view.setUint32(pos + 16 + n8, witness.length, true);
  pos += 12 + headerSize;
  view.setUint32(pos, 2, true);
  view.setBigUint64(pos + 4, BigInt(dataSize), true);
  pos += 12;
  for (const v of witness) {
    writeLE(pos, ((v % prime) + prime) % prime);
    pos += n8;
  }
  return out;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** snarkjs's own witness check (`snarkjs wtns check`), for cross-checking {@link checkR1cs}. */
export function snarkjsCheck(r1cs: Uint8Array, witness: readonly bigint[]): Promise<boolean> {
  // snarkjs calls logger.warn on a failing witness, so a logger is required.
  return snarkjs.wtns.check({ type: "mem", data: r1cs }, { type: "mem", data: encodeWtns(witness) }, silent);
}

/** Input object of a circuit: signed bigints (mapped to the field) or arrays of them. */
export type CircuitInput = Record<string, bigint | readonly bigint[]>;

function inputJson(input: CircuitInput): Record<string, string | string[]> {
  const json: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(input)) {
    json[k] = typeof v === "bigint" ? toField(v).toString() : v.map((x) => toField(x).toString());
  }
  return json;
}

/** The full witness (w[0] = 1, outputs, inputs, internal wires) as field elements. */
export async function calculateWitness(wasm: Uint8Array, input: CircuitInput): Promise<bigint[]> {
  const wtns: { type: "mem"; data?: Uint8Array } = { type: "mem" };
  await snarkjs.wtns.calculate(inputJson(input), wasm, wtns);
  if (!wtns.data) throw new Error("snarkjs wrote no witness");
  return wtnsToBigints(wtns.data);
}

interface CircomWitnessCalculator {
  calculateWitness(input: Record<string, unknown>, sanityCheck: boolean): Promise<bigint[]>;
}

/**
 * A reusable witness function for sweeps over many inputs: instantiates the wasm once (circom_runtime, the
 * calculator snarkjs itself uses) instead of once per witness as {@link calculateWitness} does.
 */
export async function witnessCalculator(wasm: Uint8Array): Promise<(input: CircuitInput) => Promise<bigint[]>> {
  const calc = await jsonWitnessCalculator(wasm);
  return (input) => calc(inputJson(input));
}

/** {@link witnessCalculator} for an input object already in circom's JSON form (field elements as strings). */
export async function jsonWitnessCalculator(
  wasm: Uint8Array,
): Promise<(input: Record<string, unknown>) => Promise<bigint[]>> {
  const calc = (await WitnessCalculatorBuilder(wasm)) as CircomWitnessCalculator;
  return (input) => calc.calculateWitness(input, true);
}

/** Reads a `.wtns` file's values. */
export async function wtnsToBigints(wtns: Uint8Array): Promise<bigint[]> {
  return (await snarkjs.wtns.exportJson({ type: "mem", data: wtns })).map((v) => BigInt(v));
}

/** A compiled circuit plus the wire index of each named signal that survived `--O2`. */
export interface TestCircuit extends CompiledCircuit {
  r1csParsed: R1cs;
  workDir: string;
  /** Wire index by full signal name (`main.out`, `main.g.qBits.out[3]`, …); absent when optimized away. */
  wires: Map<string, number>;
  /** Every signal the symbol file names, with a wire or not. */
  signals: Set<string>;
  /** Every name the symbol file gives each wire (several signals can share one wire). */
  wireNames: string[][];
  /** Wire index of a signal; throws when it has none. */
  wire(name: string): number;
  /**
   * A copy of the witness with the given signals set (signed values, mapped to the field). Signals that --O2
   * replaced by a linear combination have no wire: their value is implied by the others, so they are skipped.
   */
  overwrite(witness: readonly bigint[], values: Record<string, bigint>): bigint[];
}

/**
 * Compiles a complete circom source (its own pragma and includes) with {@link compileCircuit} in a fresh temp
 * dir, with the symbol file that names the wires.
 */
export async function compileWithSymbols(source: string): Promise<TestCircuit> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-gadget-"));
  const compiled = await compileCircuit({ source, workDir, sym: true });
  const r1csParsed = parseR1cs(compiled.r1cs);
  const wires = new Map<string, number>();
  const signals = new Set<string>();
  const wireNames: string[][] = Array.from({ length: r1csParsed.nWires }, () => []);
  for (const line of (compiled.sym ?? "").split("\n")) {
    const [, wire, , name] = line.split(",");
    if (name === undefined || wire === undefined) continue;
    signals.add(name);
    if (Number(wire) >= 0) {
      wires.set(name, Number(wire));
      wireNames[Number(wire)]?.push(name);
    }
  }
  return {
    ...compiled,
    r1csParsed,
    workDir,
    wires,
    signals,
    wireNames,
    wire(name: string): number {
      const w = wires.get(name);
      if (w === undefined) throw new Error(`signal ${name} has no wire (optimized away or misnamed)`);
      return w;
    },
    overwrite(witness: readonly bigint[], values: Record<string, bigint>): bigint[] {
      const out = witness.slice();
      for (const [name, v] of Object.entries(values)) {
        if (!signals.has(name)) throw new Error(`no signal ${name} in the circuit`);
        const w = wires.get(name);
        if (w !== undefined) out[w] = toField(v);
      }
      return out;
    },
  };
}

/**
 * Compiles `pragma circom 2.1.6; include "verinfer.circom"; <body>` with {@link compileWithSymbols}.
 *
 * @param body - templates and the `component main = …;` line.
 */
export function compileTestCircuit(body: string): Promise<TestCircuit> {
  return compileWithSymbols(`pragma circom 2.1.6;\ninclude "verinfer.circom";\n\n${body}\n`);
}

/** For each wire, the indices of the constraints that reference it (in A, B or C). */
export function constraintsByWire(r1cs: R1cs): number[][] {
  const byWire: number[][] = Array.from({ length: r1cs.nWires }, () => []);
  for (const [i, abc] of r1cs.constraints.entries()) {
    const seen = new Set<number>();
    for (const lc of abc) for (const [w] of lc) seen.add(w);
    for (const w of seen) byWire[w]?.push(i);
  }
  return byWire;
}

/**
 * Every constraint the witness violates, in order. With `among`, only those constraints are evaluated: a
 * witness that differs from a satisfying one on a few wires can only violate the constraints that reference
 * them (see {@link constraintsByWire}), which makes checking thousands of mutations cheap.
 */
export function violatedConstraints(r1cs: R1cs, witness: readonly bigint[], among?: Iterable<number>): number[] {
  const p = r1cs.prime;
  if (witness.length !== r1cs.nWires) throw new Error(`witness has ${witness.length} wires, r1cs ${r1cs.nWires}`);
  const indices = among ? [...new Set(among)].sort((a, b) => a - b) : r1cs.constraints.keys();
  const violated: number[] = [];
  for (const i of indices) {
    const [a, b, c] = r1cs.constraints[i] as R1cs["constraints"][number];
    if ((evalLC(a, witness, p) * evalLC(b, witness, p) - evalLC(c, witness, p)) % p !== 0n) violated.push(i);
  }
  return violated;
}

/** The n low bits of v (v taken as a field element, as Num2Bits's witness code does), lowest first. */
export function bitsOf(v: bigint, n: number): bigint[] {
  const x = toField(v);
  return Array.from({ length: n }, (_, i) => (x >> BigInt(i)) & 1n);
}

/**
 * Signal values of a Rescale / RescaleBits at `prefix` for quotient q and remainder r (what an honest witness
 * generator computes for them): `out`, `r`, the bits of q + 2^(b-1) (as `qBits.out[i]`, and `bits[i]` and
 * `nonNegative` where the template has them) and the bits Num2Bits computes for r (also when r is out of range,
 * which it cannot represent). Names a circuit lacks are for the caller to filter out.
 */
export function rescaleWitnessSignals(
  prefix: string,
  q: bigint,
  r: bigint,
  s: number,
  b: number,
): Record<string, bigint> {
  const values: Record<string, bigint> = { [`${prefix}.out`]: q, [`${prefix}.r`]: r };
  const qBits = bitsOf(q + (1n << BigInt(b - 1)), b);
  values[`${prefix}.qBits.in`] = q + (1n << BigInt(b - 1));
  qBits.forEach((bit, i) => {
    values[`${prefix}.qBits.out[${i}]`] = bit;
    values[`${prefix}.bits[${i}]`] = bit;
  });
  values[`${prefix}.nonNegative`] = qBits[b - 1] as bigint;
  if (s > 0) {
    values[`${prefix}.rRange.in`] = r;
    values[`${prefix}.rRange.bits.in`] = r;
    bitsOf(r, s).forEach((bit, i) => {
      values[`${prefix}.rRange.bits.out[${i}]`] = bit;
    });
  }
  return values;
}
