import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { storageError } from "./storage-error.js";

/**
 * Writes a file atomically: the bytes go to a temporary file in the same directory, are flushed to disk, and
 * only then renamed over the target. A crash mid-write leaves at most a stray `.tmp-*` file, never a partial
 * target.
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
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw storageError(error, { op: "write a file", path: file });
  }
}
