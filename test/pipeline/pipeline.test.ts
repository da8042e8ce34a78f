import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import {
  compileModel,
  type InferResult,
  isVerinferError,
  loadModel,
  type ModelPackage,
  type ProgressEvent,
  RECEIPT_FORMAT,
  ReceiptSchema,
  verifiableInfer,
  verifiableInferBatch,
  verifyReceipt,
} from "../../src/index.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { asZk, DEMO_MODEL_DIR, demoPackage, demoSamples, errorOf, ROOT, TEST_CACHE } from "../fixtures.js";

const run = promisify(execFile);

const argmax = (v: readonly number[]): number => v.reduce((best, x, i) => (x > (v[best] as number) ? i : best), 0);

describe("pipeline on the demo model", () => {
  let pkg: ModelPackage;
  let single: InferResult;
  let batch: InferResult[];
  const inputs = demoSamples.inputs;
  const tmpDirs: string[] = [];

  beforeAll(async () => {
    pkg = await demoPackage();
    single = await verifiableInfer(pkg, inputs[0]);
    batch = await verifiableInferBatch(pkg, inputs);
  });

  afterAll(async () => {
    for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
  });

  it("produces a receipt that verifies against the model package", async () => {
    expect(await verifyReceipt(single.receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("produces a receipt that verifies against a bare verification key", async () => {
    expect(await verifyReceipt(single.receipt, { vkey: pkg.vkey })).toMatchObject({ valid: true });
  });

  it("produces a receipt that survives a JSON round trip and parses with ReceiptSchema", async () => {
    const json = JSON.parse(JSON.stringify(single.receipt));
    const parsed = ReceiptSchema.parse(json);
    expect(parsed).toEqual(single.receipt);
    expect(parsed.format).toBe(RECEIPT_FORMAT);
    expect(await verifyReceipt(json, { vkey: JSON.parse(JSON.stringify(pkg.vkey)) })).toMatchObject({ valid: true });
  });

  it("states the model, shapes and scale of the package it was proven with", () => {
    const r = single.receipt;
    expect(r.mode).toBe("zk");
    expect(r.model.id).toBe(pkg.id);
    expect(r.model.commitment).toBe(pkg.manifest.commitments.model);
    expect(r.input.shape).toEqual(pkg.manifest.architecture.inputShape);
    expect(r.output.shape).toEqual([4]);
    expect(r.output.fracBits).toBe(pkg.manifest.quantization.output.fracBits);
    expect(asZk(r).proof.publicSignals).toHaveLength(pkg.manifest.circuit.publicSignals);
    expect(asZk(r).proof.publicSignals[0]).toBe(pkg.manifest.commitments.model);
  });

  it("keeps the salts out of the receipt, and they open its input and output commitments", async () => {
    const text = JSON.stringify(single.receipt);
    expect(text).not.toContain(single.salts.input);
    expect(text).not.toContain(single.salts.output);
    const net = pkg.network;
    const inputCommitment = await commitValues({
      values: quantizeInput(net, inputs[0]),
      lo: net.input.lo,
      width: net.input.bits,
      salt: BigInt(single.salts.input),
    });
    expect(inputCommitment.toString()).toBe(single.receipt.input.commitment);
    const outputCommitment = await commitValues({
      values: single.receipt.output.quantized.map(BigInt),
      lo: -(1n << BigInt(net.outputWidth - 1)),
      width: net.outputWidth,
      salt: BigInt(single.salts.output),
    });
    expect(outputCommitment.toString()).toBe(single.receipt.output.commitment);
  });

  it("keeps every float output within maxAbsError of the proven output, and maxAbsError small", () => {
    for (const { receipt } of [single, ...batch]) {
      const { float, values, quantized, fracBits, maxAbsError } = receipt.output;
      expect(values).toEqual(quantized.map((q) => Number(q) / 2 ** fracBits));
      const errors = float.map((f, j) => Math.abs(f - (values[j] as number)));
      for (const e of errors) expect(e).toBeLessThanOrEqual(maxAbsError);
      expect(maxAbsError).toBe(Math.max(...errors));
      expect(maxAbsError).toBeLessThan(0.1);
    }
  });

  it("proves the same class as the float model for every held-out input", () => {
    expect(batch).toHaveLength(inputs.length);
    for (const { receipt } of batch) {
      expect(argmax(receipt.output.values)).toBe(argmax(receipt.output.float));
    }
  });

  it("produces a proof and public signals the raw snarkjs verifier accepts", async () => {
    const { proof, publicSignals } = asZk(single.receipt).proof;
    expect(await snarkjs.groth16.verify(pkg.vkey, publicSignals, proof)).toBe(true);
  });

  it("produces proof.json and public.json the snarkjs CLI accepts", async () => {
    const bin = JSON.parse(await readFile(path.join(ROOT, "node_modules", "snarkjs", "package.json"), "utf8")).bin
      .snarkjs as string;
    const cli = path.join(ROOT, "node_modules", "snarkjs", bin);
    const dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-cli-"));
    tmpDirs.push(dir);
    await writeFile(path.join(dir, "vkey.json"), JSON.stringify(pkg.vkey));
    await writeFile(path.join(dir, "public.json"), JSON.stringify(asZk(single.receipt).proof.publicSignals));
    await writeFile(path.join(dir, "proof.json"), JSON.stringify(asZk(single.receipt).proof.proof));
    const { stdout, stderr } = await run(
      process.execPath,
      [cli, "groth16", "verify", "vkey.json", "public.json", "proof.json"],
      { cwd: dir },
    );
    expect(`${stdout}${stderr}`).toContain("OK");
  });

  it("returns one valid receipt per batch input, with distinct input commitments", async () => {
    expect(batch).toHaveLength(inputs.length);
    for (const { receipt } of batch) {
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
    }
    expect(new Set(batch.map((b) => b.receipt.input.commitment)).size).toBe(batch.length);
    expect(new Set(batch.map((b) => b.receipt.output.commitment)).size).toBe(batch.length);
    expect(new Set(batch.map((b) => b.salts.input)).size).toBe(batch.length);
  });

  it("returns three valid receipts for a batch of three inputs", async () => {
    const three = await verifiableInferBatch(pkg, inputs.slice(1, 4));
    expect(three).toHaveLength(3);
    for (const [k, { receipt }] of three.entries()) {
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
      expect(receipt.output.quantized).toEqual(batch[k + 1]?.receipt.output.quantized);
    }
    expect(new Set(three.map((b) => b.receipt.input.commitment)).size).toBe(3);
  });

  it("commits the same input twice under fresh salts but proves the same output", () => {
    const again = batch[0] as InferResult;
    expect(again.salts.input).not.toBe(single.salts.input);
    expect(again.receipt.input.commitment).not.toBe(single.receipt.input.commitment);
    expect(again.receipt.output.commitment).not.toBe(single.receipt.output.commitment);
    expect(again.receipt.output.quantized).toEqual(single.receipt.output.quantized);
    expect(again.receipt.output.values).toEqual(single.receipt.output.values);
  });

  it("uses a given input salt, reproducing the input commitment", async () => {
    const { receipt, salts } = await verifiableInfer(pkg, inputs[0], { inputSalt: BigInt(single.salts.input) });
    expect(salts.input).toBe(single.salts.input);
    expect(receipt.input.commitment).toBe(single.receipt.input.commitment);
    expect(receipt.output.commitment).not.toBe(single.receipt.output.commitment);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("returns the cached package on a second compile without compiling again", async () => {
    const events: ProgressEvent[] = [];
    const again = await compileModel(DEMO_MODEL_DIR, {
      calibration: demoSamples.calibration,
      cacheDir: TEST_CACHE,
      quiet: true,
      onProgress: (e) => events.push(e),
    });
    expect(again.id).toBe(pkg.id);
    expect(again.manifest).toEqual(pkg.manifest);
    expect(events.length).toBeGreaterThan(0);
    expect(events.some((e) => e.stage === "compile" || e.stage === "codegen" || e.stage === "ptau")).toBe(false);
  });

  it("compiles an in-memory tfjs LayersModel to the same model id as its directory", async () => {
    const model = await loadModel(DEMO_MODEL_DIR);
    const events: ProgressEvent[] = [];
    const fromMemory = await compileModel(model, {
      calibration: demoSamples.calibration,
      cacheDir: TEST_CACHE,
      quiet: true,
      onProgress: (e) => events.push(e),
    });
    expect(fromMemory.id).toBe(pkg.id);
    expect(fromMemory.manifest.commitments.model).toBe(pkg.manifest.commitments.model);
    expect(events.some((e) => e.stage === "compile")).toBe(false);
  });

  it("proves an inference straight from an in-memory tfjs LayersModel", async () => {
    const model = await loadModel(DEMO_MODEL_DIR);
    const { receipt } = await verifiableInfer(model, inputs[2], {
      calibration: demoSamples.calibration,
      cacheDir: TEST_CACHE,
      quiet: true,
    });
    expect(receipt.model.id).toBe(pkg.id);
    expect(receipt.output.quantized).toEqual(batch[2]?.receipt.output.quantized);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("refuses an unknown mode with UNSUPPORTED_MODE and an attest mode without a signer with INVALID_OPTIONS", async () => {
    const unknown = await errorOf(verifiableInfer(pkg, inputs[0], { mode: "magic" as "zk" }));
    expect(isVerinferError(unknown, "UNSUPPORTED_MODE")).toBe(true);
    const unsigned = await errorOf(verifiableInfer(pkg, inputs[0], { mode: "attest" }));
    expect(isVerinferError(unsigned, "INVALID_OPTIONS")).toBe(true);
    const deferredZk = await errorOf(verifiableInfer(pkg, inputs[0], { mode: "zk", deferProof: true }));
    expect(isVerinferError(deferredZk, "INVALID_OPTIONS")).toBe(true);
  });

  it("records which tfjs backend ran the float inference", () => {
    for (const { receipt } of [single, ...batch]) {
      expect(["wasm", "cpu", "tfjs-node", "tfjs-node-gpu"]).toContain(receipt.backend);
    }
  });

  it("records the backend it was told to use", async () => {
    const { receipt } = await verifiableInfer(pkg, inputs[3], { backend: "cpu" });
    expect(receipt.backend).toBe("cpu");
    expect(receipt.output.maxAbsError).toBeLessThan(0.1);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
  });
});
