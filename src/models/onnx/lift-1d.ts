import { VerinferError } from "../../errors.js";
import { int64, type OnnxModelProto, type OnnxTensorProto } from "./decode-onnx.js";
import { DTYPE, tensorFromProto } from "./onnx-tensor.js";

type Graph = NonNullable<OnnxModelProto["graph"]>;

/** Ops whose window attributes are lifted from 1-D to 2-D. */
const WINDOW_OPS = new Set(["Conv", "MaxPool", "AveragePool"]);

/**
 * Reads a 1-D graph (input `[N, C, L]`) as a 2-D one of height 1 (`[N, C, 1, L]`), in place: the input gains the
 * height axis, and every Conv/MaxPool/AveragePool with 1-D attributes gets their 2-D form (`kernel_shape [k]` →
 * `[1, k]`, `strides [s]` → `[1, s]`, `pads [b, e]` → `[0, b, 0, e]`, `dilations [d]` → `[1, d]`) and a Conv's
 * `[O, I, k]` weight becomes `[O, I, 1, k]` (same data order). The height-1 image computes what the sequence
 * computes; the importer then reads it as any NCHW graph. Returns whether it lifted the graph.
 */
export function liftOneDGraph(graph: Graph): boolean {
  const input = graph.input.find((v) => !graph.initializer.some((t) => t.name === v.name));
  const dims = input?.type?.tensorType?.shape?.dim;
  if (dims?.length !== 3) return false;
  dims.splice(2, 0, { dimValue: 1 });
  const weights = new Set<string>();
  for (const node of graph.node) {
    if (!WINDOW_OPS.has(node.opType)) continue;
    const k = node.attribute.find((a) => a.name === "kernel_shape");
    if (k && k.ints.length !== 1) continue;
    for (const a of node.attribute) {
      if (a.ints.length === 0) continue;
      if (a.name === "kernel_shape" || a.name === "strides" || a.name === "dilations") a.ints = [1, ...a.ints];
      else if (a.name === "pads" && a.ints.length === 2)
        a.ints = [0, int64(a.ints[0] as number), 0, int64(a.ints[1] as number)];
    }
    if (node.opType === "Conv" && node.input[1]) weights.add(node.input[1]);
  }
  const lift = (t: { dims: unknown[] }) => {
    if (t.dims.length === 3) t.dims = [t.dims[0], t.dims[1], 1, t.dims[2]];
  };
  for (const t of graph.initializer) if (weights.has(t.name)) lift(t as unknown as { dims: unknown[] });
  for (const node of graph.node) {
    if (node.opType !== "Constant" || !weights.has(node.output[0] ?? "")) continue;
    const value = node.attribute.find((a) => a.name === "value")?.t;
    if (value) lift(value as unknown as { dims: unknown[] });
  }
  for (const node of graph.node) if (node.opType === "Pad") liftPad(graph, node);
  // x.mean(-1) / x.mean(2) of a sequence: the mean over the (height-1) plane.
  for (const node of graph.node) {
    const axes = node.opType === "ReduceMean" ? node.attribute.find((a) => a.name === "axes") : undefined;
    if (axes?.ints.length === 1 && [2, -1].includes(int64(axes.ints[0] as number))) axes.ints = [2, 3];
  }
  return true;
}

/**
 * A Pad of a 1-D tensor, `[b0, b1, b2, e0, e1, e2]`, as the 4-D `[b0, b1, 0, b2, e0, e1, 0, e2]`: from its
 * `pads` attribute (opset < 11) or a constant `pads` input (a new initializer). Other forms (an `axes` input,
 * computed pads) are refused rather than misread.
 */
function liftPad(graph: Graph, node: Graph["node"][number]): void {
  const to4 = (p: number[]) => [p[0], p[1], 0, p[2], p[3], p[4], 0, p[5]] as number[];
  const attr = node.attribute.find((a) => a.name === "pads");
  if (attr && attr.ints.length === 6) {
    attr.ints = to4(attr.ints.map(int64));
    return;
  }
  const name = node.input[1];
  const init = graph.initializer.find((t) => t.name === name);
  const constant = graph.node.find((n) => n.opType === "Constant" && n.output[0] === name);
  const proto = init ?? constant?.attribute.find((a) => a.name === "value")?.t ?? undefined;
  if (!name || node.input[3] || !proto) {
    throw new VerinferError(
      "UNSUPPORTED_LAYER",
      `ONNX node "${node.name}" (Pad) pads a 1-D tensor in a form verinfer does not read`,
      {
        details: "a Pad of a [N, C, L] tensor needs constant pads and no axes input",
      },
    );
  }
  const pads = tensorFromProto(proto as OnnxTensorProto).data;
  if (pads.length !== 6) return;
  const lifted: OnnxTensorProto = {
    name: `${name}_2d`,
    dims: [8],
    dataType: DTYPE.INT64,
    rawData: new Uint8Array(0),
    floatData: [],
    int32Data: [],
    int64Data: to4(pads),
    doubleData: [],
    dataLocation: 0,
  };
  graph.initializer.push(lifted as (typeof graph.initializer)[number]);
  node.input[1] = lifted.name;
}
