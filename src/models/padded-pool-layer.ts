import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";
import type { Pads } from "./network.js";

/** Configuration of {@link PaddedPool2D}. */
export interface PaddedPool2DArgs {
  name?: string;
  pool: "max" | "avg";
  poolSize: [number, number];
  strides: [number, number];
  pads: Pads;
  /** Average only: padded positions count in the divisor (as zeros). */
  countIncludePad?: boolean;
}

/**
 * A tfjs layer for a pooling with explicit (asymmetric) padding that tfjs's own layers do not express: max pooling
 * that skips padded positions (ONNX `MaxPool` pads, e.g. PyTorch's `MaxPool2d(3, 2, 1)` on an even size) and average
 * pooling that divides by the window's input positions. The float reference of verinfer's padded pooling kinds,
 * channels-last. Registered as `VerinferPaddedPool2D`.
 */
export class PaddedPool2D extends tf.layers.Layer {
  static className = "VerinferPaddedPool2D";
  readonly args: PaddedPool2DArgs;

  constructor(args: PaddedPool2DArgs) {
    super(args.name ? { name: args.name } : {});
    this.args = args;
  }

  override computeOutputShape(inputShape: tfTypes.Shape | tfTypes.Shape[]): tfTypes.Shape {
    const s = inputShape as tfTypes.Shape;
    const { poolSize: k, strides: st, pads: p } = this.args;
    const out = (size: number, a: 0 | 1) => Math.floor((size + p[a][0] + p[a][1] - k[a]) / st[a]) + 1;
    return [s[0] ?? null, out(s[1] as number, 0), out(s[2] as number, 1), s[3] ?? null];
  }

  override call(inputs: tfTypes.Tensor | tfTypes.Tensor[]): tfTypes.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfTypes.Tensor4D;
      const { poolSize, strides, pads, pool } = this.args;
      const padding: Array<[number, number]> = [[0, 0], pads[0], pads[1], [0, 0]];
      if (pool === "max") {
        // Far below any activation: a window always holds an input position, so this value never wins.
        return tf.maxPool(tf.pad(x, padding, -3.4e38), poolSize, strides, "valid");
      }
      const k = poolSize[0] * poolSize[1];
      const sum = tf.mul(tf.avgPool(tf.pad(x, padding), poolSize, strides, "valid"), k);
      if (this.args.countIncludePad) return tf.div(sum, k);
      const ones = tf.onesLike(x.slice([0, 0, 0, 0], [1, -1, -1, 1])) as tfTypes.Tensor4D;
      const count = tf.mul(tf.avgPool(tf.pad(ones, padding), poolSize, strides, "valid"), k);
      return tf.div(sum, count);
    });
  }

  override getConfig(): tfTypes.serialization.ConfigDict {
    const { name: _name, ...rest } = this.args;
    return { ...super.getConfig(), ...rest } as unknown as tfTypes.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(PaddedPool2D);
