// Storage faults an operator meets (disk full, read-only, permissions, a failing disk) become typed errors that
// name no path. chmod cannot provoke them here (tests may run as root, whom permissions do not stop), nor can a
// tmpfs without mounting one: the errno is injected into node:fs/promises, as the kernel would answer it.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { atomicWrite } from "../../src/storage/atomic-write.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { storageError } from "../../src/storage/storage-error.js";

/** The errno the next matching file system call fails with, and which calls match. */
const fault: { errno?: string; on?: "open" | "readFile" | "mkdir" | "rename" } = {};

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  const failing =
    <A extends unknown[], R>(name: typeof fault.on, fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      if (fault.errno && fault.on === name) {
        const error = Object.assign(new Error(`${fault.errno}: injected, ${name} '${String(args[0])}'`), {
          code: fault.errno,
          path: String(args[0]),
        });
        return Promise.reject(error);
      }
      return fn(...args);
    };
  const mocked = {
    ...real,
    open: failing("open", real.open),
    readFile: failing("readFile", real.readFile),
    mkdir: failing("mkdir", real.mkdir),
    rename: failing("rename", real.rename),
  };
  return { ...mocked, default: mocked };
});

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-storage-faults-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  fault.errno = undefined;
  fault.on = undefined;
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("storage faults", () => {
  it.each([
    ["ENOSPC", "open", "STORAGE_FULL"],
    ["EDQUOT", "open", "STORAGE_FULL"],
    ["EROFS", "open", "STORAGE_READONLY"],
    ["EROFS", "mkdir", "STORAGE_READONLY"],
    ["EACCES", "open", "STORAGE_DENIED"],
    ["EIO", "rename", "STORAGE_IO"],
  ] as const)("a put failing with %s (at %s) is %s, naming no path, leaving no file", async (errno, on, code) => {
    const dir = await tempDir();
    const storage = new FsStorage(path.join(dir, "objects"));
    fault.errno = errno;
    fault.on = on;
    const bytes = new TextEncoder().encode(`object of ${errno} ${on}`);
    const error = await storage.put(bytes).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVerinferError(error, code), String(error)).toBe(true);
    if (!isVerinferError(error)) return;
    expect(error.message).not.toContain(dir);
    expect(error.details ?? "").not.toContain(dir);
    expect(error.meta).toMatchObject({ errno });
    expect(String(error.meta?.path)).toContain(dir);
    // No half-written object or temporary file is left behind.
    fault.errno = undefined;
    const left = await readdir(path.join(dir, "objects"), { recursive: true }).catch(() => []);
    expect(left.filter((f) => !/^[a-z2-7]{2}$/.test(String(f)))).toEqual([]);
    // Once the fault is gone, the same put succeeds.
    expect(await storage.get(await storage.put(bytes))).toEqual(bytes);
  });

  it.each([
    ["EIO", "STORAGE_IO"],
    ["EACCES", "STORAGE_DENIED"],
  ] as const)("a get failing with %s is %s, naming no path", async (errno, code) => {
    const dir = await tempDir();
    const storage = new FsStorage(dir);
    const cid = await storage.put(new TextEncoder().encode("stored"));
    fault.errno = errno;
    // FsStorage.get opens the file itself (a regular file, no link: readUntrustedFile), then reads the handle.
    fault.on = "open";
    const error = await storage.get(cid).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVerinferError(error, code)).toBe(true);
    expect(String((error as Error).message)).not.toContain(dir);
    expect((error as Error).message).toContain(cid);
  });

  it("an atomic write to a full disk is STORAGE_FULL; a missing file stays what it is", async () => {
    const dir = await tempDir();
    fault.errno = "ENOSPC";
    fault.on = "open";
    const file = path.join(dir, "salts", "x.json");
    await expect(atomicWrite(file, "{}")).rejects.toMatchObject({ code: "STORAGE_FULL" });
    // Not a storage fault: passed on as Node's own error (callers map ENOENT to ARTIFACT_MISSING themselves).
    const enoent = Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    expect(storageError(enoent, { op: "read" })).toBe(enoent);
  });
});
