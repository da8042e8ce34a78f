import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { VerinferError } from "../errors.js";
import { FsStorage } from "../storage/fs-storage.js";
import { EXIT } from "./exit-codes.js";

/** Flags of `verinfer prover`. */
export interface ProverFlags {
  redis?: string;
  storage?: string;
  cacheDir?: string;
  workers?: number;
  queue?: string;
  name?: string;
  lockDuration?: number;
  stalledInterval?: number;
  maxStalled?: number;
  jobTimeout?: number;
  allowEvictingRedis?: boolean;
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a non-negative integer");
  return n;
}

/** One JSON line on stdout per event: ids, codes and times only (never an input or a salt). */
function log(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...event })}\n`);
}

/**
 * `verinfer prover`: takes proof jobs from the queue until SIGTERM/SIGINT, then finishes the jobs it holds and
 * exits 0. The Redis URL may come from `$VERINFER_REDIS_URL` (keeps a password off the command line), the
 * payload key from `$VERINFER_QUEUE_KEY`, the storage directory from `$VERINFER_STORAGE`.
 */
export async function proverCommand(flags: ProverFlags): Promise<number> {
  const url = flags.redis ?? process.env.VERINFER_REDIS_URL;
  if (!url) throw new VerinferError("INVALID_OPTIONS", "verinfer prover needs --redis <url> or $VERINFER_REDIS_URL");
  const storageDir = flags.storage ?? process.env.VERINFER_STORAGE;
  const key = process.env.VERINFER_QUEUE_KEY;
  // Loaded here, not at the top: every other command would otherwise load BullMQ and ioredis for nothing.
  const { startProver } = await import("../queue/start-prover.js");
  const prover = await startProver({
    connection: url,
    ...(storageDir ? { storage: new FsStorage(storageDir) } : {}),
    ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    ...(flags.workers ? { workers: flags.workers } : {}),
    ...(flags.queue ? { queueName: flags.queue } : {}),
    ...(flags.name ? { name: flags.name } : {}),
    ...(flags.lockDuration ? { lockDurationMs: flags.lockDuration } : {}),
    ...(flags.stalledInterval ? { stalledIntervalMs: flags.stalledInterval } : {}),
    ...(flags.maxStalled !== undefined ? { maxStalledCount: flags.maxStalled } : {}),
    ...(flags.jobTimeout ? { jobTimeoutMs: flags.jobTimeout } : {}),
    ...(key ? { payloadKey: key } : {}),
    ...(flags.allowEvictingRedis ? { allowEvictingRedis: true } : {}),
    onEvent: (event) => log({ ...event }),
  });
  log({
    type: "ready",
    name: prover.name,
    workers: prover.workers,
    pid: process.pid,
    redis: {
      maxmemoryPolicy: prover.redis.maxmemoryPolicy,
      appendonly: prover.redis.appendonly ?? "unknown",
      source: prover.redis.source,
    },
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      log({ type: "stopping", signal });
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await prover.close();
  log({ type: "stopped", ...prover.stats });
  return EXIT.ok;
}

/** Adds `verinfer prover` to the CLI. */
export function registerProverCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("prover")
    .description("prove jobs from a BullMQ proof queue on Redis until SIGTERM (one JSON line per event)")
    .option("--redis <url>", "redis:// or rediss:// URL (default $VERINFER_REDIS_URL)")
    .option(
      "--storage <dir>",
      "FsStorage directory holding model packages by CID (default $VERINFER_STORAGE or <cache>/objects)",
    )
    .option("--cache-dir <dir>", "this prover's cache (default $VERINFER_CACHE or ~/.cache/verinfer)")
    .option("--workers <n>", "prover threads = jobs taken at once (default: one per core)", int)
    .option("--queue <name>", "queue name (default verinfer-proofs)")
    .option("--name <name>", "name recorded on the jobs it takes (default host:pid)")
    .option("--lock-duration <ms>", "job lock; a dead prover's jobs are redelivered after it (default 30000)", int)
    .option("--stalled-interval <ms>", "how often to look for stalled jobs (default 30000)", int)
    .option("--max-stalled <n>", "redeliveries of a job before it fails (default 2)", int)
    .option("--job-timeout <ms>", "a proof past this fails with TIMEOUT (default 300000)", int)
    .option(
      "--allow-evicting-redis",
      "run on a Redis whose maxmemory-policy may evict keys (refused by default: evicted jobs are lost)",
    )
    .action(async (flags: ProverFlags) => setExit(await proverCommand(flags)));
}
