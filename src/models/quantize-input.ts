import { VerinferError } from "../errors.js";
import type { QuantizedNetwork } from "./quantized-network.js";

/** A model input: a flat array, or nested arrays matching the model's input shape. */
export type ModelInput = number | ModelInput[];

interface Walk {
  flat: unknown[];
  shape: number[];
  /** Depth of the first number met: every number must sit at this depth, every array above it. */
  leafDepth?: number;
}

/** Flattens nested arrays into `w`; returns why the input is not a rectangular array of numbers, if it is not. */
function walk(x: unknown, at: string, w: Walk, depth: number): string | undefined {
  const where = at || "input";
  if (!Array.isArray(x)) {
    if (typeof x !== "number") return `${where} is ${x === null ? "null" : typeof x}, not a number`;
    w.leafDepth ??= depth;
    if (w.leafDepth !== depth) return `${where} is a number where its siblings are arrays`;
    w.flat.push(x);
    return undefined;
  }
  if (w.leafDepth !== undefined && depth >= w.leafDepth) return `${where} is an array where numbers are expected`;
  const shape = w.shape;
  if (shape.length === depth) shape.push(x.length);
  else if (shape[depth] !== x.length) return `${at || "input"} has ${x.length} entries where its siblings have ${shape[depth]}`;
  for (const [i, v] of x.entries()) {
    const bad = walk(v, `${at}[${i}]`, w, depth + 1);
    if (bad) return bad;
  }
  return undefined;
}

/**
 * Validates one input against the model (shape, finiteness, range) and flattens it.
 *
 * @throws VerinferError `INVALID_INPUT` with the offending index and value.
 */
export function flattenInput(net: Pick<QuantizedNetwork, "inputShape" | "inputSize">, input: unknown): number[] {
  const w: Walk = { flat: [], shape: [] };
  const bad = Array.isArray(input) ? walk(input, "", w, 0) : "input is not an array";
  const shape = w.shape;
  if (bad) {
    throw new VerinferError("INVALID_INPUT", "input must be an array of numbers (flat or nested to the input shape)", {
      details: bad,
    });
  }
  const flat = w.flat as number[];
  const flatOk = shape.length === 1 && flat.length === net.inputSize;
  const nestedOk = shape.join(",") === net.inputShape.join(",") && flat.length === net.inputSize;
  if (!flatOk && !nestedOk) {
    throw new VerinferError(
      "INVALID_INPUT",
      `input has shape [${shape.join(", ")}] (${flat.length} values); the model expects [${net.inputShape.join(", ")}]`,
      { meta: { expected: net.inputShape, got: shape } },
    );
  }
  const nonFinite = flat.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) {
    throw new VerinferError("INVALID_INPUT", `input value at index ${nonFinite} is ${flat[nonFinite]}`, {
      meta: { index: nonFinite },
    });
  }
  return flat;
}

/** The float interval the circuit's input range check accepts (after rounding). */
export function inputRange(net: QuantizedNetwork): [number, number] {
  const f = 2 ** net.input.fracBits;
  return [Number(net.input.lo) / f, Number(net.input.hi) / f];
}

/**
 * Quantizes a validated input: xq = round(x · 2^fracBits), refusing (never clamping) values outside the
 * calibrated range.
 *
 * @throws VerinferError `INVALID_INPUT` for bad shapes, NaN/Infinity, or out-of-range values.
 * @example
 * ```ts
 * const xq = quantizeInput(qnet, [[0, 1], [1, 0]]);
 * ```
 */
export function quantizeInput(net: QuantizedNetwork, input: unknown): bigint[] {
  const flat = flattenInput(net, input);
  const f = 2 ** net.input.fracBits;
  return flat.map((x, i) => {
    const q = BigInt(Math.floor(x * f + 0.5));
    if (q < net.input.lo || q > net.input.hi) {
      const [lo, hi] = inputRange(net);
      throw new VerinferError("INVALID_INPUT", `input value ${x} at index ${i} is outside the calibrated range [${lo}, ${hi}]`, {
        meta: { index: i, value: x, range: [lo, hi] },
      });
    }
    return q;
  });
}
