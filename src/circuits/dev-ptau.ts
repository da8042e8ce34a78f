import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../progress.js";
import { writeDevPtau } from "./ptau-writer.js";

/** Largest dev ptau verinfer generates (2^20 constraints: ~1.2 GB, minutes on 2 cores). */
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
 * Returns a cached development powers-of-tau file of at least `power`, generating one if none exists with
 * {@link writeDevPtau}: a prepared ptau (every section `snarkjs zkey new`, `plonk setup` and `fflonk setup` read)
 * computed directly from secrets drawn from OS randomness and wiped after use, with one contribution record
 * ("verinfer dev") that `snarkjs powersoftau verify` accepts. A single contributor means whoever ran it could have
 * kept tau: dev use only, which is why model packages built on it are marked `setup: "dev"`.
 *
 * A cached file of a larger power serves smaller circuits as is: a prepared ptau holds the Lagrange sections of
 * every power up to its own, and snarkjs reads the one it needs.
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
  await writeDevPtau({ power, file: target, ...(onProgress ? { onProgress } : {}) });
  return { file: target, power };
}
