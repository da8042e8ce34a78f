// Issue 19, finding 3: an export (or any storage directory someone sent) is untrusted. A FIFO in `objects/` must
// not hang the verifier, a symbolic link must not make it read, hash or report one of its own files, and a file
// larger than the manifest says is refused from its size.
import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { cp, mkdir, open, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import { loadModel } from "../../src/models/load-model.js";
import { loadModelPackage } from "../../src/package/model-package.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { cidOf } from "../../src/storage/cid.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { sha256Hex } from "../../src/storage/sha256-hex.js";
import { DEMO_MODEL_DIR, errorOf, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-untrusted-");

function mkfifo(file: string): void {
  execFileSync("mkfifo", [file]);
}

/** Settles `promise` within `ms`, else reports a hang; then frees any reader still blocked on `fifo`. */
async function withinOrHang(promise: Promise<unknown>, fifo: string, ms = 3_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise((resolve) => {
    timer = setTimeout(() => resolve("hung"), ms);
  });
  try {
    return await Promise.race([promise.catch((e: unknown) => e), hang]);
  } finally {
    clearTimeout(timer);
    // A reader blocked in open() returns once a writer opens; closing at once gives it end-of-file.
    const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined);
    await writer?.close();
  }
}

describe("reading an untrusted export", () => {
  it("refuses a FIFO in objects/ at once instead of blocking", async () => {
    const storage = new FsStorage(path.join(await tempDir(), "objects"));
    const cid = cidOf(new TextEncoder().encode("a receipt"));
    await mkdir(path.dirname(storage.pathOf(cid)), { recursive: true });
    mkfifo(storage.pathOf(cid));
    const error = await withinOrHang(storage.get(cid), storage.pathOf(cid));
    expect(error).not.toBe("hung");
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect(await storage.has(cid)).toBe(false);
  });

  it("does not follow a symbolic link to one of the verifier's own files, nor report its hash or size", async () => {
    const home = await tempDir();
    const secret = path.join(home, "secret.txt");
    const secretBytes = new TextEncoder().encode("the verifier's own private file");
    await writeFile(secret, secretBytes);
    const storage = new FsStorage(path.join(await tempDir(), "objects"));
    // Named by the secret's own CID: followed, it would "verify" and confirm the verifier holds that file.
    const same = cidOf(secretBytes);
    // Named by another CID: followed, the error would report the secret's hash and size.
    const other = cidOf(new TextEncoder().encode("something else"));
    for (const cid of [same, other]) {
      await mkdir(path.dirname(storage.pathOf(cid)), { recursive: true });
      await symlink(secret, storage.pathOf(cid));
      const error = await errorOf(storage.get(cid));
      expect(isVerinferError(error, "ARTIFACT_CORRUPT"), cid).toBe(true);
      const said = JSON.stringify({
        m: (error as Error).message,
        d: (error as { details?: string }).details,
        meta: (error as { meta?: unknown }).meta,
      });
      if (cid === other) expect(said).not.toContain(same);
      expect(said).not.toContain(String(secretBytes.byteLength));
      expect(await storage.has(cid)).toBe(false);
    }
  });

  it("does not follow a linked shard directory out of the store", async () => {
    const outside = await tempDir();
    const bytes = new TextEncoder().encode("lives outside the export");
    const cid = cidOf(bytes);
    await writeFile(path.join(outside, cid), bytes);
    const storage = new FsStorage(path.join(await tempDir(), "objects"));
    await mkdir(storage.dir, { recursive: true });
    await symlink(outside, path.dirname(storage.pathOf(cid)));
    expect(isVerinferError(await errorOf(storage.get(cid)), "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("refuses an artifact larger than its manifest says before reading it, and a FIFO artifact", async () => {
    const dir = await tempDir();
    const store = new ArtifactStore(dir);
    const bytes = Buffer.from("vkey bytes");
    const ref = { sha256: sha256Hex(bytes), size: bytes.byteLength };
    await mkdir(path.dirname(store.pathOf(ref.sha256)), { recursive: true });
    await writeFile(store.pathOf(ref.sha256), Buffer.alloc(1 << 20));
    const error = await errorOf(store.get(ref, "vkey"));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect((error as { meta?: { size?: number } }).meta?.size).toBe(1 << 20);

    const fifoBytes = Buffer.from("wasm bytes");
    const fifoRef = { sha256: sha256Hex(fifoBytes), size: fifoBytes.byteLength };
    await mkdir(path.dirname(store.pathOf(fifoRef.sha256)), { recursive: true });
    mkfifo(store.pathOf(fifoRef.sha256));
    const fifoError = await withinOrHang(store.get(fifoRef, "wasm"), store.pathOf(fifoRef.sha256));
    expect(isVerinferError(fifoError, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("refuses an export whose manifest.json is a FIFO or a link, without blocking", async () => {
    const fifoExport = await tempDir();
    await mkdir(path.join(fifoExport, "objects"));
    mkfifo(path.join(fifoExport, "manifest.json"));
    const error = await withinOrHang(
      loadModelPackage(fifoExport, { cacheDir: await tempDir() }),
      path.join(fifoExport, "manifest.json"),
    );
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);

    const linked = await tempDir();
    const local = path.join(await tempDir(), "local.json");
    await writeFile(local, "{}");
    await symlink(local, path.join(linked, "manifest.json"));
    const linkError = await errorOf(loadModelPackage(linked, { cacheDir: await tempDir() }));
    expect(isVerinferError(linkError, "ARTIFACT_CORRUPT")).toBe(true);
    expect((linkError as Error).message).toMatch(/symbolic link/);
  });

  it("still reads regular objects and repairs a link or FIFO by put", async () => {
    const storage = new FsStorage(path.join(await tempDir(), "objects"));
    const bytes = new TextEncoder().encode("an honest object");
    const cid = cidOf(bytes);
    await mkdir(path.dirname(storage.pathOf(cid)), { recursive: true });
    mkfifo(storage.pathOf(cid));
    expect(await withinOrHang(storage.put(bytes), storage.pathOf(cid))).toBe(cid);
    expect(Buffer.from(await storage.get(cid)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("refuses a tfjs model.json whose weight paths leave the model's directory or name a FIFO", async () => {
    const outside = await tempDir();
    const dir = path.join(outside, "model");
    await cp(DEMO_MODEL_DIR, dir, { recursive: true });
    const json = JSON.parse(await readFile(path.join(dir, "model.json"), "utf8"));
    const shard = json.weightsManifest[0].paths[0] as string;
    await cp(path.join(dir, shard), path.join(outside, "stolen.bin"));
    json.weightsManifest[0].paths[0] = "../stolen.bin";
    await writeFile(path.join(dir, "model.json"), JSON.stringify(json));
    expect(isVerinferError(await errorOf(loadModel(dir)), "ARTIFACT_CORRUPT")).toBe(true);
    json.weightsManifest[0].paths[0] = "fifo.bin";
    await writeFile(path.join(dir, "model.json"), JSON.stringify(json));
    mkfifo(path.join(dir, "fifo.bin"));
    const error = await withinOrHang(loadModel(dir), path.join(dir, "fifo.bin"));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
  });
});
