// The float IR's former home: its names, re-exported from network.ts for code written against them.
export {
  ACTIVATIONS,
  type Activation,
  type DenseLayer,
  type DenseNetwork,
  DenseNetworkSchema,
} from "./network.js";
