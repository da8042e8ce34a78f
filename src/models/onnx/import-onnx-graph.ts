import { VerinferError } from "../../errors.js";
import type { SmoothActivation } from "../layers/piecewise.js";
import { leakShiftOf, MAX_LEAK_SHIFT } from "../network.js";
import { int64, type OnnxModelProto, type OnnxNode } from "./decode-onnx.js";
import { FOLDABLE_OPS, foldConstant, reshapeTarget } from "./fold-constant.js";
import { FUSED_ACTIVATION_OPS, fuseActivations } from "./fuse-activations.js";
import { foldInputAffine, INPUT_AFFINE_OPS, type InputAffine, inputAffineOf } from "./input-affine.js";
import { liftOneDGraph } from "./lift-1d.js";
import {
  BATCH,
  type ConstTensor,
  checkTensorSize,
  DTYPE,
  floatAttr,
  intAttr,
  intsAttr,
  MAX_CONSTANT_ELEMENTS,
  sizeOf,
  stringAttr,
  tensorFromProto,
} from "./onnx-tensor.js";

/** ONNX ops the importer turns into layers (besides the constant ops of {@link FOLDABLE_OPS}). */
export const SUPPORTED_ONNX_OPS = [
  "Conv",
  "Gemm",
  "MatMul",
  "Add",
  "Relu",
  "Clip",
  "LeakyRelu",
  "MaxPool",
  "AveragePool",
  "GlobalAveragePool",
  "ReduceMean",
  "BatchNormalization",
  "Flatten",
  "Reshape",
  "Squeeze",
  "Softmax",
  "LogSoftmax",
  "Sigmoid",
  "Tanh",
  "Softplus",
  "HardSigmoid",
  ...FUSED_ACTIVATION_OPS,
  "Dropout",
  "Identity",
  "Pad",
  "Constant",
  "Shape",
  ...FOLDABLE_OPS.filter((op) => op !== "Constant" && op !== "Identity" && op !== "Add" && op !== "Reshape"),
] as const;

/** The smooth activation of each ONNX op that is one (Gelu reads its `approximate`). */
const SMOOTH_OF: Record<string, SmoothActivation | undefined> = {
  Sigmoid: "sigmoid",
  Tanh: "tanh",
  Softplus: "softplus",
  HardSigmoid: "hardSigmoid",
  Swish: "swish",
};

/** Opsets of the default ONNX domain the importer reads. */
export const ONNX_OPSETS = { min: 9, max: 18 } as const;

/** Zero padding of the height and width axes: `[[top, bottom], [left, right]]`. */
export type Pads2d = [[number, number], [number, number]];

/**
 * One layer of the imported graph, channels-last, in the form tfjs builds. `from`: the tensors it reads (0: the
 * input, k: step k − 1's output) when not the previous step's; merges (`add`, `multiply`, `concatenate` on the
 * channel axis) read two or more.
 */
export type OnnxStep = OnnxStepKind & { from?: number[] };

/** The layer kinds of {@link OnnxStep}. */
export type OnnxStepKind =
  | { kind: "add" | "multiply" | "concatenate"; name: string }
  | {
      kind: "conv2d";
      name: string;
      filters: number;
      kernelSize: [number, number];
      strides: [number, number];
      padding: "valid" | "same";
      /** `[kh][kw][in][out]` flattened row-major (tfjs/Keras HWIO). */
      kernel: Float32Array;
      inChannels: number;
      bias: Float32Array | undefined;
      activation: "linear" | "relu" | "relu6" | SmoothActivation;
    }
  | { kind: "zeroPadding2d"; name: string; padding: Pads2d }
  | {
      kind: "maxPooling2d" | "averagePooling2d";
      name: string;
      poolSize: [number, number];
      strides: [number, number];
      padding: "valid" | "same";
    }
  /** A pooling with explicit pads neither valid nor same: max skips them, average leaves them out of the count. */
  | {
      kind: "paddedPool2d";
      name: string;
      pool: "max" | "avg";
      poolSize: [number, number];
      strides: [number, number];
      pads: Pads2d;
    }
  | { kind: "globalAveragePooling2d"; name: string }
  | {
      kind: "batchNormalization";
      name: string;
      epsilon: number;
      gamma: Float32Array;
      beta: Float32Array;
      mean: Float32Array;
      variance: Float32Array;
    }
  | {
      kind: "dense";
      name: string;
      units: number;
      inputs: number;
      /** `[in][out]` flattened row-major (tfjs/Keras). */
      kernel: Float32Array;
      bias: Float32Array | undefined;
      activation: "linear" | "relu" | "relu6" | "softmax" | SmoothActivation;
    }
  | { kind: "activation"; name: string; activation: "relu" | "relu6" | "softmax" | SmoothActivation }
  /** A LeakyReLU of slope alpha, a power of two (checked on import). */
  | { kind: "leakyRelu"; name: string; alpha: number }
  /** `chwOrder`: permute HWC back to ONNX's CHW order before flattening (tfjs Permute + Flatten). */
  | { kind: "flatten"; name: string; chwOrder: boolean };

/** The importer's result: the tfjs input shape (channels-last, no batch) and the layers. */
export interface OnnxChain {
  /** `[height, width, channels]` for an NCHW input, `[features]` for a 2-D one. */
  inputShape: number[];
  /** The ONNX input's own shape without the batch axis (`[channels, height, width]` or `[features]`). */
  onnxInputShape: number[];
  steps: OnnxStep[];
  opset: number;
  producer: string;
}

interface Problem {
  node: string;
  opType: string;
  why: string;
}

/**
 * The layout of the variable tensor: its ONNX shape (batch first, NaN when symbolic) and how tfjs holds it.
 * `nchw`: tfjs holds `[H, W, C]`. `flat`: `[F]` in ONNX order. `flatChw`: `[H·W·C]` in tfjs (HWC) order while
 * ONNX holds CHW order (after a Flatten of a 4-D tensor). `pooled`: ONNX `[N, C, 1, 1]`, tfjs `[C]`.
 */
type Layout = "nchw" | "flat" | "flatChw" | "pooled";

function supportedList(): string {
  return [...new Set<string>(SUPPORTED_ONNX_OPS)].join(", ");
}

function unsupportedError(problems: Problem[]): VerinferError {
  const list = problems.map((p) => `"${p.node}" (${p.opType}): ${p.why}`);
  return new VerinferError(
    "UNSUPPORTED_LAYER",
    `${problems.length} ONNX node${problems.length === 1 ? "" : "s"} cannot be imported: ${list.join("; ")}`,
    {
      details: `verinfer imports single-chain ONNX graphs (NCHW, opset ${ONNX_OPSETS.min}-${ONNX_OPSETS.max}) of: ${supportedList()}.`,
      meta: { nodes: problems.map((p) => ({ name: p.node, opType: p.opType, reason: p.why })) },
    },
  );
}

function invalid(node: OnnxNode, why: string): VerinferError {
  return new VerinferError("INVALID_MODEL", `ONNX node "${node.name}" (${node.opType}) ${why}`);
}

/** Attribute-level checks that need no shapes: what each supported op accepts. */
function localProblem(node: OnnxNode): string | undefined {
  const dil = intsAttr(node, "dilations");
  switch (node.opType) {
    case "Conv": {
      if (intAttr(node, "group", 1) < 1) return "has a group count below 1";
      if (dil?.some((d) => d !== 1)) return "dilated convolution is not supported";
      const k = intsAttr(node, "kernel_shape");
      if (k && k.length !== 2) return `${k.length}-D convolution is not supported (2-D only)`;
      return undefined;
    }
    case "MaxPool":
    case "AveragePool": {
      if (dil?.some((d) => d !== 1)) return "dilated pooling is not supported";
      if (node.output.length > 1 && node.output[1]) return "the Indices output is not supported";
      if (intAttr(node, "storage_order", 0) !== 0) return "storage_order 1 is not supported";
      const k = intsAttr(node, "kernel_shape");
      if (k?.length !== 2) return "only 2-D pooling is supported";
      return undefined;
    }
    case "Gemm":
      if (intAttr(node, "transA", 0) !== 0) return "transA = 1 is not supported";
      return undefined;
    case "BatchNormalization":
      if (intAttr(node, "training_mode", 0) !== 0) return "training mode is not supported";
      if (node.output.slice(1).some((o) => o)) return "the running-statistics outputs are not supported";
      return undefined;
    case "LeakyRelu": {
      const alpha = floatAttr(node, "alpha", 0.01);
      if (leakShiftOf(alpha) === undefined) {
        return `slope ${alpha} is not proven (verinfer proves LeakyReLU slopes 2^-k for k in 1..${MAX_LEAK_SHIFT})`;
      }
      return undefined;
    }
    case "HardSigmoid": {
      const [alpha, beta] = [floatAttr(node, "alpha", 0.2), floatAttr(node, "beta", 0.5)];
      if (Math.abs(alpha - 0.2) > 1e-6 || Math.abs(beta - 0.5) > 1e-6)
        return `HardSigmoid(alpha ${alpha}, beta ${beta}) is not proven (only tfjs's 0.2·x + 0.5)`;
      return undefined;
    }
    case "Gelu":
      if (!["none", "tanh"].includes(stringAttr(node, "approximate", "none")))
        return `approximate "${stringAttr(node, "approximate", "")}" is not supported`;
      return undefined;
    case "Pad":
      if (stringAttr(node, "mode", "constant") !== "constant")
        return `mode "${stringAttr(node, "mode", "")}" is not supported`;
      return undefined;
    default:
      return undefined;
  }
}

interface Live {
  name: string;
  shape: number[];
  layout: Layout;
  /** For `flatChw`: the [C, H, W] the Flatten saw, and the index of its step. */
  chw?: { c: number; h: number; w: number; step: number };
}

/** What the importer knows of a tensor of the graph: its layout, the step that made it, a Pad still to apply. */
interface TensorState {
  live: Live;
  curStep: number;
  pendingPad: Pads2d | undefined;
}

/** ONNX merges of variable tensors, and the tfjs merge each becomes. */
const ONNX_MERGES: Record<string, "add" | "multiply" | "concatenate"> = {
  Add: "add",
  Mul: "multiply",
  Sum: "add",
  Concat: "concatenate",
};

/** How many nodes (and the graph output) read each tensor. */
function onnxReaders(nodes: readonly OnnxNode[], output: string | undefined): Map<string, number> {
  const readers = new Map<string, number>();
  const read = (t: string) => readers.set(t, (readers.get(t) ?? 0) + 1);
  for (const node of nodes) for (const t of new Set(node.input)) if (t) read(t);
  if (output) read(output);
  return readers;
}

/**
 * A merge of variable tensors: `Add`/`Sum`/`Mul` of tensors of one shape (no broadcasting), `Concat` on the channel
 * axis of NCHW tensors or the feature axis of [batch, features] ones. Inputs in a layout the channels-last graph
 * cannot merge as they are (features flattened from CHW order, a pending Pad) are refused.
 */
function mergeStep(
  node: OnnxNode,
  states: readonly (TensorState | undefined)[],
  opset: number,
  structural: (node: OnnxNode, why: string) => VerinferError,
): { step: OnnxStep; live: Live } {
  const kind = ONNX_MERGES[node.opType] as "add" | "multiply" | "concatenate";
  if (states.some((s) => !s)) throw structural(node, "reads a tensor computed after it");
  const ins = states as TensorState[];
  const [first] = ins as [TensorState];
  if (kind === "multiply" && ins.length !== 2) throw structural(node, "multiplies more than two tensors");
  if (ins.some((s) => s.pendingPad)) throw structural(node, "merges a tensor that a Pad node pads");
  const layout = first.live.layout;
  if (ins.some((s) => s.live.layout !== layout) || layout === "flatChw" || layout === "pooled") {
    throw structural(node, "merges tensors of different layouts (flatten both the same way first)");
  }
  const shapes = ins.map((s) => s.live.shape);
  const rank = first.live.shape.length;
  let shape: number[];
  if (kind === "concatenate") {
    const raw = intAttr(node, "axis", opset < 4 ? 1 : Number.NaN);
    const axis = raw < 0 ? raw + rank : raw;
    if (axis !== 1)
      throw structural(node, `concatenates along axis ${raw}; only the channel/feature axis 1 is supported`);
    const rest = (sh: number[]) => sh.filter((_d, i) => i !== 1).join();
    if (shapes.some((sh) => sh.length !== rank || rest(sh) !== rest(first.live.shape))) {
      throw structural(node, "concatenates tensors whose other axes differ");
    }
    shape = first.live.shape.slice();
    shape[1] = shapes.reduce((a, sh) => a + (sh[1] as number), 0);
  } else {
    if (shapes.some((sh) => sh.join() !== first.live.shape.join())) {
      throw structural(node, "merges tensors of different shapes (broadcasting is not supported)");
    }
    shape = first.live.shape.slice();
  }
  return {
    step: { kind, name: node.name, from: ins.map((s) => s.curStep) },
    live: { name: node.output[0] as string, shape, layout },
  };
}

function f32(t: ConstTensor): Float32Array {
  return Float32Array.from(t.data);
}

/**
 * Reads an ONNX ModelProto into a chain of channels-last layers: folds constants and the shape arithmetic around
 * Reshape, converts NCHW weights to tfjs layouts, and checks every node first.
 *
 * @throws VerinferError `UNSUPPORTED_LAYER` naming every unsupported node (name, op type, reason) before any
 *   conversion; `INVALID_MODEL` for a graph that is not a valid single-input single-output chain.
 * @example
 * ```ts
 * const chain = importOnnxGraph(decodeOnnx(bytes));
 * console.log(chain.inputShape, chain.steps.map((s) => s.kind));
 * ```
 */
export function importOnnxGraph(model: OnnxModelProto): OnnxChain {
  const graph = model.graph;
  if (!graph) throw new VerinferError("INVALID_MODEL", "the ONNX model holds no graph");
  liftOneDGraph(graph);
  const opsetEntry = model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx");
  const opset = opsetEntry ? int64(opsetEntry.version) : 0;
  if (opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
    throw new VerinferError("INVALID_MODEL", `the ONNX model uses opset ${opset}`, {
      details: `verinfer reads opsets ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max} of the default ONNX domain`,
    });
  }

  // GELU and SiLU as exporters spell them (Erf, Sigmoid·x subgraphs) become one node each, named as the user wrote.
  fuseActivations(graph, opset);
  // 1. Every node checked before anything is built, so that one error names them all.
  const known = new Set<string>(SUPPORTED_ONNX_OPS);
  const problems: Problem[] = [];
  graph.node.forEach((node, i) => {
    if (!node.name) node.name = `${node.opType}_${i}`;
    if (node.domain && node.domain !== "ai.onnx") {
      problems.push({ node: node.name, opType: `${node.domain}.${node.opType}`, why: "custom domain" });
    } else if (node.opType === "Erf") {
      problems.push({
        node: node.name,
        opType: "Erf",
        why: "an Erf outside a GELU: verinfer proves GELU as exported, x·0.5·(1 + erf(x/√2)), and no Erf alone",
      });
    } else if (!known.has(node.opType)) {
      problems.push({ node: node.name, opType: node.opType, why: "op not supported" });
    } else {
      const why = localProblem(node);
      if (why) problems.push({ node: node.name, opType: node.opType, why });
    }
  });
  if (problems.length > 0) throw unsupportedError(problems);

  // 2. Constants: initializers (also listed as graph inputs in IR < 4) and folded nodes.
  const consts = new Map<string, ConstTensor>();
  let constElements = 0;
  /** Keeps a constant, within {@link MAX_CONSTANT_ELEMENTS} for the whole model. */
  const setConst = (name: string, t: ConstTensor, owner: string) => {
    constElements += t.data.length;
    if (constElements > MAX_CONSTANT_ELEMENTS) {
      throw new VerinferError(
        "INVALID_MODEL",
        `${owner} brings the model's constants to ${constElements} elements, more than verinfer imports`,
        {
          details: `all constants together hold at most ${MAX_CONSTANT_ELEMENTS} elements`,
          meta: { elements: constElements },
        },
      );
    }
    consts.set(name, t);
  };
  for (const t of graph.initializer) setConst(t.name, tensorFromProto(t), `ONNX initializer "${t.name}"`);
  const liveInputs = graph.input.filter((v) => !consts.has(v.name));
  if (liveInputs.length !== 1 || graph.output.length !== 1) {
    throw new VerinferError(
      "INVALID_MODEL",
      "the ONNX graph must have exactly one (non-initializer) input and one output",
      {
        details: `inputs: ${liveInputs.map((v) => v.name).join(", ")}; outputs: ${graph.output.map((v) => v.name).join(", ")}`,
      },
    );
  }
  const input = liveInputs[0] as (typeof liveInputs)[number];
  const tensorType = input.type?.tensorType;
  if (!tensorType || tensorType.elemType !== DTYPE.FLOAT) {
    throw new VerinferError("INVALID_MODEL", `ONNX input "${input.name}" must be a float32 tensor`);
  }
  const dims = (tensorType.shape?.dim ?? []).map((d) =>
    d.dimValue !== undefined && int64(d.dimValue) > 0 ? int64(d.dimValue) : BATCH,
  );
  const features = dims.slice(1);
  if ((dims.length !== 2 && dims.length !== 4) || features.some((d) => Number.isNaN(d))) {
    throw new VerinferError(
      "INVALID_MODEL",
      `ONNX input "${input.name}" has shape [${dims.map((d) => (Number.isNaN(d) ? "?" : d))}]`,
      {
        details: "verinfer reads [batch, features] and NCHW [batch, channels, height, width] inputs with fixed sizes",
      },
    );
  }
  checkTensorSize(`ONNX input "${input.name}"`, features);
  const onnxInputShape = features;
  const inputShape = dims.length === 4 ? ([features[1], features[2], features[0]] as number[]) : features;
  let live: Live = { name: input.name, shape: dims, layout: dims.length === 4 ? "nchw" : "flat" };
  const shapes = new Map<string, number[]>([[input.name, dims]]);
  const steps: OnnxStep[] = [];
  let pendingPad: Pads2d | undefined;
  /** An input normalization ((x − mean) / std) waiting for the Gemm/MatMul it folds into. */
  let inputAffine: InputAffine | undefined;
  let lastLiveNode: OnnxNode | undefined;

  const constOf = (name: string | undefined) => (name ? consts.get(name) : undefined);
  const requireConst = (node: OnnxNode, i: number, what: string): ConstTensor => {
    const t = constOf(node.input[i]);
    if (!t) throw unsupportedError([{ node: node.name, opType: node.opType, why: `${what} must be a constant` }]);
    return t;
  };
  const structural = (node: OnnxNode, why: string) => unsupportedError([{ node: node.name, opType: node.opType, why }]);
  const lastStep = () => steps[steps.length - 1];
  /** The live tensor's features (the batch aside), refused over {@link MAX_TENSOR_ELEMENTS}. */
  const checkLive = (node: OnnxNode) =>
    checkTensorSize(
      `ONNX node "${node.name}" (${node.opType})`,
      live.shape.filter((d) => !Number.isNaN(d)),
    );
  const flushPad = (node: OnnxNode) => {
    if (pendingPad) {
      pushStep({ kind: "zeroPadding2d", name: `${node.name}_pad`, padding: pendingPad });
      const [[t, b], [l, r]] = pendingPad;
      live.shape = [
        live.shape[0] as number,
        live.shape[1] as number,
        (live.shape[2] as number) + t + b,
        (live.shape[3] as number) + l + r,
      ];
      checkLive(node);
      pendingPad = undefined;
    }
  };
  /** Ends a `flatChw` layout by permuting back to ONNX order before the Flatten (exact, costs a Permute layer). */
  const toOnnxOrder = () => {
    if (live.layout === "flatChw" && live.chw) {
      const step = steps[live.chw.step];
      if (step?.kind === "flatten") step.chwOrder = true;
      live = { ...live, layout: "flat" };
      delete live.chw;
    }
  };
  /** The tfjs order of the features ONNX numbers `r` (CHW) after a Flatten: row permutation for Dense/BN. */
  const featureOrder = (): number[] | undefined => {
    if (live.layout !== "flatChw" || !live.chw) return undefined;
    const { c, h, w } = live.chw;
    // tfjs feature t = (y·W + x)·C + ch holds ONNX feature ch·H·W + y·W + x.
    const order = new Array<number>(c * h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) order[(y * w + x) * c + ch] = ch * h * w + y * w + x;
    return order;
  };
  const setActivation = (node: OnnxNode, activation: "relu" | "relu6" | "softmax" | SmoothActivation) => {
    const prev = lastStep();
    // relu6 after relu is relu6 (PyTorch's F.relu6 exports as Relu then Clip(0, 6)): one activation, one rescale.
    if (!fusable()) {
      flushPad(node);
      pushStep({ kind: "activation", name: node.name, activation });
      return;
    }
    if (!pendingPad && activation === "relu6" && prev && "activation" in prev && prev.activation === "relu") {
      prev.activation = "relu6";
      return;
    }
    if (!pendingPad && prev?.kind === "dense" && prev.activation === "linear") {
      prev.activation = activation;
      return;
    }
    if (!pendingPad && prev?.kind === "conv2d" && prev.activation === "linear" && activation !== "softmax") {
      prev.activation = activation;
      return;
    }
    flushPad(node);
    pushStep({ kind: "activation", name: node.name, activation });
  };

  // The graph: what each tensor is (its layout, the step that made it, a Pad still to apply) and how many nodes
  // read it. A tensor read by several nodes is a branch; nothing is folded into the step that made it.
  let curStep = 0;
  const pushStep = (step: OnnxStep) => {
    if (curStep !== steps.length) step.from = [curStep];
    steps.push(step);
    curStep = steps.length;
  };
  const readers = onnxReaders(graph.node, graph.output[0]?.name);
  const saved = new Map<string, TensorState>([[input.name, { live: { ...live }, curStep, pendingPad }]]);
  /** Whether the live tensor is the last step's output and read by this node only: an activation may fuse in. */
  const fusable = () => curStep === steps.length && (readers.get(live.name) ?? 0) <= 1;

  for (const node of graph.node) {
    // What the previous node made of the live tensor is bounded before this one builds on it.
    if (lastLiveNode) checkLive(lastLiveNode);
    const ins = node.input.map((n) => (n ? n : undefined));
    const liveIns = ins.filter((n): n is string => n !== undefined && !consts.has(n));
    if (node.opType === "Constant" || (node.opType !== "Shape" && liveIns.length === 0)) {
      if (!(FOLDABLE_OPS as readonly string[]).includes(node.opType)) {
        throw structural(node, "has only constant inputs and is not one of the foldable ops");
      }
      const folded = foldConstant(node, ins.map(constOf), opset);
      setConst(node.output[0] as string, folded, `ONNX node "${node.name}" (${node.opType})`);
      continue;
    }
    if (node.opType === "Shape") {
      const shape = shapes.get(node.input[0] as string) ?? constOf(node.input[0])?.dims;
      if (!shape) throw invalid(node, "reads the shape of an unknown tensor");
      const rank = shape.length;
      const norm = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
      const part = shape.slice(norm(intAttr(node, "start", 0)), norm(intAttr(node, "end", rank)));
      setConst(node.output[0] as string, { dims: [part.length], data: part, kind: "int" }, `ONNX node "${node.name}"`);
      continue;
    }
    if (liveIns.length > 1 && ONNX_MERGES[node.opType]) {
      lastLiveNode = node;
      const merged = mergeStep(
        node,
        liveIns.map((t) => saved.get(t)),
        opset,
        structural,
      );
      steps.push(merged.step);
      live = merged.live;
      curStep = steps.length;
      pendingPad = undefined;
      shapes.set(node.output[0] as string, live.shape.slice());
      saved.set(live.name, { live: { ...live }, curStep, pendingPad });
      continue;
    }
    if (liveIns.length !== 1) throw structural(node, "reads several variable tensors and is not a merge");
    if (liveIns[0] !== live.name) {
      // A branch: this node reads an earlier tensor.
      const state = saved.get(liveIns[0] as string);
      if (!state) throw structural(node, "reads a tensor computed after it");
      live = { ...state.live };
      curStep = state.curStep;
      pendingPad = state.pendingPad;
    }
    lastLiveNode = node;
    const out = node.output[0] as string;
    const [n, c, h, w] = live.shape as [number, number, number, number];
    const affineOp = (INPUT_AFFINE_OPS as readonly string[]).includes(node.opType);
    const atInput = !steps.some((st) => st.kind === "dense" || st.kind === "conv2d");
    if (affineOp && atInput) {
      // Add/Sub/Mul/Div by a constant before the first weighted layer: an input normalization, folded into it.
      if (live.layout !== "flat" || live.shape.length !== 2) {
        throw structural(node, "normalizes a tensor that is not [batch, features]; only flat inputs are folded");
      }
      const k = ins.findIndex((x) => x !== undefined && x !== live.name);
      const next = inputAffineOf({
        prev: inputAffine,
        op: node.opType as (typeof INPUT_AFFINE_OPS)[number],
        constant: requireConst(node, k, "the other operand"),
        constantFirst: k === 0,
        features: live.shape[1] as number,
      });
      if (typeof next === "string") throw structural(node, next);
      inputAffine = next;
      shapes.set(out, live.shape.slice());
      live.name = out;
      continue;
    }
    if (inputAffine && node.opType !== "Gemm" && node.opType !== "MatMul" && node.opType !== "Identity") {
      throw structural(
        node,
        "follows an input normalization; verinfer folds one only into a Gemm/MatMul right after it",
      );
    }
    switch (node.opType) {
      case "Identity":
        break;
      case "Dropout": {
        const training = ins[2] ? constOf(ins[2]) : undefined;
        if (ins[2] && training?.data[0] !== 0) throw structural(node, "runs in training mode");
        if (node.output.slice(1).some((o) => o) && graph.node.some((m) => m.input.includes(node.output[1] as string))) {
          throw structural(node, "its mask output is used");
        }
        break;
      }
      case "Relu":
        setActivation(node, "relu");
        break;
      case "Clip": {
        const lo = opset < 11 ? floatAttr(node, "min", -Infinity) : (constOf(ins[1])?.data[0] ?? -Infinity);
        const hi = opset < 11 ? floatAttr(node, "max", Infinity) : (constOf(ins[2])?.data[0] ?? Infinity);
        if ((ins[1] && !constOf(ins[1])) || (ins[2] && !constOf(ins[2])))
          throw structural(node, "min/max must be constants");
        if (lo === 0 && hi === Infinity) setActivation(node, "relu");
        else if (lo === 0 && hi === 6) setActivation(node, "relu6");
        else
          throw structural(node, `Clip(${lo}, ${hi}) is not supported (only Clip(0, ∞) as ReLU, Clip(0, 6) as ReLU6)`);
        break;
      }
      case "Sigmoid":
      case "Tanh":
      case "Softplus":
      case "HardSigmoid":
      case "Swish":
      case "Gelu":
        setActivation(
          node,
          SMOOTH_OF[node.opType] ?? (stringAttr(node, "approximate", "none") === "tanh" ? "gelu_new" : "gelu"),
        );
        break;
      case "LeakyRelu":
        flushPad(node);
        pushStep({ kind: "leakyRelu", name: node.name, alpha: floatAttr(node, "alpha", 0.01) });
        break;
      case "Pad": {
        if (live.layout !== "nchw") throw structural(node, "pads a tensor that is not NCHW");
        const pads = opset < 11 ? (intsAttr(node, "pads") ?? []) : requireConst(node, 1, "pads").data;
        const value = opset < 11 ? floatAttr(node, "value", 0) : (constOf(ins[2])?.data[0] ?? 0);
        if (ins[2] && !constOf(ins[2])) throw structural(node, "the pad value must be a constant");
        if (value !== 0) throw structural(node, `pads with ${value}; only zero padding is supported`);
        const axes = ins[3] ? requireConst(node, 3, "axes").data.map((a) => (a < 0 ? a + 4 : a)) : [0, 1, 2, 3];
        const full = new Array<number>(8).fill(0);
        axes.forEach((a, i) => {
          full[a] = pads[i] as number;
          full[a + 4] = pads[i + axes.length] as number;
        });
        if (full.some((p) => p < 0)) throw structural(node, "has negative pads (cropping)");
        if (full[0] || full[1] || full[4] || full[5]) throw structural(node, "pads the batch or channel axis");
        const prev = pendingPad ?? [
          [0, 0],
          [0, 0],
        ];
        const next: Pads2d = [
          [prev[0][0] + (full[2] as number), prev[0][1] + (full[6] as number)],
          [prev[1][0] + (full[3] as number), prev[1][1] + (full[7] as number)],
        ];
        pendingPad = next.flat().some((p) => p > 0) ? next : undefined;
        break;
      }
      case "Conv": {
        if (live.layout !== "nchw") throw structural(node, "convolves a tensor that is not NCHW");
        const weight = ungroupedWeight(node, requireConst(node, 1, "the weight"), c);
        const bias = ins[2] ? requireConst(node, 2, "the bias") : undefined;
        const [o, i, kh, kw] = weight.dims as [number, number, number, number];
        if (weight.dims.length !== 4 || i !== c)
          throw invalid(node, `has weights [${weight.dims}] for ${c} input channels`);
        if (bias && bias.data.length !== o) throw invalid(node, `has ${bias.data.length} biases for ${o} filters`);
        const k = intsAttr(node, "kernel_shape");
        if (k && (k[0] !== kh || k[1] !== kw))
          throw invalid(node, "has a kernel_shape that does not match its weights");
        const s = (intsAttr(node, "strides") ?? [1, 1]) as [number, number];
        const padding = windowPadding(node, [h, w], [kh, kw], s, pendingPad);
        pendingPad = undefined;
        if (padding.zeroPad) {
          pendingPad = padding.zeroPad;
          flushPad(node);
        }
        const kernel = new Float32Array(kh * kw * i * o);
        for (let oc = 0; oc < o; oc++)
          for (let ic = 0; ic < i; ic++)
            for (let y = 0; y < kh; y++)
              for (let x = 0; x < kw; x++)
                kernel[((y * kw + x) * i + ic) * o + oc] = weight.data[((oc * i + ic) * kh + y) * kw + x] as number;
        pushStep({
          kind: "conv2d",
          name: node.name,
          filters: o,
          kernelSize: [kh, kw],
          strides: s,
          padding: padding.padding,
          kernel,
          inChannels: i,
          bias: bias ? f32(bias) : undefined,
          activation: "linear",
        });
        const [[pt, pb], [pl, pr]] = padding.pads;
        live.shape = [n, o, Math.floor((h + pt + pb - kh) / s[0]) + 1, Math.floor((w + pl + pr - kw) / s[1]) + 1];
        break;
      }
      case "MaxPool":
      case "AveragePool": {
        if (live.layout !== "nchw") throw structural(node, "pools a tensor that is not NCHW");
        const k = intsAttr(node, "kernel_shape") as [number, number];
        const s = (intsAttr(node, "strides") ?? [1, 1]) as [number, number];
        const includePad = node.opType === "AveragePool" && intAttr(node, "count_include_pad", 0) === 1;
        // A Pad node's zeros are values: they stay as ZeroPadding2D. A pool's own pads are not (MaxPool ignores
        // them, AveragePool leaves them out of the count unless count_include_pad), which is tfjs's "same".
        flushPad(node);
        const [H, W] = [live.shape[2] as number, live.shape[3] as number];
        const own = windowPadding(node, [H, W], k, s, undefined);
        if (own.zeroPad && !includePad) {
          pushStep(paddedPoolStep(node, k, s, own.zeroPad));
          live.shape = [n, c, ...windowOut([H, W], k, s, own.zeroPad)];
          break;
        }
        if (own.padding === "same" && includePad) {
          pendingPad = own.pads;
          own.padding = "valid";
        } else if (own.zeroPad) pendingPad = own.zeroPad;
        const [[pt, pb], [pl, pr]] = own.pads;
        const outFloor = [Math.floor((H + pt + pb - k[0]) / s[0]) + 1, Math.floor((W + pl + pr - k[1]) / s[1]) + 1];
        const outCeil = [Math.ceil((H + pt + pb - k[0]) / s[0]) + 1, Math.ceil((W + pl + pr - k[1]) / s[1]) + 1];
        if (intAttr(node, "ceil_mode", 0) === 1 && (outCeil[0] !== outFloor[0] || outCeil[1] !== outFloor[1])) {
          throw structural(node, "ceil_mode changes the output size");
        }
        flushPad(node);
        pushStep({
          kind: node.opType === "MaxPool" ? "maxPooling2d" : "averagePooling2d",
          name: node.name,
          poolSize: k,
          strides: s,
          padding: own.padding,
        });
        live.shape = [n, c, outFloor[0] as number, outFloor[1] as number];
        break;
      }
      case "GlobalAveragePool":
        if (live.layout !== "nchw") throw structural(node, "pools a tensor that is not NCHW");
        flushPad(node);
        pushStep({ kind: "globalAveragePooling2d", name: node.name });
        live = { name: live.name, shape: [n, c, 1, 1], layout: "pooled" };
        break;
      case "ReduceMean": {
        // x.mean((2, 3)): global average pooling by another name.
        if (live.layout !== "nchw" || !reducesPlane(node, opset, constOf(ins[1])?.data)) {
          throw structural(node, "only a mean over the height and width axes (2, 3) of an NCHW tensor is supported");
        }
        flushPad(node);
        pushStep({ kind: "globalAveragePooling2d", name: node.name });
        const keep = intAttr(node, "keepdims", 1) === 1;
        live = keep
          ? { name: live.name, shape: [n, c, 1, 1], layout: "pooled" }
          : { name: live.name, shape: [n, c], layout: "flat" };
        break;
      }
      case "BatchNormalization": {
        const [scale, b, mean, variance] = [1, 2, 3, 4].map((k) =>
          requireConst(node, k, "every statistic"),
        ) as ConstTensor[];
        const channels = live.layout === "nchw" || live.layout === "pooled" ? c : (live.shape[1] as number);
        if ([scale, b, mean, variance].some((t) => t?.data.length !== channels))
          throw invalid(node, `needs ${channels} values per statistic`);
        const order = featureOrder();
        const arrange = (t: ConstTensor) => (order ? Float32Array.from(order, (r) => t.data[r] as number) : f32(t));
        flushPad(node);
        pushStep({
          kind: "batchNormalization",
          name: node.name,
          epsilon: floatAttr(node, "epsilon", 1e-5),
          gamma: arrange(scale as ConstTensor),
          beta: arrange(b as ConstTensor),
          mean: arrange(mean as ConstTensor),
          variance: arrange(variance as ConstTensor),
        });
        break;
      }
      case "Flatten":
      case "Reshape":
      case "Squeeze": {
        let target: number[];
        if (node.opType === "Flatten") {
          const axis = intAttr(node, "axis", 1);
          const a = axis < 0 ? axis + live.shape.length : axis;
          if (a !== 1) throw structural(node, `flattens at axis ${axis}; only axis 1 (keep the batch) is supported`);
          target = [n, sizeOf(live.shape.slice(1))];
        } else if (node.opType === "Reshape") {
          target = reshapeTarget(node, live.shape, requireConst(node, 1, "the shape").data);
        } else {
          const axes = opset >= 13 ? constOf(ins[1])?.data : intsAttr(node, "axes");
          const norm = (axes ?? live.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) =>
            a < 0 ? a + live.shape.length : a,
          );
          if (norm.includes(0) || norm.some((a) => live.shape[a] !== 1))
            throw structural(node, "squeezes the batch axis or an axis of size > 1");
          target = live.shape.filter((_, i) => !norm.includes(i));
        }
        const sameBatch = Object.is(target[0], n) || target[0] === n;
        if (target.length === live.shape.length && target.every((d, i) => Object.is(d, live.shape[i]))) break;
        if (!sameBatch || target.length !== 2)
          throw structural(
            node,
            `reshapes [${live.shape}] to [${target}]; only flattening to [batch, features] is supported`,
          );
        flushPad(node);
        if (live.layout === "nchw") {
          const step = steps.length;
          pushStep({ kind: "flatten", name: node.name, chwOrder: false });
          // With one channel, or a 1×1 plane, CHW and HWC orders coincide.
          const layout: Layout = c === 1 || h * w === 1 ? "flat" : "flatChw";
          live = {
            name: live.name,
            shape: target,
            layout,
            ...(layout === "flatChw" ? { chw: { c, h, w, step } } : {}),
          };
        } else if (live.layout === "pooled") {
          live = { name: live.name, shape: target, layout: "flat" };
        }
        break;
      }
      case "Gemm":
      case "MatMul": {
        if (live.layout === "nchw" || live.layout === "pooled" || live.shape.length !== 2) {
          throw structural(node, `multiplies a rank-${live.shape.length} tensor; flatten it first`);
        }
        flushPad(node);
        const bMat = requireConst(node, 1, "the weight matrix");
        const transB = node.opType === "Gemm" && intAttr(node, "transB", 0) === 1;
        if (bMat.dims.length !== 2) throw structural(node, "needs a 2-D weight matrix");
        const [rows, cols] = bMat.dims as [number, number];
        const [kIn, units] = transB ? [cols, rows] : [rows, cols];
        const features = live.shape[1] as number;
        if (kIn !== features) throw invalid(node, `has a ${rows}×${cols} weight for ${features} inputs`);
        const alpha = node.opType === "Gemm" ? floatAttr(node, "alpha", 1) : 1;
        const order = featureOrder() ?? Array.from({ length: kIn }, (_, r) => r);
        const kernel = new Float32Array(kIn * units);
        for (let t = 0; t < kIn; t++) {
          const r = order[t] as number;
          for (let u = 0; u < units; u++)
            kernel[t * units + u] = alpha * (bMat.data[transB ? u * kIn + r : r * units + u] as number);
        }
        let bias: Float32Array | undefined;
        if (node.opType === "Gemm" && ins[2]) {
          const cT = requireConst(node, 2, "the bias");
          const beta = floatAttr(node, "beta", 1);
          if (cT.data.length !== units && cT.data.length !== 1)
            throw structural(node, `has a bias of shape [${cT.dims}]; only per-unit bias is supported`);
          bias = Float32Array.from(
            { length: units },
            (_, u) => beta * (cT.data[cT.data.length === 1 ? 0 : u] as number),
          );
        }
        if (inputAffine) {
          const folded = foldInputAffine({ affine: inputAffine, kernel, bias, units });
          inputAffine = undefined;
          pushStep({ kind: "dense", name: node.name, units, inputs: kIn, ...folded, activation: "linear" });
        } else pushStep({ kind: "dense", name: node.name, units, inputs: kIn, kernel, bias, activation: "linear" });
        live = { name: live.name, shape: [n, units], layout: "flat" };
        break;
      }
      case "Add": {
        // A bias: after MatMul (per unit) or Conv (per channel), when that layer has no bias and no activation yet.
        const cT = constOf(ins.find((x) => x !== live.name));
        const prev = lastStep();
        if (
          !cT ||
          !prev ||
          !fusable() ||
          (prev.kind !== "dense" && prev.kind !== "conv2d") ||
          prev.activation !== "linear" ||
          pendingPad
        ) {
          throw structural(node, "only adds a constant bias right after MatMul, Gemm or Conv");
        }
        const units = prev.kind === "dense" ? prev.units : prev.filters;
        const perUnit =
          prev.kind === "dense"
            ? cT.data.length === units || cT.data.length === 1
            : sizeOf(cT.dims) === units && cT.dims.slice(-2).every((d) => d === 1);
        if (!perUnit)
          throw structural(
            node,
            `adds a constant of shape [${cT.dims}], not a per-${prev.kind === "dense" ? "unit" : "channel"} bias`,
          );
        const add = Float32Array.from({ length: units }, (_, u) => cT.data[cT.data.length === 1 ? 0 : u] as number);
        prev.bias = prev.bias ? prev.bias.map((v, u) => v + (add[u] as number)) : add;
        break;
      }
      case "LogSoftmax":
      case "Softmax": {
        if (live.layout === "nchw" || live.shape.length !== 2)
          throw structural(node, "is applied to a tensor that is not [batch, classes]");
        const axis = intAttr(node, "axis", opset < 13 ? 1 : -1);
        if (axis !== 1 && axis !== -1) throw structural(node, `softmax over axis ${axis} is not supported`);
        if (out !== graph.output[0]?.name)
          throw structural(node, "is not the last node; softmax is only supported as the output");
        toOnnxOrder();
        setActivation(node, "softmax");
        break;
      }
      default:
        throw structural(node, "op not supported on the variable path");
    }
    if (live.shape.slice(1).some((d) => !Number.isInteger(d) || d <= 0)) {
      throw invalid(node, `gives a tensor of shape [${live.shape.slice(1)}] (a window larger than its input?)`);
    }
    shapes.set(out, live.shape.slice());
    live.name = out;
    saved.set(out, { live: { ...live }, curStep, pendingPad });
  }
  const outputName = graph.output[0]?.name;
  const outState = outputName === undefined ? undefined : saved.get(outputName);
  if (outState && outputName !== live.name) {
    live = { ...outState.live };
    curStep = outState.curStep;
    pendingPad = outState.pendingPad;
  }
  if (curStep !== steps.length) {
    throw new VerinferError("INVALID_MODEL", `the ONNX graph output "${outputName}" is not its last layer's output`);
  }
  if (outputName !== live.name) {
    throw new VerinferError(
      "INVALID_MODEL",
      `the ONNX graph output "${outputName}" is not the end of its chain "${live.name}"`,
    );
  }
  if (!lastLiveNode) throw new VerinferError("INVALID_MODEL", "the ONNX graph computes nothing from its input");
  if (inputAffine) throw structural(lastLiveNode, "normalizes the input but no Gemm/MatMul reads it");
  checkLive(lastLiveNode);
  if (pendingPad) throw structural(lastLiveNode, "pads the output; a Pad must be followed by a layer");
  toOnnxOrder();
  if (live.layout === "nchw" || live.layout === "pooled") {
    throw new VerinferError("UNSUPPORTED_LAYER", "the ONNX graph's output is a 4-D tensor", {
      details: "verinfer proves models whose output is [batch, features]; end the graph with Flatten/Gemm",
    });
  }
  return {
    inputShape,
    onnxInputShape,
    steps,
    opset,
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
  };
}

/** Whether a ReduceMean averages exactly the axes 2 and 3 (attribute before opset 18, input from 18). */
function reducesPlane(node: OnnxNode, opset: number, axesInput: readonly number[] | undefined): boolean {
  const axes = opset >= 18 ? axesInput : intsAttr(node, "axes");
  if (!axes) return false;
  const norm = [...new Set(axes.map((a) => (a < 0 ? a + 4 : a)))].sort();
  return norm.length === 2 && norm[0] === 2 && norm[1] === 3;
}

/**
 * A grouped (or depthwise) Conv's `[O, C/g, kh, kw]` weight as the full `[O, C, kh, kw]` one, zero outside each output
 * channel's group: the same convolution, and the zeros cost nothing in the circuit (weights are constants of its
 * linear combinations). `group` = 1 returns the weight unchanged.
 */
function ungroupedWeight(node: OnnxNode, weight: ConstTensor, channels: number): ConstTensor {
  const g = intAttr(node, "group", 1);
  if (g === 1 || weight.dims.length !== 4) return weight;
  const [o, ig, kh, kw] = weight.dims as [number, number, number, number];
  if (ig * g !== channels || o % g !== 0) {
    throw invalid(node, `has ${g} groups and weights [${weight.dims}] for ${channels} input channels`);
  }
  checkTensorSize(`ONNX node "${node.name}" (Conv) as an ungrouped convolution`, [o, channels, kh, kw]);
  const data = new Array<number>(o * channels * kh * kw).fill(0);
  const perGroup = o / g;
  for (let oc = 0; oc < o; oc++) {
    const first = Math.floor(oc / perGroup) * ig;
    for (let j = 0; j < ig; j++)
      for (let t = 0; t < kh * kw; t++)
        data[(oc * channels + first + j) * kh * kw + t] = weight.data[(oc * ig + j) * kh * kw + t] as number;
  }
  return { dims: [o, channels, kh, kw], data, kind: weight.kind };
}

/** A MaxPool / AveragePool (count_include_pad = 0) whose own pads are neither valid nor Keras "same". */
function paddedPoolStep(node: OnnxNode, poolSize: [number, number], strides: [number, number], pads: Pads2d): OnnxStep {
  if (intAttr(node, "ceil_mode", 0) === 1) {
    throw unsupportedError([{ node: node.name, opType: node.opType, why: "ceil_mode with explicit pads" }]);
  }
  return {
    kind: "paddedPool2d",
    name: node.name,
    pool: node.opType === "MaxPool" ? "max" : "avg",
    poolSize,
    strides,
    pads,
  };
}

/** The output height and width of a window over a padded plane (ONNX floors). */
function windowOut(size: [number, number], k: [number, number], s: [number, number], pads: Pads2d): [number, number] {
  return [
    Math.floor((size[0] + pads[0][0] + pads[0][1] - k[0]) / s[0]) + 1,
    Math.floor((size[1] + pads[1][0] + pads[1][1] - k[1]) / s[1]) + 1,
  ];
}

function ownPads(node: OnnxNode): Pads2d | undefined {
  const p = intsAttr(node, "pads");
  if (!p || p.every((v) => v === 0)) return undefined;
  return [
    [p[0] as number, p[2] as number],
    [p[1] as number, p[3] as number],
  ];
}

/**
 * Conv/pool padding in tfjs terms: the node's own pads (or auto_pad) plus a preceding Pad node's, as "valid",
 * Keras "same" (total `max((out−1)·s + k − size, 0)`, the odd one at the bottom/right), or explicit zero padding
 * and "valid".
 */
function windowPadding(
  node: OnnxNode,
  size: [number, number],
  kernel: [number, number],
  strides: [number, number],
  extra: Pads2d | undefined,
): { padding: "valid" | "same"; pads: Pads2d; zeroPad?: Pads2d } {
  const autoPad = stringAttr(node, "auto_pad", "NOTSET");
  let pads: Pads2d = ownPads(node) ?? [
    [0, 0],
    [0, 0],
  ];
  const same = ([0, 1] as const).map((a) => {
    const out = Math.ceil(size[a] / strides[a]);
    const total = Math.max((out - 1) * strides[a] + kernel[a] - size[a], 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as [number, number];
  }) as Pads2d;
  if (autoPad === "SAME_UPPER") pads = same;
  else if (autoPad === "SAME_LOWER") pads = [same[0].slice().reverse(), same[1].slice().reverse()] as Pads2d;
  else if (autoPad === "VALID")
    pads = [
      [0, 0],
      [0, 0],
    ];
  if (extra)
    pads = [
      [pads[0][0] + extra[0][0], pads[0][1] + extra[0][1]],
      [pads[1][0] + extra[1][0], pads[1][1] + extra[1][1]],
    ];
  const flat = pads.flat();
  if (flat.every((p) => p === 0)) return { padding: "valid", pads };
  if (flat.every((p, i) => p === same.flat()[i])) return { padding: "same", pads };
  return { padding: "valid", pads, zeroPad: pads };
}
