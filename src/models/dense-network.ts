import { z } from "zod";

/** Activations verinfer proves. */
export const ACTIVATIONS = ["relu", "linear"] as const;
/** One of {@link ACTIVATIONS}. */
export type Activation = (typeof ACTIVATIONS)[number];

/** A dense layer in float: `y = act(x · kernel + bias)`, kernel indexed `[in][out]` as in Keras. */
export interface DenseLayer {
  name: string;
  units: number;
  activation: Activation;
  kernel: number[][];
  bias: number[];
}

/** A feed-forward network of dense layers, the float model verinfer quantizes. */
export interface DenseNetwork {
  /** Shape of one input, without the batch axis (e.g. `[28, 28]` before a Flatten). */
  inputShape: number[];
  /** Number of scalars in one input. */
  inputSize: number;
  layers: DenseLayer[];
}

const finite = z.number().refine(Number.isFinite, "must be finite");

/** zod schema of {@link DenseNetwork} (stored inside model packages). */
export const DenseNetworkSchema = z.object({
  inputShape: z.array(z.number().int().positive()),
  inputSize: z.number().int().positive(),
  layers: z
    .array(
      z.object({
        name: z.string(),
        units: z.number().int().positive(),
        activation: z.enum(ACTIVATIONS),
        kernel: z.array(z.array(finite)),
        bias: z.array(finite),
      }),
    )
    .min(1),
});

/** Float forward pass in float64, used for calibration (not for receipts: those use tfjs). */
export function floatForward(net: DenseNetwork, input: readonly number[]): number[][] {
  const preActivations: number[][] = [];
  let a: readonly number[] = input;
  for (const layer of net.layers) {
    const z = layer.bias.slice();
    for (let i = 0; i < a.length; i++) {
      const ai = a[i] as number;
      if (ai === 0) continue;
      const row = layer.kernel[i] as number[];
      for (let j = 0; j < z.length; j++) z[j] = (z[j] as number) + ai * (row[j] as number);
    }
    preActivations.push(z);
    a = layer.activation === "relu" ? z.map((v) => Math.max(v, 0)) : z;
  }
  return preActivations;
}
