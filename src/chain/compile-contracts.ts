import { readFile } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";
import { packageRoot } from "../util/package-root.js";
import { type CompiledContract, compileSolidity } from "./solc-compile.js";

/** verinfer's own contracts, compiled. */
export interface CompiledContracts {
  InferenceRegistry: CompiledContract;
}

/**
 * Compiles `contracts/InferenceRegistry.sol` with the pinned solc-js (optimizer on). The result is cached in
 * memory for the life of the process.
 *
 * @throws VerinferError `COMPILE_FAILED` when solc reports an error.
 * @example
 * ```ts
 * const { InferenceRegistry } = await compileContracts();
 * console.log(InferenceRegistry.bytecode.length);
 * ```
 */
export async function compileContracts(): Promise<CompiledContracts> {
  const file = path.join(packageRoot(), "contracts", "InferenceRegistry.sol");
  const source = await readFile(file, "utf8");
  const contracts = await compileSolidity({ "InferenceRegistry.sol": source });
  const registry = contracts.get("InferenceRegistry");
  if (!registry) throw new VerinferError("COMPILE_FAILED", `${file} holds no InferenceRegistry contract`);
  return { InferenceRegistry: registry };
}
