import { z } from "zod";
import { VerinferError } from "../../errors.js";
import { int } from "./schema-parts.js";

/**
 * The smooth activations verinfer proves that tfjs has, by their tfjs names: `gelu` is the exact (erf) form,
 * `gelu_new` the tanh approximation, `swish` is SiLU (x·sigmoid(x)), `hardSigmoid` is clip(α·x + β, 0, 1) (tfjs and
 * ONNX: α = 0.2, β = 0.5 unless stated; PyTorch's Hardsigmoid: α = 1/6).
 */
export const SMOOTH_ACTIVATIONS = ["sigmoid", "tanh", "softplus", "swish", "gelu", "gelu_new", "hardSigmoid"] as const;
/** One of {@link SMOOTH_ACTIVATIONS}. */
export type SmoothActivation = (typeof SMOOTH_ACTIVATIONS)[number];

/**
 * Every activation proven as a table: {@link SMOOTH_ACTIVATIONS}, and two tfjs has no activation for (float run by
 * verinfer's own tfjs layer): `hardSwish`, x·relu6(x + 3)/6 (PyTorch and ONNX), and `exp`, e^x on a bounded window
 * (beyond it saturated: see {@link tablePiecewise}).
 */
export const TABLED_ACTIVATIONS = [...SMOOTH_ACTIVATIONS, "hardSwish", "exp"] as const;
/** One of {@link TABLED_ACTIVATIONS}. */
export type TabledActivation = (typeof TABLED_ACTIVATIONS)[number];

/** Whether an activation name is one of {@link TABLED_ACTIVATIONS} (proven by a table). */
export function isSmoothActivation(a: string): a is TabledActivation {
  return (TABLED_ACTIVATIONS as readonly string[]).includes(a);
}

/**
 * The integer function a smooth activation is proven as: on the rescaled input q (scale 2^-f), a table of
 * 2^segmentBits + 1 points T over the window q ∈ [−2^(window−1), 2^(window−1)) (window = f + radius bits + 1),
 * linearly interpolated between them, constant outside, plus `relu(q)·2^reluShift` when the function is relu plus a
 * bounded bump (softplus, swish, gelu):
 *
 * - S = 2^(window − segmentBits); v = q + 2^(window−1); i = v >> (window − segmentBits); w = v mod S
 * - inside: y = T[i]·S + (T[i+1] − T[i])·w; q ≥ 2^(window−1): y = T[2^k]·S; q < −2^(window−1): y = T[0]·S
 * - plus relu(q)·2^reluShift where `reluShift` is stated.
 *
 * The output's scale is the table's (2^-tableFracBits) times S: `outFracBits = tableFracBits + window − segmentBits`.
 */
export interface PiecewiseActivation {
  /** The window's signed width in bits: q in [−2^(window−1), 2^(window−1)) is interpolated, beyond it saturated. */
  window: number;
  /** 2^segmentBits segments over the window, selected by the top segmentBits bits of q + 2^(window−1). */
  segmentBits: number;
  /** relu(q) is added shifted left by this (to the output scale); absent for a bounded function. */
  reluShift?: number;
  /** 2^segmentBits + 1 table points, at the table's scale. */
  table: bigint[];
  /**
   * The circuit layout that proves it (`piecewiseGadget`): absent = 1, the first (a monomial per subset of the index
   * bits), which packages compiled before layout 2 use and still rebuild in; 2 = split index and zero-test
   * saturation ({@link PIECEWISE_LAYOUT}). Not part of the integer function, so not committed: the model id is the
   * same in either layout, and the verification key binds the circuit.
   */
  layout?: 2;
}

/** The layout {@link tablePiecewise} writes now. */
export const PIECEWISE_LAYOUT = 2;

/** zod schema of a serialized {@link PiecewiseActivation}. */
export const PiecewiseActivationSchema = z
  .object({
    window: int.min(2).max(64),
    segmentBits: int.min(1).max(12),
    reluShift: int.min(0).max(128).optional(),
    layout: z.literal(2).optional(),
    table: z.array(
      z.union([
        z.bigint(),
        z
          .string()
          .regex(/^-?\d+$/)
          .transform(BigInt),
      ]),
    ),
  })
  .refine((p) => p.segmentBits < p.window, "segmentBits must be below window")
  .refine((p) => p.table.length === 2 ** p.segmentBits + 1, "the table holds 2^segmentBits + 1 points")
  .refine((p) => p.table.every((t) => t < 1n << 200n && t > -(1n << 200n)), "table points are below 2^200");

const pow2 = (k: number) => 1n << BigInt(k);

/** The integer semantics of a {@link PiecewiseActivation} on one rescaled value q. */
export function piecewiseForward(p: PiecewiseActivation, q: bigint): bigint {
  const half = pow2(p.window - 1);
  const low = p.window - p.segmentBits;
  const S = pow2(low);
  const relu = p.reluShift === undefined || q <= 0n ? 0n : q << BigInt(p.reluShift);
  const T = (i: number) => p.table[i] as bigint;
  if (q >= half) return relu + T(2 ** p.segmentBits) * S;
  if (q < -half) return relu + T(0) * S;
  const v = q + half;
  const i = Number(v >> BigInt(low));
  const w = v & (S - 1n);
  return relu + T(i) * S + (T(i + 1) - T(i)) * w;
}

/**
 * Exact bounds of {@link piecewiseForward} over q in [lo, hi]: the function is linear between consecutive segment
 * ends (and relu's kink at 0 is one of them), so its extremes lie at lo, hi or a segment's first or last point.
 */
export function piecewiseBounds(p: PiecewiseActivation, lo: bigint, hi: bigint): { lo: bigint; hi: bigint } {
  const half = pow2(p.window - 1);
  const S = pow2(p.window - p.segmentBits);
  const candidates = [lo, hi];
  for (let i = 0; i <= 2 ** p.segmentBits; i++) {
    for (const q of [-half + BigInt(i) * S, -half + BigInt(i) * S - 1n]) if (q > lo && q < hi) candidates.push(q);
  }
  let min = piecewiseForward(p, lo);
  let max = min;
  for (const q of candidates) {
    const y = piecewiseForward(p, q);
    if (y < min) min = y;
    if (y > max) max = y;
  }
  return { lo: min, hi: max };
}

/** erf to ~1e-15 (a series near 0, a continued fraction beyond): the float GELU's. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    // Maclaurin series: erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1)).
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc by Lentz's continued fraction: erfc(x) = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))).
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The float functions, as tfjs computes them. */
export const SMOOTH_FUNCTIONS: Record<TabledActivation, (x: number) => number> = {
  sigmoid,
  tanh: Math.tanh,
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  swish: (x) => x * sigmoid(x),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  hardSigmoid: (x) => Math.min(Math.max(0.2 * x + 0.5, 0), 1),
  hardSwish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  exp: Math.exp,
};

/** The parameters of a smooth activation: a `hardSigmoid`'s slope α and offset β (ONNX's names). */
export interface SmoothParams {
  /** hardSigmoid only: the slope (default 0.2). */
  alpha?: number;
  /** hardSigmoid only: the offset (default 0.5). */
  beta?: number;
}

/** tfjs's (and ONNX's default) hardSigmoid slope and offset. */
export const HARD_SIGMOID_DEFAULTS = { alpha: 0.2, beta: 0.5 } as const;

/**
 * A hardSigmoid's parameters in their one spelling: a slope or offset equal to its default is left out, so that
 * `{ alpha: 0.2, beta: 0.5 }`, `{ alpha: 0.2 }` and `{}` — one function, one model — are one float network too.
 */
export function hardSigmoidParams(params: SmoothParams): SmoothParams {
  const { alpha, beta } = params;
  return {
    ...(alpha === undefined || alpha === HARD_SIGMOID_DEFAULTS.alpha ? {} : { alpha }),
    ...(beta === undefined || beta === HARD_SIGMOID_DEFAULTS.beta ? {} : { beta }),
  };
}

/** The float function of `name` with its parameters. */
export function smoothFunction(name: TabledActivation, params: SmoothParams = {}): (x: number) => number {
  if (name !== "hardSigmoid" || (params.alpha === undefined && params.beta === undefined))
    return SMOOTH_FUNCTIONS[name];
  const a = params.alpha ?? HARD_SIGMOID_DEFAULTS.alpha;
  const b = params.beta ?? HARD_SIGMOID_DEFAULTS.beta;
  return (x) => Math.min(Math.max(a * x + b, 0), 1);
}

/**
 * The radius bits of a hardSigmoid's window: its kinks −β/α and (1 − β)/α lie within [−2^r, 2^r] (at least r = 1),
 * or undefined for parameters verinfer does not table (α <= 0, not finite, or kinks beyond 2^12).
 */
export function hardSigmoidRadiusBits(params: SmoothParams): number | undefined {
  const a = params.alpha ?? HARD_SIGMOID_DEFAULTS.alpha;
  const b = params.beta ?? HARD_SIGMOID_DEFAULTS.beta;
  if (!(Number.isFinite(a) && Number.isFinite(b) && a > 0)) return undefined;
  const reach = Math.max(Math.abs(b / a), Math.abs((1 - b) / a));
  const r = Math.max(1, Math.ceil(Math.log2(reach)));
  return r <= 12 ? r : undefined;
}

/**
 * How each function is tabled: `radiusBits` (the window is |x| < 2^radiusBits: beyond it the function is within
 * its error bound of its limit, or of relu(x)), `relu` (the function is relu(x) plus a bounded bump: the table holds
 * the bump), `segmentBits` (2^segmentBits segments at default precision; chosen so that linear interpolation stays
 * within 1/256 of the output range).
 */
export const SMOOTH_TABLING: Record<
  TabledActivation,
  { radiusBits: number; relu: boolean; segmentBits: number; highSegmentBits: number }
> = {
  sigmoid: { radiusBits: 3, relu: false, segmentBits: 5, highSegmentBits: 9 },
  tanh: { radiusBits: 2, relu: false, segmentBits: 5, highSegmentBits: 9 },
  softplus: { radiusBits: 3, relu: true, segmentBits: 5, highSegmentBits: 10 },
  swish: { radiusBits: 3, relu: true, segmentBits: 5, highSegmentBits: 10 },
  gelu: { radiusBits: 2, relu: true, segmentBits: 5, highSegmentBits: 9 },
  gelu_new: { radiusBits: 2, relu: true, segmentBits: 5, highSegmentBits: 9 },
  hardSigmoid: { radiusBits: 2, relu: false, segmentBits: 4, highSegmentBits: 5 },
  hardSwish: { radiusBits: 2, relu: true, segmentBits: 5, highSegmentBits: 9 },
  exp: { radiusBits: 3, relu: false, segmentBits: 3, highSegmentBits: 5 },
};

/**
 * The `"high"` activation precision: a window twice as wide (the tails of sigmoid, softplus and swish reach 2^-12
 * only beyond |x| = 8) and `highSegmentBits` segments (segments 8–16× shorter: 64–256× less interpolation error).
 */
export const HIGH_PRECISION_EXTRA_RADIUS_BITS = 1;

/** Table points' fractional bits beyond the input's: the table's rounding stays well below interpolation error. */
export const TABLE_EXTRA_FRAC_BITS = 4;

/** The widest window an `exp` is tabled on: |x| < 2^4 (e^16 ≈ 8.9e6). */
export const EXP_MAX_RADIUS_BITS = 4;

/**
 * The piecewise activation for `name` on inputs at scale 2^-inFracBits, and its output scale.
 *
 * - `hardSigmoid`: the window reaches its kinks ({@link hardSigmoidRadiusBits}); the segments are the default
 *   count, doubled until both kinks are segment ends (then the table is exact but for rounding) or a kink's
 *   interpolation error α·h/4 is below half the target (2^-9, or 2^-13 at high precision).
 * - `exp`: the window is |x| < 2^expRadiusBits (the quantizer's: 1.25× the calibrated inputs, rounded up to a power
 *   of two, at most {@link EXP_MAX_RADIUS_BITS}), not widened at high precision; 2^segmentBits segments per unit of
 *   x (h = 1/8, or 1/32 at high precision: error ≤ h²/8·e^x, 1/512 or 1/8192 of e^x); below the window e^(−2^r),
 *   above it e^(2^r) (saturated).
 *
 * @throws VerinferError `QUANTIZATION_OVERFLOW` when the input scale is too coarse for the window's segments;
 *   `UNSUPPORTED_LAYER` for hardSigmoid parameters verinfer does not table.
 */
export function tablePiecewise(params: {
  name: TabledActivation;
  inFracBits: number;
  precision?: "default" | "high";
  /** A hardSigmoid's slope and offset. */
  smooth?: SmoothParams;
  /** An exp's window radius bits (default 3). */
  expRadiusBits?: number;
}): { piecewise: PiecewiseActivation; outFracBits: number } {
  const { name, inFracBits: f } = params;
  const t = SMOOTH_TABLING[name];
  const high = params.precision === "high";
  let radiusBits = t.radiusBits + (high ? HIGH_PRECISION_EXTRA_RADIUS_BITS : 0);
  let wanted = high ? t.highSegmentBits : t.segmentBits;
  const fn = smoothFunction(name, params.smooth);
  if (name === "exp") {
    radiusBits = Math.min(Math.max(params.expRadiusBits ?? t.radiusBits, 1), EXP_MAX_RADIUS_BITS);
    wanted += radiusBits + 1;
  } else if (name === "hardSigmoid") {
    const r = hardSigmoidRadiusBits(params.smooth ?? {});
    if (r === undefined) {
      throw new VerinferError("UNSUPPORTED_LAYER", "a hardSigmoid's slope must be positive, its kinks within ±4096", {
        meta: { ...params.smooth },
      });
    }
    radiusBits = r + (high ? HIGH_PRECISION_EXTRA_RADIUS_BITS : 0);
    const a = params.smooth?.alpha ?? HARD_SIGMOID_DEFAULTS.alpha;
    const b = params.smooth?.beta ?? HARD_SIGMOID_DEFAULTS.beta;
    const kinks = [-b / a, (1 - b) / a];
    const onEnds = (k: number) =>
      kinks.every((x) => Number.isInteger(((x + 2 ** radiusBits) * 2 ** k) / 2 ** (radiusBits + 1)));
    const bound = high ? 2 ** -13 : 2 ** -9;
    while (wanted < 12 && !onEnds(wanted) && (a * 2 ** (radiusBits + 1 - wanted)) / 4 > bound) wanted++;
  }
  const window = f + radiusBits + 1;
  const segmentBits = Math.min(wanted, window - 1);
  if (segmentBits < 1) {
    throw new VerinferError("QUANTIZATION_OVERFLOW", `a ${name} on inputs at scale 2^${-f} has no segments`, {
      details: "raise activationBits",
    });
  }
  const tableFracBits = Math.max(f, 0) + TABLE_EXTRA_FRAC_BITS;
  const bump = t.relu ? (x: number) => fn(x) - Math.max(x, 0) : fn;
  const S = window - segmentBits;
  const table = Array.from({ length: 2 ** segmentBits + 1 }, (_, i) => {
    const x = (-(2 ** (window - 1)) + i * 2 ** S) * 2 ** -f;
    return BigInt(Math.round(bump(x) * 2 ** tableFracBits));
  });
  const outFracBits = tableFracBits + S;
  return {
    piecewise: {
      window,
      segmentBits,
      ...(t.relu ? { reluShift: outFracBits - f } : {}),
      table,
      layout: PIECEWISE_LAYOUT,
    },
    outFracBits,
  };
}
