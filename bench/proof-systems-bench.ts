/**
 * `npm run bench:systems [-- --json] [-- --models demo,mlp] [-- --systems groth16,plonk,fflonk] [-- --runs N]
 * [-- --count-only]`: the same model under each proof system — R1CS constraints and PLONK gates, the ptau power each
 * setup needs, setup time (compile excluded; a dev ptau generated on the way is reported apart), prove (median of
 * warm in-process runs, witness included), verify (snarkjs's verifier alone, and verifyReceipt), proof size (bytes of
 * the verifier's calldata and of snarkjs's proof JSON), and on-chain gas on a local anvil (the bare verifier call
 * and the registry's submit, both with the 21,000 base cost and calldata). The 1-minute load average is printed
 * beside each timing: the machine is shared. `--count-only` compiles the circuit and counts gates without any
 * setup, for models whose PLONK/FFLONK setup is out of reach.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { modelCommitment } from "../src/attest/model-commitment.js";
import type { ReceiptProof } from "../src/attest/receipt.js";
import {
  deployRegistry,
  deployVerifier,
  fflonkCalldata,
  groth16Calldata,
  plonkCalldata,
  registerModel,
  startAnvil,
  submitReceipt,
} from "../src/chain/index.js";
import { generateCircuit } from "../src/circuits/codegen.js";
import { compileCircuit } from "../src/circuits/compile-circuit.js";
import type { ModelPackage } from "../src/package/model-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { quantizeModel } from "../src/pipeline/quantize-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { plonkGateCount } from "../src/proof-systems/plonk-gates.js";
import { PROOF_SYSTEMS, type ProofSystem } from "../src/proof-systems/proof-system.js";
import { requiredPtauPowerFor } from "../src/proof-systems/systems.js";
import { verifySnarkProof } from "../src/proof-systems/verify-snark-proof.js";
import { verifyReceipt } from "../src/receipts/verify-receipt.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median, splitSetup, stageMarks } from "./bench-util.js";

const MODELS: Record<string, string> = {
  demo: path.join(packageRoot(), "examples", "models", "demo-glyphs"),
  mlp: path.join(packageRoot(), "bench", "models", "mlp-784-56-10"),
};

/** One benchmark line: one model under one proof system. */
export interface SystemBenchResult {
  model: string;
  system: ProofSystem;
  constraints: number;
  /** PLONK gates snarkjs makes of the r1cs (the same for FFLONK); Groth16 pays for `constraints`. */
  gates: number;
  publicSignals: number;
  /** Smallest ptau power the setup of this system accepts. */
  ptauPower: number;
  /** Setup (zkey + vkey) from a cached ptau, in ms; undefined with --count-only or when it failed. */
  setupMs?: number;
  /**
   * CPU time of this process (all its threads) over the compile call, setup included: less sensitive to a
   * shared machine than wall time.
   */
  compileCpuMs?: number;
  /** Dev ptau generation on the way, when the cache had none large enough. */
  ptauMs?: number;
  zkeyBytes?: number;
  proveMsMedian?: number;
  /** CPU time of the process per warm proof (witness + prove, all threads), median. */
  proveCpuMsMedian?: number;
  verifyMsMedian?: number;
  verifyReceiptMsMedian?: number;
  /** ABI calldata of the verifier's verifyProof call (selector, proof words, public signals). */
  calldataBytes?: number;
  proofJsonBytes?: number;
  /** Gas of a transaction that only calls the deployed verifier (21,000 base and calldata included). */
  verifyGas?: number;
  /** Gas of recording the inference in InferenceRegistry (submitProof / submitUniversalProof). */
  submitGas?: number;
  verifierDeployGas?: number;
  runs?: number;
  peakRssMb: number;
  /** 1-minute load average when the setup started and when the timed proofs ended. */
  load: { setup?: number; prove?: number };
  error?: string;
}

const load1 = () => Number((os.loadavg()[0] ?? 0).toFixed(2));

function calldataOf(proof: ReceiptProof): { words: bigint[]; publicSignals: bigint[] } {
  if (proof.system === "groth16") {
    const { a, b, c, publicSignals } = groth16Calldata(proof);
    return { words: [...a, ...b.flat(), ...c], publicSignals };
  }
  const { proof: words, publicSignals } = proof.system === "plonk" ? plonkCalldata(proof) : fflonkCalldata(proof);
  return { words, publicSignals };
}

function verifyProofAbi(system: ProofSystem, n: number): string {
  if (system === "groth16")
    return `function verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}]) view returns (bool)`;
  return `function verifyProof(${system === "plonk" ? "uint256" : "bytes32"}[24],uint256[${n}]) view returns (bool)`;
}

function verifyArgs(system: ProofSystem, proof: ReceiptProof): unknown[] {
  if (proof.system === "groth16") {
    const { a, b, c, publicSignals } = groth16Calldata(proof);
    return [a, b, c, publicSignals];
  }
  const { words, publicSignals } = calldataOf(proof);
  return [system === "plonk" ? words : words.map((w) => `0x${w.toString(16).padStart(64, "0")}`), publicSignals];
}

async function countOnly(model: string, dir: string): Promise<SystemBenchResult[]> {
  const samples = JSON.parse(await readFile(path.join(dir, "samples.json"), "utf8")) as { calibration: number[][] };
  const { network } = await quantizeModel(dir, { calibration: samples.calibration });
  const source = generateCircuit({ network, modelCommitment: await modelCommitment(network) });
  const workDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-bench-systems-"));
  try {
    const { r1cs } = await compileCircuit({ source, workDir });
    const count = plonkGateCount(r1cs);
    return PROOF_SYSTEMS.map((system) => ({
      model,
      system,
      constraints: count.constraints,
      gates: count.gates,
      publicSignals: count.nPublic,
      ptauPower: requiredPtauPowerFor(system, count),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      load: {},
    }));
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function benchOne(params: {
  model: string;
  dir: string;
  system: ProofSystem;
  runs: number;
  chain: { wallet: Wallet; registry: Awaited<ReturnType<typeof deployRegistry>>["registry"] };
}): Promise<SystemBenchResult> {
  const { model, dir, system, runs, chain } = params;
  const samples = JSON.parse(await readFile(path.join(dir, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs: number[][];
  };
  const marks = stageMarks();
  const loadSetup = load1();
  const cpu0 = process.cpuUsage();
  const pkg: ModelPackage = await compileModel(dir, {
    calibration: samples.calibration,
    proofSystem: system,
    force: true,
    quiet: true,
    onProgress: marks.onProgress,
  });
  const end = performance.now();
  const cpu1 = process.cpuUsage(cpu0);
  const compileCpuMs = (cpu1.user + cpu1.system) / 1000;
  const split = splitSetup(marks, end);
  const setupMs = marks.first.setup !== undefined ? end - split.setupStart - split.ptauMs : undefined;
  const ptauMs = split.ptauMs > 0 ? split.ptauMs : undefined;
  const count = plonkGateCount(new Uint8Array(await pkg.artifact("r1cs")));

  const inputs = samples.inputs;
  const prove: number[] = [];
  const proveCpu: number[] = [];
  const verify: number[] = [];
  const verifyFull: number[] = [];
  let last: ReceiptProof | undefined;
  let lastReceipt: unknown;
  for (let i = 0; i <= runs; i++) {
    const c0 = process.cpuUsage();
    const { receipt } = await verifiableInfer(pkg, inputs[i % inputs.length] as number[]);
    const c1 = process.cpuUsage(c0);
    if (!receipt.proof) throw new Error("expected a zk receipt");
    const proof = receipt.proof;
    const t = performance.now();
    const ok = await verifySnarkProof({
      system: proof.system,
      vkey: pkg.vkey,
      publicSignals: proof.publicSignals,
      proof: proof.proof,
    });
    const v = performance.now() - t;
    if (!ok) throw new Error("a proof did not verify");
    const t2 = performance.now();
    const full = await verifyReceipt(receipt, { modelPackage: pkg });
    const vr = performance.now() - t2;
    if (!full.valid) throw new Error(`verifyReceipt: ${full.reason}`);
    // Run 0 warms the witness generator, the curve and the zkey cache.
    if (i > 0) {
      prove.push(receipt.timings.proveMs ?? Number.NaN);
      proveCpu.push((c1.user + c1.system) / 1000);
      verify.push(v);
      verifyFull.push(vr);
    }
    last = proof;
    lastReceipt = receipt;
  }
  const loadProve = load1();
  if (!last) throw new Error("no proof");
  const { words, publicSignals } = calldataOf(last);

  const deployed = await deployVerifier(chain.wallet, pkg);
  const bare = new Contract(deployed.address, [verifyProofAbi(system, publicSignals.length)], chain.wallet);
  const verifyProof = bare.getFunction("verifyProof");
  const args = verifyArgs(system, last);
  if (!(await verifyProof.staticCall(...args))) throw new Error("the deployed verifier rejects the proof");
  const tx = await verifyProof.send(...args, { gasLimit: 3_000_000n });
  const verifyGas = Number((await tx.wait())?.gasUsed ?? 0n);
  const { modelKey } = await registerModel(chain.registry, {
    modelCommitment: pkg.manifest.commitments.model,
    verifier: deployed.address,
    proofSystem: system,
  });
  const submitGas = Number((await submitReceipt(chain.registry, { modelKey, receipt: lastReceipt })).gasUsed);

  return {
    model,
    system,
    constraints: count.constraints,
    gates: count.gates,
    publicSignals: count.nPublic,
    ptauPower: requiredPtauPowerFor(system, count),
    ...(setupMs !== undefined ? { setupMs: Math.round(setupMs) } : {}),
    ...(ptauMs !== undefined ? { ptauMs: Math.round(ptauMs) } : {}),
    zkeyBytes: pkg.manifest.artifacts.zkey.size,
    proveMsMedian: Math.round(median(prove)),
    proveCpuMsMedian: Math.round(median(proveCpu)),
    compileCpuMs: Math.round(compileCpuMs),
    verifyMsMedian: Math.round(median(verify)),
    verifyReceiptMsMedian: Math.round(median(verifyFull)),
    calldataBytes: 4 + 32 * (words.length + publicSignals.length),
    proofJsonBytes: JSON.stringify(last.proof).length,
    verifyGas,
    submitGas,
    verifierDeployGas: Number(deployed.deployGas),
    runs,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    load: { setup: loadSetup, prove: loadProve },
  };
}

export async function main(options: {
  models: string[];
  systems: ProofSystem[];
  runs: number;
  countOnly: boolean;
  onResult?: (r: SystemBenchResult) => void;
}): Promise<SystemBenchResult[]> {
  const results: SystemBenchResult[] = [];
  const emit = (r: SystemBenchResult) => {
    results.push(r);
    options.onResult?.(r);
  };
  if (options.countOnly) {
    for (const model of options.models) for (const r of await countOnly(model, MODELS[model] as string)) emit(r);
    return results;
  }
  const anvil = await startAnvil();
  const provider = new JsonRpcProvider(anvil.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const wallet = new Wallet(anvil.accounts[0] as string, provider);
    const { registry } = await deployRegistry(wallet);
    for (const model of options.models) {
      for (const system of options.systems) {
        try {
          emit(
            await benchOne({
              model,
              dir: MODELS[model] as string,
              system,
              runs: options.runs,
              chain: { wallet, registry },
            }),
          );
        } catch (error) {
          emit({
            model,
            system,
            constraints: 0,
            gates: 0,
            publicSignals: 0,
            ptauPower: 0,
            peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
            load: { setup: load1() },
            error: error instanceof Error ? error.message.split("\n")[0] : String(error),
          });
        }
      }
    }
    return results;
  } finally {
    provider.destroy();
    await anvil.stop();
  }
}

if (process.argv[1]?.endsWith("proof-systems-bench.js")) {
  const json = process.argv.includes("--json");
  const models = (argValue("--models") ?? "demo,mlp").split(",");
  for (const m of models)
    if (!(m in MODELS)) throw new Error(`unknown model ${m}; known: ${Object.keys(MODELS).join(", ")}`);
  const systems = (argValue("--systems") ?? PROOF_SYSTEMS.join(",")).split(",") as ProofSystem[];
  main({
    models,
    systems,
    runs: Number(argValue("--runs") ?? 3),
    countOnly: process.argv.includes("--count-only"),
    onResult: (r) => {
      if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    },
  })
    .then((results) => {
      if (!json) console.table(results.map(({ load, ...r }) => ({ ...r, load: JSON.stringify(load) })));
      process.exit(0);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
