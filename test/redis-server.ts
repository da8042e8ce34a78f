/**
 * A real `redis-server` (Debian package `redis-server`) started for one test file or benchmark: on a free
 * loopback port, with its own temporary directory, never a system Redis. Kept free of vitest so the benchmarks
 * under bench/ can use it too.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Turn the append-only file on (`appendfsync always`), so a restart keeps every acknowledged write. */
  persistent?: boolean;
  /** Require this password (`requirepass`). */
  password?: string;
  /**
   * Keep Redis's stock snapshot points (`save 3600 1 300 100 60 10000`, as Debian's redis.conf) instead of none:
   * a restart then loads the last snapshot, which a SIGKILL may leave far behind.
   */
  snapshots?: boolean;
  /** `maxmemory-policy` (default Redis's: `noeviction`). */
  maxmemoryPolicy?: string;
  /** `maxmemory` (e.g. `"64mb"`; default none). */
  maxmemory?: string;
  /** More arguments for redis-server (e.g. `["--rename-command", "CONFIG", ""]`). */
  args?: string[];
  /** Reuse this directory (and port) instead of new ones: how a restart finds its data again. */
  dir?: string;
  port?: number;
}

/** A running redis-server of a test. */
export interface RedisServer {
  port: number;
  dir: string;
  /** `redis://127.0.0.1:<port>` (with the password when there is one). */
  url: string;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 5 s); keeps its directory. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL (no shutdown save); keeps its directory. */
  kill9(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts redis-server in the foreground on 127.0.0.1 and resolves once it accepts connections.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer({ persistent: true });
 * // … createProofQueue({ connection: redis.url }) …
 * await redis.destroy();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), "verinfer-redis-")));
  const port = options.port ?? (await freePort());
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    ...(options.snapshots ? ["--save", "3600 1 300 100 60 10000"] : ["--save", ""]),
    "--daemonize",
    "no",
    "--protected-mode",
    "yes",
    "--loglevel",
    "warning",
    "--logfile",
    path.join(dir, "redis.log"),
  ];
  if (options.persistent) args.push("--appendonly", "yes", "--appendfsync", "always");
  if (options.password) args.push("--requirepass", options.password);
  if (options.maxmemoryPolicy) args.push("--maxmemory-policy", options.maxmemoryPolicy);
  if (options.maxmemory) args.push("--maxmemory", options.maxmemory);
  args.push(...(options.args ?? []));
  const child = spawn("redis-server", args, { stdio: "ignore" });
  // A test process that exits without its afterAll (a crash) must not leave its redis-server behind.
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  child.once("exit", () => process.off("exit", orphan));
  let early: (code: number | null) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error) =>
      reject(new Error(`cannot start redis-server (apt-get install redis-server): ${error.message}`)),
    );
    early = (code) => reject(new Error(`redis-server exited with ${code} before it listened`));
    child.once("exit", early);
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await Promise.race([ping(port), failed]);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not listen on ${port} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.off("exit", early);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited(child);
    clearTimeout(timer);
  };
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    port,
    dir,
    url: `redis://${auth}127.0.0.1:${port}`,
    pid: child.pid as number,
    stop,
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited(child);
    },
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether something on the port answers like Redis (any reply to PING, `-NOAUTH` included). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(/^[+-]/.test(data.toString())));
  });
}
