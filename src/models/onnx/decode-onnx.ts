import { readFileSync } from "node:fs";
import path from "node:path";
import protobuf from "protobufjs";
import { VerinferError } from "../../errors.js";
import { packageRoot } from "../../util/package-root.js";

/** An int64 as protobufjs decodes it: a number, or a `Long` when the `long` package is present. */
type Int64 = number | { toString(): string };

/** The fields of ONNX's `AttributeProto` that the importer reads. */
export interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: OnnxTensorProto | null;
  floats: number[];
  ints: Int64[];
}

/** The fields of ONNX's `TensorProto` that the importer reads. */
export interface OnnxTensorProto {
  name: string;
  dims: Int64[];
  dataType: number;
  rawData: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: Int64[];
  doubleData: number[];
  dataLocation: number;
}

/** The fields of ONNX's `NodeProto` that the importer reads. */
export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** The fields of ONNX's `ValueInfoProto` that the importer reads. */
export interface OnnxValueInfo {
  name: string;
  type?: {
    tensorType?: {
      elemType: number;
      shape?: { dim: { dimValue?: Int64; dimParam?: string; value?: string }[] } | null;
    };
  } | null;
}

/** The fields of ONNX's `GraphProto` that the importer reads. */
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensorProto[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

/** The fields of ONNX's `ModelProto` that the importer reads. */
export interface OnnxModelProto {
  irVersion: Int64;
  producerName: string;
  producerVersion: string;
  opsetImport: { domain: string; version: Int64 }[];
  graph?: OnnxGraph | null;
}

let modelType: protobuf.Type | undefined;

/**
 * The `onnx.ModelProto` message type, parsed once from the official `onnx.proto` (proto/onnx.proto, as the ONNX
 * project publishes it) by protobufjs.
 *
 * @example
 * ```ts
 * const bytes = onnxModelType().encode(onnxModelType().fromObject(model)).finish();
 * ```
 */
export function onnxModelType(): protobuf.Type {
  if (!modelType) {
    const source = readFileSync(path.join(packageRoot(), "proto", "onnx.proto"), "utf8");
    modelType = protobuf.parse(source).root.lookupType("onnx.ModelProto");
  }
  return modelType;
}

/**
 * An int64 field as a JS number, clamped to ±2^53 (shape arithmetic uses INT64_MAX as "to the end").
 *
 * @example
 * ```ts
 * int64(node.attribute[0]?.i); // 9007199254740992 for INT64_MAX
 * ```
 */
export function int64(value: Int64 | undefined): number {
  if (value === undefined) return 0;
  if (typeof value === "number") return value;
  const big = BigInt(value.toString());
  const limit = 2n ** 53n;
  if (big > limit) return Number(limit);
  if (big < -limit) return -Number(limit);
  return Number(big);
}

/**
 * Decodes the bytes of an `.onnx` file into its `ModelProto`.
 *
 * @throws VerinferError `ARTIFACT_CORRUPT` when the bytes are not a protobuf ModelProto (truncated, corrupted);
 *   `INVALID_MODEL` when it decodes but holds no graph.
 * @example
 * ```ts
 * const proto = decodeOnnx(await readFile("model.onnx"));
 * ```
 */
export function decodeOnnx(bytes: Uint8Array): OnnxModelProto {
  let message: OnnxModelProto;
  try {
    message = onnxModelType().decode(bytes) as unknown as OnnxModelProto;
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", "the file is not a valid ONNX model (protobuf decoding failed)", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  if (!message.graph || message.graph.node.length === 0) {
    throw new VerinferError("INVALID_MODEL", "the ONNX model holds no graph (or a graph without nodes)");
  }
  return message;
}
