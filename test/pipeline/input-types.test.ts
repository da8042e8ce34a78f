import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  isVerinferError,
  type ModelInput,
  type ModelPackage,
  type Receipt,
  verifiableInfer,
  verifiableInferBatch,
  verifyReceipt,
} from "../../src/index.js";
import { flattenInput } from "../../src/models/quantize-input.js";
import { demoPackage, demoSamples, errorOf } from "../fixtures.js";

// Fixed salts: equal inputs must then give equal commitments, whatever container they came in.
const salts = { inputSalt: 1234567n, outputSalt: 7654321n };

/** The commitments and outputs of an input's receipt (mode "none": no proof needed to compare them). */
async function statement(pkg: ModelPackage, input: ModelInput) {
  const { receipt } = await verifiableInfer(pkg, input, { mode: "none", ...salts });
  return { input: receipt.input.commitment, output: receipt.output.commitment, quantized: receipt.output.quantized };
}

async function expectInvalid(promise: Promise<unknown>) {
  const error = await errorOf(promise);
  expect(isVerinferError(error, "INVALID_INPUT"), String(error)).toBe(true);
}

describe("input types", () => {
  let pkg: ModelPackage;
  const values = demoSamples.inputs[2];
  // The same values as float32 numbers: what a Float32Array or a float32 tensor holds.
  const asFloat32 = Array.from(new Float32Array(values));
  // 0/1 values, exact in every typed array (the demo's calibrated range is [0, ~2)).
  const bits = values.map((v) => (v > 0.5 ? 1 : 0));

  beforeAll(async () => {
    pkg = await demoPackage();
  });

  it("gives a Float32Array and a Float64Array the commitments of the equal plain array", async () => {
    const plain = await statement(pkg, asFloat32);
    expect(await statement(pkg, new Float32Array(values))).toEqual(plain);
    expect(await statement(pkg, new Float64Array(asFloat32))).toEqual(plain);
    // At the demo's input scale, float32 rounding does not move these values to another integer.
    expect(await statement(pkg, values)).toEqual(plain);
  });

  it("gives every integer typed array the commitments of the equal plain array", async () => {
    const plain = await statement(pkg, bits);
    for (const typed of [
      Int8Array.from(bits),
      Uint8Array.from(bits),
      Uint8ClampedArray.from(bits),
      Int16Array.from(bits),
      Uint16Array.from(bits),
      Int32Array.from(bits),
      Uint32Array.from(bits),
      BigInt64Array.from(bits.map(BigInt)),
      BigUint64Array.from(bits.map(BigInt)),
    ]) {
      expect(await statement(pkg, typed), typed.constructor.name).toEqual(plain);
    }
  });

  it("gives a tf.Tensor of the input shape the commitments of the equal array, and a zk receipt that verifies", async () => {
    const tensor = tf.tensor1d(values);
    const fromInt = tf.tensor1d(bits, "int32");
    const fromBool = tf.tensor1d(
      bits.map((b) => b === 1),
      "bool",
    );
    try {
      expect(await statement(pkg, tensor)).toEqual(await statement(pkg, asFloat32));
      expect(await statement(pkg, fromInt)).toEqual(await statement(pkg, bits));
      expect(await statement(pkg, fromBool)).toEqual(await statement(pkg, bits));
      const { receipt } = await verifiableInfer(pkg, tensor, salts);
      const { receipt: fromArray } = await verifiableInfer(pkg, asFloat32, salts);
      expect((receipt as Receipt).proof?.publicSignals).toEqual(fromArray.proof?.publicSignals);
      expect(await verifyReceipt(receipt, { modelPackage: pkg })).toMatchObject({ valid: true });
      // The caller's tensor is read, not consumed.
      expect(tensor.isDisposed).toBe(false);
    } finally {
      tf.dispose([tensor, fromInt, fromBool]);
    }
  });

  it("takes a batch mixing arrays, typed arrays and tensors", async () => {
    const tensor = tf.tensor1d(values);
    try {
      const results = await verifiableInferBatch(pkg, [asFloat32, new Float32Array(values), tensor], { mode: "none" });
      const quantized = results.map((r) => r.receipt.output.quantized);
      expect(quantized[1]).toEqual(quantized[0]);
      expect(quantized[2]).toEqual(quantized[0]);
    } finally {
      tensor.dispose();
    }
  });

  it("refuses a tensor of another shape, a disposed tensor, and a string tensor", async () => {
    const batched = tf.tensor2d([values]);
    const square = tf.tensor2d(values, [4, 4]);
    const disposed = tf.tensor1d(values);
    disposed.dispose();
    const strings = tf.tensor1d(values.map(String), "string");
    try {
      for (const bad of [batched, square, disposed, strings]) await expectInvalid(verifiableInfer(pkg, bad));
      const error = await errorOf(verifiableInfer(pkg, batched));
      expect(isVerinferError(error) && error.meta?.got).toEqual([1, 16]);
    } finally {
      tf.dispose([batched, square, strings]);
    }
  });

  it("refuses typed arrays of the wrong length, NaN in a Float32Array, a DataView, and an out-of-range Uint8Array", async () => {
    await expectInvalid(verifiableInfer(pkg, new Float32Array(15)));
    await expectInvalid(verifiableInfer(pkg, new Float32Array(17)));
    const withNaN = new Float32Array(values);
    withNaN[9] = Number.NaN;
    const error = await errorOf(verifiableInfer(pkg, withNaN));
    expect(isVerinferError(error, "INVALID_INPUT") && error.meta?.index).toBe(9);
    await expectInvalid(verifiableInfer(pkg, new DataView(new ArrayBuffer(64)) as unknown as ModelInput));
    const big = Uint8Array.from(bits);
    big[3] = 200;
    const range = await errorOf(verifiableInfer(pkg, big));
    expect(isVerinferError(range, "INVALID_INPUT") && range.meta?.index).toBe(3);
  });

  it("flattens nested inputs whose rows are typed arrays, in row-major order", () => {
    const net = { inputShape: [2, 3], inputSize: 6 };
    const expected = [1, 2, 3, 4, 5, 6];
    expect(flattenInput(net, [new Float32Array([1, 2, 3]), new Int16Array([4, 5, 6])])).toEqual(expected);
    expect(flattenInput(net, [[1, 2, 3], Uint8Array.from([4, 5, 6])])).toEqual(expected);
    expect(flattenInput(net, new Float64Array(expected))).toEqual(expected);
    expect(flattenInput(net, expected)).toEqual(expected);
    const tensor = tf.tensor2d(expected, [2, 3]);
    try {
      expect(flattenInput(net, tensor)).toEqual(expected);
    } finally {
      tensor.dispose();
    }
    // Rows of the wrong width, or a 3 × 2 tensor holding the same six values, are another shape.
    const transposed = tf.tensor2d(expected, [3, 2]);
    try {
      for (const bad of [[new Float32Array([1, 2]), new Float32Array([3, 4, 5, 6])], transposed]) {
        let error: unknown;
        try {
          flattenInput(net, bad);
        } catch (e) {
          error = e;
        }
        expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
      }
    } finally {
      transposed.dispose();
    }
  });

  it("types the input parameter: arrays, typed arrays and tensors compile, other values do not", () => {
    const accepted: ModelInput[] = [values, [values], new Float32Array(16), Uint8Array.from(bits), tf.zeros([16])];
    expect(accepted).toHaveLength(5);
    tf.dispose(accepted[4] as tf.Tensor);
    // @ts-expect-error a string is not a model input
    const notAnInput: ModelInput = "0.5,0.1";
    // @ts-expect-error nor an array of strings
    const noStrings: ModelInput = ["0.5"];
    expect([notAnInput, noStrings]).toHaveLength(2);
  });
});
