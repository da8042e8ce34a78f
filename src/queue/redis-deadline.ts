/**
 * Redis trouble as typed, retryable errors within a bounded wait. The queue's clients wait for a lost Redis to
 * come back (BullMQ requires `maxRetriesPerRequest: null`), so a command sent while Redis is down would hang until
 * it returns: a producer bounds each operation instead, and answers `UNAVAILABLE`; a Redis out of memory
 * (`maxmemory` reached under `noeviction`) answers `OVERLOADED`. Internal to src/queue.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { isVerinferError, VerinferError } from "../errors.js";

/** Seconds a client should wait before retrying after `UNAVAILABLE` or a Redis OOM. */
export const REDIS_RETRY_AFTER_S = 5;

function unavailable(what: string, waitedMs: number, cause?: unknown): VerinferError {
  return new VerinferError("UNAVAILABLE", `Redis did not answer ${what} within ${waitedMs} ms`, {
    details: "the queue's Redis is down or unreachable; the operation can be retried once it is back",
    meta: { reason: "redis-unreachable", retryable: true, retryAfterS: REDIS_RETRY_AFTER_S },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A Redis error as a verinfer error: OOM → `OVERLOADED`, a lost connection → `UNAVAILABLE`; else as is. */
export function redisFailure(error: unknown, what: string, waitedMs: number): unknown {
  if (isVerinferError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/^OOM\b/.test(message) || message.includes("OOM command not allowed")) {
    return new VerinferError("OVERLOADED", "Redis is out of memory (maxmemory reached)", {
      details: "Redis refuses writes until memory frees up: retry later, or raise maxmemory",
      meta: { reason: "redis-oom", retryable: true, retryAfterS: REDIS_RETRY_AFTER_S },
      cause: error,
    });
  }
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Connection is closed|Stream isn't writeable/.test(message)) {
    return unavailable(what, waitedMs, error);
  }
  return error;
}

const readyWaits = new WeakMap<object, Promise<void>>();

/** Resolves when the client is ready again; one listener per client however many operations wait. */
function whenReady(client: Pick<Redis, "once">): Promise<void> {
  let ready = readyWaits.get(client);
  if (!ready) {
    ready = new Promise<void>((resolve) =>
      client.once("ready", () => {
        readyWaits.delete(client);
        resolve();
      }),
    );
    readyWaits.set(client, ready);
  }
  return ready;
}

/**
 * Runs `run` against Redis, giving up after `timeoutMs`: waits for the client to be ready first (within the same
 * budget), and turns Redis's own errors into typed ones. A command still queued when the deadline passes may run
 * later, when Redis returns: callers only use this for operations that are safe to repeat.
 *
 * @throws VerinferError `UNAVAILABLE` (retryable) past the deadline; `OVERLOADED` for a Redis OOM.
 */
export async function withRedisDeadline<T>(
  client: Pick<Redis, "status" | "once">,
  what: string,
  timeoutMs: number,
  run: () => Promise<T>,
): Promise<T> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(what, Date.now() - start)), timeoutMs);
  });
  deadline.catch(() => undefined);
  try {
    if (client.status !== "ready") await Promise.race([whenReady(client), deadline]);
    const work = run();
    work.catch(() => undefined);
    return await Promise.race([work, deadline]);
  } catch (error) {
    throw redisFailure(error, what, Date.now() - start);
  } finally {
    clearTimeout(timer);
  }
}
