import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import solc from "solc";
import { VerinferError } from "../errors.js";

/** A compiled contract: its ABI, creation bytecode and runtime (deployed) bytecode, 0x-prefixed. */
export interface CompiledContract {
  abi: readonly Record<string, unknown>[];
  bytecode: string;
  /** What `eth_getCode` returns once it is deployed (for a contract without immutables). */
  deployedBytecode: string;
}

/**
 * Compiler settings of every contract verinfer deploys. `cancun` rather than solc's newer default, so the
 * bytecode also runs on chains that have not adopted the latest hard fork.
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
} as const;

const require = createRequire(import.meta.url);
const cache = new Map<string, Promise<Map<string, CompiledContract>>>();

/** Resolves `@openzeppelin/...` (and any other package path) imports from node_modules. */
function findImport(importPath: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(importPath), "utf8") };
  } catch {
    return { error: `import not found: ${importPath}` };
  }
}

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<
      string,
      { abi: Record<string, unknown>[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
    >
  >;
}

/** The solc-js version verinfer compiles with, e.g. `0.8.30+commit.73712a01.Emscripten.clang`. */
export function solcVersion(): string {
  return solc.version() as string;
}

/**
 * Compiles Solidity sources with the pinned solc-js (standard JSON, optimizer on) and returns every contract by
 * name. Results are cached in memory by the hash of the sources, since solc-js takes seconds per compile.
 *
 * @throws VerinferError `COMPILE_FAILED` with solc's messages when compilation fails.
 */
export function compileSolidity(sources: Record<string, string>): Promise<Map<string, CompiledContract>> {
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: {
      ...SOLC_SETTINGS,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const text = JSON.stringify(input);
  const key = createHash("sha256").update(text).digest("hex");
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = Promise.resolve().then(() => run(text));
    compiled.catch(() => cache.delete(key));
    cache.set(key, compiled);
  }
  return compiled;
}

function run(input: string): Map<string, CompiledContract> {
  const output = JSON.parse(solc.compile(input, { import: findImport }) as string) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new VerinferError("COMPILE_FAILED", "solc failed to compile the contracts", {
      details: errors.map((e) => e.formattedMessage).join("\n"),
    });
  }
  const result = new Map<string, CompiledContract>();
  for (const file of Object.values(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(file)) {
      result.set(name, {
        abi: contract.abi,
        bytecode: `0x${contract.evm.bytecode.object}`,
        deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
      });
    }
  }
  return result;
}
