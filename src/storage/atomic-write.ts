import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { storageError } from "./storage-error.js";

/**
 * Writes a file atomically: the bytes go to a temporary file in the same directory, are flushed to disk, and
 * only then renamed over the target, and the directory is flushed after the rename (so the new name survives an
 * operating-system crash or power loss, not only a killed process). A crash mid-write leaves at most a stray
 * `.tmp-*` file, never a partial target.
 *
 * @throws VerinferError `STORAGE_FULL`, `STORAGE_READONLY`, `STORAGE_DENIED`, `STORAGE_IO` when the file system
 *   refuses the write (see `storageError`: no path in the message, the file in `meta.path`); other file system
 *   errors as Node throws them.
 */
export async function atomicWrite(file: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(tmp, "w", mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    await syncDirectory(path.dirname(file));
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw storageError(error, { op: "write a file", path: file });
  }
}

/** Flushes a directory's entries; where directories cannot be opened for that (Windows), the rename stands as is. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, "r");
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot sync a directory (EINVAL, EISDIR on a few); the data itself was synced above.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "EBADF") throw error;
  } finally {
    await handle.close();
  }
}
