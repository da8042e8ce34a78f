import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { JsonRpcProvider, type Wallet } from "ethers";
import { deployRegistry } from "../chain/deploy-registry.js";
import { deployVerifier } from "../chain/deploy-verifier.js";
import { getInference } from "../chain/get-inference.js";
import { getModel } from "../chain/get-model.js";
import { registerModel } from "../chain/register-model.js";
import { connectRegistry } from "../chain/registry-contract.js";
import { submitReceipt } from "../chain/submit-receipt.js";
import { verifierMatchesVkey } from "../chain/verifier-matches-vkey.js";
import { loadModelPackage, type ModelPackage } from "../package/model-package.js";
import { compileModel } from "../pipeline/compile-model.js";
import { EXIT } from "./exit-codes.js";
import { readCalibration, readJsonFile } from "./io.js";
import { KEY_ENV, loadSigner } from "./keys.js";

/** Environment variable naming the JSON-RPC endpoint when no `--rpc` is given. */
export const RPC_ENV = "VERINFER_RPC_URL";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

function bigintArg(value: string): bigint {
  try {
    return BigInt(value);
  } catch {
    throw new InvalidArgumentError("expected an integer");
  }
}

interface ChainFlags {
  rpc?: string;
  keyFile?: string;
}

function provider(flags: ChainFlags): JsonRpcProvider {
  const url = flags.rpc ?? process.env[RPC_ENV] ?? "http://127.0.0.1:8545";
  // cacheTimeout -1: ethers would otherwise reuse a cached nonce for back-to-back transactions.
  return new JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
}

async function withSigner<T>(flags: ChainFlags, run: (signer: Wallet) => Promise<T>): Promise<T> {
  const wallet = await loadSigner(flags.keyFile);
  const p = provider(flags);
  try {
    return await run(wallet.connect(p));
  } finally {
    p.destroy();
  }
}

/** A model id (or manifest) from the cache, else a model directory compiled with its samples.json. */
async function modelPackage(model: string, cacheDir: string | undefined): Promise<ModelPackage> {
  const cache = cacheDir ? { cacheDir } : {};
  if (/^0x[0-9a-f]{64}$/.test(model) || model.endsWith(".json")) return loadModelPackage(model, cache);
  const calibration = await readCalibration(path.join(model, "samples.json"));
  return compileModel(model, { calibration, quiet: true, ...cache });
}

function chainOptions(cmd: Command, withKey: boolean): Command {
  cmd.option("--rpc <url>", `JSON-RPC endpoint (default $${RPC_ENV} or http://127.0.0.1:8545)`);
  if (withKey) cmd.option("--key-file <file>", `signing key (hex; or set ${KEY_ENV})`);
  return cmd;
}

/**
 * Adds `verinfer chain deploy | register | submit | get | model` to the CLI.
 *
 * @example
 * ```ts
 * registerChainCommands(program, (code) => { exitCode = code; });
 * ```
 */
export function registerChainCommands(program: Command, setExit: (code: number) => void): void {
  const chain = program.command("chain").description("settle receipts on-chain (InferenceRegistry)");

  chainOptions(chain.command("deploy").description("deploy an InferenceRegistry"), true)
    .option("--eas-chain-id <id>", "chain id of the EAS domain attestations are signed in (default 1)", bigintArg)
    .option("--eas-address <address>", "EAS contract of that domain (default mainnet EAS)")
    .option("--eas-version <version>", "EAS version of that domain (default 0.26)")
    .action(async (flags: ChainFlags & { easChainId?: bigint; easAddress?: string; easVersion?: string }) => {
      const easDomain = {
        ...(flags.easChainId !== undefined ? { chainId: flags.easChainId } : {}),
        ...(flags.easAddress ? { easAddress: flags.easAddress } : {}),
        ...(flags.easVersion ? { easVersion: flags.easVersion } : {}),
      };
      const deployed = await withSigner(flags, (signer) => deployRegistry(signer, { easDomain }));
      out(`registry ${deployed.address} (gas ${deployed.deployGas})`);
      setExit(EXIT.ok);
    });

  chainOptions(
    chain.command("register <model>").description("deploy a model's verifier and register the model (model dir or id)"),
    true,
  )
    .requiredOption("--registry <address>", "the InferenceRegistry")
    .option("--attester <address>", "trusted attester to add (repeatable)", (v: string, p: string[]) => [...p, v], [])
    .option("--cache-dir <dir>", "artifact cache")
    .action(async (model: string, flags: ChainFlags & { registry: string; attester: string[]; cacheDir?: string }) => {
      const pkg = await modelPackage(model, flags.cacheDir);
      await withSigner(flags, async (signer) => {
        const verifier = await deployVerifier(signer, pkg);
        const registry = await connectRegistry(flags.registry, signer);
        const { modelKey } = await registerModel(registry, {
          modelCommitment: pkg.manifest.commitments.model,
          verifier: verifier.address,
          proofSystem: pkg.manifest.proofSystem,
          attesters: flags.attester,
        });
        out(`model    ${pkg.id}`);
        out(`verifier ${verifier.address} (gas ${verifier.deployGas})`);
        out(`key      ${modelKey}`);
      });
      setExit(EXIT.ok);
    });

  chainOptions(chain.command("submit <receipt>").description("record a zk or attest receipt under a model key"), true)
    .requiredOption("--registry <address>", "the InferenceRegistry")
    .requiredOption("--model-key <key>", "the model key to record under (printed by `chain register`)")
    .option("--gas-limit <gas>", "explicit gas limit (default: estimate after a static call, +25 %)", bigintArg)
    .action(
      async (receiptFile: string, flags: ChainFlags & { registry: string; modelKey: string; gasLimit?: bigint }) => {
        const receipt = await readJsonFile(receiptFile, "receipt", "MALFORMED_RECEIPT");
        const result = await withSigner(flags, async (signer) =>
          submitReceipt(
            await connectRegistry(flags.registry, signer),
            { modelKey: flags.modelKey, receipt },
            flags.gasLimit !== undefined ? { gasLimit: flags.gasLimit } : {},
          ),
        );
        // A duplicate of a Verified statement is a success that changed nothing: say so, so that no one reads it as
        // this transaction's record (the record's submitter is the first relayer).
        const what = result.alreadyRecorded ? `${result.kind} already (unchanged)` : result.kind;
        out(`${what} ${result.key} (tx ${result.hash}, block ${result.blockNumber}, gas ${result.gasUsed})`);
        setExit(EXIT.ok);
      },
    );

  chainOptions(
    chain
      .command("get <modelKey> <inputCommitment> <outputCommitment>")
      .description("read a record under a model key: exit 0 found, 1 none"),
    false,
  )
    .requiredOption("--registry <address>", "the InferenceRegistry")
    .action(async (modelKey: string, input: string, output: string, flags: ChainFlags & { registry: string }) => {
      const p = provider(flags);
      try {
        const registry = await connectRegistry(flags.registry, p);
        const record = await getInference(registry, { modelKey, inputCommitment: input, outputCommitment: output });
        out(
          record
            ? JSON.stringify({
                ...record,
                blockNumber: record.blockNumber.toString(),
                timestamp: record.timestamp.toString(),
              })
            : "none",
        );
        setExit(record ? EXIT.ok : EXIT.invalid);
      } finally {
        p.destroy();
      }
    });

  chainOptions(
    chain
      .command("model <modelKey>")
      .description(
        "show a registered model; with --model, audit it: exit 0 when its commitment is the package's and its " +
          "verifier is the package's vkey, 1 otherwise",
      ),
    false,
  )
    .requiredOption("--registry <address>", "the InferenceRegistry")
    .option("--model <model>", "model id, manifest or model directory to audit the registration against")
    .option("--cache-dir <dir>", "artifact cache")
    .action(async (modelKey: string, flags: ChainFlags & { registry: string; model?: string; cacheDir?: string }) => {
      const p = provider(flags);
      try {
        const model = await getModel(await connectRegistry(flags.registry, p), modelKey);
        if (!model) {
          out("none");
          setExit(EXIT.invalid);
          return;
        }
        out(JSON.stringify({ ...model, modelCommitment: model.modelCommitment.toString() }));
        if (flags.model === undefined) {
          setExit(EXIT.ok);
          return;
        }
        const pkg = await modelPackage(flags.model, flags.cacheDir);
        const commitmentOk = model.modelCommitment === BigInt(pkg.manifest.commitments.model);
        out(`commitment ${commitmentOk ? "matches" : "DIFFERS from"} the package's`);
        let verifierOk = true;
        if (model.proofSystem !== "none") {
          const match = await verifierMatchesVkey({ provider: p, verifier: model.verifier, vkey: pkg.vkey });
          verifierOk = match.matches;
          out(`verifier   ${match.matches ? "matches the package's vkey" : `does NOT match: ${match.reason}`}`);
        } else {
          out("verifier   none (attest-only: records are attestations of the owner's attesters)");
        }
        setExit(commitmentOk && verifierOk ? EXIT.ok : EXIT.invalid);
      } finally {
        p.destroy();
      }
    });
}
