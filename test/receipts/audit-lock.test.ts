// Security/operations audit of issue 18 (branch faults-node): the deferred proofs' per-job lock (tryFileLock).
//
// FIXED (failed on faults-node @ b5a40af; passes on faults-fix):
//   - "a live holder on this host keeps its lock however late its refresh": a holder whose event loop
//     stalls past staleMs (a long synchronous witness computation, SIGSTOP, a swapped-out process on a loaded
//     machine) loses its lock while it is still proving; deferred-proofs never reads `lock.lost`, so the old
//     holder finishes its proof too and both write jobs/done/<id>.json (two proofs of one job, the caller of the
//     first holding a receipt the file no longer has). Now a live pid of the lock's host (same start time) holds,
//     and a holder checks the lock (`stillHeld`) before writing an outcome.
// HELD (pass): a lock whose holder is a dead pid of this host is taken over at once, and only once.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tryFileLock } from "../../src/storage/file-lock.js";
import { tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-audit-lock-");

/** A lock file as a holder that is alive but has not refreshed it for `ageMs` would leave it. */
async function staleLiveLock(file: string, pid: number, ageMs: number): Promise<void> {
  await writeFile(file, JSON.stringify({ pid, host: os.hostname(), token: randomBytes(16).toString("hex") }), {
    mode: 0o600,
  });
  const then = new Date(Date.now() - ageMs);
  await utimes(file, then, then);
}

describe("audit: the deferred proofs' lock", () => {
  it("a live holder on this host keeps its lock however late its refresh (attack: stale mtime)", async () => {
    // The holder: a live process of this host (here a sleeping child), stalled past staleMs.
    const holder = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const file = path.join(await tempDir(), "job.lock");
      await staleLiveLock(file, holder.pid as number, 5_000);
      const taker = await tryFileLock(file, { staleMs: 1_000 });
      await taker?.release();
      // On the lock's own host a live pid (checked with its start time, against pid reuse) holds the lock;
      // staleness decides only for another host's holder — and a holder checks the lock before writing its outcome.
      expect(taker).toBeUndefined();
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("a holder whose lock was taken over learns it before writing an outcome (stillHeld)", async () => {
    const file = path.join(await tempDir(), "job.lock");
    const lock = await tryFileLock(file, { staleMs: 60_000 });
    expect(await lock?.stillHeld()).toBe(true);
    // Another process's lock under the name now (a takeover between two refreshes).
    await staleLiveLock(file, process.pid, 0);
    expect({ held: await lock?.stillHeld(), lost: lock?.lost }).toEqual({ held: false, lost: true });
    await lock?.release();
  });

  it("HELD: a dead holder's lock is taken over at once, by one of two takers", async () => {
    const dead = spawn("true", [], { stdio: "ignore" });
    await new Promise((r) => dead.once("exit", r));
    const file = path.join(await tempDir(), "job.lock");
    await staleLiveLock(file, dead.pid as number, 0);
    const [a, b] = await Promise.all([tryFileLock(file), tryFileLock(file)]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    await a?.release();
    await b?.release();
  });
});
