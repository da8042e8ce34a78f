import { VerinferError } from "../errors.js";
import { cidOf, parseCid } from "./cid.js";
import type { Storage } from "./storage.js";

/**
 * {@link Storage} in memory, for tests and short-lived nodes. Bytes are copied on the way in and out, so a
 * caller cannot alter a stored object through an array it passed in or got back.
 *
 * @example
 * ```ts
 * const storage = new MemoryStorage();
 * const cid = await storage.put(new Uint8Array([1, 2, 3]));
 * ```
 */
export class MemoryStorage implements Storage {
  private readonly objects = new Map<string, Uint8Array>();

  /** Stores a copy of the bytes under their CID. */
  async put(bytes: Uint8Array): Promise<string> {
    if (!(bytes instanceof Uint8Array)) throw new VerinferError("INVALID_INPUT", "put takes a Uint8Array");
    const cid = cidOf(bytes);
    if (!this.objects.has(cid)) this.objects.set(cid, Uint8Array.from(bytes));
    return cid;
  }

  /**
   * A copy of the object's bytes.
   *
   * @throws VerinferError `INVALID_INPUT` (malformed CID) or `ARTIFACT_MISSING`.
   */
  async get(cid: string): Promise<Uint8Array> {
    const name = parseCid(cid).toString();
    const bytes = this.objects.get(name);
    if (!bytes) throw new VerinferError("ARTIFACT_MISSING", `object ${name} is not in memory storage`);
    return Uint8Array.from(bytes);
  }

  /**
   * Whether an object is stored under this CID.
   *
   * @throws VerinferError `INVALID_INPUT` for a malformed CID.
   */
  async has(cid: string): Promise<boolean> {
    return this.objects.has(parseCid(cid).toString());
  }

  /** The CIDs of the stored objects. */
  async *list(): AsyncIterable<string> {
    yield* [...this.objects.keys()];
  }

  /** Number of stored objects. */
  get size(): number {
    return this.objects.size;
  }
}
