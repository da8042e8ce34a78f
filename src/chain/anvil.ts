import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider } from "ethers";
import { VerinferError } from "../errors.js";

/** The mnemonic anvil derives its funded dev accounts from (public: never use it on a real network). */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** Options of {@link startAnvil}. */
export interface StartAnvilOptions {
  /** Loopback port; default 0, a free port the OS picks. */
  port?: number;
  /** Funded dev accounts; default 10. */
  accounts?: number;
  /** Chain id; default anvil's 31337. */
  chainId?: number;
  /** How long to wait for the node to answer; default 30 s. */
  timeoutMs?: number;
}

/** A running anvil node. */
export interface AnvilNode {
  /** `http://127.0.0.1:<port>`. */
  rpcUrl: string;
  port: number;
  chainId: bigint;
  /** Private keys of the funded dev accounts (anvil's default mnemonic, m/44'/60'/0'/0/i). */
  accounts: string[];
  /** Kills the node and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The anvil binary shipped by `@foundry-rs/anvil-linux-amd64` (Linux x64 only), or `VERINFER_ANVIL` when set.
 *
 * @throws VerinferError `BACKEND_UNAVAILABLE` when neither is there.
 */
export function anvilBinary(): string {
  const override = process.env.VERINFER_ANVIL;
  if (override) return override;
  try {
    const manifest = createRequire(import.meta.url).resolve("@foundry-rs/anvil-linux-amd64/package.json");
    const binary = path.join(path.dirname(manifest), "bin", "anvil");
    if (existsSync(binary)) return binary;
  } catch {
    // not installed: fall through
  }
  throw new VerinferError("BACKEND_UNAVAILABLE", "anvil not found", {
    details: "install @foundry-rs/anvil-linux-amd64 (Linux x64) or point VERINFER_ANVIL at an anvil binary",
  });
}

/**
 * Starts a local anvil node on 127.0.0.1 and waits until it answers `eth_chainId`.
 *
 * @throws VerinferError `BACKEND_UNAVAILABLE` when anvil is missing, exits, or does not answer in time.
 * @example
 * ```ts
 * const anvil = await startAnvil();
 * const signer = new Wallet(anvil.accounts[0], new JsonRpcProvider(anvil.rpcUrl));
 * // ...
 * await anvil.stop();
 * ```
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilNode> {
  const count = options.accounts ?? 10;
  const args = ["--host", "127.0.0.1", "--port", String(options.port ?? 0), "--accounts", String(count)];
  if (options.chainId !== undefined) args.push("--chain-id", String(options.chainId));
  const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  try {
    const port = await listeningPort(child, options.timeoutMs ?? 30_000);
    const rpcUrl = `http://127.0.0.1:${port}`;
    const chainId = await waitForRpc(rpcUrl, options.timeoutMs ?? 30_000);
    const accounts = Array.from(
      { length: count },
      (_, i) => HDNodeWallet.fromPhrase(ANVIL_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).privateKey,
    );
    return { rpcUrl, port, chainId, accounts, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Reads anvil's "Listening on 127.0.0.1:<port>" line, so a port of 0 (OS-chosen) works without a race. */
function listeningPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new VerinferError("BACKEND_UNAVAILABLE", `anvil did not start: ${why}`, { details: output.slice(-2000) }));
    };
    const timer = setTimeout(() => fail(`no "Listening on" line within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        // Keep draining the pipes so a chatty node never blocks on a full buffer.
        child.stdout?.removeListener("data", onData);
        child.stdout?.resume();
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", (error) => fail(error.message));
    child.once("exit", (code, signal) => fail(`exited with ${signal ?? code}`));
  });
}

async function waitForRpc(rpcUrl: string, timeoutMs: number): Promise<bigint> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
    try {
      return BigInt((await provider.send("eth_chainId", [])) as string);
    } catch (error) {
      if (Date.now() > deadline) {
        throw new VerinferError("BACKEND_UNAVAILABLE", `anvil at ${rpcUrl} does not answer eth_chainId`, {
          cause: error,
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      provider.destroy();
    }
  }
}
