import { mkdir, readdir, rm, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { beforeAll, describe, expect, it } from "vitest";
import {
  isVerinferError,
  type Receipt,
  ReceiptSchema,
  type Storage,
  verifiableInfer,
  verifyReceipt,
} from "../../src/index.js";
import {
  getModelPackage,
  loadReceipt,
  type ModelPackage,
  putModelPackage,
  storeReceipt,
} from "../../src/package/index.js";
import {
  canonicalJson,
  cidFromSha256,
  cidOf,
  defaultStorage,
  FsStorage,
  getJson,
  MemoryStorage,
  normalizeCid,
  putJson,
  sha256FromCid,
  sha256Hex,
} from "../../src/storage/index.js";
import { demoPackage, demoSamples, errorOf, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-cid-");

async function collect(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const cid of storage.list()) out.push(cid);
  return out.sort();
}

/** Every file under dir, relative paths. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** What a synchronous call threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const pattern = (n: number, k = 37) => new Uint8Array(n).map((_, i) => (i * k + 11) % 256);

/** multiformats' own CIDv1 of raw bytes, for comparison. */
async function referenceCid(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

const MALFORMED: unknown[] = [
  "",
  "not a cid",
  "bafkrei",
  "../../etc/passwd",
  "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4ye!",
  // the CID of "hello" with a character too many (no longer decodes)
  "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeqa",
  // "hello" as a CIDv0 (dag-pb), ...
  "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5",
  // ... a CIDv1 of codec dag-cbor, ...
  "bafyreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
  // ... raw with sha2-512, ...
  "bafkrgqe3ohjcjplc6n4f3fwunlj6upltggn7xqujbsvnvyw764srszz4u4rshq6ztos4chl4plgg4ffyyxnayrtdi5oc4xb2332g645433aeg",
  // ... raw with the identity "hash"
  "bafkqablimvwgy3y",
  null,
  42,
  { cid: "bafkrei" },
];

const implementations: [string, () => Promise<Storage>][] = [
  ["FsStorage", async () => new FsStorage(await tempDir())],
  ["MemoryStorage", async () => new MemoryStorage()],
];

describe.each(implementations)("%s", (_name, make) => {
  it("returns the bytes it stored under their CIDv1", async () => {
    const storage = await make();
    const bytes = pattern(5000);
    const cid = await storage.put(bytes);
    expect(cid).toMatch(/^bafkrei[a-z2-7]{52}$/);
    expect(cid).toBe(await referenceCid(bytes));
    expect(await storage.has(cid)).toBe(true);
    expect(await storage.get(cid)).toEqual(bytes);
  });

  it("stores an empty object", async () => {
    const storage = await make();
    const cid = await storage.put(new Uint8Array());
    expect(cid).toBe(await referenceCid(new Uint8Array()));
    expect((await storage.get(cid)).byteLength).toBe(0);
  });

  it("gives the same bytes the same CID and stores them once", async () => {
    const storage = await make();
    const a = await storage.put(utf8("same content"));
    const b = await storage.put(Buffer.from("same content", "utf8"));
    expect(b).toBe(a);
    expect(await storage.put(utf8("other content"))).not.toBe(a);
    expect(await collect(storage)).toHaveLength(2);
  });

  it("lists every stored object, and nothing when empty", async () => {
    const storage = await make();
    expect(await collect(storage)).toEqual([]);
    const cids = await Promise.all(Array.from({ length: 30 }, (_, i) => storage.put(utf8(`object ${i}`))));
    expect(await collect(storage)).toEqual([...new Set(cids)].sort());
  });

  it("reports an absent object with ARTIFACT_MISSING", async () => {
    const storage = await make();
    const cid = cidOf(utf8("never stored"));
    expect(await storage.has(cid)).toBe(false);
    expect(isVerinferError(await errorOf(storage.get(cid)), "ARTIFACT_MISSING")).toBe(true);
  });

  it("refuses malformed CIDs with INVALID_INPUT", async () => {
    const storage = await make();
    for (const bad of MALFORMED) {
      const getError = await errorOf(storage.get(bad as string));
      expect(isVerinferError(getError, "INVALID_INPUT"), `get(${JSON.stringify(bad)})`).toBe(true);
      const hasError = await errorOf(storage.has(bad as string));
      expect(isVerinferError(hasError, "INVALID_INPUT"), `has(${JSON.stringify(bad)})`).toBe(true);
    }
    expect(isVerinferError(await errorOf(storage.put("text" as unknown as Uint8Array)), "INVALID_INPUT")).toBe(true);
  });

  it("accepts the same CID in another multibase and answers in base32", async () => {
    const storage = await make();
    const cid = await storage.put(utf8("hello"));
    const base58 = "zb2rhZfjRh2FHHB2RkHVEvL2vJnCTcu7kwRqgVsf9gpkLgteo";
    expect(normalizeCid(base58)).toBe(cid);
    expect(await storage.get(base58)).toEqual(utf8("hello"));
  });

  it("keeps stored objects safe from callers mutating the arrays they passed in or got back", async () => {
    const storage = await make();
    const bytes = utf8("immutable");
    const cid = await storage.put(bytes);
    bytes[0] = 0;
    const back = await storage.get(cid);
    back[1] = 0;
    expect(await storage.get(cid)).toEqual(utf8("immutable"));
  });

  it("handles concurrent writers of the same object", async () => {
    const storage = await make();
    const bytes = pattern(256 * 1024, 131);
    const cids = await Promise.all(Array.from({ length: 8 }, () => storage.put(Uint8Array.from(bytes))));
    expect(new Set(cids).size).toBe(1);
    expect(await storage.get(cids[0] as string)).toEqual(bytes);
    expect(await collect(storage)).toEqual([cids[0]]);
  });
});

describe("CIDs", () => {
  it("match multiformats' CIDv1 (raw, sha2-256) and a published vector", async () => {
    expect(cidOf(utf8("hello"))).toBe("bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq");
    for (const n of [0, 1, 31, 32, 33, 1000, 65_537]) {
      const bytes = pattern(n);
      expect(cidOf(bytes)).toBe(await referenceCid(bytes));
    }
  });

  it("are the same in every implementation and every run", async () => {
    const bytes = pattern(4096, 7);
    const dir = await tempDir();
    const cids = [
      await new FsStorage(dir).put(bytes),
      await new FsStorage(dir).put(bytes),
      await new FsStorage(await tempDir()).put(bytes),
      await new MemoryStorage().put(bytes),
    ];
    expect(new Set(cids).size).toBe(1);
    // Pinned: a change of codec, hash or base would break every CID ever handed out.
    expect(cids[0]).toBe(await referenceCid(bytes));
  });

  it("convert to and from the artifact store's sha256 addresses", async () => {
    const bytes = pattern(777);
    const hex = sha256Hex(bytes);
    expect(cidFromSha256(hex)).toBe(cidOf(bytes));
    expect(sha256FromCid(cidOf(bytes))).toBe(hex);
    for (const bad of ["", "ABC", "a".repeat(63), "A".repeat(64), `0x${"a".repeat(64)}`]) {
      expect(
        isVerinferError(
          thrown(() => cidFromSha256(bad)),
          "INVALID_INPUT",
        ),
        bad,
      ).toBe(true);
    }
    const v0 = "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5";
    expect(
      isVerinferError(
        thrown(() => sha256FromCid(v0)),
        "INVALID_INPUT",
      ),
    ).toBe(true);
  });

  it("name every artifact of a model package", async () => {
    const pkg = await demoPackage();
    for (const [name, ref] of Object.entries(pkg.manifest.artifacts)) {
      const bytes = await pkg.artifact(name as keyof typeof pkg.manifest.artifacts);
      expect(cidFromSha256(ref.sha256)).toBe(await referenceCid(bytes));
    }
  });
});

describe("model packages by manifest CID", () => {
  it("refuse a manifest of another model than the one expected, before fetching any artifact", async () => {
    const pkg = await demoPackage();
    const storage = new MemoryStorage();
    const { manifestCid } = await putModelPackage(storage, pkg);
    const asked: string[] = [];
    const counting: Storage = {
      put: (bytes) => storage.put(bytes),
      get: (cid) => {
        asked.push(cid);
        return storage.get(cid);
      },
      has: (cid) => storage.has(cid),
      list: () => storage.list(),
    };
    const other = `0x${"ab".repeat(32)}`;
    const error = await errorOf(getModelPackage(counting, manifestCid, { cacheDir: await tempDir(), modelId: other }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect(asked).toEqual([manifestCid]);
    const bad = await errorOf(getModelPackage(counting, manifestCid, { modelId: "0x12" }));
    expect(isVerinferError(bad, "INVALID_INPUT")).toBe(true);
    const same = await getModelPackage(counting, manifestCid, { cacheDir: await tempDir(), modelId: pkg.id });
    expect(same.id).toBe(pkg.id);
  });
});

describe("FsStorage on disk", () => {
  it("lives under <cacheDir>/objects by default, sharded by CID", async () => {
    const cacheDir = await tempDir();
    const storage = defaultStorage(cacheDir);
    expect(storage.dir).toBe(path.join(cacheDir, "objects"));
    const cid = await storage.put(utf8("hello"));
    expect(await listFiles(cacheDir)).toEqual([path.join("objects", cid.slice(-3, -1), cid)]);
    expect(storage.pathOf(cid)).toBe(path.join(cacheDir, "objects", cid.slice(-3, -1), cid));
  });

  it("detects a truncated object with ARTIFACT_CORRUPT, and a later put repairs it", async () => {
    const storage = new FsStorage(await tempDir());
    const bytes = utf8("a longer object that will be cut short");
    const cid = await storage.put(bytes);
    await truncate(storage.pathOf(cid), 10);
    const error = await errorOf(storage.get(cid));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    if (isVerinferError(error)) expect(error.meta).toMatchObject({ expected: cid, size: 10 });
    expect(await storage.put(bytes)).toBe(cid);
    expect(await storage.get(cid)).toEqual(bytes);
  });

  it("detects an altered object of the right size with ARTIFACT_CORRUPT", async () => {
    const storage = new FsStorage(await tempDir());
    const cid = await storage.put(utf8("abcdefgh"));
    await writeFile(storage.pathOf(cid), "abcdefgX");
    const error = await errorOf(storage.get(cid));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    if (isVerinferError(error)) expect(error.meta).toMatchObject({ expected: cid, actual: cidOf(utf8("abcdefgX")) });
  });

  it("detects an object emptied or replaced by a directory", async () => {
    const storage = new FsStorage(await tempDir());
    const cid = await storage.put(utf8("will be emptied"));
    await truncate(storage.pathOf(cid), 0);
    expect(isVerinferError(await errorOf(storage.get(cid)), "ARTIFACT_CORRUPT")).toBe(true);
    await rm(storage.pathOf(cid));
    expect(isVerinferError(await errorOf(storage.get(cid)), "ARTIFACT_MISSING")).toBe(true);
    await mkdir(storage.pathOf(cid));
    expect(isVerinferError(await errorOf(storage.get(cid)), "ARTIFACT_CORRUPT")).toBe(true);
    expect(await storage.has(cid)).toBe(false);
  });

  it("lets concurrent writers in separate store instances leave one complete object and no temporary files", async () => {
    const dir = await tempDir();
    const bytes = pattern(512 * 1024, 29);
    const cids = await Promise.all(Array.from({ length: 6 }, () => new FsStorage(dir).put(bytes)));
    expect(new Set(cids).size).toBe(1);
    const cid = cids[0] as string;
    expect(await new FsStorage(dir).get(cid)).toEqual(bytes);
    expect(await listFiles(dir)).toEqual([path.join(cid.slice(-3, -1), cid)]);
  });

  it("lists only objects, not temporary files or strangers", async () => {
    const dir = await tempDir();
    const storage = new FsStorage(dir);
    const cid = await storage.put(utf8("listed"));
    const shard = path.dirname(storage.pathOf(cid));
    await writeFile(path.join(shard, `${cid}.tmp-1-abc`), "partial");
    await writeFile(path.join(shard, "README"), "not an object");
    await writeFile(path.join(dir, "stray-file"), "not a shard");
    expect(await collect(storage)).toEqual([cid]);
  });

  it("lists nothing for a directory that does not exist yet", async () => {
    const storage = new FsStorage(path.join(await tempDir(), "not-yet"));
    expect(await collect(storage)).toEqual([]);
  });
});

describe("canonical JSON", () => {
  it("sorts keys by code unit, also integer-like ones, and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: [true, null, undefined], 10: "x", 2: "y", c: undefined })).toBe(
      '{"10":"x","2":"y","a":[true,null,null],"b":1}',
    );
    expect(canonicalJson({ z: { y: 1, x: [0.1, -0, 1e21] } })).toBe('{"z":{"x":[0.1,0,1e+21],"y":1}}');
  });

  it("gives equal values equal CIDs whatever their key order", async () => {
    const storage = new MemoryStorage();
    const a = await putJson(storage, { x: 1, y: { p: "q", r: [1, 2] } });
    const b = await putJson(storage, { y: { r: [1, 2], p: "q" }, x: 1 });
    expect(b).toBe(a);
    expect(await getJson(storage, a)).toEqual({ x: 1, y: { p: "q", r: [1, 2] } });
  });

  it("refuses values JSON cannot hold", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1n, { f: () => 1 }, [Symbol("s")]]) {
      expect(
        isVerinferError(
          thrown(() => canonicalJson(bad)),
          "INVALID_INPUT",
        ),
      ).toBe(true);
    }
  });

  it("reports an object that is not JSON with ARTIFACT_CORRUPT", async () => {
    const storage = new MemoryStorage();
    const cid = await storage.put(new Uint8Array([0xff, 0xfe, 0x7b]));
    expect(isVerinferError(await errorOf(getJson(storage, cid)), "ARTIFACT_CORRUPT")).toBe(true);
  });
});

describe("receipts in storage", () => {
  let pkg: ModelPackage;
  let receipt: Receipt;

  beforeAll(async () => {
    pkg = await demoPackage();
    ({ receipt } = await verifiableInfer(pkg, demoSamples.inputs[0]));
  });

  it.each(implementations)("round-trip through %s under a stable CID, and still verify", async (_name, make) => {
    const storage = await make();
    const cid = await storeReceipt(storage, receipt);
    expect(cid).toBe(cidOf(utf8(canonicalJson(receipt))));
    expect(await storeReceipt(storage, structuredClone(receipt))).toBe(cid);
    const back = await loadReceipt(storage, cid);
    expect(back).toEqual(receipt);
    expect((await verifyReceipt(back, { modelPackage: pkg })).valid).toBe(true);
  });

  it("refuses to store a malformed receipt with MALFORMED_RECEIPT", async () => {
    const storage = new MemoryStorage();
    const bad = { ...receipt, format: "verinfer/receipt@0" } as unknown as Receipt;
    expect(isVerinferError(await errorOf(storeReceipt(storage, bad)), "MALFORMED_RECEIPT")).toBe(true);
    expect(await collect(storage)).toEqual([]);
  });

  it("reports a stored object that is not a receipt with ARTIFACT_CORRUPT", async () => {
    const storage = new MemoryStorage();
    const notReceipt = await putJson(storage, { format: "verinfer/receipt@1", hello: "world" });
    expect(isVerinferError(await errorOf(loadReceipt(storage, notReceipt)), "ARTIFACT_CORRUPT")).toBe(true);
    expect(ReceiptSchema.safeParse(await getJson(storage, notReceipt)).success).toBe(false);
  });

  it("reports a receipt damaged on disk with ARTIFACT_CORRUPT, a missing one with ARTIFACT_MISSING", async () => {
    const storage = new FsStorage(await tempDir());
    const cid = await storeReceipt(storage, receipt);
    const text = canonicalJson(receipt).replace(/"quantized":\["(-?\d)/, '"quantized":["9');
    await writeFile(storage.pathOf(cid), text);
    expect(isVerinferError(await errorOf(loadReceipt(storage, cid)), "ARTIFACT_CORRUPT")).toBe(true);
    const absent = cidOf(utf8("no such receipt"));
    expect(isVerinferError(await errorOf(loadReceipt(storage, absent)), "ARTIFACT_MISSING")).toBe(true);
  });
});
