import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { type Receipt, ReceiptSchema, type Salts } from "./attest/receipt.js";
import { VerinferError } from "./errors.js";
import { proveReceipt } from "./prove-receipt.js";
import { atomicWrite } from "./storage/atomic-write.js";
import { resolveCacheDir } from "./storage/cache-dir.js";
import { findModelPackage, type ModelPackage } from "./storage/model-package.js";

/** Format tag of persisted proof jobs. */
export const PROOF_JOB_FORMAT = "verinfer/proof-job@1";

const decimal = z.string().regex(/^-?\d+$/);

/**
 * zod schema of a persisted proof job. It holds the salts, so job files are written owner-only (0600) inside
 * the cache and deleted once the proof is stored.
 */
export const ProofJobSchema = z.object({
  format: z.literal(PROOF_JOB_FORMAT),
  id: z.string().uuid(),
  modelId: z.string().regex(/^0x[0-9a-f]{64}$/),
  input: z.array(decimal),
  salts: z.object({ input: decimal, output: decimal }),
  receipt: ReceiptSchema,
  createdAt: z.string(),
});

/** A persisted proof job. */
export type ProofJob = z.infer<typeof ProofJobSchema>;

/** A proof being computed in the background. */
export interface DeferredProof {
  /** Job id; the finished zk receipt is stored as `<cache>/jobs/done/<id>.json`. */
  id: string;
  /** Resolves to the zk receipt, with the same commitments as the attested one. */
  promise: Promise<Receipt>;
}

const running = new Map<string, Promise<Receipt>>();
// One background proof at a time per process: deferred work must not starve the requests in front of it.
let lane: Promise<unknown> = Promise.resolve();

function jobDir(cacheDir: string, state: "pending" | "done" | "failed"): string {
  return path.join(cacheDir, "jobs", state);
}

function run(job: ProofJob, pkg: ModelPackage): Promise<Receipt> {
  const existing = running.get(job.id);
  if (existing) return existing;
  const cacheDir = pkg.store.cacheDir;
  const promise = lane.then(async () => {
    const pendingFile = path.join(jobDir(cacheDir, "pending"), `${job.id}.json`);
    try {
      const receipt = await proveReceipt({
        pkg,
        input: job.input.map(BigInt),
        salts: { input: BigInt(job.salts.input), output: BigInt(job.salts.output) },
        base: job.receipt,
      });
      await atomicWrite(path.join(jobDir(cacheDir, "done"), `${job.id}.json`), JSON.stringify(receipt, null, 2));
      await rm(pendingFile, { force: true });
      return receipt;
    } catch (error) {
      // Keep the job (and its salts) for inspection instead of retrying a proof that cannot succeed forever.
      await mkdir(jobDir(cacheDir, "failed"), { recursive: true });
      await rename(pendingFile, path.join(jobDir(cacheDir, "failed"), `${job.id}.json`)).catch(() => undefined);
      throw error;
    } finally {
      running.delete(job.id);
    }
  });
  lane = promise.catch(() => undefined);
  running.set(job.id, promise);
  return promise;
}

/**
 * Persists a proof job for an already-returned (attested) receipt, then starts proving it in the background.
 * The job file is written before this resolves, so a crash or restart loses nothing:
 * {@link resumePendingProofs} picks it up.
 */
export async function deferProof(params: {
  pkg: ModelPackage;
  input: readonly bigint[];
  salts: Salts;
  receipt: Receipt;
}): Promise<DeferredProof> {
  const job: ProofJob = {
    format: PROOF_JOB_FORMAT,
    id: randomUUID(),
    modelId: params.pkg.id,
    input: params.input.map(String),
    salts: { ...params.salts },
    // The caller keeps (and may edit) its receipt; the job proves the statement as it was made.
    receipt: structuredClone(params.receipt),
    createdAt: new Date().toISOString(),
  };
  const file = path.join(jobDir(params.pkg.store.cacheDir, "pending"), `${job.id}.json`);
  await atomicWrite(file, JSON.stringify(job), 0o600);
  const promise = run(job, params.pkg);
  // The caller may never await it; its failure is recorded in jobs/failed.
  promise.catch(() => undefined);
  return { id: job.id, promise };
}

/** Options of {@link resumePendingProofs}. */
export interface ResumePendingProofsOptions {
  cacheDir?: string;
}

/**
 * Resumes every persisted proof job of the cache that is not already running in this process (e.g. after a
 * restart). A job file that does not parse, or whose model is no longer in the cache, is moved to
 * `jobs/failed` and reported through its promise.
 *
 * @example
 * ```ts
 * for (const job of await resumePendingProofs()) console.log(job.id, (await job.promise).mode); // "zk"
 * ```
 */
export async function resumePendingProofs(options: ResumePendingProofsOptions = {}): Promise<DeferredProof[]> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  const dir = jobDir(cacheDir, "pending");
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^[0-9a-f-]{36}\.json$/.test(f));
  const handles: DeferredProof[] = [];
  for (const f of files) {
    const id = f.slice(0, -5);
    const file = path.join(dir, f);
    const already = running.get(id);
    if (already) {
      handles.push({ id, promise: already });
      continue;
    }
    let promise: Promise<Receipt>;
    try {
      const job = ProofJobSchema.parse(JSON.parse(await readFile(file, "utf8")));
      const pkg = await findModelPackage(cacheDir, "id", job.modelId);
      if (!pkg)
        throw new VerinferError("ARTIFACT_MISSING", `model ${job.modelId} of proof job ${id} is not in the cache`);
      promise = run(job, pkg);
    } catch (cause) {
      await mkdir(jobDir(cacheDir, "failed"), { recursive: true });
      await rename(file, path.join(jobDir(cacheDir, "failed"), f)).catch(() => undefined);
      const error =
        cause instanceof VerinferError
          ? cause
          : new VerinferError("ARTIFACT_CORRUPT", `proof job ${id} is unreadable`, { cause });
      promise = Promise.reject(error);
    }
    promise.catch(() => undefined);
    handles.push({ id, promise });
  }
  return handles;
}
