/**
 * `npm run bench:big-cnn [-- --json] [-- --no-prove] [-- --scale N]`: a CIFAR-shaped CNN (32×32×3 input, three
 * 3×3 convolutions, average pooling, two dense layers; random weights) of about a million constraints with the
 * direct backend — the size a circom compile could not reach (~1.5 ms of CPU per constraint: half an hour). Reports
 * the constraints (estimated before, and the r1cs's), the circuit compile (quantize → .r1cs + witness program), the
 * dev setup (ptau and zkey apart), one proof and its verification, and the process's peak RSS after each stage.
 * `--scale` multiplies the convolutions' filters (default 1: 682,686 constraints; a multiple of 1/16: `--scale 1.5` is
 * 24/48/48 filters, 1,001,363 constraints, inside a 2^20 ptau); `--no-prove` stops after the compile. `--stages` runs
 * instead the steps `compileModel` takes before the setup, one by one, and reports each one's wall time and CPU
 * seconds (`process.cpuUsage`), the r1cs's sha256 (byte-identical output is the backend's contract), the store
 * (hash + write of the artifacts, in a scratch cache) and the witness-only build a proof runs. `--open` times, on the
 * package the last full run left in the bench cache (any scale), the two ways to get a `ModelPackage` of it,
 * interleaved (`--runs`, default 3): from its manifest (`fromManifest`: reads back, hashes and checks every small
 * artifact and the r1cs, recomputes the network commitment — what a load does, and what `compileModel` did before)
 * and from the compile's own values (`fromCompile`: what `compileModel` does now).
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { modelCommitmentOf, modelIo, networkCommitment } from "../src/attest/model-commitment.js";
import { circuitSource } from "../src/circuits/circuit-source.js";
import { buildModelCircuit, estimateConstraints } from "../src/circuits/direct/build-model-circuit.js";
import { writeWitnessProgram } from "../src/circuits/direct/witness-program.js";
import { writeR1cs } from "../src/circuits/direct/write-r1cs.js";
import { integerForward } from "../src/models/integer-forward.js";
import { measureFidelity } from "../src/models/measure-fidelity.js";
import type { Layer, LayerActivation, Network } from "../src/models/network.js";
import { quantizeNetwork } from "../src/models/quantize.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import { ModelPackage } from "../src/package/model-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { quantizeModel } from "../src/pipeline/quantize-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { readR1csHeader } from "../src/proof-systems/plonk-gates.js";
import { proofSystemModule } from "../src/proof-systems/systems.js";
import { verifyReceipt } from "../src/receipts/verify-receipt.js";
import { ArtifactStore } from "../src/storage/artifact-store.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, splitSetup, stageMarks } from "./bench-util.js";
import { arr, randomConv, randomDense, seededRandom } from "./random-layers.js";

const rand = seededRandom(424242);
const conv = (name: string, cin: number, filters: number, activation: LayerActivation): Layer =>
  randomConv(rand, { name, cin, filters, k: 3, activation });
const dense = (name: string, nIn: number, units: number, activation: LayerActivation): Layer =>
  randomDense(rand, name, nIn, units, activation);

/** 32×32×3 → conv 3×3 (16k) relu → conv 3×3 (32k) → avg 2×2 → relu → conv 3×3 (32k) relu → avg 2×2 → dense 64 → 10. */
function bigCnn(k: number): Network {
  const [f1, f2, f3] = [16 * k, 32 * k, 32 * k]; // whole numbers: 16·k is (see main)
  const flat = 6 * 6 * f3;
  return {
    inputShape: [32, 32, 3],
    inputSize: 32 * 32 * 3,
    head: "softmax",
    layers: [
      conv("c1", 3, f1, "relu"),
      conv("c2", f1, f2, "linear"),
      { kind: "avgPool2d", name: "p1", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { kind: "activation", name: "r1", activation: "relu" },
      conv("c3", f2, f3, "relu"),
      { kind: "avgPool2d", name: "p2", poolSize: [2, 2], strides: [2, 2], padding: "valid" },
      { kind: "reshape", name: "flatten", shape: [flat] },
      dense("d1", flat, 64, "relu"),
      dense("d2", 64, 10, "linear"),
    ],
  };
}

const mib = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** One step of `--stages`: wall ms, CPU s (user + system) and the peak RSS after it. */
async function stage<T>(rows: Array<Record<string, unknown>>, name: string, f: () => T | Promise<T>): Promise<T> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = await f();
  const used = process.cpuUsage(cpu);
  rows.push({
    stage: name,
    wallMs: Math.round(performance.now() - t),
    cpuS: Math.round((used.user + used.system) / 1e4) / 100,
    peakRssMb: mib(),
  });
  return result;
}

/** The steps of compileModel before its setup, timed one by one (see the file's note). */
async function stages(net: Network, calibration: number[][], json: boolean): Promise<void> {
  const rows: Array<Record<string, unknown>> = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const options = { calibration, inputRange: [0, 1] as [number, number] };
  const { float, network } = await stage(rows, "quantize", () => quantizeModel(net, options));
  const commitment = await stage(rows, "commitment", async () =>
    modelCommitmentOf({ io: modelIo(network), network: await networkCommitment(network) }),
  );
  await stage(rows, "fidelity", () => measureFidelity({ float, network, samples: calibration }));
  const source = await stage(rows, "circuitSource", () =>
    circuitSource({ network, modelCommitment: commitment, backend: "direct" }),
  );
  const cs = await stage(rows, "buildModelCircuit (track)", () =>
    buildModelCircuit({ network, modelCommitment: commitment, track: true }),
  );
  const r1cs = await stage(rows, "writeR1cs", () => Buffer.from(writeR1cs(cs)));
  const wasm = await stage(rows, "writeWitnessProgram", () =>
    Buffer.from(writeWitnessProgram({ network, modelCommitment: commitment })),
  );
  await stage(rows, "r1cs header", () => readR1csHeader(r1cs));
  const dir = await mkdtemp(path.join(os.tmpdir(), "big-cnn-stages-"));
  try {
    const store = new ArtifactStore(dir);
    // compileModel then opens the package from what it stored (ModelPackage.fromCompile): nothing is read back.
    await stage(rows, "store (r1cs, source, program)", async () => {
      await store.put(r1cs);
      await store.put(source);
      await store.put(wasm);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const compileWall = performance.now() - t0;
  const compileCpu = process.cpuUsage(cpu0);
  await stage(rows, "witness-only build", () =>
    buildModelCircuit({ network, modelCommitment: commitment, track: false }),
  );
  const summary = {
    constraints: cs.nConstraints,
    r1csBytes: r1cs.byteLength,
    r1csSha256: createHash("sha256").update(r1cs).digest("hex"),
    sourceBytes: source.length,
    programBytes: wasm.byteLength,
    compileWallMs: Math.round(compileWall),
    compileCpuS: Math.round((compileCpu.user + compileCpu.system) / 1e4) / 100,
    peakRssMb: mib(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  if (json) console.log(JSON.stringify({ ...summary, stages: rows }));
  else {
    console.table(rows);
    console.table([summary]);
  }
}

const benchCache = () => path.join(packageRoot(), ".verinfer-cache", "bench-big-cnn");

/** `--open`: opening the last full run's package from its manifest vs from the compile's values (see the file's note). */
async function open(json: boolean): Promise<void> {
  const byId = path.join(benchCache(), "models", "by-id");
  const indexes = await Promise.all(
    (await readdir(byId)).map(async (name) => ({ name, mtime: (await stat(path.join(byId, name))).mtimeMs })),
  );
  const latest = indexes.sort((a, b) => b.mtime - a.mtime)[0];
  if (!latest) throw new Error("no package in the bench cache: run `npm run bench:big-cnn -- --no-prove` first");
  const ref = JSON.parse(await readFile(path.join(byId, latest.name), "utf8")).manifest;
  const store = new ArtifactStore(benchCache());
  const manifest = JSON.parse((await store.get(ref, "manifest")).toString("utf8"));
  // What the compile holds in memory when it opens the package: untimed here.
  const text = async (name: "network" | "floatNetwork" | "vkey") =>
    (await store.get(manifest.artifacts[name], name)).toString("utf8");
  const compiled = {
    manifest,
    store,
    json: { network: await text("network"), floatNetwork: await text("floatNetwork"), vkey: await text("vkey") },
    networkCommitment: BigInt(manifest.commitments.network),
    circuitSize: proofSystemModule(manifest.proofSystem).circuitSize(
      new Uint8Array(await store.get(manifest.artifacts.r1cs, "r1cs")),
    ),
  };
  const rows: Array<Record<string, unknown>> = [];
  const runs = Number(argValue("--runs") ?? "3");
  for (let i = 0; i < runs; i++) {
    await stage(rows, "fromManifest (read back + check)", () => ModelPackage.fromManifest(manifest, store));
    await stage(rows, "fromCompile (compile's values)", () => ModelPackage.fromCompile(compiled));
  }
  const summary = {
    package: manifest.name,
    constraints: manifest.circuit.constraints,
    r1csBytes: manifest.artifacts.r1cs.size,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  if (json) console.log(JSON.stringify({ ...summary, runs: rows }));
  else {
    console.table([summary]);
    console.table(rows);
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  if (process.argv.includes("--open")) return open(json);
  const prove = !process.argv.includes("--no-prove");
  const scale = Number(argValue("--scale") ?? "1");
  if (!(scale > 0) || !Number.isInteger(16 * scale)) {
    throw new Error(`--scale must be a positive multiple of 1/16, got ${scale}`);
  }
  const net = bigCnn(scale);
  const calibration = arr(16, () => arr(32 * 32 * 3, () => Math.min(1, Math.max(0, rand() + 0.5))));
  const estimated = estimateConstraints(quantizeNetwork(net, { calibration, inputRange: [0, 1] }));
  if (!json) console.error(`big CNN ×${scale}: ~${estimated.toLocaleString("en")} constraints (estimate)`);
  if (process.argv.includes("--stages")) return stages(net, calibration, json);

  const marks = stageMarks();
  const t0 = performance.now();
  const pkg = await compileModel(net, {
    calibration,
    inputRange: [0, 1],
    force: true,
    quiet: true,
    name: `big-cnn-x${scale}`,
    cacheDir: benchCache(),
    onProgress: marks.onProgress,
    circuitBackend: "direct",
  });
  const end = performance.now();
  const { setupStart, ptauMs } = splitSetup(marks, end);
  const row: Record<string, unknown> = {
    model: `CIFAR-shaped CNN ×${scale} (random weights)`,
    estimatedConstraints: estimated,
    constraints: pkg.manifest.circuit.constraints,
    compileMs: Math.round(setupStart - (marks.first.codegen ?? t0)),
    ptauMs: Math.round(ptauMs),
    setupMs: Math.round(end - setupStart - ptauMs),
    peakRssAfterCompileMb: mib(),
  };
  if (prove) {
    const input = calibration[0] as number[];
    const { receipt } = await verifiableInfer(pkg, input);
    const reference = integerForward(pkg.network, quantizeInput(pkg.network, input)).output.map(String);
    if (receipt.output.quantized.join() !== reference.join()) throw new Error("the proven output differs");
    const t = performance.now();
    const verdict = await verifyReceipt(receipt, { modelPackage: pkg });
    if (!verdict.valid) throw new Error(`the receipt did not verify: ${verdict.reason}`);
    row.proveMs = receipt.timings.proveMs;
    row.verifyMs = Math.round(performance.now() - t);
    row.peakRssMb = mib();
  }
  if (json) console.log(JSON.stringify(row));
  else console.table([row]);
}

await main();
// The setup's and the prover's curve workers would keep the process alive.
process.exit(0);
