import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir } from "node:fs/promises";
import path from "node:path";
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
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const buf = head.subarray(0, bytesRead);
    if (buf.length < 12 || buf.toString("latin1", 0, 4) !== "ptau") throw new Error("no ptau magic");
    const nSections = buf.readUInt32LE(8);
    let p = 12;
    for (let i = 0; i < nSections && p + 12 <= buf.length; i++) {
      const type = buf.readUInt32LE(p);
      const size = Number(buf.readBigUInt64LE(p + 4));
      p += 12;
      if (type === 1) {
        const n8 = buf.readUInt32LE(p);
        if (p + 4 + n8 + 4 > buf.length) break;
        return buf.readUInt32LE(p + 4 + n8);
      }
      p += size;
    }
    throw new Error("no header section");
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
    throw new VerinferError("SETUP_REQUIRED", `cannot read ptau file ${file}`, {
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
