import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import ejs from "ejs";
import * as snarkjs from "snarkjs";
import { z } from "zod";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import { DECIMAL_STRING } from "../util/field.js";

const templates = new Map<string, Promise<string>>();

/** snarkjs's own PLONK / FFLONK Solidity templates. */
function template(protocol: "plonk" | "fflonk"): Promise<string> {
  let t = templates.get(protocol);
  if (!t) {
    const snarkjsRoot = path.resolve(path.dirname(createRequire(import.meta.url).resolve("snarkjs")), "..");
    t = readFile(path.join(snarkjsRoot, "templates", `verifier_${protocol}.sol.ejs`), "utf8");
    templates.set(protocol, t);
  }
  return t;
}

const decimal = z.string().regex(DECIMAL_STRING);
const g1 = z.array(decimal).min(2);
const g2 = z.array(z.array(decimal).length(2)).min(2);

/** What snarkjs's PLONK Solidity template reads from a verification key. */
export const PlonkVkeySchema = z
  .object({
    protocol: z.literal("plonk"),
    curve: z.literal("bn128"),
    nPublic: z.number().int().min(0),
    power: z.number().int().min(1).max(28),
    k1: decimal,
    k2: decimal,
    Qm: g1,
    Ql: g1,
    Qr: g1,
    Qo: g1,
    Qc: g1,
    S1: g1,
    S2: g1,
    S3: g1,
    X_2: g2,
    w: decimal,
  })
  .loose();

/** What snarkjs's FFLONK Solidity export reads from a verification key. */
export const FflonkVkeySchema = z
  .object({
    protocol: z.literal("fflonk"),
    curve: z.literal("bn128"),
    nPublic: z.number().int().min(0),
    power: z.number().int().min(1).max(28),
    k1: decimal,
    k2: decimal,
    w: decimal,
    w3: decimal,
    w4: decimal,
    w8: decimal,
    wr: decimal,
    X_2: g2,
    C0: g1,
  })
  .loose();

/**
 * The Solidity source of snarkjs's PLONK verifier (contract `PlonkVerifier`) of a verification key, rendered as
 * `snarkjs zkey export solidityverifier` renders it from the zkey the key came from.
 *
 * @throws VerinferError `INVALID_INPUT` when `vkey` is not a snarkjs PLONK bn128 verification key.
 * @example
 * ```ts
 * const source = await plonkVerifierSource(pkg.vkey); // pkg.manifest.proofSystem: "plonk"
 * ```
 */
export async function plonkVerifierSource(vkey: unknown): Promise<string> {
  const parsed = PlonkVkeySchema.safeParse(vkey);
  if (!parsed.success) {
    throw new VerinferError("INVALID_INPUT", "not a snarkjs PLONK bn128 verification key", {
      details: parsed.error.message,
    });
  }
  return ejs.render(await template("plonk"), parsed.data);
}

/**
 * The Solidity source of snarkjs's FFLONK verifier (contract `FflonkVerifier`) of a verification key, as
 * `snarkjs zkey export solidityverifier` renders it.
 *
 * @throws VerinferError `INVALID_INPUT` when `vkey` is not a snarkjs FFLONK bn128 verification key.
 * @example
 * ```ts
 * const source = await fflonkVerifierSource(pkg.vkey); // pkg.manifest.proofSystem: "fflonk"
 * ```
 */
export async function fflonkVerifierSource(vkey: unknown): Promise<string> {
  const parsed = FflonkVkeySchema.safeParse(vkey);
  if (!parsed.success) {
    throw new VerinferError("INVALID_INPUT", "not a snarkjs FFLONK bn128 verification key", {
      details: parsed.error.message,
    });
  }
  unrefIdleCurveWorkers();
  // snarkjs adds the roots of unity powers to the key it is given: hand it a copy.
  return snarkjs.fflonk.exportSolidityVerifier(structuredClone(parsed.data), { fflonk: await template("fflonk") });
}

/**
 * The Solidity source of snarkjs's PLONK verifier (contract `PlonkVerifier`) or FFLONK verifier (contract
 * `FflonkVerifier`) of a verification key, by the key's `protocol`.
 *
 * @throws VerinferError `INVALID_INPUT` when `vkey` is not a snarkjs PLONK or FFLONK bn128 verification key.
 * @example
 * ```ts
 * const source = await universalVerifierSource(pkg.vkey); // pkg.manifest.proofSystem: "plonk"
 * ```
 */
export function universalVerifierSource(vkey: unknown): Promise<string> {
  const protocol = (vkey as { protocol?: unknown } | null)?.protocol;
  if (protocol === "plonk") return plonkVerifierSource(vkey);
  if (protocol === "fflonk") return fflonkVerifierSource(vkey);
  return Promise.reject(
    new VerinferError("INVALID_INPUT", `not a PLONK or FFLONK verification key (protocol ${String(protocol)})`),
  );
}
