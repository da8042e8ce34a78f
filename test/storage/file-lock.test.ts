// The per-job lock of deferred proofs (src/storage/file-lock.ts): one holder at a time, a dead or stale holder's
// lock taken over, a live one's respected.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tryFileLock } from "../../src/storage/file-lock.js";

const dirs: string[] = [];
async function lockPath(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-lock-"));
  dirs.push(dir);
  return path.join(dir, "job.lock");
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ["-e", ""]);
  await new Promise((r) => child.on("exit", r));
  return child.pid as number;
}

describe("file lock", () => {
  it("gives the lock to one of many takers at once, and again once released", async () => {
    const file = await lockPath();
    const locks = await Promise.all(Array.from({ length: 8 }, () => tryFileLock(file)));
    const held = locks.filter((l) => l !== undefined);
    expect(held).toHaveLength(1);
    expect(await tryFileLock(file)).toBeUndefined();
    await held[0]?.release();
    const next = await tryFileLock(file);
    expect(next).toBeDefined();
    await next?.release();
  });

  it("respects a live holder's fresh lock, takes over a dead holder's at once and anyone's stale one", async () => {
    const file = await lockPath();
    const write = (pid: number, host = os.hostname()) =>
      writeFile(file, JSON.stringify({ pid, host, token: "theirs" }), { flag: "w" });
    await write(process.ppid);
    expect(await tryFileLock(file)).toBeUndefined();

    await write(await deadPid());
    const fromDead = await tryFileLock(file);
    expect(fromDead).toBeDefined();
    expect(JSON.parse(await readFile(file, "utf8")).pid).toBe(process.pid);
    await fromDead?.release();

    // A live pid on another host cannot be asked: its lock is stale once untouched for staleMs.
    await write(process.ppid, "another-host");
    expect(await tryFileLock(file, { staleMs: 60_000 })).toBeUndefined();
    const old = new Date(Date.now() - 120_000);
    await utimes(file, old, old);
    const fromStale = await tryFileLock(file, { staleMs: 60_000 });
    expect(fromStale).toBeDefined();
    await fromStale?.release();
  });

  it("knows it lost a lock another process took over, and leaves that process's lock in place on release", async () => {
    const file = await lockPath();
    const mine = await tryFileLock(file, { staleMs: 200 });
    expect(mine).toBeDefined();
    await writeFile(file, JSON.stringify({ pid: process.ppid, host: os.hostname(), token: "theirs" }));
    await new Promise((r) => setTimeout(r, 400));
    expect(mine?.lost).toBe(true);
    await mine?.release();
    expect(JSON.parse(await readFile(file, "utf8")).token).toBe("theirs");
  });
});
