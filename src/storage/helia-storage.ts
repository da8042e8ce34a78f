import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Helia } from "@helia/utils";
import type { Libp2p, Stream } from "@libp2p/interface";
import { z } from "zod";
import { VerinferError } from "../errors.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { atomicWrite } from "./atomic-write.js";
import { cidOf, parseCid } from "./cid.js";
import { installPromiseWithResolvers } from "./node20-shims.js";
import type { Storage, StorageGetOptions } from "./storage.js";

/** libp2p and Helia, loaded when a node starts: importing verinfer does not pay for them. */
async function loadIpfs() {
  installPromiseWithResolvers();
  const [
    crypto,
    { noise },
    { yamux },
    { bitswap },
    { Helia },
    { identify },
    { tcp },
    { multiaddr },
    blockstoreFs,
    datastoreFs,
    lp,
    { createLibp2p },
  ] = await Promise.all([
    import("@libp2p/crypto/keys"),
    import("@chainsafe/libp2p-noise"),
    import("@chainsafe/libp2p-yamux"),
    import("@helia/block-brokers"),
    import("@helia/utils"),
    import("@libp2p/identify"),
    import("@libp2p/tcp"),
    import("@multiformats/multiaddr"),
    import("blockstore-fs"),
    import("datastore-fs"),
    import("it-length-prefixed-stream"),
    import("libp2p"),
  ]);
  return {
    crypto,
    noise,
    yamux,
    bitswap,
    Helia,
    identify,
    tcp,
    multiaddr,
    FsBlockstore: blockstoreFs.FsBlockstore,
    FsDatastore: datastoreFs.FsDatastore,
    lpStream: lp.lpStream,
    createLibp2p,
  };
}

type Ipfs = Awaited<ReturnType<typeof loadIpfs>>;

/** Largest object a {@link HeliaStorage} stores or fetches by default: 1 GiB. */
export const DEFAULT_MAX_OBJECT_SIZE = 1024 * 1024 * 1024;

/** How long `get` waits for the network by default before answering `ARTIFACT_MISSING`. */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;

/**
 * Objects larger than this are stored as chunks of this size, each one raw IPFS block: bitswap refuses blocks
 * over 4 MiB, and IPFS tools default to 1 MiB or less.
 */
export const CHUNK_SIZE = 1024 * 1024;

/** The libp2p protocol on which a node answers "which chunks make up object X". */
export const LOCATE_PROTOCOL = "/verinfer/locate/1.0.0";

/** Format tag of an object record (what a node knows about one stored object). */
export const OBJECT_RECORD_FORMAT = "verinfer/ipfs-object@1";

/** How many distinct chunk lists (from different peers) one `get` tries before it gives up. */
export const MAX_LOCATE_ATTEMPTS = 4;

/** How many chunks one `get` fetches at once. */
const CHUNK_CONCURRENCY = 8;

const cidString = z.string().min(1).max(200);

/**
 * zod schema of an object record, `verinfer/ipfs-object@1`: an object's size and, for one larger than
 * {@link CHUNK_SIZE}, the raw CIDs of its chunks in order (absent: the object is one block under its own CID).
 * Nodes keep one per object and send it on {@link LOCATE_PROTOCOL}; a fetched record is a hint only: the
 * reassembled bytes must hash to the object's CID, or the fetch fails.
 */
export const ObjectRecordSchema = z.object({
  format: z.literal(OBJECT_RECORD_FORMAT),
  cid: cidString,
  size: z.number().int().nonnegative(),
  chunks: z.array(cidString).optional(),
});

/** A parsed `verinfer/ipfs-object@1` record. */
export type ObjectRecord = z.infer<typeof ObjectRecordSchema>;

const LocateAnswerSchema = z.union([
  z.object({ found: z.literal(false) }),
  z.object({ found: z.literal(true), record: ObjectRecordSchema }),
]);

/** zod schema of {@link CreateHeliaStorageParams}. */
export const CreateHeliaStorageParamsSchema = z.object({
  /** Directory of the node: `blocks/` (the blockstore) and `datastore/` (libp2p's peer store), created if absent. */
  directory: z.string().min(1),
  /**
   * libp2p listen addresses (default `["/ip4/127.0.0.1/tcp/0"]`: loopback only, a free port). TCP only; pass
   * `[]` for a node that only dials out.
   */
  listen: z.array(z.string()).optional(),
  /** Peers to dial once started (multiaddrs with `/p2p/<peerId>`). */
  peers: z.array(z.string()).optional(),
  /** Default time `get` waits for an object it does not hold (default 30 s); a caller's `signal` can cut it shorter. */
  fetchTimeoutMs: z.number().int().positive().optional(),
  /**
   * Size of the chunks a large object is split into, bytes (default {@link CHUNK_SIZE}, 1 MiB; 64 KiB to 2 MiB).
   * Nodes need not agree: a fetched object's record lists its chunks.
   */
  chunkSize: z
    .number()
    .int()
    .min(64 * 1024)
    .max(2 * 1024 * 1024)
    .optional(),
  /** Largest object stored or fetched, bytes (default and most: 1 GiB). */
  maxObjectSize: z.number().int().positive().max(DEFAULT_MAX_OBJECT_SIZE).optional(),
});

/** Parameters of {@link createHeliaStorage}. */
export type CreateHeliaStorageParams = z.infer<typeof CreateHeliaStorageParamsSchema>;

/**
 * The node's libp2p key, kept in its directory (owner-only) so its peer id — part of the address peers dial —
 * survives a restart; created on first start.
 */
async function loadPeerKey(ipfs: Ipfs, file: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new VerinferError("INVALID_OPTIONS", "cannot read the IPFS node's peer key", { cause, meta: { file } });
    }
    const key = await ipfs.crypto.generateKeyPair("Ed25519");
    await atomicWrite(file, ipfs.crypto.privateKeyToProtobuf(key), 0o600);
    return key;
  }
  try {
    return ipfs.crypto.privateKeyFromProtobuf(bytes);
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", "the IPFS node's peer key is unreadable", { cause, meta: { file } });
  }
}

function missing(cid: string, details: string, cause?: unknown): VerinferError {
  return new VerinferError("ARTIFACT_MISSING", `object ${cid} was not found on this IPFS node or its peers`, {
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

function sha256Of(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * {@link Storage} on an IPFS node: a Helia node (bitswap over libp2p: TCP, noise, yamux) whose blockstore is on
 * disk. The CID of an object is the one every verinfer storage uses — CIDv1, raw codec, sha2-256 of the whole
 * object — so a model manifest names the same CIDs whether its package travels by disk or by IPFS.
 *
 * Blocks: an object of up to {@link CHUNK_SIZE} (1 MiB) is one raw IPFS block under its own CID. A larger one
 * (a zkey is tens of MB; bitswap refuses blocks over 4 MiB) is split into 1 MiB chunks, each a raw block under
 * its own CID, and the node keeps a record of the chunk list (`verinfer/ipfs-object@1`). A node that lacks an
 * object asks its connected peers for that record on {@link LOCATE_PROTOCOL}, fetches the blocks over bitswap,
 * and keeps blocks and record, so it can serve them in turn. A record from a peer is only a hint: Helia checks
 * every block against its CID on receipt, and `get` hashes the reassembled object against the requested CID
 * before it returns anything, on every read, local or fetched.
 *
 * The node never reaches the internet on its own: no bootstrap list, no DHT, no mDNS, no relay, no UPnP, no
 * content routing. It listens on 127.0.0.1 unless told otherwise and fetches only from the peers it is connected
 * to (`peers`, `dial`).
 *
 * @example
 * ```ts
 * const a = await createHeliaStorage({ directory: "/var/lib/verinfer/ipfs" });
 * const cid = await a.put(bytes);
 * const b = await createHeliaStorage({ directory: "/tmp/prover-ipfs", peers: a.multiaddrs });
 * const same = await b.get(cid, { signal: AbortSignal.timeout(10_000) });
 * await b.close();
 * await a.close();
 * ```
 */
export class HeliaStorage implements Storage {
  /** The Helia node (for callers that need more of IPFS than `Storage` offers). */
  readonly helia: Helia<Libp2p>;
  /** Directory of the node. */
  readonly directory: string;
  private readonly fetchTimeoutMs: number;
  private readonly maxObjectSize: number;
  private readonly chunkSize: number;
  private readonly ipfs: Ipfs;
  private closed = false;
  /**
   * Serializes what changes which blocks an object needs (a `put`, a fetched object's record) with what deletes
   * blocks (a failed attempt's clean-up), so a clean-up never removes a block that a record written meanwhile
   * lists.
   */
  private blockLock: Promise<unknown> = Promise.resolve();

  private constructor(
    ipfs: Ipfs,
    helia: Helia<Libp2p>,
    directory: string,
    fetchTimeoutMs: number,
    maxObjectSize: number,
    chunkSize: number,
  ) {
    this.chunkSize = chunkSize;
    this.ipfs = ipfs;
    this.helia = helia;
    this.directory = directory;
    this.fetchTimeoutMs = fetchTimeoutMs;
    this.maxObjectSize = maxObjectSize;
  }

  /**
   * Starts a node. See {@link createHeliaStorage}.
   *
   * @throws VerinferError `INVALID_OPTIONS` for malformed parameters, `ARTIFACT_MISSING` when a listed peer
   *   cannot be dialled.
   */
  static async create(params: CreateHeliaStorageParams): Promise<HeliaStorage> {
    const parsed = CreateHeliaStorageParamsSchema.safeParse(params);
    if (!parsed.success) {
      throw new VerinferError("INVALID_OPTIONS", "createHeliaStorage: malformed parameters", {
        details: parsed.error.message,
      });
    }
    const { listen = ["/ip4/127.0.0.1/tcp/0"], peers = [] } = parsed.data;
    const directory = path.resolve(parsed.data.directory);
    const ipfs = await loadIpfs();
    const { multiaddr, FsBlockstore, FsDatastore, createLibp2p, tcp, noise, yamux, identify, Helia, bitswap } = ipfs;
    for (const address of [...listen, ...peers]) {
      try {
        multiaddr(address);
      } catch (cause) {
        throw new VerinferError("INVALID_OPTIONS", `not a multiaddr: ${JSON.stringify(address)}`, { cause });
      }
    }
    await mkdir(directory, { recursive: true });
    const blockstore = new FsBlockstore(path.join(directory, "blocks"));
    const datastore = new FsDatastore(path.join(directory, "datastore"));
    await blockstore.open();
    await datastore.open();
    const privateKey = await loadPeerKey(ipfs, path.join(directory, "peer-key"));
    const libp2p = await createLibp2p({
      start: false,
      privateKey: privateKey as never,
      // The peer store stays in memory: peers are given, never discovered, so there is nothing worth keeping.
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // identify tells each side which protocols the other speaks (bitswap, locate); nothing else is offered.
      services: { identify: identify() },
    });
    const helia = new Helia<Libp2p>({ libp2p, blockstore, datastore, blockBrokers: [bitswap()], routers: [] });
    await helia.start();
    const storage = new HeliaStorage(
      ipfs,
      helia,
      directory,
      parsed.data.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      parsed.data.maxObjectSize ?? DEFAULT_MAX_OBJECT_SIZE,
      parsed.data.chunkSize ?? CHUNK_SIZE,
    );
    try {
      await libp2p.handle(LOCATE_PROTOCOL, ({ stream }) => {
        storage.answerLocate(stream).catch(() => stream.abort(new Error("locate failed")));
      });
      for (const peer of peers) await storage.dial(peer);
    } catch (error) {
      await storage.close();
      throw error;
    }
    return storage;
  }

  /** The addresses other nodes dial to reach this one (each ends in `/p2p/<peerId>`). */
  get multiaddrs(): string[] {
    return this.helia.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  /** This node's libp2p peer id. */
  get peerId(): string {
    return this.helia.libp2p.peerId.toString();
  }

  /**
   * Connects to a peer, which `get` then asks for the objects this node does not hold.
   *
   * @throws VerinferError `ARTIFACT_MISSING` when the peer cannot be reached.
   */
  async dial(address: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      await this.helia.libp2p.dial(this.ipfs.multiaddr(address), {
        signal: options.signal ?? AbortSignal.timeout(this.fetchTimeoutMs),
      });
    } catch (cause) {
      throw new VerinferError("ARTIFACT_MISSING", "cannot reach the storage peer", {
        cause,
        details: `dialling ${address} failed`,
      });
    }
  }

  private recordPath(cid: string): string {
    return path.join(this.directory, "objects", cid.slice(-3, -1), `${cid}.json`);
  }

  /** Runs `fn` once every earlier {@link blockLock} holder is done, and holds the lock until it settles. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.blockLock.then(fn, fn);
    this.blockLock = run.catch(() => undefined);
    return run;
  }

  /** The CIDs of every block that an object record on this node lists (its chunks, or the object itself). */
  private async listedBlocks(): Promise<Set<string>> {
    const listed = new Set<string>();
    for await (const cid of this.list()) {
      const record = await this.readRecord(cid).catch(() => undefined);
      if (!record) continue;
      for (const block of record.chunks ?? [record.cid]) listed.add(parseCid(block).toString());
    }
    return listed;
  }

  private async readRecord(cid: string): Promise<ObjectRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.recordPath(cid), "utf8");
    } catch {
      return undefined;
    }
    let json: unknown;
    try {
      json = parseStrictJson(text);
    } catch (cause) {
      throw new VerinferError("ARTIFACT_CORRUPT", `object ${cid}: its record on this node is unreadable`, { cause });
    }
    const parsed = ObjectRecordSchema.safeParse(json);
    if (!parsed.success || parsed.data.cid !== cid) {
      throw new VerinferError("ARTIFACT_CORRUPT", `object ${cid}: its record on this node is unreadable`, {
        details: parsed.success ? "the record names another object" : parsed.error.message,
      });
    }
    return parsed.data;
  }

  /**
   * Stores bytes (one block, or 1 MiB chunks and their record) and returns their CID. Idempotent; a damaged or
   * missing block of an object already recorded here is rewritten, so a `put` repairs the object.
   */
  async put(bytes: Uint8Array): Promise<string> {
    if (!(bytes instanceof Uint8Array)) throw new VerinferError("INVALID_INPUT", "put takes a Uint8Array");
    if (this.closed) throw new VerinferError("INVALID_OPTIONS", "this HeliaStorage is closed");
    if (bytes.byteLength > this.maxObjectSize) {
      throw new VerinferError("INVALID_INPUT", `object of ${bytes.byteLength} bytes exceeds this node's limit`, {
        details: `maxObjectSize is ${this.maxObjectSize} bytes`,
      });
    }
    const copy = Uint8Array.from(bytes);
    const cid = cidOf(copy);
    const record: ObjectRecord = { format: OBJECT_RECORD_FORMAT, cid, size: copy.byteLength };
    const parts: Uint8Array[] = [];
    if (copy.byteLength <= this.chunkSize) {
      parts.push(copy);
    } else {
      record.chunks = [];
      for (let at = 0; at < copy.byteLength; at += this.chunkSize) {
        const chunk = copy.subarray(at, at + this.chunkSize);
        parts.push(chunk);
        record.chunks.push(cidOf(chunk));
      }
    }
    await this.storeObject(record, parts);
    return cid;
  }

  /**
   * Stores an object's blocks (those missing or damaged) and then its record, under the block lock: a failed
   * fetch's clean-up runs before or after, never between, so it sees the record and keeps the blocks.
   */
  private storeObject(record: ObjectRecord, parts: readonly Uint8Array[]): Promise<void> {
    const blocks = record.chunks ?? [record.cid];
    return this.exclusive(async () => {
      for (const [i, part] of parts.entries()) await this.putBlock(blocks[i] as string, part);
      // The record goes last: a node answers for an object only once all of its blocks are stored.
      await atomicWrite(this.recordPath(record.cid), JSON.stringify(record));
    });
  }

  /** Stores one block; a damaged copy already there (the blockstore would keep it) is replaced. */
  private async putBlock(cid: string, bytes: Uint8Array): Promise<void> {
    const key = parseCid(cid) as never;
    if (await this.helia.blockstore.has(key)) {
      const stored = await this.helia.blockstore.get(key, { offline: true });
      if (sha256Of(stored).equals(sha256Of(bytes))) return;
      await this.helia.blockstore.delete(key);
    }
    await this.helia.blockstore.put(key, bytes);
  }

  /**
   * The object's bytes: from this node's blockstore, else from connected peers (record on the locate protocol,
   * blocks over bitswap), then kept here. The whole object is hashed against `cid` before it is returned.
   *
   * A peer's record is a hint: one whose chunks do not assemble to bytes that hash to `cid` (a hostile or broken
   * peer) is discarded with its blocks, and the next peer's record is tried — at most
   * {@link MAX_LOCATE_ATTEMPTS} distinct records, each no larger than `maxObjectSize`, all within the timeout.
   *
   * @throws VerinferError `INVALID_INPUT` (malformed CID); `ARTIFACT_MISSING` when no peer holds the object, or
   *   none supplied it before the timeout or `signal` fired; `ARTIFACT_CORRUPT` when the bytes stored here, or
   *   every chunk list the peers sent, do not hash to the CID. `details` gives the reason for each peer tried.
   */
  async get(cid: string, options: StorageGetOptions = {}): Promise<Uint8Array> {
    const parsed = parseCid(cid);
    const name = parsed.toString();
    if (this.closed) throw new VerinferError("INVALID_OPTIONS", "this HeliaStorage is closed");
    const timeout = AbortSignal.timeout(this.fetchTimeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const why = () => (timeout.aborted ? `${this.fetchTimeoutMs} ms passed` : "the caller's signal fired");
    const local = await this.readRecord(name);
    if (local) {
      const result = await this.assemble(name, local, signal, why);
      if (result.bytes) return result.bytes;
      if (result.corrupt) {
        throw new VerinferError("ARTIFACT_CORRUPT", `object ${name} is corrupted`, {
          details: `assembled from this node: ${result.reason}`,
          ...(result.meta ? { meta: result.meta } : {}),
        });
      }
      throw missing(name, result.reason);
    }
    if (this.helia.libp2p.getPeers().length === 0) {
      throw missing(name, "this node holds no copy and is connected to no peer");
    }
    const reasons: string[] = [];
    let corrupt = false;
    const tried = new Set<string>();
    const answers = this.locate(name, signal);
    try {
      for await (const answer of answers) {
        if ("error" in answer) {
          reasons.push(`${answer.peer}: ${answer.error}`);
          continue;
        }
        const key = JSON.stringify([answer.record.size, answer.record.chunks ?? null]);
        if (tried.has(key)) {
          reasons.push(`${answer.peer}: sent a chunk list already tried`);
          continue;
        }
        if (tried.size >= MAX_LOCATE_ATTEMPTS) {
          reasons.push(`${answer.peer}: not tried (${MAX_LOCATE_ATTEMPTS} chunk lists tried already)`);
          continue;
        }
        tried.add(key);
        // A list naming blocks nobody sends must not spend the whole timeout: the attempt ends once no block
        // has arrived for a quarter of it, and the next peer's list is tried.
        const result = await this.assemble(name, answer.record, signal, why, Math.max(1_000, this.fetchTimeoutMs / 4));
        if (result.bytes) {
          // Its blocks are stored again if a concurrent clean-up removed one before the record was written.
          await this.storeObject(answer.record, result.parts);
          return result.bytes;
        }
        corrupt ||= result.corrupt;
        reasons.push(`${answer.peer}: ${result.reason}`);
        if (signal.aborted) break;
      }
    } finally {
      await answers.return(undefined);
    }
    const details = `${reasons.length > 0 ? reasons.join("; ") : "no peer answered"}${signal.aborted ? ` (${why()})` : ""}`;
    if (corrupt) {
      throw new VerinferError("ARTIFACT_CORRUPT", `object ${name}: every chunk list the peers sent is wrong`, {
        details,
      });
    }
    throw missing(name, details);
  }

  /**
   * Fetches the blocks a record names and checks the assembled bytes against the CID. Blocks that this attempt
   * itself received for a record that fails are deleted again — except any block that an object record on this
   * node lists (the node may have stored the same block meanwhile: a hostile peer can list a victim's blocks).
   */
  private async assemble(
    name: string,
    record: ObjectRecord,
    outer: AbortSignal,
    why: () => string,
    stallMs?: number,
  ): Promise<
    | { bytes: Uint8Array; parts: Uint8Array[]; corrupt?: undefined; reason?: undefined; meta?: undefined }
    | { bytes?: undefined; corrupt: boolean; reason: string; meta?: Record<string, unknown> }
  > {
    if (record.size > this.maxObjectSize) {
      return {
        corrupt: false,
        reason: `it is listed at ${record.size} bytes, over this node's maxObjectSize (${this.maxObjectSize})`,
      };
    }
    const blockCids = record.chunks ?? [name];
    // A chunk is at least 64 KiB (the smallest chunkSize) except the last: more chunks than that is not a list
    // of this object, and would only make this node fetch more blocks.
    if (blockCids.length > Math.max(1, Math.ceil(record.size / (64 * 1024)))) {
      return { corrupt: true, reason: `its chunk list has ${blockCids.length} chunks for ${record.size} bytes` };
    }
    let keys: never[];
    try {
      keys = blockCids.map((c) => parseCid(c) as never);
    } catch {
      return { corrupt: true, reason: "its chunk list names a malformed CID" };
    }
    const held = await Promise.all(keys.map((k) => this.helia.blockstore.has(k)));
    const stall = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const progress = () => {
      if (stallMs === undefined) return;
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), stallMs);
    };
    const signal = stallMs === undefined ? outer : AbortSignal.any([outer, stall.signal]);
    progress();
    // The blocks this attempt brought in: absent when it started, and delivered to it.
    const received = new Set<number>();
    const fetched = () => keys.filter((_, i) => received.has(i));
    let total = 0;
    let parts: Uint8Array[];
    try {
      parts = await mapLimit(
        keys.map((key, i) => [key, i] as const),
        CHUNK_CONCURRENCY,
        async ([key, i]) => {
          const block = await this.helia.blockstore.get(key, { signal });
          if (!held[i]) received.add(i);
          progress();
          total += block.byteLength;
          if (total > record.size) throw new Error(`its chunks hold more than the ${record.size} bytes listed`);
          return block;
        },
      );
    } catch (cause) {
      const tooBig = cause instanceof Error && cause.message.startsWith("its chunks hold");
      const reason = tooBig
        ? (cause as Error).message
        : outer.aborted
          ? `${why()} before its ${blockCids.length} block(s) arrived`
          : stall.signal.aborted
            ? `no block of its chunk list arrived for ${stallMs} ms`
            : "the blockstore could not supply its blocks";
      // The other chunks still in flight stop here, before this attempt's blocks are forgotten.
      stall.abort();
      await this.forget(fetched());
      return { corrupt: tooBig, reason };
    } finally {
      clearTimeout(timer);
    }
    const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
    const actual = sha256Of(bytes);
    if (!actual.equals(parseCid(name).multihash.digest) || bytes.byteLength !== record.size) {
      await this.forget(fetched());
      return {
        corrupt: true,
        reason: `${bytes.byteLength} bytes (expected ${record.size}) that hash to ${cidOf(bytes)}`,
        meta: { expected: name, actual: cidOf(bytes), size: bytes.byteLength },
      };
    }
    return { bytes: Uint8Array.from(bytes), parts };
  }

  /**
   * Deletes blocks received for a chunk list that proved wrong, but none that an object record here lists:
   * under the block lock, so a `put` of an object sharing them finishes (record included) before, or starts after.
   */
  private forget(keys: never[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return this.exclusive(async () => {
      const listed = await this.listedBlocks();
      const orphans = keys.filter((k) => !listed.has(String(k)));
      await Promise.all(orphans.map((k) => this.helia.blockstore.delete(k).catch(() => undefined)));
    });
  }

  /**
   * Asks every connected peer for the object's record, and yields each answer as it arrives: a record, or why
   * the peer gave none. Ends when every peer has answered or `signal` fires.
   */
  private async *locate(
    cid: string,
    signal: AbortSignal,
  ): AsyncGenerator<{ peer: string; record: ObjectRecord } | { peer: string; error: string }> {
    const peers = this.helia.libp2p.getPeers();
    const ask = async (peer: (typeof peers)[number]): Promise<ObjectRecord> => {
      const stream = await this.helia.libp2p.dialProtocol(peer, LOCATE_PROTOCOL, { signal });
      try {
        const lp = this.ipfs.lpStream(stream, { maxDataLength: 16 * 1024 * 1024 });
        await lp.write(new TextEncoder().encode(cid), { signal });
        const answer = LocateAnswerSchema.parse(
          parseStrictJson(new TextDecoder().decode((await lp.read({ signal })).subarray())),
        );
        await stream.close({ signal });
        if (!answer.found) throw new Error("does not hold it");
        if (answer.record.cid !== cid) throw new Error("answered with another object's record");
        return answer.record;
      } catch (error) {
        stream.abort(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }
    };
    const pending = new Map(
      peers.map((peer, i) => {
        const settled = ask(peer).then(
          (record) => ({ i, peer: peer.toString(), record }),
          (error: unknown) => ({
            i,
            peer: peer.toString(),
            error: error instanceof z.ZodError ? "sent a malformed answer" : errorText(error),
          }),
        );
        return [i, settled] as const;
      }),
    );
    const aborted = new Promise<undefined>((resolve) => {
      if (signal.aborted) resolve(undefined);
      signal.addEventListener("abort", () => resolve(undefined), { once: true });
    });
    while (pending.size > 0) {
      const next = await Promise.race([...pending.values(), aborted]);
      if (next === undefined) return;
      pending.delete(next.i);
      yield "record" in next ? { peer: next.peer, record: next.record } : { peer: next.peer, error: next.error };
    }
  }

  /** Answers one locate request: the record of the object asked for, if this node holds it whole. */
  private async answerLocate(stream: Stream): Promise<void> {
    const signal = AbortSignal.timeout(this.fetchTimeoutMs);
    const lp = this.ipfs.lpStream(stream, { maxDataLength: 1024 });
    const asked = new TextDecoder().decode((await lp.read({ signal })).subarray());
    let record: ObjectRecord | undefined;
    try {
      record = await this.readRecord(parseCid(asked).toString());
    } catch {
      record = undefined;
    }
    const answer = record ? { found: true, record } : { found: false };
    await lp.write(new TextEncoder().encode(JSON.stringify(answer)), { signal });
    await stream.close({ signal });
  }

  /**
   * Whether this node holds the object: its record and every block it lists (peers are not asked; `get` is what
   * checks the bytes). An object whose record survived its blocks is not held; a `put` of its bytes repairs it.
   *
   * @throws VerinferError `INVALID_INPUT` for a malformed CID.
   */
  async has(cid: string): Promise<boolean> {
    const name = parseCid(cid).toString();
    let record: ObjectRecord | undefined;
    try {
      record = await this.readRecord(name);
    } catch {
      return false;
    }
    if (!record) return false;
    for (const block of record.chunks ?? [record.cid]) {
      if (!(await this.helia.blockstore.has(parseCid(block) as never))) return false;
    }
    return true;
  }

  /** The CIDs of the objects this node holds whole (put here or fetched), not of the chunks they are made of. */
  async *list(): AsyncIterable<string> {
    const root = path.join(this.directory, "objects");
    let shards: string[];
    try {
      shards = await readdir(root);
    } catch {
      return;
    }
    for (const shard of shards.sort()) {
      let names: string[];
      try {
        names = await readdir(path.join(root, shard));
      } catch {
        continue;
      }
      for (const file of names.sort()) {
        if (!file.endsWith(".json")) continue;
        try {
          yield parseCid(file.slice(0, -5)).toString();
        } catch {
          // not an object record
        }
      }
    }
  }

  /** Stops the node: closes its connections, its listener and its stores. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.helia.stop();
  }
}

/**
 * Starts a {@link HeliaStorage}: a Helia IPFS node with its blockstore and datastore on disk under `directory`,
 * listening on loopback TCP by default, connected to `peers`. Call `close()` to stop it.
 *
 * @throws VerinferError `INVALID_OPTIONS` for malformed parameters, `ARTIFACT_MISSING` when a peer is unreachable.
 * @example
 * ```ts
 * const storage = await createHeliaStorage({ directory: "/var/lib/verinfer/ipfs", peers: [inferenceNodeAddr] });
 * const pkg = await getModelPackage(storage, manifestCid);
 * ```
 */
export function createHeliaStorage(params: CreateHeliaStorageParams): Promise<HeliaStorage> {
  return HeliaStorage.create(params);
}
