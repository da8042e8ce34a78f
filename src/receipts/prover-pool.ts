import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { VerinferError } from "../errors.js";
import { loadModelPackage, ModelPackage } from "../package/model-package.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import type { SnarkProofBundle } from "../proof-systems/prove-circuit.js";
import type { ArtifactRef } from "../storage/artifact-store.js";
import { packageRoot } from "../util/package-root.js";
import type { ProverStartedMessage, ProverTask, ProverTaskResult } from "./prover-worker.js";

/** Options of {@link createProverPool}. */
export interface ProverPoolOptions {
  /** Worker threads, each proving one job at a time. Default: `os.availableParallelism()`. */
  workers?: number;
  /**
   * Jobs that may wait for a worker; one more is refused at once with `OVERLOADED`. Default: `4 × workers`.
   * The pool holds at most `workers + maxQueue` jobs.
   */
  maxQueue?: number;
  /**
   * How long a job may run on its worker (from pickup, queue wait excluded) before it fails with `TIMEOUT`
   * and its worker is terminated and replaced. Default: 300,000 (5 minutes).
   */
  jobTimeoutMs?: number;
}

/** One proof job: a model (a package, or a model id in a cache), the quantized input and the salts. */
export type ProverPoolJob = ({ pkg: ModelPackage } | { modelId: string; cacheDir?: string }) & {
  /** Quantized input, as `quantizeInput` returns it. */
  input: readonly bigint[];
  salts: { input: bigint; output: bigint };
  /** Overrides the pool's `jobTimeoutMs` for this job. */
  timeoutMs?: number;
};

/** A pooled proof: its system, snarkjs's proof and public signals, and where the time went. */
export interface ProverPoolProof extends SnarkProofBundle {
  timings: {
    /** From submission until a worker picked the job up. */
    queueMs: number;
    /** Reading the model's artifacts (first job of a model on a worker) and waiting for the worker's curve. */
    loadMs: number;
    /** Witness generation and proving on the worker. */
    proveMs: number;
  };
}

/** A snapshot of a pool's load and history. */
export interface ProverPoolStats {
  workers: number;
  maxQueue: number;
  /** Accepted jobs no worker has picked up yet. */
  queued: number;
  /** Jobs a worker is proving now. */
  running: number;
  /** Jobs that returned a proof. */
  completed: number;
  /** Accepted jobs that failed (`TIMEOUT`, `PROVE_FAILED`, missing artifacts, …). */
  failed: number;
  /** Jobs refused with `OVERLOADED` (queue full or pool closed). */
  rejected: number;
}

/** Witness generation and proving (any proof system) on worker threads; see {@link createProverPool}. */
export interface ProverPool {
  /**
   * Proves one job on a worker.
   *
   * @throws VerinferError `OVERLOADED` at once when `workers + maxQueue` jobs are already held or the pool is
   *   closed; `TIMEOUT` past the job's timeout; `PROVE_FAILED` when the witness does not satisfy the circuit
   *   or the worker crashed; `ARTIFACT_MISSING` / `ARTIFACT_CORRUPT`; `INVALID_INPUT` for a malformed job.
   */
  prove(job: ProverPoolJob): Promise<ProverPoolProof>;
  /** Current load and totals. */
  readonly stats: ProverPoolStats;
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Refuses new jobs, lets every accepted one finish (or time out), then stops the workers. Idempotent. */
  close(): Promise<void>;
}

interface Job {
  id: number;
  submittedAt: number;
  startedAt: number | undefined;
  timeoutMs: number;
  controller: AbortController;
  timer: NodeJS.Timeout | undefined;
  timedOut: boolean;
  settled: Promise<unknown>;
}

/** A job field the pool forwards for the crash tests; the worker ignores it unless `VERINFER_TEST_CRASH=1`. */
interface TestHooks {
  testCrash?: ProverTask["testCrash"];
}

const DEFAULT_TIMEOUT_MS = 300_000;
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * The worker's `workerData`, read by the `web-worker` package rather than by verinfer: ffjavascript (under
 * snarkjs) imports it, and off the main thread it takes any thread for one of its own web workers and imports
 * `workerData.mod` — undefined in a piscina worker, which prints an error on every worker start. An empty module
 * keeps it quiet.
 */
const WEB_WORKER_SHIM = { mod: "data:text/javascript,", type: "module", name: "verinfer-prover" };

/**
 * The worker is JavaScript that piscina loads on each thread: beside this module when it runs compiled (dist/,
 * build/), else the package's dist/ — which is how vitest, running src/ as TypeScript, reaches it (`npm test`
 * builds before it runs vitest).
 */
function workerFile(): string {
  const beside = fileURLToPath(new URL("./prover-worker.js", import.meta.url));
  if (existsSync(beside)) return beside;
  const built = path.join(packageRoot(), "dist", "receipts", "prover-worker.js");
  if (existsSync(built)) return built;
  throw new VerinferError("INTERNAL", "the prover worker is not built", {
    details: `neither ${beside} nor ${built} exists; run \`npm run build\``,
  });
}

function integerOption(value: number | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new VerinferError("INVALID_OPTIONS", `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function checkTimeout(value: unknown, name: string): void {
  // setTimeout fires at once for delays past 2^31 - 1 ms.
  if (value !== undefined && !(typeof value === "number" && value > 0 && value <= MAX_TIMEOUT_MS)) {
    throw new VerinferError("INVALID_OPTIONS", `${name} must be a number of milliseconds in (0, ${MAX_TIMEOUT_MS}]`);
  }
}

function checkJob(job: ProverPoolJob): void {
  if (typeof job !== "object" || job === null) throw new VerinferError("INVALID_INPUT", "a job must be an object");
  if ("pkg" in job) {
    if (!(job.pkg instanceof ModelPackage)) throw new VerinferError("INVALID_INPUT", "job.pkg is not a ModelPackage");
  } else if (typeof job.modelId !== "string" || !/^0x[0-9a-f]{64}$/.test(job.modelId)) {
    throw new VerinferError("INVALID_INPUT", "a job needs pkg or modelId (0x + 64 hex digits)");
  }
  if (!Array.isArray(job.input) || job.input.some((v) => typeof v !== "bigint")) {
    throw new VerinferError("INVALID_INPUT", "job.input must be an array of bigints (the quantized input)");
  }
  if (typeof job.salts?.input !== "bigint" || typeof job.salts?.output !== "bigint") {
    throw new VerinferError("INVALID_INPUT", "job.salts must be { input: bigint, output: bigint }");
  }
  checkTimeout(job.timeoutMs, "job.timeoutMs");
}

/** What a worker needs to find a model's proving artifacts, and which prover to run. */
interface PoolRefs {
  cacheDir: string;
  system: ProofSystem;
  modelId: string;
  wasm: ArtifactRef;
  zkey: ArtifactRef;
  /** Groth16 checks each witness against it before proving. */
  r1cs: ArtifactRef;
}

class PiscinaProverPool implements ProverPool {
  private readonly piscina: Piscina<ProverTask, ProverTaskResult>;
  private readonly workers: number;
  private readonly maxQueue: number;
  private readonly jobTimeoutMs: number;
  private readonly jobs = new Map<number, Job>();
  private readonly refs = new Map<string, Promise<PoolRefs>>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private counts = { completed: 0, failed: 0, rejected: 0 };

  constructor(options: ProverPoolOptions) {
    this.workers = integerOption(options.workers, "workers", os.availableParallelism(), 1);
    this.maxQueue = integerOption(options.maxQueue, "maxQueue", 4 * this.workers, 0);
    checkTimeout(options.jobTimeoutMs, "jobTimeoutMs");
    this.jobTimeoutMs = options.jobTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.piscina = new Piscina<ProverTask, ProverTaskResult>({
      filename: workerFile(),
      minThreads: this.workers,
      maxThreads: this.workers,
      // Admission is this class's job (it counts running and queued jobs exactly); piscina only queues.
      maxQueue: Number.POSITIVE_INFINITY,
      workerData: WEB_WORKER_SHIM,
    });
    this.piscina.on("message", (message: unknown) => this.onWorkerMessage(message));
    // Piscina reports here a worker that fails while holding no job; with no listener it would crash the process.
    this.piscina.on("error", () => undefined);
  }

  get stats(): ProverPoolStats {
    let running = 0;
    for (const job of this.jobs.values()) if (job.startedAt !== undefined) running++;
    return {
      workers: this.workers,
      maxQueue: this.maxQueue,
      queued: this.jobs.size - running,
      running,
      ...this.counts,
    };
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  prove(job: ProverPoolJob): Promise<ProverPoolProof> {
    if (this.closing) {
      this.counts.rejected++;
      return Promise.reject(
        new VerinferError("OVERLOADED", "the prover pool is closed", { meta: { reason: "closed" } }),
      );
    }
    if (this.jobs.size >= this.workers + this.maxQueue) {
      this.counts.rejected++;
      return Promise.reject(
        new VerinferError("OVERLOADED", "the prover pool is full", {
          details: `${this.workers} worker(s) busy and ${this.maxQueue} job(s) queued`,
          meta: { reason: "full", workers: this.workers, maxQueue: this.maxQueue },
        }),
      );
    }
    try {
      checkJob(job);
    } catch (error) {
      return Promise.reject(error);
    }
    const entry: Job = {
      id: this.nextId++,
      submittedAt: performance.now(),
      startedAt: undefined,
      timeoutMs: job.timeoutMs ?? this.jobTimeoutMs,
      controller: new AbortController(),
      timer: undefined,
      timedOut: false,
      settled: Promise.resolve(),
    };
    this.jobs.set(entry.id, entry);
    const result = this.run(entry, job).then(
      (proof) => {
        this.counts.completed++;
        return proof;
      },
      (error: unknown) => {
        this.counts.failed++;
        throw error;
      },
    );
    entry.settled = result.finally(() => {
      clearTimeout(entry.timer);
      this.jobs.delete(entry.id);
    });
    entry.settled.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.jobs.values()].map((job) => job.settled));
      await this.piscina.destroy();
    })();
    return this.closing;
  }

  private onWorkerMessage(message: unknown): void {
    const id = (message as Partial<ProverStartedMessage> | null)?.verinferProverStarted;
    const job = typeof id === "number" ? this.jobs.get(id) : undefined;
    if (!job || job.startedAt !== undefined) return;
    job.startedAt = performance.now();
    job.timer = setTimeout(() => {
      job.timedOut = true;
      // Piscina terminates the worker of a running job it aborts and starts a fresh one in its place.
      job.controller.abort();
    }, job.timeoutMs);
  }

  private artifactRefs(job: ProverPoolJob): Promise<PoolRefs> {
    if ("pkg" in job) {
      const { artifacts } = job.pkg.manifest;
      return Promise.resolve({
        cacheDir: job.pkg.store.cacheDir,
        system: job.pkg.manifest.proofSystem,
        modelId: job.pkg.id,
        wasm: artifacts.wasm,
        zkey: artifacts.zkey,
        r1cs: artifacts.r1cs,
      });
    }
    const key = `${job.cacheDir ?? ""}\n${job.modelId}`;
    let refs = this.refs.get(key);
    if (!refs) {
      refs = loadModelPackage(job.modelId, job.cacheDir === undefined ? {} : { cacheDir: job.cacheDir }).then(
        (pkg) => ({
          cacheDir: pkg.store.cacheDir,
          system: pkg.manifest.proofSystem,
          modelId: pkg.id,
          wasm: pkg.manifest.artifacts.wasm,
          zkey: pkg.manifest.artifacts.zkey,
          r1cs: pkg.manifest.artifacts.r1cs,
        }),
      );
      this.refs.set(key, refs);
      refs.catch(() => this.refs.delete(key));
    }
    return refs;
  }

  private async run(entry: Job, job: ProverPoolJob): Promise<ProverPoolProof> {
    const refs = await this.artifactRefs(job);
    const task: ProverTask = {
      jobId: entry.id,
      ...refs,
      input: [...job.input],
      inputSalt: job.salts.input,
      outputSalt: job.salts.output,
    };
    const crash = (job as TestHooks).testCrash;
    if (crash) task.testCrash = crash;
    let result: ProverTaskResult;
    try {
      result = await this.piscina.run(task, { signal: entry.controller.signal });
    } catch (cause) {
      if (entry.timedOut) {
        throw new VerinferError("TIMEOUT", `the proof job ran past its timeout of ${entry.timeoutMs} ms`, {
          details: "its worker was terminated and replaced",
          meta: { timeoutMs: entry.timeoutMs },
          cause,
        });
      }
      throw new VerinferError("PROVE_FAILED", "the prover worker died while proving", {
        details: cause instanceof Error ? cause.message : String(cause),
        cause,
      });
    }
    if (!result.ok) {
      throw new VerinferError(result.code, result.shortMessage, result.details ? { details: result.details } : {});
    }
    const startedAt = entry.startedAt ?? entry.submittedAt;
    return {
      system: result.system,
      proof: result.proof,
      publicSignals: result.publicSignals,
      timings: { queueMs: startedAt - entry.submittedAt, loadMs: result.loadMs, proveMs: result.proveMs },
    };
  }
}

/**
 * Creates a pool of prover worker threads (piscina). Each worker reads a model's zkey and witness wasm from the
 * artifact store once (hash-checked), keeps them, builds its curve once, and proves single-threaded, so
 * throughput grows with the number of workers up to the number of cores. Jobs carry artifact references, not
 * artifacts. A full pool refuses at once (`OVERLOADED`) instead of queueing without bound; a job past its
 * timeout fails with `TIMEOUT` and its worker is replaced; a crashed worker fails its job with `PROVE_FAILED`.
 *
 * @example
 * ```ts
 * const pool = createProverPool({ workers: 2, maxQueue: 8, jobTimeoutMs: 60_000 });
 * const { receipt } = await verifiableInfer(pkg, input, { pool });
 * const { proof, publicSignals } = await pool.prove({ pkg, input: xq, salts });
 * await pool.close();
 * ```
 * @throws VerinferError `INVALID_OPTIONS` for a bad option, `INTERNAL` when the worker script is not built.
 */
export function createProverPool(options: ProverPoolOptions = {}): ProverPool {
  return new PiscinaProverPool(options);
}
