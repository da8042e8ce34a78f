import { constants } from "node:fs";
import { lstat, open } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";

/** Options of {@link readUntrustedFile}. */
export interface ReadUntrustedFileOptions {
  /** Largest file accepted, bytes: a larger one is refused from its size, before any byte is read. */
  maxBytes: number;
  /**
   * The directory the file must lie in. Every directory between `root` and the file must be a real directory
   * (not a symbolic link), so a link in the tree cannot lead the read outside it. `root` itself may be a link.
   */
  root?: string;
  /**
   * Follow a symbolic link that is the file itself (default false: a link is refused). Only for a path the user
   * named, never for a name found inside an untrusted directory.
   */
  followSymlink?: boolean;
}

// O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer; on a regular file it
// changes nothing. O_NOFOLLOW is absent on Windows, where an lstat before the open stands in (racy, but Windows
// has no FIFOs in the file system).
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

function refused(what: string, file: string, why: string, meta: Record<string, unknown> = {}): VerinferError {
  // The message names no path: a service may pass it on. The path is in meta.
  return new VerinferError("ARTIFACT_CORRUPT", `${what} ${why}`, { meta: { path: file, ...meta } });
}

/**
 * Reads a file from a directory nobody vouches for (an export, a storage directory someone sent): only a regular
 * file, never a FIFO, socket or device (which could block the reader forever or stream without end), never
 * through a symbolic link (which could make the reader hash and report one of its own files), and never more
 * than `maxBytes`. The file is opened first and its handle checked (`fstat`), so swapping the file between a
 * check and the read changes nothing.
 *
 * @param what - a name for messages ("object bafkrei…", "manifest.json").
 * @returns the file's bytes.
 * @throws VerinferError `ARTIFACT_CORRUPT` for a link, a non-regular file, or one over `maxBytes` (or growing
 *   while read); the file system's own error (ENOENT, EACCES, …) as it is, for the caller to map.
 * @example
 * ```ts
 * const bytes = await readUntrustedFile(path.join(dir, "ab", cid), "object", { maxBytes: ref.size, root: dir });
 * ```
 */
export async function readUntrustedFile(
  file: string,
  what: string,
  options: ReadUntrustedFileOptions,
): Promise<Buffer> {
  const follow = options.followSymlink === true;
  if (options.root !== undefined) {
    const root = path.resolve(options.root);
    const rel = path.relative(root, path.resolve(file));
    if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
      throw refused(what, file, "is not inside its directory");
    }
    let dir = root;
    for (const part of rel.split(path.sep).slice(0, -1)) {
      dir = path.join(dir, part);
      const info = await lstat(dir);
      if (!info.isDirectory()) throw refused(what, file, "lies under a path that is not a directory (a link?)");
    }
  }
  if (!follow && NOFOLLOW === 0 && (await lstat(file)).isSymbolicLink()) {
    throw refused(what, file, "is a symbolic link");
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | NONBLOCK | (follow ? 0 : NOFOLLOW));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ELOOP" && !follow) throw refused(what, file, "is a symbolic link");
    throw cause;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refused(what, file, "is not a regular file");
    if (info.size > options.maxBytes) {
      throw refused(what, file, `is ${info.size} bytes, over the ${options.maxBytes} expected`, { size: info.size });
    }
    const data = Buffer.allocUnsafe(info.size);
    let at = 0;
    while (at < data.byteLength) {
      const { bytesRead } = await handle.read(data, at, data.byteLength - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file that changes size while read is not what was checked.
    const { bytesRead: extra } = await handle.read(Buffer.alloc(1), 0, 1, at);
    if (at !== info.size || extra !== 0) throw refused(what, file, "changed size while it was read");
    return data;
  } finally {
    await handle.close();
  }
}
