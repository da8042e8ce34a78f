// A hostile peer on the locate protocol (issue 11): three Helia nodes on loopback. The honest node holds an
// object; the hostile one answers every locate request at once with a chunk list of its own (blocks that are
// real, but not of the object asked for). The fetching node must discard what does not hash to the CID and get
// the object from the honest node; with only liars around, the error names what each one sent.
import type { Stream } from "@libp2p/interface";
import { lpStream } from "it-length-prefixed-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { cidOf, parseCid } from "../../src/storage/cid.js";
import {
  createHeliaStorage,
  type HeliaStorage,
  LOCATE_PROTOCOL,
  OBJECT_RECORD_FORMAT,
} from "../../src/storage/helia-storage.js";
import { errorOf, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-hostile-");
const CHUNK_SIZE = 64 * 1024;
const pattern = (n: number, k: number) => new Uint8Array(n).map((_, i) => (i * k + 11) % 251);

/** Answers every locate request with `answer(cid)`, at once. */
async function answerWith(node: HeliaStorage, answer: (cid: string) => unknown): Promise<void> {
  await node.helia.libp2p.unhandle(LOCATE_PROTOCOL);
  await node.helia.libp2p.handle(LOCATE_PROTOCOL, async ({ stream }: { stream: Stream }) => {
    const lp = lpStream(stream);
    const asked = new TextDecoder().decode((await lp.read()).subarray());
    await lp.write(new TextEncoder().encode(JSON.stringify(answer(asked))));
    await stream.close();
  });
}

/** Delays the node's own (honest) locate answers, so a liar always answers first. */
async function answerLate(node: HeliaStorage, ms: number): Promise<void> {
  const honest = (node as unknown as { answerLocate(stream: Stream): Promise<void> }).answerLocate.bind(node);
  await node.helia.libp2p.unhandle(LOCATE_PROTOCOL);
  await node.helia.libp2p.handle(LOCATE_PROTOCOL, async ({ stream }: { stream: Stream }) => {
    await new Promise((r) => setTimeout(r, ms));
    await honest(stream);
  });
}

describe("HeliaStorage against a hostile peer's chunk list", () => {
  let honest: HeliaStorage;
  let hostile: HeliaStorage;
  const truth = pattern(5 * CHUNK_SIZE + 123, 37);
  const junk = pattern(5 * CHUNK_SIZE + 123, 53);
  let junkChunks: string[];

  beforeAll(async () => {
    honest = await createHeliaStorage({ directory: await tempDir(), chunkSize: CHUNK_SIZE });
    hostile = await createHeliaStorage({ directory: await tempDir(), chunkSize: CHUNK_SIZE });
    await honest.put(truth);
    await hostile.put(junk);
    // The liar's chunks are blocks it really holds (each hashes to its own CID), so bitswap delivers them.
    junkChunks = Array.from({ length: Math.ceil(junk.length / CHUNK_SIZE) }, (_, i) =>
      cidOf(junk.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)),
    );
    await answerWith(hostile, (cid) => ({
      found: true,
      record: { format: OBJECT_RECORD_FORMAT, cid, size: truth.length, chunks: junkChunks },
    }));
    await answerLate(honest, 300);
  });

  afterAll(async () => {
    await hostile?.close();
    await honest?.close();
  });

  it("discards a chunk list that does not assemble to the CID and gets the object from the honest peer", async () => {
    const fetcher = await createHeliaStorage({
      directory: await tempDir(),
      peers: [...hostile.multiaddrs, ...honest.multiaddrs],
      fetchTimeoutMs: 20_000,
      chunkSize: CHUNK_SIZE,
    });
    try {
      const got = await fetcher.get(cidOf(truth));
      expect(Buffer.from(got).equals(Buffer.from(truth))).toBe(true);
      // It keeps the true record (and serves it in turn), not the liar's, and not the liar's blocks.
      expect(await fetcher.has(cidOf(truth))).toBe(true);
      for (const chunk of junkChunks) expect(await fetcher.helia.blockstore.has(chunkKey(chunk))).toBe(false);
      const again = await fetcher.get(cidOf(truth));
      expect(Buffer.from(again).equals(Buffer.from(truth))).toBe(true);
    } finally {
      await fetcher.close();
    }
  });

  it("does not let a chunk list of blocks nobody sends spend the whole timeout", async () => {
    const stalling = await createHeliaStorage({ directory: await tempDir(), chunkSize: CHUNK_SIZE });
    const nowhere = Array.from({ length: 6 }, (_, i) => cidOf(pattern(CHUNK_SIZE, 101 + i)));
    await answerWith(stalling, (cid) => ({
      found: true,
      record: { format: OBJECT_RECORD_FORMAT, cid, size: truth.length, chunks: nowhere },
    }));
    const fetcher = await createHeliaStorage({
      directory: await tempDir(),
      peers: [...stalling.multiaddrs, ...honest.multiaddrs],
      fetchTimeoutMs: 8_000,
      chunkSize: CHUNK_SIZE,
    });
    try {
      const t0 = performance.now();
      const got = await fetcher.get(cidOf(truth));
      expect(Buffer.from(got).equals(Buffer.from(truth))).toBe(true);
      expect(performance.now() - t0).toBeLessThan(8_000);
    } finally {
      await fetcher.close();
      await stalling.close();
    }
  });

  it("with only a liar to ask, fails with ARTIFACT_CORRUPT naming what it sent", async () => {
    const fetcher = await createHeliaStorage({
      directory: await tempDir(),
      peers: hostile.multiaddrs,
      fetchTimeoutMs: 20_000,
      chunkSize: CHUNK_SIZE,
    });
    try {
      const error = await errorOf(fetcher.get(cidOf(truth)));
      expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
      const details = (error as { details?: string }).details ?? "";
      expect(details).toContain(hostile.peerId);
      expect(details).toContain(cidOf(junk));
      expect(await fetcher.has(cidOf(truth))).toBe(false);
    } finally {
      await fetcher.close();
    }
  });

  it("does not fetch a listed object larger than its limit, and says so", async () => {
    const fetcher = await createHeliaStorage({
      directory: await tempDir(),
      peers: hostile.multiaddrs,
      fetchTimeoutMs: 20_000,
      chunkSize: CHUNK_SIZE,
      maxObjectSize: CHUNK_SIZE,
    });
    try {
      const error = await errorOf(fetcher.get(cidOf(truth)));
      expect(isVerinferError(error, "ARTIFACT_MISSING")).toBe(true);
      expect((error as { details?: string }).details ?? "").toMatch(/maxObjectSize/);
      for (const chunk of junkChunks) expect(await fetcher.helia.blockstore.has(chunkKey(chunk))).toBe(false);
    } finally {
      await fetcher.close();
    }
  });
});

function chunkKey(cid: string): never {
  return parseCid(cid) as never;
}
