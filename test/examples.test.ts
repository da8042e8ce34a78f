import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main as checkProof } from "../examples/check-proof.js";
import { main as serviceCall } from "../examples/service-call.js";
import { TEST_CACHE } from "./fixtures.js";

describe("examples", () => {
  let receiptDir = "";

  it("service-call answers valid inputs with receipts and a NaN input with a 400 and its code", async () => {
    const responses = await serviceCall(TEST_CACHE);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 400]);
    expect(responses[2]?.error?.code).toBe("INVALID_INPUT");
    receiptDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-example-"));
    const { demoPackage } = await import("./fixtures.js");
    const pkg = await demoPackage();
    await writeFile(path.join(receiptDir, "receipt.json"), JSON.stringify(responses[0]?.receipt));
    await writeFile(path.join(receiptDir, "vkey.json"), JSON.stringify(pkg.vkey));
  });

  it("check-proof accepts the service's receipt with verinfer and raw snarkjs", async () => {
    expect(await checkProof(receiptDir)).toEqual({ verinfer: true, snarkjs: true });
  });

  it("check-proof rejects the receipt once its output is changed", async () => {
    const file = path.join(receiptDir, "receipt.json");
    const receipt = JSON.parse(await readFile(file, "utf8"));
    receipt.proof.publicSignals[3] = (BigInt(receipt.proof.publicSignals[3]) + 1n).toString();
    receipt.output.quantized[0] = (BigInt(receipt.output.quantized[0]) + 1n).toString();
    await writeFile(file, JSON.stringify(receipt));
    const result = await checkProof(receiptDir);
    expect(result.verinfer).toBe(false);
    expect(result.snarkjs).toBe(false);
  });
});
