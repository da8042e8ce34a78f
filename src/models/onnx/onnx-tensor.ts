import { VerinferError } from "../../errors.js";
import { int64, type OnnxAttribute, type OnnxNode, type OnnxTensorProto } from "./decode-onnx.js";

/** ONNX `TensorProto.DataType` codes the importer reads. */
export const DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;

/**
 * A constant tensor during import: row-major values as JS numbers. In shape tensors the symbolic batch size is
 * `NaN` (see {@link BATCH}), so that shape arithmetic can carry it to a Reshape without knowing it.
 */
export interface ConstTensor {
  dims: number[];
  data: number[];
  /** `float` (FLOAT/DOUBLE) or `int` (every integer and bool type). */
  kind: "float" | "int";
}

/** The symbolic batch size inside folded shape tensors. */
export const BATCH = Number.NaN;

/**
 * Number of elements of a shape.
 *
 * @example
 * ```ts
 * sizeOf([2, 3, 4]); // 24
 * ```
 */
export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Most elements of any one tensor the importer holds: an initializer, an attribute tensor, a folded constant,
 * the model's input or any layer's output (4,194,304: a 2048×2048 weight matrix; far past what a circuit
 * proves). Checked from the dims before anything is allocated.
 */
export const MAX_TENSOR_ELEMENTS = 2 ** 22;

/**
 * Most elements of all constant tensors of one model together (16,777,216, ~128 MiB as JS numbers): a small
 * file cannot fold into many tensors each under {@link MAX_TENSOR_ELEMENTS}.
 */
export const MAX_CONSTANT_ELEMENTS = 2 ** 24;

/**
 * Checks a tensor's element count against {@link MAX_TENSOR_ELEMENTS} before it is allocated.
 *
 * @param what - what holds the tensor, for the message (`ONNX node "n" (ConstantOfShape)`).
 * @returns the element count.
 * @throws VerinferError `INVALID_MODEL` naming `what` and the size.
 * @example
 * ```ts
 * const n = checkTensorSize(`ONNX node "${node.name}" (${node.opType})`, dims);
 * ```
 */
export function checkTensorSize(what: string, dims: readonly number[]): number {
  const n = sizeOf(dims);
  if (!(n <= MAX_TENSOR_ELEMENTS)) {
    throw new VerinferError(
      "INVALID_MODEL",
      `${what} would hold a tensor of ${n} elements ([${dims.join(", ")}]), more than verinfer imports`,
      { details: `a tensor holds at most ${MAX_TENSOR_ELEMENTS} elements`, meta: { elements: n, dims: [...dims] } },
    );
  }
  return n;
}

function bad(tensor: string, why: string): VerinferError {
  return new VerinferError("INVALID_MODEL", `ONNX tensor "${tensor}" ${why}`);
}

/**
 * Reads an initializer or attribute tensor: raw little-endian bytes or the typed repeated fields.
 *
 * @throws VerinferError `INVALID_MODEL` for external data, an unsupported element type, or a data length that
 *   does not match the dims.
 * @example
 * ```ts
 * const weights = tensorFromProto(proto.graph.initializer[0]);
 * ```
 */
export function tensorFromProto(t: OnnxTensorProto): ConstTensor {
  const name = t.name || "(unnamed)";
  if (t.dataLocation === 1) {
    throw bad(name, "keeps its data in an external file; save the model with its weights inside the .onnx file");
  }
  const dims = t.dims.map(int64);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw bad(name, `has invalid dims [${dims.join(", ")}]`);
  const n = checkTensorSize(`ONNX tensor "${name}"`, dims);
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const fromRaw = (width: number, read: (offset: number) => number): number[] => {
    if (!view || view.byteLength !== n * width) {
      throw bad(name, `holds ${view?.byteLength ?? 0} bytes of data for ${n} elements of ${width} bytes`);
    }
    return Array.from({ length: n }, (_, i) => read(i * width));
  };
  const fromField = (values: readonly number[]): number[] => {
    if (values.length !== n) throw bad(name, `holds ${values.length} values for ${n} elements`);
    return values.slice();
  };
  switch (t.dataType) {
    case DTYPE.FLOAT:
      return { dims, kind: "float", data: view ? fromRaw(4, (o) => view.getFloat32(o, true)) : fromField(t.floatData) };
    case DTYPE.DOUBLE:
      return {
        dims,
        kind: "float",
        data: view ? fromRaw(8, (o) => view.getFloat64(o, true)) : fromField(t.doubleData),
      };
    case DTYPE.INT64:
      return {
        dims,
        kind: "int",
        data: view ? fromRaw(8, (o) => int64(view.getBigInt64(o, true))) : fromField(t.int64Data.map(int64)),
      };
    case DTYPE.INT32:
      return { dims, kind: "int", data: view ? fromRaw(4, (o) => view.getInt32(o, true)) : fromField(t.int32Data) };
    case DTYPE.INT8:
      return { dims, kind: "int", data: view ? fromRaw(1, (o) => view.getInt8(o)) : fromField(t.int32Data) };
    case DTYPE.UINT8:
    case DTYPE.BOOL:
      return { dims, kind: "int", data: view ? fromRaw(1, (o) => view.getUint8(o)) : fromField(t.int32Data) };
    default:
      throw bad(name, `has element type ${t.dataType}; verinfer reads float32/float64 weights and integer shapes`);
  }
}

/**
 * The attribute of a node by name.
 *
 * @example
 * ```ts
 * attribute(node, "kernel_shape")?.ints;
 * ```
 */
export function attribute(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}

/**
 * An INT attribute, or `fallback`.
 *
 * @example
 * ```ts
 * const group = intAttr(node, "group", 1);
 * ```
 */
export function intAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? int64(a.i) : fallback;
}

/**
 * A FLOAT attribute, or `fallback`.
 *
 * @example
 * ```ts
 * const epsilon = floatAttr(node, "epsilon", 1e-5);
 * ```
 */
export function floatAttr(node: OnnxNode, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a ? a.f : fallback;
}

/**
 * An INTS attribute, or `undefined`.
 *
 * @example
 * ```ts
 * const strides = intsAttr(node, "strides") ?? [1, 1];
 * ```
 */
export function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a ? a.ints.map(int64) : undefined;
}

/**
 * A STRING attribute decoded as UTF-8, or `fallback`.
 *
 * @example
 * ```ts
 * const mode = stringAttr(node, "mode", "constant");
 * ```
 */
export function stringAttr(node: OnnxNode, name: string, fallback: string): string {
  const a = attribute(node, name);
  return a ? new TextDecoder().decode(a.s) : fallback;
}
