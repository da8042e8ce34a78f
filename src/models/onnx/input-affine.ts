import type { ConstTensor } from "./onnx-tensor.js";

/** A per-feature affine map of the model's input, y = scale·x + offset: an in-graph normalization. */
export interface InputAffine {
  scale: number[];
  offset: number[];
}

/** The ops an input normalization is written with. */
export const INPUT_AFFINE_OPS = ["Add", "Sub", "Mul", "Div"] as const;

/**
 * The affine map after one more `Add`/`Sub`/`Mul`/`Div` by a constant (a scalar or one value per feature), or why
 * it is not one (`c / x`, a constant of another shape).
 */
export function inputAffineOf(params: {
  prev: InputAffine | undefined;
  op: (typeof INPUT_AFFINE_OPS)[number];
  constant: ConstTensor;
  /** The constant is the first operand (`c − x`, `c / x`). */
  constantFirst: boolean;
  features: number;
}): InputAffine | string {
  const { op, constant, constantFirst, features } = params;
  const n = constant.data.length;
  if (n !== 1 && (n !== features || constant.dims.filter((d) => d !== 1).length > 1)) {
    return `has a constant of shape [${constant.dims}], not a scalar or one value per feature`;
  }
  const c = (i: number) => constant.data[n === 1 ? 0 : i] as number;
  const prev = params.prev ?? {
    scale: new Array<number>(features).fill(1),
    offset: new Array<number>(features).fill(0),
  };
  const map = (f: (s: number, o: number, k: number) => [number, number]): InputAffine => {
    const next = prev.scale.map((s, i) => f(s, prev.offset[i] as number, c(i)));
    return { scale: next.map((v) => v[0]), offset: next.map((v) => v[1]) };
  };
  switch (op) {
    case "Add":
      return map((s, o, k) => [s, o + k]);
    case "Sub":
      return constantFirst ? map((s, o, k) => [-s, k - o]) : map((s, o, k) => [s, o - k]);
    case "Mul":
      return map((s, o, k) => [s * k, o * k]);
    case "Div":
      if (constantFirst) return "divides a constant by the input, which is not affine";
      if (constant.data.some((v) => v === 0)) return "divides by zero";
      return map((s, o, k) => [s / k, o / k]);
  }
}

/**
 * Folds an input affine map into the Dense layer that reads it: kernel[i][u] ← scale[i]·kernel[i][u] and
 * bias[u] ← bias[u] + Σ_i offset[i]·kernel[i][u] — exact in real arithmetic, so the layer computes
 * W·(scale·x + offset) + b on the raw input.
 */
export function foldInputAffine(params: {
  affine: InputAffine;
  /** `[in][out]` flattened row-major. */
  kernel: Float32Array;
  bias: Float32Array | undefined;
  units: number;
}): { kernel: Float32Array; bias: Float32Array } {
  const { affine, kernel, units } = params;
  const bias = Float32Array.from({ length: units }, (_, u) => params.bias?.[u] ?? 0);
  const folded = new Float32Array(kernel.length);
  const acc = Float64Array.from(bias);
  affine.scale.forEach((s, i) => {
    for (let u = 0; u < units; u++) {
      const w = kernel[i * units + u] as number;
      folded[i * units + u] = s * w;
      acc[u] = (acc[u] as number) + (affine.offset[i] as number) * w;
    }
  });
  return { kernel: folded, bias: Float32Array.from(acc) };
}
