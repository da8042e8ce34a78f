/**
 * `verinfer prover` as a child process (the built dist/cli/main.js), with its JSON-lines log collected: what the
 * fault tests kill with SIGKILL and the cluster benchmark runs K of. Kept free of vitest for bench/.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Options of {@link spawnProver}. */
export interface ProverProcessOptions {
  redisUrl: string;
  storageDir: string;
  cacheDir: string;
  queue: string;
  name: string;
  workers?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalled?: number;
  env?: Record<string, string>;
  /** The built CLI; default `<repo>/dist/cli/main.js`. */
  cli?: string;
}

/** One line of a prover's log. */
export interface ProverLogLine {
  type: string;
  jobId?: string;
  [key: string]: unknown;
}

/** A running prover process. */
export interface ProverProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Every log line so far. */
  lines: ProverLogLine[];
  /** Resolves with the first line (so far or to come) that `match` accepts. */
  waitFor(match: (line: ProverLogLine) => boolean, timeoutMs?: number): Promise<ProverLogLine>;
  /** SIGKILL, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful: finishes its jobs), and wait for the exit; its exit code. */
  stop(): Promise<number | null>;
  readonly exited: boolean;
}

/**
 * Starts `verinfer prover` and resolves once it logs `ready`.
 *
 * @example
 * ```ts
 * const prover = await spawnProver({ redisUrl, storageDir, cacheDir, queue: "q", name: "a" });
 * await prover.waitFor((l) => l.type === "active");
 * await prover.kill9();
 * ```
 */
export async function spawnProver(options: ProverProcessOptions): Promise<ProverProcess> {
  const args = [
    options.cli ?? path.join(ROOT, "dist", "cli", "main.js"),
    "prover",
    "--redis",
    options.redisUrl,
    "--storage",
    options.storageDir,
    "--cache-dir",
    options.cacheDir,
    "--queue",
    options.queue,
    "--name",
    options.name,
    "--workers",
    String(options.workers ?? 1),
  ];
  if (options.lockDurationMs) args.push("--lock-duration", String(options.lockDurationMs));
  if (options.stalledIntervalMs) args.push("--stalled-interval", String(options.stalledIntervalMs));
  if (options.maxStalled !== undefined) args.push("--max-stalled", String(options.maxStalled));
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  child.once("exit", () => process.off("exit", orphan));
  const lines: ProverLogLine[] = [];
  const listeners = new Set<(line: ProverLogLine) => void>();
  let stderr = "";
  let buffer = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf("\n");
      try {
        const line = JSON.parse(text) as ProverLogLine;
        lines.push(line);
        for (const listener of listeners) listener(line);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const waitFor = (match: (line: ProverLogLine) => boolean, timeoutMs = 120_000) => {
    const found = lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise<ProverLogLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`prover ${options.name}: no matching log line in ${timeoutMs} ms; stderr: ${stderr}`));
      }, timeoutMs);
      const listener = (line: ProverLogLine) => {
        if (!match(line)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(line);
      };
      listeners.add(listener);
      void exit.then(() => {
        if (!listeners.has(listener)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        reject(new Error(`prover ${options.name} exited; stderr: ${stderr}`));
      });
    });
  };
  await waitFor((l) => l.type === "ready");
  return {
    name: options.name,
    child,
    pid: child.pid as number,
    lines,
    waitFor,
    get exited() {
      return exited;
    },
    kill9: async () => {
      if (!exited) child.kill("SIGKILL");
      await exit;
    },
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      return exit;
    },
  };
}
