import { execFile } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { type Receipt, ReceiptSchema } from "../src/attest/receipt.js";
import { resumePendingProofs } from "../src/deferred-proofs.js";
import { loadModelPackage } from "../src/storage/model-package.js";
import { verifiableInfer } from "../src/verifiable-infer.js";
import { verifyReceipt } from "../src/verify-receipt.js";
import { demoPackage, demoSamples, ROOT, TEST_CACHE } from "./fixtures.js";

const signer = new Wallet(`0x${"44".repeat(32)}`);

describe("deferred proofs", () => {
  let cacheDir = "";
  let modelId = "";

  beforeAll(async () => {
    modelId = (await demoPackage()).id;
    // A private copy of the test cache, so this file's job folders are its own.
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-deferred-"));
    // Only the compiled packages: other test files may have proof jobs of their own in the shared cache.
    for (const dir of ["artifacts", "models"]) {
      await cp(path.join(TEST_CACHE, dir), path.join(cacheDir, dir), { recursive: true });
    }
  });

  it("returns the attested receipt at once and resolves its handle to a zk receipt with the same commitments", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const input = demoSamples.inputs[4];
    const { receipt, deferred } = await verifiableInfer(pkg, input, { mode: "attest", signer, deferProof: true });
    expect(receipt.mode).toBe("attest");
    // The caller owns its receipt: editing it must not change the statement being proven.
    const original = structuredClone(receipt);
    receipt.output.quantized[0] = "12345";
    const zk = (await deferred?.promise) as Receipt;
    expect(zk.mode).toBe("zk");
    expect(zk.input.commitment).toBe(original.input.commitment);
    expect(zk.output.commitment).toBe(original.output.commitment);
    expect(zk.output.quantized).toEqual(original.output.quantized);
    expect(zk.output).not.toBe(receipt.output);
    expect(await verifyReceipt(zk, { modelPackage: pkg })).toMatchObject({ valid: true });
    const done = JSON.parse(await readFile(path.join(cacheDir, "jobs", "done", `${deferred?.id}.json`), "utf8"));
    expect(done).toEqual(JSON.parse(JSON.stringify(zk)));
  });

  it("survives a process restart: a job persisted by a process that exits is resumed and proven", async () => {
    // The first process attests, persists its proof job and exits before the proof can finish.
    // Inside the repository, so that the script resolves the project's node_modules.
    const script = path.join(ROOT, ".verinfer-cache", `inference-node-${path.basename(cacheDir)}.mjs`);
    await writeFile(
      script,
      `import { Wallet } from "ethers";
import { loadModelPackage, verifiableInfer } from ${JSON.stringify(path.join(ROOT, "dist", "index.js"))};
const pkg = await loadModelPackage(${JSON.stringify(modelId)}, { cacheDir: ${JSON.stringify(cacheDir)} });
const signer = new Wallet("0x${"44".repeat(32)}");
const r = await verifiableInfer(pkg, ${JSON.stringify(demoSamples.inputs[5])}, { mode: "attest", signer, deferProof: true });
process.stdout.write(JSON.stringify({ receipt: r.receipt, id: r.deferred.id }));
process.exit(0);
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: ROOT }).finally(() => rm(script));
    const { receipt, id } = JSON.parse(stdout) as { receipt: unknown; id: string };
    const attested = ReceiptSchema.parse(receipt);
    const pendingDir = path.join(cacheDir, "jobs", "pending");
    expect(await readdir(pendingDir)).toContain(`${id}.json`);

    // A new process (this one, with no in-memory state about that job) resumes it.
    const handles = await resumePendingProofs({ cacheDir });
    expect(handles.map((h) => h.id)).toEqual([id]);
    const zk = (await handles[0]?.promise) as Receipt;
    expect(zk.mode).toBe("zk");
    expect(zk.input.commitment).toBe(attested.input.commitment);
    expect(zk.output.commitment).toBe(attested.output.commitment);
    expect(zk.output.quantized).toEqual(attested.output.quantized);
    const pkg = await loadModelPackage(modelId, { cacheDir });
    expect(await verifyReceipt(zk, { modelPackage: pkg })).toMatchObject({ valid: true });
    expect(await readdir(pendingDir)).not.toContain(`${id}.json`);
    expect(await resumePendingProofs({ cacheDir })).toEqual([]);
  });

  it("moves an unreadable job file to jobs/failed and reports it instead of losing or looping on it", async () => {
    const id = "00000000-0000-4000-8000-000000000000";
    await writeFile(path.join(cacheDir, "jobs", "pending", `${id}.json`), "{ not json");
    const [handle] = await resumePendingProofs({ cacheDir });
    expect(handle?.id).toBe(id);
    await expect(handle?.promise).rejects.toMatchObject({ code: "ARTIFACT_CORRUPT" });
    expect(await readdir(path.join(cacheDir, "jobs", "failed"))).toContain(`${id}.json`);
  });
});
