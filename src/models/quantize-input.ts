import { VerinferError } from "../errors.js";
import { inputFracBits, type QuantizedNetwork } from "./quantized-network.js";

/** Every typed array an input may be given as (bigint arrays included; DataView is not one). */
export type NumericTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * What verinfer reads of a TensorFlow.js `tf.Tensor` (any tfjs package's: `@tensorflow/tfjs`, `-node`, …): its
 * shape, its dtype, and a synchronous copy of its values.
 */
export interface TensorInput {
  readonly shape: readonly number[];
  readonly dtype: string;
  dataSync(): ArrayLike<unknown>;
}

/** One level of a nested input: a number, a typed array, or an array of levels. */
export type NestedInput = number | NumericTypedArray | readonly NestedInput[];

/**
 * A model input: a flat array of `inputSize` numbers, arrays nested to the model's input shape (rows may be
 * typed arrays), one typed array (`Float32Array`, `Uint8Array`, …) holding the values in row-major order, or a
 * `tf.Tensor` of the model's input shape (or of shape `[inputSize]`).
 */
export type ModelInput = readonly NestedInput[] | NumericTypedArray | TensorInput;

const TENSOR_DTYPES = new Set(["float32", "int32", "bool"]);

function isTypedArray(x: unknown): x is NumericTypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

function isTensor(x: unknown): x is TensorInput {
  if (typeof x !== "object" || x === null || Array.isArray(x) || isTypedArray(x)) return false;
  const t = x as Partial<TensorInput>;
  return typeof t.dataSync === "function" && Array.isArray(t.shape) && typeof t.dtype === "string";
}

function describe(x: unknown): string {
  return x === null ? "null" : typeof x;
}

/** The values of a tensor input, checked against the model's input shape. */
function tensorValues(net: Pick<QuantizedNetwork, "inputShape" | "inputSize">, t: TensorInput): unknown[] {
  const shape = [...t.shape];
  if (!TENSOR_DTYPES.has(t.dtype)) {
    throw new VerinferError("INVALID_INPUT", `input tensor has dtype ${t.dtype}; a model input is numeric`, {
      meta: { dtype: t.dtype },
    });
  }
  const flatOk = shape.length === 1 && shape[0] === net.inputSize;
  if (!flatOk && shape.join(",") !== net.inputShape.join(",")) {
    throw new VerinferError(
      "INVALID_INPUT",
      `input tensor has shape [${shape.join(", ")}]; the model expects [${net.inputShape.join(", ")}]`,
      {
        details: "a batch dimension is not part of one input: pass tensor.squeeze([0]) or use a batch",
        meta: { expected: net.inputShape, got: shape },
      },
    );
  }
  let data: ArrayLike<unknown>;
  try {
    data = t.dataSync();
  } catch (cause) {
    throw new VerinferError("INVALID_INPUT", "input tensor cannot be read (disposed?)", { cause });
  }
  if (data.length !== net.inputSize) {
    throw new VerinferError(
      "INVALID_INPUT",
      `input tensor holds ${data.length} values; the model takes ${net.inputSize}`,
    );
  }
  return Array.from(data);
}

/**
 * Flattens a rectangular array of numbers, nested at most `maxDepth` levels, without recursion: each array may
 * hold at most `maxSize` entries and all of them at most `maxSize` values, so the walk's work is bounded by the
 * model's input size whatever the caller sends. Returns why the input is not acceptable, if it is not.
 */
function walk(
  input: ArrayLike<unknown>,
  maxDepth: number,
  maxSize: number,
  flat: unknown[],
  shape: number[],
): string | undefined {
  /** Depth of the first number met: every number must sit at this depth, every array above it. */
  let leafDepth: number | undefined;
  const frames: { node: ArrayLike<unknown>; length: number; next: number; typed: boolean }[] = [];
  const where = () => (frames.length ? `input${frames.map((f) => `[${f.next - 1}]`).join("")}` : "input");

  const enter = (node: ArrayLike<unknown>): string | undefined => {
    const depth = frames.length;
    if (depth >= maxDepth) return `${where()} is nested deeper than the model's input shape (${maxDepth} level(s))`;
    if (leafDepth !== undefined && depth >= leafDepth) return `${where()} is an array where numbers are expected`;
    // Read once: a getter or proxy must not show the walk one length and the loop another.
    const length = node.length;
    if (length === 0) return `${where()} is empty`;
    if (length > maxSize) return `${where()} has ${length} entries; the model takes ${maxSize} values in all`;
    if (shape.length === depth) {
      shape.push(length);
      if (shape.reduce((a, b) => a * b, 1) > maxSize) {
        return `input's shape starts [${shape.join(", ")}], more than the model's ${maxSize} values`;
      }
    } else if (shape[depth] !== length) {
      return `${where()} has ${length} entries where its siblings have ${shape[depth]}`;
    }
    frames.push({ node, length, next: 0, typed: isTypedArray(node) });
    return undefined;
  };

  const bad = enter(input);
  if (bad) return bad;
  for (let top = frames.at(-1); top; top = frames.at(-1)) {
    if (top.next >= top.length) {
      frames.pop();
      continue;
    }
    const v = top.node[top.next++];
    if (Array.isArray(v) || isTypedArray(v)) {
      const b = enter(v);
      if (b) return b;
      continue;
    }
    let x = v;
    // A BigInt64Array's entries; a bigint in a plain array is refused like any other non-number.
    if (typeof x === "bigint" && top.typed) x = Number(x);
    if (typeof x !== "number") return `${where()} is ${describe(x)}, not a number`;
    leafDepth ??= frames.length;
    if (leafDepth !== frames.length) return `${where()} is a number where its siblings are arrays`;
    if (flat.length >= maxSize) return `input holds more than the model's ${maxSize} values`;
    flat.push(x);
  }
  return undefined;
}

/**
 * Validates one input against the model (shape, finiteness) and flattens it, in row-major order. Accepts every
 * form of {@link ModelInput}; anything else is refused. The work is bounded by the model's input size: a huge
 * or deeply nested input is refused before it is walked.
 *
 * @throws VerinferError `INVALID_INPUT` with the offending index and value.
 * @example
 * ```ts
 * flattenInput({ inputShape: [2, 2], inputSize: 4 }, [[1, 2], new Float32Array([3, 4])]); // [1, 2, 3, 4]
 * ```
 */
export function flattenInput(net: Pick<QuantizedNetwork, "inputShape" | "inputSize">, input: unknown): number[] {
  let flat: unknown[] = [];
  let shape: number[] = [];
  let bad: string | undefined;
  if (isTensor(input)) {
    flat = tensorValues(net, input);
    shape = [flat.length];
  } else if (isTypedArray(input)) bad = walk(input, 1, net.inputSize, flat, shape);
  else if (Array.isArray(input)) bad = walk(input, Math.max(net.inputShape.length, 1), net.inputSize, flat, shape);
  else bad = `input is ${describe(input)}: not an array, a typed array or a tf.Tensor`;
  if (bad) {
    throw new VerinferError("INVALID_INPUT", "input must be an array of numbers (flat or nested to the input shape)", {
      details: bad,
    });
  }
  const values = flat as number[];
  const flatOk = shape.length === 1 && values.length === net.inputSize;
  const nestedOk = shape.join(",") === net.inputShape.join(",") && values.length === net.inputSize;
  if (!flatOk && !nestedOk) {
    throw new VerinferError(
      "INVALID_INPUT",
      `input has shape [${shape.join(", ")}] (${values.length} values); the model expects [${net.inputShape.join(", ")}]`,
      { meta: { expected: net.inputShape, got: shape } },
    );
  }
  const nonFinite = values.findIndex((v) => !Number.isFinite(v));
  if (nonFinite >= 0) {
    throw new VerinferError("INVALID_INPUT", `input value at index ${nonFinite} is ${values[nonFinite]}`, {
      meta: { index: nonFinite, value: values[nonFinite] },
    });
  }
  return values;
}

/**
 * The float interval the circuit's input range check accepts (after rounding): for input value `feature`, or,
 * without it, the interval every input value accepts (with per-feature scales, the intersection of theirs).
 */
export function inputRange(net: QuantizedNetwork, feature?: number): [number, number] {
  const rangeAt = (fracBits: number): [number, number] => {
    const f = 2 ** fracBits;
    return [Number(net.input.lo) / f, Number(net.input.hi) / f];
  };
  if (feature !== undefined) return rangeAt(inputFracBits(net.input, feature));
  const features = net.input.featureFracBits;
  // The finest scale accepts the narrowest interval; lo <= 0 <= hi, so it lies inside every other.
  return rangeAt(features ? Math.max(...features) : net.input.fracBits);
}

/**
 * Quantizes a validated input: xq_i = round(x_i · 2^fracBits_i) (one shared scale, or each feature's own),
 * refusing (never clamping) values outside the calibrated range.
 *
 * @throws VerinferError `INVALID_INPUT` for bad shapes, NaN/Infinity, or out-of-range values (however large).
 * @example
 * ```ts
 * const xq = quantizeInput(qnet, [[0, 1], [1, 0]]);
 * ```
 */
export function quantizeInput(net: QuantizedNetwork, input: unknown): bigint[] {
  const flat = flattenInput(net, input);
  // A float bound one step outside [lo, hi]: anything beyond it is refused before it becomes a bigint, so that
  // 1e308 · 2^fracBits (Infinity) is an out-of-range value, not a RangeError.
  const loF = Number(net.input.lo) - 1;
  const hiF = Number(net.input.hi) + 1;
  // Token ids (an embedding's input) are exact: 2.4 is no id (tfjs would truncate it, the rounding below would not).
  const ids = net.layers[0]?.kind === "embedding";
  return flat.map((x, i) => {
    if (ids && !Number.isInteger(x)) {
      throw new VerinferError("INVALID_INPUT", `input value ${x} at index ${i} is not a token id (an integer)`, {
        meta: { index: i, value: x },
      });
    }
    const scaled = Math.floor(x * 2 ** inputFracBits(net.input, i) + 0.5);
    const q = scaled >= loF && scaled <= hiF ? BigInt(scaled) : undefined;
    if (q === undefined || q < net.input.lo || q > net.input.hi) {
      const [lo, hi] = inputRange(net, i);
      throw new VerinferError(
        "INVALID_INPUT",
        `input value ${x} at index ${i} is outside the calibrated range [${lo}, ${hi}]`,
        {
          meta: { index: i, value: x, range: [lo, hi] },
        },
      );
    }
    return q;
  });
}
