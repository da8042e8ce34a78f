import { performance } from "node:perf_hooks";
import type * as tfTypes from "@tensorflow/tfjs";
import type { Signer } from "ethers";
import { quantizationHash } from "../attest/attest-data.js";
import { randomSalt } from "../attest/commitments.js";
import { type EasDomainOptions, SharedAttestationSchema, signOffchainAttestation } from "../attest/eas-offchain.js";
import { decodeDataAttestationData, encodeInferenceData, INFERENCE_SCHEMA_UID } from "../attest/eas-schemas.js";
import { outputHash } from "../attest/output-hash.js";
import type { Receipt, ReceiptAttestation, ReceiptMode, Salts } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import type { BackendName } from "../models/backend.js";
import { tokenId } from "../models/layers/embedding.js";
import { flattenInput, type ModelInput, quantizeInput } from "../models/quantize-input.js";
import { runFloat } from "../models/run-float.js";
import { ModelPackage } from "../package/model-package.js";
import type { ProofQueue } from "../queue/create-proof-queue.js";
import { type DeferredProof, deferProof } from "../receipts/deferred-proofs.js";
import { proveReceipt } from "../receipts/prove-receipt.js";
import type { ProverPool } from "../receipts/prover-pool.js";
import { receiptStatement } from "../receipts/receipt-statement.js";
import { FIELD_PRIME } from "../util/field.js";
import { type CompileModelOptions, compileModel, type ModelSource } from "./compile-model.js";

/**
 * Receipt modes: `"zk"` (a proof in the package's system: Groth16, PLONK or FFLONK), `"attest"` (signed EAS
 * attestation), `"none"` (commitments only).
 */
export type InferMode = ReceiptMode;

/** Options of {@link verifiableInfer}. */
export interface VerifiableInferOptions extends CompileModelOptions {
  /** Default `"zk"`. */
  mode?: InferMode;
  /** Signs `attest` receipts (ethers v6 Signer). */
  signer?: Signer;
  /** EIP-712 domain of the attestation (see `DEFAULT_EAS_DOMAIN`). */
  domain?: EasDomainOptions;
  /** With `mode: "attest"`: also prove in the background; the result carries a handle to the zk receipt. */
  deferProof?: boolean;
  /** Use this input salt (e.g. the data node's) instead of a fresh random one. Single input only. */
  inputSalt?: bigint;
  /** Use this output salt instead of a fresh random one (reproducing a receipt's commitments). Single input only. */
  outputSalt?: bigint;
  /** The data node's attestation of this input: its commitment must equal the receipt's input commitment. */
  dataAttestation?: ReceiptAttestation;
  /** Force a TensorFlow.js backend for the float inference. */
  backend?: BackendName;
  /** With `mode: "zk"`: prove on this pool's worker threads (see `createProverPool`) instead of in this thread. */
  pool?: ProverPool;
  /**
   * With `mode: "zk"`, or `deferProof`: hand the proof to this BullMQ queue's prover processes (see
   * `createProofQueue` in `verinfer/queue`) instead of proving here. Not with `pool`.
   */
  queue?: ProofQueue;
}

/** One receipt, the salts that open its commitments, and (for deferred proofs) the pending zk receipt. */
export interface InferResult {
  receipt: Receipt;
  salts: Salts;
  /** Present when `deferProof` was set: resolves to the zk receipt with the same commitments. */
  deferred?: DeferredProof;
}

function checkOptions(options: VerifiableInferOptions, batchSize: number): InferMode {
  const mode = options.mode ?? "zk";
  if (!["zk", "attest", "none"].includes(mode)) {
    throw new VerinferError("UNSUPPORTED_MODE", `mode "${mode}" is not one of zk, attest, none`);
  }
  if (mode === "attest" && !options.signer) {
    throw new VerinferError("INVALID_OPTIONS", 'mode "attest" needs a signer (an ethers v6 Signer)');
  }
  if (options.pool && options.queue) {
    throw new VerinferError("INVALID_OPTIONS", "pass pool or queue, not both");
  }
  if (options.deferProof && mode !== "attest") {
    throw new VerinferError(
      "INVALID_OPTIONS",
      'deferProof goes with mode "attest" (the attested receipt is returned at once)',
    );
  }
  const salt = options.inputSalt;
  for (const [name, s] of [
    ["inputSalt", salt],
    ["outputSalt", options.outputSalt],
  ] as const) {
    if (s !== undefined && (typeof s !== "bigint" || s < 0n || s >= FIELD_PRIME)) {
      throw new VerinferError("INVALID_OPTIONS", `${name} must be a bigint in [0, p)`);
    }
  }
  if ((salt !== undefined || options.outputSalt !== undefined || options.dataAttestation) && batchSize > 1) {
    throw new VerinferError("INVALID_OPTIONS", "salts and dataAttestation apply to a single input, not a batch");
  }
  if (options.dataAttestation !== undefined && !SharedAttestationSchema.safeParse(options.dataAttestation).success) {
    throw new VerinferError("INVALID_OPTIONS", "dataAttestation is not an EAS off-chain attestation { sig, signer }");
  }
  if (options.dataAttestation && salt === undefined) {
    throw new VerinferError(
      "INVALID_OPTIONS",
      "a dataAttestation needs the data node's inputSalt to match its commitment",
    );
  }
  return mode;
}

function quantizeAll(net: ModelPackage["network"], inputs: readonly unknown[]): bigint[][] {
  return inputs.map((x, b) => {
    try {
      const xq = quantizeInput(net, x);
      // Token ids outside the vocabulary are refused here, before tfjs's float lookup throws an untyped error.
      const first = net.layers[0];
      if (first?.kind === "embedding") for (const [t, id] of xq.entries()) tokenId(first, id, t);
      return xq;
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
}

/**
 * Runs a batch: float inference in one tfjs call, then per input the integer reference, commitments, and the
 * mode's guarantee (a proof in the package's proof system, signed attestation, or none). All inputs are validated before any work.
 *
 * @example
 * ```ts
 * const results = await verifiableInferBatch(pkg, [x1, x2], { mode: "attest", signer });
 * ```
 */
export async function verifiableInferBatch(
  model: ModelSource | ModelPackage,
  inputs: readonly ModelInput[],
  options: VerifiableInferOptions = {},
): Promise<InferResult[]> {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new VerinferError("INVALID_INPUT", "a batch must be a non-empty array of inputs");
  }
  const mode = checkOptions(options, inputs.length);
  const pkg = model instanceof ModelPackage ? model : await compileModel(model, options);
  const net = pkg.network;
  const quantized = quantizeAll(net, inputs);
  const flatInputs = inputs.map((x) => flattenInput(net, x));

  const t0 = performance.now();
  options.onProgress?.({ stage: "infer", message: `float inference of ${inputs.length} input(s)` });
  // A softmax head's float answer is its logits (what the circuit proves): the rebuilt network leaves the softmax out.
  const tfModel =
    typeof model === "object" && model !== null && "predict" in model && net.head?.kind !== "argmax"
      ? (model as tfTypes.LayersModel)
      : pkg.floatNetwork;
  const float = await runFloat({
    model: tfModel,
    inputs: flatInputs,
    inputShape: net.inputShape,
    ...(options.backend ? { backend: options.backend } : {}),
  });
  const floatMs = (performance.now() - t0) / inputs.length;

  const one = async (xq: bigint[], b: number): Promise<InferResult> => {
    const t1 = performance.now();
    const salts = { input: options.inputSalt ?? randomSalt(), output: options.outputSalt ?? randomSalt() };
    const statement = await receiptStatement({ pkg, input: xq, salts, float: float.outputs[b] as number[] });
    const inputCommitment = BigInt(statement.input.commitment);
    const outputCommitment = BigInt(statement.output.commitment);
    let dataUid: string | undefined;
    if (options.dataAttestation) {
      let data: ReturnType<typeof decodeDataAttestationData>;
      try {
        data = decodeDataAttestationData(options.dataAttestation.sig.message.data as string);
      } catch (cause) {
        throw new VerinferError("INVALID_OPTIONS", "dataAttestation's data is not a verinfer data attestation", {
          cause,
        });
      }
      if (data.quantizationHash.toLowerCase() !== quantizationHash(net)) {
        throw new VerinferError("INVALID_OPTIONS", "dataAttestation was made for another input quantization");
      }
      if (data.commitment !== inputCommitment) {
        throw new VerinferError(
          "INVALID_OPTIONS",
          "the input and inputSalt do not open the data attestation's commitment",
        );
      }
      dataUid = options.dataAttestation.sig.uid;
    }
    const quantizedOut = statement.output.quantized;
    let receipt: Receipt = {
      ...statement,
      mode,
      input: { ...statement.input, ...(dataUid ? { dataAttestation: dataUid } : {}) },
      backend: float.backend,
      timings: { floatMs, integerMs: performance.now() - t1 },
      createdAt: new Date().toISOString(),
    };
    if (mode === "zk") {
      options.onProgress?.({ stage: "prove", message: `proving ${b + 1}/${inputs.length}` });
      if (options.queue) {
        const handle = await options.queue.submit({ pkg, input: xq, salts, receipt });
        receipt = await handle.receipt;
      } else {
        receipt = await proveReceipt({
          pkg,
          input: xq,
          salts,
          base: receipt,
          ...(options.pool ? { pool: options.pool } : {}),
        });
      }
    } else if (mode === "attest") {
      const t2 = performance.now();
      const data = encodeInferenceData({
        modelId: receipt.model.id,
        modelCommitment: BigInt(receipt.model.commitment),
        inputCommitment,
        outputCommitment,
        outputHash: outputHash(quantizedOut, statement.output.fracBits),
        mode,
        backend: receipt.backend,
      });
      const attestation = await signOffchainAttestation(
        { schema: INFERENCE_SCHEMA_UID, data, ...(dataUid ? { refUID: dataUid } : {}) },
        { signer: options.signer as Signer, ...(options.domain ? { domain: options.domain } : {}) },
      );
      receipt = { ...receipt, attestation, timings: { ...receipt.timings, attestMs: performance.now() - t2 } };
    }
    const saltStrings = { input: salts.input.toString(), output: salts.output.toString() };
    const result: InferResult = { receipt, salts: saltStrings };
    if (options.deferProof) {
      result.deferred = await deferProof({
        pkg,
        input: xq,
        salts: saltStrings,
        receipt,
        ...(options.queue ? { queue: options.queue } : {}),
      });
    }
    return result;
  };
  // With a pool (or a queue) the proofs of a batch run on its workers side by side; without one they share this
  // thread's prover, so one at a time.
  const results: InferResult[] = [];
  if ((options.pool || options.queue) && mode === "zk") {
    results.push(...(await Promise.all(quantized.map(one))));
  } else {
    for (const [b, xq] of quantized.entries()) results.push(await one(xq, b));
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
 * @param options - `mode` (`"zk"` default, `"attest"` with `signer`, `"none"`), `deferProof`, `inputSalt`,
 *   `dataAttestation`, `backend`, `onProgress`, and compile options.
 * @throws VerinferError `INVALID_INPUT` (shape, NaN/Infinity, out of calibrated range), `INVALID_OPTIONS`,
 *   `UNSUPPORTED_MODE`.
 * @example
 * ```ts
 * const { receipt, salts } = await verifiableInfer(pkg, [0, 0.8, 0.1, …]);
 * const attested = await verifiableInfer(pkg, input, { mode: "attest", signer, deferProof: true });
 * const zkReceipt = await attested.deferred?.promise;
 * ```
 */
export async function verifiableInfer(
  model: ModelSource | ModelPackage,
  input: ModelInput,
  options: VerifiableInferOptions = {},
): Promise<InferResult> {
  const [result] = await verifiableInferBatch(model, [input], options);
  return result as InferResult;
}
