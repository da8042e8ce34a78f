import { VerinferError } from "../../../errors.js";
import type { SmoothActivation } from "../../layers/piecewise.js";
import type { OnnxGraph, OnnxNode } from "../decode-onnx.js";
import type { InputAffine } from "../input-affine.js";
import type { OnnxStep, Pads2d } from "../onnx-step.js";
import { type ConstTensor, checkTensorSize, MAX_CONSTANT_ELEMENTS } from "../onnx-tensor.js";

/**
 * The layout of the variable tensor: its ONNX shape (batch first, NaN when symbolic) and how tfjs holds it.
 * `nchw`: tfjs holds `[H, W, C]`. `flat`: `[F]` in ONNX order. `flatChw`: `[H·W·C]` in tfjs (HWC) order while
 * ONNX holds CHW order (after a Flatten of a 4-D tensor). `pooled`: ONNX `[N, C, 1, 1]` (or `[N, C, 1]`), tfjs `[C]`.
 * `ids`: the model's integer input `[N, L]` of token ids, read only by an embedding lookup. `seq`: ONNX `[N, L, D]`,
 * tfjs `[L, D]` (an embedding's output). `seqT`: ONNX `[N, D, L]` (a `seq` transposed), tfjs still `[L, D]`.
 */
export type Layout = "nchw" | "flat" | "flatChw" | "pooled" | "ids" | "seq" | "seqT";

/** The variable tensor the importer follows: its name, ONNX shape and layout. */
export interface Live {
  name: string;
  shape: number[];
  layout: Layout;
  /** For `flatChw`: the [C, H, W] the Flatten saw, and the index of its step. */
  chw?: { c: number; h: number; w: number; step: number };
}

/** What the importer knows of a tensor of the graph: its layout, the step that made it, a Pad still to apply. */
export interface TensorState {
  live: Live;
  curStep: number;
  pendingPad: Pads2d | undefined;
}

/** One node the importer refuses, and why. */
export interface Problem {
  node: string;
  opType: string;
  why: string;
}

/**
 * The typed `UNSUPPORTED_LAYER` error naming every refused node, with the ops the importer supports.
 *
 * @example
 * ```ts
 * throw unsupportedError({ problems: [{ node: "n", opType: "Foo", why: "op not supported" }], supported, opsets });
 * ```
 */
export function unsupportedError(params: {
  problems: Problem[];
  supported: readonly string[];
  opsets: { min: number; max: number };
}): VerinferError {
  const { problems, supported, opsets } = params;
  const list = problems.map((p) => `"${p.node}" (${p.opType}): ${p.why}`);
  return new VerinferError(
    "UNSUPPORTED_LAYER",
    `${problems.length} ONNX node${problems.length === 1 ? "" : "s"} cannot be imported: ${list.join("; ")}`,
    {
      details: `verinfer imports ONNX graphs (chains, or graphs with Add/Concat/Mul merges; NCHW, opset ${opsets.min}-${opsets.max}) of: ${[...new Set(supported)].join(", ")}.`,
      meta: { nodes: problems.map((p) => ({ name: p.node, opType: p.opType, reason: p.why })) },
    },
  );
}

/**
 * `INVALID_MODEL` for a node that contradicts its inputs.
 *
 * @example
 * ```ts
 * throw invalidNode(node, "has 3 biases for 4 filters");
 * ```
 */
export function invalidNode(node: OnnxNode, why: string): VerinferError {
  return new VerinferError("INVALID_MODEL", `ONNX node "${node.name}" (${node.opType}) ${why}`);
}

/**
 * A node's inputs, an empty name (an omitted optional input) as `undefined`.
 *
 * @example
 * ```ts
 * const [x, weight, bias] = nodeInputs(node);
 * ```
 */
export function nodeInputs(node: OnnxNode): (string | undefined)[] {
  return node.input.map((n) => (n ? n : undefined));
}

/**
 * Everything one import of an ONNX graph knows while it walks the nodes: the constants, the variable tensor it
 * follows (`live`), the layers built so far, a Pad still to apply, an input normalization waiting for its layer,
 * and what each tensor was when it was made (for branches). One instance per import; op translators read and
 * change it through these fields and methods.
 */
export class ImporterState {
  readonly graph: OnnxGraph;
  readonly opset: number;
  /** The ops of the translator table, for refusals. */
  readonly supported: readonly string[];
  readonly opsets: { min: number; max: number };
  /** Initializers and folded nodes. */
  readonly consts = new Map<string, ConstTensor>();
  private constElements = 0;
  /** The ONNX shape of every variable tensor seen so far (for Shape nodes). */
  readonly shapes = new Map<string, number[]>();
  readonly steps: OnnxStep[] = [];
  /** The variable tensor the current node reads. */
  live: Live = { name: "", shape: [], layout: "flat" };
  /** The tensor `live` is: 0 for the input, k for step k − 1's output. */
  curStep = 0;
  pendingPad: Pads2d | undefined;
  /** An input normalization ((x − mean) / std) waiting for the Gemm/MatMul it folds into. */
  inputAffine: InputAffine | undefined;
  /** The last node that read a variable tensor. */
  lastLiveNode: OnnxNode | undefined;
  /** What each variable tensor was when it was made: its layout, its step and a pending Pad. */
  readonly saved = new Map<string, TensorState>();
  /** How many nodes (and the graph output) read each tensor. */
  readonly readers: Map<string, number>;

  constructor(params: {
    graph: OnnxGraph;
    opset: number;
    supported: readonly string[];
    opsets: { min: number; max: number };
  }) {
    this.graph = params.graph;
    this.opset = params.opset;
    this.supported = params.supported;
    this.opsets = params.opsets;
    this.readers = onnxReaders(params.graph.node, params.graph.output[0]?.name);
  }

  /** Keeps a constant, within {@link MAX_CONSTANT_ELEMENTS} for the whole model. */
  setConst(name: string, t: ConstTensor, owner: string): void {
    this.constElements += t.data.length;
    if (this.constElements > MAX_CONSTANT_ELEMENTS) {
      throw new VerinferError(
        "INVALID_MODEL",
        `${owner} brings the model's constants to ${this.constElements} elements, more than verinfer imports`,
        {
          details: `all constants together hold at most ${MAX_CONSTANT_ELEMENTS} elements`,
          meta: { elements: this.constElements },
        },
      );
    }
    this.consts.set(name, t);
  }

  /** Starts the walk at the graph's input. */
  start(name: string, dims: number[], ids: boolean): void {
    this.live = { name, shape: dims, layout: ids ? "ids" : dims.length === 4 ? "nchw" : "flat" };
    this.shapes.set(name, dims);
    this.save();
  }

  /** Records the live tensor as it is now (its layout, step and pending Pad) under its name. */
  save(): void {
    this.saved.set(this.live.name, { live: { ...this.live }, curStep: this.curStep, pendingPad: this.pendingPad });
  }

  /** Makes a recorded tensor the live one again (a branch reading an earlier tensor). */
  restore(saved: TensorState): void {
    this.live = { ...saved.live };
    this.curStep = saved.curStep;
    this.pendingPad = saved.pendingPad;
  }

  constOf(name: string | undefined): ConstTensor | undefined {
    return name ? this.consts.get(name) : undefined;
  }

  /** Input `i` of the node, which must be a constant. */
  requireConst(node: OnnxNode, i: number, what: string): ConstTensor {
    const t = this.constOf(node.input[i]);
    if (!t) throw this.refuse(node, `${what} must be a constant`);
    return t;
  }

  /** `UNSUPPORTED_LAYER` naming this node. */
  refuse(node: OnnxNode, why: string): VerinferError {
    return unsupportedError({
      problems: [{ node: node.name, opType: node.opType, why }],
      supported: this.supported,
      opsets: this.opsets,
    });
  }

  lastStep(): OnnxStep | undefined {
    return this.steps[this.steps.length - 1];
  }

  /** Whether no weighted layer (Dense, Conv) has been built yet: Add/Sub/Mul/Div then normalize the input. */
  atInput(): boolean {
    return !this.steps.some((st) => st.kind === "dense" || st.kind === "conv2d");
  }

  /** The live tensor's features (the batch aside), refused over the tensor size limit. */
  checkLive(node: OnnxNode): number {
    return checkTensorSize(
      `ONNX node "${node.name}" (${node.opType})`,
      this.live.shape.filter((d) => !Number.isNaN(d)),
    );
  }

  /** Appends a layer; it reads the live tensor (`from`, when that is not the previous step's output). */
  pushStep(step: OnnxStep): void {
    if (this.curStep !== this.steps.length) step.from = [this.curStep];
    this.steps.push(step);
    this.curStep = this.steps.length;
  }

  /** Whether the live tensor is the last step's output and read by this node only: an activation may fuse in. */
  fusable(): boolean {
    return this.curStep === this.steps.length && (this.readers.get(this.live.name) ?? 0) <= 1;
  }

  /** Applies a pending Pad as a ZeroPadding2D layer. */
  flushPad(node: OnnxNode): void {
    if (this.pendingPad) {
      this.pushStep({ kind: "zeroPadding2d", name: `${node.name}_pad`, padding: this.pendingPad });
      const [[t, b], [l, r]] = this.pendingPad;
      const shape = this.live.shape;
      this.live.shape = [
        shape[0] as number,
        shape[1] as number,
        (shape[2] as number) + t + b,
        (shape[3] as number) + l + r,
      ];
      this.checkLive(node);
      this.pendingPad = undefined;
    }
  }

  /** Ends a `flatChw` layout by permuting back to ONNX order before the Flatten (exact, costs a Permute layer). */
  toOnnxOrder(): void {
    if (this.live.layout === "flatChw" && this.live.chw) {
      const step = this.steps[this.live.chw.step];
      if (step?.kind === "flatten") step.chwOrder = true;
      this.live = { ...this.live, layout: "flat" };
      delete this.live.chw;
    }
  }

  /** The tfjs order of the features ONNX numbers `r` (CHW) after a Flatten: row permutation for Dense/BN. */
  featureOrder(): number[] | undefined {
    if (this.live.layout !== "flatChw" || !this.live.chw) return undefined;
    const { c, h, w } = this.live.chw;
    // tfjs feature t = (y·W + x)·C + ch holds ONNX feature ch·H·W + y·W + x.
    const order = new Array<number>(c * h * w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) order[(y * w + x) * c + ch] = ch * h * w + y * w + x;
    return order;
  }

  /** An activation: fused into the Dense/Conv before it when nothing else reads that layer's output. */
  setActivation(node: OnnxNode, activation: "relu" | "relu6" | "softmax" | SmoothActivation): void {
    const prev = this.lastStep();
    if (!this.fusable()) {
      this.flushPad(node);
      this.pushStep({ kind: "activation", name: node.name, activation });
      return;
    }
    // relu6 after relu is relu6 (PyTorch's F.relu6 exports as Relu then Clip(0, 6)): one activation, one rescale.
    if (!this.pendingPad && activation === "relu6" && prev && "activation" in prev && prev.activation === "relu") {
      prev.activation = "relu6";
      return;
    }
    if (!this.pendingPad && prev?.kind === "dense" && prev.activation === "linear") {
      prev.activation = activation;
      return;
    }
    if (!this.pendingPad && prev?.kind === "conv2d" && prev.activation === "linear" && activation !== "softmax") {
      prev.activation = activation;
      return;
    }
    this.flushPad(node);
    this.pushStep({ kind: "activation", name: node.name, activation });
  }
}

/** How many nodes (and the graph output) read each tensor. */
function onnxReaders(nodes: readonly OnnxNode[], output: string | undefined): Map<string, number> {
  const readers = new Map<string, number>();
  const read = (t: string) => readers.set(t, (readers.get(t) ?? 0) + 1);
  for (const node of nodes) for (const t of new Set(node.input)) if (t) read(t);
  if (output) read(output);
  return readers;
}
