import type { SmoothActivation } from "../layers/piecewise.js";

/** Zero padding of the height and width axes: `[[top, bottom], [left, right]]`. */
export type Pads2d = [[number, number], [number, number]];

/**
 * One layer of the imported graph, channels-last, in the form tfjs builds. `from`: the tensors it reads (0: the
 * input, k: step k − 1's output) when not the previous step's; merges (`add`, `multiply`, `concatenate` on the
 * channel axis) read two or more.
 */
export type OnnxStep = OnnxStepKind & { from?: number[] };

/** The layer kinds of {@link OnnxStep}. */
export type OnnxStepKind =
  | { kind: "add" | "multiply" | "concatenate"; name: string }
  | {
      kind: "conv2d";
      name: string;
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: "valid" | "same";
      /** `[kh][kw][in][out]` flattened row-major (tfjs/Keras HWIO). */
      kernel: Float32Array;
      inChannels: number;
      bias: Float32Array | undefined;
      activation: "linear" | "relu" | "relu6" | SmoothActivation;
    }
  | { kind: "zeroPadding2d"; name: string; padding: Pads2d }
  | {
      kind: "maxPooling2d" | "averagePooling2d";
      name: string;
      poolSize: [number, number];
      strides: [number, number];
      padding: "valid" | "same";
    }
  /** A pooling with explicit pads neither valid nor same: max skips them, average leaves them out of the count. */
  | {
      kind: "paddedPool2d";
      name: string;
      pool: "max" | "avg";
      poolSize: [number, number];
      strides: [number, number];
      pads: Pads2d;
    }
  | { kind: "globalAveragePooling2d"; name: string }
  /** The mean over a sequence's positions: `[length, dim]` → `[dim]`. */
  | { kind: "globalAveragePooling1d"; name: string }
  /** A lookup of the model's input token ids in a constant table (tfjs Embedding): `[length]` → `[length, dim]`. */
  | {
      kind: "embedding";
      name: string;
      inputDim: number;
      outputDim: number;
      inputLength: number;
      /** `[inputDim][outputDim]` flattened row-major. */
      table: Float32Array;
    }
  | {
      kind: "batchNormalization";
      name: string;
      epsilon: number;
      gamma: Float32Array;
      beta: Float32Array;
      mean: Float32Array;
      variance: Float32Array;
    }
  | {
      kind: "dense";
      name: string;
      units: number;
      inputs: number;
      /** `[in][out]` flattened row-major (tfjs/Keras). */
      kernel: Float32Array;
      bias: Float32Array | undefined;
      activation: "linear" | "relu" | "relu6" | "softmax" | SmoothActivation;
    }
  | { kind: "activation"; name: string; activation: "relu" | "relu6" | "softmax" | SmoothActivation }
  /** A LeakyReLU of slope alpha, a power of two (checked on import). */
  | { kind: "leakyRelu"; name: string; alpha: number }
  /** An activation tfjs has no layer for (verinfer's own: `VerinferActivation`), with a hardSigmoid's parameters. */
  | {
      kind: "verinferActivation";
      name: string;
      activation: "hardSigmoid" | "hardSwish" | "exp";
      alpha?: number;
      beta?: number;
    }
  /** `chwOrder`: permute HWC back to ONNX's CHW order before flattening (tfjs Permute + Flatten). */
  | { kind: "flatten"; name: string; chwOrder: boolean };

/** The importer's result: the tfjs input shape (channels-last, no batch) and the layers. */
export interface OnnxChain {
  /** `[height, width, channels]` for an NCHW input, `[features]` for a 2-D one. */
  inputShape: number[];
  /** The ONNX input's own shape without the batch axis (`[channels, height, width]` or `[features]`). */
  onnxInputShape: number[];
  steps: OnnxStep[];
  opset: number;
  producer: string;
}
