// Soundness tests of the hand-written gadgets in circuits/verinfer.circom: honest witnesses satisfy the R1CS,
// and forged witnesses — a wrong output with every dependent signal recomputed the way an honest witness
// generator would — violate it. Each gadget is compiled once, small, into its own temp dir.
import { rm } from "node:fs/promises";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { commitValues, packValues } from "../../src/attest/commitments.js";
import { FIELD_PRIME, fromField, toField } from "../../src/util/field.js";
import {
  bitsOf,
  type CircuitInput,
  calculateWitness,
  checkR1cs,
  compileTestCircuit,
  rescaleWitnessSignals,
  snarkjsCheck,
  type TestCircuit,
  witnessCalculator,
} from "../r1cs-check.js";

const S = 3; // Rescale(3, 8): accumulators in [-2^10, 2^10), quotients in [-2^7, 2^7)
const B = 8;
const IN_HALF = 1n << BigInt(B - 1 + S);
const Q_HALF = 1n << BigInt(B - 1);
const TWO_S = 1n << BigInt(S);

const RC_N = 5; // RangeCheckedCommitment(5, 64, -2^63): 3 values per packed element, 2 elements
const RC_WIDTH = 64;
const RC_LO = -(1n << 63n);
const RC_HI = RC_LO + (1n << 64n) - 1n;
const PC_N = 40; // PackedCommitment(40, 126, 0): 2 values per element, 22 hash inputs → a 2-step Poseidon chain
const PC_WIDTH = 126;
const PACK_N = 5; // Pack(5, 100): 2 values per element, 3 elements
const PACK_WIDTH = 100;

const SOURCES = {
  rescale: `template T() {
    signal input in;
    signal output out;
    signal output nonNegative;
    component g = Rescale(${S}, ${B});
    g.in <== in;
    out <== g.out;
    nonNegative <== g.nonNegative;
}
component main {public [in]} = T();`,
  // The same gadget with the remainder's range check removed: the forgeries below must pass it, which shows they
  // are caught by that check and not by some accident of the witness.
  rescaleNoRemainderCheck: `template RescaleNoRemainderCheck(s, B) {
    signal input in;
    signal output out;
    signal output nonNegative;
    var offset = 2 ** (B - 1 + s);
    signal r;
    out <-- ((in + offset) \\ (2 ** s)) - 2 ** (B - 1);
    r <-- (in + offset) % (2 ** s);
    in === out * (2 ** s) + r;
    component qBits = Num2Bits(B);
    qBits.in <== out + 2 ** (B - 1);
    for (var i = 0; i < B - 1; i++) {
        _ <== qBits.out[i];
    }
    nonNegative <== qBits.out[B - 1];
}
template T() {
    signal input in;
    signal output out;
    signal output nonNegative;
    component g = RescaleNoRemainderCheck(${S}, ${B});
    g.in <== in;
    out <== g.out;
    nonNegative <== g.nonNegative;
}
component main {public [in]} = T();`,
  // Without the quotient's range check: a remainder other than the honest one then has a matching quotient,
  // (in - r') / 2^s taken in the field, which only that check rules out.
  rescaleNoQuotientCheck: `template RescaleNoQuotientCheck(s, B) {
    signal input in;
    signal output out;
    var offset = 2 ** (B - 1 + s);
    signal r;
    out <-- ((in + offset) \\ (2 ** s)) - 2 ** (B - 1);
    r <-- (in + offset) % (2 ** s);
    in === out * (2 ** s) + r;
    component rRange = RangeCheck(s);
    rRange.in <== r;
}
template T() {
    signal input in;
    signal output out;
    component g = RescaleNoQuotientCheck(${S}, ${B});
    g.in <== in;
    out <== g.out;
}
component main {public [in]} = T();`,
  rescaleShift0: `template T() {
    signal input in;
    signal output out;
    signal output nonNegative;
    component g = Rescale(0, 4);
    g.in <== in;
    out <== g.out;
    nonNegative <== g.nonNegative;
}
component main {public [in]} = T();`,
  relu: `template T() {
    signal input in;
    signal output out;
    component g = RescaleRelu(${S}, ${B});
    g.in <== in;
    out <== g.out;
}
component main {public [in]} = T();`,
  rangeCheck: `template T() {
    signal input in;
    component g = RangeCheck(8);
    g.in <== in;
}
component main {public [in]} = T();`,
  pack: `template T() {
    signal input in[${PACK_N}];
    signal output out[3];
    component g = Pack(${PACK_N}, ${PACK_WIDTH});
    g.in <== in;
    out <== g.out;
}
component main {public [in]} = T();`,
  packedCommitment: `template T() {
    signal input in[${PC_N}];
    signal input salt;
    signal output out;
    component g = PackedCommitment(${PC_N}, ${PC_WIDTH}, 0);
    g.in <== in;
    g.salt <== salt;
    out <== g.out;
}
component main = T();`,
  rangeCheckedCommitment: `template T() {
    signal input in[${RC_N}];
    signal input salt;
    signal output out;
    component g = RangeCheckedCommitment(${RC_N}, ${RC_WIDTH}, ${RC_LO});
    g.in <== in;
    g.salt <== salt;
    out <== g.out;
}
component main = T();`,
} as const;

type Name = keyof typeof SOURCES;
const circuits = {} as Record<Name, TestCircuit>;

beforeAll(async () => {
  const names = Object.keys(SOURCES) as Name[];
  const compiled = await Promise.all(names.map((n) => compileTestCircuit(SOURCES[n])));
  names.forEach((n, i) => {
    circuits[n] = compiled[i] as TestCircuit;
  });
});

afterAll(async () => {
  // snarkjs.wtns.check builds the bn128 curve, whose worker threads would otherwise keep the fork alive.
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  await curve.terminate();
  await Promise.all(Object.values(circuits).map((c) => rm(c.workDir, { recursive: true, force: true })));
});

/** Asserts that both our checker and snarkjs accept (or both reject) a witness. */
async function expectSatisfied(c: TestCircuit, w: readonly bigint[], satisfied: boolean): Promise<void> {
  expect(checkR1cs(c.r1csParsed, w).ok).toBe(satisfied);
  expect(await snarkjsCheck(c.r1cs, w)).toBe(satisfied);
}

/** Asserts that the witness calculator refuses `input` at one of the circuit's asserts (quietly). */
async function expectNoWitness(c: TestCircuit, input: CircuitInput): Promise<void> {
  const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    await expect(calculateWitness(c.wasm, input)).rejects.toThrow(/Assert Failed/);
  } finally {
    quiet.mockRestore();
  }
}

/** Constraints whose A and B are both non-empty (circom's "non-linear constraints"). */
function countNonLinear(c: TestCircuit): number {
  return c.r1csParsed.constraints.filter(([a, b]) => a.length > 0 && b.length > 0).length;
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = base % m;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

const floorDiv = (x: bigint, d: bigint) => (x >= 0n ? x / d : -((-x + d - 1n) / d));

/** Every accumulator Rescale(3, 8) accepts. */
const ALL_ACCS = Array.from({ length: Number(2n * IN_HALF) }, (_, i) => BigInt(i) - IN_HALF);
/** Negative, zero, boundary and remainder-edge accumulators. */
const EDGE_ACCS = [
  -IN_HALF,
  -IN_HALF + 1n,
  -IN_HALF + 7n,
  -9n,
  -8n,
  -7n,
  -1n,
  0n,
  1n,
  7n,
  8n,
  9n,
  IN_HALF - 8n,
  IN_HALF - 1n,
];

/**
 * Signal values of a Rescale (prefix `main.g` or `main.g.rs`) for quotient q and remainder r. When the gadget's
 * outputs are wired straight to main's (`main.out`, `main.nonNegative`), --O2 keeps only main's wires, so
 * `aliases` sets those too.
 */
function rescaleSignals(prefix: string, q: bigint, r: bigint, aliases = true, s = S, b = B): Record<string, bigint> {
  // Rescale hands out no bits (RescaleBits does).
  const values = Object.fromEntries(
    Object.entries(rescaleWitnessSignals(prefix, q, r, s, b)).filter(([name]) => !name.includes(".bits[")),
  );
  if (aliases) {
    values["main.out"] = q;
    values["main.nonNegative"] = values[`${prefix}.nonNegative`] as bigint;
  }
  return values;
}

describe("test helpers", () => {
  it("compile every gadget test circuit without --inspect warnings", () => {
    for (const c of Object.values(circuits)) expect(c.warnings).toEqual([]);
  });

  it("parseR1cs agrees with snarkjs's r1cs.info and circom's non-linear count", async () => {
    for (const c of [circuits.rangeCheckedCommitment, circuits.pack, circuits.relu]) {
      const info = await snarkjs.r1cs.info({ type: "mem", data: c.r1cs });
      expect(c.r1csParsed.constraints.length).toBe(info.nConstraints);
      expect(c.r1csParsed.nWires).toBe(info.nVars);
      expect(countNonLinear(c)).toBe(c.nonLinearConstraints);
    }
  });

  it("compileCircuit reports circom's linear constraint count", () => {
    const c = circuits.pack; // public inputs keep Pack's linear constraints: 0 non-linear, 3 linear
    expect(c.linearConstraints).toBe(c.r1csParsed.constraints.length - countNonLinear(c));
  });

  it("calculateWitness (snarkjs) and witnessCalculator (circom_runtime) produce the same witness", async () => {
    const c = circuits.relu;
    const calc = await witnessCalculator(c.wasm);
    expect(await calculateWitness(c.wasm, { in: -77n })).toEqual(await calc({ in: -77n }));
  });

  it("checkR1cs reports the first violated constraint and rejects w[0] != 1", async () => {
    const c = circuits.rangeCheck;
    const w = await calculateWitness(c.wasm, { in: 5n });
    expect(checkR1cs(c.r1csParsed, w)).toEqual({ ok: true, firstFailing: -1 });
    const bad = c.overwrite(w, { "main.g.bits.out[0]": 2n });
    const check = checkR1cs(c.r1csParsed, bad);
    expect(check.ok).toBe(false);
    expect(check.firstFailing).toBeGreaterThanOrEqual(0);
    expect(checkR1cs(c.r1csParsed, [2n, ...w.slice(1)]).ok).toBe(false);
  });
});

describe("Rescale(s, B)", () => {
  it("computes floor(in / 2^s) and the sign bit for every accumulator in [-2^(B-1+s), 2^(B-1+s))", async () => {
    const c = circuits.rescale;
    const calc = await witnessCalculator(c.wasm);
    for (const acc of ALL_ACCS) {
      const w = await calc({ in: acc });
      const q = floorDiv(acc, TWO_S);
      expect(q).toBe(acc >> BigInt(S));
      expect(fromField(w[c.wire("main.out")] as bigint)).toBe(q);
      expect(w[c.wire("main.nonNegative")]).toBe(q >= 0n ? 1n : 0n);
      expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
    }
  });

  it("accepts honest witnesses for negative, zero and boundary accumulators (snarkjs agrees)", async () => {
    const c = circuits.rescale;
    for (const acc of EDGE_ACCS) await expectSatisfied(c, await calculateWitness(c.wasm, { in: acc }), true);
  });

  it("refuses to compute a witness for accumulators outside its range", async () => {
    const c = circuits.rescale;
    for (const acc of [IN_HALF, -IN_HALF - 1n, 10n * IN_HALF]) {
      await expectNoWitness(c, { in: acc });
    }
  });

  it("rejects q ± k with r ∓ k·2^s for every accumulator, every bit recomputed as Num2Bits would", async () => {
    const c = circuits.rescale;
    const calc = await witnessCalculator(c.wasm);
    for (const acc of ALL_ACCS) {
      const w = await calc({ in: acc });
      const q = acc >> BigInt(S);
      const r = acc - q * TWO_S;
      for (const k of [1n, -1n, 2n, -2n, Q_HALF, 2n * Q_HALF]) {
        const forged = c.overwrite(w, rescaleSignals("main.g", q + k, r - k * TWO_S));
        expect(forged[c.wire("main.out")]).not.toBe(w[c.wire("main.out")]);
        expect(checkR1cs(c.r1csParsed, forged).ok, `acc ${acc}, q${k > 0n ? "+" : ""}${k}`).toBe(false);
      }
    }
  });

  it("rejects the q+1 forgery in snarkjs's witness check too", async () => {
    const c = circuits.rescale;
    for (const acc of EDGE_ACCS) {
      const w = await calculateWitness(c.wasm, { in: acc });
      const q = acc >> BigInt(S);
      const forged = c.overwrite(w, rescaleSignals("main.g", q + 1n, acc - (q + 1n) * TWO_S));
      await expectSatisfied(c, forged, false);
    }
  });

  it("rejects a flipped sign bit and a quotient that is off by one with stale bits", async () => {
    const c = circuits.rescale;
    for (const acc of EDGE_ACCS) {
      const w = await calculateWitness(c.wasm, { in: acc });
      const nonNegative = w[c.wire("main.nonNegative")] as bigint;
      await expectSatisfied(c, c.overwrite(w, { "main.nonNegative": 1n - nonNegative }), false);
      const q = fromField(w[c.wire("main.out")] as bigint);
      await expectSatisfied(c, c.overwrite(w, { "main.out": q + 1n }), false);
    }
  });

  it("would accept the q+1 forgery without the remainder's range check (the tamper test has teeth)", async () => {
    const weak = circuits.rescaleNoRemainderCheck;
    let accepted = 0;
    for (const acc of EDGE_ACCS) {
      const w = await calculateWitness(weak.wasm, { in: acc });
      const q = acc >> BigInt(S);
      if (q + 1n >= Q_HALF) continue; // q+1 must still fit the quotient's own range check
      const values = rescaleSignals("main.g", q + 1n, acc - (q + 1n) * TWO_S);
      for (const k of Object.keys(values)) if (k.includes("rRange")) delete values[k];
      const forged = weak.overwrite(w, values);
      expect(fromField(forged[weak.wire("main.out")] as bigint)).toBe(q + 1n);
      await expectSatisfied(weak, forged, true);
      accepted++;
    }
    expect(accepted).toBeGreaterThan(10);
  });

  it("rejects every other remainder with its field quotient (in - r') / 2^s, which wraps the field", async () => {
    const c = circuits.rescale;
    const weak = circuits.rescaleNoQuotientCheck;
    const inv = modPow(TWO_S, FIELD_PRIME - 2n, FIELD_PRIME);
    for (const acc of EDGE_ACCS) {
      const w = await calculateWitness(c.wasm, { in: acc });
      const weakW = await calculateWitness(weak.wasm, { in: acc });
      const r = acc - (acc >> BigInt(S)) * TWO_S;
      for (let r2 = 0n; r2 < TWO_S; r2++) {
        if (r2 === r) continue;
        const q2 = (((acc - r2) % FIELD_PRIME) * inv) % FIELD_PRIME; // satisfies in = q2 * 2^s + r2 in the field
        expect(toField(q2 * TWO_S + r2)).toBe(toField(acc));
        await expectSatisfied(c, c.overwrite(w, rescaleSignals("main.g", q2, r2)), false);
        const values = rescaleSignals("main.g", q2, r2);
        for (const k of Object.keys(values)) if (k.includes("qBits") || k.includes("nonNegative")) delete values[k];
        await expectSatisfied(weak, weak.overwrite(weakW, values), true);
      }
    }
  });

  it("with s = 0, pins out = in and rejects out + 1", async () => {
    const c = circuits.rescaleShift0;
    const calc = await witnessCalculator(c.wasm);
    for (let acc = -8n; acc < 8n; acc++) {
      const w = await calc({ in: acc });
      expect(fromField(w[c.wire("main.out")] as bigint)).toBe(acc);
      await expectSatisfied(c, w, true);
      if (acc + 1n < 8n) {
        const forged = c.overwrite(w, rescaleSignals("main.g", acc + 1n, -1n, true, 0, 4));
        await expectSatisfied(c, forged, false);
      }
    }
    await expectNoWitness(c, { in: 8n });
  });
});

describe("RescaleRelu(s, B)", () => {
  it("computes max(floor(in / 2^s), 0) for every accumulator in range", async () => {
    const c = circuits.relu;
    const calc = await witnessCalculator(c.wasm);
    for (const acc of ALL_ACCS) {
      const w = await calc({ in: acc });
      const q = acc >> BigInt(S);
      expect(w[c.wire("main.out")]).toBe(q > 0n ? q : 0n);
      expect(checkR1cs(c.r1csParsed, w).ok).toBe(true);
    }
  });

  it("accepts honest witnesses for negative, zero and boundary accumulators (snarkjs agrees)", async () => {
    const c = circuits.relu;
    for (const acc of EDGE_ACCS) await expectSatisfied(c, await calculateWitness(c.wasm, { in: acc }), true);
  });

  it("rejects a negative quotient passed through unrectified, with or without its sign bit flipped", async () => {
    const c = circuits.relu;
    for (const acc of EDGE_ACCS.filter((a) => a < 0n)) {
      const w = await calculateWitness(c.wasm, { in: acc });
      const q = acc >> BigInt(S);
      expect(w[c.wire("main.out")]).toBe(0n);
      await expectSatisfied(c, c.overwrite(w, { "main.out": q }), false);
      await expectSatisfied(c, c.overwrite(w, { "main.out": q, "main.g.rs.nonNegative": 1n }), false);
      // |q| is what a sign-magnitude slip would output
      await expectSatisfied(c, c.overwrite(w, { "main.out": -q, "main.g.rs.nonNegative": 1n }), false);
    }
  });

  it("rejects a positive output zeroed, with or without its sign bit cleared", async () => {
    const c = circuits.relu;
    for (const acc of EDGE_ACCS.filter((a) => a >= 8n)) {
      const w = await calculateWitness(c.wasm, { in: acc });
      expect(w[c.wire("main.out")]).not.toBe(0n);
      await expectSatisfied(c, c.overwrite(w, { "main.out": 0n }), false);
      await expectSatisfied(c, c.overwrite(w, { "main.out": 0n, "main.g.rs.nonNegative": 0n }), false);
    }
  });

  it("rejects q ± k with r ∓ k·2^s and relu(q ± k) as output, every bit recomputed", async () => {
    const c = circuits.relu;
    const calc = await witnessCalculator(c.wasm);
    for (const acc of ALL_ACCS) {
      const w = await calc({ in: acc });
      const q = acc >> BigInt(S);
      const r = acc - q * TWO_S;
      for (const k of [1n, -1n, 2n, -2n]) {
        const q2 = q + k;
        const values = { ...rescaleSignals("main.g.rs", q2, r - k * TWO_S, false), "main.out": q2 > 0n ? q2 : 0n };
        const forged = c.overwrite(w, values);
        expect(forged[c.wire("main.g.rs.out")]).not.toBe(w[c.wire("main.g.rs.out")]);
        expect(checkR1cs(c.r1csParsed, forged).ok, `acc ${acc}, k ${k}`).toBe(false);
      }
    }
  });
});

describe("RangeCheck(n)", () => {
  it("accepts every value in [0, 2^n)", async () => {
    const c = circuits.rangeCheck;
    const calc = await witnessCalculator(c.wasm);
    for (let v = 0n; v < 256n; v++) expect(checkR1cs(c.r1csParsed, await calc({ in: v })).ok).toBe(true);
    await expectSatisfied(c, await calculateWitness(c.wasm, { in: 255n }), true);
  });

  it("refuses to compute a witness for 2^n or -1", async () => {
    const c = circuits.rangeCheck;
    await expectNoWitness(c, { in: 256n });
    await expectNoWitness(c, { in: -1n });
  });

  it("rejects forged witnesses for out-of-range values with the bits Num2Bits would compute", async () => {
    const c = circuits.rangeCheck;
    const w = await calculateWitness(c.wasm, { in: 0n });
    for (const v of [256n, 257n, 511n, 1n << 200n, -1n, -256n]) {
      const values: Record<string, bigint> = { "main.in": v };
      bitsOf(v, 8).forEach((bit, i) => {
        values[`main.g.bits.out[${i}]`] = bit;
      });
      await expectSatisfied(c, c.overwrite(w, values), false);
    }
  });
});

describe("Pack(n, width)", () => {
  const values = [0n, (1n << 100n) - 1n, 12345678901234567890n, 1n, 42n];

  it("packs like packValues, lowest slot first, and folds into a single linear constraint per element", async () => {
    const c = circuits.pack;
    const w = await calculateWitness(c.wasm, { in: values });
    const packed = [0, 1, 2].map((i) => w[c.wire(`main.out[${i}]`)]);
    expect(packed).toEqual(packValues(values, PACK_WIDTH));
    expect(c.nonLinearConstraints).toBe(0);
    await expectSatisfied(c, w, true);
  });

  it("rejects a packed element that does not match its inputs", async () => {
    const c = circuits.pack;
    const w = await calculateWitness(c.wasm, { in: values });
    const out1 = w[c.wire("main.out[1]")] as bigint;
    await expectSatisfied(c, c.overwrite(w, { "main.out[1]": out1 + 1n }), false);
    await expectSatisfied(c, c.overwrite(w, { "main.in[4]": 43n }), false);
  });

  it("alone accepts a borrow between slots (v0 + 2^width, v1 - 1): binding needs the caller's range proof", async () => {
    const c = circuits.pack;
    const w = await calculateWitness(c.wasm, { in: values });
    const v0 = values[0] as bigint;
    const v1 = values[1] as bigint;
    const forged = c.overwrite(w, { "main.in[0]": v0 + (1n << 100n), "main.in[1]": v1 - 1n });
    await expectSatisfied(c, forged, true);
  });
});

describe("PackedCommitment(n, width, lo)", () => {
  const values = Array.from({ length: PC_N }, (_, i) => (BigInt(i) * 0x9e3779b97f4a7c15n ** 2n) % (1n << 126n));
  const salt = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdn;

  it("equals commitValues (lo = 0) across a multi-step Poseidon chain", async () => {
    const c = circuits.packedCommitment;
    const maxed = values.map((v, i) => (i % 3 === 0 ? (1n << 126n) - 1n : v));
    for (const [vs, s] of [
      [values, salt],
      [maxed, 0n],
      [values.map(() => 0n), 1n],
    ] as const) {
      const w = await calculateWitness(c.wasm, { in: vs, salt: s });
      expect(w[c.wire("main.out")]).toBe(await commitValues({ values: vs, lo: 0n, width: PC_WIDTH, salt: s }));
      await expectSatisfied(c, w, true);
    }
  });

  it("rejects a changed value, salt or commitment", async () => {
    const c = circuits.packedCommitment;
    const w = await calculateWitness(c.wasm, { in: values, salt });
    await expectSatisfied(c, c.overwrite(w, { "main.in[39]": (values[39] as bigint) + 1n }), false);
    await expectSatisfied(c, c.overwrite(w, { "main.salt": salt + 1n }), false);
    await expectSatisfied(c, c.overwrite(w, { "main.out": (w[c.wire("main.out")] as bigint) + 1n }), false);
  });

  it("alone accepts a borrow between slots: its callers must range-check the values", async () => {
    const c = circuits.packedCommitment;
    const w = await calculateWitness(c.wasm, { in: values, salt });
    const forged = c.overwrite(w, {
      "main.in[2]": (values[2] as bigint) + (1n << 126n),
      "main.in[3]": (values[3] as bigint) - 1n,
    });
    await expectSatisfied(c, forged, true);
  });
});

describe("RangeCheckedCommitment(n, width, lo)", () => {
  const values = [RC_LO, -1n, 0n, 77n, RC_HI];
  const salt = 987654321n;

  /** The witness's range bits for `vs` (each value shifted by -lo, as Num2Bits would split it). */
  function rangeBits(vs: readonly bigint[]): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    vs.forEach((v, i) => {
      out[`main.in[${i}]`] = v;
      bitsOf(v - RC_LO, RC_WIDTH).forEach((bit, j) => {
        out[`main.g.range[${i}].bits.out[${j}]`] = bit;
      });
    });
    return out;
  }

  /** Packed elements without packValues's range check. */
  function rawPack(vs: readonly bigint[]): bigint[] {
    const k = Math.floor(253 / RC_WIDTH);
    const out: bigint[] = [];
    vs.forEach((v, i) => {
      const c = Math.floor(i / k);
      out[c] = (out[c] ?? 0n) + ((v - RC_LO) << BigInt((i % k) * RC_WIDTH));
    });
    return out;
  }

  it("equals commitValues for signed values including lo and hi", async () => {
    const c = circuits.rangeCheckedCommitment;
    for (const vs of [values, values.map(() => RC_LO), values.map(() => RC_HI), [5n, -5n, 0n, 1n, -1n]]) {
      const w = await calculateWitness(c.wasm, { in: vs, salt });
      expect(w[c.wire("main.out")]).toBe(await commitValues({ values: vs, lo: RC_LO, width: RC_WIDTH, salt }));
      await expectSatisfied(c, w, true);
    }
  });

  it("refuses to compute a witness for a value below lo or above hi", async () => {
    const c = circuits.rangeCheckedCommitment;
    await expectNoWitness(c, { in: [RC_LO - 1n, 0n, 0n, 0n, 0n], salt });
    await expectNoWitness(c, { in: [0n, 0n, 0n, 0n, RC_HI + 1n], salt });
  });

  it("rejects a borrow between slots of one packed element, which leaves every hash input unchanged", async () => {
    const c = circuits.rangeCheckedCommitment;
    const w = await calculateWitness(c.wasm, { in: values, salt });
    const borrows: Array<Record<number, bigint>> = [
      { 0: 1n << 64n, 1: -1n }, // slot 0 above hi (element 0)
      { 3: 1n << 64n, 4: -1n }, // slot 3 above hi (element 1)
      { 0: -(1n << 64n), 1: 1n }, // slot 0 below lo
      { 1: 1n << 64n, 2: -1n }, // slot 1 above hi
    ];
    for (const borrow of borrows) {
      const vs = values.map((v, i) => v + (borrow[i] ?? 0n));
      expect(rawPack(vs)).toEqual(rawPack(values));
      const forged = c.overwrite(w, rangeBits(vs));
      expect(checkR1cs(c.r1csParsed, forged).ok, JSON.stringify(Object.keys(borrow))).toBe(false);
      expect(await snarkjsCheck(c.r1cs, forged)).toBe(false);
    }
  });

  it("rejects a changed value, salt or commitment", async () => {
    const c = circuits.rangeCheckedCommitment;
    const w = await calculateWitness(c.wasm, { in: values, salt });
    const vs = values.slice();
    vs[2] = 1n;
    await expectSatisfied(c, c.overwrite(w, rangeBits(vs)), false);
    await expectSatisfied(c, c.overwrite(w, { "main.salt": salt + 1n }), false);
    await expectSatisfied(c, c.overwrite(w, { "main.out": (w[c.wire("main.out")] as bigint) + 1n }), false);
  });
});
