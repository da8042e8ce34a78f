import { VerinferError } from "../../errors.js";
import { int64, type OnnxModelProto } from "./decode-onnx.js";
import { FOLDABLE_OPS, foldConstant } from "./fold-constant.js";
import { fuseActivations } from "./fuse-activations.js";
import { liftOneDGraph } from "./lift-1d.js";
import type { OnnxChain } from "./onnx-step.js";
import { BATCH, checkTensorSize, DTYPE, intAttr, tensorFromProto } from "./onnx-tensor.js";
import { ImporterState, invalidNode, nodeInputs, type Problem, unsupportedError } from "./ops/importer-state.js";
import { ONNX_OPS, onnxOpTranslator } from "./ops/onnx-ops.js";

export type { OnnxChain, OnnxStep, OnnxStepKind, Pads2d } from "./onnx-step.js";

/** ONNX ops the importer reads: the keys of its op-translator table (constant-only shape ops included). */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.freeze(Object.keys(ONNX_OPS));

/** Opsets of the default ONNX domain the importer reads. */
export const ONNX_OPSETS = { min: 9, max: 18 } as const;

/**
 * Reads an ONNX ModelProto into a chain of channels-last layers: folds constants and the shape arithmetic around
 * Reshape, converts NCHW weights to tfjs layouts, and checks every node first. Each node is read by its op's
 * translator in {@link ONNX_OPS}; this function walks the graph (constants, the input, branches, merges) and
 * checks the result.
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
  const problems: Problem[] = [];
  graph.node.forEach((node, i) => {
    if (!node.name) node.name = `${node.opType}_${i}`;
    const translator = onnxOpTranslator(node.opType);
    if (node.domain && node.domain !== "ai.onnx") {
      problems.push({ node: node.name, opType: `${node.domain}.${node.opType}`, why: "custom domain" });
    } else if (node.opType === "Erf") {
      problems.push({
        node: node.name,
        opType: "Erf",
        why: "an Erf outside a GELU: verinfer proves GELU as exported, x·0.5·(1 + erf(x/√2)), and no Erf alone",
      });
    } else if (!translator) {
      problems.push({ node: node.name, opType: node.opType, why: "op not supported" });
    } else if (translator.sinceOpset !== undefined && opset < translator.sinceOpset) {
      const why = `${node.opType} does not exist before opset ${translator.sinceOpset} (this model declares opset ${opset})`;
      problems.push({ node: node.name, opType: node.opType, why });
    } else {
      const why = translator.check?.(node);
      if (why) problems.push({ node: node.name, opType: node.opType, why });
    }
  });
  if (problems.length > 0) throw unsupportedError({ problems, supported: SUPPORTED_ONNX_OPS, opsets: ONNX_OPSETS });

  // 2. Constants: initializers (also listed as graph inputs in IR < 4) and folded nodes.
  const state = new ImporterState({ graph, opset, supported: SUPPORTED_ONNX_OPS, opsets: ONNX_OPSETS });
  for (const t of graph.initializer) state.setConst(t.name, tensorFromProto(t), `ONNX initializer "${t.name}"`);
  const liveInputs = graph.input.filter((v) => !state.consts.has(v.name));
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
  // Integer token ids are read only by embedding lookups (Gather of a constant table's rows).
  const ids =
    (tensorType?.elemType === DTYPE.INT64 || tensorType?.elemType === DTYPE.INT32) &&
    readOnlyAsTokenIds(state, input.name);
  if (!tensorType || (tensorType.elemType !== DTYPE.FLOAT && !ids)) {
    throw new VerinferError("INVALID_MODEL", `ONNX input "${input.name}" must be a float32 tensor`, {
      details:
        "an integer input is read only as token ids: every node reading it a Gather of a constant [vocab, dim] table",
    });
  }
  const dims = (tensorType.shape?.dim ?? []).map((d) =>
    d.dimValue !== undefined && int64(d.dimValue) > 0 ? int64(d.dimValue) : BATCH,
  );
  const features = dims.slice(1);
  if ((dims.length !== 2 && (dims.length !== 4 || ids)) || features.some((d) => Number.isNaN(d))) {
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
  state.start(input.name, dims, ids);

  // 3. The graph: what each tensor is (its layout, the step that made it, a Pad still to apply) and how many nodes
  // read it. A tensor read by several nodes is a branch; nothing is folded into the step that made it.
  for (const node of graph.node) {
    // What the previous node made of the live tensor is bounded before this one builds on it.
    if (state.lastLiveNode) state.checkLive(state.lastLiveNode);
    const translator = onnxOpTranslator(node.opType) ?? {};
    const ins = nodeInputs(node);
    const liveIns = ins.filter((n): n is string => n !== undefined && !state.consts.has(n));
    if (node.opType === "Constant" || (!translator.constant && liveIns.length === 0)) {
      if (!(FOLDABLE_OPS as readonly string[]).includes(node.opType)) {
        throw state.refuse(node, "has only constant inputs and is not one of the foldable ops");
      }
      const folded = foldConstant(
        node,
        ins.map((n) => state.constOf(n)),
        opset,
      );
      state.setConst(node.output[0] as string, folded, `ONNX node "${node.name}" (${node.opType})`);
      continue;
    }
    if (translator.constant) {
      translator.constant(node, state);
      continue;
    }
    // A pending input normalization belongs to the one tensor it normalizes: a merge or a branch beside it would
    // read the raw input as if normalized (or fold the normalization into a layer of the raw one).
    const besidePending = state.inputAffine !== undefined && (liveIns.length > 1 || liveIns[0] !== state.live.name);
    if (besidePending) throw state.refuse(node, "reads the input beside a pending input normalization");
    if (liveIns.length > 1 && translator.merge) {
      state.lastLiveNode = node;
      translator.merge(node, state, liveIns);
      continue;
    }
    if (liveIns.length !== 1) throw state.refuse(node, "reads several variable tensors and is not a merge");
    if (liveIns[0] !== state.live.name) {
      // A branch: this node reads an earlier tensor.
      const saved = state.saved.get(liveIns[0] as string);
      if (!saved) throw state.refuse(node, "reads a tensor computed after it");
      state.restore(saved);
    }
    state.lastLiveNode = node;
    const out = node.output[0] as string;
    if (state.inputAffine && !translator.takesInputAffine) {
      throw state.refuse(
        node,
        "follows an input normalization; verinfer folds one only into a Gemm/MatMul/Conv right after it",
      );
    }
    if (!translator.translate) throw state.refuse(node, "op not supported on the variable path");
    if (translator.translate(node, state) === "pending") continue;
    const live = state.live;
    if (live.shape.slice(1).some((d) => !Number.isInteger(d) || d <= 0)) {
      throw invalidNode(node, `gives a tensor of shape [${live.shape.slice(1)}] (a window larger than its input?)`);
    }
    state.shapes.set(out, live.shape.slice());
    live.name = out;
    state.save();
  }
  return finish({ state, model, inputShape, onnxInputShape });
}

/** The checks at the graph's output, and the chain. */
function finish(params: {
  state: ImporterState;
  model: OnnxModelProto;
  inputShape: number[];
  onnxInputShape: number[];
}): OnnxChain {
  const { state, model, inputShape, onnxInputShape } = params;
  const outputName = state.graph.output[0]?.name;
  const outState = outputName === undefined ? undefined : state.saved.get(outputName);
  if (outState && outputName !== state.live.name) state.restore(outState);
  if (state.curStep !== state.steps.length) {
    throw new VerinferError("INVALID_MODEL", `the ONNX graph output "${outputName}" is not its last layer's output`);
  }
  if (outputName !== state.live.name) {
    throw new VerinferError(
      "INVALID_MODEL",
      `the ONNX graph output "${outputName}" is not the end of its chain "${state.live.name}"`,
    );
  }
  const last = state.lastLiveNode;
  if (!last) throw new VerinferError("INVALID_MODEL", "the ONNX graph computes nothing from its input");
  if (state.inputAffine) throw state.refuse(last, "normalizes the input but no Gemm/MatMul/Conv reads it");
  state.checkLive(last);
  if (state.pendingPad) throw state.refuse(last, "pads the output; a Pad must be followed by a layer");
  state.toOnnxOrder();
  if (!["flat", "flatChw"].includes(state.live.layout)) {
    throw new VerinferError(
      "UNSUPPORTED_LAYER",
      `the ONNX graph's output is a rank-${state.live.shape.length} tensor`,
      {
        details: "verinfer proves models whose output is [batch, features]; end the graph with Flatten/Gemm",
      },
    );
  }
  return {
    inputShape,
    onnxInputShape,
    steps: state.steps,
    opset: state.opset,
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
  };
}

/** Whether every node reading the input is a Gather of a constant 2-D table's rows at the input's ids. */
function readOnlyAsTokenIds(state: ImporterState, input: string): boolean {
  const readers = state.graph.node.filter((n) => n.input.includes(input));
  return (
    readers.length > 0 &&
    state.graph.output[0]?.name !== input &&
    readers.every(
      (n) =>
        n.opType === "Gather" &&
        n.input[1] === input &&
        n.input[0] !== input &&
        state.constOf(n.input[0])?.dims.length === 2 &&
        [0, -2].includes(intAttr(n, "axis", 0)),
    )
  );
}
