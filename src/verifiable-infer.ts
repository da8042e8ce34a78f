import { performance } from "node:perf_hooks";
import type * as tfTypes from "@tensorflow/tfjs";
import { commitValues, randomSalt } from "./attest/commitments.js";
import { RECEIPT_FORMAT, type Receipt, type Salts } from "./attest/receipt.js";
import { proveGroth16 } from "./circuits/prove-groth16.js";
import { type CompileModelOptions, compileModel, type ModelSource } from "./compile-model.js";
import { VerinferError } from "./errors.js";
import { FIELD_PRIME, toField } from "./field.js";
import type { BackendName } from "./models/backend.js";
import { dequantizeOutput, integerForward } from "./models/integer-forward.js";
import { flattenInput, quantizeInput } from "./models/quantize-input.js";
import { runFloat } from "./models/run-float.js";
import { ModelPackage } from "./storage/model-package.js";

/** Receipt modes. Only `"zk"` exists so far; the others are an `UNSUPPORTED_MODE` error. */
export type InferMode = "zk" | "attest" | "none";

/** Options of {@link verifiableInfer}. */
export interface VerifiableInferOptions extends CompileModelOptions {
  /** Default `"zk"`: a Groth16 proof. */
  mode?: InferMode;
  /** Use this input salt instead of a fresh random one (e.g. one chosen by a data node). */
  inputSalt?: bigint;
  /** Force a TensorFlow.js backend for the float inference. */
  backend?: BackendName;
}

/** One receipt and the salts that open its commitments. */
export interface InferResult {
  receipt: Receipt;
  salts: Salts;
}

function checkSalt(salt: bigint | undefined): bigint {
  if (salt === undefined) return randomSalt();
  if (typeof salt !== "bigint" || salt < 0n || salt >= FIELD_PRIME) {
    throw new VerinferError("INVALID_OPTIONS", "inputSalt must be a bigint in [0, p)");
  }
  return salt;
}

/**
 * Runs a batch of inputs: float inference in one tfjs call, then for each input the integer reference,
 * witness and Groth16 proof. Inputs are all validated before any work starts.
 *
 * @example
 * ```ts
 * const results = await verifiableInferBatch(pkg, [x1, x2]);
 * ```
 */
export async function verifiableInferBatch(
  model: ModelSource | ModelPackage,
  inputs: readonly unknown[],
  options: VerifiableInferOptions = {},
): Promise<InferResult[]> {
  const mode = options.mode ?? "zk";
  if (mode !== "zk") {
    throw new VerinferError("UNSUPPORTED_MODE", `mode "${mode}" is not available yet; use "zk"`);
  }
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new VerinferError("INVALID_INPUT", "a batch must be a non-empty array of inputs");
  }
  const inputSalt = options.inputSalt;
  if (inputSalt !== undefined && inputs.length > 1) {
    throw new VerinferError("INVALID_OPTIONS", "inputSalt applies to a single input, not a batch");
  }
  if (inputSalt !== undefined) checkSalt(inputSalt);
  const pkg = model instanceof ModelPackage ? model : await compileModel(model, options);
  const net = pkg.network;
  const quantized = inputs.map((x, b) => {
    try {
      return quantizeInput(net, x);
    } catch (error) {
      if (error instanceof VerinferError && inputs.length > 1) {
        throw new VerinferError(error.code, `batch item ${b}: ${error.shortMessage}`, {
          cause: error,
          meta: { batchIndex: b, ...error.meta },
        });
      }
      throw error;
    }
  });
  const flatInputs = inputs.map((x) => flattenInput(net, x));

  const t0 = performance.now();
  options.onProgress?.({ stage: "infer", message: `float inference of ${inputs.length} input(s)` });
  const tfModel =
    typeof model === "object" && model !== null && "predict" in model
      ? (model as tfTypes.LayersModel)
      : pkg.floatNetwork;
  const float = await runFloat({
    model: tfModel,
    inputs: flatInputs,
    inputShape: net.inputShape,
    ...(options.backend ? { backend: options.backend } : {}),
  });
  const floatMs = (performance.now() - t0) / inputs.length;
  const { witness, zkey } = await pkg.provingArtifacts();
  const commitment = BigInt(pkg.manifest.commitments.model);
  const last = net.layers[net.layers.length - 1] as (typeof net.layers)[number];
  const half = 1n << BigInt(net.outputWidth - 1);

  const results: InferResult[] = [];
  for (const [b, xq] of quantized.entries()) {
    const t1 = performance.now();
    const { output } = integerForward(net, xq);
    const salts = { input: checkSalt(inputSalt), output: randomSalt() };
    const inputCommitment = await commitValues({
      values: xq,
      lo: net.input.lo,
      width: net.input.bits,
      salt: salts.input,
    });
    const outputCommitment = await commitValues({
      values: output,
      lo: -half,
      width: net.outputWidth,
      salt: salts.output,
    });
    const t2 = performance.now();
    options.onProgress?.({ stage: "prove", message: `proving ${b + 1}/${inputs.length}` });
    const proof = await proveGroth16({
      witness,
      zkey,
      inputs: { input: xq, inputSalt: salts.input, outputSalt: salts.output },
    });
    const t3 = performance.now();
    const expected = [commitment, inputCommitment, outputCommitment, ...output.map(toField)].map(String);
    if (proof.publicSignals.join() !== expected.join()) {
      throw new VerinferError("INTERNAL", "circuit outputs differ from the integer reference", {
        details: `circuit ${proof.publicSignals.join(",")} vs reference ${expected.join(",")}`,
      });
    }
    const values = dequantizeOutput(net, output);
    const floatOut = float.outputs[b] as number[];
    const maxAbsError = Math.max(...values.map((v, j) => Math.abs(v - (floatOut[j] as number))));
    const receipt: Receipt = {
      format: RECEIPT_FORMAT,
      model: { id: pkg.id, commitment: commitment.toString() },
      mode: "zk",
      input: { commitment: inputCommitment.toString(), shape: [...net.inputShape] },
      output: {
        commitment: outputCommitment.toString(),
        shape: [last.nOut],
        quantized: output.map(String),
        fracBits: last.outFracBits,
        values,
        float: floatOut,
        maxAbsError,
      },
      proof: { system: "groth16", proof: proof.proof as Receipt["proof"]["proof"], publicSignals: proof.publicSignals },
      backend: float.backend,
      timings: { floatMs, integerMs: t2 - t1, proveMs: t3 - t2 },
      createdAt: new Date().toISOString(),
    };
    results.push({ receipt, salts: { input: salts.input.toString(), output: salts.output.toString() } });
  }
  options.onProgress?.({ stage: "prove", message: "done", done: true });
  return results;
}

/**
 * Runs one inference and returns a receipt anyone can check, plus the salts that open its commitments.
 *
 * @param model - a compiled {@link ModelPackage}, or anything {@link compileModel} takes (compiled on the
 *   fly, cached).
 * @param input - one input, flat or nested to the model's input shape.
 * @throws VerinferError `INVALID_INPUT` (shape, NaN/Infinity, out of calibrated range), `UNSUPPORTED_MODE`.
 * @example
 * ```ts
 * const { receipt, salts } = await verifiableInfer(pkg, [0, 0.8, 0.1, …]);
 * ```
 */
export async function verifiableInfer(
  model: ModelSource | ModelPackage,
  input: unknown,
  options: VerifiableInferOptions = {},
): Promise<InferResult> {
  const [result] = await verifiableInferBatch(model, [input], options);
  return result as InferResult;
}
