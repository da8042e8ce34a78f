import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, rename, rm, stat, statfs } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../util/progress.js";
import { writeDevPtau } from "./ptau-writer.js";

/**
 * Largest dev ptau verinfer generates: 2^21 (a 2.4 GB file, what FFLONK needs for a 2^18 circuit domain, e.g. the
 * benchmark MLP; an estimated 600–900 CPU-seconds). Each generation first checks that the machine has the memory and disk it takes ({@link devPtauNeeds}).
 */
export const MAX_DEV_PTAU_POWER = 21;

/** Bytes of a prepared ptau file of `power` (sections 2–7 and 12–15, one contribution record). */
function ptauFileBytes(power: number): number {
  const n = 2 ** power;
  return 64 * (2 * n - 1 + n + n + (4 * n - 1) + 2 * (2 * n - 1)) + 128 * (n + 1 + (2 * n - 1)) + 4096;
}

/**
 * What writing a dev ptau of `power` takes: the file on disk, and peak memory — a fixed part (the curve, the
 * fixed-base window tables, worker threads: ~700 MiB) plus ~1,152 bytes per power (the compressed and uncompressed
 * copies of every monomial point the contribution hash chain keeps, 576 bytes, and the points in flight), with a
 * 25 % margin. Fitted to measured peaks (`bench:setup`, `bench:universal`): 2^13 442 MiB, 2^15 744 MiB, 2^17 789 MiB,
 * 2^18 933 MiB; 2^21 (not measured) comes to ~3.7 GiB.
 *
 * @example
 * ```ts
 * const { memoryBytes, diskBytes } = devPtauNeeds(21); // ~3.7 GiB, ~2.4 GB
 * ```
 */
export function devPtauNeeds(power: number): { memoryBytes: number; diskBytes: number } {
  return { memoryBytes: 1.25 * (700 * 2 ** 20 + 1152 * 2 ** power), diskBytes: ptauFileBytes(power) };
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

/** Throws a typed error, before anything is written, when this machine lacks what a dev ptau of `power` takes. */
async function checkResources(power: number, dir: string): Promise<void> {
  const { memoryBytes, diskBytes } = devPtauNeeds(power);
  const memory = os.freemem();
  if (memory < memoryBytes) {
    throw new VerinferError("SETUP_REQUIRED", `not enough free memory for a dev ptau of power ${power}`, {
      details: `writing it takes about ${gib(memoryBytes)}, ${gib(memory)} is free; pass a ceremony ptau file of power >= ${power}`,
      meta: { power, memoryBytes, freeBytes: memory },
    });
  }
  await mkdir(dir, { recursive: true });
  const fs = await statfs(dir);
  const disk = fs.bavail * fs.bsize;
  if (disk < diskBytes) {
    throw new VerinferError("SETUP_REQUIRED", `not enough disk for a dev ptau of power ${power}`, {
      details: `the file takes ${gib(diskBytes)}, ${dir} has ${gib(disk)} free; pass a ceremony ptau file of power >= ${power}`,
      meta: { power, diskBytes, freeBytes: disk },
    });
  }
}

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
  await checkResources(power, dir);
  onProgress?.({ stage: "ptau", message: `generating a development powers-of-tau file of power ${power} (once)` });
  const target = path.join(dir, devPtauName(power));
  // Another process sharing this cache may be writing the same power now, from another tau. Whichever file is cached
  // first must stay: packages set up from it name it by hash, and replacing it would leave them unauditable. So the
  // file is written under a name of its own and linked to the cache's name only if that is still free.
  const own = `${target}.new-${process.pid}-${randomBytes(6).toString("hex")}`;
  await writeDevPtau({ power, file: own, ...(onProgress ? { onProgress } : {}) });
  try {
    await link(own, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: the other file was cached first and serves. A file system without hard links: rename, as before.
    if (code !== "EEXIST") {
      await rename(own, target).catch(async (cause) => {
        await rm(own, { force: true });
        throw new VerinferError("SETUP_REQUIRED", `cannot store the dev ptau in ${dir}`, { cause });
      });
    }
  }
  await rm(own, { force: true });
  return { file: target, power };
}
