/**
 * On-chain settlement, end to end on a local anvil node: deploy the `InferenceRegistry` and the demo model's
 * Groth16 verifier, register the model with a trusted attester (which gives its model key: owner + commitment +
 * verifier), submit a zk receipt (proof verified on-chain) and an attested receipt (EAS signature recovered
 * on-chain) under that key, audit the verifier against the model's vkey as a consumer would, read both records
 * back, and print the gas used.
 *
 * Run: `npm run example:onchain` (`tsc -p tsconfig.scripts.json && node build/examples/onchain.js`).
 * In an application, import from "verinfer" and "verinfer/chain" instead of "../src/…".
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider, Wallet } from "ethers";
import {
  deployRegistry,
  deployVerifier,
  getInference,
  type InferenceRecord,
  modelKey,
  registerModel,
  startAnvil,
  submitReceipt,
  verifierMatchesVkey,
} from "../src/chain/index.js";
import { compileModel, verifiableInfer } from "../src/index.js";
import { packageRoot } from "../src/util/package-root.js";

/** What the example did, for tests. */
export interface OnchainSummary {
  registry: string;
  /** The model key the records are under. */
  modelKey: string;
  /** Whether the deployed verifier is the demo model's vkey (what a consumer audits before trusting the key). */
  verifierMatches: boolean;
  gas: { registry: bigint; verifier: bigint; submitProof: bigint; submitAttestation: bigint };
  verified: InferenceRecord | undefined;
  attested: InferenceRecord | undefined;
}

export async function main(cacheDir?: string): Promise<OnchainSummary> {
  const dir = path.join(packageRoot(), "examples", "models", "demo-glyphs");
  const samples = JSON.parse(readFileSync(path.join(dir, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs: number[][];
  };
  const pkg = await compileModel(dir, {
    calibration: samples.calibration,
    quiet: true,
    ...(cacheDir ? { cacheDir } : {}),
  });
  const anvil = await startAnvil();
  // cacheTimeout -1: ethers would otherwise reuse a cached nonce for back-to-back transactions.
  const provider = new JsonRpcProvider(anvil.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const owner = new Wallet(anvil.accounts[0] as string, provider);
    const attester = new Wallet(anvil.accounts[1] as string, provider);

    const { registry, address, deployGas: registryGas } = await deployRegistry(owner);
    const verifier = await deployVerifier(owner, pkg);
    const registered = await registerModel(registry, {
      modelCommitment: pkg.manifest.commitments.model,
      verifier: verifier.address,
      attesters: [attester.address],
    });

    const zk = (await verifiableInfer(pkg, samples.inputs[0] as number[])).receipt;
    const attest = (await verifiableInfer(pkg, samples.inputs[1] as number[], { mode: "attest", signer: attester }))
      .receipt;
    const proofTx = await submitReceipt(registry, { modelKey: registered.modelKey, receipt: zk });
    const attestTx = await submitReceipt(registry, { modelKey: registered.modelKey, receipt: attest });

    // A consumer does not take the key from whoever registered: it derives it from what it audited, the owner it
    // trusts, the model's commitment, and a verifier whose code is the model's vkey.
    const audit = await verifierMatchesVkey({ provider, verifier: verifier.address, vkey: pkg.vkey });
    const trusted = modelKey({
      owner: owner.address,
      modelCommitment: pkg.manifest.commitments.model,
      verifier: verifier.address,
    });
    const read = (r: typeof zk) =>
      getInference(registry, {
        modelKey: trusted,
        inputCommitment: r.input.commitment,
        outputCommitment: r.output.commitment,
      });
    return {
      registry: address,
      modelKey: trusted,
      verifierMatches: audit.matches,
      gas: {
        registry: registryGas,
        verifier: verifier.deployGas,
        submitProof: proofTx.gasUsed,
        submitAttestation: attestTx.gasUsed,
      },
      verified: await read(zk),
      attested: await read(attest),
    };
  } finally {
    provider.destroy();
    await anvil.stop();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (s) => {
      const line = (name: string, r: InferenceRecord | undefined) =>
        console.log(`  ${name.padEnd(9)} ${r ? `${r.kind} by ${r.submitter} in block ${r.blockNumber}` : "MISSING"}`);
      console.log(`registry ${s.registry} (anvil)`);
      console.log(`model key ${s.modelKey} (verifier ${s.verifierMatches ? "matches" : "does NOT match"} the vkey)`);
      line("zk", s.verified);
      line("attested", s.attested);
      console.log("gas used");
      for (const [name, gas] of Object.entries(s.gas)) console.log(`  ${name.padEnd(18)} ${gas}`);
      process.exit(s.verifierMatches && s.verified?.kind === "verified" && s.attested?.kind === "attested" ? 0 : 1);
    },
    (error) => {
      console.error(error);
      process.exit(2);
    },
  );
}
