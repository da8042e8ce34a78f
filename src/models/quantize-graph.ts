import { VerinferError } from "../errors.js";
import { addTerms } from "./layers/add.js";
import { concatTerms } from "./layers/concat.js";
import { linearBounds } from "./layers/linear.js";
import { mulBounds } from "./layers/mul.js";
import { floatInputTensors, type Layer, type Network } from "./network.js";
import { LINEAR, type Quantizer, quantizeLayer, type Scale } from "./quantize.js";
import type { QuantizedLayer } from "./quantized-network.js";

type QuantizedAdd = Extract<QuantizedLayer, { kind: "add" }>;
type QuantizedMul = Extract<QuantizedLayer, { kind: "mul" }>;
type QuantizedConcat = Extract<QuantizedLayer, { kind: "concat" }>;

/** The quantizer's state at one float tensor: which quantized tensor holds it, its scale, bounds and float values. */
interface Snapshot {
  cur: number;
  scale: Scale;
  lo: bigint[];
  hi: bigint[];
  real: Float64Array[];
}

function snap(q: Quantizer): Snapshot {
  return { cur: q.cur, scale: q.scale, lo: q.lo, hi: q.hi, real: q.real };
}

function restore(q: Quantizer, s: Snapshot): void {
  q.cur = s.cur;
  q.scale = s.scale;
  q.lo = s.lo;
  q.hi = s.hi;
  q.real = s.real;
  q.pending = undefined;
}

/** A tensor's values rescaled (range-proven), so that several layers may read it or a merge may align it. */
function materialize(q: Quantizer, name: string): void {
  if (!q.scale.rescaled || q.pending) q.rescale(name, LINEAR);
}

const fracBitsOf = (s: Snapshot) => (s.scale as { fracBits: number }).fracBits;

/**
 * Quantizes a float network that is not a chain (src/models/quantize.ts does chains): layers in order, each from
 * the state of the tensor it reads. A tensor read by anything but the next layer alone is rescaled when made (so
 * every reader sees range-proven values at one scale), and merges align their inputs' scales exactly: `add` by
 * left shifts to the finest input scale (free), `concat` by rescaling the finer inputs down to the coarsest (one
 * proven rescale of those values) so the concat itself is a permutation, `mul` at the sum of the scales.
 */
export function quantizeGraph(q: Quantizer, net: Network, shapes: readonly number[][]): void {
  const n = net.layers.length;
  const readers: number[][] = Array.from({ length: n + 1 }, () => []);
  net.layers.forEach((layer, l) => {
    for (const t of floatInputTensors(layer, l)) readers[t]?.push(l);
  });
  // Tensor t flows straight into layer t, its only reader, which reads nothing else (the network's output too).
  const chained = (t: number) =>
    t === n ||
    (readers[t]?.length === 1 && readers[t]?.[0] === t && floatInputTensors(net.layers[t] as Layer, t).length === 1);
  const snaps: Snapshot[] = [snap(q)];
  net.layers.forEach((layer, l) => {
    const from = floatInputTensors(layer, l);
    const outShape = shapes[l + 1] as number[];
    if (layer.kind === "add" || layer.kind === "concat" || layer.kind === "mul") {
      quantizeMerge(q, layer as Layer & { kind: "add" | "concat" | "mul" }, {
        inputs: from.map((t) => snaps[t] as Snapshot),
        inShapes: from.map((t) => shapes[t] as number[]),
        outShape,
      });
    } else {
      const t = from[0] as number;
      if (!(t === l && chained(l))) restore(q, snaps[t] as Snapshot);
      quantizeLayer(q, layer, shapes[t] as number[], outShape, chained(l + 1) ? net.layers[l + 1] : undefined);
    }
    if (!chained(l + 1)) materialize(q, layer.name);
    snaps.push(snap(q));
  });
}

function quantizeMerge(
  q: Quantizer,
  layer: Layer & { kind: "add" | "concat" | "mul" },
  p: { inputs: Snapshot[]; inShapes: number[][]; outShape: number[] },
): void {
  let inputs = p.inputs;
  if (inputs.some((s) => !s.scale.rescaled)) {
    throw new VerinferError("INTERNAL", `merge "${layer.name}" reads values that are not rescaled`);
  }
  const size = p.outShape.reduce((a, b) => a * b, 1);
  const join = (f: (s: Snapshot) => bigint[]) => inputs.flatMap(f);
  switch (layer.kind) {
    case "add": {
      const F = Math.max(...inputs.map(fracBitsOf));
      const op: QuantizedAdd = {
        kind: "add",
        name: layer.name,
        size,
        shifts: inputs.map((s) => F - fracBitsOf(s)),
        inputs: inputs.map((s) => s.cur),
      };
      const b = linearBounds(
        addTerms(op),
        join((s) => s.lo),
        join((s) => s.hi),
      );
      finish(
        q,
        op,
        b,
        (k) => inputs.reduce((acc, s) => acc.map((v, j) => v + (s.real[k]?.[j] as number)), new Float64Array(size)),
        {
          rescaled: false,
          pow2: F,
          divisor: 1,
          poolsOnly: false,
        },
      );
      return;
    }
    case "mul": {
      const [a, b] = inputs as [Snapshot, Snapshot];
      const op: QuantizedMul = { kind: "mul", name: layer.name, size, inputs: [a.cur, b.cur] };
      const bounds = mulBounds(
        op,
        join((s) => s.lo),
        join((s) => s.hi),
      );
      finish(q, op, bounds, (k) => (a.real[k] as Float64Array).map((v, j) => v * (b.real[k]?.[j] as number)), {
        rescaled: false,
        pow2: fracBitsOf(a) + fracBitsOf(b),
        divisor: 1,
        poolsOnly: false,
      });
      return;
    }
    case "concat": {
      // The finer inputs rescaled down to the coarsest scale, exactly as a rescale proves it (floor of a shift).
      const F = Math.min(...inputs.map(fracBitsOf));
      inputs = inputs.map((s) => {
        if (fracBitsOf(s) === F) return s;
        restore(q, s);
        q.emitRescale(`${layer.name}/align`, LINEAR, 1n, fracBitsOf(s) - F, F);
        return snap(q);
      });
      const parts = p.inShapes.map((sh) => sh[sh.length - 1] as number);
      const op: QuantizedConcat = {
        kind: "concat",
        name: layer.name,
        outer: size / parts.reduce((a, b) => a + b, 0),
        parts,
        inputs: inputs.map((s) => s.cur),
      };
      const terms = concatTerms(op);
      const b = linearBounds(
        terms,
        join((s) => s.lo),
        join((s) => s.hi),
      );
      finish(
        q,
        op,
        b,
        (k) => {
          const flat = inputs.flatMap((s) => Array.from(s.real[k] as Float64Array));
          const y = new Float64Array(size);
          for (let j = 0; j < size; j++)
            terms.visit(j, (i) => {
              y[j] = flat[i] as number;
            });
          return y;
        },
        { rescaled: true, fracBits: F },
      );
      return;
    }
  }
}

function finish(
  q: Quantizer,
  op: QuantizedAdd | QuantizedMul | QuantizedConcat,
  bounds: { lo: bigint[]; hi: bigint[] },
  real: (k: number) => Float64Array,
  scale: Scale,
): void {
  const samples = q.real.length;
  q.layers.push(op);
  q.cur = q.layers.length;
  q.lo = bounds.lo;
  q.hi = bounds.hi;
  q.real = Array.from({ length: samples }, (_v, k) => real(k));
  q.scale = scale;
  q.pending = undefined;
}
