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
 * - GELU (tanh approximation, `nn.GELU(approximate="tanh")` and HF's `NewGELU`):
 *   `x³` (`Pow(x, 3)`, or `Mul(x, Mul(x, x))` in either order) `→ Mul(·, 0.044715) → Add(x, ·) → Mul(·, √(2/π)) → Tanh
 *   → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5)` (the 0.5 on either side) becomes `Gelu(x)` with `approximate = "tanh"`;
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

  /** The nodes of `x · (1 + inner) · 0.5` from the `1 + inner` sum `p` (0.5 first or last), or undefined. */
  const halfTimes = (p: string, x: string): OnnxNode[] | undefined => {
    const times = nodes.find((n) => n.opType === "Mul" && n.input.includes(p));
    if (!times || readers(p) !== 1) return undefined;
    const m = other(times, p) as string;
    const half = producer(m);
    if (m === x) {
      // x · (1 + inner) then · 0.5
      const last = nodes.find((n) => n.opType === "Mul" && n.input.includes(times.output[0] as string));
      if (!last || readers(times.output[0] as string) !== 1) return undefined;
      if (!near(scalar(other(last, times.output[0] as string)), 0.5)) return undefined;
      return [times, last];
    }
    if (half?.opType === "Mul" && other(half, x) !== undefined && half.input.includes(x) && readers(m) === 1) {
      // (x · 0.5) · (1 + inner)
      if (!near(scalar(other(half, x)), 0.5)) return undefined;
      return [half, times];
    }
    return undefined;
  };

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
    const outer = halfTimes(plus.output[0] as string, x);
    if (!outer) continue;
    const chain = [scaled, erf, plus, ...outer];
    replace(chain, fused("Gelu", chain[chain.length - 1] as OnnxNode, x));
  }

  /** The nodes computing x³ as `c` (Pow(x, 3) or x·(x·x) in either order), each read once, or undefined. */
  const cubeOf = (c: string, x: string): OnnxNode[] | undefined => {
    const n = producer(c);
    if (!n || readers(c) !== 1) return undefined;
    if (n.opType === "Pow" && n.input[0] === x && near(scalar(n.input[1]), 3)) return [n];
    if (n.opType !== "Mul" || !n.input.includes(x)) return undefined;
    const sq = other(n, x) as string;
    const sqNode = producer(sq);
    if (sqNode?.opType === "Mul" && sqNode.input[0] === x && sqNode.input[1] === x && readers(sq) === 1) {
      return [sqNode, n];
    }
    return undefined;
  };
  for (const tanh of nodes.filter((n) => n.opType === "Tanh")) {
    const scaled = producer(tanh.input[0] as string);
    if (scaled?.opType !== "Mul" || readers(scaled.output[0] as string) !== 1) continue;
    const betaAt = scaled.input.findIndex((t) => near(scalar(t), Math.sqrt(2 / Math.PI)));
    if (betaAt < 0) continue;
    const sum = producer(scaled.input[1 - betaAt] as string);
    if (sum?.opType !== "Add" || readers(sum.output[0] as string) !== 1) continue;
    // x + 0.044715 · x³: try each operand of the sum as x.
    let found: { x: string; inner: OnnxNode[] } | undefined;
    for (const x of sum.input) {
      const kx3 = producer(other(sum, x) as string);
      if (kx3?.opType !== "Mul" || readers(kx3.output[0] as string) !== 1) continue;
      const kAt = kx3.input.findIndex((t) => near(scalar(t), 0.044715));
      const cube = kAt < 0 ? undefined : cubeOf(kx3.input[1 - kAt] as string, x);
      if (cube) found = { x, inner: [...cube, kx3, sum, scaled, tanh] };
    }
    if (!found) continue;
    const t = tanh.output[0] as string;
    const plus = nodes.find((n) => n.opType === "Add" && n.input.includes(t));
    if (!plus || !near(scalar(other(plus, t)), 1) || readers(t) !== 1) continue;
    const outer = halfTimes(plus.output[0] as string, found.x);
    if (!outer) continue;
    const chain = [...found.inner, plus, ...outer];
    const gelu = fused("Gelu", chain[chain.length - 1] as OnnxNode, found.x);
    gelu.attribute = [
      { name: "approximate", type: 3, f: 0, i: 0, s: new TextEncoder().encode("tanh"), floats: [], ints: [] },
    ];
    replace(chain, gelu);
  }

  for (const sig of nodes.filter((n) => n.opType === "Sigmoid")) {
    const x = sig.input[0] as string;
    const s = sig.output[0] as string;
    const times = nodes.find((n) => n.opType === "Mul" && n.input.includes(s) && other(n, s) === x);
    if (!times || readers(s) !== 1) continue;
    replace([sig, times], fused("Swish", times, x));
  }
}
