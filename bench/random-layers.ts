// Seeded randomness for the benchmarks and the tests that draw networks: two generators (the same numbers every run,
// on every platform), and layers with seeded random weights for a network of a given shape before (or without)
// trained weights: bench/cnn-bench.ts (LeNet-5 shapes) and bench/big-cnn-bench.ts (a ~0.7M-constraint CNN).
import type { Layer, LayerActivation } from "../src/models/network.js";

/** `n` values of `f()`. */
export const arr = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

/**
 * mulberry32: a tiny seeded PRNG, identical on every platform.
 *
 * @param seed - any 32-bit integer.
 * @returns a function returning uniform floats in [0, 1).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator of numbers in [−0.5, 0.5) (a linear congruential generator: the same weights every run). */
export function seededRandom(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
}

/** A `k`×`k` valid, stride-1 convolution with He-like scaled random weights. */
export function randomConv(
  rand: () => number,
  p: { name: string; cin: number; filters: number; k: number; activation: LayerActivation },
): Layer {
  const scale = 1 / Math.sqrt(p.k * p.k * p.cin);
  return {
    kind: "conv2d",
    name: p.name,
    filters: p.filters,
    kernelSize: [p.k, p.k],
    strides: [1, 1],
    padding: "valid",
    activation: p.activation,
    kernel: arr(p.k, () => arr(p.k, () => arr(p.cin, () => arr(p.filters, () => rand() * 2 * scale)))),
    bias: arr(p.filters, () => rand() * 0.1),
  };
}

/** A dense layer with scaled random weights. */
export function randomDense(
  rand: () => number,
  name: string,
  nIn: number,
  units: number,
  activation: LayerActivation,
): Layer {
  const scale = 1 / Math.sqrt(nIn);
  return {
    name,
    units,
    activation,
    kernel: arr(nIn, () => arr(units, () => rand() * 2 * scale)),
    bias: arr(units, () => rand() * 0.1),
  };
}
