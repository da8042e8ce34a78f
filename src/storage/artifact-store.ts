import { lstat } from "node:fs/promises";
import path from "node:path";
import { isVerinferError, VerinferError } from "../errors.js";
import { cidFromSha256, sha256FromCid } from "./cid.js";
import { FsStorage } from "./fs-storage.js";
import { readUntrustedFile } from "./read-untrusted-file.js";
import { sha256Hex } from "./sha256-hex.js";

export { sha256Hex } from "./sha256-hex.js";

/** The sha256 hex a CID names, for error metadata (undefined when it is not such a CID). */
function hexOf(cid: unknown): string | undefined {
  try {
    return typeof cid === "string" ? sha256FromCid(cid) : undefined;
  } catch {
    return undefined;
  }
}

/** A stored artifact's address and size, as a model manifest names it. */
export interface ArtifactRef {
  /** CIDv1 (raw, sha2-256) of the bytes: the name every {@link Storage} and IPFS node knows them by. */
  cid: string;
  /** Lower-case hex sha256 of the bytes (the digest the CID holds). */
  sha256: string;
  size: number;
}

/** What reading an artifact needs: its hash and size (a manifest's refs also carry the CID). */
export type ArtifactAddress = Pick<ArtifactRef, "sha256" | "size"> & { cid?: string };

/**
 * A model cache's artifacts, kept in the cache's one content-addressed store: an {@link FsStorage} under
 * `<cacheDir>/objects` (the same store `defaultStorage(cacheDir)` opens for receipts), with the sizes and names
 * a model manifest states. Every read re-hashes the bytes, so a truncated or altered file is an
 * `ARTIFACT_CORRUPT` error, never returned as valid.
 *
 * Caches written before the store moved (`<cacheDir>/artifacts/sha256/<hex>`) still load: an object found only
 * there is hash-checked and copied into the store on first read.
 *
 * @example
 * ```ts
 * const store = new ArtifactStore(resolveCacheDir());
 * const ref = await store.put(bytes);     // { cid: "bafkrei…", sha256, size }
 * const same = await store.get(ref);
 * ```
 */
export class ArtifactStore {
  /** Directory of the objects (`<cacheDir>/objects`). */
  readonly root: string;
  /** The cache directory the store lives in. */
  readonly cacheDir: string;
  /** The content-addressed storage the artifacts are in. */
  readonly storage: FsStorage;

  constructor(cacheDir: string) {
    this.cacheDir = cacheDir;
    this.storage = new FsStorage(path.join(cacheDir, "objects"));
    this.root = this.storage.dir;
  }

  /** Path of the object with this hash. */
  pathOf(sha256: string): string {
    return this.storage.pathOf(cidFromSha256(sha256));
  }

  /** Stores bytes under their CID; a no-op when an intact copy already exists, a repair when a damaged one does. */
  async put(data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    // The storage hashes the bytes to name them; the CID holds that digest (a second hash of a large r1cs or zkey
    // cost as much again).
    const cid = await this.storage.put(bytes);
    return { cid, sha256: sha256FromCid(cid), size: bytes.byteLength };
  }

  /** Whether an object of this hash and size is present (without re-hashing it). */
  async has(ref: ArtifactAddress): Promise<boolean> {
    try {
      const info = await lstat(this.pathOf(ref.sha256));
      return info.isFile() && info.size === ref.size;
    } catch {
      return false;
    }
  }

  /**
   * Reads an object and checks its hash and size.
   *
   * @param what - a name for error messages ("zkey", "witness wasm", …).
   * @throws VerinferError `ARTIFACT_MISSING` or `ARTIFACT_CORRUPT`.
   */
  async get(ref: ArtifactAddress, what = "artifact"): Promise<Buffer> {
    const cid = cidFromSha256(ref.sha256);
    if (ref.cid !== undefined && ref.cid !== cid) {
      throw new VerinferError("ARTIFACT_CORRUPT", `${what}: its CID and sha256 name different objects`, {
        details: `cid ${ref.cid}, sha256 ${ref.sha256} (= ${cid})`,
      });
    }
    let bytes: Uint8Array;
    try {
      // The manifest's size bounds the read: a larger file in an export is refused before it is read.
      bytes = await this.storage.get(cid, { maxBytes: ref.size });
    } catch (error) {
      if (!isVerinferError(error, "ARTIFACT_MISSING")) {
        if (isVerinferError(error, "ARTIFACT_CORRUPT")) {
          // The message names the object, never the file (a service may pass it on); the path is in meta.
          throw new VerinferError("ARTIFACT_CORRUPT", `${what} ${ref.sha256} is corrupted`, {
            details: error.details ?? "",
            cause: error,
            meta: { ...error.meta, expected: ref.sha256, actual: hexOf(error.meta?.actual) },
          });
        }
        throw error;
      }
      bytes = await this.migrate(ref, cid, what, error);
    }
    const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (data.byteLength !== ref.size) {
      throw new VerinferError("ARTIFACT_CORRUPT", `${what} ${ref.sha256} is corrupted`, {
        details: `expected ${ref.size} bytes, found ${data.byteLength} with the right hash: the manifest's size is wrong`,
        meta: { expected: ref.sha256, path: this.pathOf(ref.sha256) },
      });
    }
    return data;
  }

  /** Reads an object from the pre-`objects/` layout and moves a copy into the store. */
  private async migrate(ref: ArtifactAddress, cid: string, what: string, notFound: VerinferError): Promise<Uint8Array> {
    const legacy = path.join(this.cacheDir, "artifacts", "sha256", ref.sha256);
    let data: Buffer;
    try {
      data = await readUntrustedFile(legacy, `${what} ${ref.sha256}`, {
        maxBytes: ref.size,
        root: path.join(this.cacheDir, "artifacts"),
      });
    } catch (cause) {
      if (isVerinferError(cause, "ARTIFACT_CORRUPT")) throw cause;
      throw new VerinferError("ARTIFACT_MISSING", `${what} ${ref.sha256} is not in the artifact store`, {
        cause: notFound,
        meta: { path: this.pathOf(ref.sha256), cid },
      });
    }
    const actual = sha256Hex(data);
    if (actual !== ref.sha256) {
      throw new VerinferError("ARTIFACT_CORRUPT", `${what} ${ref.sha256} is corrupted`, {
        details: `expected sha256 ${ref.sha256} (${ref.size} bytes), found ${actual} (${data.byteLength} bytes)`,
        meta: { expected: ref.sha256, actual, path: legacy },
      });
    }
    await this.storage.put(data);
    return data;
  }
}
