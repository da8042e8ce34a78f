import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { link, mkdir, open, rename, rm, stat, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { readUntrustedFile } from "./read-untrusted-file.js";

/**
 * What a lock file holds: who holds it (pid on which host, and the process's start time where the host tells it,
 * against pid reuse) and a token only its holder knows.
 */
const LockSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  token: z.string(),
  start: z.string().optional(),
});

/** A lock held by this process; see {@link tryFileLock}. */
export interface FileLock {
  /** Whether another process took the lock over (this one looked dead or stale to it), as of the last refresh. */
  readonly lost: boolean;
  /** Reads the lock file now: → whether it is still this holder's (check it before writing an outcome). */
  stillHeld(): Promise<boolean>;
  /** Removes the lock file if it is still this holder's. */
  release(): Promise<void>;
}

/** Options of {@link tryFileLock}. */
export interface FileLockOptions {
  /**
   * A lock of another host whose file was not touched for this long is taken over (its holder refreshes it every
   * `staleMs / 4`). On this host the holder's process decides, not the file's age: a live pid (of the same start
   * time, where /proc tells it) keeps its lock however late its refresh, a gone one loses it at once. Default
   * 120,000.
   */
  staleMs?: number;
}

/** Whether a process of this id runs on this host (one of another user's counts: `EPERM`). Internal. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or `undefined` where unknown. */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether the holder of a lock of this host is the live process that wrote it. */
function holderAlive(holder: z.infer<typeof LockSchema>): boolean {
  if (!isAlive(holder.pid)) return false;
  if (holder.start === undefined) return true;
  const now = startOf(holder.pid);
  return now === undefined || now === holder.start;
}

async function readLock(file: string): Promise<{ holder?: z.infer<typeof LockSchema>; mtimeMs: number } | undefined> {
  try {
    // Bounded, a regular file only: a FIFO or a huge file under the lock's name must not hang or flood the taker.
    const [bytes, info] = await Promise.all([readUntrustedFile(file, "lock file", { maxBytes: 64 << 10 }), stat(file)]);
    const text = bytes.toString("utf8");
    const parsed = LockSchema.safeParse(JSON.parse(text));
    return { ...(parsed.success ? { holder: parsed.data } : {}), mtimeMs: info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Unreadable or half written (its writer died between create and write): judged by its age alone.
    const info = await stat(file).catch(() => undefined);
    return info ? { mtimeMs: info.mtimeMs } : undefined;
  }
}

/**
 * Takes an exclusive lock between processes: a file created with `O_EXCL` (`wx`) holding the holder's pid, host
 * and a random token, refreshed (mtime) while held. A lock is taken over when its holder is a dead pid of this
 * host, or when its file went untouched for `staleMs`. The takeover renames the stale file aside and checks it
 * is the one judged stale (else puts it back), so two processes taking over one stale lock never both hold it.
 * → the lock, or `undefined` when a live holder has it.
 *
 * @example
 * ```ts
 * const lock = await tryFileLock(path.join(dir, `${id}.lock`));
 * if (lock) try { await work(); } finally { await lock.release(); }
 * ```
 */
export async function tryFileLock(file: string, options: FileLockOptions = {}): Promise<FileLock | undefined> {
  const staleMs = options.staleMs ?? 120_000;
  const token = randomBytes(16).toString("hex");
  const start = startOf(process.pid);
  const body = JSON.stringify({ pid: process.pid, host: os.hostname(), token, ...(start ? { start } : {}) });
  await mkdir(path.dirname(file), { recursive: true });
  for (let tries = 0; tries < 3; tries++) {
    try {
      const handle = await open(file, "wx", 0o600);
      try {
        await handle.writeFile(body);
      } finally {
        await handle.close();
      }
      return held(file, token, staleMs);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const seen = await readLock(file);
    if (!seen) continue;
    const { holder } = seen;
    const local = holder !== undefined && holder.host === os.hostname();
    if (local && holderAlive(holder)) return undefined;
    if (!local && Date.now() - seen.mtimeMs <= staleMs) return undefined;
    // Stale: move it aside (atomic: one taker wins) and check we moved the lock we judged.
    const aside = `${file}.stale-${token}`;
    try {
      await rename(file, aside);
    } catch {
      continue;
    }
    const moved = await readLock(aside);
    const same = moved?.holder?.token === holder?.token && (holder !== undefined || moved?.mtimeMs === seen.mtimeMs);
    if (!same) {
      // Another taker's fresh lock: put it back (link fails if the name was taken meanwhile).
      await link(aside, file).catch(() => undefined);
    }
    await rm(aside, { force: true });
    if (!same) return undefined;
  }
  return undefined;
}

function held(file: string, token: string, staleMs: number): FileLock {
  let lost = false;
  const mine = async () => (await readLock(file))?.holder?.token === token;
  const beat = setInterval(
    () => {
      void (async () => {
        if (!(await mine())) {
          lost = true;
          clearInterval(beat);
          return;
        }
        const now = new Date();
        await utimes(file, now, now).catch(() => undefined);
      })();
    },
    Math.max(50, Math.floor(staleMs / 4)),
  );
  beat.unref();
  return {
    get lost() {
      return lost;
    },
    async stillHeld() {
      if (!lost && !(await mine())) lost = true;
      return !lost;
    },
    async release() {
      clearInterval(beat);
      if (await mine()) await rm(file, { force: true });
    },
  };
}
