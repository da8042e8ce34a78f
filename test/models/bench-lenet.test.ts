// The LeNet benchmark's data and training rest on two pieces of our own: the MNIST split (every script must see the
// same 1,000 test digits, none of them trained on) and the filter-gradient kernel that lets tfjs's wasm backend
// train convolutions (a wrong gradient would train a different model without failing).
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { describe, expect, it } from "vitest";
import { MNIST_PIXELS, mnistDigits } from "../../bench/mnist-digits.js";
import { registerWasmConv2dFilterGradient } from "../../bench/train-lenet.js";

describe("mnistDigits", () => {
  const { train, test } = mnistDigits();

  it("splits the 10,000 digits into 9,000 training and 1,000 test digits, 100 per class, classes interleaved", () => {
    expect(train.xs.length).toBe(9000);
    expect(test.xs.length).toBe(1000);
    expect(test.labels.slice(0, 12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    for (let k = 0; k < 10; k++) expect(test.labels.filter((l) => l === k).length).toBe(100);
    expect(train.xs.every((x) => x.length === MNIST_PIXELS && x.every((v) => v >= 0 && v <= 1))).toBe(true);
  });

  it("never puts a test digit in the training set", () => {
    const seen = new Set(train.xs.map((x) => x.join()));
    expect(test.xs.filter((x) => seen.has(x.join())).length).toBe(0);
  });

  it("gives the same split on every call", () => {
    const again = mnistDigits();
    expect(again.train.labels.slice(0, 50)).toEqual(train.labels.slice(0, 50));
    expect(again.test.xs[7]).toEqual(test.xs[7]);
  });
});

describe("wasm Conv2DBackpropFilter", () => {
  it("gives the cpu backend's filter gradient (valid and same padding, stride 1) and refuses stride 2", async () => {
    const require = createRequire(import.meta.url);
    setWasmPaths(`${path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist")}/`);
    const x = Array.from({ length: 2 * 9 * 9 * 3 }, (_, i) => Math.sin(i * 0.37));
    const w = Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i * 0.11));
    const gradients = async (backend: string) => {
      await tf.setBackend(backend);
      if (backend === "wasm") registerWasmConv2dFilterGradient();
      const out: number[][] = [];
      for (const [pad, stride] of [
        ["valid", 1],
        ["same", 1],
      ] as const) {
        const g = tf.grad((f: tf.Tensor) =>
          tf
            .conv2d(tf.tensor4d(x, [2, 9, 9, 3]), f as tf.Tensor4D, stride, pad)
            .square()
            .sum(),
        )(tf.tensor4d(w, [3, 3, 3, 4]));
        out.push(Array.from(await g.data()));
      }
      return out;
    };
    const cpu = await gradients("cpu");
    await tf.setBackend("wasm");
    registerWasmConv2dFilterGradient();
    const strided = tf.grad((f: tf.Tensor) =>
      tf.conv2d(tf.tensor4d(x, [2, 9, 9, 3]), f as tf.Tensor4D, 2, "valid").sum(),
    );
    expect(() => strided(tf.tensor4d(w, [3, 3, 3, 4]))).toThrow(/stride 1 only/);
    const wasm = await gradients("wasm");
    for (const [k, g] of wasm.entries()) {
      const ref = cpu[k] as number[];
      expect(g.length).toBe(ref.length);
      expect(
        Math.max(...g.map((v, i) => Math.abs(v - (ref[i] as number)) / (1 + Math.abs(ref[i] as number)))),
      ).toBeLessThan(1e-4);
    }
  });
});
