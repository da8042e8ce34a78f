import * as snarkjs from "snarkjs";
import { modelIdFromCommitment } from "./attest/model-commitment.js";
import { type Receipt, ReceiptSchema } from "./attest/receipt.js";
import { VerinferError } from "./errors.js";
import { FIELD_PRIME, fromField } from "./field.js";
import type { ModelPackage } from "./storage/model-package.js";

/** Options of {@link verifyReceipt}: a verification key, or a model package (which also pins the model). */
export interface VerifyReceiptOptions {
  /** snarkjs verification key JSON. */
  vkey?: Record<string, unknown>;
  /** The model package; stricter than a bare vkey: also checks model id, scale and shapes. */
  modelPackage?: ModelPackage;
  /** Refuse packages whose setup is `dev` (needs `modelPackage`: a bare vkey does not say). */
  requireCeremony?: boolean;
}

/** Outcome of {@link verifyReceipt}. */
export interface VerifyResult {
  valid: boolean;
  /** Why it is invalid; absent when valid. */
  reason?: string;
}

const invalid = (reason: string): VerifyResult => ({ valid: false, reason });

/** Checks that every field the receipt states agrees with the proof's public signals. */
function checkStatedFields(r: Receipt): string | undefined {
  const ps = r.proof.publicSignals.map(BigInt);
  if (ps.some((s) => s >= FIELD_PRIME)) return "a public signal is not a field element";
  const n = r.output.quantized.length;
  if (ps.length !== 3 + n) return `proof has ${ps.length} public signals, receipt states ${n} outputs`;
  if (BigInt(r.model.commitment) !== ps[0]) return "model commitment differs from the proof's";
  if (r.model.id !== modelIdFromCommitment(BigInt(r.model.commitment))) return "model id does not match its commitment";
  if (BigInt(r.input.commitment) !== ps[1]) return "input commitment differs from the proof's";
  if (BigInt(r.output.commitment) !== ps[2]) return "output commitment differs from the proof's";
  const shapeSize = r.output.shape.reduce((a, b) => a * b, 1);
  if (shapeSize !== n || r.output.values.length !== n || r.output.float.length !== n) {
    return "output shape, values and quantized outputs disagree in length";
  }
  for (let j = 0; j < n; j++) {
    const q = BigInt(r.output.quantized[j] as string);
    if (q !== fromField(ps[3 + j] as bigint)) return `quantized output ${j} differs from the proof's`;
    if (r.output.values[j] !== Number(q) / 2 ** r.output.fracBits)
      return `output value ${j} is not the dequantized proven output`;
  }
  const err = Math.max(...r.output.values.map((v, j) => Math.abs(v - (r.output.float[j] as number))));
  if (err !== r.output.maxAbsError) return "maxAbsError does not match the stated float and proven outputs";
  return undefined;
}

/**
 * Verifies a receipt: the Groth16 proof with the real snarkjs verifier, and that every field the receipt
 * states (model id and commitment, input/output commitments, quantized and dequantized outputs) agrees with
 * the proof's public signals. A malformed receipt throws; a well-formed one that fails returns
 * `{ valid: false, reason }`.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` (schema), `INVALID_OPTIONS` (neither vkey nor modelPackage).
 * @example
 * ```ts
 * const { valid, reason } = await verifyReceipt(receipt, { vkey });
 * ```
 */
export async function verifyReceipt(receipt: unknown, options: VerifyReceiptOptions = {}): Promise<VerifyResult> {
  const parsed = ReceiptSchema.safeParse(receipt);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", "receipt does not match verinfer/receipt@1", {
      details: parsed.error.message,
    });
  }
  const r = parsed.data;
  const pkg = options.modelPackage;
  const vkey = options.vkey ?? pkg?.vkey;
  if (!vkey || typeof vkey !== "object") {
    throw new VerinferError("INVALID_OPTIONS", "verifyReceipt needs a vkey or a modelPackage");
  }
  if (vkey.protocol !== "groth16" || typeof vkey.nPublic !== "number") {
    throw new VerinferError("INVALID_OPTIONS", "vkey is not a snarkjs groth16 verification key");
  }
  if (options.requireCeremony) {
    if (!pkg) return invalid("requireCeremony needs a modelPackage: a bare vkey does not say how it was set up");
    if (pkg.manifest.setup.kind !== "ceremony")
      return invalid(`model setup is "${pkg.manifest.setup.kind}", not a ceremony`);
  }
  const stated = checkStatedFields(r);
  if (stated) return invalid(stated);
  if (pkg) {
    if (r.model.id !== pkg.id || r.model.commitment !== pkg.manifest.commitments.model) {
      return invalid("receipt is for another model than the package");
    }
    if (r.output.fracBits !== pkg.manifest.quantization.output.fracBits)
      return invalid("output scale differs from the model's");
    if (r.input.shape.join() !== pkg.manifest.architecture.inputShape.join())
      return invalid("input shape differs from the model's");
  }
  if (vkey.nPublic !== r.proof.publicSignals.length) {
    return invalid(`vkey expects ${vkey.nPublic} public signals, the proof has ${r.proof.publicSignals.length}`);
  }
  let ok: boolean;
  try {
    ok = await snarkjs.groth16.verify(vkey, r.proof.publicSignals, r.proof.proof);
  } catch (cause) {
    return invalid(`proof could not be checked: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  return ok ? { valid: true } : invalid("groth16 proof does not verify against the verification key");
}
