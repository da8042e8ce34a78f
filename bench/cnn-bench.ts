// LeNet-5-sized CNNs with random weights: constraints and circom2 compile time of the generated circuit (no
// setup, no proof). Shows what the layer IR costs at the size of the issue's benchmark before trained weights
// exist. Run: npm run bench:cnn -- [avg|max|relu6|leaky|both] (both: avg and max; relu6: the max variant with ReLU6
// activations; leaky: the max variant with conv → LeakyReLU(1/8) → max pool).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { modelCommitment } from "../src/attest/model-commitment.js";
import { generateCircuit } from "../src/circuits/codegen.js";
import { compileCircuit } from "../src/circuits/compile-circuit.js";
import type { Layer, LayerActivation, Network } from "../src/models/network.js";
import { quantizeNetwork } from "../src/models/quantize.js";
import { arr, randomConv, randomDense, seededRandom } from "./random-layers.js";

const rand = seededRandom(12345);
const conv = (name: string, cin: number, filters: number, activation: LayerActivation): Layer =>
  randomConv(rand, { name, cin, filters, k: 5, activation });
const dense = (name: string, nIn: number, units: number, activation: LayerActivation): Layer =>
  randomDense(rand, name, nIn, units, activation);

const VARIANTS = ["avg", "max", "relu6", "leaky"] as const;
type Variant = (typeof VARIANTS)[number];

/**
 * LeNet-5: average pooling as lenet trains it (conv linear → avg pool → relu), conv relu → max pool, the same with
 * ReLU6 everywhere, or conv → LeakyReLU(1/8) → max pool.
 */
function lenet(variant: Variant): Network {
  const pool = variant === "avg" ? "avg" : "max";
  const pooling = (name: string): Layer =>
    pool === "avg"
      ? { kind: "avgPool2d", name, poolSize: [2, 2], strides: [2, 2], padding: "valid" }
      : { kind: "maxPool2d", name, poolSize: [2, 2], strides: [2, 2], padding: "valid" };
  const convActs: Record<Variant, LayerActivation> = { avg: "linear", max: "relu", relu6: "relu6", leaky: "linear" };
  const act = convActs[variant];
  const denseAct: LayerActivation = variant === "relu6" ? "relu6" : "relu";
  const separate = (name: string): Layer[] =>
    variant === "leaky" ? [{ kind: "activation", name, activation: "leakyRelu", alpha: 1 / 8 }] : [];
  const relu = (name: string): Layer[] => (pool === "avg" ? [{ kind: "activation", name, activation: "relu" }] : []);
  return {
    inputShape: [28, 28, 1],
    inputSize: 784,
    head: "softmax",
    layers: [
      conv("c1", 1, 6, act),
      ...separate("a1"),
      pooling("p1"),
      ...relu("r1"),
      conv("c2", 6, 16, act),
      ...separate("a2"),
      pooling("p2"),
      ...relu("r2"),
      { kind: "reshape", name: "flatten", shape: [256] },
      dense("d1", 256, 120, denseAct),
      dense("d2", 120, 84, denseAct),
      dense("d3", 84, 10, "linear"),
    ],
  };
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? "both";
  if (which !== "both" && !(VARIANTS as readonly string[]).includes(which)) {
    throw new Error(`usage: cnn-bench [${VARIANTS.join("|")}|both], got ${which}`);
  }
  const rows: Record<string, unknown>[] = [];
  for (const pool of VARIANTS) {
    if (which === "both" ? pool !== "avg" && pool !== "max" : which !== pool) continue;
    const net = lenet(pool);
    const calibration = arr(16, () => arr(784, () => Math.max(0, rand() + 0.3)));
    const t0 = performance.now();
    const qnet = quantizeNetwork(net, { calibration, inputRange: [0, 1] });
    const commitment = await modelCommitment(qnet);
    const source = generateCircuit({ network: qnet, modelCommitment: commitment });
    const t1 = performance.now();
    const workDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-cnn-bench-"));
    try {
      const compiled = await compileCircuit({ source, workDir });
      const t2 = performance.now();
      const row = {
        model: `LeNet-5 (${pool === "avg" ? "avg pool" : pool === "max" ? "max pool" : `max pool, ${pool}`}, random weights)`,
        layers: qnet.layers.map((l) => l.kind).join(" "),
        sourceKiB: Math.round(source.length / 1024),
        constraints: compiled.nonLinearConstraints + compiled.linearConstraints,
        nonLinear: compiled.nonLinearConstraints,
        quantizeCodegenMs: Math.round(t1 - t0),
        compileMs: Math.round(t2 - t1),
        peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
  console.table(rows);
}

await main();
