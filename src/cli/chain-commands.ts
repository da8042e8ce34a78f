import path from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { JsonRpcProvider, type Wallet } from "ethers";
import { deployRegistry } from "../chain/deploy-registry.js";
import { deployVerifier } from "../chain/deploy-verifier.js";
import { getInference } from "../chain/get-inference.js";
import { registerModel } from "../chain/register-model.js";
import { connectRegistry } from "../chain/registry-contract.js";
import { submitReceipt } from "../chain/submit-receipt.js";
import { compileModel } from "../compile-model.js";
import { loadModelPackage, type ModelPackage } from "../storage/model-package.js";
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
 * Adds `verinfer chain deploy | register | submit | get` to the CLI.
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
        await registerModel(registry, { modelId: pkg.id, verifier: verifier.address, attesters: flags.attester });
        out(`model    ${pkg.id}`);
        out(`verifier ${verifier.address} (gas ${verifier.deployGas})`);
      });
      setExit(EXIT.ok);
    });

  chainOptions(chain.command("submit <receipt>").description("record a zk or attest receipt"), true)
    .requiredOption("--registry <address>", "the InferenceRegistry")
    .option("--gas-limit <gas>", "explicit gas limit (default: estimate after a static call, +25 %)", bigintArg)
    .action(async (receiptFile: string, flags: ChainFlags & { registry: string; gasLimit?: bigint }) => {
      const receipt = await readJsonFile(receiptFile, "receipt");
      const result = await withSigner(flags, async (signer) =>
        submitReceipt(
          await connectRegistry(flags.registry, signer),
          receipt,
          flags.gasLimit !== undefined ? { gasLimit: flags.gasLimit } : {},
        ),
      );
      out(`${result.kind} ${result.key} (tx ${result.hash}, block ${result.blockNumber}, gas ${result.gasUsed})`);
      setExit(EXIT.ok);
    });

  chainOptions(
    chain
      .command("get <modelId> <inputCommitment> <outputCommitment>")
      .description("read a record: exit 0 found, 1 none"),
    false,
  )
    .requiredOption("--registry <address>", "the InferenceRegistry")
    .action(async (modelId: string, input: string, output: string, flags: ChainFlags & { registry: string }) => {
      const p = provider(flags);
      try {
        const registry = await connectRegistry(flags.registry, p);
        const record = await getInference(registry, { modelId, inputCommitment: input, outputCommitment: output });
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
}
