// LeNet-5-sized CNNs with random weights: constraints and circom2 compile time of the generated circuit (no
// setup, no proof). Shows what the layer IR costs at the size of the benchmark before trained weights
// exist. Run: npm run bench:cnn -- [avg|max|both]
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { modelCommitment } from "../src/attest/model-commitment.js";
import { generateCircuit } from "../src/circuits/codegen.js";
import { compileCircuit } from "../src/circuits/compile-circuit.js";
import type { Layer, LayerActivation, Network } from "../src/models/network.js";
import { quantizeNetwork } from "../src/models/quantize.js";

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
}
const arr = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);

function conv(name: string, cin: number, filters: number, activation: LayerActivation): Layer {
  const scale = 1 / Math.sqrt(25 * cin);
  return {
    kind: "conv2d",
    name,
    filters,
    kernelSize: [5, 5],
    strides: [1, 1],
    padding: "valid",
    activation,
    kernel: arr(5, () => arr(5, () => arr(cin, () => arr(filters, () => rand() * 2 * scale)))),
    bias: arr(filters, () => rand() * 0.1),
  };
}

function dense(name: string, nIn: number, units: number, activation: LayerActivation): Layer {
  const scale = 1 / Math.sqrt(nIn);
  return {
    name,
    units,
    activation,
    kernel: arr(nIn, () => arr(units, () => rand() * 2 * scale)),
    bias: arr(units, () => rand() * 0.1),
  };
}

/** LeNet-5: average pooling as lenet trains it (conv linear → avg pool → relu), or conv relu → max pool. */
function lenet(pool: "avg" | "max"): Network {
  const pooling = (name: string): Layer =>
    pool === "avg"
      ? { kind: "avgPool2d", name, poolSize: [2, 2], strides: [2, 2], padding: "valid" }
      : { kind: "maxPool2d", name, poolSize: [2, 2], strides: [2, 2], padding: "valid" };
  const act = pool === "avg" ? "linear" : "relu";
  const relu = (name: string): Layer[] => (pool === "avg" ? [{ kind: "activation", name, activation: "relu" }] : []);
  return {
    inputShape: [28, 28, 1],
    inputSize: 784,
    head: "softmax",
    layers: [
      conv("c1", 1, 6, act),
      pooling("p1"),
      ...relu("r1"),
      conv("c2", 6, 16, act),
      pooling("p2"),
      ...relu("r2"),
      { kind: "reshape", name: "flatten", shape: [256] },
      dense("d1", 256, 120, "relu"),
      dense("d2", 120, 84, "relu"),
      dense("d3", 84, 10, "linear"),
    ],
  };
}

async function main(): Promise<void> {
  const which = process.argv[2] ?? "both";
  const rows: Record<string, unknown>[] = [];
  for (const pool of ["avg", "max"] as const) {
    if (which !== "both" && which !== pool) continue;
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
        model: `LeNet-5 (${pool} pool, random weights)`,
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
