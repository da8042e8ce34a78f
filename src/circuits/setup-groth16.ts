import { randomBytes } from "node:crypto";
import * as snarkjs from "snarkjs";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../progress.js";
import { snarkLogger } from "./snark-logger.js";
import { unrefIdleCurveWorkers } from "./unref-idle-curve-workers.js";
import type { ZkeyContribution } from "./verify-zkey.js";

/** Parameters of {@link setupGroth16}. */
export interface SetupGroth16Params {
  r1cs: Uint8Array;
  /** Path of a prepared (phase-2 ready) powers-of-tau file. */
  ptauFile: string;
  onProgress?: OnProgress;
}

/** Result of {@link setupGroth16}. */
export interface Groth16Setup {
  zkey: Uint8Array;
  /** Verification key in snarkjs's JSON shape. */
  vkey: Record<string, unknown>;
  /** The phase-2 contribution this setup made (name and snarkjs contribution hash). */
  contributions: ZkeyContribution[];
}

/** Name of the phase-2 contribution {@link setupGroth16} makes. */
export const SETUP_CONTRIBUTION_NAME = "verinfer";

/**
 * Circuit-specific Groth16 setup: snarkjs `zkey new` followed by one phase-2 contribution of fresh OS
 * randomness (32 bytes, discarded), so the zkey's toxic waste is not the deterministic zero contribution.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the ptau is too small or unreadable.
 * @example
 * ```ts
 * const { zkey, vkey } = await setupGroth16({ r1cs, ptauFile });
 * ```
 */
export async function setupGroth16(params: SetupGroth16Params): Promise<Groth16Setup> {
  const logger = snarkLogger("setup", params.onProgress);
  unrefIdleCurveWorkers();
  const zkey0 = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  const zkey1 = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  let hash: Uint8Array;
  try {
    params.onProgress?.({ stage: "setup", message: "groth16 setup (zkey new)" });
    await snarkjs.zKey.newZKey({ type: "mem", data: params.r1cs }, params.ptauFile, zkey0, logger);
    params.onProgress?.({ stage: "setup", message: "phase-2 contribution with fresh randomness" });
    hash = await snarkjs.zKey.contribute(
      zkey0,
      zkey1,
      SETUP_CONTRIBUTION_NAME,
      randomBytes(32).toString("hex"),
      logger,
    );
  } catch (cause) {
    throw new VerinferError("SETUP_REQUIRED", "groth16 setup failed", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  if (!zkey1.data) throw new VerinferError("SETUP_REQUIRED", "groth16 setup produced no zkey (ptau too small?)");
  const vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: zkey1.data });
  params.onProgress?.({ stage: "setup", message: "setup done", done: true });
  return {
    zkey: zkey1.data,
    vkey,
    contributions: [{ name: SETUP_CONTRIBUTION_NAME, hash: Buffer.from(hash).toString("hex") }],
  };
}
