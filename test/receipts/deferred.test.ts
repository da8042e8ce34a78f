import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { type Receipt, ReceiptSchema } from "../../src/attest/receipt.js";
import { isVerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import { loadModelPackage, type ModelPackage } from "../../src/package/model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import {
  configureProofRetry,
  PROOF_JOB_FORMAT,
  type ProofFailure,
  type ProofJob,
  resumePendingProofs,
} from "../../src/receipts/deferred-proofs.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { canonicalJson } from "../../src/storage/json-objects.js";
import {
  demoPackage,
  demoSamples,
  errorOf,
  ROOT,
  TEST_CACHE,
  tinyCalibration,
  tinyNetwork,
  tinyPackage,
} from "../fixtures.js";

const signer = new Wallet(`0x${"44".repeat(32)}`);

async function flipByte(file: string, at: number): Promise<void> {
  const bytes = await readFile(file);
  bytes[at] = (bytes[at] as number) ^ 0xff;
  await writeFile(file, bytes);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Polls a file until its JSON satisfies `ok` (or ~20 s pass); → that JSON. */
async function waitForJson<T>(file: string, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 1_000; i++) {
    const value = await readJson<T>(file);
    if (value !== undefined && ok(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${file} never reached the expected state`);
}

describe("deferred proofs", () => {
  let cacheDir = "";
  let modelId = "";

  beforeAll(async () => {
    modelId = (await demoPackage()).id;
    // A private copy of the test cache, so this file's job folders are its own.
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-deferred-"));
    // Only the compiled packages: other test files may have proof jobs of their own in the shared cache.
    for (const dir of ["objects", "models"]) {
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
    const failure = await readJson<ProofFailure>(jobPath("failed", id));
    expect(failure).toMatchObject({ permanent: true, reason: { code: "ARTIFACT_CORRUPT" }, raw: "{ not json" });
    expect(await readdir(path.join(cacheDir, "jobs", "pending"))).not.toContain(`${id}.json`);
  });

  const jobPath = (state: "pending" | "done" | "failed", id: string) =>
    path.join(cacheDir, "jobs", state, `${id}.json`);

  /** A persisted job for one of the demo's inputs, as deferProof would write it, changed by `patch`. */
  async function writeJob(pkg: ModelPackage, i: number, patch: Partial<ProofJob> = {}): Promise<ProofJob> {
    const x = demoSamples.inputs[i % 8] as number[];
    const { receipt, salts } = await verifiableInfer(pkg, x, { mode: "attest", signer });
    const job: ProofJob = {
      format: PROOF_JOB_FORMAT,
      id: randomUUID(),
      modelId: pkg.id,
      input: quantizeInput(pkg.network, x).map(String),
      salts,
      receipt,
      createdAt: new Date().toISOString(),
      attempts: 0,
      ...patch,
    };
    await mkdir(path.join(cacheDir, "jobs", "pending"), { recursive: true });
    await writeFile(jobPath("pending", job.id), JSON.stringify(job), { mode: 0o600 });
    return job;
  }

  /** Resumes the cache's jobs and returns the handle of this one. */
  async function resume(id: string, retry: Parameters<typeof configureProofRetry>[0]) {
    const handles = await resumePendingProofs({ cacheDir, retry });
    const handle = handles.find((h) => h.id === id);
    if (!handle) throw new Error(`job ${id} was not resumed`);
    return handle.promise;
  }

  it("retries a proof whose zkey was corrupted, then repaired, and delivers a zk receipt that verifies", async () => {
    const previous = configureProofRetry({ baseDelayMs: 100, maxAttempts: 8 });
    // A package that has not read its zkey yet: a package keeps the zkey it once read in memory.
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const zkey = pkg.store.pathOf(pkg.manifest.artifacts.zkey.sha256);
    const at = Math.floor(pkg.manifest.artifacts.zkey.size / 2);
    await flipByte(zkey, at);
    let repaired = false;
    try {
      const { receipt, deferred } = await verifiableInfer(pkg, demoSamples.inputs[6], {
        mode: "attest",
        signer,
        deferProof: true,
      });
      const id = deferred?.id as string;
      // The failed attempt is on disk, with its reason, before the job is tried again.
      const job = await waitForJson<ProofJob>(jobPath("pending", id), (j) => j.lastError !== undefined);
      expect(job.lastError?.code).toBe("ARTIFACT_CORRUPT");
      expect(job.attempts).toBeGreaterThanOrEqual(1);
      expect(job.notBefore).toBeDefined();
      // The operator restores the zkey; the next attempt proves.
      await flipByte(zkey, at);
      repaired = true;
      const zk = (await deferred?.promise) as Receipt;
      expect(zk.mode).toBe("zk");
      expect(zk.input.commitment).toBe(receipt.input.commitment);
      expect(zk.output.commitment).toBe(receipt.output.commitment);
      expect(await verifyReceipt(zk, { modelPackage: await demoPackage() })).toMatchObject({ valid: true });
      expect(await readJson(jobPath("done", id))).toEqual(JSON.parse(JSON.stringify(zk)));
      expect(await readdir(path.join(cacheDir, "jobs", "pending"))).not.toContain(`${id}.json`);
      expect(await readdir(path.join(cacheDir, "jobs", "failed"))).not.toContain(`${id}.json`);
    } finally {
      if (!repaired) await flipByte(zkey, at);
      configureProofRetry(previous);
    }
  });

  it("continues a job's attempt count and backoff after a restart", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const lastError = { code: "ARTIFACT_CORRUPT", message: "zkey was corrupted", at: new Date().toISOString() };
    // Out of attempts before the restart: failed with its last reason, not proven again (though it now could be).
    const spent = await writeJob(pkg, 0, { attempts: 3, lastError });
    const error = await errorOf(resume(spent.id, { maxAttempts: 3, baseDelayMs: 10 }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect(await readJson<ProofFailure>(jobPath("failed", spent.id))).toMatchObject({
      permanent: false,
      attempts: 3,
      reason: lastError,
    });
    expect(await readdir(path.join(cacheDir, "jobs", "pending"))).not.toContain(`${spent.id}.json`);

    // One attempt left and a backoff still running: it waits, then proves on its third attempt.
    const notBefore = new Date(Date.now() + 800).toISOString();
    const waiting = await writeJob(pkg, 1, { attempts: 2, lastError, notBefore });
    const t = Date.now();
    const promise = resume(waiting.id, { maxAttempts: 3, baseDelayMs: 10 });
    expect((await readJson<ProofJob>(jobPath("pending", waiting.id)))?.attempts).toBe(2);
    const zk = await promise;
    expect(Date.now() - t).toBeGreaterThanOrEqual(700);
    expect(zk.mode).toBe("zk");
    expect(await verifyReceipt(zk, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("rebuilds the zk receipt from the package: unproven fields edited in the job file do not reach it", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const honest = await writeJob(pkg, 3);
    const edited = structuredClone(honest.receipt);
    edited.output.values = edited.output.values.map((v) => v * 1024);
    edited.output.fracBits -= 10;
    edited.output.shape = [2, 2];
    edited.input.shape = [16];
    const job = await writeJob(pkg, 3, { receipt: edited, salts: honest.salts });
    const zk = await resume(job.id, { maxAttempts: 2, baseDelayMs: 10 });
    expect(zk.output.values).toEqual(honest.receipt.output.values);
    expect(zk.output.fracBits).toBe(honest.receipt.output.fracBits);
    expect(zk.output.shape).toEqual(honest.receipt.output.shape);
    expect(await verifyReceipt(zk, { modelPackage: pkg })).toMatchObject({ valid: true });
    // A job whose receipt states other commitments than its input and salts give is refused for good.
    const foreign = await writeJob(pkg, 4, { receipt: honest.receipt });
    const error = await errorOf(resume(foreign.id, { maxAttempts: 3, baseDelayMs: 10 }));
    expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
    expect(await readJson<ProofFailure>(jobPath("failed", foreign.id))).toMatchObject({ permanent: true });
  });

  it("moves a job whose input the circuit cannot take to jobs/failed at once, with its reason", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const hi = pkg.network.input.hi;
    for (const input of [
      Array.from({ length: 16 }, (_, k) => String(k === 5 ? hi + 1n : 0n)),
      Array.from({ length: 15 }, () => "0"),
    ]) {
      const job = await writeJob(pkg, 2, { input });
      const error = await errorOf(resume(job.id, { maxAttempts: 5, baseDelayMs: 10 }));
      expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
      const failure = await readJson<ProofFailure>(jobPath("failed", job.id));
      expect(failure).toMatchObject({ permanent: true, attempts: 1, reason: { code: "INVALID_INPUT" } });
      expect(failure?.job?.salts).toEqual(job.salts);
    }
  });

  it("fails a job whose model is not in the cache after its retries, with ARTIFACT_MISSING", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const job = await writeJob(pkg, 3, { modelId: `0x${"ab".repeat(32)}` });
    const error = await errorOf(resume(job.id, { maxAttempts: 3, baseDelayMs: 10 }));
    expect(isVerinferError(error, "ARTIFACT_MISSING")).toBe(true);
    expect(await readJson<ProofFailure>(jobPath("failed", job.id))).toMatchObject({
      permanent: false,
      attempts: 3,
      reason: { code: "ARTIFACT_MISSING" },
    });
  });

  it("settles a job whose outcome was recorded just before a crash, without proving it again", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const [doneName] = await readdir(path.join(cacheDir, "jobs", "done"));
    const recorded = await readJson<Receipt>(path.join(cacheDir, "jobs", "done", doneName as string));
    // Done: the receipt was written, the pending file not yet removed.
    const proven = await writeJob(pkg, 4);
    await writeFile(jobPath("done", proven.id), JSON.stringify(recorded));
    expect(await resume(proven.id, {})).toEqual(recorded);
    expect(await readdir(path.join(cacheDir, "jobs", "pending"))).not.toContain(`${proven.id}.json`);
    // Failed: the record was written, the pending file not yet removed.
    const failed = await writeJob(pkg, 5);
    const failure: ProofFailure = {
      format: "verinfer/proof-failure@1",
      id: failed.id,
      reason: { code: "INVALID_INPUT", message: "recorded", at: new Date().toISOString() },
      permanent: true,
      attempts: 1,
      job: failed,
    };
    await writeFile(jobPath("failed", failed.id), JSON.stringify(failure));
    const error = await errorOf(resume(failed.id, {}));
    expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
    expect(await readdir(path.join(cacheDir, "jobs", "pending"))).not.toContain(`${failed.id}.json`);
  });

  it("removes the temporary files crashed writes left in the job folders, and no write in progress", async () => {
    // The pid of a process that has exited: its temporary files can only be leftovers.
    const child = execFile(process.execPath, ["-e", ""]);
    await new Promise((r) => child.on("exit", r));
    const dead = child.pid as number;
    const leftovers = [
      jobPath("pending", randomUUID()).replace(/$/, `.tmp-${dead}-0123456789ab`),
      jobPath("done", randomUUID()).replace(/$/, `.tmp-${dead}-ba9876543210`),
      jobPath("failed", randomUUID()).replace(/$/, ".tmp"),
    ];
    // Writes of live processes (this one, its parent), fresh: they may be about to be renamed into place.
    const inProgress = [
      jobPath("pending", randomUUID()).replace(/$/, `.tmp-${process.pid}-aaaaaaaaaaaa`),
      jobPath("done", randomUUID()).replace(/$/, `.tmp-${process.ppid}-bbbbbbbbbbbb`),
    ];
    for (const file of [...leftovers, ...inProgress]) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, "{ half written");
    }
    // A plain .tmp has no writer to ask: it is removed once it is old.
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(leftovers[2] as string, hourAgo, hourAgo);
    const handles = await resumePendingProofs({ cacheDir });
    expect(handles).toEqual([]);
    for (const file of leftovers) await expect(stat(file), file).rejects.toMatchObject({ code: "ENOENT" });
    for (const file of inProgress) {
      expect(await readFile(file, "utf8"), file).toBe("{ half written");
      await rm(file);
    }
  });
  it("proves each job once when two processes resume the same cache at once", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const jobs = [await writeJob(pkg, 5), await writeJob(pkg, 6), await writeJob(pkg, 7)];
    // The other resumer, a separate process on the built library: it loads, says "ready", and resumes on "go".
    const script = path.join(ROOT, ".verinfer-cache", `resumer-${path.basename(cacheDir)}.mjs`);
    await writeFile(
      script,
      `import { resumePendingProofs } from ${JSON.stringify(path.join(ROOT, "dist", "index.js"))};
process.stdout.write("ready\\n");
await new Promise((r) => process.stdin.once("data", r));
const handles = await resumePendingProofs({ cacheDir: ${JSON.stringify(cacheDir)}, retry: { baseDelayMs: 10 } });
const out = {};
for (const h of handles) out[h.id] = await h.promise.catch((e) => ({ error: String(e) }));
process.stdout.write(JSON.stringify(out) + "\\n");
process.exit(0);
`,
    );
    const child = spawn(process.execPath, [script], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    const ready = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk;
        if (stdout.startsWith("ready\n")) resolve();
      }),
    );
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      await ready;
      child.stdin.write("go\n");
      const ours = await resumePendingProofs({ cacheDir, retry: { baseDelayMs: 10 } });
      const mine = Object.fromEntries(await Promise.all(ours.map(async (h) => [h.id, await h.promise] as const)));
      await exited;
      const theirs = JSON.parse(stdout.slice("ready\n".length)) as Record<string, Receipt>;
      for (const job of jobs) {
        const a = mine[job.id];
        const b = theirs[job.id];
        expect(a?.mode, job.id).toBe("zk");
        // Groth16 proofs are randomized: two provings of one job give two different proofs.
        expect(b?.proof, job.id).toEqual(a?.proof);
        expect(await readJson<Receipt>(jobPath("done", job.id))).toEqual(JSON.parse(JSON.stringify(a)));
      }
      const pending = await readdir(path.join(cacheDir, "jobs", "pending"));
      expect(pending.filter((f) => jobs.some((j) => f.startsWith(j.id)))).toEqual([]);
    } finally {
      child.kill("SIGKILL");
      await rm(script, { force: true });
    }
  });

  it("does not let a job dated far in the future hold a resume", async () => {
    const pkg = await loadModelPackage(modelId, { cacheDir });
    const lastError = { code: "ARTIFACT_CORRUPT", message: "zkey was corrupted", at: new Date().toISOString() };
    const future = await writeJob(pkg, 1, { attempts: 1, lastError, notBefore: "2100-01-01T00:00:00.000Z" });
    const plain = await writeJob(pkg, 2);
    // The default maxDelayMs (10 minutes) would hold the future-dated job that long: the test would time out.
    const handles = await resumePendingProofs({ cacheDir, retry: { baseDelayMs: 50 } });
    const byId = new Map(handles.map((h) => [h.id, h.promise]));
    expect((await byId.get(plain.id))?.mode).toBe("zk");
    expect((await byId.get(future.id))?.mode).toBe("zk");
  }, 60_000);

  it("proves a resumed job under the key its receipt names, not a model recompiled under another key", async () => {
    const tiny = await tinyPackage();
    // The deferring process recorded its package (as deferProof does) and crashed before proving.
    const own = await loadModelPackage(tiny.id, { cacheDir });
    const manifest = await own.store.put(canonicalJson(own.manifest));
    const withManifest = await writeTinyJob(own, { manifest: { sha256: manifest.sha256, size: manifest.size } });
    const legacy = await writeTinyJob(own);
    // Then the model is compiled again — same id, fresh phase-2 randomness, another key — and indexed by its id.
    const other = await mkdtemp(path.join(os.tmpdir(), "verinfer-rekey-"));
    try {
      const ptau = await ensureDevPtau({ power: tiny.manifest.setup.ptauPower, cacheDir: TEST_CACHE });
      const recompiled = await compileModel(tinyNetwork, {
        calibration: tinyCalibration,
        cacheDir: other,
        ptau: ptau.file,
        quiet: true,
      });
      expect(recompiled.id).toBe(tiny.id);
      expect(recompiled.vkeyCid).not.toBe(tiny.vkeyCid);
      await cp(path.join(other, "objects"), path.join(cacheDir, "objects"), { recursive: true });
      await cp(
        path.join(other, "models", "by-id", `${tiny.id}.json`),
        path.join(cacheDir, "models", "by-id", `${tiny.id}.json`),
      );
      expect((await loadModelPackage(tiny.id, { cacheDir })).vkeyCid).toBe(recompiled.vkeyCid);

      const handles = await resumePendingProofs({ cacheDir, retry: { maxAttempts: 2, baseDelayMs: 10 } });
      const promiseOf = (id: string) => handles.find((h) => h.id === id)?.promise ?? Promise.reject(new Error(id));
      const zk = await promiseOf(withManifest.id);
      expect(zk.model.vkey).toBe(tiny.vkeyCid);
      expect(await verifyReceipt(zk, { modelPackage: tiny })).toMatchObject({ valid: true });
      expect((await verifyReceipt(zk, { modelPackage: recompiled })).valid).toBe(false);
      // A job that recorded no package is not proven under the key indexed now: it fails, typed.
      const error = await errorOf(promiseOf(legacy.id));
      expect(isVerinferError(error, "ARTIFACT_MISSING"), String(error)).toBe(true);
      expect(await readJson(jobPath("done", legacy.id))).toBeUndefined();
    } finally {
      // The cache indexes the package of the test cache again, for the tests after this one.
      await cp(
        path.join(TEST_CACHE, "models", "by-id", `${tiny.id}.json`),
        path.join(cacheDir, "models", "by-id", `${tiny.id}.json`),
      );
      await rm(other, { recursive: true, force: true });
    }
  });

  /** A persisted job of the tiny model, changed by `patch`. */
  async function writeTinyJob(pkg: ModelPackage, patch: Partial<ProofJob> = {}): Promise<ProofJob> {
    const x = [0.1, 0.2, 0.3, 0.4];
    const { receipt, salts } = await verifiableInfer(pkg, x, { mode: "attest", signer });
    return writeRaw({
      format: PROOF_JOB_FORMAT,
      id: randomUUID(),
      modelId: pkg.id,
      input: quantizeInput(pkg.network, x).map(String),
      salts,
      receipt,
      createdAt: new Date().toISOString(),
      attempts: 0,
      ...patch,
    });
  }

  async function writeRaw(job: ProofJob): Promise<ProofJob> {
    await mkdir(path.join(cacheDir, "jobs", "pending"), { recursive: true });
    await writeFile(jobPath("pending", job.id), JSON.stringify(job), { mode: 0o600 });
    return job;
  }
});
