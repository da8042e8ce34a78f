import { commitInput, commitOutput } from "../attest/io-commitments.js";
import { modelCommitmentOf, modelIdFromCommitment, modelIo, networkCommitment } from "../attest/model-commitment.js";
import { RECEIPT_FORMAT, ReceiptSchema, type Salts } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { dequantizeOutput, integerForward } from "../models/integer-forward.js";
import type { QuantizeOptions } from "../models/quantize.js";
import { quantizeInput } from "../models/quantize-input.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import { ModelPackage } from "../package/model-package.js";
import { FIELD_PRIME, isDecimalString } from "../util/field.js";
import { type ModelSource, quantizeModel } from "./quantize-model.js";

/** Options of {@link reexecute}. */
export interface ReexecuteOptions {
  /** The compiled package the receipt names. */
  modelPackage?: ModelPackage;
  /**
   * Or the model itself with the quantization options it was compiled with; quantized here without
   * compiling a circuit (re-execution needs no proving key).
   */
  model?: ModelSource;
  quantization?: Partial<QuantizeOptions>;
  /** The original input. */
  input: unknown;
  /** The salts returned with the receipt. */
  salts: Salts;
}

/** Outcome of {@link reexecute}. */
export interface ReexecuteResult {
  valid: boolean;
  reason?: string;
}

function parseSalt(s: unknown, which: string): bigint {
  if (!isDecimalString(s) || BigInt(s) >= FIELD_PRIME) {
    throw new VerinferError("INVALID_INPUT", `salts.${which} must be a field element in decimal`);
  }
  return BigInt(s);
}

/**
 * Re-executes a receipt bit-exactly: quantizes the input, runs the integer reference forward pass, recomputes
 * the model, input and output commitments with the salts, and compares every one with the receipt. Works for
 * receipts of every mode, because the proven semantics are integers — identical on every machine, unlike
 * float GPU inference.
 *
 * @throws VerinferError `MALFORMED_RECEIPT`, `INVALID_INPUT` (input or salts malformed), `INVALID_OPTIONS`.
 * @example
 * ```ts
 * const { valid, reason } = await reexecute(receipt, { modelPackage: pkg, input, salts });
 * ```
 */
export async function reexecute(receipt: unknown, options: ReexecuteOptions): Promise<ReexecuteResult> {
  const parsed = ReceiptSchema.safeParse(receipt);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", `receipt does not match ${RECEIPT_FORMAT}`, {
      details: parsed.error.message,
    });
  }
  const r = parsed.data;
  const salts = { input: parseSalt(options.salts?.input, "input"), output: parseSalt(options.salts?.output, "output") };
  let net: QuantizedNetwork;
  if (options.modelPackage instanceof ModelPackage) {
    net = options.modelPackage.network;
  } else if (options.model !== undefined) {
    net = (await quantizeModel(options.model, options.quantization ?? {})).network;
  } else {
    throw new VerinferError("INVALID_OPTIONS", "reexecute needs a modelPackage or a model");
  }
  const fail = (reason: string): ReexecuteResult => ({ valid: false, reason });
  // Recomputed from the network itself, never read from a manifest.
  const io = modelIo(net);
  const network = await networkCommitment(net);
  const commitment = await modelCommitmentOf({ io, network });
  if (BigInt(r.model.commitment) !== commitment || BigInt(r.model.network) !== network)
    return fail("the model does not hash to the receipt's model commitment");
  if (r.model.id !== modelIdFromCommitment(commitment)) return fail("model id does not match its commitment");
  if (
    r.input.shape.join() !== io.inputShape.join() ||
    r.input.quantization.bits !== io.input.bits ||
    r.input.quantization.fracBits !== io.input.fracBits ||
    BigInt(r.input.quantization.lo) !== io.input.lo ||
    (r.input.quantization.featureFracBits ?? []).join() !== (io.input.featureFracBits ?? []).join() ||
    r.output.shape.join() !== io.outputShape.join() ||
    r.output.width !== io.output.width ||
    r.output.fracBits !== io.output.fracBits
  )
    return fail("the receipt states another input or output format than the model's");
  let xq: bigint[];
  try {
    xq = quantizeInput(net, options.input);
  } catch (error) {
    // The input is well-formed data that simply is not this receipt's input.
    if (error instanceof VerinferError && error.code === "INVALID_INPUT")
      return fail(`input rejected: ${error.shortMessage}`);
    throw error;
  }
  const { output, class: provenClass } = integerForward(net, xq);
  const inputCommitment = await commitInput(net, xq, salts.input);
  if (BigInt(r.input.commitment) !== inputCommitment)
    return fail("input commitment does not open to this input and salt");
  if (r.output.quantized.join() !== output.join()) return fail("the integer forward pass gives other outputs");
  if (r.output.class !== provenClass) return fail("the stated class is not the model's proven class of these outputs");
  const outputCommitment = await commitOutput(net, output, salts.output);
  if (BigInt(r.output.commitment) !== outputCommitment)
    return fail("output commitment does not open to these outputs and salt");
  const values = dequantizeOutput(net, output);
  if (values.length !== r.output.values.length || values.some((v, j) => v !== r.output.values[j]))
    return fail("stated output values are not the dequantized outputs");
  return { valid: true };
}
