/**
 * Multi-exponentiations over witness scalars, grouped by scalar width. ffjavascript's Pippenger pays for every
 * 13-bit window of a 32-byte scalar (a bucket reduction of ~2^14 additions each, ~20 windows) whatever the scalar's
 * value; a circuit's wires are mostly bits and small integers. Split by byte length — zeros skipped, each group a
 * multi-exponentiation with scalars of just its width — the same sum costs a fraction of the windows.
 *
 * @module
 */

/** The parts of an ffjavascript group the prover calls (elements are Montgomery bytes). */
export interface CurveGroup {
  zero: Uint8Array;
  add(a: Uint8Array, b: Uint8Array): Uint8Array;
  multiExpAffine(bases: Uint8Array, scalars: Uint8Array, logger?: unknown, text?: string): Promise<Uint8Array>;
}

/** Widths (bytes) a group may have; wider scalars go to the 32-byte group. */
const MAX_NARROW = 8;

/**
 * Byte length of each of `n` 32-byte little-endian scalars starting at `at` (0 for zero).
 */
export function scalarWidths(scalars: Uint8Array, at: number, n: number): Uint8Array {
  const view = new DataView(scalars.buffer, scalars.byteOffset, scalars.byteLength);
  const widths = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = at + 32 * i;
    let word = 7;
    while (word >= 0 && view.getUint32(o + 4 * word, true) === 0) word--;
    if (word < 0) continue;
    const top = view.getUint32(o + 4 * word, true);
    widths[i] = 4 * word + (top > 0xffffff ? 4 : top > 0xffff ? 3 : top > 0xff ? 2 : 1);
  }
  return widths;
}

/**
 * Σ scalar_i · base_i over `n` points: bases of `pointBytes` each (affine, Montgomery), scalars 32-byte
 * little-endian normal form from byte `scalarAt`, `widths` from {@link scalarWidths}.
 */
export async function multiExpByWidth(params: {
  group: CurveGroup;
  bases: Uint8Array;
  pointBytes: number;
  scalars: Uint8Array;
  scalarAt: number;
  widths: Uint8Array;
  n: number;
}): Promise<Uint8Array> {
  const { group, bases, pointBytes, scalars, scalarAt, widths, n } = params;
  const count = new Int32Array(33);
  for (let i = 0; i < n; i++) {
    const w = widths[i] as number;
    (count[w > MAX_NARROW ? 32 : w] as number)++;
  }
  const jobs: Promise<Uint8Array>[] = [];
  for (let width = 1; width <= 32; width++) {
    const k = count[width] as number;
    if (k === 0) continue;
    const gb = new Uint8Array(k * pointBytes);
    const gs = new Uint8Array(k * width);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const w = widths[i] as number;
      if (w === 0 || (w > MAX_NARROW ? 32 : w) !== width) continue;
      gb.set(bases.subarray(i * pointBytes, (i + 1) * pointBytes), j * pointBytes);
      const s = scalarAt + 32 * i;
      gs.set(scalars.subarray(s, s + width), j * width);
      j++;
    }
    jobs.push(group.multiExpAffine(gb, gs));
  }
  let sum = group.zero;
  for (const part of await Promise.all(jobs)) sum = group.add(sum, part);
  return sum;
}
