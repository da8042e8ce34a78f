// Audit of the direct backend (issue 22): the files it writes are standard (snarkjs's own CLI reads the .r1cs and
// checks the .wtns against it, and rejects a tampered one), and the constraint checker the tamper tests rely on
// evaluates every constraint (it fails a witness that breaks only the last one).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { buildModelCircuit, estimateConstraints } from "../../src/circuits/direct/build-model-circuit.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { writeWtns } from "../../src/circuits/direct/write-wtns.js";
import { LAYER_MODULES } from "../../src/layers/registry.js";
import type { QuantizedRescale } from "../../src/models/layers/rescale.js";
import type { Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import { ROOT } from "../fixtures.js";
import { checkR1cs, parseR1cs, violatedConstraints } from "../r1cs-check.js";

const run = promisify(execFile);
const SNARKJS = path.join(ROOT, "node_modules", "snarkjs", "build", "cli.cjs");

const NET: Network = {
  inputShape: [3],
  inputSize: 3,
  layers: [
    {
      name: "h",
      units: 2,
      activation: "relu",
      kernel: [
        [0.5, -0.25],
        [0.75, 0.5],
        [-0.5, 1],
      ],
      bias: [0.1, -0.2],
    },
    {
      name: "o",
      units: 2,
      activation: "linear",
      kernel: [
        [1, -0.5],
        [0.25, 0.75],
      ],
      bias: [0, 0.05],
    },
  ],
  head: "softmax",
};

describe("audit: the written files are what snarkjs reads", () => {
  it("`snarkjs r1cs info` reads the .r1cs, `snarkjs wtns check` accepts the .wtns and rejects a tampered one", async () => {
    const qnet = quantizeNetwork(NET, {
      calibration: [[0.1, 0.9, 0.4]],
      inputBits: 3,
      weightBits: 4,
      activationBits: 6,
    });
    const mc = await modelCommitment(qnet);
    const cs = buildModelCircuit({ network: qnet, modelCommitment: mc, track: true });
    const r1cs = writeR1cs(cs);
    const input = [qnet.input.lo, qnet.input.hi, qnet.input.lo + 2n];
    const w = buildModelCircuit({
      network: qnet,
      modelCommitment: mc,
      track: false,
      inputs: { input, inputSalt: 5n, outputSalt: 6n },
    }).witness();
    const parsed = parseR1cs(r1cs);
    expect(checkR1cs(parsed, w).ok).toBe(true);
    const dir = await mkdtemp(path.join(os.tmpdir(), "audit-backend-"));
    try {
      await writeFile(path.join(dir, "m.r1cs"), r1cs);
      await writeFile(path.join(dir, "m.wtns"), writeWtns(w));
      const tampered = w.slice();
      tampered[4] = toField((w[4] as bigint) + 1n); // the first proven output
      await writeFile(path.join(dir, "bad.wtns"), writeWtns(tampered));
      const info = await run("node", [SNARKJS, "r1cs", "info", "m.r1cs"], { cwd: dir });
      expect(info.stdout).toContain(`# of Constraints: ${estimateConstraints(qnet)}`);
      expect(info.stdout).toContain(`# of Wires: ${w.length}`);
      expect(info.stdout).toContain(`# of Outputs: ${parsed.nOutputs}`);
      expect(info.stdout).toContain("# of Public Inputs: 0");
      expect(info.stdout).toContain(`# of Private Inputs: ${qnet.inputSize + 2}`);
      const good = await run("node", [SNARKJS, "wtns", "check", "m.r1cs", "m.wtns"], { cwd: dir });
      expect(good.stdout).toContain("WITNESS IS CORRECT");
      const bad = await run("node", [SNARKJS, "wtns", "check", "m.r1cs", "bad.wtns"], { cwd: dir }).catch(
        (e: { stdout: string }) => e,
      );
      expect(bad.stdout).toContain("WITNESS IS NOT CORRECT");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("audit: the constraint checker the tamper tests use checks every constraint", () => {
  it("fails a witness that breaks only the last constraint, and violatedConstraints names it", () => {
    const cs = new ConstraintSystem({ track: true, nPublic: 1 });
    const [a, b] = cs.privateInputs([3n, 4n]) as [Lc, Lc];
    let x = cs.mul(a, b);
    for (let i = 0; i < 20; i++) x = cs.mul(x, a);
    const last = cs.mul(x, b);
    cs.setPublic(0, cs.add(last, a));
    const r1cs = parseR1cs(writeR1cs(cs));
    const w = cs.witness();
    expect(checkR1cs(r1cs, w).ok).toBe(true);
    const n = r1cs.constraints.length;
    // The public output took the place of the last product's wire: changing it breaks only the last constraint.
    const forged = w.slice();
    forged[1] = toField((w[1] as bigint) + 1n);
    expect(checkR1cs(r1cs, forged)).toEqual({ ok: false, firstFailing: n - 1 });
    expect(violatedConstraints(r1cs, forged)).toEqual([n - 1]);
    expect(() => checkR1cs(r1cs, w.slice(1))).toThrow();
  });
});

describe("audit: the model commitment walked from the modules", () => {
  it("gives every module its own kind code, under its own kind", () => {
    const mods = Object.entries(LAYER_MODULES);
    for (const [kind, mod] of mods) expect(mod.kind).toBe(kind);
    const codes = mods.map(([, m]) => m.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("commits a rescale's activation, a string field the numeric perturbation test does not reach", () => {
    const base = LAYER_MODULES.rescale.sample();
    const variants = (["linear", "relu", "relu6", "leakyRelu"] as const).map((activation) => {
      const l: QuantizedRescale = { ...base, activation };
      if (activation === "leakyRelu") l.leakShift = 2;
      else delete l.leakShift;
      return l;
    });
    const json = variants.map((l) => LAYER_MODULES.rescale.commitment(l).descriptor.join());
    expect(new Set(json).size).toBe(variants.length);
  });

  // Was a finding (low, pre-existing): a module commits its biases as field
  // elements (toField), and no schema bounds a bias, so biases b and b + p give the same model commitment while
  // integerForward (and a re-execution verifier) computes different integers. Such a network cannot be compiled
  // (its bounds overflow the field), but attestation and re-execution name models by this commitment too.
  // Now a bias of magnitude >= 2^250 cannot be committed (INVALID_MODEL), so no two committable networks share one.
  it("refuses to commit a bias b + p that would share the commitment of b (dense and conv2d)", () => {
    const a = LAYER_MODULES.dense.sample();
    const b = { ...a, bias: a.bias.map((v, j) => (j === 0 ? v + FIELD_PRIME : v)) };
    expect(LAYER_MODULES.dense.forward(b, [1n, 1n])).not.toEqual(LAYER_MODULES.dense.forward(a, [1n, 1n]));
    expect(() => LAYER_MODULES.dense.commitment(b)).toThrow(/2\^250/);
    const c = LAYER_MODULES.conv2d.sample();
    const d = { ...c, bias: c.bias.map((v, j) => (j === 0 ? v - FIELD_PRIME : v)) };
    expect(() => LAYER_MODULES.conv2d.commitment(d)).toThrow(/2\^250/);
    expect(LAYER_MODULES.dense.commitment(a).constants.length).toBeGreaterThan(0);
  });
});
