// The compile pipeline on the direct backend (issue 22): a package written directly and one compiled by circom2 (the
// oracle, and what every package before compiler revision 8 is) of the same model have the same id, prove the same
// public signals for the same input and salts, and both verify; the direct artifacts pass snarkjs's own CLI checks.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSalt } from "../../src/attest/commitments.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { asZk, DEMO_MODEL_DIR, demoSamples, ROOT, TEST_CACHE } from "../fixtures.js";

const run = promisify(execFile);
let direct: ModelPackage;
let circom: ModelPackage;
let dir: string;
let circomCache: string;

beforeAll(async () => {
  const common = { calibration: demoSamples.calibration, quiet: true };
  direct = await compileModel(DEMO_MODEL_DIR, { ...common, cacheDir: TEST_CACHE });
  // Its own cache: the two packages share the model id, and a cache finds a package by id (the prover pool does).
  circomCache = await mkdtemp(path.join(os.tmpdir(), "verinfer-circom-"));
  circom = await compileModel(DEMO_MODEL_DIR, { ...common, cacheDir: circomCache, circuitBackend: "circom" });
  dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-direct-"));
}, 600_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(circomCache, { recursive: true, force: true });
});

describe("packages written by the direct backend", () => {
  it("have the model id, constraint count and public signals of the circom-compiled package, and both verify", async () => {
    expect(direct.manifest.circuit.backend).toBe("direct");
    expect(circom.manifest.circuit.backend).toBeUndefined();
    expect(direct.id).toBe(circom.id);
    expect(direct.manifest.circuit.constraints).toBeLessThanOrEqual(circom.manifest.circuit.constraints);
    const salts = { inputSalt: randomSalt(), outputSalt: randomSalt() };
    const input = demoSamples.inputs[2];
    const a = asZk((await verifiableInfer(direct, input, salts)).receipt);
    const b = asZk((await verifiableInfer(circom, input, salts)).receipt);
    expect(a.proof.publicSignals).toEqual(b.proof.publicSignals);
    expect(await verifyReceipt(a, { modelPackage: direct })).toMatchObject({ valid: true });
    expect(await verifyReceipt(b, { modelPackage: circom })).toMatchObject({ valid: true });
    // A proof is checked against its own package's key only.
    expect(await verifyReceipt(a, { modelPackage: circom })).toMatchObject({ valid: false });
  }, 300_000);

  it("pass snarkjs r1cs info and wtns check on the written r1cs and witness", async () => {
    const bin = JSON.parse(await readFile(path.join(ROOT, "node_modules", "snarkjs", "package.json"), "utf8")).bin
      .snarkjs as string;
    const cli = path.join(ROOT, "node_modules", "snarkjs", bin);
    const { witness } = await direct.provingArtifacts();
    const wtns = await witness.compute({
      input: quantizeInput(direct.network, demoSamples.inputs[0]),
      inputSalt: 1n,
      outputSalt: 2n,
    });
    await writeFile(path.join(dir, "model.r1cs"), await direct.artifact("r1cs"));
    await writeFile(path.join(dir, "witness.wtns"), wtns);
    const info = await run(process.execPath, [cli, "r1cs", "info", "model.r1cs"], { cwd: dir });
    expect(info.stdout).toContain(`# of Constraints: ${direct.manifest.circuit.constraints}`);
    const check = await run(process.execPath, [cli, "wtns", "check", "model.r1cs", "witness.wtns"], { cwd: dir });
    expect(`${check.stdout}${check.stderr}`).toContain("WITNESS IS CORRECT");
  }, 120_000);

  it("pass the audit: the r1cs and the witness program are rebuilt and equal", async () => {
    const result = await verifyPackage(direct, { persist: false });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 300_000);
});
