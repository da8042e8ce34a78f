export { BACKEND_PREFERENCE, type BackendName, initBackend } from "./backend.js";
export { extractNetwork, SUPPORTED_LAYERS, type UnsupportedLayer } from "./extract-network.js";
export { dequantizeOutput, type IntegerForwardResult, integerForward, layerForward } from "./integer-forward.js";
export { loadModel, TfjsModelJsonSchema } from "./load-model.js";
export {
  ACTIVATIONS,
  type Activation,
  type ActivationLayer,
  type Conv2dLayer,
  type DenseLayer,
  type DenseNetwork,
  DenseNetworkSchema,
  type GlobalAvgPool2dLayer,
  isDenseLayer,
  LAYER_ACTIVATIONS,
  type Layer,
  type LayerActivation,
  type LayerKind,
  LayerSchema,
  type LayerWiring,
  layerKind,
  leakShiftOf,
  MAX_LEAK_SHIFT,
  type MergeLayer,
  type Network,
  NetworkSchema,
  networkShapes,
  PADDINGS,
  type Padding,
  type Pair,
  type Pool2dLayer,
  type ReshapeLayer,
} from "./network.js";
export { ONNX_OPSETS, SUPPORTED_ONNX_OPS } from "./onnx/import-onnx-graph.js";
export { loadOnnxModel } from "./onnx/load-onnx-model.js";
export { nchwToHwc } from "./onnx/nchw-to-hwc.js";
export { type QuantizeOptions, quantizeNetwork } from "./quantize.js";
export {
  flattenInput,
  inputRange,
  type ModelInput,
  type NestedInput,
  type NumericTypedArray,
  quantizeInput,
  type TensorInput,
} from "./quantize-input.js";
export {
  type ArgmaxHead,
  type InputQuantization,
  type QuantizedAdd,
  type QuantizedConcat,
  type QuantizedConv2d,
  type QuantizedDense,
  type QuantizedLayer,
  type QuantizedLayerKind,
  type QuantizedMaxPool2d,
  type QuantizedMul,
  type QuantizedNetwork,
  QuantizedNetworkSchema,
  type QuantizedRescale,
  type QuantizedSumPool2d,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "./quantized-network.js";
export { type RunFloatParams, runFloat, softmax, toTfModel } from "./run-float.js";
export { directorySaveHandler, saveModel, WEIGHTS_FILE } from "./save-model.js";
