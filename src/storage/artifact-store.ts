import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";
import { atomicWrite } from "./atomic-write.js";

/** A stored artifact's address and size. */
export interface ArtifactRef {
  /** Lower-case hex sha256 of the bytes. */
  sha256: string;
  size: number;
}

/** sha256 of bytes as lower-case hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Content-addressed artifact storage on the file system: `<root>/sha256/<hex>`. Writes are atomic, reads
 * re-hash the bytes, so a truncated or altered file is an `ARTIFACT_CORRUPT` error, never returned as valid.
 *
 * @example
 * ```ts
 * const store = new ArtifactStore(resolveCacheDir());
 * const ref = await store.put(bytes);
 * const same = await store.get(ref);
 * ```
 */
export class ArtifactStore {
  /** Root directory of the store. */
  readonly root: string;
  /** The cache directory the store lives in. */
  readonly cacheDir: string;

  constructor(cacheDir: string) {
    this.cacheDir = cacheDir;
    this.root = path.join(cacheDir, "artifacts");
  }

  /** Path of the object with this hash. */
  pathOf(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new VerinferError("INVALID_INPUT", `not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    }
    return path.join(this.root, "sha256", sha256);
  }

  /** Stores bytes under their hash; a no-op when an intact copy already exists, a repair when a damaged one does. */
  async put(data: Uint8Array | string): Promise<ArtifactRef> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const ref = { sha256: sha256Hex(bytes), size: bytes.byteLength };
    const intact = await this.get(ref).then(
      () => true,
      () => false,
    );
    if (!intact) await atomicWrite(this.pathOf(ref.sha256), bytes);
    return ref;
  }

  /** Whether an object of this hash and size is present (without re-hashing it). */
  async has(ref: ArtifactRef): Promise<boolean> {
    try {
      return (await stat(this.pathOf(ref.sha256))).size === ref.size;
    } catch {
      return false;
    }
  }

  /**
   * Reads an object and checks its hash.
   *
   * @param what - a name for error messages ("zkey", "witness wasm", …).
   * @throws VerinferError `ARTIFACT_MISSING` or `ARTIFACT_CORRUPT`.
   */
  async get(ref: ArtifactRef, what = "artifact"): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.pathOf(ref.sha256));
    } catch (cause) {
      // The message names the object, never the file (a service may pass it on); the path is in meta.
      throw new VerinferError("ARTIFACT_MISSING", `${what} ${ref.sha256} is not in the artifact store`, {
        cause,
        meta: { path: this.pathOf(ref.sha256) },
      });
    }
    const actual = sha256Hex(data);
    if (actual !== ref.sha256 || data.byteLength !== ref.size) {
      throw new VerinferError("ARTIFACT_CORRUPT", `${what} ${ref.sha256} is corrupted`, {
        details: `expected sha256 ${ref.sha256} (${ref.size} bytes), found ${actual} (${data.byteLength} bytes)`,
        meta: { expected: ref.sha256, actual, path: this.pathOf(ref.sha256) },
      });
    }
    return data;
  }
}
