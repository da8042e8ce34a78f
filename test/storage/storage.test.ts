import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, stat, truncate, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { isVerinferError } from "../../src/index.js";
import {
  ArtifactStore,
  atomicWrite,
  cidFromSha256,
  cidOf,
  FsStorage,
  resolveCacheDir,
  sha256Hex,
} from "../../src/storage/index.js";
import { errorOf, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-storage-");

/** Every file under dir, relative paths. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe("ArtifactStore", () => {
  it("returns the bytes it stored", async () => {
    const store = new ArtifactStore(await tempDir());
    const bytes = new Uint8Array(1000).map((_, i) => (i * 37) % 256);
    const ref = await store.put(bytes);
    expect(ref.size).toBe(1000);
    expect(await store.has(ref)).toBe(true);
    const back = await store.get(ref);
    expect(new Uint8Array(back)).toEqual(bytes);
  });

  it("stores strings as UTF-8 and addresses them by their sha256", async () => {
    const store = new ArtifactStore(await tempDir());
    const text = '{"héllo": "wörld ✓"}';
    const ref = await store.put(text);
    const expected = createHash("sha256").update(Buffer.from(text, "utf8")).digest("hex");
    const cid = cidFromSha256(expected);
    expect(ref).toEqual({ cid, sha256: expected, size: Buffer.byteLength(text, "utf8") });
    expect(cid).toBe(cidOf(Buffer.from(text, "utf8")));
    expect(sha256Hex(text)).toBe(expected);
    expect((await store.get(ref)).toString("utf8")).toBe(text);
    // The cache's one content-addressed store: an FsStorage under <cacheDir>/objects.
    expect(store.pathOf(ref.sha256)).toBe(new FsStorage(path.join(store.cacheDir, "objects")).pathOf(cid));
  });

  it("gives the same bytes the same address, whether given as a string or bytes, and stores them once", async () => {
    const dir = await tempDir();
    const store = new ArtifactStore(dir);
    const a = await store.put("same content");
    const b = await store.put(Buffer.from("same content", "utf8"));
    const c = await new ArtifactStore(dir).put(new TextEncoder().encode("same content"));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(await listFiles(dir)).toEqual([path.relative(dir, store.pathOf(a.sha256))]);
    const other = await store.put("other content");
    expect(other.sha256).not.toBe(a.sha256);
  });

  it("stores and returns an empty object", async () => {
    const store = new ArtifactStore(await tempDir());
    const ref = await store.put(new Uint8Array());
    expect(ref.size).toBe(0);
    expect((await store.get(ref)).byteLength).toBe(0);
  });

  it("detects a truncated object with ARTIFACT_CORRUPT, and a later put repairs it", async () => {
    const store = new ArtifactStore(await tempDir());
    const ref = await store.put("a longer object that will be cut short");
    await truncate(store.pathOf(ref.sha256), 10);
    expect(await store.has(ref)).toBe(false);
    const error = await errorOf(store.get(ref, "zkey"));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    await store.put("a longer object that will be cut short");
    expect((await store.get(ref)).toString("utf8")).toBe("a longer object that will be cut short");
  });

  it("detects an altered object of the right size with ARTIFACT_CORRUPT", async () => {
    const store = new ArtifactStore(await tempDir());
    const ref = await store.put("abcdefgh");
    await writeFile(store.pathOf(ref.sha256), "abcdefgX");
    const error = await errorOf(store.get(ref));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    if (isVerinferError(error))
      expect(error.meta).toMatchObject({ expected: ref.sha256, actual: sha256Hex("abcdefgX") });
  });

  it("repairs an altered object of the right size on the next put", async () => {
    const store = new ArtifactStore(await tempDir());
    const ref = await store.put("abcdefgh");
    await writeFile(store.pathOf(ref.sha256), "abcdefgX");
    await store.put("abcdefgh");
    expect((await store.get(ref)).toString("utf8")).toBe("abcdefgh");
  });

  it("reads an object of the old layout (artifacts/sha256/<hex>), checks it, and moves a copy into the store", async () => {
    const dir = await tempDir();
    const store = new ArtifactStore(dir);
    const text = "written by an older verinfer";
    const sha = sha256Hex(text);
    await atomicWrite(path.join(dir, "artifacts", "sha256", sha), text);
    const ref = { sha256: sha, size: Buffer.byteLength(text) };
    expect((await store.get(ref)).toString("utf8")).toBe(text);
    expect(await store.has(ref)).toBe(true);
    const damaged = sha256Hex("another old object");
    await atomicWrite(path.join(dir, "artifacts", "sha256", damaged), "not that object");
    const error = await errorOf(store.get({ sha256: damaged, size: 18 }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("refuses a reference whose CID and sha256 name different objects", async () => {
    const store = new ArtifactStore(await tempDir());
    const ref = await store.put("one object");
    const error = await errorOf(store.get({ ...ref, cid: cidOf(Buffer.from("another")) }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("reports a missing object with ARTIFACT_MISSING", async () => {
    const store = new ArtifactStore(await tempDir());
    const ref = { sha256: sha256Hex("never stored"), size: 12 };
    expect(await store.has(ref)).toBe(false);
    const error = await errorOf(store.get(ref));
    expect(isVerinferError(error, "ARTIFACT_MISSING")).toBe(true);
  });

  it("refuses an address that is not a sha256 hex digest", async () => {
    const store = new ArtifactStore(await tempDir());
    for (const bad of ["../../etc/passwd", "ABC", "a".repeat(63), "A".repeat(64), ""]) {
      let error: unknown;
      try {
        store.pathOf(bad);
      } catch (e) {
        error = e;
      }
      expect(isVerinferError(error)).toBe(true);
      expect(await store.has({ sha256: bad, size: 0 })).toBe(false);
    }
  });

  it("handles a concurrent double put of the same object", async () => {
    const dir = await tempDir();
    const store = new ArtifactStore(dir);
    const bytes = new Uint8Array(256 * 1024).map((_, i) => (i * 131 + 7) % 251);
    const refs = await Promise.all([store.put(bytes), store.put(bytes), new ArtifactStore(dir).put(bytes)]);
    expect(refs[1]).toEqual(refs[0]);
    expect(refs[2]).toEqual(refs[0]);
    expect(new Uint8Array(await store.get(refs[0]))).toEqual(bytes);
    expect(await listFiles(dir)).toEqual([path.relative(dir, store.pathOf(refs[0].sha256))]);
  });

  it("handles many concurrent puts of different objects", async () => {
    const dir = await tempDir();
    const store = new ArtifactStore(dir);
    const texts = Array.from({ length: 20 }, (_, i) => `object ${i} `.repeat(100 * (i + 1)));
    const refs = await Promise.all(texts.map((t) => store.put(t)));
    for (const [i, ref] of refs.entries()) expect((await store.get(ref)).toString("utf8")).toBe(texts[i]);
    expect((await listFiles(dir)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});

describe("atomicWrite", () => {
  it("writes the file, creating its directories, and leaves no temporary files", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "a", "b", "out.json");
    await atomicWrite(file, '{"ok":true}');
    expect(await readFile(file, "utf8")).toBe('{"ok":true}');
    await atomicWrite(file, new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(await readFile(file))).toEqual(new Uint8Array([1, 2, 3]));
    expect(await listFiles(dir)).toEqual([path.join("a", "b", "out.json")]);
  });

  it("lets concurrent writers of the same file end with one writer's complete content", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "target.bin");
    const contents = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024 + i, i + 1));
    await Promise.all(contents.map((c) => atomicWrite(file, c)));
    const final = await readFile(file);
    expect(contents.some((c) => c.equals(final))).toBe(true);
    expect(await listFiles(dir)).toEqual(["target.bin"]);
  });

  it("removes its temporary file when the rename fails", async () => {
    const dir = await tempDir();
    const target = path.join(dir, "occupied");
    await mkdir(path.join(target, "child"), { recursive: true });
    await expect(atomicWrite(target, "data")).rejects.toThrow();
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(await readdir(dir)).toEqual(["occupied"]);
  });
});

describe("resolveCacheDir", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("prefers the option over VERINFER_CACHE", () => {
    vi.stubEnv("VERINFER_CACHE", "/tmp/from-env");
    expect(resolveCacheDir("/tmp/from-option")).toBe(path.resolve("/tmp/from-option"));
  });

  it("uses VERINFER_CACHE when no option is given", () => {
    vi.stubEnv("VERINFER_CACHE", "/tmp/from-env");
    expect(resolveCacheDir()).toBe(path.resolve("/tmp/from-env"));
    expect(resolveCacheDir(undefined)).toBe(path.resolve("/tmp/from-env"));
  });

  it("defaults to ~/.cache/verinfer", () => {
    vi.stubEnv("VERINFER_CACHE", undefined);
    expect(resolveCacheDir()).toBe(path.join(os.homedir(), ".cache", "verinfer"));
  });

  it("treats an empty VERINFER_CACHE as unset", () => {
    vi.stubEnv("VERINFER_CACHE", "");
    expect(resolveCacheDir()).toBe(path.join(os.homedir(), ".cache", "verinfer"));
  });

  it("returns an absolute path for a relative option or variable", () => {
    expect(resolveCacheDir("rel/cache")).toBe(path.resolve(process.cwd(), "rel/cache"));
    vi.stubEnv("VERINFER_CACHE", "env-rel");
    expect(resolveCacheDir()).toBe(path.resolve(process.cwd(), "env-rel"));
  });
});
