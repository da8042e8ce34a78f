/**
 * `npm run bench:maxpool [-- --json]`: what max pooling costs in the circuit, and what the other ways of proving a
 * maximum would cost on the same layers, from the interval analysis alone (no setup, no proof: seconds). For every
 * bench model (the tfjs models of bench/models and every ONNX CNN there): its constraints and max-pooling share;
 * then, per max-pooling layer, the constraints of
 *
 * - `runningMax`: what the circuit emits — a running maximum `m ← m + relu(a − m)`, each of the k − 1 steps a
 *   signed range check of the layer's `diffBits` (one width for the whole layer, committed in its descriptor) and
 *   one product;
 * - `runningMaxPerWindow`: the same with each step's width from that window's own input bounds;
 * - `pairwiseExact`: the same again with each difference bounded through the layer before: a_i − m is
 *   min_j (a_i − a_j) over the earlier values, and each a_i − a_j of a conv2d is one linear combination of its inputs
 *   (the bias cancels and weights may), bounded exactly;
 * - `direct`: out one of the window's values (Π (out − a_i) = 0, k − 1 products) and out − a_i >= 0 for every i,
 *   each an unsigned range check of that window's width (hi of the window − lo_i); `directPairwise` the same with
 *   out − a_i = max_j (a_j − a_i) bounded through the layer before.
 *
 * Also the witness's share of values >= 2^64 (what makes snarkjs's MSMs dear) and the number of private wires that
 * hold a negative integer (the scalar p − |x|), from one witness computed directly on the first test digit.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { buildModelCircuit, estimateConstraints } from "../src/circuits/direct/build-model-circuit.js";
import type { Bounds } from "../src/layers/layer-module.js";
import { moduleOf } from "../src/layers/registry.js";
import { conv2dTerms } from "../src/models/layers/conv2d.js";
import type { LinearTerms } from "../src/models/layers/linear.js";
import { maxPoolWindows, type QuantizedMaxPool2d } from "../src/models/layers/max-pool2d.js";
import { signedBits } from "../src/models/layers/rescale.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import type { QuantizedLayer, QuantizedNetwork } from "../src/models/quantized-network.js";
import { quantizeModel } from "../src/pipeline/quantize-model.js";
import { packageRoot } from "../src/util/package-root.js";
import { mnistDigits } from "./mnist-digits.js";

/** Bits of an unsigned value in [0, x]. */
const unsignedBits = (x: bigint): number => (x <= 0n ? 1 : x.toString(2).length);
const maxOf = (v: readonly bigint[]) => v.reduce((a, b) => (b > a ? b : a));
const minOf = (v: readonly bigint[]) => v.reduce((a, b) => (b < a ? b : a));

/** Exact bounds of a_i − a_j when both are outputs of the same linear layer over inputs within `input`. */
function differenceBounds(t: LinearTerms, input: Bounds, i: number, j: number): [bigint, bigint] {
  const w = new Map<number, bigint>();
  t.visit(i, (k, v) => w.set(k, (w.get(k) ?? 0n) + v));
  t.visit(j, (k, v) => w.set(k, (w.get(k) ?? 0n) - v));
  let lo = t.bias(i) - t.bias(j);
  let hi = lo;
  for (const [k, v] of w) {
    const a = v * (input.lo[k] as bigint);
    const b = v * (input.hi[k] as bigint);
    lo += a < b ? a : b;
    hi += a < b ? b : a;
  }
  return [lo, hi];
}

interface PoolCost {
  layer: string;
  windows: number;
  k: number;
  diffBits: number;
  runningMax: number;
  runningMaxPerWindow: number;
  pairwiseExact: number | null;
  direct: number;
  directPairwise: number | null;
}

function poolCost(l: QuantizedMaxPool2d, input: Bounds, before: { layer: QuantizedLayer; input: Bounds } | null) {
  const windows = maxPoolWindows(l);
  const k = windows[0]?.length ?? 0;
  const terms = before?.layer.kind === "conv2d" ? conv2dTerms(before.layer) : null;
  let perWindow = 0;
  let pairwise = 0;
  let direct = 0;
  let directPairwise = 0;
  for (const w of windows) {
    let mLo = input.lo[w[0] as number] as bigint;
    let mHi = input.hi[w[0] as number] as bigint;
    for (const [s, i] of w.entries()) {
      if (s === 0) continue;
      const aLo = input.lo[i] as bigint;
      const aHi = input.hi[i] as bigint;
      perWindow += signedBits(aLo - mHi, aHi - mLo) + 1;
      if (aLo > mLo) mLo = aLo;
      if (aHi > mHi) mHi = aHi;
      if (terms && before) {
        // a_i − m with m the largest earlier value of the window: a_i − m = min_j (a_i − a_j), so it lies in
        // [min_j lo(a_i − a_j), min_j hi(a_i − a_j)], each pairwise difference bounded exactly as one linear form.
        const d = w.slice(0, s).map((j) => differenceBounds(terms, before.input, i, j));
        pairwise += signedBits(minOf(d.map((x) => x[0])), minOf(d.map((x) => x[1]))) + 1;
      }
    }
    const hi = maxOf(w.map((i) => input.hi[i] as bigint));
    direct += w.reduce((n, i) => n + unsignedBits(hi - (input.lo[i] as bigint)), 0) + (w.length - 1);
    if (terms && before) {
      // out − a_i = max_j (a_j − a_i) <= max_j hi(a_j − a_i).
      for (const i of w) {
        const his = w.filter((j) => j !== i).map((j) => differenceBounds(terms, before.input, j, i)[1]);
        directPairwise += unsignedBits(maxOf(his));
      }
      directPairwise += w.length - 1;
    }
  }
  return {
    layer: l.name,
    windows: windows.length,
    k,
    diffBits: l.diffBits,
    runningMax: windows.length * (k - 1) * (l.diffBits + 1),
    runningMaxPerWindow: perWindow,
    pairwiseExact: terms ? pairwise : null,
    direct,
    directPairwise: terms ? directPairwise : null,
  } satisfies PoolCost;
}

function analyse(name: string, net: QuantizedNetwork, digit: readonly number[]) {
  let bounds: Bounds = {
    lo: Array.from({ length: net.inputSize }, () => net.input.lo),
    hi: Array.from({ length: net.inputSize }, () => net.input.hi),
  };
  let before: { layer: QuantizedLayer; input: Bounds } | null = null;
  const pools: PoolCost[] = [];
  let poolConstraints = 0;
  for (const layer of net.layers) {
    const m = moduleOf(layer);
    if (layer.kind === "maxPool2d") {
      pools.push(poolCost(layer, bounds, before));
      poolConstraints += m.estimate(layer);
    }
    before = { layer, input: bounds };
    bounds = m.bounds(layer, bounds);
  }
  const cs = buildModelCircuit({
    network: net,
    modelCommitment: 1n,
    inputs: { input: quantizeInput(net, digit), inputSalt: 1n, outputSalt: 2n },
    track: false,
  });
  const w = cs.witness();
  const large = w.filter((v) => v >= 1n << 64n).length;
  const negativePrivate = cs.values.filter((v, i) => i > cs.nPublic && v < 0n).length;
  return {
    model: name,
    constraints: estimateConstraints(net),
    maxPoolConstraints: poolConstraints,
    wires: w.length,
    largeScalarFraction: Math.round((large / w.length) * 10000) / 10000,
    largeScalars: large,
    negativePrivateWires: negativePrivate,
    pools,
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const dir = path.join(packageRoot(), "bench", "models");
  const digits = mnistDigits();
  const models: Array<{ name: string; source: string; calibration: number[][] }> = [];
  for (const entry of readdirSync(dir).sort()) {
    const samples = path.join(dir, entry, "samples.json");
    if (existsSync(samples)) {
      const { calibration } = JSON.parse(readFileSync(samples, "utf8")) as { calibration: number[][] };
      models.push({ name: entry, source: path.join(dir, entry), calibration });
    } else if (entry.endsWith(".onnx")) {
      const sidecar = path.join(dir, `${entry.slice(0, -".onnx".length)}.samples.json`);
      const calibration = existsSync(sidecar)
        ? (JSON.parse(readFileSync(sidecar, "utf8")) as { calibration: number[][] }).calibration
        : digits.train.xs.slice(0, 64);
      models.push({ name: entry.slice(0, -".onnx".length), source: path.join(dir, entry), calibration });
    }
  }
  for (const m of models) {
    const { network } = await quantizeModel(m.source, { calibration: m.calibration });
    const r = analyse(m.name, network, digits.test.xs[0] as number[]);
    if (json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      continue;
    }
    const { pools, ...summary } = r;
    console.log(summary);
    if (pools.length > 0) console.table(pools);
  }
}

await main();
