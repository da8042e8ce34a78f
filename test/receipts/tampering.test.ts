import { beforeAll, describe, expect, it } from "vitest";
import { modelIdFromCommitment } from "../../src/attest/model-commitment.js";
import {
  isVerinferError,
  type ModelPackage,
  type Receipt,
  type VerifyReceiptOptions,
  verifiableInfer,
  verifiableInferBatch,
  verifyReceipt,
} from "../../src/index.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import { asZk, demoPackage, demoSamples, errorOf, tinyPackage, type ZkReceipt } from "../fixtures.js";

const clone = (r: Receipt): ZkReceipt => asZk(structuredClone(r));

async function rejects(receipt: unknown, options: VerifyReceiptOptions): Promise<void> {
  const result = await verifyReceipt(receipt, options);
  expect(result.valid).toBe(false);
  expect(typeof result.reason).toBe("string");
}

/** Sets output j consistently everywhere the receipt states it (quantized, value, maxAbsError). */
function setOutput(r: ZkReceipt, j: number, q: bigint, alsoPublicSignal: boolean): void {
  r.output.quantized[j] = q.toString();
  r.output.values[j] = Number(q) / 2 ** r.output.fracBits;
  r.output.maxAbsError = Math.max(...r.output.values.map((v, k) => Math.abs(v - (r.output.float[k] as number))));
  if (alsoPublicSignal) r.proof.publicSignals[3 + j] = toField(q).toString();
}

describe("tampered receipts", () => {
  let pkg: ModelPackage;
  let tiny: ModelPackage;
  let a: ZkReceipt;
  let b: ZkReceipt;
  let tinyReceipt: ZkReceipt;
  let both: VerifyReceiptOptions[];

  beforeAll(async () => {
    pkg = await demoPackage();
    const [ra, rb] = await verifiableInferBatch(pkg, demoSamples.inputs.slice(0, 2));
    a = asZk((ra as { receipt: Receipt }).receipt);
    b = asZk((rb as { receipt: Receipt }).receipt);
    tiny = await tinyPackage();
    tinyReceipt = asZk((await verifiableInfer(tiny, [0.5, 0.25, 0.75, 0.1])).receipt);
    both = [{ modelPackage: pkg }, { vkey: pkg.vkey }];
  });

  it("accepts the untouched receipts (control)", async () => {
    for (const options of both) {
      expect(await verifyReceipt(a, options)).toMatchObject({ valid: true });
      expect(await verifyReceipt(b, options)).toMatchObject({ valid: true });
    }
    expect(await verifyReceipt(tinyReceipt, { modelPackage: tiny })).toMatchObject({ valid: true });
    expect(tiny.id).not.toBe(pkg.id);
    expect(tiny.manifest.circuit.publicSignals).toBe(pkg.manifest.circuit.publicSignals);
  });

  it("does not modify the receipt it checks", async () => {
    const copy = clone(a);
    await verifyReceipt(copy, { modelPackage: pkg });
    expect(copy).toEqual(a);
  });

  it("rejects a receipt whose quantized output was changed with its value", async () => {
    const r = clone(a);
    setOutput(r, 0, BigInt(r.output.quantized[0] as string) + 1n, false);
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose output was changed consistently, public signal included", async () => {
    for (const [j, delta] of [
      [0, 1n],
      [1, -1n],
      [3, 1000n],
    ] as const) {
      const r = clone(a);
      setOutput(r, j, BigInt(r.output.quantized[j] as string) + delta, true);
      for (const options of both) await rejects(r, options);
    }
  });

  it("rejects a receipt whose output was replaced by another input's output", async () => {
    const r = clone(a);
    r.output = structuredClone(b.output);
    r.proof.publicSignals = [...a.proof.publicSignals.slice(0, 2), ...b.proof.publicSignals.slice(2)];
    expect(r.output.quantized).not.toEqual(a.output.quantized);
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose public output signal was shifted by the field prime", async () => {
    const r = clone(a);
    r.proof.publicSignals[3] = (BigInt(r.proof.publicSignals[3] as string) + FIELD_PRIME).toString();
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose input commitment was changed", async () => {
    const r = clone(a);
    r.input.commitment = b.input.commitment;
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose input commitment was changed in the public signals too", async () => {
    const r = clone(a);
    r.input.commitment = b.input.commitment;
    r.proof.publicSignals[1] = b.input.commitment;
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose model commitment was changed, id recomputed to match", async () => {
    const r = clone(a);
    const commitment = BigInt(r.model.commitment) + 1n;
    r.model.commitment = commitment.toString();
    r.model.id = modelIdFromCommitment(commitment);
    for (const options of both) await rejects(r, options);
    r.proof.publicSignals[0] = commitment.toString();
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose model id does not match its commitment", async () => {
    const r = clone(a);
    r.model.id = tiny.id;
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt that claims another compiled model", async () => {
    const r = clone(a);
    r.model = { ...r.model, id: tiny.id, commitment: tiny.manifest.commitments.model };
    r.proof.publicSignals[0] = tiny.manifest.commitments.model;
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose output commitment was changed", async () => {
    const r = clone(a);
    r.output.commitment = b.output.commitment;
    for (const options of both) await rejects(r, options);
    r.proof.publicSignals[2] = b.output.commitment;
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt carrying the proof of another input's receipt", async () => {
    const r = clone(a);
    r.proof.proof = structuredClone(b.proof.proof);
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose proof points were altered", async () => {
    const r = clone(a);
    r.proof.proof.pi_a = [...b.proof.proof.pi_a];
    for (const options of both) await rejects(r, options);
    const s = clone(a);
    s.proof.proof.pi_c[0] = (BigInt(s.proof.proof.pi_c[0] as string) + 1n).toString();
    for (const options of both) await rejects(s, options);
  });

  it("rejects a receipt whose stated output disagrees with its public signals", async () => {
    const r = clone(a);
    r.proof.publicSignals = [...a.proof.publicSignals.slice(0, 3), ...b.proof.publicSignals.slice(3)];
    expect(r.proof.publicSignals).not.toEqual(a.proof.publicSignals);
    for (const options of both) await rejects(r, options);
    const s = clone(a);
    s.proof.publicSignals[3] = (BigInt(s.proof.publicSignals[3] as string) + 1n).toString();
    for (const options of both) await rejects(s, options);
  });

  it("rejects a receipt with a public signal dropped or added", async () => {
    const r = clone(a);
    r.proof.publicSignals = r.proof.publicSignals.slice(0, -1);
    for (const options of both) await rejects(r, options);
    const s = clone(a);
    s.proof.publicSignals = [...s.proof.publicSignals, "0"];
    s.output.quantized = [...s.output.quantized, "0"];
    s.output.values = [...s.output.values, 0];
    s.output.float = [...s.output.float, 0];
    s.output.shape = [s.output.quantized.length];
    for (const options of both) await rejects(s, options);
  });

  it("rejects a receipt checked against another model's verification key", async () => {
    await rejects(a, { vkey: tiny.vkey });
    await rejects(a, { modelPackage: tiny });
    await rejects(tinyReceipt, { vkey: pkg.vkey });
    await rejects(tinyReceipt, { modelPackage: pkg });
  });

  it("rejects a dev-setup receipt when a ceremony is required", async () => {
    expect(pkg.manifest.setup.kind).toBe("dev");
    await rejects(a, { modelPackage: pkg, requireCeremony: true });
    await rejects(a, { vkey: pkg.vkey, requireCeremony: true });
  });

  it("rejects a receipt whose values are not the dequantized quantized outputs", async () => {
    const r = clone(a);
    r.output.values[0] = (r.output.values[0] as number) + 2 ** -(r.output.fracBits + 2);
    for (const options of both) await rejects(r, options);
    const s = clone(a);
    s.output.values = s.output.values.map((v) => v * 2);
    for (const options of both) await rejects(s, options);
  });

  it("rejects a receipt whose output scale was changed", async () => {
    const r = clone(a);
    r.output.fracBits += 1;
    for (const options of both) await rejects(r, options);
  });

  it("rejects, given the package, a receipt whose output scale and values were changed consistently", async () => {
    const r = clone(a);
    r.output.fracBits -= 1;
    r.output.values = r.output.quantized.map((q) => Number(q) / 2 ** r.output.fracBits);
    r.output.maxAbsError = Math.max(...r.output.values.map((v, k) => Math.abs(v - (r.output.float[k] as number))));
    await rejects(r, { modelPackage: pkg });
  });

  it("rejects a receipt whose maxAbsError was changed", async () => {
    expect(a.output.maxAbsError).toBeGreaterThan(0);
    const r = clone(a);
    r.output.maxAbsError = r.output.maxAbsError / 2;
    for (const options of both) await rejects(r, options);
    const s = clone(a);
    s.output.maxAbsError = 0;
    for (const options of both) await rejects(s, options);
  });

  it("rejects a receipt whose float outputs were changed without updating maxAbsError", async () => {
    const r = clone(a);
    r.output.float[0] = (r.output.float[0] as number) + 0.5;
    for (const options of both) await rejects(r, options);
  });

  it("rejects a receipt whose input shape differs from the model's, given the package", async () => {
    const r = clone(a);
    r.input.shape = [4, 4];
    await rejects(r, { modelPackage: pkg });
  });

  it("rejects a receipt whose output shape disagrees with its outputs", async () => {
    const r = clone(a);
    r.output.shape = [2, 3];
    for (const options of both) await rejects(r, options);
  });
});

describe("malformed receipts and options", () => {
  let pkg: ModelPackage;
  let a: ZkReceipt;

  beforeAll(async () => {
    pkg = await demoPackage();
    a = asZk((await verifiableInfer(pkg, demoSamples.inputs[4])).receipt);
  });

  async function malformed(receipt: unknown): Promise<void> {
    const error = await errorOf(verifyReceipt(receipt, { modelPackage: pkg }));
    expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
  }

  it("throws MALFORMED_RECEIPT for things that are not receipts", async () => {
    for (const thing of [null, undefined, 42, "receipt", [], {}]) await malformed(thing);
  });

  it("throws MALFORMED_RECEIPT for a receipt with a missing field", async () => {
    for (const key of ["format", "model", "input", "output", "proof", "backend", "mode"] as const) {
      const r: Record<string, unknown> = clone(a);
      delete r[key];
      await malformed(r);
    }
    const r = clone(a) as unknown as { output: Record<string, unknown>; proof: Record<string, unknown> };
    delete r.output.quantized;
    await malformed(r);
    const s = clone(a) as unknown as { proof: { proof: Record<string, unknown> } };
    delete s.proof.proof.pi_b;
    await malformed(s);
  });

  it("throws MALFORMED_RECEIPT for a wrong format tag", async () => {
    await malformed({ ...clone(a), format: "verinfer/receipt@1" });
    await malformed({ ...clone(a), format: "verinfer/receipt@3" });
    await malformed({ ...clone(a), format: "verinfer/model@1" });
  });

  it("throws MALFORMED_RECEIPT for a non-decimal public signal", async () => {
    for (const bad of ["0x1f", "-1", "1e3", "", " 12", "12.0"]) {
      const r = clone(a);
      r.proof.publicSignals[3] = bad;
      await malformed(r);
    }
    const r = clone(a) as unknown as { proof: { publicSignals: unknown[] } };
    r.proof.publicSignals[0] = 12;
    await malformed(r);
  });

  it("throws MALFORMED_RECEIPT for a non-decimal quantized output or commitment", async () => {
    const r = clone(a);
    r.output.quantized[0] = "one";
    await malformed(r);
    const s = clone(a);
    s.input.commitment = "-5";
    await malformed(s);
  });

  it("throws MALFORMED_RECEIPT for a mode, proof system or backend it does not know", async () => {
    await malformed({ ...clone(a), mode: "attest" });
    await malformed({ ...clone(a), backend: "webgl" });
    const r = clone(a) as unknown as { proof: { system: string } };
    r.proof.system = "plonk";
    await malformed(r);
  });

  it("throws MALFORMED_RECEIPT for a negative or non-numeric maxAbsError", async () => {
    const r = clone(a);
    r.output.maxAbsError = -1;
    await malformed(r);
    const s = clone(a) as unknown as { output: { maxAbsError: unknown } };
    s.output.maxAbsError = "0";
    await malformed(s);
  });

  it("ignores extra fields such as salts (they are stripped, the receipt stays valid)", async () => {
    const withSalts = { ...clone(a), salts: { input: "1", output: "2" } };
    expect(await verifyReceipt(withSalts, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("throws INVALID_OPTIONS without a vkey or a model package", async () => {
    for (const options of [{}, { requireCeremony: true }, { vkey: undefined }] as VerifyReceiptOptions[]) {
      const error = await errorOf(verifyReceipt(a, options));
      expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
    }
  });

  it("throws INVALID_OPTIONS for a vkey that is not a well-formed key of its protocol", async () => {
    for (const vkey of [{}, { ...pkg.vkey, protocol: "plonk" }, { ...pkg.vkey, nPublic: "7" }]) {
      const error = await errorOf(verifyReceipt(a, { vkey }));
      expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
    }
  });

  it("checks the receipt's shape before the options", async () => {
    const error = await errorOf(verifyReceipt({}, {}));
    expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
  });
});
