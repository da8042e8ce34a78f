import { randomBytes } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../progress.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { snarkLogger } from "./snark-logger.js";
import { unrefIdleCurveWorkers } from "./unref-idle-curve-workers.js";

/** Largest dev ptau verinfer generates (2^20 constraints; ~hours of snarkjs phase-2 preparation on 2 cores). */
export const MAX_DEV_PTAU_POWER = 20;

/** Parameters of {@link ensureDevPtau}. */
export interface EnsureDevPtauParams {
  /** Needed power: the circuit has at most 2^power constraints (+ public signals). */
  power: number;
  cacheDir: string;
  onProgress?: OnProgress;
}

function devPtauName(power: number): string {
  return `dev-bn128-${power}.ptau`;
}

/**
 * Returns a cached development powers-of-tau file of at least `power`, generating one if none exists:
 * a fresh accumulator, one contribution of 32 bytes of OS randomness (never stored), and snarkjs's
 * phase-2 preparation. A single contributor means whoever ran it could have kept tau: dev use only, which is
 * why model packages built on it are marked `setup: "dev"`.
 *
 * @example
 * ```ts
 * const ptau = await ensureDevPtau({ power: 12, cacheDir });
 * ```
 */
export async function ensureDevPtau(params: EnsureDevPtauParams): Promise<{ file: string; power: number }> {
  const { power, cacheDir, onProgress } = params;
  if (!Number.isInteger(power) || power < 1 || power > MAX_DEV_PTAU_POWER) {
    throw new VerinferError("SETUP_REQUIRED", `a dev ptau of power ${power} is out of reach`, {
      details: `pass a ceremony ptau file of power >= ${power} (dev generation stops at 2^${MAX_DEV_PTAU_POWER})`,
    });
  }
  const dir = path.join(cacheDir, "ptau");
  // A larger cached ptau serves smaller circuits too (snarkjs reads the prefix it needs).
  const existing = await readdir(dir).catch(() => [] as string[]);
  const usable = existing
    .map((f) => /^dev-bn128-(\d+)\.ptau$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((p) => p >= power)
    .sort((a, b) => a - b);
  for (const p of usable) {
    const file = path.join(dir, devPtauName(p));
    if ((await stat(file)).size > 0) return { file, power: p };
  }
  onProgress?.({ stage: "ptau", message: `generating a development powers-of-tau file of power ${power} (once)` });
  const target = path.join(dir, devPtauName(power));
  const tmp0 = `${target}.0.tmp`;
  const tmp1 = `${target}.1.tmp`;
  const logger = snarkLogger("ptau", onProgress);
  unrefIdleCurveWorkers();
  try {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    await atomicWrite(tmp0, new Uint8Array());
    await snarkjs.powersOfTau.newAccumulator(curve, power, tmp0, logger);
    const entropy = randomBytes(32).toString("hex");
    await snarkjs.powersOfTau.contribute(tmp0, tmp1, "verinfer dev", entropy, logger);
    const prepared = { type: "mem" } as { type: "mem"; data?: Uint8Array };
    await snarkjs.powersOfTau.preparePhase2(tmp1, prepared, logger);
    if (!prepared.data) throw new VerinferError("INTERNAL", "snarkjs produced no ptau data");
    await atomicWrite(target, prepared.data);
  } finally {
    await rm(tmp0, { force: true });
    await rm(tmp1, { force: true });
  }
  onProgress?.({ stage: "ptau", message: `dev ptau 2^${power} ready`, done: true });
  return { file: target, power };
}
