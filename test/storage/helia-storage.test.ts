// Artifacts travel by CID (issue 11): two Helia IPFS nodes on loopback. Node A (an inference node) puts a model
// package; node B (a prover that has never seen the model) fetches it by the manifest's CID over libp2p
// (bitswap, with the chunk list from the locate protocol) and proves with it. Damaged or absent objects are typed
// errors, in bounded time.
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVerinferError, verifiableInfer, verifyReceipt } from "../../src/index.js";
import { findAuditRecord } from "../../src/package/audit-record.js";
import { getModelPackage } from "../../src/package/get-model-package.js";
import { loadModelPackage, type ModelPackage } from "../../src/package/model-package.js";
import { putModelPackage } from "../../src/package/put-model-package.js";
import { cidOf } from "../../src/storage/cid.js";
import { createHeliaStorage, type HeliaStorage } from "../../src/storage/helia-storage.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { demoPackage, demoSamples, errorOf, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-helia-");

/** The nodes' chunk size: small, so the demo's zkey (about 0.5 MB) travels as several chunks. */
const CHUNK_SIZE = 128 * 1024;

/** Deterministic non-trivial bytes. */
const pattern = (n: number, k = 37) => new Uint8Array(n).map((_, i) => (i * k + 11) % 251);

/** The file of node's blockstore that holds exactly these bytes (a block is stored as its bytes). */
async function blockFile(node: HeliaStorage, bytes: Uint8Array): Promise<string> {
  const dir = path.join(node.directory, "blocks");
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    if (Buffer.from(await readFile(file)).equals(Buffer.from(bytes))) return file;
  }
  throw new Error("block not found on disk");
}

/** Flips one byte of a file in place. */
async function flipByte(file: string, at = 0): Promise<void> {
  const data = await readFile(file);
  data[at] = (data[at] as number) ^ 0xff;
  await writeFile(file, data);
}

/** How long a promise takes to settle, and what it rejected with. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t0 = performance.now();
  const error = await errorOf(promise);
  return { ms: performance.now() - t0, error };
}

describe("HeliaStorage: two IPFS nodes on loopback", () => {
  let demo: ModelPackage;
  let a: HeliaStorage;
  let b: HeliaStorage;

  beforeAll(async () => {
    demo = await demoPackage();
    a = await createHeliaStorage({ directory: await tempDir(), chunkSize: CHUNK_SIZE });
    b = await createHeliaStorage({
      directory: await tempDir(),
      peers: a.multiaddrs,
      fetchTimeoutMs: 20_000,
      chunkSize: CHUNK_SIZE,
    });
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("listens on loopback TCP only, and dials only the peers it is given", () => {
    expect(a.multiaddrs.length).toBeGreaterThan(0);
    for (const addr of [...a.multiaddrs, ...b.multiaddrs])
      expect(addr).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    expect(b.helia.libp2p.getPeers().map(String)).toEqual([a.peerId]);
  });

  it("keeps its peer id across a restart on the same directory, so peers can dial the same address", async () => {
    const directory = await tempDir();
    const first = await createHeliaStorage({ directory, listen: [] });
    const id = first.peerId;
    await first.close();
    const again = await createHeliaStorage({ directory, listen: [] });
    try {
      expect(again.peerId).toBe(id);
    } finally {
      await again.close();
    }
  });

  it("a prover node fetches a package it has never seen by its manifest CID over bitswap, and proves with it", async () => {
    // The zkey is larger than one chunk: this is the chunked path (bitswap refuses blocks over 4 MiB). The witness
    // program (the direct backend's JSON where a circom package kept its wasm) fits in one block: the single-block path.
    expect(demo.manifest.artifacts.zkey.size).toBeGreaterThan(2 * CHUNK_SIZE);
    expect(demo.manifest.artifacts.wasm.size).toBeLessThan(CHUNK_SIZE);
    const put = await putModelPackage(a, demo);
    expect(put.artifacts.zkey).toBe(demo.manifest.artifacts.zkey.cid);
    expect(await b.has(put.manifestCid)).toBe(false);

    const proverCache = await tempDir();
    const fetched: string[] = [];
    const pkg = await getModelPackage(b, put.manifestCid, {
      cacheDir: proverCache,
      signal: AbortSignal.timeout(60_000),
      onArtifact: (e) => {
        if (e.fetched) fetched.push(e.name);
      },
    });
    expect(fetched.sort()).toEqual(["circuit", "floatNetwork", "manifest", "network", "r1cs", "vkey", "wasm", "zkey"]);
    expect(pkg.id).toBe(demo.id);
    expect(pkg.vkeyCid).toBe(demo.vkeyCid);
    expect(pkg.store.cacheDir).toBe(proverCache);
    // Setup trust is never carried by fetched data: the prover's own cache holds no audit of this manifest.
    expect(await findAuditRecord(pkg)).toBeUndefined();

    // Not indexed by id unless asked: the prover's cache knows the model only once it says so.
    expect(
      isVerinferError(await errorOf(loadModelPackage(pkg.id, { cacheDir: proverCache })), "ARTIFACT_MISSING"),
    ).toBe(true);
    await getModelPackage(b, put.manifestCid, { cacheDir: proverCache, index: true });
    expect((await loadModelPackage(pkg.id, { cacheDir: proverCache })).vkeyCid).toBe(demo.vkeyCid);

    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[2]);
    expect(receipt.proof).toBeDefined();
    expect((await verifyReceipt(receipt, { modelPackage: pkg })).valid).toBe(true);
    // The proof is one the inference node's own package accepts: same model, same key.
    expect((await verifyReceipt(receipt, { modelPackage: demo })).valid).toBe(true);
  });

  it("a fetched object is kept, so the prover node serves it in turn", async () => {
    const bytes = pattern(3 * CHUNK_SIZE + 17, 41);
    const cid = await a.put(bytes);
    expect(Buffer.from(await b.get(cid)).equals(Buffer.from(bytes))).toBe(true);
    expect(await b.has(cid)).toBe(true);
    const c = await createHeliaStorage({ directory: await tempDir(), peers: b.multiaddrs, fetchTimeoutMs: 20_000 });
    try {
      expect(cidOf(await c.get(cid))).toBe(cid);
    } finally {
      await c.close();
    }
  });

  it("a CID no peer holds is ARTIFACT_MISSING at once, and a silent network within the caller's timeout", async () => {
    const absent = cidOf(pattern(999, 13));
    const asked = await timed(b.get(absent));
    expect(isVerinferError(asked.error, "ARTIFACT_MISSING")).toBe(true);
    expect(asked.ms).toBeLessThan(5_000);

    // A node with no peer at all cannot hang either.
    const alone = await createHeliaStorage({ directory: await tempDir(), listen: [] });
    try {
      const lonely = await timed(alone.get(absent));
      expect(isVerinferError(lonely.error, "ARTIFACT_MISSING")).toBe(true);
    } finally {
      await alone.close();
    }

    // A peer that knows an object's chunk list but lost a chunk: nobody sends it, and the caller's signal bounds
    // the wait.
    const bytes = pattern(2 * CHUNK_SIZE, 23);
    const cid = await a.put(bytes);
    await rm(await blockFile(a, bytes.subarray(CHUNK_SIZE)));
    const silent = await timed(b.get(cid, { signal: AbortSignal.timeout(1_500) }));
    expect(isVerinferError(silent.error, "ARTIFACT_MISSING")).toBe(true);
    expect(silent.ms).toBeGreaterThanOrEqual(1_400);
    expect(silent.ms).toBeLessThan(6_000);
  });

  it("a damaged block on the prover's disk is ARTIFACT_CORRUPT with the reason, and a put of the right bytes repairs it", async () => {
    const bytes = pattern(2 * CHUNK_SIZE + 5, 29);
    const cid = await a.put(bytes);
    await b.get(cid);
    const second = bytes.subarray(CHUNK_SIZE, 2 * CHUNK_SIZE);
    await flipByte(await blockFile(b, second), 100);
    const error = await errorOf(b.get(cid));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect((error as { details?: string }).details).toMatch(/hash to bafkrei/);
    await b.put(bytes);
    expect(cidOf(await b.get(cid))).toBe(cid);
  });

  it("a package whose zkey is damaged on the storage fails with ARTIFACT_CORRUPT, and the next package still loads", async () => {
    const storage = new HeliaStorageWithDamage(b);
    const { manifestCid } = await putModelPackage(a, demo);
    storage.damage = demo.manifest.artifacts.zkey.cid;
    const error = await errorOf(getModelPackage(storage, manifestCid, { cacheDir: await tempDir() }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect((error as { details?: string }).details).toMatch(/expected sha256/);
    storage.damage = undefined;
    const pkg = await getModelPackage(storage, manifestCid, { cacheDir: await tempDir() });
    expect(pkg.id).toBe(demo.id);
  });

  it("never accepts a block from a peer that does not hash to its CID", async () => {
    const bytes = pattern(4_000, 7);
    const cid = await a.put(bytes);
    await flipByte(await blockFile(a, bytes), 10);
    // A's own read re-hashes: corrupt.
    expect(isVerinferError(await errorOf(a.get(cid)), "ARTIFACT_CORRUPT")).toBe(true);
    // B asks A, A sends the damaged block, Helia refuses it on receipt: nothing arrives before the deadline.
    const fetched = await errorOf(b.get(cid, { signal: AbortSignal.timeout(2_000) }));
    expect(isVerinferError(fetched, "ARTIFACT_MISSING")).toBe(true);
    expect(await b.has(cid)).toBe(false);
  });

  it("an object that is not a manifest is ARTIFACT_CORRUPT, a string that is not a CID INVALID_INPUT", async () => {
    const notManifest = await a.put(new TextEncoder().encode(JSON.stringify({ format: "verinfer/model@1" })));
    expect(isVerinferError(await errorOf(getModelPackage(b, notManifest)), "ARTIFACT_CORRUPT")).toBe(true);
    expect(isVerinferError(await errorOf(getModelPackage(b, "not-a-cid")), "INVALID_INPUT")).toBe(true);
    expect(
      isVerinferError(await errorOf(b.get("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG")), "INVALID_INPUT"),
    ).toBe(true);
  });

  it("rejects malformed parameters with INVALID_OPTIONS", async () => {
    const dir = await tempDir();
    for (const params of [
      { directory: "" },
      { directory: dir, listen: ["not a multiaddr"] },
      { directory: dir, fetchTimeoutMs: -1 },
    ]) {
      expect(isVerinferError(await errorOf(createHeliaStorage(params)), "INVALID_OPTIONS")).toBe(true);
    }
  });

  it("lists the objects it holds whole, not their chunks", async () => {
    const listed: string[] = [];
    for await (const cid of b.list()) listed.push(cid);
    const chunked = cidOf(pattern(3 * CHUNK_SIZE + 17, 41));
    expect(listed).toContain(chunked);
    expect(listed).not.toContain(cidOf(pattern(3 * CHUNK_SIZE + 17, 41).subarray(0, CHUNK_SIZE)));
  });
});

describe("model packages on any Storage", () => {
  it("round-trip through MemoryStorage by manifest CID, verifier artifacts only when asked", async () => {
    const demo = await demoPackage();
    const storage = new MemoryStorage();
    const { manifestCid, artifacts } = await putModelPackage(storage, demo, { proving: false });
    expect(artifacts.zkey).toBeUndefined();
    expect(await storage.has(demo.manifest.artifacts.zkey.cid)).toBe(false);
    const verifier = await getModelPackage(storage, manifestCid, {
      cacheDir: await tempDirForVerifier(),
      proving: false,
    });
    expect(verifier.id).toBe(demo.id);
    const { receipt } = await verifiableInfer(demo, demoSamples.inputs[1]);
    expect((await verifyReceipt(receipt, { modelPackage: verifier })).valid).toBe(true);
    // A prover needs the zkey, which this storage never got.
    const prover = await errorOf(getModelPackage(storage, manifestCid, { cacheDir: await tempDirForVerifier() }));
    expect(isVerinferError(prover, "ARTIFACT_MISSING")).toBe(true);
  });
});

const tempDirForVerifier = tempDir;

/** A storage that returns damaged bytes for one CID, as a faulty or hostile storage would. */
class HeliaStorageWithDamage {
  damage: string | undefined;
  constructor(private readonly inner: HeliaStorage) {}
  put(bytes: Uint8Array) {
    return this.inner.put(bytes);
  }
  async get(cid: string, options?: { signal?: AbortSignal }) {
    const bytes = await this.inner.get(cid, options);
    if (cid === this.damage) bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 1;
    return bytes;
  }
  has(cid: string) {
    return this.inner.has(cid);
  }
  list() {
    return this.inner.list();
  }
}
