import {
  clip,
  exp,
  gelu,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  logSoftmax,
  relu,
  sigmoid,
  softmax,
  softplus,
  swish,
  tanh,
} from "./activations.js";
import { add, div, mul, sub } from "./arithmetic.js";
import { gather } from "./embedding.js";
import { batchNormalization, conv, gemm, matMul } from "./linear.js";
import { concat } from "./merges.js";
import type { OnnxOpTranslator } from "./op-translator.js";
import { pad } from "./padding.js";
import { averagePool, globalAveragePool, maxPool, reduceMean } from "./pooling.js";
import { constantOnly, dropout, flatten, identity, reshape, shape, squeeze, transpose } from "./shape.js";

/**
 * The ONNX ops the importer reads, one translator each, keyed by op type (default domain). An op not in this table
 * is refused by name before anything is built. Adding an op: its translator in the family's file under `ops/` and
 * one line here. Ops marked `constantOnly` are read only when every input is a constant (shape arithmetic, folded
 * by `foldConstant`).
 */
export const ONNX_OPS: Readonly<Record<string, OnnxOpTranslator>> = Object.freeze({
  Conv: conv,
  Gemm: gemm,
  MatMul: matMul,
  Add: add,
  Relu: relu,
  Clip: clip,
  LeakyRelu: leakyRelu,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalAveragePool,
  ReduceMean: reduceMean,
  BatchNormalization: batchNormalization,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Softplus: softplus,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Exp: exp,
  Gelu: gelu,
  Swish: swish,
  Dropout: dropout,
  Identity: identity,
  Pad: pad,
  Constant: constantOnly,
  Shape: shape,
  Cast: constantOnly,
  Gather: gather,
  Unsqueeze: constantOnly,
  Concat: concat,
  Slice: constantOnly,
  Transpose: transpose,
  ConstantOfShape: constantOnly,
  Sub: sub,
  Mul: mul,
  Div: div,
});

/**
 * The translator of an op type, or `undefined` when the importer does not read it (never a property of
 * `Object.prototype`: an op named `constructor` is unknown).
 *
 * @example
 * ```ts
 * const translator = onnxOpTranslator(node.opType);
 * if (!translator) throw unsupported(node);
 * ```
 */
export function onnxOpTranslator(opType: string): OnnxOpTranslator | undefined {
  return Object.hasOwn(ONNX_OPS, opType) ? ONNX_OPS[opType] : undefined;
}
