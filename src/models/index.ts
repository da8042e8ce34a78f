export { type BackendName, BACKEND_PREFERENCE, initBackend } from "./backend.js";
export {
  ACTIVATIONS,
  type Activation,
  type DenseLayer,
  type DenseNetwork,
  DenseNetworkSchema,
  floatForward,
} from "./dense-network.js";
export { extractNetwork, SUPPORTED_LAYERS } from "./extract-network.js";
export { dequantizeOutput, type IntegerForwardResult, integerForward } from "./integer-forward.js";
export { loadModel, TfjsModelJsonSchema } from "./load-model.js";
export { loadOnnxModel } from "./onnx/load-onnx-model.js";
export { nchwToHwc } from "./onnx/nchw-to-hwc.js";
export { ONNX_OPSETS, SUPPORTED_ONNX_OPS } from "./onnx/import-onnx-graph.js";
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
  type InputQuantization,
  type QuantizedLayer,
  type QuantizedNetwork,
  QuantizedNetworkSchema,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "./quantized-network.js";
export { type RunFloatParams, runFloat, toTfModel } from "./run-float.js";
export { directorySaveHandler, saveModel, WEIGHTS_FILE } from "./save-model.js";
