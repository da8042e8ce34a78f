import { Redis, type RedisOptions } from "ioredis";
import { VerinferError } from "../errors.js";

/**
 * Where the proof queue's Redis is: a URL (`redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS),
 * or ioredis options (`{ host, port, password, tls, … }`) for anything a URL cannot say (a CA certificate, a
 * client certificate).
 */
export type RedisConnection = string | RedisOptions;

const DEFAULT_PORT = 6379;

/**
 * The ioredis options a Redis URL stands for: host, port (default 6379), `username` and `password` (percent-
 * decoded), database number from the path, and `tls` for `rediss://` (server certificate checked against the
 * system's CAs, with the URL's host as server name). Query parameters are refused rather than ignored: a
 * `?tls=false` that did nothing would be worse than an error.
 *
 * @throws VerinferError `INVALID_OPTIONS` for another scheme, a bad port or database, or a query string. The
 *   message never repeats the URL (it may hold a password).
 * @example
 * ```ts
 * redisOptionsFromUrl("rediss://:s3cret@redis.internal:6380/2");
 * // { host: "redis.internal", port: 6380, password: "s3cret", db: 2, tls: { servername: "redis.internal" } }
 * ```
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new VerinferError("INVALID_OPTIONS", "the Redis connection is not a URL", { cause });
  }
  const scheme = parsed.protocol;
  if (scheme !== "redis:" && scheme !== "rediss:") {
    throw new VerinferError("INVALID_OPTIONS", `a Redis URL starts with redis:// or rediss://, not ${scheme}//`);
  }
  if (parsed.search !== "" || parsed.hash !== "") {
    throw new VerinferError("INVALID_OPTIONS", "a Redis URL takes no query string or fragment", {
      details: "pass ioredis options instead of a URL for settings a URL cannot hold",
    });
  }
  // URL keeps IPv6 hosts in brackets; ioredis wants the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new VerinferError("INVALID_OPTIONS", "the Redis URL names no host");
  const port = parsed.port === "" ? DEFAULT_PORT : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new VerinferError("INVALID_OPTIONS", "the Redis URL's port is not in 1..65535");
  }
  const options: RedisOptions = { host, port };
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch (cause) {
      throw new VerinferError("INVALID_OPTIONS", `the Redis URL's ${what} is not percent-encoded UTF-8`, { cause });
    }
  };
  if (parsed.username !== "") options.username = decode(parsed.username, "user name");
  if (parsed.password !== "") options.password = decode(parsed.password, "password");
  const db = parsed.pathname.replace(/^\//, "");
  if (db !== "") {
    if (!/^\d{1,5}$/.test(db))
      throw new VerinferError("INVALID_OPTIONS", "the Redis URL's path is not a database number");
    options.db = Number(db);
  }
  if (scheme === "rediss:") options.tls = { servername: host };
  return options;
}

/** The ioredis options of a connection setting, URL or options. */
export function redisOptions(connection: RedisConnection): RedisOptions {
  if (typeof connection === "string") return redisOptionsFromUrl(connection);
  if (typeof connection !== "object" || connection === null) {
    throw new VerinferError("INVALID_OPTIONS", "connection must be a redis:// or rediss:// URL, or ioredis options");
  }
  return { ...connection };
}

/**
 * A new ioredis client for one BullMQ object. Each Queue, Worker and QueueEvents gets its own (a Worker and a
 * QueueEvents block on theirs); `maxRetriesPerRequest: null` is what BullMQ requires of them, so a command
 * waits for a lost Redis to come back instead of failing after 20 tries.
 */
export function connectRedis(options: RedisOptions, name: string): Redis {
  const client = new Redis({
    ...options,
    connectionName: name,
    maxRetriesPerRequest: null,
    // Reconnect quickly at first, then every 2 s at most: a restarted Redis is picked up within seconds.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  });
  // A lost connection is an "error" event on each reconnection attempt; ioredis prints those nobody listens to.
  // BullMQ reports them through its own objects' "error" events, which the queue and the prover listen to.
  client.on("error", () => undefined);
  return client;
}
