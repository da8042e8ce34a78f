import type * as tfTypes from "@tensorflow/tfjs";
import { VerinferError } from "../errors.js";
import { ACTIVATIONS, type Activation, type DenseLayer, type DenseNetwork } from "./dense-network.js";

/** Layer classes verinfer accepts; anything else is an `UNSUPPORTED_LAYER` error naming the layer. */
export const SUPPORTED_LAYERS = ["InputLayer", "Flatten", "Dense"] as const;

function unsupported(layer: tfTypes.layers.Layer, why: string): VerinferError {
  return new VerinferError("UNSUPPORTED_LAYER", `layer "${layer.name}" (${layer.getClassName()}) ${why}`, {
    details: `verinfer proves Sequential models of ${SUPPORTED_LAYERS.join("/")} with ${ACTIVATIONS.join(" or ")} activation.`,
    meta: { layer: layer.name, className: layer.getClassName() },
  });
}

/**
 * Reads a tfjs LayersModel into verinfer's {@link DenseNetwork}, refusing anything it cannot prove before any
 * compilation starts.
 *
 * @throws VerinferError `UNSUPPORTED_LAYER` naming the first unsupported layer or activation;
 *   `INVALID_MODEL` when the model is not a single-input single-output chain.
 * @example
 * ```ts
 * const net = extractNetwork(await loadModel("./my-model"));
 * ```
 */
export function extractNetwork(model: tfTypes.LayersModel): DenseNetwork {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new VerinferError("INVALID_MODEL", "model must have exactly one input and one output");
  }
  const inputShape = (model.inputs[0]?.shape ?? []).slice(1);
  if (inputShape.some((d) => d === null || !Number.isInteger(d) || (d as number) <= 0)) {
    throw new VerinferError("INVALID_MODEL", `model input shape [${inputShape.join(", ")}] must be fully known`);
  }
  const dims = inputShape as number[];
  const inputSize = dims.reduce((a, b) => a * b, 1);
  let flat = dims.length === 1;
  let width = inputSize;
  const layers: DenseLayer[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === "InputLayer") continue;
    if (cls === "Flatten") {
      flat = true;
      continue;
    }
    if (cls !== "Dense") throw unsupported(layer, "is not supported");
    if (!flat) throw unsupported(layer, "receives a multi-dimensional input; add a Flatten layer before it");
    const config = layer.getConfig();
    const activation = String(config.activation ?? "linear");
    if (!(ACTIVATIONS as readonly string[]).includes(activation)) {
      throw unsupported(layer, `has unsupported activation "${activation}"`);
    }
    const weights = layer.getWeights();
    const kernel = weights[0]?.arraySync() as number[][] | undefined;
    const units = Number(config.units);
    if (!kernel || kernel.length !== width || kernel[0]?.length !== units) {
      throw new VerinferError("INVALID_MODEL", `layer "${layer.name}" has a kernel of unexpected shape`);
    }
    const bias = config.useBias === false ? new Array<number>(units).fill(0) : (weights[1]?.arraySync() as number[]);
    const all = kernel.flat().concat(bias);
    if (!all.every(Number.isFinite)) {
      throw new VerinferError("INVALID_MODEL", `layer "${layer.name}" has a NaN or infinite weight`);
    }
    layers.push({ name: layer.name, units, activation: activation as Activation, kernel, bias });
    width = units;
  }
  if (layers.length === 0) throw new VerinferError("INVALID_MODEL", "model has no Dense layer");
  return { inputShape: dims, inputSize, layers };
}
