import type * as tfTypes from "@tensorflow/tfjs";
import { extractNetwork } from "../models/extract-network.js";
import { loadModel } from "../models/load-model.js";
import { canonicalNetwork, type DenseNetwork } from "../models/network.js";
import { type QuantizeOptions, quantizeNetwork } from "../models/quantize.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import type { OnProgress } from "../util/progress.js";

/** What verinfer accepts as a model: a model directory, an in-memory tfjs LayersModel, or a DenseNetwork. */
export type ModelSource = string | tfTypes.LayersModel | DenseNetwork;

/** Options of {@link quantizeModel}. */
export interface QuantizeModelOptions extends Partial<QuantizeOptions> {
  onProgress?: OnProgress;
}

function isDenseNetwork(m: ModelSource): m is DenseNetwork {
  return typeof m === "object" && "layers" in m && "inputSize" in m && !("predict" in m);
}

/**
 * Loads (if needed), validates and quantizes a model — everything {@link compileModel} does before the
 * circuit. Verifiers use it to re-execute without a proving key.
 *
 * @returns the float network and its quantized form.
 * @throws VerinferError `UNSUPPORTED_LAYER`, `INVALID_MODEL`, `INVALID_OPTIONS`, `QUANTIZATION_OVERFLOW`.
 * @example
 * ```ts
 * const { network } = await quantizeModel("examples/models/demo-glyphs", { calibration });
 * ```
 */
export async function quantizeModel(
  model: ModelSource,
  options: QuantizeModelOptions = {},
): Promise<{ float: DenseNetwork; network: QuantizedNetwork }> {
  const { onProgress } = options;
  let float: DenseNetwork;
  if (typeof model === "string") {
    onProgress?.({ stage: "load", message: `loading ${model}` });
    float = extractNetwork(await loadModel(model));
  } else {
    // A network given as an object may spell an activation's defaults out: the package keeps the one spelling.
    float = isDenseNetwork(model) ? canonicalNetwork(model) : extractNetwork(model);
  }
  onProgress?.({ stage: "quantize", message: "calibrating and quantizing" });
  const quantizeOptions: QuantizeOptions = { calibration: options.calibration ?? [] };
  const keys = [
    "inputRange",
    "inputBits",
    "weightBits",
    "activationBits",
    "activationPrecision",
    "inputScales",
  ] as const;
  for (const k of keys) {
    if (options[k] !== undefined) Object.assign(quantizeOptions, { [k]: options[k] });
  }
  return { float, network: quantizeNetwork(float, quantizeOptions) };
}
