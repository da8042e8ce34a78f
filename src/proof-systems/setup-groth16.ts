import { randomBytes } from "node:crypto";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { snarkLogger } from "../circuits/snark-logger.js";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import { MAX_DEV_PTAU_POWER } from "../setup/dev-ptau.js";
import { writeDevZkey } from "../setup/dev-zkey.js";
import { inspectPtau, type PtauInfo } from "../setup/inspect-ptau.js";
import { DEV_CONTRIBUTION_NAME } from "../setup/ptau-writer.js";
import type { ZkeyContribution } from "../setup/verify-zkey.js";
import type { OnProgress } from "../util/progress.js";

/** Parameters of {@link setupGroth16}: exactly one of `ptauFile` and `devPtauDir`. */
export interface SetupGroth16Params {
  r1cs: Uint8Array;
  /** Path of a prepared (phase-2 ready) powers-of-tau file: snarkjs `zkey new` + one contribution. */
  ptauFile?: string;
  /**
   * Without a ptau: a development setup computed directly from toxic waste drawn here ({@link writeDevZkey}),
   * whose matching dev ptau is written into this folder (the cache's `ptau/`) and returned as `devPtau`.
   */
  devPtauDir?: string;
  onProgress?: OnProgress;
}

/** Result of {@link setupGroth16}. */
export interface Groth16Setup {
  zkey: Uint8Array;
  /** Verification key in snarkjs's JSON shape. */
  vkey: Record<string, unknown>;
  /** The phase-2 contribution this setup made (name and snarkjs contribution hash). */
  contributions: ZkeyContribution[];
  /** Dev setups: the dev ptau written for this zkey (the one `zkey verify` checks it against). */
  devPtau?: PtauInfo;
}

/** Name of the phase-2 contribution {@link setupGroth16} makes. */
export const SETUP_CONTRIBUTION_NAME = "verinfer";

/** File name of a dev setup's own ptau: power and the start of its BLAKE2b-512 (what the manifest names). */
export function devSetupPtauName(power: number, blake2b: string): string {
  return `dev-setup-bn128-${power}-${blake2b.slice(0, 16)}.ptau`;
}

/**
 * Circuit-specific Groth16 setup.
 *
 * - With `ptauFile` (a ceremony ptau, whose τ nobody knows): snarkjs `zkey new` followed by one phase-2
 *   contribution of fresh OS randomness (32 bytes, discarded), so the zkey's toxic waste is not the
 *   deterministic zero contribution.
 * - With `devPtauDir` (a development setup): {@link writeDevZkey} draws τ, α, β, δ, writes a dev ptau of the
 *   circuit's power and the zkey `zkey new` + a contribution of δ would give, each point computed directly —
 *   minutes faster from 2^16 up. The pair passes `snarkjs zkey verify`; the contribution is named
 *   "verinfer dev" and whoever ran it could have kept the secrets: development only.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the ptau is too small or unreadable, `INVALID_OPTIONS` unless
 *   exactly one of `ptauFile` and `devPtauDir` is given.
 * @example
 * ```ts
 * const { zkey, vkey } = await setupGroth16({ r1cs, ptauFile });
 * const dev = await setupGroth16({ r1cs, devPtauDir: path.join(cacheDir, "ptau") }); // dev.devPtau: its ptau
 * ```
 */
export async function setupGroth16(params: SetupGroth16Params): Promise<Groth16Setup> {
  if ((params.ptauFile === undefined) === (params.devPtauDir === undefined)) {
    throw new VerinferError("INVALID_OPTIONS", "setupGroth16 takes exactly one of ptauFile and devPtauDir");
  }
  if (params.devPtauDir !== undefined) return devSetup(params.r1cs, params.devPtauDir, params.onProgress);
  const ptauFile = params.ptauFile as string;
  const logger = snarkLogger("setup", params.onProgress);
  unrefIdleCurveWorkers();
  const zkey0 = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  const zkey1 = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  let hash: Uint8Array;
  try {
    params.onProgress?.({ stage: "setup", message: "groth16 setup (zkey new)" });
    await snarkjs.zKey.newZKey({ type: "mem", data: params.r1cs }, ptauFile, zkey0, logger);
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

async function devSetup(r1cs: Uint8Array, dir: string, onProgress: OnProgress | undefined): Promise<Groth16Setup> {
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `dev-setup-${process.pid}-${randomBytes(6).toString("hex")}.ptau.tmp`);
  try {
    onProgress?.({ stage: "setup", message: "groth16 development setup (ptau and zkey from the same secrets)" });
    const made = await writeDevZkey({
      r1cs,
      ptauFile: tmp,
      maxPower: MAX_DEV_PTAU_POWER,
      ...(onProgress ? { onProgress } : {}),
    });
    const info = await inspectPtau(tmp);
    const file = path.join(dir, devSetupPtauName(made.ptau.power, info.blake2b));
    await rename(tmp, file);
    const vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: made.zkey });
    onProgress?.({ stage: "setup", message: "setup done", done: true });
    return {
      zkey: made.zkey,
      vkey,
      contributions: [{ name: DEV_CONTRIBUTION_NAME, hash: made.contributionHash }],
      devPtau: { ...info, file },
    };
  } finally {
    await rm(tmp, { force: true });
  }
}
