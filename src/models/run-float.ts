import type * as tfTypes from "@tensorflow/tfjs";
import { type BackendName, initBackend, tf } from "./backend.js";
import type { DenseNetwork } from "./dense-network.js";

const rebuilt = new WeakMap<DenseNetwork, tfTypes.Sequential>();

/** Rebuilds a tfjs model (flat input) from a {@link DenseNetwork}, once per network object. */
export function toTfModel(net: DenseNetwork): tfTypes.Sequential {
  let model = rebuilt.get(net);
  if (!model) {
    const m = tf.sequential();
    net.layers.forEach((layer, i) => {
      m.add(
        tf.layers.dense({
          units: layer.units,
          activation: layer.activation,
          ...(i === 0 ? { inputShape: [net.inputSize] } : {}),
        }),
      );
    });
    net.layers.forEach((layer, i) => {
      m.layers[i]?.setWeights([tf.tensor2d(layer.kernel), tf.tensor1d(layer.bias)]);
    });
    model = m;
    rebuilt.set(net, m);
  }
  return model;
}

/** Parameters of {@link runFloat}. */
export interface RunFloatParams {
  /** A tfjs model, or a network to rebuild one from. */
  model: tfTypes.LayersModel | DenseNetwork;
  /** Flat inputs, one row per batch item. */
  inputs: readonly (readonly number[])[];
  inputShape: readonly number[];
  backend?: BackendName;
}

/**
 * Float inference of a batch in one tfjs call on the best available backend.
 *
 * @example
 * ```ts
 * const { outputs, backend } = await runFloat({ model, inputs: [[0, 1, …]], inputShape: [16] });
 * ```
 */
export async function runFloat(params: RunFloatParams): Promise<{ outputs: number[][]; backend: BackendName }> {
  const backend = await initBackend(params.backend);
  const model = "predict" in params.model ? params.model : toTfModel(params.model);
  const isFlatModel = !("predict" in params.model);
  const shape = isFlatModel ? [params.inputs[0]?.length ?? 0] : [...params.inputShape];
  const outputs = tf.tidy(() => {
    const x = tf.tensor(params.inputs.flat(), [params.inputs.length, ...shape]);
    const y = model.predict(x) as tfTypes.Tensor;
    return y.arraySync() as number[][];
  });
  return { outputs, backend };
}
