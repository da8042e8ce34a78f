import type * as tfTypes from "@tensorflow/tfjs";
import { type BackendName, initBackend, tf } from "./backend.js";
import { floatInputTensors, isChainNetwork, isDenseLayer, type Layer, type Network, networkShapes } from "./network.js";
import { PaddedPool2D } from "./padded-pool-layer.js";
import { VerinferActivation } from "./verinfer-activation-layer.js";

const rebuilt = new WeakMap<Network, tfTypes.LayersModel>();

/** The tfjs layers that compute one float layer (applied in order), and the weights to set on them. */
function tfLayersOf(
  layer: Layer,
  inShape: readonly number[],
  outShape: readonly number[],
): { layers: tfTypes.layers.Layer[]; weights: [tfTypes.layers.Layer, tfTypes.Tensor[]][] } {
  if (isDenseLayer(layer)) {
    const d = tf.layers.dense({ units: layer.units, activation: layer.activation });
    return {
      layers: [...(inShape.length > 1 ? [tf.layers.flatten()] : []), d],
      weights: [[d, [tf.tensor2d(layer.kernel), tf.tensor1d(layer.bias)]]],
    };
  }
  switch (layer.kind) {
    case "conv2d": {
      const c = tf.layers.conv2d({
        filters: layer.filters,
        kernelSize: layer.kernelSize,
        strides: layer.strides,
        padding: layer.padding,
        activation: layer.activation,
      });
      return {
        layers: [...(layer.pads ? [tf.layers.zeroPadding2d({ padding: layer.pads })] : []), c],
        weights: [[c, [tf.tensor4d(layer.kernel), tf.tensor1d(layer.bias)]]],
      };
    }
    case "avgPool2d":
    case "maxPool2d": {
      if (layer.pads) {
        const pool = layer.kind === "maxPool2d" ? "max" : "avg";
        const padded = new PaddedPool2D({
          pool,
          poolSize: layer.poolSize,
          strides: layer.strides,
          pads: layer.pads,
          ...(layer.countIncludePad ? { countIncludePad: true } : {}),
        });
        return { layers: [padded], weights: [] };
      }
      const config = { poolSize: layer.poolSize, strides: layer.strides, padding: layer.padding };
      const p = layer.kind === "avgPool2d" ? tf.layers.averagePooling2d(config) : tf.layers.maxPooling2d(config);
      return { layers: [p], weights: [] };
    }
    case "globalAvgPool2d":
      return { layers: [tf.layers.globalAveragePooling2d({})], weights: [] };
    case "embedding": {
      const e = tf.layers.embedding({ inputDim: layer.inputDim, outputDim: layer.outputDim });
      return {
        layers: [e, tf.layers.reshape({ targetShape: outShape.slice() })],
        weights: [[e, [tf.tensor2d(layer.table)]]],
      };
    }
    case "reshape":
      return { layers: [tf.layers.reshape({ targetShape: outShape.slice() })], weights: [] };
    case "activation": {
      const a = layer.activation;
      if (a === "leakyRelu") return { layers: [tf.layers.leakyReLU({ alpha: layer.alpha as number })], weights: [] };
      // What tfjs has no activation for (or no parameters): verinfer's own layer.
      if (a === "hardSwish" || a === "exp" || (a === "hardSigmoid" && (layer.alpha ?? layer.beta) !== undefined)) {
        return {
          layers: [
            new VerinferActivation({
              activation: a,
              ...(layer.alpha === undefined ? {} : { alpha: layer.alpha }),
              ...(layer.beta === undefined ? {} : { beta: layer.beta }),
            }),
          ],
          weights: [],
        };
      }
      return { layers: [tf.layers.activation({ activation: a })], weights: [] };
    }
    case "add":
      return { layers: [tf.layers.add({})], weights: [] };
    case "mul":
      return { layers: [tf.layers.multiply({})], weights: [] };
    case "concat":
      return { layers: [tf.layers.concatenate({ axis: -1 })], weights: [] };
  }
}

/**
 * Rebuilds a tfjs model (flat input) from a {@link Network}, once per network object: a Sequential for a chain, a
 * functional model for a graph. A softmax head is left out: the rebuilt model outputs the logits, which is what the
 * circuit proves.
 */
export function toTfModel(net: Network): tfTypes.LayersModel {
  let model = rebuilt.get(net);
  if (!model) {
    const shapes = networkShapes(net);
    const weights: [tfTypes.layers.Layer, tfTypes.Tensor[]][] = [];
    if (isChainNetwork(net)) {
      const m = tf.sequential();
      m.add(tf.layers.reshape({ targetShape: net.inputShape, inputShape: [net.inputSize] }));
      net.layers.forEach((layer, l) => {
        const built = tfLayersOf(layer, shapes[l] as number[], shapes[l + 1] as number[]);
        for (const t of built.layers) m.add(t);
        weights.push(...built.weights);
      });
      model = m;
    } else {
      const input = tf.input({ shape: [net.inputSize] });
      const tensors = [tf.layers.reshape({ targetShape: net.inputShape }).apply(input) as tfTypes.SymbolicTensor];
      net.layers.forEach((layer, l) => {
        const from = floatInputTensors(layer, l);
        const built = tfLayersOf(layer, shapes[from[0] as number] as number[], shapes[l + 1] as number[]);
        let y: tfTypes.SymbolicTensor | tfTypes.SymbolicTensor[] = from.map(
          (t) => tensors[t] as tfTypes.SymbolicTensor,
        );
        if (y.length === 1) y = y[0] as tfTypes.SymbolicTensor;
        for (const t of built.layers) y = t.apply(y) as tfTypes.SymbolicTensor;
        weights.push(...built.weights);
        tensors.push(y as tfTypes.SymbolicTensor);
      });
      model = tf.model({ inputs: input, outputs: tensors[tensors.length - 1] as tfTypes.SymbolicTensor });
    }
    for (const [layer, w] of weights) {
      layer.setWeights(w);
      for (const t of w) t.dispose();
    }
    rebuilt.set(net, model);
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
