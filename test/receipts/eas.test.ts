import { createRequire } from "node:module";
import { hexlify, keccak256, randomBytes, toUtf8Bytes, Wallet, ZeroAddress, ZeroHash } from "ethers";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_EAS_DOMAIN,
  type EasDomainOptions,
  easDomain,
  type OffchainAttestationMessage,
  offchainUid,
  type SharedAttestation,
  signOffchainAttestation,
  verifyOffchainAttestation,
} from "../../src/attest/eas-offchain.js";
import {
  DATA_SCHEMA,
  DATA_SCHEMA_UID,
  type DataAttestationFields,
  decodeDataAttestationData,
  decodeInferenceData,
  encodeDataAttestationData,
  encodeInferenceData,
  INFERENCE_SCHEMA,
  INFERENCE_SCHEMA_UID,
  type InferenceAttestationFields,
  schemaUid,
} from "../../src/attest/eas-schemas.js";
import { isVerinferError } from "../../src/errors.js";

type EasSdk = typeof import("@ethereum-attestation-service/eas-sdk");

// eas-sdk 2.10's ESM build imports lodash by name (fails on Node 20) and its CommonJS index needs `tslib`, which
// it does not declare; its offchain and schema-encoder modules load on their own. (SchemaRegistry needs tslib
// too, so schema UIDs are checked against UIDs EAS itself published instead.)
const require = createRequire(import.meta.url);
const SDK = "../../node_modules/@ethereum-attestation-service/eas-sdk/dist/lib.commonjs";
const { Offchain, OffchainAttestationVersion } = require(`${SDK}/offchain/offchain.js`) as Pick<
  EasSdk,
  "Offchain" | "OffchainAttestationVersion"
>;
const { SchemaEncoder } = require(`${SDK}/schema-encoder.js`) as Pick<EasSdk, "SchemaEncoder">;

const T = 1_700_000_000n;
const SEPOLIA: EasDomainOptions = {
  chainId: 11155111,
  easAddress: "0xC2679fBD37d54388Ce493F1DB75320D236e1815e",
  easVersion: "0.26",
};

const inferenceFields: InferenceAttestationFields = {
  modelId: keccak256(toUtf8Bytes("demo-glyphs")),
  modelCommitment: 12345678901234567890123456789n,
  inputCommitment: 2n ** 250n + 17n,
  outputCommitment: 42n,
  outputHash: keccak256(toUtf8Bytes("outputs")),
  mode: "zk",
  backend: "cpu",
};

const dataFields: DataAttestationFields = {
  source: "https://example.org/feed?id=7",
  commitment: 987654321n,
  shape: "[16]",
  fetchedAt: T - 5n,
  quantizationHash: keccak256(toUtf8Bytes("quantization")),
};

/** The eas-sdk's Offchain signer/verifier for `domain` in the given attestation version. */
function sdkOffchain(
  version: (typeof OffchainAttestationVersion)[keyof typeof OffchainAttestationVersion],
  domain: EasDomainOptions = {},
): InstanceType<typeof Offchain> {
  const d = easDomain(domain);
  return new Offchain(
    { address: d.verifyingContract, version: d.version, chainId: BigInt(d.chainId) },
    version,
    undefined as never, // only needed to verify on-chain while signing
  );
}

/** The eas-sdk's own verdict, with an Offchain verifier configured for `domain` (not read from the attestation). */
function sdkVerifies(attestation: unknown, domain: EasDomainOptions = {}): boolean {
  const offchain = sdkOffchain(OffchainAttestationVersion.Version2, domain);
  const { sig, signer } = attestation as { sig: never; signer: string };
  try {
    return offchain.verifyOffchainAttestationSignature(signer, sig);
  } catch {
    // The sdk throws, rather than returning false, for a foreign domain, primaryType or type list.
    return false;
  }
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

/** `address` with the case of its letters flipped: same 20 bytes, failing EIP-55 checksum. */
function badChecksum(address: string): string {
  const flipped = address
    .slice(2)
    .replace(/[a-f]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
  return `0x${flipped}`;
}

/** A deep copy of `attestation` with `edit` applied, as a verifier would receive it over the wire. */
function tampered(attestation: SharedAttestation, edit: (a: SharedAttestation) => void): SharedAttestation {
  const copy = structuredClone(attestation);
  edit(copy);
  return copy;
}

async function signed(
  wallet = Wallet.createRandom(),
  extra: Partial<Parameters<typeof signOffchainAttestation>[0]> = {},
) {
  return signOffchainAttestation(
    { schema: INFERENCE_SCHEMA_UID, data: encodeInferenceData(inferenceFields), time: T, ...extra },
    { signer: wallet },
  );
}

describe("EAS schemas", () => {
  it("computes schema UIDs as EAS's SchemaRegistry does", () => {
    // UIDs EAS published for these schemas (no resolver, revocable): easscan's "Name a Schema" and "Make a
    // Statement", and the eas-sdk README's example schema.
    expect(schemaUid("bytes32 schemaId,string name")).toBe(
      "0x44d562ac1d7cd77e232978687fea027ace48f719cf1d58c7888e509663bb87fc",
    );
    expect(schemaUid("string statement")).toBe("0xf58b8b212ef75ee8cd7e8d803c37c03e0519890502d5e99ee2412aae1456cafe");
    expect(schemaUid("uint256 eventId, uint8 voteIndex")).toBe(
      "0xb16fa048b0d597f5a821747eba64efa4762ee5143e9a80600d0005386edfc995",
    );
    expect(INFERENCE_SCHEMA_UID).toBe(schemaUid(INFERENCE_SCHEMA, { resolver: ZeroAddress, revocable: true }));
    expect(DATA_SCHEMA_UID).toBe(schemaUid(DATA_SCHEMA));
    expect(INFERENCE_SCHEMA_UID).not.toBe(DATA_SCHEMA_UID);
  });

  it("gives a different UID to a different resolver or revocability", () => {
    const resolver = Wallet.createRandom().address;
    expect(schemaUid(INFERENCE_SCHEMA, { resolver })).not.toBe(INFERENCE_SCHEMA_UID);
    expect(schemaUid(INFERENCE_SCHEMA, { revocable: false })).not.toBe(INFERENCE_SCHEMA_UID);
  });

  it("keeps the published schema UIDs stable", () => {
    // A change here is a new schema: attestations already made under the old UID stop matching.
    expect(INFERENCE_SCHEMA_UID).toBe("0x56df54f95d0feb145c2df892949f38abe153e9bf86d0183b538c39c9f32d83e6");
    expect(DATA_SCHEMA_UID).toBe("0xd5c869b2bf6cb946fa5f1d9aa5726cd6f384e469f70b4c5b9f8b21e43b1a5eda");
  });

  it("encodes inference data exactly as eas-sdk's SchemaEncoder", () => {
    const sdk = new SchemaEncoder(INFERENCE_SCHEMA).encodeData([
      { name: "modelId", type: "bytes32", value: inferenceFields.modelId },
      { name: "modelCommitment", type: "uint256", value: inferenceFields.modelCommitment },
      { name: "inputCommitment", type: "uint256", value: inferenceFields.inputCommitment },
      { name: "outputCommitment", type: "uint256", value: inferenceFields.outputCommitment },
      { name: "outputHash", type: "bytes32", value: inferenceFields.outputHash },
      { name: "mode", type: "string", value: inferenceFields.mode },
      { name: "backend", type: "string", value: inferenceFields.backend },
    ]);
    const ours = encodeInferenceData(inferenceFields);
    expect(ours).toBe(sdk);
    expect(decodeInferenceData(ours)).toEqual(inferenceFields);
    const decodedBySdk = new SchemaEncoder(INFERENCE_SCHEMA).decodeData(ours);
    expect(decodedBySdk.map((d) => d.name)).toEqual(Object.keys(inferenceFields));
    expect(decodedBySdk.map((d) => d.value.value)).toEqual(Object.values(inferenceFields));
  });

  it("encodes data-attestation data exactly as eas-sdk's SchemaEncoder", () => {
    const sdk = new SchemaEncoder(DATA_SCHEMA).encodeData([
      { name: "source", type: "string", value: dataFields.source },
      { name: "commitment", type: "uint256", value: dataFields.commitment },
      { name: "shape", type: "string", value: dataFields.shape },
      { name: "fetchedAt", type: "uint64", value: dataFields.fetchedAt },
      { name: "quantizationHash", type: "bytes32", value: dataFields.quantizationHash },
    ]);
    const ours = encodeDataAttestationData(dataFields);
    expect(ours).toBe(sdk);
    expect(decodeDataAttestationData(ours)).toEqual(dataFields);
  });

  it("rejects fields that do not fit the schema", () => {
    const short = thrownBy(() => encodeInferenceData({ ...inferenceFields, modelId: "0x1234" }));
    expect(isVerinferError(short, "INVALID_INPUT")).toBe(true);
    const negative = thrownBy(() => encodeInferenceData({ ...inferenceFields, outputCommitment: -1n }));
    expect(isVerinferError(negative, "INVALID_INPUT")).toBe(true);
    const tooLate = thrownBy(() => encodeDataAttestationData({ ...dataFields, fetchedAt: 2n ** 64n }));
    expect(isVerinferError(tooLate, "INVALID_INPUT")).toBe(true);
  });

  it("rejects data that is not the canonical encoding of the schema", () => {
    const data = encodeInferenceData(inferenceFields);
    expect(
      isVerinferError(
        thrownBy(() => decodeInferenceData(`${data}00`)),
        "INVALID_INPUT",
      ),
    ).toBe(true);
    expect(
      isVerinferError(
        thrownBy(() => decodeInferenceData("0x1234")),
        "INVALID_INPUT",
      ),
    ).toBe(true);
    expect(
      isVerinferError(
        thrownBy(() => decodeDataAttestationData(data)),
        "INVALID_INPUT",
      ),
    ).toBe(true);
  });
});

describe("EAS off-chain attestations", () => {
  it("signs attestations that verinfer and eas-sdk both verify", async () => {
    const wallet = Wallet.createRandom();
    const att = await signed(wallet);
    expect(att.signer).toBe(wallet.address);
    expect(att.sig.domain).toEqual({
      name: "EAS Attestation",
      version: "0.26",
      chainId: "1",
      verifyingContract: DEFAULT_EAS_DOMAIN.easAddress,
    });
    expect(att.sig.message).toMatchObject({ version: 2, recipient: ZeroAddress, refUID: ZeroHash, revocable: true });
    expect(att.sig.message.expirationTime).toBe("0");
    const result = verifyOffchainAttestation(att, { now: T + 10n });
    expect(result).toEqual({ valid: true, checks: expect.any(Array) });
    expect(result.checks.map((c) => c.name)).toEqual([
      "version",
      "types",
      "domain",
      "uid",
      "signature",
      "not-expired",
      "not-in-future",
    ]);
    expect(sdkVerifies(att)).toBe(true);
  });

  it("gives the UID eas-sdk computes", async () => {
    const att = await signed(undefined, {
      recipient: Wallet.createRandom().address,
      expirationTime: T + 1000n,
      refUID: keccak256(toUtf8Bytes("ref")),
      revocable: false,
    });
    const m = att.sig.message;
    const sdkUid = Offchain.getOffchainUID(
      OffchainAttestationVersion.Version2,
      m.schema,
      m.recipient,
      BigInt(m.time),
      BigInt(m.expirationTime),
      m.revocable,
      m.refUID,
      m.data,
      m.salt,
    );
    expect(att.sig.uid).toBe(sdkUid);
    expect(offchainUid(m)).toBe(sdkUid);
    expect(sdkVerifies(att)).toBe(true);
  });

  it("draws a fresh salt, so identical attestations get different UIDs", async () => {
    const wallet = Wallet.createRandom();
    const [a, b] = await Promise.all([signed(wallet), signed(wallet)]);
    expect(a.sig.message.salt).not.toBe(b.sig.message.salt);
    expect(a.sig.uid).not.toBe(b.sig.uid);
    const salt = hexlify(randomBytes(32));
    const [c, d] = await Promise.all([signed(wallet, { salt }), signed(wallet, { salt })]);
    expect(c.sig.uid).toBe(d.sig.uid);
  });

  it("still verifies after a JSON round trip, with verinfer and with eas-sdk", async () => {
    const att = await signed();
    const wire = JSON.parse(JSON.stringify(att)) as unknown;
    expect(wire).toEqual(att);
    expect(verifyOffchainAttestation(wire, { now: T }).valid).toBe(true);
    expect(sdkVerifies(wire)).toBe(true);
  });

  it("binds to a chosen EAS deployment", async () => {
    const att = await signOffchainAttestation(
      { schema: DATA_SCHEMA_UID, data: encodeDataAttestationData(dataFields), time: T },
      { signer: Wallet.createRandom(), domain: SEPOLIA },
    );
    expect(att.sig.domain.chainId).toBe("11155111");
    expect(verifyOffchainAttestation(att, { domain: SEPOLIA, now: T, schema: DATA_SCHEMA_UID }).valid).toBe(true);
    expect(sdkVerifies(att, SEPOLIA)).toBe(true);
    const onMainnet = verifyOffchainAttestation(att, { now: T });
    expect(onMainnet.valid).toBe(false);
    expect(onMainnet.reason).toMatch(/^domain:/);
    expect(sdkVerifies(att)).toBe(false);
  });

  it("verifies attestations signed by eas-sdk, as objects and as JSON", async () => {
    const wallet = Wallet.createRandom();
    const offchain = sdkOffchain(OffchainAttestationVersion.Version2);
    const sig = await offchain.signOffchainAttestation(
      {
        schema: INFERENCE_SCHEMA_UID,
        recipient: ZeroAddress,
        time: T,
        expirationTime: 0n,
        revocable: true,
        refUID: ZeroHash,
        data: encodeInferenceData(inferenceFields),
      },
      wallet,
    );
    const shared = { sig, signer: wallet.address };
    expect(verifyOffchainAttestation(shared, { now: T }).valid).toBe(true);
    // eas-sdk objects hold bigints; EAS tools serialise them as decimal strings.
    const json = JSON.stringify(shared, (_, v) => (typeof v === "bigint" ? v.toString() : v));
    expect(verifyOffchainAttestation(JSON.parse(json), { now: T }).valid).toBe(true);
  });

  it("accepts integer fields written as JSON numbers", async () => {
    const att = await signed();
    const wire = tampered(att, (a) => {
      Object.assign(a.sig.message, { time: Number(T), expirationTime: 0 });
      Object.assign(a.sig.domain, { chainId: 1 });
    });
    expect(verifyOffchainAttestation(wire, { now: T }).valid).toBe(true);
    expect(sdkVerifies(wire)).toBe(true);
  });

  it("rejects a Version 1 attestation, which has no salt", async () => {
    const wallet = Wallet.createRandom();
    const v1 = sdkOffchain(OffchainAttestationVersion.Version1);
    const sig = await v1.signOffchainAttestation(
      {
        schema: INFERENCE_SCHEMA_UID,
        recipient: ZeroAddress,
        time: T,
        expirationTime: 0n,
        revocable: true,
        refUID: ZeroHash,
        data: "0x",
      },
      wallet,
    );
    const result = verifyOffchainAttestation({ sig, signer: wallet.address }, { now: T });
    expect(result.valid).toBe(false);
    expect(result.reason).toMatch(/^version:/);
  });

  describe("rejections (valid: false with a reason)", () => {
    const failedChecks = (a: unknown, options: Parameters<typeof verifyOffchainAttestation>[1] = { now: T }) => {
      const result = verifyOffchainAttestation(a, options);
      expect(result.valid).toBe(false);
      expect(result.reason).toEqual(expect.any(String));
      return result.checks.filter((c) => !c.ok).map((c) => c.name);
    };

    it("rejects a wrong signer field", async () => {
      const att = await signed();
      const other = tampered(att, (a) => {
        a.signer = Wallet.createRandom().address;
      });
      expect(failedChecks(other)).toEqual(["signature"]);
      expect(sdkVerifies(other)).toBe(false);
    });

    it("rejects an untrusted signer", async () => {
      const wallet = Wallet.createRandom();
      const att = await signed(wallet);
      const trustedSigners = [Wallet.createRandom().address];
      expect(failedChecks(att, { now: T, trustedSigners })).toEqual(["trusted-signer"]);
      // Addresses compare case-insensitively.
      expect(verifyOffchainAttestation(att, { now: T, trustedSigners: [wallet.address.toLowerCase()] }).valid).toBe(
        true,
      );
    });

    it.each<[string, Partial<OffchainAttestationMessage>]>([
      ["time", { time: (T + 1n).toString() }],
      ["recipient", { recipient: Wallet.createRandom().address }],
      ["refUID", { refUID: keccak256(toUtf8Bytes("other")) }],
      ["revocable", { revocable: false }],
      ["data", { data: encodeInferenceData({ ...inferenceFields, mode: "x" }) }],
      ["schema", { schema: DATA_SCHEMA_UID }],
    ])("rejects a changed message field: %s", async (_field, patch) => {
      const att = await signed();
      const bad = tampered(att, (a) => Object.assign(a.sig.message, patch));
      expect(failedChecks(bad)).toEqual(["uid", "signature"]);
      expect(sdkVerifies(bad)).toBe(false);
      // Recomputing the uid does not help: the signature covers the message.
      const rehashed = tampered(bad, (a) => {
        a.sig.uid = offchainUid(a.sig.message);
      });
      expect(failedChecks(rehashed)).toEqual(["signature"]);
      expect(sdkVerifies(rehashed)).toBe(false);
    });

    it("rejects a changed uid", async () => {
      const att = await signed();
      const bad = tampered(att, (a) => {
        a.sig.uid = keccak256(toUtf8Bytes("uid"));
      });
      expect(failedChecks(bad)).toEqual(["uid"]);
      expect(sdkVerifies(bad)).toBe(false);
    });

    it("rejects a different domain", async () => {
      const att = await signed();
      expect(failedChecks(att, { now: T, domain: { chainId: 10 } })).toEqual(["domain"]);
      expect(sdkVerifies(att, { chainId: 10 })).toBe(false);
      const moved = tampered(att, (a) => {
        a.sig.domain.chainId = "10";
      });
      expect(failedChecks(moved)).toEqual(["domain", "signature"]);
      expect(failedChecks(moved, { now: T, domain: { chainId: 10 } })).toEqual(["signature"]);
      expect(sdkVerifies(moved, { chainId: 10 })).toBe(false);
    });

    it("rejects an attestation of another schema than expected", async () => {
      const att = await signed();
      expect(failedChecks(att, { now: T, schema: DATA_SCHEMA_UID })).toEqual(["schema"]);
      expect(verifyOffchainAttestation(att, { now: T, schema: INFERENCE_SCHEMA_UID }).valid).toBe(true);
    });

    it("rejects an altered type list", async () => {
      const att = await signed();
      const bad = tampered(att, (a) => {
        a.sig.types.Attest.reverse();
      });
      expect(failedChecks(bad)).toEqual(["types"]);
      expect(sdkVerifies(bad)).toBe(false);
    });

    it("rejects a signature that is not a valid secp256k1 signature, without throwing", async () => {
      const att = await signed();
      const bad = tampered(att, (a) => {
        a.sig.signature.s = `0x${"ff".repeat(32)}`;
      });
      expect(failedChecks(bad)).toEqual(["signature"]);
      const badV = tampered(att, (a) => {
        a.sig.signature.v = 5;
      });
      expect(failedChecks(badV)).toEqual(["signature"]);
    });

    it("rejects an expired attestation", async () => {
      const att = await signed(undefined, { expirationTime: T + 100n });
      expect(verifyOffchainAttestation(att, { now: T + 99n }).valid).toBe(true);
      expect(failedChecks(att, { now: T + 100n })).toEqual(["not-expired"]);
    });

    it("rejects an attestation older than maxAgeSeconds", async () => {
      const att = await signed();
      expect(verifyOffchainAttestation(att, { now: T + 3600n, maxAgeSeconds: 3600 }).valid).toBe(true);
      expect(failedChecks(att, { now: T + 3601n, maxAgeSeconds: 3600 })).toEqual(["max-age"]);
    });

    it("rejects an attestation dated in the future beyond clock skew", async () => {
      const att = await signed();
      expect(verifyOffchainAttestation(att, { now: T - 60n }).valid).toBe(true);
      expect(failedChecks(att, { now: T - 61n })).toEqual(["not-in-future"]);
    });
  });

  describe("malformed input", () => {
    it.each([
      ["null", () => null],
      ["an empty object", () => ({})],
      ["a missing signature", (a: SharedAttestation) => ({ ...a, sig: { ...a.sig, signature: undefined } })],
      ["a non-hex uid", (a: SharedAttestation) => ({ ...a, sig: { ...a.sig, uid: "0xzz" } })],
      ["a negative time", (a: SharedAttestation) => tampered(a, (b) => Object.assign(b.sig.message, { time: "-1" }))],
      [
        "a time beyond uint64",
        (a: SharedAttestation) => tampered(a, (b) => Object.assign(b.sig.message, { time: `${2n ** 64n}` })),
      ],
      [
        "a fractional chain id",
        (a: SharedAttestation) => tampered(a, (b) => Object.assign(b.sig.domain, { chainId: 1.5 })),
      ],
      ["a signer that is no address", (a: SharedAttestation) => ({ ...a, signer: "alice" })],
      ["a signer with a wrong checksum", (a: SharedAttestation) => ({ ...a, signer: badChecksum(a.signer) })],
      [
        "a recipient with a wrong checksum",
        (a: SharedAttestation) =>
          tampered(a, (b) => Object.assign(b.sig.message, { recipient: badChecksum(Wallet.createRandom().address) })),
      ],
    ])("throws MALFORMED_RECEIPT for %s", async (_what, make) => {
      const att = await signed();
      const error = thrownBy(() => verifyOffchainAttestation(make(att), { now: T }));
      expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
    });

    it("throws INVALID_OPTIONS for bad verification options", async () => {
      const att = await signed();
      const badAge = thrownBy(() => verifyOffchainAttestation(att, { maxAgeSeconds: -1 }));
      expect(isVerinferError(badAge, "INVALID_OPTIONS")).toBe(true);
      const badSigner = thrownBy(() => verifyOffchainAttestation(att, { trustedSigners: ["bob"] }));
      expect(isVerinferError(badSigner, "INVALID_OPTIONS")).toBe(true);
      const badDomain = thrownBy(() => verifyOffchainAttestation(att, { domain: { easAddress: "0x12" } }));
      expect(isVerinferError(badDomain, "INVALID_OPTIONS")).toBe(true);
    });

    it("refuses to sign malformed params", async () => {
      const signer = Wallet.createRandom();
      const data = encodeInferenceData(inferenceFields);
      const cases = [
        { schema: "0x12", data },
        { schema: INFERENCE_SCHEMA_UID, data: "0x123" },
        { schema: INFERENCE_SCHEMA_UID, data, recipient: "alice" },
        { schema: INFERENCE_SCHEMA_UID, data, time: -1n },
        { schema: INFERENCE_SCHEMA_UID, data, salt: "0x00" },
      ];
      for (const params of cases) {
        const error = await signOffchainAttestation(params, { signer }).catch((e: unknown) => e);
        expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
      }
    });
  });
});
