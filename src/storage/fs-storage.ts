import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";
import { atomicWrite } from "./atomic-write.js";
import { resolveCacheDir } from "./cache-dir.js";
import { cidOf, parseCid } from "./cid.js";
import type { Storage } from "./storage.js";
import { isStorageFault, storageError } from "./storage-error.js";

const SHARD = /^[a-z2-7]{2}$/;

/**
 * {@link Storage} on the file system: `<dir>/<shard>/<cid>`, the shard being the two characters before the
 * CID's last (as IPFS's flatfs does), so no directory grows past a few thousand entries per million objects.
 * Writes are atomic (temporary file, fsync, rename), so concurrent writers of the same object — threads or
 * processes — each leave one complete copy; every read re-hashes, so a truncated or altered file is an
 * `ARTIFACT_CORRUPT` error and a later `put` of the right bytes repairs it.
 *
 * @example
 * ```ts
 * const storage = new FsStorage(path.join(cacheDir, "objects"));   // or defaultStorage()
 * const cid = await storage.put(new TextEncoder().encode("hello"));
 * ```
 */
export class FsStorage implements Storage {
  /** Directory holding the objects. */
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  /**
   * Path of the object with this CID.
   *
   * @throws VerinferError `INVALID_INPUT` for a malformed CID.
   */
  pathOf(cid: string): string {
    const name = parseCid(cid).toString();
    return path.join(this.dir, name.slice(-3, -1), name);
  }

  /**
   * Stores bytes under their CID; a no-op when an intact copy exists, a repair when a damaged one does.
   *
   * @throws VerinferError `STORAGE_FULL`, `STORAGE_READONLY`, `STORAGE_DENIED`, `STORAGE_IO` when the file
   *   system refuses the write (no path in the message).
   */
  async put(bytes: Uint8Array): Promise<string> {
    if (!(bytes instanceof Uint8Array)) throw new VerinferError("INVALID_INPUT", "put takes a Uint8Array");
    const cid = cidOf(bytes);
    const intact = await this.get(cid).then(
      () => true,
      () => false,
    );
    // atomicWrite copies nothing the caller could change later: the bytes are on disk when it resolves.
    if (!intact) await atomicWrite(this.pathOf(cid), bytes);
    return cid;
  }

  /**
   * Reads an object and checks its hash against the CID.
   *
   * @throws VerinferError `INVALID_INPUT` (malformed CID), `ARTIFACT_MISSING`, `ARTIFACT_CORRUPT`;
   *   `STORAGE_DENIED` / `STORAGE_IO` when the file system refuses the read or fails; `INTERNAL` for another
   *   refusal (too many open files). Messages never name a path (`meta.path` holds the file's).
   */
  async get(cid: string): Promise<Uint8Array> {
    const parsed = parseCid(cid);
    const file = this.pathOf(cid);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      // Messages name the object, never the file: a service passes them on to its clients. The path is in meta.
      const meta = { path: file };
      if (code === "ENOENT" || code === "ENOTDIR") {
        throw new VerinferError("ARTIFACT_MISSING", `object ${parsed} is not in this storage`, { cause, meta });
      }
      if (code === "EISDIR") {
        throw new VerinferError("ARTIFACT_CORRUPT", `object ${parsed} is a directory`, { cause, meta });
      }
      const typed = storageError(cause, { op: "read", what: `object ${parsed}`, path: file });
      if (isStorageFault(typed)) throw typed;
      throw new VerinferError("INTERNAL", `cannot read object ${parsed} (${code ?? "read error"})`, { cause, meta });
    }
    const actual = createHash("sha256").update(data).digest();
    if (!actual.equals(parsed.multihash.digest)) {
      throw new VerinferError("ARTIFACT_CORRUPT", `object ${parsed} is corrupted`, {
        details: `its ${data.byteLength} bytes hash to ${cidOf(data)}`,
        meta: { expected: parsed.toString(), actual: cidOf(data), size: data.byteLength, path: file },
      });
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Whether a file is stored under this CID (without re-hashing it).
   *
   * @throws VerinferError `INVALID_INPUT` for a malformed CID.
   */
  async has(cid: string): Promise<boolean> {
    const file = this.pathOf(cid);
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  }

  /** The CIDs of the stored objects (temporary files of unfinished writes are skipped). */
  async *list(): AsyncIterable<string> {
    let shards: string[];
    try {
      shards = await readdir(this.dir);
    } catch {
      return;
    }
    for (const shard of shards.sort()) {
      if (!SHARD.test(shard)) continue;
      let names: string[];
      try {
        names = await readdir(path.join(this.dir, shard));
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        if (name.slice(-3, -1) !== shard || name.includes(".")) continue;
        try {
          if (parseCid(name).toString() === name) yield name;
        } catch {
          // not an object of this store
        }
      }
    }
  }
}

/**
 * The default storage: an {@link FsStorage} under `<cacheDir>/objects` (cache directory as `resolveCacheDir`).
 *
 * @example
 * ```ts
 * const storage = defaultStorage(); // ~/.cache/verinfer/objects
 * ```
 */
export function defaultStorage(cacheDir?: string): FsStorage {
  return new FsStorage(path.join(resolveCacheDir(cacheDir), "objects"));
}
