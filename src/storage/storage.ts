/**
 * Content-addressed object storage: every object is named by the CIDv1 of its bytes (raw codec, sha2-256,
 * base32 — see `cidOf`). Implementations: `FsStorage` (the default, on disk), `MemoryStorage`, and
 * `HeliaStorage` (an IPFS node). Anything with these four methods — an S3 bucket — can stand in.
 *
 * Contract every implementation keeps:
 * - `get` returns exactly the bytes whose hash the CID names, or throws: `ARTIFACT_MISSING` when absent,
 *   `ARTIFACT_CORRUPT` when what is stored does not hash to the CID. It never returns other bytes.
 * - A malformed CID (not a CIDv1 of raw sha2-256) is `INVALID_INPUT` in `get` and `has`.
 * - `put` of the same bytes is idempotent and safe to run concurrently, and returns the same CID.
 * - Callers cannot alter a stored object through the arrays they passed in or got back.
 *
 * @example
 * ```ts
 * const storage: Storage = new FsStorage("/var/lib/verinfer/objects");
 * const cid = await storage.put(bytes);   // "bafkrei…"
 * const same = await storage.get(cid);
 * ```
 */
/** Options of {@link Storage.get}. */
export interface StorageGetOptions {
  /**
   * Gives up when it fires (`ARTIFACT_MISSING`): a networked storage may otherwise wait for a peer to supply the
   * object. Local storages answer at once and may ignore it.
   */
  signal?: AbortSignal;
}

export interface Storage {
  /** Stores bytes and returns their CID (base32 CIDv1, raw, sha2-256). */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * The bytes named by `cid`, hash-checked.
   *
   * @throws VerinferError `INVALID_INPUT`, `ARTIFACT_MISSING` or `ARTIFACT_CORRUPT`.
   */
  get(cid: string, options?: StorageGetOptions): Promise<Uint8Array>;
  /** Whether an object is stored under `cid` (without re-hashing it: `get` is what checks). */
  has(cid: string): Promise<boolean>;
  /** The CIDs of every stored object, in no particular order. */
  list(): AsyncIterable<string>;
}
