import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir } from "node:fs/promises";
import path from "node:path";
import { binfileSectionsOfFile } from "../circuits/snark-binfile.js";
import { VerinferError } from "../errors.js";
import { type CeremonyPtau, ceremonyPtau } from "./ceremony-ptau.js";

/** What a ptau file is, by its bytes. */
export interface PtauInfo {
  file: string;
  /** BLAKE2b-512 of the file, lower-case hex: what the ceremony pins compare. */
  blake2b: string;
  /** sha256 of the file, lower-case hex. */
  sha256: string;
  /** The power in the file's header (`2^power` constraints + public signals). */
  power: number;
  /** The pinned ceremony file these bytes are, if any. */
  ceremony?: CeremonyPtau;
}

/** Reads the `power` field of a snarkjs `.ptau` header (binfile "ptau", section 1: n8, q, power, …). */
async function headerPower(file: string): Promise<number> {
  const header = (await binfileSectionsOfFile(file, "ptau", "SETUP_REQUIRED")).get(1);
  if (!header || header.size < 8) throw new Error("no header section");
  const handle = await open(file, "r");
  try {
    const field = new Uint8Array(4);
    await handle.read(field, 0, 4, header.start);
    const n8 = new DataView(field.buffer).getUint32(0, true);
    if (header.size < 4 + n8 + 4) throw new Error("header section too short");
    const power = new Uint8Array(4);
    await handle.read(power, 0, 4, header.start + 4 + n8);
    return new DataView(power.buffer).getUint32(0, true);
  } finally {
    await handle.close();
  }
}

/**
 * Hashes a powers-of-tau file (BLAKE2b-512 and sha256, streamed: ceremony files reach hundreds of GB), reads
 * its power, and names the pinned ceremony file it is, if any.
 *
 * @throws VerinferError `SETUP_REQUIRED` when the file is unreadable or not a ptau file.
 * @example
 * ```ts
 * const info = await inspectPtau("powersOfTau28_hez_final_12.ptau");
 * info.ceremony?.power; // 12
 * ```
 */
export async function inspectPtau(file: string): Promise<PtauInfo> {
  let power: number;
  const b2 = createHash("blake2b512");
  const sha = createHash("sha256");
  try {
    power = await headerPower(file);
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) {
      b2.update(chunk as Buffer);
      sha.update(chunk as Buffer);
    }
  } catch (cause) {
    const absent = (cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
    throw new VerinferError("SETUP_REQUIRED", absent ? `no ptau file at ${file}` : `cannot read ptau file ${file}`, {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  const blake2b = b2.digest("hex");
  const ceremony = ceremonyPtau(blake2b);
  return { file, blake2b, sha256: sha.digest("hex"), power, ...(ceremony ? { ceremony } : {}) };
}

/**
 * Finds the `.ptau` file in a directory whose BLAKE2b-512 is `blake2b` (the cache's `ptau/` folder holds the
 * dev ptau files a package may have been set up with), among those of `power` when given; `undefined` when
 * none is.
 *
 * @example
 * ```ts
 * const info = await findPtauByHash(path.join(cacheDir, "ptau"), pkg.manifest.setup.ptauBlake2b);
 * ```
 */
export async function findPtauByHash(dir: string, blake2b: string, power?: number): Promise<PtauInfo | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  // A dev setup's own ptau carries the start of its hash in its name: look there first.
  const named = (n: string) => (n.includes(blake2b.slice(0, 16)) ? 0 : 1);
  const candidates = names.filter((n) => n.endsWith(".ptau")).sort();
  for (const name of candidates.sort((a, b) => named(a) - named(b))) {
    const file = path.join(dir, name);
    // Reading a header is cheap, hashing a large ptau is not: only hash files of the expected power.
    if (power !== undefined && (await headerPower(file).catch(() => undefined)) !== power) continue;
    const info = await inspectPtau(file).catch(() => undefined);
    if (info?.blake2b === blake2b) return info;
  }
  return undefined;
}
