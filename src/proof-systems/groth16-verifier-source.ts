import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import ejs from "ejs";
import { z } from "zod";
import { VerinferError } from "../errors.js";
import { DECIMAL_STRING } from "../util/field.js";

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

const decimal = z.string().regex(DECIMAL_STRING);
const g1 = z.array(decimal).min(2);
const g2 = z.array(z.array(decimal).length(2)).min(2);

/** What snarkjs's Groth16 Solidity template reads from a verification key (snarkjs's `verification_key.json`). */
export const Groth16VkeySchema = z
  .object({
    protocol: z.literal("groth16"),
    curve: z.literal("bn128"),
    nPublic: z.number().int().min(0),
    vk_alpha_1: g1,
    vk_beta_2: g2,
    vk_gamma_2: g2,
    vk_delta_2: g2,
    IC: z.array(g1).min(1),
  })
  .loose()
  .refine((vkey) => vkey.IC.length === vkey.nPublic + 1, { message: "IC must hold nPublic + 1 points" });

/**
 * The Solidity source of the Groth16 verifier (contract `Groth16Verifier`) of a verification key, rendered with
 * snarkjs's own template exactly as `snarkjs zkey export solidityverifier` renders it from the zkey the key came
 * from. The verifier's constants are the key's, so one source (and one runtime bytecode) stands for one vkey.
 *
 * @throws VerinferError `INVALID_INPUT` when `vkey` is not a snarkjs Groth16 bn128 verification key.
 * @example
 * ```ts
 * const source = await groth16VerifierSource(pkg.vkey);
 * ```
 */
export async function groth16VerifierSource(vkey: unknown): Promise<string> {
  const parsed = Groth16VkeySchema.safeParse(vkey);
  if (!parsed.success) {
    throw new VerinferError("INVALID_INPUT", "not a snarkjs Groth16 bn128 verification key", {
      details: parsed.error.message,
    });
  }
  return ejs.render(await groth16Template(), parsed.data);
}
