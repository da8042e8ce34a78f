import { isHexString } from "ethers";
import { VerinferError } from "../errors.js";
import { chainError } from "./chain-error.js";
import type { InferenceRegistryContract } from "./registry-contract.js";

/** The statement a record is keyed by. */
export interface InferenceStatement {
  /** The model key the record is under (32-byte hex): the one you trust, see {@link modelKey}. */
  modelKey: string;
  inputCommitment: bigint | string;
  outputCommitment: bigint | string;
}

/** A registry record, as other contracts read it. */
export interface InferenceRecord {
  kind: "verified" | "attested";
  /**
   * Proofs: the first relayer — the account whose transaction recorded it, not necessarily the prover (anyone can
   * copy a pending submission and send it first). Attestations: the trusted attester that signed it.
   */
  submitter: string;
  blockNumber: bigint;
  /** Unix seconds. */
  timestamp: bigint;
  /**
   * Verified: keccak256(abi.encodePacked(publicSignals[3:])). Attested: the attestation's `outputHash`
   * (keccak256(abi.encode(int256[] quantized, int256 fracBits))).
   */
  outputHash: string;
}

const KINDS = [undefined, "attested", "verified"] as const;

/**
 * Reads the record of one inference under a model key, or `undefined` when the registry holds none.
 *
 * @throws VerinferError `INVALID_INPUT` for a model key that is not 32-byte hex, `CHAIN_ERROR` when the call fails.
 * @example
 * ```ts
 * const record = await getInference(registry, { modelKey, inputCommitment: r.input.commitment,
 *   outputCommitment: r.output.commitment });
 * ```
 */
export async function getInference(
  registry: InferenceRegistryContract,
  statement: InferenceStatement,
): Promise<InferenceRecord | undefined> {
  if (!isHexString(statement.modelKey, 32)) {
    throw new VerinferError("INVALID_INPUT", "modelKey must be 32-byte hex", {
      meta: { modelKey: statement.modelKey },
    });
  }
  let raw: { submitter: string; blockNumber: bigint; timestamp: bigint; kind: bigint; outputHash: string };
  try {
    raw = await registry.getFunction("getInference")(
      statement.modelKey,
      BigInt(statement.inputCommitment),
      BigInt(statement.outputCommitment),
    );
  } catch (error) {
    throw chainError(error, "getInference", registry.interface);
  }
  const kind = KINDS[Number(raw.kind)];
  if (kind === undefined) {
    if (Number(raw.kind) === 0) return undefined;
    throw new VerinferError("CHAIN_ERROR", `getInference: unknown record kind ${raw.kind}`);
  }
  return {
    kind,
    submitter: raw.submitter,
    blockNumber: raw.blockNumber,
    timestamp: raw.timestamp,
    outputHash: raw.outputHash,
  };
}
