import { type ContractTransactionReceipt, isHexString } from "ethers";
import { SharedAttestationSchema } from "../attest/eas-offchain.js";
import { type Receipt, ReceiptSchema } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { proofSystemModule } from "../proof-systems/systems.js";
import type { InferenceRegistryContract } from "./registry-contract.js";
import { type SendOptions, sendChecked } from "./send-transaction.js";

/** Parameters of {@link submitReceipt}. */
export interface SubmitReceiptParams {
  /**
   * The model key to record under (`registerModel`'s `modelKey`, or {@link modelKey}): its verifier checks the
   * proof, its attesters are the trusted signers, and its commitment must be the receipt's.
   */
  modelKey: string;
  /** A `verinfer/receipt@1` of mode `zk` or `attest`. */
  receipt: Receipt | unknown;
}

/** What {@link submitReceipt} recorded. */
export interface SubmitReceiptResult {
  /** The record key: keccak256(abi.encode(modelKey, inputCommitment, outputCommitment)). */
  key: string;
  /** `"verified"` for a zk receipt (proof checked on-chain), `"attested"` for an attest receipt. */
  kind: "verified" | "attested";
  /**
   * `true` when the statement was already Verified before this transaction (the registry's `AlreadyVerified`
   * event, read from the mined transaction): the transaction succeeded but changed nothing — the record, its
   * `submitter` (the first relayer) included, is the earlier one, and this receipt's proof was not checked. The
   * statement is verified either way (`isVerified`). Always `false` for an attest receipt (a second attestation of
   * a recorded statement reverts with `AlreadyRecorded`).
   */
  alreadyRecorded: boolean;
  hash: string;
  gasUsed: bigint;
  blockNumber: number;
}

/**
 * Records a receipt in an `InferenceRegistry` under a model key: a zk receipt through `submitProof` (Groth16) or
 * `submitUniversalProof` (PLONK, FFLONK) — the proof is verified on-chain by the key's verifier — an attest receipt through `submitAttestation` (the EAS signature is
 * recovered on-chain and its signer must be a trusted attester of the key). A static call runs first, then the
 * transaction is sent with an explicit gas limit (see {@link SendOptions}). A zk receipt of a statement that is
 * already Verified (someone relayed it first, or raced this transaction) succeeds with `alreadyRecorded: true`.
 *
 * @throws VerinferError `INVALID_INPUT` for a malformed model key, `MALFORMED_RECEIPT` for a receipt that does not
 *   parse, `UNSUPPORTED_MODE` for a `none` receipt, `CHAIN_ERROR` with `meta.reason` the registry's custom error
 *   (`ProofRejected`, `WrongProofSystem`, `WrongModelCommitment`, `UntrustedAttester`, `SignalOutOfField`, …) when
 *   the registry refuses; `AlreadyRecorded` for an attestation of a recorded statement, or a proof whose outputs
 *   differ from a Verified record's.
 * @example
 * ```ts
 * const { key, gasUsed } = await submitReceipt(registry, { modelKey, receipt });
 * ```
 */
export async function submitReceipt(
  registry: InferenceRegistryContract,
  params: SubmitReceiptParams,
  options: SendOptions = {},
): Promise<SubmitReceiptResult> {
  const { modelKey } = params;
  if (!isHexString(modelKey, 32)) {
    throw new VerinferError("INVALID_INPUT", "modelKey must be 32-byte hex", { meta: { modelKey } });
  }
  const parsed = ReceiptSchema.safeParse(params.receipt);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", "not a verinfer/receipt@2", { details: parsed.error.message });
  }
  const r = parsed.data;
  if (r.mode === "zk" && r.proof) {
    const call = proofSystemModule(r.proof.system).registryCall(r.proof);
    const sent = await sendChecked<string>(registry, call.method, [modelKey, ...call.args], options);
    return {
      key: sent.result,
      kind: "verified",
      alreadyRecorded: emittedAlreadyVerified(registry, sent.receipt, sent.result),
      hash: sent.hash,
      gasUsed: sent.gasUsed,
      blockNumber: sent.blockNumber,
    };
  }
  if (r.mode === "attest" && r.attestation) {
    const shared = SharedAttestationSchema.safeParse(r.attestation);
    if (!shared.success) {
      throw new VerinferError("MALFORMED_RECEIPT", "the receipt's attestation is not an EAS off-chain attestation", {
        details: shared.error.message,
      });
    }
    const { message, signature } = shared.data.sig;
    if (message.salt === undefined) {
      throw new VerinferError("MALFORMED_RECEIPT", "the attestation is not Version 2 (it has no salt)");
    }
    const attestation = [
      message.version,
      message.schema,
      message.recipient,
      BigInt(message.time),
      BigInt(message.expirationTime),
      message.revocable,
      message.refUID,
      message.data,
      message.salt,
    ];
    const sent = await sendChecked<string>(
      registry,
      "submitAttestation",
      [modelKey, attestation, signature.v, signature.r, signature.s],
      options,
    );
    return {
      key: sent.result,
      kind: "attested",
      alreadyRecorded: false,
      hash: sent.hash,
      gasUsed: sent.gasUsed,
      blockNumber: sent.blockNumber,
    };
  }
  throw new VerinferError("UNSUPPORTED_MODE", `a "${r.mode}" receipt carries nothing the registry can check`);
}

/**
 * Whether the mined transaction's registry logs hold `AlreadyVerified` for `key`. Read from the receipt, not the
 * static call: a transaction raced by another relayer's becomes the duplicate after the static call saw none.
 */
function emittedAlreadyVerified(
  registry: InferenceRegistryContract,
  receipt: ContractTransactionReceipt,
  key: string,
): boolean {
  const address = receipt.to?.toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "AlreadyVerified" && parsed.args[1] === key) return true;
  }
  return false;
}
