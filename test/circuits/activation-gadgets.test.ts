// Soundness tests of the activation gadgets of circuits/verinfer.circom that ReLU6 and LeakyReLU layers use:
// RescaleRelu6(s, B, C) and RescaleLeakyRelu(s, B, k). For every accumulator the gadget accepts, the honest witness
// computes the integer reference (activationForward) and satisfies the R1CS; every other output — alone, or with
// the gadget's inner signals recomputed as an honest generator would for a quotient that gives that output —
// violates it. A deliberately unpinned variant shows the "alone" check does catch a missing constraint.
import { rm } from "node:fs/promises";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activationForward, relu6Ceiling } from "../../src/models/layers/rescale.js";
import {
  checkR1cs,
  compileTestCircuit,
  rescaleWitnessSignals,
  snarkjsCheck,
  type TestCircuit,
  witnessCalculator,
} from "../r1cs-check.js";

const S = 2;
const B = 6;
const TWO_S = 1n << BigInt(S);
/** Every accumulator a Rescale(2, 6) accepts: quotients in [-32, 32). */
const ACCS = Array.from({ length: 1 << (B + S) }, (_, i) => BigInt(i) - (1n << BigInt(B - 1 + S)));
/** outFracBits 1: the relu6 ceiling 12 lies inside the quotient range, so the clamp is proven. */
const CLAMPING_FRAC = 1;
/** outFracBits 3: the ceiling 48 lies above every quotient, so the clamp costs nothing. */
const IDLE_FRAC = 3;
/** Slopes 1/2, 1/8, and 1/512 (k > B − 1: every negative quotient gives −1). */
const LEAK_SHIFTS = [1, 3, 9] as const;

const unary = (gadget: string) => `template T() {
    signal input in;
    signal output out;
    component g = ${gadget};
    g.in <== in;
    out <== g.out;
}
component main {public [in]} = T();`;

const circuits: Record<string, TestCircuit> = {};

beforeAll(async () => {
  const sources: Record<string, string> = {
    rescale: unary(`Rescale(${S}, ${B})`),
    relu6Clamping: unary(`RescaleRelu6(${S}, ${B}, ${relu6Ceiling(CLAMPING_FRAC)})`),
    relu6Idle: unary(`RescaleRelu6(${S}, ${B}, ${relu6Ceiling(IDLE_FRAC)})`),
    ...Object.fromEntries(LEAK_SHIFTS.map((k) => [`leaky${k}`, unary(`RescaleLeakyRelu(${S}, ${B}, ${k})`)])),
    // The selection computed with <-- and never constrained: what the tamper checks must catch.
    leakyUnpinned: `template LeakyUnpinned(s, B, k) {
    signal input in;
    signal output out;
    component rs = RescaleBits(s, B);
    rs.in <== in;
    _ <== rs.bits;
    out <-- rs.out >= 0 ? rs.out : rs.out \\ (2 ** k);
}
${unary(`LeakyUnpinned(${S}, ${B}, 1)`)}`,
  };
  const compiled = await Promise.all(Object.values(sources).map((source) => compileTestCircuit(source)));
  Object.keys(sources).forEach((name, i) => {
    circuits[name] = compiled[i] as TestCircuit;
  });
});

afterAll(async () => {
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  await curve.terminate();
  await Promise.all(Object.values(circuits).map((c) => rm(c.workDir, { recursive: true, force: true })));
});

/** Sets only the signals the circuit has (a --O2 build folds some names into others). */
function forge(c: TestCircuit, w: readonly bigint[], values: Record<string, bigint>): bigint[] {
  return c.overwrite(w, Object.fromEntries(Object.entries(values).filter(([name]) => c.signals.has(name))));
}

const out = (v: bigint) => ({ "main.out": v, "main.g.out": v });
const claimsOtherThan = (y: bigint) => [y + 1n, y - 1n, y + 4n, y - 4n, -y, 0n, 12n, 31n, -32n].filter((v) => v !== y);

describe("RescaleRelu6(s, B, C)", () => {
  for (const [name, frac] of [
    ["relu6Clamping", CLAMPING_FRAC],
    ["relu6Idle", IDLE_FRAC],
  ] as const) {
    it(`computes min(max(floor(in / 2^s), 0), C) for every accumulator (C = ${relu6Ceiling(frac)})`, async () => {
      const c = circuits[name] as TestCircuit;
      expect(c.warnings).toEqual([]);
      const calc = await witnessCalculator(c.wasm);
      const op = { activation: "relu6" as const, outFracBits: frac };
      let clamped = 0;
      for (const acc of ACCS) {
        const w = await calc({ in: acc });
        const q = acc >> BigInt(S);
        const y = activationForward(op, q);
        if (y !== q && q > 0n) clamped++;
        expect(w[c.wire("main.out")], `acc ${acc}`).toBe(y < 0n ? y + c.r1csParsed.prime : y);
        expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
      }
      expect(clamped > 0).toBe(name === "relu6Clamping");
      expect(await snarkjsCheck(c.r1cs, await calc({ in: ACCS.at(-1) as bigint }))).toBe(true);
    });
  }

  it("costs B + 1 constraints more than RescaleRelu when it clamps, none when it cannot", () => {
    const clamping = circuits.relu6Clamping as TestCircuit;
    const idle = circuits.relu6Idle as TestCircuit;
    expect(clamping.r1csParsed.constraints.length - idle.r1csParsed.constraints.length).toBe(B + 1);
  });

  it("rejects every other output: alone, or with t, the overshoot and every bit recomputed for it", async () => {
    const c = circuits.relu6Clamping as TestCircuit;
    const C = relu6Ceiling(CLAMPING_FRAC);
    const calc = await witnessCalculator(c.wasm);
    for (const acc of ACCS.filter((_, i) => i % 3 === 0)) {
      const w = await calc({ in: acc });
      const q = acc >> BigInt(S);
      const y = activationForward({ activation: "relu6", outFracBits: CLAMPING_FRAC }, q);
      for (const claim of claimsOtherThan(y)) {
        expect(checkR1cs(c.r1csParsed, forge(c, w, out(claim))).ok, `acc ${acc} claims ${claim}`).toBe(false);
        // A quotient that would give the claim (claim itself, or anything past C for C), with its remainder.
        const q2 = claim >= C ? C + 1n : claim;
        const t = q2 > 0n ? q2 : 0n;
        const d = t - C;
        const forged = forge(c, w, {
          ...out(claim),
          ...rescaleWitnessSignals("main.g.t.rs", q2, acc - q2 * TWO_S, S, B),
          "main.g.t.out": t,
          ...rescaleWitnessSignals("main.g.over.rs", d, 0n, 0, B),
          "main.g.over.out": d > 0n ? d : 0n,
        });
        expect(checkR1cs(c.r1csParsed, forged).ok, `acc ${acc} claims ${claim}, recomputed`).toBe(false);
        // Or t kept honest and the overshoot lied about, so that t − overshoot is the claim.
        const honestT = q > 0n ? q : 0n;
        const lie = honestT - claim;
        const overLie = forge(c, w, {
          ...out(claim),
          ...rescaleWitnessSignals("main.g.over.rs", lie, 0n, 0, B),
          "main.g.over.out": lie,
        });
        expect(checkR1cs(c.r1csParsed, overLie).ok, `acc ${acc} claims ${claim}, overshoot lied`).toBe(false);
      }
    }
  });
});

describe("RescaleLeakyRelu(s, B, k)", () => {
  for (const k of LEAK_SHIFTS) {
    it(`computes q for q >= 0 and floor(q / 2^${k}) below, for every accumulator`, async () => {
      const c = circuits[`leaky${k}`] as TestCircuit;
      expect(c.warnings).toEqual([]);
      const calc = await witnessCalculator(c.wasm);
      const op = { activation: "leakyRelu" as const, leakShift: k, outFracBits: 0 };
      for (const acc of ACCS) {
        const w = await calc({ in: acc });
        const y = activationForward(op, acc >> BigInt(S));
        expect(w[c.wire("main.out")], `acc ${acc}`).toBe(y < 0n ? y + c.r1csParsed.prime : y);
        expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
      }
      expect(await snarkjsCheck(c.r1cs, await calc({ in: ACCS[0] as bigint }))).toBe(true);
    });

    it(`rejects every other output (k = ${k}): alone, or with a quotient that gives it and every bit recomputed`, async () => {
      const c = circuits[`leaky${k}`] as TestCircuit;
      const calc = await witnessCalculator(c.wasm);
      const op = { activation: "leakyRelu" as const, leakShift: k, outFracBits: 0 };
      for (const acc of ACCS.filter((_, i) => i % 3 === 0)) {
        const w = await calc({ in: acc });
        const y = activationForward(op, acc >> BigInt(S));
        for (const claim of claimsOtherThan(y)) {
          expect(checkR1cs(c.r1csParsed, forge(c, w, out(claim))).ok, `acc ${acc} claims ${claim}`).toBe(false);
          const q2 = claim >= 0n ? claim : claim * (1n << BigInt(k));
          const forged = forge(c, w, {
            ...out(claim),
            ...rescaleWitnessSignals("main.g.rs", q2, acc - q2 * TWO_S, S, B),
          });
          expect(checkR1cs(c.r1csParsed, forged).ok, `acc ${acc} claims ${claim}, recomputed`).toBe(false);
        }
      }
    });
  }

  it("one constraint more than the rescale alone, whatever the slope", () => {
    const counts = LEAK_SHIFTS.map((k) => (circuits[`leaky${k}`] as TestCircuit).r1csParsed.constraints.length);
    expect(new Set(counts).size).toBe(1);
    expect(counts[0]).toBe((circuits.rescale as TestCircuit).r1csParsed.constraints.length + 1);
  });

  it("the same checks catch a selection that nothing constrains", async () => {
    const c = circuits.leakyUnpinned as TestCircuit;
    const calc = await witnessCalculator(c.wasm);
    const w = await calc({ in: -40n });
    expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
    expect(checkR1cs(c.r1csParsed, forge(c, w, out(7n))).ok).toBe(true);
  });
});
