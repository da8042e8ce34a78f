import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import type { ModelPackage } from "../storage/model-package.js";

let template: Promise<string> | undefined;

/** snarkjs's own Groth16 Solidity template (≥ 0.7.5 range-checks every public signal against the field). */
function groth16Template(): Promise<string> {
  template ??= (async () => {
    // snarkjs's "exports" hide package.json; its CommonJS entry is <root>/build/main.cjs.
    const snarkjsRoot = path.resolve(path.dirname(createRequire(import.meta.url).resolve("snarkjs")), "..");
    return readFile(path.join(snarkjsRoot, "templates", "verifier_groth16.sol.ejs"), "utf8");
  })();
  return template;
}

/**
 * The Solidity source of a model's Groth16 verifier (contract `Groth16Verifier`), generated from its zkey by
 * snarkjs with snarkjs's own template. Its `verifyProof` takes exactly as many public signals as the circuit has.
 *
 * @throws VerinferError `UNSUPPORTED_MODE` when the package is not Groth16, `ARTIFACT_CORRUPT` when the zkey fails
 *   its hash check.
 * @example
 * ```ts
 * const source = await exportSolidityVerifier(pkg);
 * await writeFile("Verifier.sol", source);
 * ```
 */
export async function exportSolidityVerifier(modelPackage: ModelPackage): Promise<string> {
  const system = modelPackage.manifest.proofSystem;
  if (system !== "groth16") {
    throw new VerinferError("UNSUPPORTED_MODE", `no Solidity verifier for proof system ${system}`);
  }
  const zkey = await modelPackage.artifact("zkey");
  unrefIdleCurveWorkers();
  return snarkjs.zKey.exportSolidityVerifier(
    { type: "mem", data: new Uint8Array(zkey) },
    { groth16: await groth16Template() },
  );
}
