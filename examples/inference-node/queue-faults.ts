/**
 * Where the inference node turns what its proof queue's Redis does wrong into answers a client can act on — one
 * place, so that the queue's own typed errors (when it throws them) slot in here:
 *
 * - Redis unreachable: every queue call of a request is bounded ({@link withinDeadline}), and a call that does
 *   not answer in time, or fails with a connection error, is `UNAVAILABLE` ("redis unreachable": 503 +
 *   Retry-After). ioredis queues the commands of a lost connection until it is back (BullMQ's setting), so
 *   without a bound a request would hang as long as Redis is down.
 * - Redis that may evict jobs (`maxmemory-policy` other than `noeviction`): the queue refuses it with
 *   `REDIS_UNSAFE`, answered 503 + Retry-After with `reason "redis-unsafe"` (an operator must fix Redis).
 * - Redis out of memory (`maxmemory` with `noeviction` refuses writes): `OVERLOADED` with `meta.reason
 *   "redis-oom"` (503: the whole queue is full, not this node).
 *
 * @module
 */
import { isVerinferError, VerinferError } from "../../src/index.js";

/** Why a queue call failed, as the node reports it (`meta.reason` of the error). */
export type QueueFaultReason = "redis-unreachable" | "redis-oom" | "redis-unsafe";

const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"]);

function unreachable(cause?: unknown): VerinferError {
  return new VerinferError("UNAVAILABLE", "redis unreachable: the proof queue cannot take or report jobs now", {
    cause,
    meta: { reason: "redis-unreachable" satisfies QueueFaultReason },
  });
}

/**
 * The error a failed queue call is answered with: a Redis OOM refusal becomes `OVERLOADED` (`redis-oom`), a lost
 * connection `UNAVAILABLE` (`redis-unreachable`); a `VerinferError` and anything else pass unchanged.
 *
 * @example
 * ```ts
 * try { await queue.submit(job); } catch (error) { throw queueFault(error); }
 * ```
 */
export function queueFault(error: unknown): unknown {
  if (isVerinferError(error, "REDIS_UNSAFE") && error.meta?.reason === undefined) {
    return new VerinferError("REDIS_UNSAFE", error.shortMessage, {
      cause: error,
      ...(error.details ? { details: error.details } : {}),
      meta: { ...error.meta, reason: "redis-unsafe" satisfies QueueFaultReason },
    });
  }
  if (isVerinferError(error)) return error;
  const e = error as { message?: unknown; code?: unknown; name?: unknown } | undefined;
  const message = typeof e?.message === "string" ? e.message : "";
  if (/(^|[^A-Z])OOM command not allowed/.test(message)) {
    return new VerinferError("OVERLOADED", "the proof queue's Redis is out of memory and refuses new jobs", {
      cause: error,
      meta: { reason: "redis-oom" satisfies QueueFaultReason },
    });
  }
  if (
    (typeof e?.code === "string" && CONNECTION_ERRNOS.has(e.code)) ||
    e?.name === "MaxRetriesPerRequestError" ||
    /Connection is closed|Stream isn't writeable|connect ECONNREFUSED/.test(message)
  ) {
    return unreachable(error);
  }
  return error;
}

/**
 * Waits for a queue call at most `ms`; then rejects with `UNAVAILABLE` ("redis unreachable"), leaving the call
 * to finish or fail on its own. Its failure is mapped by {@link queueFault}.
 *
 * @example
 * ```ts
 * const stats = await withinDeadline(queue.stats(), 800);
 * ```
 */
export async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreachable()), ms);
  });
  // The call goes on after the deadline: its late failure must not be an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    throw queueFault(error);
  } finally {
    clearTimeout(timer);
  }
}
