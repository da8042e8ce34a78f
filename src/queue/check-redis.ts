/**
 * What verinfer requires of the Redis its proof queue runs on, read at start: the eviction policy (an evicting
 * Redis drops jobs silently) and persistence (without the append-only file a restart loses what Redis held).
 *
 * @module
 */
import type { Redis } from "ioredis";
import { VerinferError } from "../errors.js";

/**
 * What a proof queue's Redis says about itself, as {@link checkRedis} and `queue.redisHealth()` report it — what
 * an inference node puts on `/health` and in its metrics.
 */
export interface RedisHealth {
  /** Whether Redis answered within the check's time limit. */
  reachable: boolean;
  /** `maxmemory-policy` (`noeviction`, `allkeys-lru`, …), or `"unknown"` when neither CONFIG nor INFO tells. */
  maxmemoryPolicy: string;
  /** Whether Redis may evict keys: any policy but `noeviction`. `undefined` when the policy is unknown. */
  evicting: boolean | undefined;
  /** `maxmemory` in bytes (0: no limit), or `undefined` when unknown. */
  maxmemory: number | undefined;
  /** Whether the append-only file is on. `undefined` when unknown. */
  appendonly: boolean | undefined;
  /** Where the settings were read: `CONFIG GET`, `INFO` (CONFIG disabled or renamed), or nowhere. */
  source: "config" | "info" | "none";
  /** Round trip of the check, ms. */
  latencyMs: number;
  /** When the check ran (ISO 8601). */
  checkedAt: string;
  /** What is wrong or unknown, one line each (`REDIS_EVICTING`, `REDIS_NOT_PERSISTENT`, `REDIS_SETTINGS_UNKNOWN`). */
  warnings: RedisWarning[];
  /** Why Redis was unreachable (no URL or password in it). */
  error?: string;
}

/** One thing {@link checkRedis} found wrong or could not tell. */
export interface RedisWarning {
  code: "REDIS_EVICTING" | "REDIS_NOT_PERSISTENT" | "REDIS_SETTINGS_UNKNOWN";
  message: string;
}

/** Options of {@link checkRedis}. */
export interface CheckRedisParams {
  /** An ioredis client of the queue's Redis (it is not closed). */
  client: Pick<Redis, "call" | "status">;
  /** Give up after this long (ms) and report `reachable: false`. Default 1,000. */
  timeoutMs?: number;
}

function field(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, "m").exec(info);
  return match?.[1]?.trim();
}

async function configValue(client: CheckRedisParams["client"], name: string): Promise<string> {
  const reply = (await client.call("CONFIG", "GET", name)) as unknown;
  if (!Array.isArray(reply) || reply.length < 2 || typeof reply[1] !== "string") {
    throw new Error(`CONFIG GET ${name}: unexpected reply`);
  }
  return reply[1];
}

async function readSettings(
  client: CheckRedisParams["client"],
): Promise<Pick<RedisHealth, "maxmemoryPolicy" | "maxmemory" | "appendonly" | "source">> {
  try {
    const [policy, maxmemory, appendonly] = [
      await configValue(client, "maxmemory-policy"),
      await configValue(client, "maxmemory"),
      await configValue(client, "appendonly"),
    ];
    return {
      maxmemoryPolicy: policy,
      maxmemory: Number(maxmemory),
      appendonly: appendonly === "yes",
      source: "config",
    };
  } catch (error) {
    if (isConnectionError(error)) throw error;
    // CONFIG is often disabled or renamed on managed Redis; INFO (which BullMQ itself needs) says the same.
  }
  try {
    const memory = String(await client.call("INFO", "memory"));
    const persistence = String(await client.call("INFO", "persistence"));
    const policy = field(memory, "maxmemory_policy");
    const maxmemory = field(memory, "maxmemory");
    const aof = field(persistence, "aof_enabled");
    return {
      maxmemoryPolicy: policy ?? "unknown",
      maxmemory: maxmemory === undefined ? undefined : Number(maxmemory),
      appendonly: aof === undefined ? undefined : aof === "1",
      source: policy === undefined && aof === undefined ? "none" : "info",
    };
  } catch (error) {
    if (isConnectionError(error)) throw error;
    return { maxmemoryPolicy: "unknown", maxmemory: undefined, appendonly: undefined, source: "none" };
  }
}

/** A reply error (`ERR unknown command`, `NOPERM`) is an answer; anything else means Redis did not answer. */
function isConnectionError(error: unknown): boolean {
  return !(error instanceof Error && error.name === "ReplyError");
}

/**
 * Reads Redis's `maxmemory-policy`, `maxmemory` and `appendonly` (with `CONFIG GET`; with `INFO` when CONFIG is
 * disabled or renamed; `"unknown"` when neither answers) within `timeoutMs`, and lists what is wrong. Never throws:
 * an unreachable Redis is `reachable: false`, so a health endpoint can call it while Redis is down.
 *
 * @example
 * ```ts
 * const health = await checkRedis({ client: redis, timeoutMs: 1_000 });
 * if (health.evicting) console.warn(health.warnings);
 * ```
 */
export async function checkRedis(params: CheckRedisParams): Promise<RedisHealth> {
  const start = performance.now();
  const checkedAt = new Date().toISOString();
  const timeoutMs = params.timeoutMs ?? 1_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    if (params.client.status === "end") throw new Error("the Redis connection is closed");
    const settings = await Promise.race([readSettings(params.client), timeout]);
    const evicting = settings.maxmemoryPolicy === "unknown" ? undefined : settings.maxmemoryPolicy !== "noeviction";
    const warnings: RedisWarning[] = [];
    if (evicting) {
      warnings.push({
        code: "REDIS_EVICTING",
        message: `maxmemory-policy is ${settings.maxmemoryPolicy}: Redis may evict queued jobs (set noeviction)`,
      });
    }
    if (settings.appendonly === false) {
      warnings.push({
        code: "REDIS_NOT_PERSISTENT",
        message: "appendonly is off: a Redis restart loses what it held since its last snapshot (set appendonly yes)",
      });
    }
    if (evicting === undefined || settings.appendonly === undefined) {
      warnings.push({
        code: "REDIS_SETTINGS_UNKNOWN",
        message: "neither CONFIG GET nor INFO tells maxmemory-policy / appendonly: eviction and persistence unchecked",
      });
    }
    return { reachable: true, ...settings, evicting, warnings, latencyMs: performance.now() - start, checkedAt };
  } catch (error) {
    return {
      reachable: false,
      maxmemoryPolicy: "unknown",
      evicting: undefined,
      maxmemory: undefined,
      appendonly: undefined,
      source: "none",
      warnings: [],
      latencyMs: performance.now() - start,
      checkedAt,
      error: error instanceof Error ? error.message.slice(0, 300) : "unreachable",
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The typed refusal of an evicting Redis, unless the caller opted in; an unreachable Redis is
 * `UNAVAILABLE`. Internal to src/queue.
 */
export function assertRedisUsable(health: RedisHealth, allowEviction: boolean): void {
  if (!health.reachable) {
    throw new VerinferError("UNAVAILABLE", "Redis is unreachable", {
      ...(health.error ? { details: health.error } : {}),
      meta: { reason: "redis-unreachable", retryable: true },
    });
  }
  if (health.evicting && !allowEviction) {
    throw new VerinferError(
      "REDIS_UNSAFE",
      `Redis's maxmemory-policy is ${health.maxmemoryPolicy}: it may evict jobs`,
      {
        details:
          "set maxmemory-policy noeviction (BullMQ requires it), or pass allowEvictingRedis: true " +
          "(--allow-evicting-redis) to run anyway; the producer's records then re-add what Redis drops",
        meta: { maxmemoryPolicy: health.maxmemoryPolicy },
      },
    );
  }
}
