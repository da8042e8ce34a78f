import type * as tfTypes from "@tensorflow/tfjs";
import { tf } from "./backend.js";
import { HARD_SIGMOID_DEFAULTS } from "./layers/piecewise.js";

/** The activations {@link VerinferActivation} computes: those tfjs has no activation (or no parameters) for. */
export const VERINFER_ACTIVATION_KINDS = ["hardSigmoid", "hardSwish", "exp"] as const;

/** Configuration of {@link VerinferActivation}. */
export interface VerinferActivationArgs {
  name?: string;
  activation: (typeof VERINFER_ACTIVATION_KINDS)[number];
  /** hardSigmoid's slope (default 0.2). */
  alpha?: number;
  /** hardSigmoid's offset (default 0.5). */
  beta?: number;
}

/**
 * A tfjs layer for the elementwise activations tfjs does not express: a hardSigmoid of any slope and offset
 * (clip(alpha·x + beta, 0, 1); PyTorch's Hardsigmoid is alpha = 1/6), hardSwish (x·relu6(x + 3)/6) and exp. The
 * float reference of verinfer's tabled activations of those names. Registered as `VerinferActivation`.
 */
export class VerinferActivation extends tf.layers.Layer {
  static className = "VerinferActivation";
  readonly args: VerinferActivationArgs;

  constructor(args: VerinferActivationArgs) {
    super(args.name ? { name: args.name } : {});
    this.args = args;
  }

  override computeOutputShape(inputShape: tfTypes.Shape | tfTypes.Shape[]): tfTypes.Shape {
    return inputShape as tfTypes.Shape;
  }

  override call(inputs: tfTypes.Tensor | tfTypes.Tensor[]): tfTypes.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tfTypes.Tensor;
      switch (this.args.activation) {
        case "hardSigmoid": {
          const a = this.args.alpha ?? HARD_SIGMOID_DEFAULTS.alpha;
          const b = this.args.beta ?? HARD_SIGMOID_DEFAULTS.beta;
          return tf.clipByValue(tf.add(tf.mul(x, a), b), 0, 1);
        }
        case "hardSwish":
          return tf.div(tf.mul(x, tf.clipByValue(tf.add(x, 3), 0, 6)), 6);
        case "exp":
          return tf.exp(x);
      }
    });
  }

  override getConfig(): tfTypes.serialization.ConfigDict {
    const { name: _name, ...rest } = this.args;
    return { ...super.getConfig(), ...rest } as unknown as tfTypes.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(VerinferActivation);
