/**
 * `npm run bench:chain [-- --json] [-- --only <model>]`: gas of the on-chain path on a local anvil node, for the demo
 * model (7 public signals) and mlp-784-56-10 (13); `--only demo-glyphs` skips the larger model's compile.
 * One line per proof system and case: deploying the model's verifier, recording a verified inference through
 * `InferenceRegistry.submitProof`, and calling the bare verifier with the same proof in a transaction of its own
 * (both include the 21,000 base cost and calldata), and submitting the same receipt a second time (the registry's
 * `AlreadyVerified` no-op). Gas is deterministic; nothing is timed.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import {
  deployRegistry,
  deployVerifier,
  groth16Calldata,
  registerModel,
  startAnvil,
  submitReceipt,
} from "../src/chain/index.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { verifiableInfer } from "../src/pipeline/verifiable-infer.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue } from "./bench-util.js";

/** One benchmark line. */
export interface ChainBenchResult {
  system: "groth16";
  case: string;
  publicSignals: number;
  /** Gas of deploying the model's verifier. */
  deployGas: number;
  /** Gas of deploying the registry (once per chain). */
  registryDeployGas: number;
  /** Gas of `submitProof` recording a new verified inference. */
  submitGas: number;
  /** Gas of a transaction that only calls the verifier with the same proof. */
  verifierOnlyGas: number;
  /** submitGas - verifierOnlyGas; the target is at most 60,000. */
  overheadGas: number;
  /** Gas of submitting the same receipt again: the `AlreadyVerified` no-op (no verifier call). */
  duplicateGas: number;
}

const MODELS = [
  { name: "demo-glyphs", dir: path.join(packageRoot(), "examples", "models", "demo-glyphs") },
  // 13 public signals: shows how the verifier and the registry's overhead grow with the outputs.
  { name: "mlp-784-56-10", dir: path.join(packageRoot(), "bench", "models", "mlp-784-56-10") },
];

export async function main(only?: string): Promise<ChainBenchResult[]> {
  const anvil = await startAnvil();
  const provider = new JsonRpcProvider(anvil.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const wallet = new Wallet(anvil.accounts[0] as string, provider);
    const { registry, deployGas: registryDeployGas } = await deployRegistry(wallet);
    const results: ChainBenchResult[] = [];
    for (const model of MODELS.filter((m) => only === undefined || m.name === only)) {
      const samples = JSON.parse(readFileSync(path.join(model.dir, "samples.json"), "utf8")) as {
        calibration: number[][];
        inputs: number[][];
      };
      const pkg = await compileModel(model.dir, { calibration: samples.calibration, quiet: true });
      const verifier = await deployVerifier(wallet, pkg);
      const { modelKey } = await registerModel(registry, {
        modelCommitment: pkg.manifest.commitments.model,
        verifier: verifier.address,
      });
      for (const [i, x] of samples.inputs.slice(0, 3).entries()) {
        const { receipt } = await verifiableInfer(pkg, x);
        if (receipt.proof?.system !== "groth16") throw new Error("expected a groth16 zk receipt");
        const n = receipt.proof.publicSignals.length;
        const bare = new Contract(
          verifier.address,
          [`function verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}]) view returns (bool)`],
          wallet,
        );
        const { a, b, c, publicSignals } = groth16Calldata(receipt.proof);
        const verifyProof = bare.getFunction("verifyProof");
        if (!(await verifyProof.staticCall(a, b, c, publicSignals))) throw new Error("the verifier rejects the proof");
        const tx = await verifyProof.send(a, b, c, publicSignals, { gasLimit: 1_000_000n });
        const verifierOnlyGas = Number((await tx.wait())?.gasUsed ?? 0n);
        const submitGas = Number((await submitReceipt(registry, { modelKey, receipt })).gasUsed);
        const duplicate = await submitReceipt(registry, { modelKey, receipt });
        if (!duplicate.alreadyRecorded) throw new Error("the second submission was not reported as a duplicate");
        results.push({
          system: "groth16",
          case: `${model.name} input ${i}`,
          publicSignals: n,
          deployGas: Number(verifier.deployGas),
          registryDeployGas: Number(registryDeployGas),
          submitGas,
          verifierOnlyGas,
          overheadGas: submitGas - verifierOnlyGas,
          duplicateGas: Number(duplicate.gasUsed),
        });
      }
    }
    return results;
  } finally {
    provider.destroy();
    await anvil.stop();
  }
}

if (process.argv[1]?.endsWith("chain-bench.js")) {
  const json = process.argv.includes("--json");
  main(argValue("--only"))
    .then((results) => {
      if (json) for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
      else console.table(results);
      process.exit(0);
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
