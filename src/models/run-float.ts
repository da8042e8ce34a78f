import type * as tfTypes from "@tensorflow/tfjs";
import { type BackendName, initBackend, tf } from "./backend.js";
import { isDenseLayer, type Network, networkShapes } from "./network.js";
import { PaddedPool2D } from "./padded-pool-layer.js";

const rebuilt = new WeakMap<Network, tfTypes.Sequential>();

/**
 * Rebuilds a tfjs model (flat input) from a {@link Network}, once per network object. A softmax head is left
 * out: the rebuilt model outputs the logits, which is what the circuit proves.
 */
export function toTfModel(net: Network): tfTypes.Sequential {
  let model = rebuilt.get(net);
  if (!model) {
    const shapes = networkShapes(net);
    const m = tf.sequential();
    m.add(tf.layers.reshape({ targetShape: net.inputShape, inputShape: [net.inputSize] }));
    const weights: [tfTypes.layers.Layer, tfTypes.Tensor[]][] = [];
    net.layers.forEach((layer, l) => {
      if (isDenseLayer(layer)) {
        if ((shapes[l] as number[]).length > 1) m.add(tf.layers.flatten());
        const d = tf.layers.dense({ units: layer.units, activation: layer.activation });
        m.add(d);
        weights.push([d, [tf.tensor2d(layer.kernel), tf.tensor1d(layer.bias)]]);
        return;
      }
      switch (layer.kind) {
        case "conv2d": {
          if (layer.pads) m.add(tf.layers.zeroPadding2d({ padding: layer.pads }));
          const c = tf.layers.conv2d({
            filters: layer.filters,
            kernelSize: layer.kernelSize,
            strides: layer.strides,
            padding: layer.padding,
            activation: layer.activation,
          });
          m.add(c);
          weights.push([c, [tf.tensor4d(layer.kernel), tf.tensor1d(layer.bias)]]);
          return;
        }
        case "avgPool2d":
        case "maxPool2d": {
          if (layer.pads) {
            const pool = layer.kind === "maxPool2d" ? "max" : "avg";
            m.add(
              new PaddedPool2D({
                pool,
                poolSize: layer.poolSize,
                strides: layer.strides,
                pads: layer.pads,
                ...(layer.countIncludePad ? { countIncludePad: true } : {}),
              }),
            );
            return;
          }
          const config = { poolSize: layer.poolSize, strides: layer.strides, padding: layer.padding };
          m.add(layer.kind === "avgPool2d" ? tf.layers.averagePooling2d(config) : tf.layers.maxPooling2d(config));
          return;
        }
        case "globalAvgPool2d":
          m.add(tf.layers.globalAveragePooling2d({}));
          return;
        case "embedding": {
          const e = tf.layers.embedding({ inputDim: layer.inputDim, outputDim: layer.outputDim });
          m.add(e);
          m.add(tf.layers.reshape({ targetShape: (shapes[l + 1] as number[]).slice() }));
          weights.push([e, [tf.tensor2d(layer.table)]]);
          return;
        }
        case "reshape":
          m.add(tf.layers.reshape({ targetShape: (shapes[l + 1] as number[]).slice() }));
          return;
        case "activation":
          m.add(
            layer.activation === "leakyRelu"
              ? tf.layers.leakyReLU({ alpha: layer.alpha as number })
              : tf.layers.activation({ activation: layer.activation }),
          );
          return;
      }
    });
    for (const [layer, w] of weights) {
      layer.setWeights(w);
      for (const t of w) t.dispose();
    }
    model = m;
    rebuilt.set(net, m);
  }
  return model;
}

/** Parameters of {@link runFloat}. */
export interface RunFloatParams {
  /** A tfjs model, or a network to rebuild one from (which outputs logits for a softmax head). */
  model: tfTypes.LayersModel | Network;
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
    return y.reshape([params.inputs.length, -1]).arraySync() as number[][];
  });
  return { outputs, backend };
}

/** Softmax of logits in float64 (the unproven probabilities of a softmax head). */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
