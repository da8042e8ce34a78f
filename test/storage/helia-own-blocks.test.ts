// Issue 19, finding 1: a hostile peer answers a locate request with the chunk list of an object the victim is
// about to publish (public package artifacts are predictable). The victim's failed attempt must not delete the
// blocks the victim itself stored meanwhile, and `put` repairs an object whose record exists but whose blocks
// do not.
import type { Stream } from "@libp2p/interface";
import { lpStream } from "it-length-prefixed-stream";
import { afterEach, describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { cidOf, parseCid } from "../../src/storage/cid.js";
import {
  createHeliaStorage,
  type HeliaStorage,
  LOCATE_PROTOCOL,
  OBJECT_RECORD_FORMAT,
} from "../../src/storage/helia-storage.js";
import { errorOf, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-own-blocks-");
const CHUNK_SIZE = 64 * 1024;
const pattern = (n: number, k: number) => new Uint8Array(n).map((_, i) => (i * k + 7) % 251);
const chunksOf = (bytes: Uint8Array) =>
  Array.from({ length: Math.ceil(bytes.length / CHUNK_SIZE) }, (_, i) =>
    cidOf(bytes.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)),
  );
const key = (cid: string) => parseCid(cid) as never;

const open: HeliaStorage[] = [];
afterEach(async () => {
  for (const node of open.splice(0)) await node.close();
});

async function node(params: { peers?: string[]; fetchTimeoutMs?: number } = {}): Promise<HeliaStorage> {
  const n = await createHeliaStorage({ directory: await tempDir(), chunkSize: CHUNK_SIZE, ...params });
  open.push(n);
  return n;
}

describe("HeliaStorage keeps its own blocks when a peer's chunk list fails", () => {
  it("does not delete the blocks of an object it published while a hostile attempt listing them was in flight", async () => {
    const published = pattern(3 * CHUNK_SIZE + 99, 31);
    const publishedChunks = chunksOf(published);
    // The hostile peer claims any object is made of the victim's (future) chunks, and never sends a block.
    const hostile = await node();
    await hostile.helia.libp2p.unhandle(LOCATE_PROTOCOL);
    await hostile.helia.libp2p.handle(LOCATE_PROTOCOL, async ({ stream }: { stream: Stream }) => {
      const lp = lpStream(stream);
      const asked = new TextDecoder().decode((await lp.read()).subarray());
      const record = { format: OBJECT_RECORD_FORMAT, cid: asked, size: published.length, chunks: publishedChunks };
      await lp.write(new TextEncoder().encode(JSON.stringify({ found: true, record })));
      await stream.close();
    });
    const victim = await node({ peers: hostile.multiaddrs, fetchTimeoutMs: 4_000 });
    const other = cidOf(pattern(3 * CHUNK_SIZE + 99, 43));
    const attempt = errorOf(victim.get(other));
    await new Promise((r) => setTimeout(r, 300));
    expect(await victim.put(published)).toBe(cidOf(published));
    const error = await attempt;
    expect(isVerinferError(error)).toBe(true);
    for (const chunk of publishedChunks) expect(await victim.helia.blockstore.has(key(chunk))).toBe(true);
    expect(await victim.has(cidOf(published))).toBe(true);
    const got = await victim.get(cidOf(published), { signal: AbortSignal.timeout(2_000) });
    expect(Buffer.from(got).equals(Buffer.from(published))).toBe(true);
  });

  it("still deletes the blocks a failed attempt itself received", async () => {
    const truth = pattern(2 * CHUNK_SIZE + 5, 17);
    const junk = pattern(2 * CHUNK_SIZE + 5, 19);
    const liar = await node();
    await liar.put(junk);
    const junkChunks = chunksOf(junk);
    await liar.helia.libp2p.unhandle(LOCATE_PROTOCOL);
    await liar.helia.libp2p.handle(LOCATE_PROTOCOL, async ({ stream }: { stream: Stream }) => {
      const lp = lpStream(stream);
      const asked = new TextDecoder().decode((await lp.read()).subarray());
      const record = { format: OBJECT_RECORD_FORMAT, cid: asked, size: truth.length, chunks: junkChunks };
      await lp.write(new TextEncoder().encode(JSON.stringify({ found: true, record })));
      await stream.close();
    });
    const fetcher = await node({ peers: liar.multiaddrs, fetchTimeoutMs: 8_000 });
    const error = await errorOf(fetcher.get(cidOf(truth)));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    for (const chunk of junkChunks) expect(await fetcher.helia.blockstore.has(key(chunk))).toBe(false);
  });

  it("put repairs an object whose record exists but whose blocks are gone, and has() tells", async () => {
    const bytes = pattern(2 * CHUNK_SIZE + 1, 23);
    const n = await node({ fetchTimeoutMs: 1_000 });
    const cid = await n.put(bytes);
    for (const chunk of chunksOf(bytes)) await n.helia.blockstore.delete(key(chunk));
    expect(await n.has(cid)).toBe(false);
    expect(await n.put(bytes)).toBe(cid);
    expect(await n.has(cid)).toBe(true);
    expect(Buffer.from(await n.get(cid)).equals(Buffer.from(bytes))).toBe(true);
  });
});
