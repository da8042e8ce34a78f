// Soundness tests of ReLU6 and LeakyReLU rescales as codegen writes them (inline, see rescaleInline in
// src/circuits/layer-templates.ts): the equations of RescaleRelu6 / RescaleLeakyRelu with the lowest remainder bit
// derived from the accumulator instead of being a signal. A layer of three units with different bit widths (so
// that the bit offsets and, for ReLU6, the clamped units' indices are exercised) is compiled alone. For every
// accumulator of each unit, the honest witness computes activationForward and satisfies the R1CS; every other
// output — alone, or with every inline bit (and ReLU6's relu value and overshoot) recomputed as an honest generator
// would for a quotient that gives it — violates it.
import { rm } from "node:fs/promises";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupTemplate } from "../../src/circuits/layer-templates.js";
import { activationForward, type QuantizedRescale, relu6Ceiling } from "../../src/models/layers/rescale.js";
import {
  bitsOf,
  checkR1cs,
  compileTestCircuit,
  rescaleWitnessSignals,
  snarkjsCheck,
  type TestCircuit,
  witnessCalculator,
} from "../r1cs-check.js";

const S = 2;
const TWO_S = 1n << BigInt(S);
/** Unit 1 is narrow: the relu6 ceiling (12 at outFracBits 1) lies above its range, so it is not clamped. */
const Q_BITS = [6, 4, 5];
const FRAC = 1;
const C = relu6Ceiling(FRAC);

function layer(activation: "relu6" | "leakyRelu", leakShift?: number): QuantizedRescale {
  return {
    kind: "rescale",
    name: "r",
    size: Q_BITS.length,
    multiplier: 1n,
    shift: S,
    activation,
    ...(leakShift !== undefined ? { leakShift } : {}),
    qBits: Q_BITS,
    outFracBits: FRAC,
  };
}

const LEAK_SHIFTS = [1, 3, 9] as const;
const LAYERS: Record<string, QuantizedRescale> = {
  relu6: layer("relu6"),
  ...Object.fromEntries(LEAK_SHIFTS.map((k) => [`leaky${k}`, layer("leakyRelu", k)])),
};

const circuits: Record<string, TestCircuit> = {};

beforeAll(async () => {
  const n = Q_BITS.length;
  const compiled = await Promise.all(
    Object.values(LAYERS).map((l) =>
      compileTestCircuit(`${groupTemplate(0, [l])}
template T() {
    signal input in[${n}];
    signal output out[${n}];
    component l = Layer0();
    l.in <== in;
    out <== l.out;
}
component main {public [in]} = T();`),
    ),
  );
  Object.keys(LAYERS).forEach((name, i) => {
    circuits[name] = compiled[i] as TestCircuit;
  });
});

afterAll(async () => {
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  await curve.terminate();
  await Promise.all(Object.values(circuits).map((c) => rm(c.workDir, { recursive: true, force: true })));
});

/** Every accumulator unit j accepts: quotients in [-2^(B-1), 2^(B-1)). */
const accsOf = (j: number) => {
  const B = Q_BITS[j] as number;
  return Array.from({ length: 1 << (B + S) }, (_, i) => BigInt(i) - (1n << BigInt(B - 1 + S)));
};
/** Inputs of the other units, held fixed while unit j's runs through its range. */
const others = [5n, -3n, 17n];
const inputsWith = (j: number, acc: bigint) => others.map((v, i) => (i === j ? acc : v));

/** Sets only the signals the circuit has (a --O2 build folds some names into others). */
function forge(c: TestCircuit, w: readonly bigint[], values: Record<string, bigint>): bigint[] {
  return c.overwrite(w, Object.fromEntries(Object.entries(values).filter(([name]) => c.signals.has(name))));
}

const out = (j: number, v: bigint) => ({ [`main.out[${j}]`]: v, [`main.l.out[${j}]`]: v });
const claimsOtherThan = (y: bigint) => [y + 1n, y - 1n, y + 4n, y - 4n, -y, 0n, 12n, 7n, -8n].filter((v) => v !== y);

/**
 * The inline signals of unit j for quotient q and remainder r: the bits of q + 2^(B-1) (qb, every bit, from the
 * unit's offset) and the bits of r but the lowest (rb[j][k - 1] holds bit k; r's own bits even when it is out of
 * range, as a forger would write them).
 */
function inlineBits(j: number, q: bigint, r: bigint): Record<string, bigint> {
  const B = Q_BITS[j] as number;
  const pos = Q_BITS.slice(0, j).reduce((a, b) => a + b, 0);
  const values: Record<string, bigint> = {};
  bitsOf(q + (1n << BigInt(B - 1)), B).forEach((b, k) => {
    values[`main.l.qb[${pos + k}]`] = b;
  });
  bitsOf(r, S).forEach((b, k) => {
    if (k >= 1) values[`main.l.rb[${j}][${k - 1}]`] = b;
  });
  return values;
}

/** ReLU6's clamped units, in order: unit j's index among them, or undefined when it is not clamped. */
function capIndex(j: number): number | undefined {
  const capped = Q_BITS.map((B) => C < (1n << BigInt(B - 1)) - 1n);
  return capped[j] ? capped.slice(0, j).filter(Boolean).length : undefined;
}

describe("ReLU6 rescales, inline", () => {
  const op = { activation: "relu6" as const, outFracBits: FRAC };

  it("computes min(max(floor(acc / 2^s), 0), C) for every accumulator of every unit", async () => {
    const c = circuits.relu6 as TestCircuit;
    expect(c.warnings).toEqual([]);
    const calc = await witnessCalculator(c.wasm);
    let clamped = 0;
    for (const j of Q_BITS.keys()) {
      for (const acc of accsOf(j)) {
        const w = await calc({ in: inputsWith(j, acc) });
        const q = acc >> BigInt(S);
        const y = activationForward(op, q);
        if (q > C) clamped++;
        expect(w[c.wire(`main.out[${j}]`)], `unit ${j}, acc ${acc}`).toBe(y < 0n ? y + c.r1csParsed.prime : y);
        expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
      }
    }
    expect(clamped).toBeGreaterThan(0);
    expect(await snarkjsCheck(c.r1cs, await calc({ in: [31n * TWO_S, -1n, 3n] }))).toBe(true);
  });

  it("costs s + B + 1 constraints a unit, and B + 1 more for the units it clamps (the gadgets' counts)", () => {
    const c = circuits.relu6 as TestCircuit;
    const perUnit = Q_BITS.map((B, j) => S + B + 1 + (capIndex(j) !== undefined ? B + 1 : 0));
    expect(capIndex(1)).toBeUndefined();
    expect(c.r1csParsed.constraints.length).toBe(perUnit.reduce((a, b) => a + b, 0));
  });

  it("rejects every other output: alone, or with the bits, the relu value and the overshoot recomputed for it", async () => {
    const c = circuits.relu6 as TestCircuit;
    const calc = await witnessCalculator(c.wasm);
    let tried = 0;
    for (const j of Q_BITS.keys()) {
      const B = Q_BITS[j] as number;
      const ci = capIndex(j);
      for (const acc of accsOf(j).filter((_, i) => i % 3 === 0)) {
        const w = await calc({ in: inputsWith(j, acc) });
        const q = acc >> BigInt(S);
        const y = activationForward(op, q);
        for (const claim of claimsOtherThan(y)) {
          expect(checkR1cs(c.r1csParsed, forge(c, w, out(j, claim))).ok, `unit ${j} acc ${acc} claims ${claim}`).toBe(
            false,
          );
          // A quotient that would give the claim (claim itself, or anything past C for C), with its remainder.
          const q2 = ci !== undefined && claim >= C ? C + 1n : claim;
          const rl = q2 > 0n ? q2 : 0n;
          const d = rl - C;
          // The inline names must all exist (overwrite throws otherwise); the gadget's are filtered (see forge).
          const inline: Record<string, bigint> = { ...out(j, claim), ...inlineBits(j, q2, acc - q2 * TWO_S) };
          let base = w;
          if (ci !== undefined) {
            inline[`main.l.rl[${ci}]`] = rl;
            inline[`main.l.cap[${ci}].out`] = d > 0n ? d : 0n;
            base = forge(c, w, rescaleWitnessSignals(`main.l.cap[${ci}].rs`, d, 0n, 0, B));
          }
          const forged = c.overwrite(base, inline);
          expect(checkR1cs(c.r1csParsed, forged).ok, `unit ${j} acc ${acc} claims ${claim}, recomputed`).toBe(false);
          tried++;
          if (ci === undefined) continue;
          // Or the relu value kept honest and the overshoot lied about, so that relu − overshoot is the claim.
          const lie = (q > 0n ? q : 0n) - claim;
          const overLie = c.overwrite(forge(c, w, rescaleWitnessSignals(`main.l.cap[${ci}].rs`, lie, 0n, 0, B)), {
            ...out(j, claim),
            [`main.l.cap[${ci}].out`]: lie,
          });
          expect(checkR1cs(c.r1csParsed, overLie).ok, `unit ${j} acc ${acc} claims ${claim}, overshoot lied`).toBe(
            false,
          );
        }
      }
    }
    expect(tried).toBeGreaterThan(100);
  });
});

describe("LeakyReLU rescales, inline", () => {
  for (const k of LEAK_SHIFTS) {
    const op = { activation: "leakyRelu" as const, leakShift: k, outFracBits: FRAC };

    it(`computes q for q >= 0 and floor(q / 2^${k}) below, for every accumulator of every unit`, async () => {
      const c = circuits[`leaky${k}`] as TestCircuit;
      expect(c.warnings).toEqual([]);
      const calc = await witnessCalculator(c.wasm);
      for (const j of Q_BITS.keys()) {
        for (const acc of accsOf(j)) {
          const w = await calc({ in: inputsWith(j, acc) });
          const y = activationForward(op, acc >> BigInt(S));
          expect(w[c.wire(`main.out[${j}]`)], `unit ${j}, acc ${acc}`).toBe(y < 0n ? y + c.r1csParsed.prime : y);
          expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
        }
      }
      expect(await snarkjsCheck(c.r1cs, await calc({ in: [-128n, -32n, -64n] }))).toBe(true);
    });

    it(`rejects every other output (k = ${k}): alone, or with a quotient that gives it and every bit recomputed`, async () => {
      const c = circuits[`leaky${k}`] as TestCircuit;
      expect(c.r1csParsed.constraints.length).toBe(Q_BITS.reduce((a, B) => a + S + B + 1, 0));
      const calc = await witnessCalculator(c.wasm);
      let tried = 0;
      for (const j of Q_BITS.keys()) {
        for (const acc of accsOf(j).filter((_, i) => i % 3 === 0)) {
          const w = await calc({ in: inputsWith(j, acc) });
          const y = activationForward(op, acc >> BigInt(S));
          for (const claim of claimsOtherThan(y)) {
            expect(checkR1cs(c.r1csParsed, forge(c, w, out(j, claim))).ok, `unit ${j} acc ${acc} claims ${claim}`).toBe(
              false,
            );
            const q2 = claim >= 0n ? claim : claim * (1n << BigInt(k));
            const forged = c.overwrite(w, { ...out(j, claim), ...inlineBits(j, q2, acc - q2 * TWO_S) });
            expect(checkR1cs(c.r1csParsed, forged).ok, `unit ${j} acc ${acc} claims ${claim}, recomputed`).toBe(false);
            tried++;
          }
        }
      }
      expect(tried).toBeGreaterThan(100);
    });
  }
});
