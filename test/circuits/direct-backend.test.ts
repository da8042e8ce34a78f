// The direct R1CS backend (src/circuits/direct, src/layers): its gadgets against circomlib/circomlibjs and the
// integer semantics, a tamper test per gadget (every wire of an honest witness changed alone, and forgeries that
// recompute every wire of a wrong answer but keep the true input), the model commitment walked from the layer
// modules against the pre-module commitments of real models, and typed refusals of bad networks.
import { readFileSync } from "node:fs";
import path from "node:path";
import { buildPoseidon } from "circomlibjs";
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment, networkCommitment } from "../../src/attest/model-commitment.js";
import { buildModelCircuit } from "../../src/circuits/direct/build-model-circuit.js";
import { packedCommitmentGadget } from "../../src/circuits/direct/commitment-gadgets.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import {
  argmaxGadget,
  maxGadget,
  type RescaleUnit,
  rangeBits,
  rescaleConstraints,
  rescaleGadget,
} from "../../src/circuits/direct/gadgets.js";
import { poseidonConstraints, poseidonGadget } from "../../src/circuits/direct/poseidon-gadget.js";
import { N8, writeLE } from "../../src/circuits/direct/write-le.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { writeWtns } from "../../src/circuits/direct/write-wtns.js";
import { isVerinferError } from "../../src/errors.js";
import { LAYER_MODULES } from "../../src/layers/registry.js";
import { argmaxForward } from "../../src/models/layers/argmax.js";
import { activationForward } from "../../src/models/layers/rescale.js";
import type { QuantizedLayer, QuantizedNetwork } from "../../src/models/quantized-network.js";
import { quantizeModel } from "../../src/pipeline/quantize-model.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import { ROOT } from "../fixtures.js";
import {
  checkR1cs,
  constraintsByWire,
  parseR1cs,
  type R1cs,
  snarkjsCheck,
  violatedConstraints,
  wtnsToBigints,
} from "../r1cs-check.js";

/** A circuit of one gadget: private inputs, the gadget's outputs as public outputs. */
function gadgetCircuit(
  inputs: readonly bigint[],
  nOut: number,
  body: (cs: ConstraintSystem, ins: Lc[]) => Lc[],
): { r1cs: R1cs; bytes: Uint8Array; witness: bigint[]; outputs: bigint[] } {
  const cs = new ConstraintSystem({ track: true, nPublic: nOut });
  const ins = cs.privateInputs(inputs);
  for (const [i, o] of body(cs, ins).entries()) cs.setPublic(i, o);
  const bytes = writeR1cs(cs);
  const witness = cs.witness();
  return { r1cs: parseR1cs(bytes), bytes, witness, outputs: witness.slice(1, 1 + nOut) };
}

/**
 * Every wire but the constant and the private inputs (in a gadget's own circuit the inputs are the statement, free
 * to change), changed alone (to w+1, and to 0 or 1 when that differs), must break a constraint.
 */
function expectEveryWireTamperFails(r1cs: R1cs, witness: readonly bigint[], skipInputs = true): number {
  const byWire = constraintsByWire(r1cs);
  const firstInput = 1 + r1cs.nOutputs;
  let tried = 0;
  for (let w = 1; w < witness.length; w++) {
    if (skipInputs && w >= firstInput && w < firstInput + r1cs.nPrvInputs) continue;
    for (const v of new Set([toField((witness[w] as bigint) + 1n), 0n, 1n])) {
      if (v === witness[w]) continue;
      const forged = witness.slice();
      forged[w] = v;
      tried++;
      if (violatedConstraints(r1cs, forged, byWire[w] ?? []).length === 0) {
        throw new Error(`wire ${w} changed from ${witness[w]} to ${v} satisfies every constraint`);
      }
    }
  }
  return tried;
}

/** A forgery: the witness computed for `forgedInputs`, with the private inputs set back to `trueInputs`. */
function splice(forged: readonly bigint[], nPublic: number, trueInputs: readonly bigint[]): bigint[] {
  const w = forged.slice();
  trueInputs.forEach((v, i) => {
    w[1 + nPublic + i] = toField(v);
  });
  return w;
}

describe("the constraint system files", () => {
  it("writes an .r1cs snarkjs reads and a .wtns it checks", async () => {
    const c = gadgetCircuit([5n, 9n], 1, (cs, [a, b]) => [cs.mul(a as Lc, b as Lc)]);
    expect(c.outputs).toEqual([45n]);
    expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
    expect(await snarkjsCheck(c.bytes, c.witness)).toBe(true);
    expect(await wtnsToBigints(writeWtns(c.witness))).toEqual(c.witness);
    expect(c.r1cs).toMatchObject({ nWires: 4, nOutputs: 1, nPubInputs: 0, nPrvInputs: 2 });
    const bad = c.witness.slice();
    bad[1] = 46n;
    expect(await snarkjsCheck(c.bytes, bad)).toBe(false);
  });

  it("refuses to write a public output that took the place of a wire no constraint reads (it would be free)", () => {
    const cs = new ConstraintSystem({ track: true, nPublic: 1 });
    cs.privateInputs([3n]);
    cs.setPublic(0, cs.wire(7n));
    expect(() => writeR1cs(cs)).toThrow(expect.objectContaining({ code: "INTERNAL" }));
    const pinned = new ConstraintSystem({ track: true, nPublic: 1 });
    const [x] = pinned.privateInputs([3n]) as [Lc];
    pinned.setPublic(0, pinned.mul(x, x));
    expect(checkR1cs(parseR1cs(writeR1cs(pinned)), pinned.witness()).ok).toBe(true);
  });

  it("writes a booleanity constraint's derived B = A − 1 and unsorted term lists as the maps they stand for", () => {
    const cs = new ConstraintSystem({ track: true, nPublic: 1 });
    const [x, y] = cs.privateInputs([1n, 0n]) as [Lc, Lc];
    const p = cs.wire(0n);
    // A without a constant, with constant 1 (B loses it), with another constant; terms in descending wire order.
    const forms = [
      cs.lin([[p, 1n]]),
      cs.lin([[y, 1n]], 1n),
      cs.lin(
        [
          [p, 3n],
          [x, -1n],
          [y, 2n],
        ],
        5n,
      ),
    ];
    const want: Array<Map<number, bigint>> = [];
    for (const a of forms) {
      cs.assertBoolean(a);
      want.push(new Map([...a.terms].map(([w, c]) => [w, c])));
    }
    cs.setPublic(0, cs.lin([[p, 1n]], 9n)); // p is substituted in the first and third constraint: pub − 9
    const r1cs = parseR1cs(writeR1cs(cs));
    expect(r1cs.constraints).toHaveLength(3);
    const mod = (v: bigint) => ((v % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME;
    for (const [i, [a, b, c]] of r1cs.constraints.entries()) {
      expect(c).toEqual([]);
      for (const lc of [a, b]) expect(lc.map(([w]) => w)).toEqual(lc.map(([w]) => w).sort((u, v) => u - v));
      const bMap = new Map(b);
      const aMap = new Map(a);
      aMap.set(0, mod((aMap.get(0) ?? 0n) - 1n));
      for (const [w, k] of aMap) if (k === 0n) aMap.delete(w);
      expect(bMap).toEqual(aMap);
      if (i === 1) expect(new Map(a)).toEqual(want[1]);
    }
    // p (wire 4) took the public wire 1's place: 3·p − x + 2·y + 5 = 3·pub − x + 2·y − 22.
    expect(new Map(r1cs.constraints[2]?.[0])).toEqual(
      new Map([
        [0, mod(-22n)],
        [1, 3n],
        [2, mod(-1n)],
        [3, 2n],
      ]),
    );
  });

  it("writes field elements as 32 little-endian bytes and refuses what does not fit them", () => {
    const out = new Uint8Array(N8);
    writeLE(out, 0, (1n << 256n) - 2n);
    expect(out[0]).toBe(0xfe);
    expect(out.subarray(1).every((b) => b === 0xff)).toBe(true);
    for (const v of [0x1234n, (1n << 53n) - 1n, 1n << 53n, 0xabcn << 200n, FIELD_PRIME - 1n]) {
      const bytes = new Uint8Array(N8 + 2);
      writeLE(bytes, 1, v);
      let back = 0n;
      for (let i = N8; i >= 1; i--) back = (back << 8n) | BigInt(bytes[i] as number);
      expect([back, bytes[0], bytes[N8 + 1]]).toEqual([v, 0, 0]);
    }
    for (const v of [-1n, 1n << 256n]) {
      expect(() => writeLE(new Uint8Array(N8), 0, v)).toThrow(expect.objectContaining({ code: "INTERNAL" }));
    }
  });
});

describe("Poseidon written directly", () => {
  it("hashes like circomlibjs for 1 to 16 random inputs, with circomlib's constraint count", async () => {
    const ref = await buildPoseidon();
    for (let n = 1; n <= 16; n++) {
      const xs = Array.from({ length: n }, (_, i) =>
        toField(BigInt(Math.floor(Math.random() * 2 ** 52)) ** 5n + BigInt(i)),
      );
      const c = gadgetCircuit(xs, 1, (cs, ins) => [poseidonGadget(cs, ins)]);
      expect(c.outputs[0]).toBe(ref.F.toObject(ref(xs)));
      expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
      // One constraint per S-box product (3 per S-box, the constant initial state's folded); the public output takes
      // the place of the last S-box's wire.
      expect(c.r1cs.constraints.length).toBe(poseidonConstraints(n));
    }
    expect(poseidonConstraints(16) + 3).toBe(612); // circomlib Poseidon(16)'s non-linear constraints, before folding
  });

  it("pins every wire: each one changed alone breaks a constraint", () => {
    for (const n of [1, 3]) {
      const xs = Array.from({ length: n }, (_, i) => BigInt(1000 + i));
      const c = gadgetCircuit(xs, 1, (cs, ins) => [poseidonGadget(cs, ins)]);
      expect(expectEveryWireTamperFails(c.r1cs, c.witness)).toBeGreaterThanOrEqual(2 * poseidonConstraints(n));
    }
  });
});

describe("range check", () => {
  it("accepts [0, 2^n) with n constraints and pins every bit", () => {
    const c = gadgetCircuit([5n], 0, (cs, [x]) => {
      rangeBits(cs, x as Lc, 4);
      return [];
    });
    expect(c.r1cs.constraints.length).toBe(4);
    expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
    expectEveryWireTamperFails(c.r1cs, c.witness);
    // 16 is out of range: a witness whose bits say 0 (16 mod 16) breaks the identity.
    const forged = c.witness.slice();
    forged[1] = 21n; // 5 + 16: same low bits
    expect(checkR1cs(c.r1cs, forged).ok).toBe(false);
  });
});

const ACTS: Array<Pick<RescaleUnit, "activation" | "leakShift" | "outFracBits">> = [
  { activation: "linear", outFracBits: 2 },
  { activation: "relu", outFracBits: 2 },
  { activation: "relu6", outFracBits: 1 }, // ceiling 12, inside the 6-bit range: capped
  { activation: "relu6", outFracBits: 5 }, // ceiling 192: never reached
  { activation: "leakyRelu", leakShift: 2, outFracBits: 2 },
  { activation: "leakyRelu", leakShift: 9, outFracBits: 2 }, // k > B − 1
];

describe("rescale with every activation", () => {
  for (const act of ACTS) {
    for (const shift of [0, 1, 3]) {
      const unit: RescaleUnit = { multiplier: 3n, shift, B: 6, ...act };
      const label = `${act.activation}${act.leakShift ?? ""}@${act.outFracBits}, shift ${shift}`;
      it(`${label}: equals the integer semantics, every wire pinned, forgeries fail`, () => {
        const half = 1n << BigInt(unit.B - 1 + shift);
        // Every accumulator whose 3·acc keeps q in range.
        const accs: bigint[] = [];
        for (let acc = -half / 3n; 3n * acc < half; acc += shift === 3 ? 3n : 1n) accs.push(acc);
        for (const acc of accs) {
          const c = gadgetCircuit([acc], 1, (cs, [a]) => [rescaleGadget(cs, a as Lc, unit)]);
          const q = (3n * acc) >> BigInt(shift);
          expect(c.outputs[0]).toBe(toField(activationForward(unit, q)));
          expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
          expect(c.r1cs.constraints.length).toBe(rescaleConstraints(unit));
        }
        for (const acc of [accs[0] as bigint, -1n, 0n, 5n, accs.at(-1) as bigint]) {
          const c = gadgetCircuit([acc], 1, (cs, [a]) => [rescaleGadget(cs, a as Lc, unit)]);
          expectEveryWireTamperFails(c.r1cs, c.witness);
          // Forgeries: the whole witness of a neighbouring accumulator whose answer differs, input set back.
          for (const other of accs) {
            const f = gadgetCircuit([other], 1, (cs, [a]) => [rescaleGadget(cs, a as Lc, unit)]);
            if (f.outputs[0] === c.outputs[0]) continue;
            expect(checkR1cs(c.r1cs, splice(f.witness, 1, [acc])).ok).toBe(false);
          }
        }
      });
    }
  }
});

describe("max and argmax", () => {
  const B = 5;
  const vals = [-7n, 3n, 3n, -8n, 7n, 0n];
  it("max of every window equals the maximum; every wire pinned; forged maxima fail", () => {
    for (let k = 2; k <= 4; k++) {
      for (let start = 0; start + k <= vals.length; start++) {
        const w = vals.slice(start, start + k);
        const honest = w.reduce((m, v) => (v > m ? v : m));
        const c = gadgetCircuit(w, 1, (cs, ins) => [maxGadget(cs, ins, B)]);
        expect(c.outputs[0]).toBe(toField(honest));
        expect(c.r1cs.constraints.length).toBe((k - 1) * (B + 1));
        expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
        expectEveryWireTamperFails(c.r1cs, c.witness);
        // The witness of the same window with one value raised (a larger "maximum"), true inputs restored.
        for (let i = 0; i < k; i++) {
          const raised = w.map((v, t) => (t === i ? honest + 1n : v));
          let f: ReturnType<typeof gadgetCircuit>;
          try {
            f = gadgetCircuit(raised, 1, (cs, ins) => [maxGadget(cs, ins, B)]);
          } catch (e) {
            if (isVerinferError(e, "INTERNAL")) continue; // a difference outside B bits: no witness at all
            throw e;
          }
          expect(checkR1cs(c.r1cs, splice(f.witness, 1, w)).ok).toBe(false);
        }
      }
    }
  });

  it("argmax is the lowest index of the maximum; every wire pinned; forged classes fail", () => {
    for (const a of [
      [1n, 2n, 3n],
      [3n, 3n, 1n],
      [-5n, 7n, 7n, -8n],
      [0n, 0n],
    ]) {
      const c = gadgetCircuit(a, 1, (cs, ins) => [argmaxGadget(cs, ins, B)]);
      expect(c.outputs[0]).toBe(BigInt(argmaxForward(a)));
      expect(c.r1cs.constraints.length).toBe((a.length - 1) * (B + 2) - 1);
      expectEveryWireTamperFails(c.r1cs, c.witness);
      for (let i = 0; i < a.length; i++) {
        if (i === argmaxForward(a)) continue;
        const f = gadgetCircuit(
          a.map((v, t) => (t === i ? 7n : v > 6n ? 6n : v)),
          1,
          (cs, ins) => [argmaxGadget(cs, ins, B)],
        );
        if (f.outputs[0] === c.outputs[0]) continue;
        expect(checkR1cs(c.r1cs, splice(f.witness, 1, a)).ok).toBe(false);
      }
    }
  });
});

describe("packed commitments", () => {
  it("equals commitValues and pins every wire", async () => {
    const values = [3n, -2n, 0n, 7n, -8n];
    const lo = -8n;
    const width = 4;
    const c = gadgetCircuit([...values.map((v) => v - lo), 99n], 1, (cs, ins) => {
      const vs = ins.slice(0, values.length);
      for (const v of vs) rangeBits(cs, v, width);
      return [packedCommitmentGadget(cs, { values: vs, width, lo, salt: ins[values.length] as Lc })];
    });
    expect(c.outputs[0]).toBe(await commitValues({ values, lo, width, salt: 99n }));
    expect(checkR1cs(c.r1cs, c.witness).ok).toBe(true);
    expectEveryWireTamperFails(c.r1cs, c.witness);
  });
});

const goldens = JSON.parse(readFileSync(path.join(ROOT, "test", "fixtures", "model-commitments-v3.json"), "utf8")) as {
  models: Record<string, { model: string; network: string }>;
};

describe("the model commitment, walked from the layer modules", () => {
  it("equals the pre-module commitment of the demo, the MLP and both LeNets (model ids unchanged)", async () => {
    const dirs: Record<string, string> = {
      "demo-glyphs": "examples/models/demo-glyphs",
      "mlp-784-56-10": "bench/models/mlp-784-56-10",
      "lenet5-avg": "bench/models/lenet5-avg",
      "lenet5-max": "bench/models/lenet5-max",
    };
    for (const [name, dir] of Object.entries(dirs)) {
      const full = path.join(ROOT, dir);
      const { calibration } = JSON.parse(readFileSync(path.join(full, "samples.json"), "utf8"));
      const { network } = await quantizeModel(full, { calibration });
      expect(String(await networkCommitment(network)), name).toBe(goldens.models[name]?.network);
      expect(String(await modelCommitment(network)), name).toBe(goldens.models[name]?.model);
    }
  }, 120_000);

  it("changes when any number of any module's sample layer changes (every constant is committed)", async () => {
    for (const mod of Object.values(LAYER_MODULES)) {
      const sample = mod.sample() as QuantizedLayer;
      const json = (c: unknown) => JSON.stringify(c, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      const base = json(mod.commitment(sample as never));
      // Every number or bigint leaf of the layer, but its free-text name.
      const leaves: Array<(l: Record<string, unknown>) => void> = [];
      const walk = (o: unknown, set: (f: (v: unknown) => unknown) => (l: Record<string, unknown>) => void) => {
        if (typeof o === "number" || typeof o === "bigint") {
          leaves.push(set((v) => (typeof v === "number" ? v + 1 : (v as bigint) + 1n)));
        } else if (Array.isArray(o)) {
          for (const [i, x] of o.entries())
            walk(
              x,
              (f) => (l) =>
                set((arr) => {
                  const copy = (arr as unknown[]).slice();
                  copy[i] = f(copy[i]);
                  return copy;
                })(l),
            );
        } else if (o && typeof o === "object") {
          for (const [k, v] of Object.entries(o)) {
            if (k === "name") continue;
            walk(v, (f) => (l) => {
              l[k] = f(l[k]);
            });
          }
        }
      };
      walk(sample, (f) => (l) => f(l));
      expect(leaves.length).toBeGreaterThan(0);
      for (const perturb of leaves) {
        const changed = structuredClone(sample) as unknown as Record<string, unknown>;
        perturb(changed);
        expect(json(mod.commitment(changed as never)), mod.kind).not.toBe(base);
      }
    }
  });
});

/** A hand-made network: 1 input of 64 bits, dense, rescale, dense, rescale. */
function overflowingNetwork(multiplier: bigint): QuantizedNetwork {
  const dense = (name: string): QuantizedLayer => ({
    kind: "dense",
    name,
    nIn: 1,
    nOut: 1,
    weightBits: 32,
    weightFracBits: 0,
    inFracBits: 0,
    weights: [[(1n << 31n) - 1n]],
    bias: [0n],
  });
  const rescale = (name: string, qBits: number): QuantizedLayer => ({
    kind: "rescale",
    name,
    size: 1,
    multiplier,
    shift: 0,
    activation: "linear",
    qBits: [qBits],
    outFracBits: 0,
  });
  return {
    inputShape: [1],
    inputSize: 1,
    input: { bits: 64, fracBits: 0, lo: 0n, hi: (1n << 64n) - 1n },
    layers: [dense("a"), rescale("b", 160), dense("c"), rescale("d", 250)],
    outputShape: [1],
    outputFracBits: 0,
    outputWidth: 250,
  };
}

describe("bad networks", () => {
  it("refuses a network whose bounds overflow the field, with a typed error", () => {
    const build = (m: bigint) => () =>
      buildModelCircuit({ network: overflowingNetwork(m), modelCommitment: 1n, track: true });
    const error = (() => {
      try {
        build((1n << 64n) - 1n)();
      } catch (e) {
        return e;
      }
    })();
    expect(isVerinferError(error, "QUANTIZATION_OVERFLOW")).toBe(true);
  });

  it("refuses inconsistent shapes with INVALID_MODEL", () => {
    const net = overflowingNetwork(1n);
    (net.layers[0] as { nIn: number }).nIn = 2;
    try {
      buildModelCircuit({ network: net, modelCommitment: 1n, track: true });
      throw new Error("accepted");
    } catch (e) {
      expect(isVerinferError(e, "INVALID_MODEL")).toBe(true);
    }
  });
});
