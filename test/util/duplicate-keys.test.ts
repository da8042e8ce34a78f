// Issue 19, finding 5: JSON.parse keeps the last of two equal keys, so a document can say one thing to a reader that
// keeps the first and another to verinfer, and the duplicate never shows up as unverified. Every document verinfer
// reads from an untrusted place goes through one strict parser, and a repeated key is that document's error.
import { createCipheriv, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { Receipt } from "../../src/attest/receipt.js";
import { readJsonFile } from "../../src/cli/io.js";
import { isVerinferError } from "../../src/errors.js";
import { getModelPackage } from "../../src/package/get-model-package.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { loadModelPackage } from "../../src/package/model-package.js";
import { putModelPackage } from "../../src/package/put-model-package.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { seal, unseal } from "../../src/queue/queue-job.js";
import { loadReceipt } from "../../src/receipts/store-receipt.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { canonicalJson } from "../../src/storage/json-objects.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { parseStrictJson } from "../../src/util/parse-strict-json.js";
import { errorOf, tempDirs, tinyCalibration, tinyPackage } from "../fixtures.js";

const tempDir = tempDirs("verinfer-dupkeys-");

/** `json`'s text with `key` written first with `first`, then as it is: JSON.parse keeps the second. */
function withShadow(json: object, key: string, first: unknown): string {
  return `{${JSON.stringify(key)}:${JSON.stringify(first)},${JSON.stringify(json).slice(1)}`;
}

describe("parseStrictJson", () => {
  it("refuses a repeated key at any depth, also when spelled with escapes", () => {
    for (const text of [
      '{"a":1,"a":1}',
      '{"x":{"b":[{"c":1,"c":2}]}}',
      '{"a":1,"\\u0061":2}',
      '[{"k":0},{"k":0,"k":0}]',
    ]) {
      expect(() => parseStrictJson(text), text).toThrow(/duplicate key/);
    }
    expect(parseStrictJson('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toEqual({ a: { a: 1 }, b: [{ a: 2 }, { a: 3 }] });
    expect(() => parseStrictJson('{"a":1,}')).toThrow(SyntaxError);
    expect(() => parseStrictJson('{"a":1}//')).toThrow(SyntaxError);
  });

  it("property: agrees with JSON.parse on every document without repeated keys", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 0, 2, "\t"), (value, space) => {
        const text = JSON.stringify(value, null, space);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300, seed: 19 },
    );
  });

  it("property: refuses a key written twice anywhere in a document", () => {
    const key = fc.string({ minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        fc.jsonValue(),
        key,
        fc.jsonValue(),
        fc.jsonValue(),
        fc.nat({ max: 4 }),
        fc.boolean(),
        (around, k, a, b, depth, escaped) => {
          const first = JSON.stringify(k);
          // The second spelling may escape the key's first character: a reader compares unescaped keys.
          const code = k.charCodeAt(0).toString(16).padStart(4, "0");
          const second = escaped ? `"\\u${code}${JSON.stringify(k.slice(1)).slice(1)}` : first;
          let text = `{${first}:${JSON.stringify(a)},"other":${JSON.stringify(around)},${second}:${JSON.stringify(b)}}`;
          for (let i = 0; i < depth; i++) text = i % 2 ? `[${JSON.stringify(around)},${text}]` : `{"n${i}":${text}}`;
          expect(() => parseStrictJson(text)).toThrow(/duplicate key/);
        },
      ),
      { numRuns: 300, seed: 19 },
    );
  });
});

describe("documents with a repeated key", () => {
  let pkg: ModelPackage;
  let receipt: Receipt;
  beforeAll(async () => {
    pkg = await tinyPackage();
    receipt = (await verifiableInfer(pkg, tinyCalibration[1] as number[])).receipt;
  }, 600_000);

  it("a receipt: its text verifies, the same text with a shadowed output is MALFORMED_RECEIPT", async () => {
    const text = JSON.stringify(receipt);
    expect(await verifyReceipt(text, { modelPackage: pkg })).toMatchObject({ valid: true });
    const fake = { ...receipt.output, class: 3, quantized: receipt.output.quantized.map(() => "7") };
    const shadowed = withShadow(receipt, "output", fake);
    // JSON.parse reads the honest (last) output: the first one would go unnoticed.
    expect(await verifyReceipt(JSON.parse(shadowed), { modelPackage: pkg })).toMatchObject({ valid: true });
    expect(isVerinferError(await errorOf(verifyReceipt(shadowed, { modelPackage: pkg })), "MALFORMED_RECEIPT")).toBe(
      true,
    );
    // The CLI's receipt and attestation files.
    const file = path.join(await tempDir(), "receipt.json");
    await writeFile(file, shadowed);
    expect(
      isVerinferError(await errorOf(readJsonFile(file, "receipt", "MALFORMED_RECEIPT")), "MALFORMED_RECEIPT"),
    ).toBe(true);
    // A receipt stored by CID.
    const storage = new MemoryStorage();
    const cid = await storage.put(new TextEncoder().encode(shadowed));
    expect(isVerinferError(await errorOf(loadReceipt(storage, cid)), "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("a model manifest: fetched by CID or loaded from an export, ARTIFACT_CORRUPT", async () => {
    const storage = new MemoryStorage();
    const { manifestCid } = await putModelPackage(storage, pkg);
    expect((await getModelPackage(storage, manifestCid, { cacheDir: await tempDir() })).id).toBe(pkg.id);
    const shadowed = withShadow(pkg.manifest, "name", "another model");
    const cid = await storage.put(new TextEncoder().encode(shadowed));
    const error = await errorOf(getModelPackage(storage, cid, { cacheDir: await tempDir() }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);

    const dir = await tempDir();
    await mkdir(path.join(dir, "objects"));
    await writeFile(path.join(dir, "manifest.json"), withShadow(JSON.parse(canonicalJson(pkg.manifest)), "id", pkg.id));
    const loadError = await errorOf(loadModelPackage(dir, { cacheDir: await tempDir() }));
    expect(isVerinferError(loadError, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("a sealed job record part: MALFORMED_RECEIPT", () => {
    const key = randomBytes(32);
    // Sealed as seal() does (AES-256-GCM, the context authenticated), over text that repeats a key.
    const sealText = (text: string, context: string) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const data = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
      return { iv: iv.toString("base64"), data: data.toString("base64"), tag: cipher.getAuthTag().toString("base64") };
    };
    expect(unseal(key, seal(key, { input: [1] }, "job-1/input"), "job-1/input")).toEqual({ input: [1] });
    expect(unseal(key, sealText('{"input":[1]}', "job-1/input"), "job-1/input")).toEqual({ input: [1] });
    const error = (() => {
      try {
        unseal(key, sealText('{"input":[9],"input":[1]}', "job-1/input"), "job-1/input");
      } catch (e) {
        return e;
      }
    })();
    expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
  });
});
