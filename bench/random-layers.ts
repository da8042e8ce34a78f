// Layers with seeded random weights, for the benchmarks that need a network of a given shape before (or without)
// trained weights: bench/cnn-bench.ts (LeNet-5 shapes) and bench/big-cnn-bench.ts (a ~0.7M-constraint CNN).
import type { Layer, LayerActivation } from "../src/models/network.js";

/** `n` values of `f()`. */
export const arr = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

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
