import type { OnnxGraph, OnnxNode } from "./decode-onnx.js";
import { foldConstant } from "./fold-constant.js";
import { tensorFromProto } from "./onnx-tensor.js";

/** The ops {@link fuseActivations} writes: one node for each activation an exporter spelled as a subgraph. */
export const FUSED_ACTIVATION_OPS = ["Gelu", "Swish"] as const;

/**
 * Rewrites, in place, the subgraphs PyTorch exports for GELU and SiLU into one node each, named after the node that
 * gives their output, so that the importer sees (and a refusal names) the activation the user wrote:
 *
 * - GELU (exact): `Div(x, √2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5)` (or `Mul(x, 1/√2)`, and the 0.5 on
 *   either side) becomes `Gelu(x)`;
 * - SiLU: `Sigmoid(x) → Mul(x, ·)` becomes `Swish(x)`.
 *
 * A subgraph whose inner values are read elsewhere is left as it is (and its Erf is then refused by name).
 */
export function fuseActivations(graph: OnnxGraph, opset: number): void {
  const nodes = graph.node;
  const scalar = (name: string | undefined): number | undefined => {
    if (!name) return undefined;
    const init = graph.initializer.find((t) => t.name === name);
    const c = init
      ? tensorFromProto(init)
      : (() => {
          const n = nodes.find((m) => m.opType === "Constant" && m.output[0] === name);
          return n ? foldConstant(n, [], opset) : undefined;
        })();
    return c && c.data.length === 1 ? c.data[0] : undefined;
  };
  const producer = (name: string) => nodes.find((n) => n.output[0] === name);
  const readers = (name: string) => nodes.filter((n) => n.input.includes(name)).length;
  const near = (v: number | undefined, want: number) => v !== undefined && Math.abs(v - want) < 1e-4 * Math.abs(want);
  /** The other input of a binary node, given one. */
  const other = (n: OnnxNode, one: string) => (n.input[0] === one ? n.input[1] : n.input[0]);
  const replace = (remove: OnnxNode[], fused: OnnxNode) => {
    const at = Math.min(...remove.map((n) => nodes.indexOf(n)));
    for (const n of remove) nodes.splice(nodes.indexOf(n), 1);
    nodes.splice(at, 0, fused);
  };
  const fused = (opType: string, last: OnnxNode, x: string): OnnxNode => ({
    ...last,
    opType,
    domain: "",
    input: [x],
    output: [last.output[0] as string],
    attribute: [],
  });

  for (const erf of nodes.filter((n) => n.opType === "Erf")) {
    const scaled = producer(erf.input[0] as string);
    if (!scaled || readers(scaled.output[0] as string) !== 1) continue;
    const x = scaled.input[0] as string;
    const c = scalar(scaled.input[1]);
    if (!((scaled.opType === "Div" && near(c, Math.SQRT2)) || (scaled.opType === "Mul" && near(c, Math.SQRT1_2)))) {
      continue;
    }
    const plus = nodes.find((n) => n.opType === "Add" && n.input.includes(erf.output[0] as string));
    if (!plus || !near(scalar(other(plus, erf.output[0] as string)), 1) || readers(erf.output[0] as string) !== 1) {
      continue;
    }
    const p = plus.output[0] as string;
    const times = nodes.find((n) => n.opType === "Mul" && n.input.includes(p));
    if (!times || readers(p) !== 1) continue;
    const m = other(times, p) as string;
    const half = producer(m);
    let chain: OnnxNode[];
    if (m === x) {
      // x · (1 + erf) then · 0.5
      const last = nodes.find((n) => n.opType === "Mul" && n.input.includes(times.output[0] as string));
      if (!last || readers(times.output[0] as string) !== 1) continue;
      if (!near(scalar(other(last, times.output[0] as string)), 0.5)) continue;
      chain = [scaled, erf, plus, times, last];
    } else if (half?.opType === "Mul" && other(half, x) !== undefined && half.input.includes(x) && readers(m) === 1) {
      // (x · 0.5) · (1 + erf)
      if (!near(scalar(other(half, x)), 0.5)) continue;
      chain = [half, scaled, erf, plus, times];
    } else continue;
    replace(chain, fused("Gelu", chain[chain.length - 1] as OnnxNode, x));
  }

  for (const sig of nodes.filter((n) => n.opType === "Sigmoid")) {
    const x = sig.input[0] as string;
    const s = sig.output[0] as string;
    const times = nodes.find((n) => n.opType === "Mul" && n.input.includes(s) && other(n, s) === x);
    if (!times || readers(s) !== 1) continue;
    replace([sig, times], fused("Swish", times, x));
  }
}
