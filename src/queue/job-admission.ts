/**
 * Atomic admission to a bounded queue, shared by every producer of the queue. Internal to src/queue.
 *
 * Counting the waiting jobs and then adding one is two round trips: producers that count at once all see room
 * and all add, and the queue passes `maxDepth`. BullMQ has no bound of its own, and its add script cannot be
 * extended, so admission is a reservation taken in one Lua script (run atomically by Redis) that counts BullMQ's
 * own waiting states plus the reservations in flight, and takes one only while the sum is under the bound. The
 * producer then adds the job and drops its reservation: between the two the job counts twice, which can only
 * refuse a submission early, never admit one too many. A reservation carries an expiry, so a producer that dies
 * holding one frees it after `RESERVATION_MS`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";

/** How long a reservation lasts if its producer never drops it (it died between reserve and add), ms. */
export const RESERVATION_MS = 30_000;

// KEYS: wait, paused, prioritized, delayed (BullMQ's waiting states), reservations (sorted set: member → expiry).
// ARGV: maxDepth, member, reservation ms.  → { admitted (0|1), depth (jobs waiting, reservations included) }
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local depth = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2])
  + redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4]) + redis.call('ZCARD', KEYS[5])
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
    if (!(client as unknown as { verinferAdmit?: unknown }).verinferAdmit) {
      client.defineCommand("verinferAdmit", { numberOfKeys: 5, lua: ADMIT });
    }
    const command = (client as unknown as { verinferAdmit: AdmitCommand }).verinferAdmit;
    this.admit = command.bind(client);
  }

  /**
   * Takes a place for one job if fewer than `maxDepth` wait or are being added; → the reservation to `release`
   * once the job is added (or its add failed), or `undefined` and the depth seen when there is no room.
   */
  async reserve(maxDepth: number): Promise<{ reservation: string | undefined; depth: number }> {
    const member = randomBytes(12).toString("hex");
    const [admitted, depth] = await this.admit(...this.keys, maxDepth, member, RESERVATION_MS);
    return { reservation: admitted === 1 ? member : undefined, depth };
  }

  /** Drops a reservation (its job is now counted in BullMQ's own states, or was never added). */
  async release(reservation: string): Promise<void> {
    await this.client.zrem(this.keys[4] as string, reservation);
  }
}
