import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "../backend.js";
import { PaddedPool2D } from "../padded-pool-layer.js";
import { VerinferActivation } from "../verinfer-activation-layer.js";
import type { OnnxChain, OnnxStep } from "./onnx-step.js";

/** A tfjs layer name from an ONNX node name (`/conv1/Conv` → `onnx_conv1_Conv`), unique within the model. */
function layerName(onnxName: string, used: Set<string>): string {
  const base = `onnx_${onnxName.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+/, "")}`;
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

function layerOf(step: OnnxStep, name: string): { layer: tfTypes.layers.Layer; weights: tfTypes.Tensor[] } {
  switch (step.kind) {
    case "add":
      return { layer: tf.layers.add({ name }), weights: [] };
    case "multiply":
      return { layer: tf.layers.multiply({ name }), weights: [] };
    case "concatenate":
      return { layer: tf.layers.concatenate({ name, axis: -1 }), weights: [] };
    case "conv2d": {
      const [kh, kw] = step.kernelSize;
      const layer = tf.layers.conv2d({
        name,
        filters: step.filters,
        kernelSize: step.kernelSize,
        strides: step.strides,
        padding: step.padding,
        activation: step.activation,
        useBias: step.bias !== undefined,
        dataFormat: "channelsLast",
      });
      const weights: tfTypes.Tensor[] = [tf.tensor4d(step.kernel, [kh, kw, step.inChannels, step.filters])];
      if (step.bias) weights.push(tf.tensor1d(step.bias));
      return { layer, weights };
    }
    case "zeroPadding2d":
      return {
        layer: tf.layers.zeroPadding2d({ name, padding: step.padding, dataFormat: "channelsLast" }),
        weights: [],
      };
    case "maxPooling2d":
    case "averagePooling2d": {
      const args = {
        name,
        poolSize: step.poolSize,
        strides: step.strides,
        padding: step.padding,
        dataFormat: "channelsLast" as const,
      };
      const layer = step.kind === "maxPooling2d" ? tf.layers.maxPooling2d(args) : tf.layers.averagePooling2d(args);
      return { layer, weights: [] };
    }
    case "paddedPool2d":
      return {
        layer: new PaddedPool2D({
          name,
          pool: step.pool,
          poolSize: step.poolSize,
          strides: step.strides,
          pads: step.pads,
        }),
        weights: [],
      };
    case "globalAveragePooling1d":
      return { layer: tf.layers.globalAveragePooling1d({ name }), weights: [] };
    case "embedding":
      return {
        layer: tf.layers.embedding({
          name,
          inputDim: step.inputDim,
          outputDim: step.outputDim,
          inputLength: step.inputLength,
        }),
        weights: [tf.tensor2d(step.table, [step.inputDim, step.outputDim])],
      };
    case "globalAveragePooling2d":
      return { layer: tf.layers.globalAveragePooling2d({ name, dataFormat: "channelsLast" }), weights: [] };
    case "batchNormalization":
      return {
        layer: tf.layers.batchNormalization({ name, axis: -1, epsilon: step.epsilon }),
        weights: [step.gamma, step.beta, step.mean, step.variance].map((v) => tf.tensor1d(v)),
      };
    case "dense": {
      const layer = tf.layers.dense({
        name,
        units: step.units,
        activation: step.activation,
        useBias: step.bias !== undefined,
      });
      const weights: tfTypes.Tensor[] = [tf.tensor2d(step.kernel, [step.inputs, step.units])];
      if (step.bias) weights.push(tf.tensor1d(step.bias));
      return { layer, weights };
    }
    case "activation":
      return { layer: tf.layers.activation({ name, activation: step.activation }), weights: [] };
    case "verinferActivation": {
      const { kind: _k, ...args } = step;
      return { layer: new VerinferActivation(args), weights: [] };
    }
    case "leakyRelu":
      return { layer: tf.layers.leakyReLU({ name, alpha: step.alpha }), weights: [] };
    case "flatten":
      return { layer: tf.layers.flatten({ name }), weights: [] };
  }
}

/**
 * Builds the tfjs Sequential model of an imported ONNX chain and sets its weights. The backend must be
 * initialised (the variables live on it).
 *
 * @example
 * ```ts
 * await initBackend();
 * const model = buildTfjsModel(importOnnxGraph(decodeOnnx(bytes)));
 * ```
 */
export function buildTfjsModel(chain: OnnxChain): tfTypes.LayersModel {
  if (chain.steps.some((s) => s.from)) return buildTfjsGraphModel(chain);
  const model = tf.sequential();
  const used = new Set<string>();
  const pending: { layer: tfTypes.layers.Layer; weights: tfTypes.Tensor[] }[] = [];
  const add = (layer: tfTypes.layers.Layer, weights: tfTypes.Tensor[]) => {
    if (model.layers.length === 0)
      model.add(tf.layers.inputLayer({ inputShape: chain.inputShape, name: layerName("input", used) }));
    model.add(layer);
    pending.push({ layer, weights });
  };
  for (const step of chain.steps) {
    if (step.kind === "flatten" && step.chwOrder) {
      // [H, W, C] → [C, H, W], so that the flattened order is ONNX's (NCHW) one.
      add(tf.layers.permute({ name: layerName(`${step.name}_to_chw`, used), dims: [3, 1, 2] }), []);
    }
    const { layer, weights } = layerOf(step, layerName(step.name, used));
    add(layer, weights);
  }
  for (const { layer, weights } of pending) {
    if (weights.length > 0) layer.setWeights(weights);
    for (const w of weights) w.dispose();
  }
  return model;
}

/** The functional tfjs model of an imported ONNX graph (branches and merges): each step applied to the tensors it reads. */
function buildTfjsGraphModel(chain: OnnxChain): tfTypes.LayersModel {
  const used = new Set<string>();
  const input = tf.input({ shape: chain.inputShape, name: layerName("input", used) });
  const tensors: tfTypes.SymbolicTensor[] = [input];
  const pending: { layer: tfTypes.layers.Layer; weights: tfTypes.Tensor[] }[] = [];
  chain.steps.forEach((step, k) => {
    const from = (step.from ?? [k]).map((t) => tensors[t] as tfTypes.SymbolicTensor);
    let x: tfTypes.SymbolicTensor | tfTypes.SymbolicTensor[] =
      from.length === 1 ? (from[0] as tfTypes.SymbolicTensor) : from;
    if (step.kind === "flatten" && step.chwOrder) {
      x = tf.layers
        .permute({ name: layerName(`${step.name}_to_chw`, used), dims: [3, 1, 2] })
        .apply(x) as tfTypes.SymbolicTensor;
    }
    const { layer, weights } = layerOf(step, layerName(step.name, used));
    tensors.push(layer.apply(x) as tfTypes.SymbolicTensor);
    pending.push({ layer, weights });
  });
  const model = tf.model({ inputs: input, outputs: tensors[tensors.length - 1] as tfTypes.SymbolicTensor });
  for (const { layer, weights } of pending) {
    if (weights.length > 0) layer.setWeights(weights);
    for (const w of weights) w.dispose();
  }
  return model;
}
