// Witness-mutation fuzz of whole generated model circuits (issue 8). A few random small dense networks go through
// the library's own path (quantizeNetwork → modelCommitment → generateCircuit → compileCircuit, with symbols);
// honest witnesses of accepted inputs satisfy the R1CS, and mutated or spliced witnesses must not: single wires
// set to edge values, and coordinated forgeries that recompute every value depending on the change, so that only
// the one check the forgery cannot satisfy (a range check, a sign bit, a hash) is left to catch it.
//
// What "must not" means: a witness that satisfies the R1CS is either the honest witness of its own private inputs
// (an input and two salts), or a bug. Every accepted mutation is judged that way: "false statement" when its
// public signals (model, input and output commitments, outputs) differ from those the honest witness of its private
// inputs states, or when no honest witness exists for them; "alternative witness" when they agree but private wires
// differ (an under-constrained wire the statement does not depend on). Both lists must be empty.
//
// Wires are found by name in circom's .sym file. The layer gadgets' names come from codegen.ts and
// circuits/verinfer.circom; the commitment wires are found without their names, as the wires an honest witness
// changes when only a salt changes, so the commitment format can change without touching this file.
import { rm } from "node:fs/promises";
import fc from "fast-check";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { circuitInputJson } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import type { DenseLayer, DenseNetwork } from "../../src/models/dense-network.js";
import { integerForward } from "../../src/models/integer-forward.js";
import type { QuantizedRescale } from "../../src/models/layers/rescale.js";
import type { LayerActivation } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import type { QuantizedLayer, QuantizedNetwork } from "../../src/models/quantized-network.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import {
  bitsOf,
  checkR1cs,
  compileWithSymbols,
  constraintsByWire,
  jsonWitnessCalculator,
  snarkjsCheck,
  type TestCircuit,
  violatedConstraints,
} from "../r1cs-check.js";

/** fast-check seed of every network, input and mutation below; a failure names it (and fast-check prints it). */
const SEED = 8;
/** Honest inputs per network: the two corners of the input box plus random ones. */
const RANDOM_INPUTS = 30;

/** One network per shape: a relu hidden layer, a relu output layer with signed inputs, a single layer. */
const SHAPES: Array<{ activations: LayerActivation[]; signed: boolean }> = [
  { activations: ["relu", "linear"], signed: false },
  { activations: ["linear", "relu"], signed: true },
  { activations: ["relu"], signed: true },
];

/** A random float network of the given shape (2–5 inputs, 1–3 units a layer) with its quantization options. */
function networkArb(shape: (typeof SHAPES)[number]) {
  // Multiples of 1/8 and 1/16: readable networks when one has to be reported.
  const weight = fc.integer({ min: -16, max: 16 }).map((v) => v / 8);
  const lo = shape.signed ? -1 : 0;
  return fc
    .record({
      nIn: fc.integer({ min: 2, max: 5 }),
      units: fc.tuple(...shape.activations.map(() => fc.integer({ min: 1, max: 3 }))),
    })
    .chain(({ nIn, units }) => {
      let rows = nIn;
      const layers = shape.activations.map((activation, l) => {
        const nOut = units[l] as number;
        const layer = fc.record({
          name: fc.constant(`dense_${l}`),
          units: fc.constant(nOut),
          activation: fc.constant(activation),
          kernel: fc.array(fc.array(weight, { minLength: nOut, maxLength: nOut }), {
            minLength: rows,
            maxLength: rows,
          }),
          bias: fc.array(weight, { minLength: nOut, maxLength: nOut }),
        }) as fc.Arbitrary<DenseLayer>;
        rows = nOut;
        return layer;
      });
      const value = fc.integer({ min: 16 * lo, max: 16 }).map((v) => v / 16);
      const sample = fc.array(value, { minLength: nIn, maxLength: nIn });
      return fc.record({
        net: fc.tuple(...layers).map((ls): DenseNetwork => ({ inputShape: [nIn], inputSize: nIn, layers: ls })),
        calibration: fc
          .array(sample, { minLength: 1, maxLength: 4 })
          .map((xs) => [new Array<number>(nIn).fill(lo), new Array<number>(nIn).fill(1), ...xs]),
        inputBits: fc.integer({ min: 2, max: 4 }),
        weightBits: fc.integer({ min: 3, max: 5 }),
        activationBits: fc.integer({ min: 4, max: 8 }),
      });
    });
}

type Verdict = "rejected" | "honest" | "false statement" | "alternative witness";

/** An honest witness with the inputs that produced it. */
interface Honest {
  x: bigint[];
  w: bigint[];
  /** The same input with another input salt, and with another output salt. */
  otherInputSalt: bigint[];
  otherOutputSalt: bigint[];
}

/** One compiled network and everything the mutations need. */
interface FuzzNet {
  /** Names the network in failure messages. */
  label: string;
  qnet: QuantizedNetwork;
  circuit: TestCircuit;
  byWire: number[][];
  /** Public signals are wires 1..nPublic; the private inputs follow. */
  nPublic: number;
  privateWires: number[];
  witness(x: readonly bigint[], salts?: { inputSalt: bigint; outputSalt: bigint }): Promise<bigint[]>;
  /** The honest witness of the private inputs a (possibly forged) witness carries; undefined when none exists. */
  honestFor(w: readonly bigint[]): Promise<bigint[] | undefined>;
  pool: Honest[];
}

const nets: FuzzNet[] = [];
let judged = 0;

/**
 * Dense layer l of an MLP as the test models it: the quantized network holds it as two layers, the linear
 * `dense` and the `rescale` after it, which the codegen fuses into one template, Layer<l>.
 */
interface UnitLayer {
  weights: bigint[][];
  bias: bigint[];
  shift: number;
  qBits: number[];
  activation: QuantizedRescale["activation"];
}

function unitLayers(qnet: QuantizedNetwork): UnitLayer[] {
  const out: UnitLayer[] = [];
  for (let l = 0; l < qnet.layers.length; l += 2) {
    const d = qnet.layers[l] as QuantizedLayer;
    const r = qnet.layers[l + 1] as QuantizedLayer;
    if (d.kind !== "dense" || r.kind !== "rescale" || r.multiplier !== 1n)
      throw new Error("not an MLP of dense + rescale");
    out.push({ weights: d.weights, bias: d.bias, shift: r.shift, qBits: r.qBits, activation: r.activation });
  }
  return out;
}

function layerOf(qnet: QuantizedNetwork, l: number): UnitLayer {
  return unitLayers(qnet)[l] as UnitLayer;
}

/** acc, q, r and y of every unit of every layer for input x, in verinfer's integer semantics. */
function unitValues(qnet: QuantizedNetwork, x: readonly bigint[]) {
  const { layerOutputs } = integerForward(qnet, x);
  return unitLayers(qnet).map((layer, l) => {
    const a = l === 0 ? x : (layerOutputs[2 * l - 1] as bigint[]);
    return layer.weights.map((row, j) => {
      const acc = row.reduce((s, w, i) => s + w * (a[i] as bigint), layer.bias[j] as bigint);
      const q = acc >> BigInt(layer.shift);
      return { acc, q, r: acc - (q << BigInt(layer.shift)), y: (layerOutputs[2 * l + 1] as bigint[])[j] as bigint };
    });
  });
}

/** Name prefixes of unit j of layer l: the unit component, and the Rescale inside it (gadget form, s = 0). */
function unitPrefix(qnet: QuantizedNetwork, l: number, j: number): { unit: string; rs: string } {
  const unit = `main.layer${l}.unit[${j}]`;
  return { unit, rs: layerOf(qnet, l).activation === "relu" ? `${unit}.rs` : unit };
}

/**
 * Where unit j's quotient bits start in its layer's `qb` array, for a rescale that codegen writes inline (s > 0):
 * every bit of q + 2^(B-1) is a signal with a ReLU, every bit but the lowest (derived from the output) without.
 */
function inlineBits(qnet: QuantizedNetwork, l: number, j: number): { pos: number; first: number } {
  const layer = layerOf(qnet, l);
  const first = layer.activation === "relu" ? 0 : 1;
  const pos = layer.qBits.slice(0, j).reduce((a, b) => a + b - first, 0);
  return { pos, first };
}

/** The name of the sign bit of unit j of layer l (the top bit of q + 2^(B-1)), in either form. */
function signBitNames(qnet: QuantizedNetwork, l: number, j: number): string[] {
  const layer = layerOf(qnet, l);
  const top = (layer.qBits[j] as number) - 1;
  if (layer.shift === 0) {
    const { rs } = unitPrefix(qnet, l, j);
    return [`${rs}.nonNegative`, `${rs}.qBits.out[${top}]`];
  }
  const { pos, first } = inlineBits(qnet, l, j);
  return [`main.layer${l}.qb[${pos + top - first}]`];
}

/**
 * Every signal of a Rescale(s, B) that holds acc = q·2^s + r, with both bit decompositions computed from q and r.
 * `keep` leaves a range check's signals out, so that they keep the valid proof of the value they had: what a forger
 * would do if a range check were not tied to its value. With s > 0 the rescale is inline (see layer-templates.ts):
 * its signals are the bits of r but the lowest (rb[j][k - 1] holds bit k) and the bits of q + 2^(B-1) (qb).
 */
function rescaleSignals(
  qnet: QuantizedNetwork,
  l: number,
  j: number,
  v: { acc: bigint; q: bigint; r: bigint },
  keep?: "qBits" | "rRange",
) {
  const layer = layerOf(qnet, l);
  const s = layer.shift;
  const B = layer.qBits[j] as number;
  const qOff = v.q + (1n << BigInt(B - 1));
  if (s > 0) {
    const signals: Record<string, bigint> = {};
    const { pos, first } = inlineBits(qnet, l, j);
    if (keep !== "qBits") {
      for (const [k, b] of bitsOf(qOff, B).entries()) {
        if (k >= first) signals[`main.layer${l}.qb[${pos + k - first}]`] = b;
      }
    }
    if (keep !== "rRange") {
      for (const [k, b] of bitsOf(v.r, s).entries()) if (k >= 1) signals[`main.layer${l}.rb[${j}][${k - 1}]`] = b;
    }
    if (layer.activation !== "relu") signals[`main.layer${l}.out[${j}]`] = v.q;
    return signals;
  }
  const { rs } = unitPrefix(qnet, l, j);
  const signals: Record<string, bigint> = { [`${rs}.in`]: v.acc, [`${rs}.out`]: v.q, [`${rs}.r`]: v.r };
  if (keep !== "qBits") {
    signals[`${rs}.qBits.in`] = qOff;
    const qBits = bitsOf(qOff, B);
    for (const [k, b] of qBits.entries()) signals[`${rs}.qBits.out[${k}]`] = b;
    signals[`${rs}.nonNegative`] = qBits[B - 1] as bigint;
  }
  return signals;
}

/** The signals that carry unit j's output y (the relu wrapper's out, the layer's out, the circuit's out). */
function outputSignals(qnet: QuantizedNetwork, l: number, j: number, y: bigint, acc: bigint) {
  const { unit } = unitPrefix(qnet, l, j);
  const layer = layerOf(qnet, l);
  const signals: Record<string, bigint> = { [`main.layer${l}.out[${j}]`]: y };
  if (layer.shift === 0 && layer.activation === "relu") {
    Object.assign(signals, { [`${unit}.in`]: acc, [`${unit}.out`]: y });
  }
  if (l === unitLayers(qnet).length - 1) signals[`main.out[${j}]`] = y;
  return signals;
}

/** The wires of every signal the test models for unit j of layer l (its gadget and the wires carrying its output). */
function unitWires(net: FuzzNet, l: number, j: number): Set<number> {
  const v = { acc: 0n, q: 0n, r: 0n };
  const names = Object.keys({ ...rescaleSignals(net.qnet, l, j, v), ...outputSignals(net.qnet, l, j, 0n, 0n) });
  return new Set(names.flatMap((n) => net.circuit.wires.get(n) ?? []));
}

const underCache = new WeakMap<FuzzNet, Map<string, Set<number>>>();

/** Wires with a name under the prefix (followed by "." or "["). */
function wiresUnder(net: FuzzNet, prefix: string): Set<number> {
  const cache = underCache.get(net) ?? new Map<string, Set<number>>();
  underCache.set(net, cache);
  let out = cache.get(prefix);
  if (!out) {
    out = new Set<number>();
    for (const [w, names] of net.circuit.wireNames.entries()) {
      if (names.some((n) => n.startsWith(`${prefix}.`) || n.startsWith(`${prefix}[`))) out.add(w);
    }
    cache.set(prefix, out);
  }
  return out;
}

/** The constraints that reference any of the wires. */
function constraintsOf(net: FuzzNet, wires: Iterable<number>): Set<number> {
  const out = new Set<number>();
  for (const w of wires) for (const c of net.byWire[w] ?? []) out.add(c);
  return out;
}

function differing(a: readonly bigint[], b: readonly bigint[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/**
 * The wires of the commitment a salt feeds: those the salt changes, plus every wire of the top-level components
 * (main.X) those belong to, since some hash wires (the first round over the data) do not depend on the salt.
 */
function commitmentWires(net: FuzzNet, honest: readonly bigint[], otherSalt: readonly bigint[]): Set<number> {
  const changed = differing(honest, otherSalt);
  const out = new Set(changed);
  for (const w of changed) {
    if (w <= net.nPublic + net.privateWires.length) continue; // main's own signals name no component
    for (const name of net.circuit.wireNames[w] ?? []) {
      const component = name.split(".").slice(0, 2).join(".");
      for (const v of wiresUnder(net, component)) out.add(v);
    }
  }
  return out;
}

/** Judges a witness that differs from `base` (an honest witness) on the given wires, or on all that differ. */
async function judge(net: FuzzNet, base: readonly bigint[], m: readonly bigint[], changed?: readonly number[]) {
  const wires = changed ?? differing(base, m);
  if (wires.length === 0) throw new Error("not a mutation: the witness is unchanged");
  const violated = violatedConstraints(
    net.circuit.r1csParsed,
    m,
    wires.flatMap((w) => net.byWire[w] ?? []),
  );
  // Every so often, the full check must agree with the incremental one.
  if (judged++ % 101 === 0) expect(checkR1cs(net.circuit.r1csParsed, m).ok).toBe(violated.length === 0);
  let verdict: Verdict = "rejected";
  if (violated.length === 0) {
    const h = await net.honestFor(m);
    if (h === undefined) verdict = "false statement";
    else if (differing(h, m).length === 0) verdict = "honest";
    else if (differing(h, m).some((w) => w <= net.nPublic)) verdict = "false statement";
    else verdict = "alternative witness";
  }
  return { verdict, violated };
}

/** Accumulates verdicts; `bad` lists every accepted forgery with what it was. */
function tally() {
  const counts: Record<Verdict, number> = {
    rejected: 0,
    honest: 0,
    "false statement": 0,
    "alternative witness": 0,
  };
  const bad: string[] = [];
  return {
    counts,
    bad,
    add(net: FuzzNet, verdict: Verdict, what: string) {
      counts[verdict]++;
      if (verdict === "false statement" || verdict === "alternative witness") {
        bad.push(`${verdict}: ${what} (${net.label})`);
      }
    },
  };
}

/** A forgery family's verdicts: every one rejected, and at least one tried. */
function expectAllRejected(t: ReturnType<typeof tally>): void {
  expect(t.bad).toEqual([]);
  expect(t.counts.honest).toBe(0);
  expect(t.counts.rejected).toBeGreaterThan(0);
}

function wireLabel(net: FuzzNet, w: number): string {
  return `wire ${w} ${(net.circuit.wireNames[w] ?? []).join("|")}`;
}

beforeAll(async () => {
  for (const [k, shape] of SHAPES.entries()) {
    const candidates = fc.sample(networkArb(shape), { seed: SEED + k, numRuns: 20 });
    let qnet: QuantizedNetwork | undefined;
    let float: (typeof candidates)[number] | undefined;
    for (const c of candidates) {
      try {
        qnet = quantizeNetwork(c.net, c);
        float = c;
        break;
      } catch (e) {
        if (!isVerinferError(e, "QUANTIZATION_OVERFLOW")) throw e;
      }
    }
    if (!qnet || !float) throw new Error(`no candidate of shape ${k} quantizes (seed ${SEED + k})`);
    const source = generateCircuit({ network: qnet, modelCommitment: await modelCommitment(qnet) });
    const circuit = await compileWithSymbols(source);
    const calc = await jsonWitnessCalculator(circuit.wasm);
    const r1cs = circuit.r1csParsed;
    const nPublic = r1cs.nOutputs + r1cs.nPubInputs;
    const privateWires = Array.from({ length: r1cs.nPrvInputs }, (_, i) => nPublic + 1 + i);
    const [inputSalt, outputSalt, inputSalt2, outputSalt2] = fc.sample(fc.bigInt({ min: 0n, max: FIELD_PRIME - 1n }), {
      seed: SEED + k,
      numRuns: 4,
    }) as [bigint, bigint, bigint, bigint];
    const salts = { inputSalt, outputSalt };
    const witness = (x: readonly bigint[], s = salts) => calc(circuitInputJson({ input: x, ...s }));
    // main's inputs, public ones first (none today), then the private ones.
    const inputWires = Array.from({ length: r1cs.nPubInputs + r1cs.nPrvInputs }, (_, i) => r1cs.nOutputs + 1 + i);
    const honestFor = async (w: readonly bigint[]) => {
      // main's inputs, read back by name: main.x (a scalar) or main.x[i] (a vector).
      const input: Record<string, string | string[]> = {};
      for (const wire of inputWires) {
        const name = circuit.wireNames[wire]?.[0] ?? "";
        const m = /^main\.(\w+)(?:\[(\d+)\])?$/.exec(name);
        if (!m) throw new Error(`input wire ${wire} has an unexpected name ${name}`);
        const value = (w[wire] as bigint).toString();
        const key = m[1] as string;
        if (m[2] === undefined) {
          input[key] = value;
        } else {
          const vector = (input[key] ?? []) as string[];
          vector[Number(m[2])] = value;
          input[key] = vector;
        }
      }
      const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
      try {
        return await calc(input);
      } catch {
        return undefined; // the witness calculator refuses these inputs: an out-of-range value, say
      } finally {
        quiet.mockRestore();
      }
    };
    const { lo, hi } = qnet.input;
    const randomInputs = fc.sample(
      fc.array(fc.bigInt({ min: lo, max: hi }), { minLength: qnet.inputSize, maxLength: qnet.inputSize }),
      { seed: SEED + k, numRuns: RANDOM_INPUTS },
    );
    const inputs = [new Array<bigint>(qnet.inputSize).fill(lo), new Array<bigint>(qnet.inputSize).fill(hi)];
    inputs.push(...randomInputs);
    const pool: Honest[] = [];
    for (const x of inputs) {
      pool.push({
        x,
        w: await witness(x),
        otherInputSalt: await witness(x, { inputSalt: inputSalt2, outputSalt }),
        otherOutputSalt: await witness(x, { inputSalt, outputSalt: outputSalt2 }),
      });
    }
    const json = JSON.stringify(float, (_key, v) => (typeof v === "bigint" ? v.toString() : v));
    nets.push({
      label: `network #${k} of seed ${SEED}: ${json}`,
      qnet,
      circuit,
      byWire: constraintsByWire(r1cs),
      nPublic,
      privateWires,
      witness,
      honestFor,
      pool,
    });
  }
});

afterAll(async () => {
  // snarkjs.wtns.check builds the bn128 curve, whose worker threads would otherwise keep the fork alive.
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  await Promise.all(nets.map((n) => rm(n.circuit.workDir, { recursive: true, force: true })));
});

describe(`witness-mutation fuzz of generated model circuits (fast-check seed ${SEED})`, () => {
  it("accepts the honest witness of every accepted input, whose wires are the values the test computes", async () => {
    for (const net of nets) {
      const { qnet } = net;
      for (const { x, w } of net.pool) {
        expect(checkR1cs(net.circuit.r1csParsed, w), net.label).toEqual({ ok: true, firstFailing: -1 });
        // The test's own model of every layer gadget's signals must be the honest one, wire for wire, and cover
        // every wire of each unit, or the forgeries below would leave stale wires behind.
        const values = unitValues(qnet, x);
        for (const [l, layer] of values.entries()) {
          for (const [j, v] of layer.entries()) {
            const signals = { ...rescaleSignals(qnet, l, j, v), ...outputSignals(qnet, l, j, v.y, v.acc) };
            expect(net.circuit.overwrite(w, signals), `${net.label}, unit ${l}.${j}`).toEqual(w);
            const covered = unitWires(net, l, j);
            for (const wire of wiresUnder(net, unitPrefix(qnet, l, j).unit)) {
              expect(covered.has(wire), `${wireLabel(net, wire)} is not modelled (${net.label})`).toBe(true);
            }
          }
        }
        const output = integerForward(qnet, x).output;
        expect(output.map((_y, j) => w[net.circuit.wire(`main.out[${j}]`)])).toEqual(output.map(toField));
      }
      // snarkjs's own witness check agrees, on an honest witness and on one with an output changed.
      const w = net.pool[0]?.w as bigint[];
      expect(await snarkjsCheck(net.circuit.r1cs, w)).toBe(true);
      const forged = w.slice();
      forged[net.nPublic] = toField((forged[net.nPublic] as bigint) + 1n);
      expect(await snarkjsCheck(net.circuit.r1cs, forged)).toBe(false);
    }
  });

  it("references every wire in some constraint, so that no wire is free", () => {
    for (const net of nets) {
      const free = net.byWire.flatMap((cs, w) => (w > 0 && cs.length === 0 ? [wireLabel(net, w)] : []));
      expect(free, net.label).toEqual([]);
    }
  });

  it("rejects every single-wire change, on every wire: ±1, 0, 1, p−1, 2^k, random, another input's value", async () => {
    const t = tally();
    const byClass = { public: 0, "private input": 0, internal: 0 };
    for (const [k, net] of nets.entries()) {
      const n = net.circuit.r1csParsed.nWires;
      const random = fc.sample(fc.bigInt({ min: 0n, max: FIELD_PRIME - 1n }), { seed: SEED + k, numRuns: 2 * n });
      const powers = fc.sample(fc.integer({ min: 0, max: 253 }), { seed: SEED + k, numRuns: n });
      for (const [b, base] of [net.pool[0], net.pool[2]].entries()) {
        const other = net.pool[3 + b] as Honest;
        const w = (base as Honest).w;
        for (let wire = 1; wire < n; wire++) {
          const v = w[wire] as bigint;
          const values = [v + 1n, v - 1n, 0n, 1n, FIELD_PRIME - 1n, 1n << BigInt(powers[wire] ?? 0)];
          values.push(random[2 * wire + b] as bigint, other.w[wire] as bigint);
          for (const value of new Set(values.map(toField))) {
            if (value === v) continue;
            const m = w.slice();
            m[wire] = value;
            const { verdict } = await judge(net, w, m, [wire]);
            t.add(net, verdict, `${wireLabel(net, wire)} set to ${value}`);
            const cls =
              wire <= net.nPublic
                ? "public"
                : wire <= net.nPublic + net.privateWires.length
                  ? "private input"
                  : "internal";
            byClass[cls]++;
          }
        }
      }
    }
    expect(t.bad).toEqual([]);
    expect(t.counts.honest).toBe(0);
    expect(t.counts.rejected).toBe(byClass.public + byClass["private input"] + byClass.internal);
    expect(Math.min(...Object.values(byClass))).toBeGreaterThan(0);
  });

  it("rejects a Rescale quotient moved by ±δ whose remainder absorbs it (acc = q·2^s + r kept), bits recomputed", async () => {
    const t = tally();
    for (const net of nets) {
      const { qnet } = net;
      for (const { x, w } of net.pool.slice(0, 4)) {
        for (const [l, layer] of unitValues(qnet, x).entries()) {
          const s = BigInt(layerOf(qnet, l).shift);
          for (const [j, v] of layer.entries()) {
            const B = layerOf(qnet, l).qBits[j] as number;
            const own = constraintsOf(net, unitWires(net, l, j));
            for (const delta of [1n, -1n, 2n, -2n, 1n << BigInt(B - 1)]) {
              for (const [absorb, keep] of [
                [true, undefined],
                [true, "rRange"],
                [true, "qBits"],
                [false, undefined],
              ] as const) {
                const q = v.q + delta;
                const r = absorb ? v.r - (delta << s) : v.r;
                const y = layerOf(qnet, l).activation === "relu" && q < 0n ? 0n : q;
                const m = net.circuit.overwrite(w, {
                  ...rescaleSignals(qnet, l, j, { acc: v.acc, q, r }, keep),
                  ...outputSignals(qnet, l, j, y, v.acc),
                });
                if (differing(w, m).length === 0) continue; // every signal changed lies on an eliminated wire
                const { verdict, violated } = await judge(net, w, m);
                const what = `unit ${l}.${j} q ${v.q} → ${q}, r ${v.r} → ${r}${keep ? `, ${keep} kept` : ""}`;
                t.add(net, verdict, what);
                // The unit's own constraints catch it, not only the stale layers after it.
                const touchesUnit = violated.some((c) => own.has(c));
                if (verdict === "rejected") expect(touchesUnit, `${what} (${net.label})`).toBe(true);
              }
            }
          }
        }
      }
    }
    expectAllRejected(t);
  });

  it("rejects a ReLU output changed together with its sign bit", async () => {
    const t = tally();
    for (const net of nets) {
      const { qnet } = net;
      for (const { x, w } of net.pool.slice(0, 6)) {
        for (const [l, layer] of unitValues(qnet, x).entries()) {
          if (layerOf(qnet, l).activation !== "relu") continue;
          for (const [j, v] of layer.entries()) {
            const signBits = signBitNames(qnet, l, j);
            const signTo = (b: bigint) => Object.fromEntries(signBits.map((n) => [n, b]));
            const sign = v.q >= 0n ? 1n : 0n;
            const forgeries: Array<[string, Record<string, bigint>]> = [
              // the sign flipped, the output following it: relu(q) claimed 0 for q ≥ 0, or q for q < 0
              [
                "sign flipped",
                {
                  ...signTo(1n - sign),
                  ...outputSignals(qnet, l, j, sign === 1n ? 0n : v.q, v.acc),
                },
              ],
              // the output alone changed to what the other sign would give
              ["output switched", outputSignals(qnet, l, j, sign === 1n ? 0n : v.q, v.acc)],
              // a negative quotient passed through with the sign bit claiming it is non-negative
              [
                "sign set, output q",
                {
                  ...signTo(1n),
                  ...outputSignals(qnet, l, j, v.q, v.acc),
                },
              ],
            ];
            for (const [what, signals] of forgeries) {
              const m = net.circuit.overwrite(w, signals);
              if (differing(w, m).length === 0) continue; // q ≥ 0 already passes through
              const { verdict } = await judge(net, w, m);
              t.add(net, verdict, `unit ${l}.${j} (q ${v.q}): ${what}`);
            }
          }
        }
      }
    }
    expectAllRejected(t);
  });

  it("rejects layers 0..L−1 run on one input and L.. on another (seam at a Rescale or a ReLU): only layer L catches it", async () => {
    const t = tally();
    let singleStep = 0; // seams where exactly one quotient differs, by ±1: the forgery of a rounding step
    let reluSeams = 0;
    for (const net of nets) {
      const { qnet } = net;
      const nLayers = unitLayers(qnet).length;
      const values = new Map(net.pool.map((h) => [h, unitValues(qnet, h.x)]));
      for (const first of net.pool.slice(0, 8)) {
        const v1 = unitValues(qnet, first.x);
        for (let seam = 0; seam < nLayers; seam++) {
          // The other input whose layer-`seam` quotients are closest to (but not equal to) the first's.
          const distance = (h: Honest) =>
            values.get(h)?.[seam]?.reduce((d, u, j) => {
              const e = u.q - (v1[seam]?.[j]?.q as bigint);
              return d + (e < 0n ? -e : e);
            }, 0n) ?? 0n;
          const others = net.pool.filter((h) => distance(h) > 0n).sort((a, b) => Number(distance(a) - distance(b)));
          // A second input whose layer-`seam` outputs (after the activation) differ, for the ReLU seam.
          const yDiffers = others.find((h) =>
            values.get(h)?.[seam]?.some((u, j) => u.y !== (v1[seam]?.[j]?.y as bigint)),
          );
          const relu = layerOf(qnet, seam).activation === "relu";
          const variants: Array<[Honest | undefined, "rRange" | "relu" | undefined]> = [
            [others[0], undefined],
            [others[0], "rRange"], // the second input's remainder proofs left in place
            [others.at(-1), undefined],
          ];
          if (relu) variants.push([yDiffers, "relu"]); // the seam between a Rescale and its ReLU
          for (const [second, keep] of variants) {
            if (!second) continue;
            const v2 = unitValues(qnet, second.x);
            // Everything from layer `seam` on, and the output commitment, from the second input's witness.
            const later = new Set(commitmentWires(net, second.w, second.otherOutputSalt));
            for (let l = seam; l < nLayers; l++) {
              for (const wire of wiresUnder(net, `main.layer${l}`)) {
                const names = net.circuit.wireNames[wire] ?? [];
                if (l === seam && names.every((nm) => nm.startsWith(`main.layer${l}.in[`))) continue;
                later.add(wire);
              }
            }
            for (const wire of wiresUnder(net, "main.out")) later.add(wire);
            const m = first.w.slice();
            for (const wire of later) m[wire] = second.w[wire] as bigint;
            // At the seam, acc comes from the first input and q from the second: the remainder takes the gap.
            const seamSignals: Record<string, bigint> = {};
            for (const [j, u1] of (v1[seam] ?? []).entries()) {
              const u2 = v2[seam]?.[j] as (typeof v1)[number][number];
              const r = u1.acc - (u2.q << BigInt(layerOf(qnet, seam).shift));
              if (keep === "relu") {
                // The Rescale of the first input, the ReLU output of the second.
                Object.assign(seamSignals, rescaleSignals(qnet, seam, j, u1));
              } else {
                const rangeKept = keep === "rRange" ? "rRange" : undefined;
                Object.assign(seamSignals, rescaleSignals(qnet, seam, j, { acc: u1.acc, q: u2.q, r }, rangeKept));
              }
              Object.assign(seamSignals, outputSignals(qnet, seam, j, u2.y, u1.acc));
            }
            const forged = net.circuit.overwrite(m, seamSignals);
            if (differing(first.w, forged).length === 0) continue;
            const { verdict, violated } = await judge(net, first.w, forged);
            const deltas = (v1[seam] ?? []).map((u, j) => (v2[seam]?.[j]?.q as bigint) - u.q).filter((d) => d !== 0n);
            if (keep !== "relu" && deltas.length === 1 && (deltas[0] === 1n || deltas[0] === -1n)) singleStep++;
            if (keep === "relu") reluSeams++;
            const kept = keep === "relu" ? ", at the ReLU" : keep ? `, ${keep} kept` : "";
            const what = `seam at layer ${seam}, inputs [${first.x}] / [${second.x}], Δq [${deltas}]${kept}`;
            t.add(net, verdict, what);
            if (verdict !== "rejected") continue; // reported below
            // The commitments of the forgery are consistent: no hash constraint is violated, and the seam layer's
            // own constraints are. (A later layer's may be too: --O2 folds a linear layer's quotients, which have
            // no wires of their own when the shift is 0, into the next layer's constraints.)
            const hashes = [
              ...differing(first.w, first.otherInputSalt),
              ...differing(second.w, second.otherOutputSalt),
            ].filter((w) => w > net.nPublic + net.privateWires.length);
            const hashConstraints = constraintsOf(net, hashes);
            const inHash = violated.filter((c) => hashConstraints.has(c));
            expect(inHash, `${what} (${net.label})`).toEqual([]);
            const seamWires = new Set((v1[seam] ?? []).flatMap((_u, j) => [...unitWires(net, seam, j)]));
            const seamConstraints = constraintsOf(net, seamWires);
            const atSeam = violated.filter((c) => seamConstraints.has(c));
            expect(atSeam.length, `${what} (${net.label})`).toBeGreaterThan(0);
          }
        }
      }
    }
    expectAllRejected(t);
    expect(singleStep).toBeGreaterThan(0);
    expect(reluSeams).toBeGreaterThan(0);
  });

  it("rejects a changed input whose range bits and later wires are recomputed but whose commitment hash is not", async () => {
    const t = tally();
    for (const net of nets) {
      const { lo, hi } = net.qnet.input;
      for (const [p, first] of net.pool.slice(0, 8).entries()) {
        // The first input with one value changed; its honest witness recomputes every wire that depends on it.
        const i = p % net.qnet.inputSize;
        const x = first.x.slice();
        x[i] = (x[i] as bigint) === hi ? lo : (x[i] as bigint) + 1n;
        const second = await net.witness(x);
        const inputHash = commitmentWires(net, first.w, first.otherInputSalt);
        const hashOnly = [...inputHash].filter((w) => w > net.nPublic + net.privateWires.length);
        const outputHash = commitmentWires(net, first.w, first.otherOutputSalt);
        const stale: Array<[string, Iterable<number>, readonly bigint[], readonly bigint[]]> = [
          // the input commitment (its hash and the public signal) still the first input's
          ["input hash and commitment stale", inputHash, second, first.w],
          ["input hash stale, commitment recomputed", hashOnly, second, first.w],
          ["input commitment stale", [2], second, first.w],
          // the other way round: the first witness with the changed input's output side
          ["outputs changed, output hash stale", outputHash, first.w, second],
        ];
        for (const [what, wires, base, from] of stale) {
          const m = base.slice();
          for (const w of wires) m[w] = from[w] as bigint;
          if (differing(base, m).length === 0) continue; // the change left the outputs as they were
          const { verdict } = await judge(net, base, m);
          t.add(net, verdict, `${what}, input ${i} of [${first.x}] changed`);
        }
      }
    }
    expectAllRejected(t);
  });

  it("rejects random splices of two honest witnesses unless the splice is itself an honest witness", async () => {
    const t = tally();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        fc.integer({ min: 2, max: 5 }),
        fc.infiniteStream(fc.boolean()),
        async (n, a, b, sameInput, depth, coin) => {
          const net = nets[n % nets.length] as FuzzNet;
          const first = net.pool[a % net.pool.length] as Honest;
          const other = net.pool[b % net.pool.length] as Honest;
          const second = sameInput ? first.otherInputSalt : other.w;
          // Group the wires by their name's first `depth` segments and take each group from either witness.
          const groups = new Map<string, number[]>();
          for (const [w, names] of net.circuit.wireNames.entries()) {
            if (w === 0) continue;
            const key = (names[0] ?? `wire${w}`).split(".").slice(0, depth).join(".");
            groups.set(key, [...(groups.get(key) ?? []), w]);
          }
          const m = first.w.slice();
          const it = coin[Symbol.iterator]();
          for (const wires of groups.values()) {
            if (it.next().value) for (const w of wires) m[w] = second[w] as bigint;
          }
          if (differing(first.w, m).length === 0) return;
          const { verdict } = await judge(net, first.w, m);
          t.add(net, verdict, `splice at depth ${depth} of inputs [${first.x}] / [${sameInput ? "salt" : other.x}]`);
          expect(verdict === "rejected" || verdict === "honest", net.label).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 600, endOnFailure: true },
    );
    expect(t.bad).toEqual([]);
    expect(t.counts.rejected).toBeGreaterThan(400);
  });
});
