import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compileModel,
  isVerinferError,
  loadModel,
  loadModelPackage,
  type ModelInput,
  type ModelPackage,
  type ProgressEvent,
  verifiableInfer,
  verifiableInferBatch,
  verifyReceipt,
} from "../../src/index.js";
import { flattenInput } from "../../src/models/quantize-input.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { FIELD_PRIME } from "../../src/util/field.js";
import { DEMO_MODEL_DIR, demoPackage, demoSamples, errorOf, TEST_CACHE } from "../fixtures.js";

/** Awaits a rejection with this VerinferError code and returns the error, for its `meta`. */
async function expectCode(promise: Promise<unknown>, code: Parameters<typeof isVerinferError>[1]) {
  const error = await errorOf(promise);
  if (!isVerinferError(error, code)) {
    throw new Error(`expected VerinferError ${code}, got ${error instanceof Error ? error.stack : String(error)}`);
  }
  return error;
}

const tmpDirs: string[] = [];
async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `verinfer-${prefix}-`));
  tmpDirs.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
});

const good = demoSamples.inputs[0];
/** What a JavaScript caller, or a JSON body, may pass whatever the types say: the library checks at run time. */
const untyped = (x: unknown) => x as ModelInput;
const withValue = (i: number, v: unknown): ModelInput => untyped(good.map((x, k) => (k === i ? v : x)));
const compileOptions = { calibration: demoSamples.calibration, cacheDir: TEST_CACHE, quiet: true };

describe("invalid inputs", () => {
  let pkg: ModelPackage;

  beforeAll(async () => {
    pkg = await demoPackage();
  });

  it("refuses an input that is too short, too long, or nested to the wrong shape", async () => {
    for (const input of [
      good.slice(0, 15),
      [...good, 0.5],
      [],
      [good.slice(0, 8), good.slice(8)],
      [good],
      good.map((x) => [x]),
      [good.slice(0, 8), good.slice(8, 15)],
      [[good.slice(0, 8)], [good.slice(8)]],
    ]) {
      await expectCode(verifiableInfer(pkg, input), "INVALID_INPUT");
    }
  });

  it("refuses NaN and infinite values, naming their index", async () => {
    for (const [i, v] of [
      [3, Number.NaN],
      [0, Number.POSITIVE_INFINITY],
      [15, Number.NEGATIVE_INFINITY],
    ] as const) {
      const error = await expectCode(verifiableInfer(pkg, withValue(i, v)), "INVALID_INPUT");
      expect(error.meta?.index).toBe(i);
    }
  });

  it("refuses values outside the calibrated input range instead of clamping them", async () => {
    const [lo, hi] = pkg.manifest.quantization.input.range;
    expect(lo).toBe(0);
    expect(hi).toBeGreaterThan(1.9);
    expect(hi).toBeLessThan(2);
    for (const [i, v] of [
      [2, 5],
      [7, -0.1],
      [0, hi + 0.01],
      [1, -1e9],
    ] as const) {
      const error = await expectCode(verifiableInfer(pkg, withValue(i, v)), "INVALID_INPUT");
      expect(error.meta?.index).toBe(i);
      expect(error.meta?.value).toBe(v);
      expect(error.meta?.range).toEqual([lo, hi]);
    }
  });

  it("refuses non-numeric values", async () => {
    for (const v of ["a", "0.5", null, undefined, {}, true, 1n]) {
      await expectCode(verifiableInfer(pkg, withValue(5, v)), "INVALID_INPUT");
    }
  });

  it("refuses an input that is not an array", async () => {
    for (const input of [0.5, "0.5,0.1", null, undefined, {}, { length: 16 }]) {
      await expectCode(verifiableInfer(pkg, untyped(input)), "INVALID_INPUT");
    }
  });

  it("refuses an empty batch and a batch that is not an array", async () => {
    await expectCode(verifiableInferBatch(pkg, []), "INVALID_INPUT");
    await expectCode(verifiableInferBatch(pkg, untyped(good) as unknown as ModelInput[]), "INVALID_INPUT");
    await expectCode(verifiableInferBatch(pkg, untyped("inputs") as unknown as ModelInput[]), "INVALID_INPUT");
  });

  it("names the batch index of a bad input and proves nothing before refusing the batch", async () => {
    const events: ProgressEvent[] = [];
    const onProgress = (e: ProgressEvent) => events.push(e);
    const error = await expectCode(
      verifiableInferBatch(pkg, [good, demoSamples.inputs[1], withValue(4, Number.NaN)], { onProgress }),
      "INVALID_INPUT",
    );
    expect(error.meta?.batchIndex).toBe(2);
    expect(error.meta?.index).toBe(4);
    const range = await expectCode(verifiableInferBatch(pkg, [good, withValue(9, 7), good]), "INVALID_INPUT");
    expect(range.meta?.batchIndex).toBe(1);
    expect(range.meta?.index).toBe(9);
    const shape = await expectCode(verifiableInferBatch(pkg, [good.slice(1), good]), "INVALID_INPUT");
    expect(shape.meta?.batchIndex).toBe(0);
    expect(events.some((e) => e.stage === "prove" || e.stage === "infer")).toBe(false);
  });

  it("still proves valid inputs after refusing a bad one", async () => {
    await expectCode(verifiableInfer(pkg, withValue(0, Number.NaN)), "INVALID_INPUT");
    const { receipt } = await verifiableInfer(pkg, good);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("refuses an input salt outside the field, or one given for a whole batch", async () => {
    for (const inputSalt of [-1n, FIELD_PRIME, 5 as unknown as bigint]) {
      await expectCode(verifiableInfer(pkg, good, { inputSalt }), "INVALID_OPTIONS");
    }
    await expectCode(verifiableInferBatch(pkg, [good, good], { inputSalt: 1n }), "INVALID_OPTIONS");
  });
});

/** An input nested `depth` arrays deep around one number. */
function nested(depth: number): unknown {
  let x: unknown = 0.5;
  for (let i = 0; i < depth; i++) x = [x];
  return x;
}

describe("hostile inputs", () => {
  let pkg: ModelPackage;

  beforeAll(async () => {
    pkg = await demoPackage();
  });

  it("refuses 1e308 and -1e308 with INVALID_INPUT naming their index, not a RangeError", async () => {
    for (const [i, v] of [
      [3, 1e308],
      [11, -1e308],
      [0, Number.MAX_VALUE],
      [15, -Number.MAX_VALUE],
    ] as const) {
      const error = await expectCode(verifiableInfer(pkg, withValue(i, v)), "INVALID_INPUT");
      expect(error.meta?.index).toBe(i);
      expect(error.meta?.value).toBe(v);
    }
  });

  it("refuses an input nested 20,000 arrays deep with INVALID_INPUT, not a stack overflow", async () => {
    await expectCode(verifiableInfer(pkg, untyped(nested(20_000))), "INVALID_INPUT");
    await expectCode(verifiableInfer(pkg, untyped([nested(20_000), ...good.slice(1)])), "INVALID_INPUT");
    expect(() => flattenInput(pkg.network, nested(200_000))).toThrowError(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
  });

  it("refuses a 10-million-element array with INVALID_INPUT before walking it", async () => {
    const huge = new Array(10_000_000).fill(0.5);
    await expectCode(verifiableInfer(pkg, huge), "INVALID_INPUT");
    // The same array behind a proxy that counts element reads: refused without reading its values.
    let reads = 0;
    const counted = new Proxy(huge, {
      get(target, key, receiver) {
        if (typeof key === "string" && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    await expectCode(verifiableInfer(pkg, counted), "INVALID_INPUT");
    expect(reads).toBe(0);
    // Rows of the right count whose total is far too large, and a wide array of empty rows.
    const rows = Array.from({ length: 16 }, () => new Array(100_000).fill(0.5));
    await expectCode(verifiableInfer(pkg, rows), "INVALID_INPUT");
    await expectCode(
      verifiableInfer(
        pkg,
        Array.from({ length: 1_000_000 }, () => []),
      ),
      "INVALID_INPUT",
    );
  });

  it("refuses hostile values in a batch with the batch index and the value index", async () => {
    const error = await expectCode(verifiableInferBatch(pkg, [good, withValue(6, 1e308)]), "INVALID_INPUT");
    expect(error.meta?.batchIndex).toBe(1);
    expect(error.meta?.index).toBe(6);
  });
});

describe("input shape checks", () => {
  it("refuses numbers and arrays mixed at one level, even where the element count matches", () => {
    const net = { inputShape: [2, 1], inputSize: 2 };
    expect(flattenInput(net, [[1], [2]])).toEqual([1, 2]);
    for (const input of [
      [[1], 2],
      [1, [2]],
    ]) {
      let error: unknown;
      try {
        flattenInput(net, input);
      } catch (e) {
        error = e;
      }
      expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
    }
  });

  it("reports INVALID_OPTIONS when verifyReceipt gets no options", async () => {
    const pkg = await demoPackage();
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[0]);
    await expect(verifyReceipt(receipt)).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});

describe("invalid models and options", () => {
  it("fails with ARTIFACT_MISSING for a model directory that does not exist", async () => {
    const missing = path.join(await tempDir("missing"), "no-such-model");
    await expectCode(loadModel(missing), "ARTIFACT_MISSING");
    await expectCode(compileModel(missing, compileOptions), "ARTIFACT_MISSING");
    await expectCode(verifiableInfer(missing, good, compileOptions), "ARTIFACT_MISSING");
  });

  it("fails with ARTIFACT_CORRUPT for a model.json that is not JSON or not a LayersModel", async () => {
    const dir = await tempDir("badjson");
    await cp(DEMO_MODEL_DIR, dir, { recursive: true });
    const file = path.join(dir, "model.json");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.slice(0, text.length / 2));
    await expectCode(loadModel(dir), "ARTIFACT_CORRUPT");
    await expectCode(compileModel(dir, compileOptions), "ARTIFACT_CORRUPT");
    await writeFile(file, JSON.stringify({ format: "layers-model" }));
    await expectCode(loadModel(file), "ARTIFACT_CORRUPT");
  });

  it("fails with ARTIFACT_CORRUPT for a truncated or overlong weights.bin", async () => {
    const dir = await tempDir("truncated");
    await cp(DEMO_MODEL_DIR, dir, { recursive: true });
    const weights = path.join(dir, "weights.bin");
    const original = await readFile(weights);
    await truncate(weights, original.byteLength - 4);
    await expectCode(loadModel(dir), "ARTIFACT_CORRUPT");
    await expectCode(compileModel(dir, compileOptions), "ARTIFACT_CORRUPT");
    await writeFile(weights, Buffer.concat([original, Buffer.alloc(4)]));
    await expectCode(loadModel(dir), "ARTIFACT_CORRUPT");
  });

  it("fails with ARTIFACT_MISSING for a missing weight shard", async () => {
    const dir = await tempDir("noshard");
    await cp(DEMO_MODEL_DIR, dir, { recursive: true });
    await unlink(path.join(dir, "weights.bin"));
    await expectCode(loadModel(dir), "ARTIFACT_MISSING");
  });

  it("refuses a model with unsupported layers with UNSUPPORTED_LAYER naming every one", async () => {
    const model = tf.sequential({
      layers: [
        // (Conv1D, the example here before, is proven since issue 21; a recurrent layer is not.)
        tf.layers.simpleRNN({ name: "my_rnn", inputShape: [16, 1], units: 2 }),
        tf.layers.dense({ name: "my_elu", units: 2, activation: "elu" }),
      ],
    });
    const error = await expectCode(compileModel(model, compileOptions), "UNSUPPORTED_LAYER");
    expect(error.meta?.layer).toBe("my_rnn");
    expect(error.message).toContain("my_rnn");
    expect(error.message).toContain("my_elu");
    await expectCode(verifiableInfer(model, new Array(16).fill(0), compileOptions), "UNSUPPORTED_LAYER");
  });

  it("refuses elu, selu (tanh and sigmoid are proven since issue 21) and a softmax before the last layer with UNSUPPORTED_LAYER naming the layer", async () => {
    for (const activation of ["elu", "selu", "softmax"] as const) {
      const model = tf.sequential({
        layers: [
          tf.layers.dense({ name: "ok_hidden", inputShape: [4], units: 3, activation: "relu" }),
          tf.layers.dense({ name: `bad_${activation}`, units: 2, activation }),
          tf.layers.dense({ name: "ok_out", units: 2 }),
        ],
      });
      const error = await expectCode(compileModel(model, compileOptions), "UNSUPPORTED_LAYER");
      expect(error.meta?.layer).toBe(`bad_${activation}`);
    }
  });

  it("refuses a dense layer on a multi-dimensional input without a Flatten", async () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ name: "dense_on_matrix", inputShape: [4, 4], units: 2 })],
    });
    const error = await expectCode(compileModel(model, compileOptions), "UNSUPPORTED_LAYER");
    expect(error.meta?.layer).toBe("dense_on_matrix");
  });

  it("refuses missing or mis-sized calibration samples with INVALID_OPTIONS", async () => {
    await expectCode(compileModel(DEMO_MODEL_DIR, { ...compileOptions, calibration: [] }), "INVALID_OPTIONS");
    await expectCode(compileModel(DEMO_MODEL_DIR, { ...compileOptions, calibration: [[0, 1]] }), "INVALID_OPTIONS");
    await expectCode(
      compileModel(DEMO_MODEL_DIR, { ...compileOptions, calibration: [withValue(0, Number.NaN) as number[]] }),
      "INVALID_OPTIONS",
    );
  });

  it("fails with ARTIFACT_MISSING for a model id that is not in the cache", async () => {
    const empty = await tempDir("emptycache");
    await expectCode(loadModelPackage(`0x${"ab".repeat(32)}`, { cacheDir: empty }), "ARTIFACT_MISSING");
    await expectCode(loadModelPackage(path.join(empty, "manifest.json"), { cacheDir: empty }), "ARTIFACT_MISSING");
  });
});

describe("corrupted artifacts", () => {
  let pkg: ModelPackage;
  let cacheCopy: string;

  beforeAll(async () => {
    pkg = await demoPackage();
    cacheCopy = await tempDir("cache");
    for (const sub of ["objects", "models"]) {
      await cp(path.join(TEST_CACHE, sub), path.join(cacheCopy, sub), { recursive: true });
    }
  });

  async function flipByte(file: string, at: number): Promise<void> {
    const bytes = await readFile(file);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(file, bytes);
  }

  it("loads the copied package intact (control)", async () => {
    const copy = await loadModelPackage(pkg.id, { cacheDir: cacheCopy });
    expect(copy.manifest).toEqual(pkg.manifest);
  });

  it("detects a flipped byte in a stored object with ARTIFACT_CORRUPT", async () => {
    const store = new ArtifactStore(await tempDir("store"));
    const ref = await store.put(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    await flipByte(store.pathOf(ref.sha256), 3);
    const error = await expectCode(store.get(ref), "ARTIFACT_CORRUPT");
    expect(error.meta?.expected).toBe(ref.sha256);
    expect(error.meta?.actual).not.toBe(ref.sha256);
  });

  it("refuses to prove with a corrupted zkey, and proves again once it is restored", async () => {
    const copy = await loadModelPackage(pkg.id, { cacheDir: cacheCopy });
    const zkey = copy.store.pathOf(copy.manifest.artifacts.zkey.sha256);
    expect(zkey.startsWith(cacheCopy)).toBe(true);
    const at = Math.floor(copy.manifest.artifacts.zkey.size / 2);
    await flipByte(zkey, at);
    await expectCode(verifiableInfer(copy, good), "ARTIFACT_CORRUPT");
    const reopened = await loadModelPackage(pkg.id, { cacheDir: cacheCopy });
    await expectCode(verifiableInfer(reopened, good), "ARTIFACT_CORRUPT");
    await flipByte(zkey, at);
    const { receipt } = await verifiableInfer(copy, good);
    expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
  });

  it("fails with ARTIFACT_MISSING when the witness wasm is gone", async () => {
    const copy = await loadModelPackage(pkg.id, { cacheDir: cacheCopy });
    const wasm = copy.store.pathOf(copy.manifest.artifacts.wasm.sha256);
    const saved = await readFile(wasm);
    await unlink(wasm);
    try {
      await expectCode(verifiableInfer(copy, good), "ARTIFACT_MISSING");
    } finally {
      await writeFile(wasm, saved);
    }
  });

  it("fails with ARTIFACT_CORRUPT when opening a package whose verification key or manifest was altered", async () => {
    const store = new ArtifactStore(cacheCopy);
    for (const file of [
      store.pathOf(pkg.manifest.artifacts.vkey.sha256),
      store.pathOf(pkg.manifest.artifacts.network.sha256),
    ]) {
      await flipByte(file, 10);
      try {
        await expectCode(loadModelPackage(pkg.id, { cacheDir: cacheCopy }), "ARTIFACT_CORRUPT");
      } finally {
        await flipByte(file, 10);
      }
    }
    const index = JSON.parse(await readFile(path.join(cacheCopy, "models", "by-id", `${pkg.id}.json`), "utf8")) as {
      manifest: { sha256: string };
    };
    const manifestFile = store.pathOf(index.manifest.sha256);
    await flipByte(manifestFile, 20);
    try {
      await expectCode(loadModelPackage(pkg.id, { cacheDir: cacheCopy }), "ARTIFACT_CORRUPT");
    } finally {
      await flipByte(manifestFile, 20);
    }
    expect((await loadModelPackage(pkg.id, { cacheDir: cacheCopy })).id).toBe(pkg.id);
  });

  it("fails with ARTIFACT_CORRUPT for a manifest file that is not JSON", async () => {
    const file = path.join(await tempDir("manifest"), "manifest.json");
    await writeFile(file, "{ not json");
    await expectCode(loadModelPackage(file, { cacheDir: cacheCopy }), "ARTIFACT_CORRUPT");
    await writeFile(file, JSON.stringify({ format: "verinfer/model@1" }));
    await expectCode(loadModelPackage(file, { cacheDir: cacheCopy }), "ARTIFACT_CORRUPT");
  });
});
