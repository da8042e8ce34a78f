// The direct development zkey: computed from known toxic waste, accepted by snarkjs's own prover, verifier and
// `zkey verify` against the r1cs and its matching dev ptau.
import { readdir } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binfileSections } from "../../src/circuits/snark-binfile.js";
import { isVerinferError } from "../../src/errors.js";
import { verifyPackage } from "../../src/package/verify-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { devSetupPtauName } from "../../src/proof-systems/setup-groth16.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { writeDevZkey } from "../../src/setup/dev-zkey.js";
import { DEV_CONTRIBUTION_NAME } from "../../src/setup/ptau-writer.js";
import { errorOf, tempDirs, tinyCalibration, tinyNetwork } from "../fixtures.js";
import { compileTestCircuit, type TestCircuit } from "../r1cs-check.js";

type Mem = { type: "mem"; data?: Uint8Array };
type Logger = { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void };
type Proof = { proof: unknown; publicSignals: string[] };
const sj = snarkjs as unknown as {
  zKey: {
    verifyFromR1cs(r1cs: Mem, ptau: string, zkey: Mem, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: Mem): Promise<unknown>;
  };
  groth16: {
    fullProve(input: Record<string, unknown>, wasm: Mem, zkey: Mem): Promise<Proof>;
    verify(vkey: unknown, publicSignals: string[], proof: unknown): Promise<boolean>;
  };
};

const tempDir = tempDirs("verinfer-dev-zkey-");
const mem = (data: Uint8Array): Mem => ({ type: "mem", data: new Uint8Array(data) });

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string) => lines.push(m);
  return { logger: { debug: () => {}, info: keep, warn: keep, error: keep }, lines };
}

/** Start of a section's data in a zkey file. */
function sectionStart(bytes: Uint8Array, id: number): number {
  const section = binfileSections(bytes, "zkey", "ARTIFACT_CORRUPT").get(id);
  if (!section) throw new Error(`no section ${id}`);
  return section.start;
}

describe("direct dev zkey", () => {
  let circuit: TestCircuit;
  let dir: string;
  let zkey: Uint8Array;
  let ptauFile: string;
  let vkey: unknown;
  // Two public signals (output c, input a), a wire only in C matrices, one only in A/B: zero points in B and A.
  const input = { a: 3n, b: 5n };

  beforeAll(async () => {
    dir = await tempDir();
    circuit = await compileTestCircuit(`template T() {
    signal input a;
    signal input b;
    signal output c;
    signal x[4];
    x[0] <== a * a;
    x[1] <== x[0] * a;
    x[2] <== x[1] * a;
    x[3] <== x[2] * b;
    c <== x[3] + b;
}
component main {public [a]} = T();`);
    ptauFile = path.join(dir, "setup.ptau");
    ({ zkey } = await writeDevZkey({ r1cs: circuit.r1cs, ptauFile }));
    vkey = await sj.zKey.exportVerificationKey(mem(zkey));
  });

  afterAll(async () => {
    await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  });

  it("passes snarkjs zkey verify against the r1cs and its dev ptau, with one contribution named verinfer dev", async () => {
    const { logger, lines } = recorder();
    expect(await sj.zKey.verifyFromR1cs(mem(circuit.r1cs), ptauFile, mem(zkey), logger)).toBe(true);
    expect(lines.some((l) => l.includes(`contribution #1 ${DEV_CONTRIBUTION_NAME}`))).toBe(true);
    expect(lines.some((l) => l.includes("contribution #2"))).toBe(false);
  });

  it("makes proofs snarkjs's own groth16 verifier accepts, and rejects a changed public signal", async () => {
    const { proof, publicSignals } = await sj.groth16.fullProve(input, mem(circuit.wasm), mem(zkey));
    expect(publicSignals).toEqual([(3n ** 4n * 5n + 5n).toString(), "3"]);
    expect(await sj.groth16.verify(vkey, publicSignals, proof)).toBe(true);
    expect(await sj.groth16.verify(vkey, [publicSignals[0] as string, "4"], proof)).toBe(false);
  });

  it("yields proofs that fail verification when one point of the A section is replaced by another", async () => {
    const tampered = new Uint8Array(zkey);
    const a = sectionStart(tampered, 5);
    const wire = circuit.wire("main.x[0]");
    // wire's A point := the next wire's: the prover now commits to a different polynomial
    tampered.copyWithin(a + 64 * wire, a + 64 * (wire + 1), a + 64 * (wire + 2));
    const { proof, publicSignals } = await sj.groth16.fullProve(input, mem(circuit.wasm), mem(tampered));
    expect(await sj.groth16.verify(vkey, publicSignals, proof)).toBe(false);
    expect(await sj.zKey.verifyFromR1cs(mem(circuit.r1cs), ptauFile, mem(tampered), recorder().logger)).toBe(false);
  });

  it("fails zkey verify against a ptau of other secrets", async () => {
    const other = path.join(dir, "other.ptau");
    await writeDevZkey({ r1cs: circuit.r1cs, ptauFile: other });
    expect(await sj.zKey.verifyFromR1cs(mem(circuit.r1cs), other, mem(zkey), recorder().logger)).toBe(false);
  });

  it("refuses bytes that are not an r1cs", async () => {
    const error = await errorOf(writeDevZkey({ r1cs: new Uint8Array(64), ptauFile: path.join(dir, "x.ptau") }));
    expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
  });
});

describe("compileModel's dev setup", () => {
  it("uses the direct dev zkey: its own dev ptau, one verinfer dev contribution; receipts and the audit verify", async () => {
    const cacheDir = await tempDir();
    const pkg = await compileModel(tinyNetwork, { calibration: tinyCalibration, cacheDir, quiet: true });
    const { setup } = pkg.manifest;
    expect(setup.kind).toBe("dev");
    expect(setup.contributions).toEqual([
      { name: DEV_CONTRIBUTION_NAME, hash: expect.stringMatching(/^[0-9a-f]{128}$/) },
    ]);
    expect(setup.ptauPower).toBe(pkg.manifest.circuit.power);
    // The ptau it wrote is in the cache under its hash, and no shared dev ptau was generated.
    expect(await readdir(path.join(cacheDir, "ptau"))).toEqual([devSetupPtauName(setup.ptauPower, setup.ptauBlake2b)]);

    const { receipt } = await verifiableInfer(pkg, [0.1, 0.2, 0.3, 0.4]);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    const audit = await verifyPackage(pkg);
    expect(audit.checks.filter((c) => !c.ok)).toEqual([]);
    expect(audit.checks.find((c) => c.name === "zkey")?.ok).toBe(true);
  });
});
