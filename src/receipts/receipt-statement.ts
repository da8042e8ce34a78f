import { commitInput, commitOutput } from "../attest/io-commitments.js";
import { RECEIPT_FORMAT, type Receipt } from "../attest/receipt.js";
import { dequantizeOutput, integerForward } from "../models/integer-forward.js";
import { softmax } from "../models/run-float.js";
import type { ModelPackage } from "../package/model-package.js";

/** Parameters of {@link receiptStatement}. */
export interface ReceiptStatementParams {
  pkg: ModelPackage;
  /** The quantized input (already validated by `quantizeInput`). */
  input: readonly bigint[];
  salts: { input: bigint; output: bigint };
  /** The float outputs of the same input (the fast, unproven answer; logits for a softmax head). */
  float: readonly number[];
}

/** The fields of a receipt that state what is proven or attested: model, input and output. */
export type ReceiptStatement = Pick<Receipt, "format" | "model" | "input" | "output">;

/**
 * Computes every field of a receipt's statement from the package, the quantized input and the salts: the
 * integer forward pass, both commitments, the model's identity and I/O format. Nothing is copied from an
 * earlier receipt, so a receipt rebuilt from a stored job states only what the package computes.
 *
 * @example
 * ```ts
 * const statement = await receiptStatement({ pkg, input: xq, salts, float });
 * ```
 */
export async function receiptStatement(params: ReceiptStatementParams): Promise<ReceiptStatement> {
  const { pkg, salts } = params;
  const net = pkg.network;
  const result = integerForward(net, params.input);
  const { output } = result;
  const values = dequantizeOutput(net, output);
  const float = [...params.float];
  return {
    format: RECEIPT_FORMAT,
    model: {
      id: pkg.id,
      commitment: pkg.manifest.commitments.model,
      network: pkg.manifest.commitments.network,
      vkey: pkg.vkeyCid,
    },
    input: {
      commitment: (await commitInput(net, params.input, salts.input)).toString(),
      shape: [...net.inputShape],
      quantization: {
        bits: net.input.bits,
        fracBits: net.input.fracBits,
        lo: net.input.lo.toString(),
        ...(net.input.featureFracBits ? { featureFracBits: [...net.input.featureFracBits] } : {}),
      },
    },
    output: {
      commitment: (await commitOutput(net, output, salts.output)).toString(),
      shape: [...net.outputShape],
      width: net.outputWidth,
      quantized: output.map(String),
      fracBits: net.outputFracBits,
      values,
      float,
      maxAbsError: Math.max(...values.map((v, j) => Math.abs(v - (float[j] as number)))),
      ...(result.class === undefined
        ? {}
        : net.head?.kind === "sign"
          ? { class: result.class, head: "sigmoid" as const }
          : { class: result.class, probabilities: softmax(float) }),
    },
  };
}
