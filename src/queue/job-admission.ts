/**
 * Atomic admission to a bounded queue, shared by every producer of the queue. Internal to src/queue.
 *
 * Counting the waiting jobs and then adding one is two round trips: producers that count at once all see room
 * and all add, and the queue passes `maxDepth`. BullMQ has no bound of its own, and its add script cannot be
 * extended, so admission is a reservation taken in one Lua script (run atomically by Redis) that counts BullMQ's
 * own waiting states plus the reservations in flight, and takes one only while the sum is under the bound. A
 * reservation is named by its job's id, and one whose job already exists in Redis is not counted (the job itself is,
 * in its state): between the add and the release the job counts once, not twice, so a submission arriving in that
 * moment is neither refused early nor admitted past the bound. A reservation carries an expiry, so a producer that
 * dies holding one frees it after `RESERVATION_MS`.
 *
 * @module
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** How long a reservation lasts if its producer never drops it (it died between reserve and add), ms. */
export const RESERVATION_MS = 30_000;

// KEYS: wait, paused, prioritized, delayed (BullMQ's waiting states), reservations (sorted set: job id → expiry).
// ARGV: maxDepth, job id, reservation ms, the queue's job-key prefix (a job's hash is prefix .. id).
// → { admitted (0|1), depth (jobs waiting, reservations of jobs not yet added included) }
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local depth = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2])
  + redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
  if redis.call('EXISTS', ARGV[4] .. id) == 0 then depth = depth + 1 end
end
if depth >= tonumber(ARGV[1]) then return {0, depth} end
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[5], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[5], ttl * 2)
return {1, depth}
`;

type AdmitCommand = (...args: (string | number)[]) => Promise<[number, number]>;

/** Admission of one queue (see the module's comment). */
export class JobAdmission {
  private readonly keys: string[];
  private readonly jobKeyPrefix: string;
  private readonly admit: AdmitCommand;

  constructor(
    queue: Queue,
    private readonly client: Redis,
  ) {
    this.keys = [
      queue.toKey("wait"),
      queue.toKey("paused"),
      queue.toKey("prioritized"),
      queue.toKey("delayed"),
      queue.toKey("verinfer-admitting"),
    ];
    this.jobKeyPrefix = queue.toKey("");
    if (!(client as unknown as { verinferAdmit?: unknown }).verinferAdmit) {
      client.defineCommand("verinferAdmit", { numberOfKeys: 5, lua: ADMIT });
    }
    const command = (client as unknown as { verinferAdmit: AdmitCommand }).verinferAdmit;
    this.admit = command.bind(client);
  }

  /**
   * Takes a place for the job `jobId` if fewer than `maxDepth` wait or are being added; → the reservation to
   * `release` once the job is added (or its add failed), or `undefined` and the depth seen when there is no room.
   */
  async reserve(jobId: string, maxDepth: number): Promise<{ reservation: string | undefined; depth: number }> {
    const [admitted, depth] = await this.admit(...this.keys, maxDepth, jobId, RESERVATION_MS, this.jobKeyPrefix);
    return { reservation: admitted === 1 ? jobId : undefined, depth };
  }

  /** Drops a reservation (its job is now counted in BullMQ's own states, or was never added). */
  async release(reservation: string): Promise<void> {
    await this.client.zrem(this.keys[4] as string, reservation);
  }
}
