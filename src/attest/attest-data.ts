import { AbiCoder, keccak256 } from "ethers";
import { VerinferError } from "../errors.js";
import { quantizeInput } from "../models/quantize-input.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import { randomSalt } from "./commitments.js";
import {
  type EasDomainOptions,
  type SharedAttestation,
  signOffchainAttestation,
  type TypedDataSigner,
} from "./eas-offchain.js";
import { DATA_SCHEMA_UID, encodeDataAttestationData } from "./eas-schemas.js";
import { commitInput } from "./io-commitments.js";

/** What a data node fetched. */
export interface DataPayload {
  /** Where the values came from (URL, feed id, sensor, …). */
  source: string;
  /** The values, flat or nested to `shape`. */
  values: unknown;
  /** Shape of the values; must be the model's input shape (or its flat size). */
  shape: readonly number[];
  /** When they were fetched: a Date or unix seconds. */
  fetchedAt: Date | number;
}

/** Options of {@link attestData}. */
export interface AttestDataOptions {
  signer: TypedDataSigner;
  /**
   * The consuming model's package (a `ModelPackage`, or anything holding its quantized `network`) or its quantized
   * network: its input quantization is used.
   */
  quantization: { readonly network: QuantizedNetwork } | QuantizedNetwork;
  domain?: EasDomainOptions;
  /** Salt for the commitment; default fresh randomness. */
  salt?: bigint;
}

/** What {@link attestData} returns; hand `values` and `salt` to the inference node with the attestation. */
export interface AttestDataResult {
  attestation: SharedAttestation;
  /** Salted Poseidon commitment to the quantized values, exactly as the circuit computes it. */
  commitment: bigint;
  /** Keep private: with the values it opens the commitment. */
  salt: bigint;
}

/** An input quantization as a data node and a verifier see it: the integer format and the number of values. */
export interface InputFormat {
  bits: number;
  fracBits: number;
  lo: bigint;
  /** Number of input values. */
  size: number;
  /** Per-feature input scales, when the model has them (see `InputQuantization`). */
  featureFracBits?: readonly number[];
}

/**
 * keccak256 of the input quantization (bits, fracBits, lo, hi = lo + 2^bits - 1, size, then — per-feature input
 * scales only — the scales as an int32[]): which integers a data commitment is over, and what they mean. Takes a quantized network or the format a receipt states (`input.quantization` and the
 * size of `input.shape`), so a verifier with nothing but a receipt recomputes it.
 */
export function quantizationHash(source: QuantizedNetwork | InputFormat): string {
  const q =
    "layers" in source
      ? {
          bits: source.input.bits,
          fracBits: source.input.fracBits,
          lo: source.input.lo,
          size: source.inputSize,
          featureFracBits: source.input.featureFracBits,
        }
      : source;
  const hi = q.lo + (1n << BigInt(q.bits)) - 1n;
  const fields = [q.bits, q.fracBits, q.lo, hi, q.size];
  const types = ["uint32", "int32", "int256", "int256", "uint32"];
  // A shared scale hashes as before (its attestations stay valid); per-feature scales add a dynamic array, which
  // no five-field encoding equals.
  if (q.featureFracBits) {
    types.push("int32[]");
    fields.push([...q.featureFracBits] as never);
  }
  return keccak256(AbiCoder.defaultAbiCoder().encode(types, fields));
}

/**
 * Data node (oracle): quantizes fetched values with the consuming model's input quantization, commits to them
 * with a salted Poseidon exactly as the circuit does, and signs an EAS-compatible data attestation. The
 * inference node passes the values and salt to `verifiableInfer(…, { inputSalt: salt, dataAttestation })`; its
 * receipt's input commitment then equals this commitment and its attestation's `refUID` points here.
 *
 * @throws VerinferError `INVALID_INPUT` (shape, NaN, out of the model's input range, bad fetchedAt/source).
 * @example
 * ```ts
 * const { attestation, salt } = await attestData(
 *   { source: "https://feed.example/temps", values, shape: [16], fetchedAt: new Date() },
 *   { signer: oracleWallet, quantization: pkg },
 * );
 * ```
 */
export async function attestData(payload: DataPayload, options: AttestDataOptions): Promise<AttestDataResult> {
  const net = "network" in options.quantization ? options.quantization.network : options.quantization;
  if (typeof payload?.source !== "string" || payload.source.length === 0) {
    throw new VerinferError("INVALID_INPUT", "data source must be a non-empty string");
  }
  const shape = Array.isArray(payload.shape) ? payload.shape : [];
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0) || size !== net.inputSize) {
    throw new VerinferError(
      "INVALID_INPUT",
      `shape [${shape.join(", ")}] does not hold the model's ${net.inputSize} inputs`,
    );
  }
  const fetchedAt =
    payload.fetchedAt instanceof Date ? Math.floor(payload.fetchedAt.getTime() / 1000) : payload.fetchedAt;
  if (!Number.isSafeInteger(fetchedAt) || fetchedAt < 0) {
    throw new VerinferError("INVALID_INPUT", "fetchedAt must be a Date or non-negative unix seconds");
  }
  const xq = quantizeInput(net, payload.values);
  const salt = options.salt ?? randomSalt();
  const commitment = await commitInput(net, xq, salt);
  const data = encodeDataAttestationData({
    source: payload.source,
    commitment,
    shape: JSON.stringify(shape),
    fetchedAt: BigInt(fetchedAt),
    quantizationHash: quantizationHash(net),
  });
  const attestation = await signOffchainAttestation(
    { schema: DATA_SCHEMA_UID, data },
    { signer: options.signer, ...(options.domain ? { domain: options.domain } : {}) },
  );
  return { attestation, commitment, salt };
}
