import { randomBytes } from "node:crypto";
import * as snarkjs from "snarkjs";
import { snarkLogger } from "../circuits/snark-logger.js";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../util/progress.js";

/** Longest contribution name snarkjs stores (it cuts names at 64 characters). */
export const MAX_CONTRIBUTION_NAME = 64;

/** Parameters of {@link contributeZkey}. */
export interface ContributeZkeyParams {
  /** The current Groth16 zkey (after `zkey new` and any earlier contributions). */
  zkey: Uint8Array;
  /** Who contributes: printable ASCII, 1–64 characters; recorded in the zkey and the manifest. */
  name: string;
  onProgress?: OnProgress;
}

/** Result of {@link contributeZkey}. */
export interface ContributedZkey {
  zkey: Uint8Array;
  /** snarkjs's contribution hash (BLAKE2b-512 of the contribution's public key), lower-case hex. */
  contributionHash: string;
}

/** Checks a contribution name; snarkjs stores it in a length-prefixed field and prints it in its log. */
export function assertContributionName(name: string): void {
  if (name.length < 1 || name.length > MAX_CONTRIBUTION_NAME || !/^[\x20-\x7e]+$/.test(name)) {
    throw new VerinferError("INVALID_INPUT", "a contribution name must be 1-64 printable ASCII characters", {
      details: `got ${JSON.stringify(name)}`,
    });
  }
}

/**
 * Adds one Groth16 phase-2 contribution to a zkey (snarkjs `zkey contribute`): delta is multiplied by a secret
 * drawn from the OS CSPRNG (32 fresh bytes, mixed by snarkjs with 64 more of its own) and discarded when this
 * call returns. The proof system stays sound if at least one phase-2 contributor discarded their secret.
 *
 * @throws VerinferError `INVALID_INPUT` for a bad name, `SETUP_REQUIRED` when the zkey is not a Groth16 zkey.
 * @example
 * ```ts
 * const { zkey, contributionHash } = await contributeZkey({ zkey: current, name: "alice" });
 * ```
 */
export async function contributeZkey(params: ContributeZkeyParams): Promise<ContributedZkey> {
  assertContributionName(params.name);
  const next = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  params.onProgress?.({ stage: "setup", message: `phase-2 contribution "${params.name}" with fresh randomness` });
  let hash: Uint8Array;
  try {
    hash = await snarkjs.zKey.contribute(
      { type: "mem", data: params.zkey },
      next,
      params.name,
      randomBytes(32).toString("hex"),
      snarkLogger("setup", params.onProgress),
    );
  } catch (cause) {
    throw new VerinferError("SETUP_REQUIRED", "groth16 phase-2 contribution failed", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  if (!next.data) throw new VerinferError("SETUP_REQUIRED", "snarkjs produced no zkey");
  return { zkey: next.data, contributionHash: Buffer.from(hash).toString("hex") };
}
