/** A channels-last tensor shape `[height, width, channels]`. */
export type Shape3 = [number, number, number];

/**
 * Visits the input positions of one window: output position (oy, ox) of a window `size` sliding by `strides`
 * with `pad` = (top, left) zero rows/columns before the input. Positions in the padding are skipped (they hold
 * zeros). `at(iy, ix, ky, kx)` receives input and window coordinates, row-major over the window.
 */
export function visitWindow(
  inShape: Shape3,
  oy: number,
  ox: number,
  size: readonly [number, number],
  strides: readonly [number, number],
  pad: readonly [number, number],
  at: (iy: number, ix: number, ky: number, kx: number) => void,
): void {
  const [h, w] = inShape;
  for (let ky = 0; ky < size[0]; ky++) {
    const iy = oy * strides[0] + ky - pad[0];
    if (iy < 0 || iy >= h) continue;
    for (let kx = 0; kx < size[1]; kx++) {
      const ix = ox * strides[1] + kx - pad[1];
      if (ix < 0 || ix >= w) continue;
      at(iy, ix, ky, kx);
    }
  }
}

/** Index of (y, x, c) in a flat channels-last tensor. */
export function hwcIndex(shape: Shape3, y: number, x: number, c: number): number {
  return (y * shape[1] + x) * shape[2] + c;
}

/** Splits a flat channels-last index into (y, x, c). */
export function hwcCoords(shape: Shape3, index: number): [number, number, number] {
  const c = index % shape[2];
  const yx = (index - c) / shape[2];
  return [Math.floor(yx / shape[1]), yx % shape[1], c];
}

/**
 * Whether some window of a pooling reaches outside its input (padding before, or after where the windows run
 * past the end): then windows hold different numbers of input positions.
 */
export function poolIsPadded(op: {
  inShape: Shape3;
  outShape: Shape3;
  poolSize: readonly [number, number];
  strides: readonly [number, number];
  padding?: readonly [number, number];
}): boolean {
  const pad = op.padding ?? [0, 0];
  return ([0, 1] as const).some(
    (a) => pad[a] > 0 || (op.outShape[a] - 1) * op.strides[a] + op.poolSize[a] - pad[a] > op.inShape[a],
  );
}
