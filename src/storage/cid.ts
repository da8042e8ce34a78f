import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { create as createDigest } from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import { VerinferError } from "../errors.js";
import { sha256Hex } from "./sha256-hex.js";

/** multicodec code of sha2-256. */
const SHA2_256 = sha256.code;

/**
 * The CIDv1 of bytes: raw codec (0x55), sha2-256, in its base32 string form (`bafkrei…`). The same bytes have
 * the same CID everywhere — in every {@link Storage}, on every machine, and in IPFS.
 *
 * @example
 * ```ts
 * cidOf(new TextEncoder().encode("hello")); // "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
 * ```
 */
export function cidOf(bytes: Uint8Array): string {
  return cidFromSha256(sha256Hex(bytes));
}

/**
 * Parses a CID string and checks that it names a raw sha2-256 object (CIDv1, codec 0x55, 32-byte digest).
 * Accepts any multibase CIDv1 string; the returned CID prints in base32.
 *
 * @throws VerinferError `INVALID_INPUT` for anything else (not a string, not a CID, CIDv0, another codec or hash).
 * @example
 * ```ts
 * parseCid("bafkrei…").toString(); // "bafkrei…"
 * ```
 */
export function parseCid(cid: unknown): CID {
  if (typeof cid !== "string" || cid.length === 0 || cid.length > 200) {
    throw new VerinferError("INVALID_INPUT", `not a CID string: ${JSON.stringify(cid)?.slice(0, 80)}`);
  }
  let parsed: CID;
  try {
    parsed = CID.parse(cid);
  } catch (cause) {
    throw new VerinferError("INVALID_INPUT", `not a CID: ${JSON.stringify(cid.slice(0, 80))}`, { cause });
  }
  if (
    parsed.version !== 1 ||
    parsed.code !== raw.code ||
    parsed.multihash.code !== SHA2_256 ||
    parsed.multihash.size !== 32
  ) {
    throw new VerinferError("INVALID_INPUT", `CID ${cid.slice(0, 80)} is not a CIDv1 of raw sha2-256 bytes`, {
      meta: { version: parsed.version, codec: parsed.code, hash: parsed.multihash.code },
    });
  }
  return parsed;
}

/**
 * The canonical (base32) string form of a raw sha2-256 CIDv1, e.g. for a CID given in base58btc or base36.
 *
 * @throws VerinferError `INVALID_INPUT` when `cid` is not such a CID.
 * @example
 * ```ts
 * normalizeCid("zb2rh…"); // "bafkrei…"
 * ```
 */
export function normalizeCid(cid: unknown): string {
  return parseCid(cid).toString();
}

/**
 * The CIDv1 name of an object addressed by its sha256 hex digest — e.g. a model package artifact
 * (`manifest.artifacts.zkey.sha256`; a `verinfer/model@3` manifest names the CID too).
 *
 * @throws VerinferError `INVALID_INPUT` when `hex` is not 64 lower-case hex digits.
 * @example
 * ```ts
 * cidFromSha256(pkg.manifest.artifacts.zkey.sha256); // "bafkrei…"
 * ```
 */
export function cidFromSha256(hex: string): string {
  if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new VerinferError("INVALID_INPUT", `not a sha256 hex digest: ${JSON.stringify(hex)}`);
  }
  return CID.createV1(raw.code, createDigest(SHA2_256, Buffer.from(hex, "hex"))).toString();
}

/**
 * The sha256 hex digest a raw sha2-256 CIDv1 names (the inverse of {@link cidFromSha256}).
 *
 * @throws VerinferError `INVALID_INPUT` when `cid` is not such a CID.
 * @example
 * ```ts
 * await store.get({ sha256: sha256FromCid(cid), size });
 * ```
 */
export function sha256FromCid(cid: string): string {
  return Buffer.from(parseCid(cid).multihash.digest).toString("hex");
}
