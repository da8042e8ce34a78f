import {
  type BigNumberish,
  getAddress,
  hexlify,
  isAddress,
  isHexString,
  randomBytes,
  Signature,
  type Signer,
  solidityPackedKeccak256,
  type TypedDataField,
  toUtf8Bytes,
  verifyTypedData,
  ZeroAddress,
  ZeroHash,
} from "ethers";
import { z } from "zod";
import { VerinferError } from "../errors.js";
import { DECIMAL_STRING } from "../util/field.js";

/** EIP-712 domain name of EAS off-chain attestations (not the contract's own "EAS" name). */
export const EAS_EIP712_NAME = "EAS Attestation";

/** Off-chain attestation format verinfer signs and accepts: EAS "Version 2" (typed data with `version` and `salt`). */
export const OFFCHAIN_ATTESTATION_VERSION = 2;

/**
 * Where an EAS off-chain attestation is anchored: its EIP-712 domain is `("EAS Attestation", easVersion, chainId,
 * easAddress)`. Nothing is sent to that chain; the domain only makes a signature for one EAS deployment useless on
 * another.
 */
export interface EasDomainOptions {
  /** Chain id; default 1 (Ethereum mainnet). */
  chainId?: bigint | number;
  /** EAS contract; default the mainnet deployment `0xA1207F3BBa224E2c9c3c6D5aF63D0eb1582Ce587`. */
  easAddress?: string;
  /**
   * The EAS contract's version string, which is the EIP-712 domain version; default `"0.26"`, the version of the
   * mainnet deployment (its `VERSION` constant; also what the eas-sdk README uses for chain 1). Other deployments
   * report theirs via the contract's `VERSION()` (0.26 era, e.g. Sepolia and Arbitrum One: `"0.26"`) or
   * `version()` (newer, e.g. the OP-stack predeploys at `0x4200…0021`). A wrong version gives signatures that
   * verify nowhere else.
   */
  easVersion?: string;
}

/** The defaults of {@link EasDomainOptions}: the EAS deployment on Ethereum mainnet. */
export const DEFAULT_EAS_DOMAIN = {
  chainId: 1n,
  easAddress: "0xA1207F3BBa224E2c9c3c6D5aF63D0eb1582Ce587",
  easVersion: "0.26",
} as const satisfies Required<EasDomainOptions>;

/** The EIP-712 domain of an EAS off-chain attestation, as it appears in shared JSON (chain id as a decimal string). */
export type EasTypedDataDomain = {
  name: string;
  version: string;
  chainId: string;
  verifyingContract: string;
};

/** The fields of the Version 2 `Attest` type, in EIP-712 order (order is part of the type hash). */
export const OFFCHAIN_ATTEST_FIELDS: readonly Readonly<TypedDataField>[] = [
  { name: "version", type: "uint16" },
  { name: "schema", type: "bytes32" },
  { name: "recipient", type: "address" },
  { name: "time", type: "uint64" },
  { name: "expirationTime", type: "uint64" },
  { name: "revocable", type: "bool" },
  { name: "refUID", type: "bytes32" },
  { name: "data", type: "bytes" },
  { name: "salt", type: "bytes32" },
];

/** A fresh, mutable copy, so neither ethers nor a caller holding an attestation can alter the canonical list. */
function attestTypes(): { Attest: TypedDataField[] } {
  return { Attest: OFFCHAIN_ATTEST_FIELDS.map((f) => ({ name: f.name, type: f.type })) };
}

/** The signed message of a Version 2 off-chain attestation, JSON-safe (uint64s as decimal strings). */
export type OffchainAttestationMessage = {
  version: 2;
  /** Schema UID. */
  schema: string;
  recipient: string;
  /** Unix seconds. */
  time: string;
  /** Unix seconds; "0" means it never expires. */
  expirationTime: string;
  revocable: boolean;
  /** UID of a referenced attestation, or ZeroHash. */
  refUID: string;
  /** ABI-encoded schema fields. */
  data: string;
  /** 32 random bytes, so that two attestations of the same data have different UIDs. */
  salt: string;
};

/** A signed EAS off-chain attestation — the `sig` of the JSON EAS tools (easscan.org, eas-sdk) share. */
export type SignedOffchainAttestation = {
  domain: EasTypedDataDomain;
  primaryType: "Attest";
  types: { Attest: TypedDataField[] };
  message: OffchainAttestationMessage;
  signature: { r: string; s: string; v: number };
  uid: string;
  version: 2;
};

/**
 * An off-chain attestation with its attester, as EAS tools share it: `{ sig, signer }`. `JSON.stringify`-safe.
 * (These are `type`s, not `interface`s, so they stay assignable to index-signature types such as zod's loose
 * objects.)
 */
export type SharedAttestation = {
  sig: SignedOffchainAttestation;
  signer: string;
};

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x-prefixed 32-byte hex");
// isAddress also rejects a mixed-case address with a wrong checksum, which ethers would refuse to hash later.
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address")
  .refine((a) => isAddress(a), "has a wrong EIP-55 checksum");
const hexBytes = z.string().regex(/^0x(?:[0-9a-fA-F]{2})*$/, "must be 0x-prefixed hex bytes");

/**
 * An unsigned integer as EAS tools write it: the sdk's objects hold bigints, its JSON decimal strings, and older
 * tools and the sdk README plain numbers. All are normalised to decimal strings.
 */
function uint(bits: number) {
  return z
    .union([
      z.bigint(),
      z.number().int().nonnegative(),
      z.string().regex(DECIMAL_STRING, "must be a canonical decimal integer"),
    ])
    .transform((v) => BigInt(v))
    .refine((v) => v >= 0n && v < 1n << BigInt(bits), `must fit uint${bits}`)
    .transform((v) => v.toString());
}

/**
 * zod schema of a shared EAS off-chain attestation `{ sig, signer }`. It checks shape only: a legacy or Version 1
 * attestation (no `salt`) or a foreign type list parses, and is then rejected by {@link verifyOffchainAttestation}
 * with a reason. Hex case is kept as written, because EAS hashes the schema UID's text into the attestation UID.
 */
export const SharedAttestationSchema = z.object({
  sig: z.object({
    domain: z.object({
      name: z.string(),
      version: z.string(),
      chainId: uint(256),
      verifyingContract: address,
    }),
    primaryType: z.string(),
    types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
    message: z.object({
      version: z.number().int().nonnegative(),
      schema: bytes32,
      recipient: address,
      time: uint(64),
      expirationTime: uint(64),
      revocable: z.boolean(),
      refUID: bytes32,
      data: hexBytes,
      salt: bytes32.optional(),
    }),
    signature: z.object({ r: bytes32, s: bytes32, v: z.number().int() }),
    uid: bytes32,
    version: z.number().int().nonnegative(),
  }),
  signer: address,
});

/** The message fields {@link offchainUid} hashes. */
export interface OffchainUidMessage {
  schema: string;
  recipient: string;
  time: BigNumberish;
  expirationTime: BigNumberish;
  revocable: boolean;
  refUID: string;
  data: string;
  salt: string;
}

/**
 * The UID EAS gives a Version 2 off-chain attestation: keccak256 of `abi.encodePacked(uint16 2, bytes schema,
 * address recipient, address 0, uint64 time, uint64 expirationTime, bool revocable, bytes32 refUID, bytes data,
 * bytes32 salt, uint32 0)`. As in eas-sdk, `schema` enters as the UTF-8 bytes of its hex *text*, not as 32 raw
 * bytes — so the UID depends on the schema UID's letter case.
 *
 * @example
 * ```ts
 * offchainUid(attestation.sig.message) === attestation.sig.uid; // true for an untampered attestation
 * ```
 */
export function offchainUid(message: OffchainUidMessage): string {
  return solidityPackedKeccak256(
    ["uint16", "bytes", "address", "address", "uint64", "uint64", "bool", "bytes32", "bytes", "bytes32", "uint32"],
    [
      OFFCHAIN_ATTESTATION_VERSION,
      hexlify(toUtf8Bytes(message.schema)),
      message.recipient,
      ZeroAddress,
      message.time,
      message.expirationTime,
      message.revocable,
      message.refUID,
      message.data,
      message.salt,
      0,
    ],
  );
}

/**
 * The EIP-712 domain of off-chain attestations for one EAS deployment, defaults filled in.
 *
 * @throws VerinferError `INVALID_OPTIONS` for a negative or fractional chain id, a bad address or an empty version.
 * @example
 * ```ts
 * easDomain({ chainId: 11155111, easAddress: "0xC2679fBD37d54388Ce493F1DB75320D236e1815e" });
 * ```
 */
export function easDomain(options: EasDomainOptions = {}): EasTypedDataDomain {
  const chainId = options.chainId ?? DEFAULT_EAS_DOMAIN.chainId;
  if (typeof chainId === "number" ? !Number.isSafeInteger(chainId) || chainId < 0 : chainId < 0n) {
    throw new VerinferError("INVALID_OPTIONS", "domain chainId must be a non-negative integer", { meta: { chainId } });
  }
  const easAddress = options.easAddress ?? DEFAULT_EAS_DOMAIN.easAddress;
  let verifyingContract: string;
  try {
    verifyingContract = getAddress(easAddress);
  } catch (cause) {
    throw new VerinferError("INVALID_OPTIONS", "domain easAddress must be an address", { cause, meta: { easAddress } });
  }
  const version = options.easVersion ?? DEFAULT_EAS_DOMAIN.easVersion;
  if (version.length === 0) throw new VerinferError("INVALID_OPTIONS", "domain easVersion must not be empty");
  return { name: EAS_EIP712_NAME, version, chainId: BigInt(chainId).toString(), verifyingContract };
}

/** Parameters of {@link signOffchainAttestation}. */
export interface SignOffchainAttestationParams {
  /** Schema UID, e.g. `INFERENCE_SCHEMA_UID`. */
  schema: string;
  /** ABI-encoded fields, e.g. from `encodeInferenceData`. */
  data: string;
  /** Default `ZeroAddress` (no particular recipient). */
  recipient?: string;
  /** Unix seconds; default now. */
  time?: bigint;
  /** Unix seconds; default 0 (never expires). */
  expirationTime?: bigint;
  /** Default true. Must be false when the schema was registered as irrevocable. */
  revocable?: boolean;
  /** Default ZeroHash (no reference). */
  refUID?: string;
  /** 32-byte hex; default 32 fresh random bytes. */
  salt?: string;
}

/** What {@link signOffchainAttestation} signs with: any ethers v6 signer (Wallet, JsonRpcSigner, …). */
export type TypedDataSigner = Pick<Signer, "getAddress" | "signTypedData">;

/** Options of {@link signOffchainAttestation}. */
export interface SignOffchainAttestationOptions {
  signer: TypedDataSigner;
  domain?: EasDomainOptions;
}

const UINT64_LIMIT = 1n << 64n;

function requireHex(value: string, bytes: number, name: string): string {
  if (!isHexString(value, bytes)) {
    throw new VerinferError("INVALID_INPUT", `${name} must be 0x-prefixed ${bytes}-byte hex`, {
      meta: { [name]: value },
    });
  }
  // Lowercase, so the schema UID's text — which EAS hashes into the attestation UID — has one spelling.
  return value.toLowerCase();
}

function requireUint64(value: bigint, name: string): string {
  if (value < 0n || value >= UINT64_LIMIT) {
    throw new VerinferError("INVALID_INPUT", `${name} must fit uint64`, { meta: { [name]: value.toString() } });
  }
  return value.toString();
}

/**
 * Signs an EAS off-chain attestation (Version 2, EIP-712) with ethers alone. The result is the `{ sig, signer }`
 * JSON EAS tools share, verifiable by {@link verifyOffchainAttestation}, by eas-sdk's
 * `Offchain.verifyOffchainAttestationSignature` and by easscan.org.
 *
 * @throws VerinferError `INVALID_INPUT` for malformed params, `INVALID_OPTIONS` for a bad domain or a signer whose
 *   signature does not recover to its own address.
 * @example
 * ```ts
 * const attestation = await signOffchainAttestation(
 *   { schema: INFERENCE_SCHEMA_UID, data: encodeInferenceData(fields) },
 *   { signer: wallet, domain: { chainId: 11155111, easAddress: SEPOLIA_EAS } },
 * );
 * writeFileSync("attestation.json", JSON.stringify(attestation));
 * ```
 */
export async function signOffchainAttestation(
  params: SignOffchainAttestationParams,
  options: SignOffchainAttestationOptions,
): Promise<SharedAttestation> {
  const recipient = params.recipient ?? ZeroAddress;
  if (!isHexString(recipient, 20)) {
    throw new VerinferError("INVALID_INPUT", "recipient must be an address", { meta: { recipient } });
  }
  if (!isHexString(params.data) || params.data.length % 2 !== 0) {
    throw new VerinferError("INVALID_INPUT", "data must be 0x-prefixed hex bytes");
  }
  const message: OffchainAttestationMessage = {
    version: OFFCHAIN_ATTESTATION_VERSION,
    schema: requireHex(params.schema, 32, "schema"),
    recipient: getAddress(recipient),
    time: requireUint64(params.time ?? BigInt(Math.floor(Date.now() / 1000)), "time"),
    expirationTime: requireUint64(params.expirationTime ?? 0n, "expirationTime"),
    revocable: params.revocable ?? true,
    refUID: requireHex(params.refUID ?? ZeroHash, 32, "refUID"),
    data: params.data.toLowerCase(),
    salt: requireHex(params.salt ?? hexlify(randomBytes(32)), 32, "salt"),
  };
  const domain = easDomain(options.domain);
  const types = attestTypes();
  const signer = getAddress(await options.signer.getAddress());
  const raw = await options.signer.signTypedData(domain, types, message);
  // A remote or hardware signer could sign other bytes than asked; such an attestation would verify nowhere.
  if (getAddress(verifyTypedData(domain, types, message, raw)) !== signer) {
    throw new VerinferError("INVALID_OPTIONS", "signer's signature does not recover to its own address");
  }
  const { r, s, v } = Signature.from(raw);
  return {
    sig: {
      domain,
      primaryType: "Attest",
      types,
      message,
      signature: { r, s, v },
      uid: offchainUid(message),
      version: OFFCHAIN_ATTESTATION_VERSION,
    },
    signer,
  };
}

/** Options of {@link verifyOffchainAttestation}. */
export interface VerifyOffchainAttestationOptions {
  /** The EAS deployment the attestation must be bound to; default {@link DEFAULT_EAS_DOMAIN}. */
  domain?: EasDomainOptions;
  /** Schema UID the attestation must carry (e.g. `INFERENCE_SCHEMA_UID`); unchecked when absent. */
  schema?: string;
  /** Attesters to accept; any signer when absent. */
  trustedSigners?: string[];
  /** Reject attestations whose `time` is more than this many seconds before `now`. */
  maxAgeSeconds?: number;
  /** Unix seconds to judge expiry and age against; default the system clock. */
  now?: bigint;
}

/** One check of {@link verifyOffchainAttestation}. */
export interface OffchainAttestationCheck {
  name: string;
  ok: boolean;
  /** Why it failed. */
  detail?: string;
}

/** Result of {@link verifyOffchainAttestation}. */
export interface OffchainAttestationVerification {
  valid: boolean;
  /** The first failed check, `"<name>: <detail>"`. */
  reason?: string;
  /** Every check made, in order. */
  checks: OffchainAttestationCheck[];
}

/** Attestations dated this far past `now` are still accepted: clocks of attester and verifier drift. */
const CLOCK_SKEW_SECONDS = 60n;

function optionAddresses(list: readonly string[]): Set<string> {
  return new Set(
    list.map((a) => {
      try {
        return getAddress(a);
      } catch (cause) {
        throw new VerinferError("INVALID_OPTIONS", "trustedSigners must be addresses", { cause, meta: { address: a } });
      }
    }),
  );
}

function sameHex(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Verifies a shared EAS off-chain attestation `{ sig, signer }` (a parsed JSON object): Version 2 format and type
 * list, EIP-712 domain, UID, signature by `signer`, and optionally trusted signers, schema, expiry and age.
 * Accepts what {@link signOffchainAttestation}, eas-sdk and easscan.org produce, with bigints, numbers or decimal
 * strings for the integer fields.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` when `attestation` does not have the shape of one;
 *   `INVALID_OPTIONS` for bad options. A well-formed attestation that fails returns `{ valid: false, reason }`.
 * @example
 * ```ts
 * const { valid, reason } = verifyOffchainAttestation(JSON.parse(text), {
 *   schema: INFERENCE_SCHEMA_UID, trustedSigners: [oracle], maxAgeSeconds: 3600,
 * });
 * ```
 */
export function verifyOffchainAttestation(
  attestation: unknown,
  options: VerifyOffchainAttestationOptions = {},
): OffchainAttestationVerification {
  const parsed = SharedAttestationSchema.safeParse(attestation);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", "not an EAS off-chain attestation { sig, signer }", {
      details: z.prettifyError(parsed.error),
    });
  }
  const { sig, signer } = parsed.data;
  const { message } = sig;
  const expectedDomain = easDomain(options.domain);
  const trusted = options.trustedSigners === undefined ? undefined : optionAddresses(options.trustedSigners);
  const maxAge = options.maxAgeSeconds;
  if (maxAge !== undefined && !(Number.isSafeInteger(maxAge) && maxAge >= 0)) {
    throw new VerinferError("INVALID_OPTIONS", "maxAgeSeconds must be a non-negative integer", { meta: { maxAge } });
  }
  const now = options.now ?? BigInt(Math.floor(Date.now() / 1000));

  const checks: OffchainAttestationCheck[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push(ok ? { name, ok } : { name, ok, detail });
  };

  check(
    "version",
    sig.version === OFFCHAIN_ATTESTATION_VERSION &&
      message.version === OFFCHAIN_ATTESTATION_VERSION &&
      sig.primaryType === "Attest",
    `expected Version 2 with primaryType "Attest", got version ${sig.version}/${message.version}, primaryType "${sig.primaryType}"`,
  );
  // Exact equality, order included: the type list is hashed into the signed digest, and eas-sdk compares it so.
  check(
    "types",
    JSON.stringify(sig.types) === JSON.stringify(attestTypes()),
    "type list differs from EAS Version 2 Attest",
  );
  const domainMismatch: string[] = (["name", "version", "chainId"] as const).filter(
    (k) => sig.domain[k] !== expectedDomain[k],
  );
  // Addresses compare case-insensitively (the checksum is presentation); eas-sdk compares the text exactly.
  if (!sameHex(sig.domain.verifyingContract, expectedDomain.verifyingContract))
    domainMismatch.push("verifyingContract");
  check(
    "domain",
    domainMismatch.length === 0,
    `domain ${domainMismatch.join(", ")} differ from the expected ${JSON.stringify(expectedDomain)}`,
  );

  const salt = message.salt;
  // eas-sdk compares the UID text exactly, so an uppercase UID fails there as here.
  const uid = salt === undefined ? undefined : offchainUid({ ...message, salt });
  check("uid", uid === sig.uid, uid === undefined ? "message has no salt" : `uid should be ${uid}`);

  let recovered: string | undefined;
  try {
    const serialized = Signature.from(sig.signature).serialized;
    // Recover over the canonical types: a signature made over any other type list must not pass.
    recovered = verifyTypedData(sig.domain, attestTypes(), message, serialized);
  } catch {
    recovered = undefined;
  }
  check(
    "signature",
    recovered !== undefined && sameHex(recovered, signer),
    recovered === undefined ? "signature does not verify" : `signature recovers to ${recovered}, not ${signer}`,
  );

  if (trusted !== undefined) {
    check("trusted-signer", trusted.has(getAddress(signer)), `${signer} is not a trusted signer`);
  }
  if (options.schema !== undefined) {
    check("schema", sameHex(message.schema, options.schema), `schema ${message.schema} is not ${options.schema}`);
  }
  const time = BigInt(message.time);
  const expirationTime = BigInt(message.expirationTime);
  // EAS's contract treats an attestation as expired from its expirationTime on (expirationTime <= now).
  check("not-expired", expirationTime === 0n || now < expirationTime, `expired at ${expirationTime} (now ${now})`);
  if (maxAge !== undefined) {
    check("max-age", now - time <= BigInt(maxAge), `made at ${time}, older than ${maxAge} s (now ${now})`);
  }
  check("not-in-future", time <= now + CLOCK_SKEW_SECONDS, `made at ${time}, in the future (now ${now})`);

  const failed = checks.find((c) => !c.ok);
  return failed === undefined
    ? { valid: true, checks }
    : { valid: false, reason: `${failed.name}: ${failed.detail}`, checks };
}
