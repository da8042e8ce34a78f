import { AbiCoder, getAddress, isHexString, solidityPackedKeccak256, ZeroAddress } from "ethers";
import { VerinferError } from "../errors.js";

/**
 * EAS schema of an inference attestation. The string is part of the schema UID byte for byte (spaces, order,
 * names), so it is frozen: a change is a new schema, never an edit.
 *
 * - `modelId` — the model id (`modelIdFromCommitment`), 32 bytes.
 * - `modelCommitment`, `inputCommitment`, `outputCommitment` — the Poseidon commitments of the receipt.
 * - `outputHash` — `outputHash` (output-hash.ts) of the stated quantized outputs.
 * - `mode` — how the result is backed (`"zk"` for a Groth16 receipt).
 * - `backend` — the tfjs backend that computed the fast answer.
 */
export const INFERENCE_SCHEMA =
  "bytes32 modelId,uint256 modelCommitment,uint256 inputCommitment,uint256 outputCommitment,bytes32 outputHash,string mode,string backend";

/**
 * EAS schema of a data attestation: who fetched which input, when, and how it was quantized. Frozen like
 * {@link INFERENCE_SCHEMA}.
 *
 * - `source` — where the data came from (a URL, a feed name).
 * - `commitment` — the Poseidon commitment of the quantized input.
 * - `shape` — the tensor shape as JSON, e.g. `"[16]"`.
 * - `fetchedAt` — unix seconds.
 * - `quantizationHash` — hash of the quantization parameters the input was quantized with, 32 bytes.
 */
export const DATA_SCHEMA = "string source,uint256 commitment,string shape,uint64 fetchedAt,bytes32 quantizationHash";

/** Options of {@link schemaUid}. */
export interface SchemaUidOptions {
  /** Resolver contract of the schema; default `ZeroAddress` (no resolver). */
  resolver?: string;
  /** Whether attestations of the schema may be revoked; default `true`. */
  revocable?: boolean;
}

/**
 * The UID the EAS SchemaRegistry gives a schema: `keccak256(abi.encodePacked(schema, resolver, revocable))`.
 * It is the same on every chain, so it can be computed before (or without) registering.
 *
 * @throws VerinferError `INVALID_INPUT` when `resolver` is not an address.
 * @example
 * ```ts
 * schemaUid(INFERENCE_SCHEMA) === INFERENCE_SCHEMA_UID; // true
 * ```
 */
export function schemaUid(schema: string, options: SchemaUidOptions = {}): string {
  const resolver = options.resolver ?? ZeroAddress;
  if (!isHexString(resolver, 20)) {
    throw new VerinferError("INVALID_INPUT", "schema resolver must be an address", { meta: { resolver } });
  }
  return solidityPackedKeccak256(
    ["string", "address", "bool"],
    [schema, getAddress(resolver), options.revocable ?? true],
  );
}

/** UID of {@link INFERENCE_SCHEMA} with no resolver, revocable. */
export const INFERENCE_SCHEMA_UID = schemaUid(INFERENCE_SCHEMA);

/** UID of {@link DATA_SCHEMA} with no resolver, revocable. */
export const DATA_SCHEMA_UID = schemaUid(DATA_SCHEMA);

/** The fields of {@link INFERENCE_SCHEMA}. */
export interface InferenceAttestationFields {
  /** 0x-prefixed 32-byte hex. */
  modelId: string;
  modelCommitment: bigint;
  inputCommitment: bigint;
  outputCommitment: bigint;
  /** 0x-prefixed 32-byte hex. */
  outputHash: string;
  mode: string;
  backend: string;
}

/** The fields of {@link DATA_SCHEMA}. */
export interface DataAttestationFields {
  source: string;
  commitment: bigint;
  /** Tensor shape as JSON, e.g. `"[16]"`. */
  shape: string;
  /** Unix seconds. */
  fetchedAt: bigint;
  /** 0x-prefixed 32-byte hex. */
  quantizationHash: string;
}

const INFERENCE_TYPES = [
  "bytes32",
  "uint256",
  "uint256",
  "uint256",
  "bytes32",
  "string",
  "string",
] as const satisfies readonly string[];
const DATA_TYPES = ["string", "uint256", "string", "uint64", "bytes32"] as const satisfies readonly string[];

function requireBytes32(value: string, name: string): void {
  // ethers' AbiCoder would right-pad a short value into bytes32 silently; a model id must never be padded.
  if (!isHexString(value, 32)) {
    throw new VerinferError("INVALID_INPUT", `${name} must be 0x-prefixed 32-byte hex`, { meta: { [name]: value } });
  }
}

function abiEncode(types: readonly string[], values: readonly unknown[], what: string): string {
  try {
    return AbiCoder.defaultAbiCoder().encode(types, values);
  } catch (cause) {
    // Out-of-range integers (negative, ≥ 2^bits) are the only way left to get here.
    throw new VerinferError("INVALID_INPUT", `${what} fields do not fit the schema`, { cause });
  }
}

function abiDecode(types: readonly string[], data: string, what: string): unknown[] {
  let values: unknown[];
  try {
    values = AbiCoder.defaultAbiCoder().decode(types, data).toArray();
  } catch (cause) {
    throw new VerinferError("INVALID_INPUT", `data is not an ABI encoding of the ${what} schema`, { cause });
  }
  // The decoder tolerates trailing bytes and loose offsets, so two different blobs could decode alike; a signed
  // attestation should have exactly one data encoding per set of fields.
  if (abiEncode(types, values, what).toLowerCase() !== data.toLowerCase()) {
    throw new VerinferError("INVALID_INPUT", `data is not the canonical ABI encoding of the ${what} schema`);
  }
  return values;
}

/**
 * ABI-encodes inference fields as {@link INFERENCE_SCHEMA} — the bytes an EAS attestation's `data` carries,
 * identical to eas-sdk's `SchemaEncoder.encodeData`.
 *
 * @throws VerinferError `INVALID_INPUT` for a bytes32 field that is not 32-byte hex or an out-of-range integer.
 * @example
 * ```ts
 * const data = encodeInferenceData({ modelId, modelCommitment, inputCommitment, outputCommitment,
 *   outputHash: outputHash(quantized, fracBits), mode: "zk", backend: "cpu" });
 * ```
 */
export function encodeInferenceData(fields: InferenceAttestationFields): string {
  requireBytes32(fields.modelId, "modelId");
  requireBytes32(fields.outputHash, "outputHash");
  return abiEncode(
    INFERENCE_TYPES,
    [
      fields.modelId,
      fields.modelCommitment,
      fields.inputCommitment,
      fields.outputCommitment,
      fields.outputHash,
      fields.mode,
      fields.backend,
    ],
    "inference",
  );
}

/**
 * Decodes an attestation's `data` as {@link INFERENCE_SCHEMA}. Hex comes back lowercase.
 *
 * @throws VerinferError `INVALID_INPUT` when `data` is not the canonical encoding of the schema.
 * @example
 * ```ts
 * const { modelId, outputCommitment } = decodeInferenceData(attestation.sig.message.data);
 * ```
 */
export function decodeInferenceData(data: string): InferenceAttestationFields {
  const [modelId, modelCommitment, inputCommitment, outputCommitment, outputHash, mode, backend] = abiDecode(
    INFERENCE_TYPES,
    data,
    "inference",
  );
  return {
    modelId: modelId as string,
    modelCommitment: modelCommitment as bigint,
    inputCommitment: inputCommitment as bigint,
    outputCommitment: outputCommitment as bigint,
    outputHash: outputHash as string,
    mode: mode as string,
    backend: backend as string,
  };
}

/**
 * ABI-encodes data-provenance fields as {@link DATA_SCHEMA}, identical to eas-sdk's `SchemaEncoder.encodeData`.
 *
 * @throws VerinferError `INVALID_INPUT` for a bad `quantizationHash` or an out-of-range integer.
 * @example
 * ```ts
 * const data = encodeDataAttestationData({ source: "https://example.org/feed", commitment, shape: "[16]",
 *   fetchedAt: 1_700_000_000n, quantizationHash });
 * ```
 */
export function encodeDataAttestationData(fields: DataAttestationFields): string {
  requireBytes32(fields.quantizationHash, "quantizationHash");
  return abiEncode(
    DATA_TYPES,
    [fields.source, fields.commitment, fields.shape, fields.fetchedAt, fields.quantizationHash],
    "data",
  );
}

/**
 * Decodes an attestation's `data` as {@link DATA_SCHEMA}. Hex comes back lowercase.
 *
 * @throws VerinferError `INVALID_INPUT` when `data` is not the canonical encoding of the schema.
 * @example
 * ```ts
 * const { source, fetchedAt } = decodeDataAttestationData(attestation.sig.message.data);
 * ```
 */
export function decodeDataAttestationData(data: string): DataAttestationFields {
  const [source, commitment, shape, fetchedAt, quantizationHash] = abiDecode(DATA_TYPES, data, "data");
  return {
    source: source as string,
    commitment: commitment as bigint,
    shape: shape as string,
    fetchedAt: fetchedAt as bigint,
    quantizationHash: quantizationHash as string,
  };
}
