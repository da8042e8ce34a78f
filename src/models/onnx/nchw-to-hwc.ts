import { VerinferError } from "../../errors.js";

/**
 * Reorders one CHW sample (an ONNX/PyTorch image without its batch axis) into the HWC order that models imported
 * by {@link loadOnnxModel} take. With one channel the order is unchanged.
 *
 * @param params.data - `channels · height · width` values in CHW order.
 * @param params.shape - `[channels, height, width]`.
 * @returns the same values in HWC order.
 * @throws VerinferError `INVALID_INPUT` when the data does not hold `channels · height · width` values.
 * @example
 * ```ts
 * const hwc = nchwToHwc({ data: chwPixels, shape: [3, 32, 32] });
 * const receipt = await verifiableInfer(pkg, hwc);
 * ```
 */
export function nchwToHwc(params: { data: ArrayLike<number>; shape: readonly [number, number, number] }): Float32Array {
  const { data, shape } = params;
  const [c, h, w] = shape;
  if (![c, h, w].every((d) => Number.isInteger(d) && d > 0) || data.length !== c * h * w) {
    throw new VerinferError("INVALID_INPUT", `nchwToHwc: ${data.length} values do not fill [${shape.join(", ")}]`);
  }
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out[(y * w + x) * c + ch] = data[(ch * h + y) * w + x] as number;
    }
  }
  return out;
}
