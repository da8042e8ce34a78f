// Graph networks (issue 21, item 1): residual adds, concatenations, gating products and tensors read by several
// layers, quantized, proven by the direct backend equal to integerForward, every wire pinned, and the wiring bound
// by the model commitment.
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment, networkCommitment } from "../../src/attest/model-commitment.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { buildModelCircuit, estimateConstraints } from "../../src/circuits/direct/build-model-circuit.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { isVerinferError } from "../../src/errors.js";
import { integerForward } from "../../src/models/integer-forward.js";
import type { Layer, Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import {
  type QuantizedNetwork,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../src/models/quantized-network.js";
import { toField } from "../../src/util/field.js";
import { checkR1cs, constraintsByWire, parseR1cs, violatedConstraints } from "../r1cs-check.js";

/** Deterministic pseudo-random weights in [-1, 1]. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
}

function conv(name: string, c: number, filters: number, r: () => number, extra: Partial<Layer> = {}): Layer {
  return {
    kind: "conv2d",
    name,
    filters,
    kernelSize: [3, 3],
    strides: [1, 1],
    padding: "same",
    activation: "relu",
    kernel: Array.from({ length: 3 }, () =>
      Array.from({ length: 3 }, () => Array.from({ length: c }, () => Array.from({ length: filters }, r))),
    ),
    bias: Array.from({ length: filters }, r),
    ...extra,
  } as Layer;
}

function dense(name: string, nIn: number, units: number, r: () => number, extra: Partial<Layer> = {}): Layer {
  return {
    name,
    units,
    activation: "linear",
    kernel: Array.from({ length: nIn }, () => Array.from({ length: units }, r)),
    bias: Array.from({ length: units }, r),
    ...extra,
  } as Layer;
}

/** x → conv(relu) → conv(linear) → add(x-branch, conv) → relu → flatten → dense, softmax. */
function residualNetwork(seed = 1): Network {
  const r = rng(seed);
  return {
    inputShape: [4, 4, 2],
    inputSize: 32,
    layers: [
      conv("stem", 2, 2, r),
      conv("c1", 2, 2, r),
      conv("c2", 2, 2, r, { activation: "linear" }),
      { kind: "add", name: "res", inputs: [1, 3] },
      { kind: "activation", name: "relu", activation: "relu" },
      { kind: "reshape", name: "flatten", shape: [32] },
      dense("logits", 32, 3, r),
    ],
    head: "softmax",
  };
}

/** Two branches from the input concatenated on channels, a gating product, and features concatenated. */
function branchyNetwork(seed = 2): Network {
  const r = rng(seed);
  return {
    inputShape: [4, 4, 1],
    inputSize: 16,
    layers: [
      conv("a", 1, 2, r), // 1
      conv("b", 1, 1, r, { inputs: [0], activation: "linear" }), // 2
      { kind: "concat", name: "cat", inputs: [1, 2] }, // 3: [4,4,3]
      { kind: "reshape", name: "flatten", shape: [48] }, // 4
      dense("g1", 48, 4, r), // 5
      dense("g2", 48, 4, r, { inputs: [4], activation: "relu" }), // 6
      { kind: "mul", name: "gate", inputs: [5, 6] }, // 7
      { kind: "concat", name: "feat", inputs: [7, 5] }, // 8: [8]
      dense("out", 8, 2, r), // 9
    ],
  };
}

function calibration(net: Network, n: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: net.inputSize }, () => (r() + 1) / 2));
}

function inputsOf(qnet: QuantizedNetwork): bigint[][] {
  const { lo, hi } = qnet.input;
  const span = hi - lo + 1n;
  return [
    new Array<bigint>(qnet.inputSize).fill(hi),
    Array.from({ length: qnet.inputSize }, (_, i) => lo + ((BigInt(i) * 104729n + 7n) % span)),
  ];
}

/** Proves a network's witness equals integerForward and that every wire changed alone breaks a constraint. */
async function checkProven(qnet: QuantizedNetwork): Promise<void> {
  const mc = await modelCommitment(qnet);
  const cs = buildModelCircuit({ network: qnet, modelCommitment: mc, track: true });
  const r1cs = parseR1cs(writeR1cs(cs));
  expect(r1cs.constraints.length).toBe(estimateConstraints(qnet));
  const byWire = constraintsByWire(r1cs);
  for (const [t, input] of inputsOf(qnet).entries()) {
    const salts = { inputSalt: 5n, outputSalt: 7n };
    const w = buildModelCircuit({
      network: qnet,
      modelCommitment: mc,
      track: false,
      inputs: { input, ...salts },
    }).witness();
    expect(checkR1cs(r1cs, w).ok).toBe(true);
    const ref = integerForward(qnet, input);
    const half = 1n << BigInt(qnet.outputWidth - 1);
    expect(w.slice(1, 4 + ref.output.length + (qnet.head ? 1 : 0))).toEqual([
      mc,
      await commitValues({ values: input, lo: qnet.input.lo, width: qnet.input.bits, salt: salts.inputSalt }),
      await commitValues({ values: ref.output, lo: -half, width: qnet.outputWidth, salt: salts.outputSalt }),
      ...ref.output.map(toField),
      ...(qnet.head ? [BigInt(ref.class as number)] : []),
    ]);
    if (t > 0) continue;
    for (let i = 1; i < w.length; i++) {
      const forged = w.slice();
      forged[i] = toField((w[i] as bigint) + 1n);
      if (violatedConstraints(r1cs, forged, byWire[i] ?? []).length === 0) {
        throw new Error(`wire ${i} of ${w.length} changed alone satisfies the R1CS`);
      }
    }
  }
}

/** A random small graph: a dense stem, two branches of it merged by add, concat or mul, maybe twice, then a head. */
function randomGraph(seed: number): {
  net: Network;
  bits: { inputBits: number; weightBits: number; activationBits: number };
} {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(((r() + 1) / 2) * xs.length) % xs.length] as T;
  const n = 2 + Math.floor(((r() + 1) / 2) * 3);
  const act = () => pick(["linear", "relu", "relu6"] as const);
  const layers: Layer[] = [dense("stem", 4, n, r, { activation: act() })];
  let width = n;
  for (const [b, merge] of [
    pick(["add", "concat", "mul"] as const),
    pick(["add", "concat", "mul", "none"] as const),
  ].entries()) {
    if (merge === "none") break;
    const t = layers.length; // the tensor both branches read
    layers.push(dense(`a${b}`, width, n, r, { activation: act() }));
    layers.push(dense(`b${b}`, width, n, r, { activation: act(), inputs: [t] }));
    // Either branch with the merge's other input: a branch output or the shared tensor itself (when sizes match).
    const other = width === n && r() > 0 ? t : t + 1;
    layers.push({ kind: merge, name: `m${b}`, inputs: [other, t + 2] });
    if (r() > 0) layers.push({ kind: "activation", name: `act${b}`, activation: "relu" });
    width = merge === "concat" ? 2 * n : n;
  }
  layers.push(dense("head", width, 2, r));
  return {
    net: { inputShape: [4], inputSize: 4, layers },
    bits: {
      inputBits: pick([3, 6, 8]),
      weightBits: pick([3, 5, 8]),
      activationBits: pick([6, 10, 16]),
    },
  };
}

describe("graph networks", () => {
  it("random graphs of add, concat and mul: proven = integerForward, every wire pinned", async () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 16; seed++) {
      const { net, bits } = randomGraph(seed);
      const qnet = quantizeNetwork(net, { calibration: calibration(net, 3, seed), ...bits });
      for (const l of qnet.layers) kinds.add(l.kind);
      await checkProven(qnet);
    }
    for (const k of ["add", "concat", "mul"]) expect(kinds).toContain(k);
  });

  it("quantizes a residual CNN: the add aligns its inputs by shifts, the proof equals integerForward, every wire pinned", async () => {
    const net = residualNetwork();
    const qnet = quantizeNetwork(net, { calibration: calibration(net, 4, 3) });
    const add = qnet.layers.find((l) => l.kind === "add");
    expect(add?.inputs).toHaveLength(2);
    expect(qnet.layers.some((l) => l.inputs !== undefined && l.kind !== "add")).toBe(false);
    expect(quantizedNetworkFromJson(quantizedNetworkToJson(qnet))).toEqual(qnet);
    await checkProven(qnet);
  });

  it("quantizes branches, concatenations and a gating product, proven equal to integerForward, every wire pinned", async () => {
    const net = branchyNetwork();
    const qnet = quantizeNetwork(net, { calibration: calibration(net, 4, 4), activationBits: 10, weightBits: 6 });
    const kinds = qnet.layers.map((l) => l.kind);
    for (const k of ["concat", "mul"]) expect(kinds).toContain(k);
    await checkProven(qnet);
  });

  it("follows the float model: the integer outputs track a float forward pass of the graph", () => {
    const net = residualNetwork(5);
    const cal = calibration(net, 6, 9);
    const qnet = quantizeNetwork(net, { calibration: cal, activationBits: 16 });
    // Float reference by hand: the same graph in plain JS.
    const r = floatForward(net, cal[0] as number[]);
    const xq = (cal[0] as number[]).map((v) => BigInt(Math.round(v * 2 ** qnet.input.fracBits)));
    const out = integerForward(qnet, xq).output.map((v) => Number(v) / 2 ** qnet.outputFracBits);
    const scale = Math.max(...r.map(Math.abs), 1);
    for (const [j, v] of out.entries()) expect(Math.abs(v - (r[j] as number))).toBeLessThan(0.05 * scale);
  });

  it("binds the wiring: two networks that differ only in which tensor a merge reads have different commitments", async () => {
    const net = branchyNetwork();
    const qnet = quantizeNetwork(net, { calibration: calibration(net, 4, 4), activationBits: 10, weightBits: 6 });
    const mulAt = qnet.layers.findIndex((l) => l.kind === "mul");
    const mul = qnet.layers[mulAt] as QuantizedNetwork["layers"][number];
    const [a, b] = mul.inputs as [number, number];
    // The same layers, the gate's inputs swapped (a·b = b·a: same outputs), and then one read from elsewhere.
    const swapped = structuredClone(qnet);
    (swapped.layers[mulAt] as { inputs: number[] }).inputs = [b, a];
    expect(await networkCommitment(swapped)).not.toBe(await networkCommitment(qnet));
    const rewired = structuredClone(qnet);
    (rewired.layers[mulAt] as { inputs: number[] }).inputs = [a, a];
    expect(await modelCommitment(rewired)).not.toBe(await modelCommitment(qnet));
    // A chain read through an explicit `inputs` equal to the default is the same network, with the same id.
    const chainNet = quantizeNetwork(
      { inputShape: [3], inputSize: 3, layers: [dense("d", 3, 2, rng(3))] },
      { calibration: [[0.1, 0.5, 0.9]] },
    );
    const explicit = structuredClone(chainNet);
    explicit.layers.forEach((l, i) => {
      l.inputs = [i];
    });
    expect(await modelCommitment(explicit)).toBe(await modelCommitment(chainNet));
    // A chain and the graph that reads the input again (a layer skipped) differ.
    const skipping = structuredClone(chainNet);
    skipping.layers.splice(1, 0, { ...(skipping.layers[1] as QuantizedNetwork["layers"][number]), inputs: [1] });
    expect(await networkCommitment(skipping)).not.toBe(await networkCommitment(chainNet));
  });

  it("refuses wiring that reads a later tensor, merges of one tensor, and graphs in the circom backend", async () => {
    const net = residualNetwork();
    const qnet = quantizeNetwork(net, { calibration: calibration(net, 2, 3) });
    const addAt = qnet.layers.findIndex((l) => l.kind === "add");
    const forward = structuredClone(qnet);
    (forward.layers[addAt] as { inputs: number[] }).inputs = [addAt + 1, addAt];
    const wrongSize = structuredClone(qnet);
    (wrongSize.layers[addAt] as { inputs: number[] }).inputs = [addAt];
    for (const bad of [forward, wrongSize]) {
      expect(() => buildModelCircuit({ network: bad, modelCommitment: 1n, track: true })).toThrow(
        expect.objectContaining({ code: "INVALID_MODEL" }),
      );
    }
    try {
      generateCircuit({ network: qnet, modelCommitment: 1n });
      expect.unreachable();
    } catch (e) {
      expect(isVerinferError(e, "UNSUPPORTED_LAYER")).toBe(true);
    }
  });
});

/** A plain-JS float forward pass of a graph network (the float semantics of the IR). */
function floatForward(net: Network, x: readonly number[]): number[] {
  const tensors: { v: number[]; shape: number[] }[] = [{ v: x.slice(), shape: net.inputShape.slice() }];
  const act = (a: string, v: number) =>
    a === "relu" ? Math.max(v, 0) : a === "relu6" ? Math.min(Math.max(v, 0), 6) : v;
  net.layers.forEach((layer, l) => {
    const ins = (layer.inputs ?? [l]).map((t) => tensors[t] as { v: number[]; shape: number[] });
    const a = ins[0] as { v: number[]; shape: number[] };
    if (layer.kind === undefined || layer.kind === "dense") {
      const d = layer as Extract<Layer, { units: number }>;
      const y = d.bias.map((b, j) =>
        act(
          d.activation,
          a.v.reduce((s, xi, i) => s + xi * (d.kernel[i]?.[j] as number), b),
        ),
      );
      tensors.push({ v: y, shape: [d.units] });
      return;
    }
    switch (layer.kind) {
      case "conv2d": {
        const [h, w, c] = a.shape as [number, number, number];
        const y: number[] = [];
        for (let oy = 0; oy < h; oy++)
          for (let ox = 0; ox < w; ox++)
            for (let f = 0; f < layer.filters; f++) {
              let s = layer.bias[f] as number;
              for (let ky = 0; ky < 3; ky++)
                for (let kx = 0; kx < 3; kx++) {
                  const iy = oy + ky - 1;
                  const ix = ox + kx - 1;
                  if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                  for (let ci = 0; ci < c; ci++)
                    s += (a.v[(iy * w + ix) * c + ci] as number) * (layer.kernel[ky]?.[kx]?.[ci]?.[f] as number);
                }
              y.push(act(layer.activation, s));
            }
        tensors.push({ v: y, shape: [h, w, layer.filters] });
        return;
      }
      case "add":
        tensors.push({
          v: a.v.map((v, j) => ins.reduce((s, t, k) => (k === 0 ? s : s + (t.v[j] as number)), v)),
          shape: a.shape,
        });
        return;
      case "activation":
        tensors.push({ v: a.v.map((v) => act(layer.activation, v)), shape: a.shape });
        return;
      case "reshape":
        tensors.push({ v: a.v, shape: layer.shape });
        return;
      default:
        throw new Error(`floatForward: ${layer.kind}`);
    }
  });
  return (tensors[tensors.length - 1] as { v: number[] }).v;
}
