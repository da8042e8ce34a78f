import { VerinferError } from "../../errors.js";
import { int64, type OnnxNode } from "./decode-onnx.js";
import {
  attribute,
  type ConstTensor,
  checkTensorSize,
  DTYPE,
  intAttr,
  intsAttr,
  sizeOf,
  tensorFromProto,
} from "./onnx-tensor.js";

/**
 * Ops the importer evaluates when every input is a constant: what exporters emit to compute shapes and pads
 * (PyTorch's `x.view(x.size(0), -1)` becomes Shape → Gather → Unsqueeze → Concat → Reshape). `Shape` of a
 * variable tensor is folded too, by the importer, from the shape it tracks.
 */
export const FOLDABLE_OPS = [
  "Constant",
  "Identity",
  "Cast",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Concat",
  "Reshape",
  "Slice",
  "Transpose",
  "ConstantOfShape",
  "Add",
  "Sub",
  "Mul",
  "Div",
] as const;

function bad(node: OnnxNode, why: string): VerinferError {
  return new VerinferError("INVALID_MODEL", `ONNX node "${node.name}" (${node.opType}) ${why}`);
}

/** The element count of a node's output dims, refused over the limit before anything is allocated. */
function limit(node: OnnxNode, dims: readonly number[]): number {
  return checkTensorSize(`ONNX node "${node.name}" (${node.opType})`, dims);
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (dims[i + 1] as number);
  return s;
}

function normAxis(node: OnnxNode, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw bad(node, `has axis ${axis} outside a rank-${rank} tensor`);
  return a;
}

function need(node: OnnxNode, inputs: (ConstTensor | undefined)[], i: number): ConstTensor {
  const t = inputs[i];
  if (!t) throw bad(node, `lacks input ${i}`);
  return t;
}

function broadcast(node: OnnxNode, a: ConstTensor, b: ConstTensor, f: (x: number, y: number) => number): ConstTensor {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pad = (d: number[]) => [...new Array<number>(rank - d.length).fill(1), ...d];
  const da = pad(a.dims);
  const db = pad(b.dims);
  const dims = da.map((x, i) => {
    const y = db[i] as number;
    if (x !== y && x !== 1 && y !== 1) throw bad(node, `cannot broadcast [${a.dims}] with [${b.dims}]`);
    return Math.max(x, y);
  });
  const size = limit(node, dims);
  const sa = strides(da);
  const sb = strides(db);
  const so = strides(dims);
  const data = new Array<number>(size);
  for (let k = 0; k < data.length; k++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(k / (so[d] as number)) % (dims[d] as number);
      if (da[d] !== 1) ia += idx * (sa[d] as number);
      if (db[d] !== 1) ib += idx * (sb[d] as number);
    }
    data[k] = f(a.data[ia] as number, b.data[ib] as number);
  }
  return { dims, data, kind: a.kind === "float" || b.kind === "float" ? "float" : "int" };
}

function axesOf(node: OnnxNode, inputs: (ConstTensor | undefined)[], opset: number): number[] | undefined {
  if (opset >= 13) return inputs[1]?.data.slice();
  return intsAttr(node, "axes");
}

function transpose(t: ConstTensor, perm: number[]): ConstTensor {
  const dims = perm.map((p) => t.dims[p] as number);
  const si = strides(t.dims);
  const so = strides(dims);
  const data = new Array<number>(t.data.length);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let d = 0; d < dims.length; d++) {
      const idx = Math.floor(k / (so[d] as number)) % (dims[d] as number);
      src += idx * (si[perm[d] as number] as number);
    }
    data[k] = t.data[src] as number;
  }
  return { dims, data, kind: t.kind };
}

function slice(node: OnnxNode, t: ConstTensor, starts: number[], ends: number[], axes: number[], steps: number[]) {
  const rank = t.dims.length;
  const begin = new Array<number>(rank).fill(0);
  const step = new Array<number>(rank).fill(1);
  const count = t.dims.slice();
  axes.forEach((axis, i) => {
    const a = normAxis(node, axis, rank);
    const n = t.dims[a] as number;
    const s = steps[i] ?? 1;
    if (s === 0) throw bad(node, "has a zero step");
    const clampIndex = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const b = s > 0 ? clampIndex(starts[i] as number, 0, n) : clampIndex(starts[i] as number, -1, n - 1);
    const e = s > 0 ? clampIndex(ends[i] as number, 0, n) : clampIndex(ends[i] as number, -1, n - 1);
    begin[a] = b;
    step[a] = s;
    count[a] = Math.max(0, Math.ceil((e - b) / s));
  });
  const size = limit(node, count);
  const si = strides(t.dims);
  const so = strides(count);
  const data = new Array<number>(size);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let d = 0; d < rank; d++) {
      const idx = Math.floor(k / (so[d] as number)) % (count[d] as number);
      src += ((begin[d] as number) + idx * (step[d] as number)) * (si[d] as number);
    }
    data[k] = t.data[src] as number;
  }
  return { dims: count, data, kind: t.kind };
}

/**
 * Evaluates one node of {@link FOLDABLE_OPS} whose inputs are all constants (an empty input name is `undefined`).
 *
 * @returns the node's first output.
 * @throws VerinferError `INVALID_MODEL` when the node does not fit its inputs.
 * @example
 * ```ts
 * const shape = foldConstant(concatNode, [batchDim, minusOne], 13); // [NaN, -1]
 * ```
 */
export function foldConstant(node: OnnxNode, inputs: (ConstTensor | undefined)[], opset: number): ConstTensor {
  switch (node.opType) {
    case "Constant": {
      const a = node.attribute[0];
      if (!a) throw bad(node, "has no value");
      if (a.name === "value") {
        if (!a.t) throw bad(node, "has no tensor value");
        return tensorFromProto(a.t);
      }
      if (a.name === "value_float") return { dims: [], data: [a.f], kind: "float" };
      if (a.name === "value_floats") return { dims: [a.floats.length], data: a.floats.slice(), kind: "float" };
      if (a.name === "value_int") return { dims: [], data: [int64(a.i)], kind: "int" };
      if (a.name === "value_ints") return { dims: [a.ints.length], data: a.ints.map(int64), kind: "int" };
      throw bad(node, `has a ${a.name} value, which verinfer does not read`);
    }
    case "Identity":
      return need(node, inputs, 0);
    case "Cast": {
      const t = need(node, inputs, 0);
      const to = intAttr(node, "to", DTYPE.FLOAT);
      if (to === DTYPE.FLOAT || to === DTYPE.DOUBLE) return { ...t, kind: "float" };
      return { dims: t.dims, data: t.data.map((v) => (Number.isNaN(v) ? v : Math.trunc(v))), kind: "int" };
    }
    case "Gather": {
      const data = need(node, inputs, 0);
      const indices = need(node, inputs, 1);
      const axis = normAxis(node, intAttr(node, "axis", 0), data.dims.length);
      const n = data.dims[axis] as number;
      const outer = sizeOf(data.dims.slice(0, axis));
      const inner = sizeOf(data.dims.slice(axis + 1));
      const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
      limit(node, dims);
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of indices.data) {
          const idx = raw < 0 ? raw + n : raw;
          if (!Number.isInteger(idx) || idx < 0 || idx >= n) throw bad(node, `gathers index ${raw} of ${n}`);
          for (let i = 0; i < inner; i++) out.push(data.data[(o * n + idx) * inner + i] as number);
        }
      }
      return { dims, data: out, kind: data.kind };
    }
    case "Unsqueeze": {
      const t = need(node, inputs, 0);
      const axes = axesOf(node, inputs, opset);
      if (!axes) throw bad(node, "has no axes");
      const rank = t.dims.length + axes.length;
      const norm = axes.map((a) => normAxis(node, a, rank)).sort((x, y) => x - y);
      const dims = t.dims.slice();
      for (const a of norm) dims.splice(a, 0, 1);
      return { ...t, dims };
    }
    case "Squeeze": {
      const t = need(node, inputs, 0);
      const axes = axesOf(node, inputs, opset);
      const norm = axes
        ? axes.map((a) => normAxis(node, a, t.dims.length))
        : t.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      if (norm.some((a) => t.dims[a] !== 1)) throw bad(node, "squeezes an axis whose size is not 1");
      return { ...t, dims: t.dims.filter((_, i) => !norm.includes(i)) };
    }
    case "Concat": {
      const parts = inputs.filter((t): t is ConstTensor => t !== undefined);
      const first = parts[0];
      if (!first) throw bad(node, "has no inputs");
      const axis = normAxis(node, intAttr(node, "axis", 0), first.dims.length);
      // Every input has the first's dims off the axis: the output's dims (bounded below) then bound what is copied.
      for (const p of parts) {
        if (p.dims.length !== first.dims.length || p.dims.some((d, i) => i !== axis && d !== first.dims[i])) {
          throw bad(node, `cannot concatenate [${p.dims}] with [${first.dims}] on axis ${axis}`);
        }
      }
      const dims = first.dims.slice();
      dims[axis] = parts.reduce((s, p) => s + (p.dims[axis] as number), 0);
      const data = new Array<number>(limit(node, dims));
      const outer = sizeOf(first.dims.slice(0, axis));
      let k = 0;
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const inner = sizeOf(p.dims.slice(axis));
          for (let i = o * inner; i < (o + 1) * inner; i++) data[k++] = p.data[i] as number;
        }
      }
      return { dims, data, kind: parts.some((p) => p.kind === "float") ? "float" : "int" };
    }
    case "Reshape": {
      const t = need(node, inputs, 0);
      const dims = reshapeTarget(node, t.dims, need(node, inputs, 1).data);
      return { ...t, dims };
    }
    case "Slice": {
      const t = need(node, inputs, 0);
      if (opset < 10) {
        const starts = intsAttr(node, "starts") ?? [];
        const axes = intsAttr(node, "axes") ?? starts.map((_, i) => i);
        return slice(node, t, starts, intsAttr(node, "ends") ?? [], axes, []);
      }
      const starts = need(node, inputs, 1).data;
      const axes = inputs[3]?.data ?? starts.map((_, i) => i);
      return slice(node, t, starts, need(node, inputs, 2).data, axes, inputs[4]?.data ?? []);
    }
    case "Transpose": {
      const t = need(node, inputs, 0);
      const perm = intsAttr(node, "perm") ?? t.dims.map((_, i) => t.dims.length - 1 - i);
      return transpose(t, perm);
    }
    case "ConstantOfShape": {
      const dims = need(node, inputs, 0).data;
      if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw bad(node, "has a shape that is not constant");
      const size = limit(node, dims);
      const value = attribute(node, "value")?.t;
      const v = value ? tensorFromProto(value) : { dims: [1], data: [0], kind: "float" as const };
      return { dims, data: new Array<number>(size).fill(v.data[0] ?? 0), kind: v.kind };
    }
    case "Add":
      return broadcast(node, need(node, inputs, 0), need(node, inputs, 1), (x, y) => x + y);
    case "Sub":
      return broadcast(node, need(node, inputs, 0), need(node, inputs, 1), (x, y) => x - y);
    case "Mul":
      return broadcast(node, need(node, inputs, 0), need(node, inputs, 1), (x, y) => x * y);
    case "Div": {
      const a = need(node, inputs, 0);
      const b = need(node, inputs, 1);
      const isInt = a.kind === "int" && b.kind === "int";
      return broadcast(node, a, b, (x, y) => (isInt ? Math.trunc(x / y) : x / y));
    }
    default:
      throw bad(node, "cannot be evaluated at import");
  }
}

/**
 * The dims a Reshape produces from `input` dims and its `shape` values: `0` copies the input's dim, `-1` is
 * inferred, and the symbolic batch ({@link BATCH}, NaN) stays symbolic.
 *
 * @throws VerinferError `INVALID_MODEL` when the shape does not fit.
 * @example
 * ```ts
 * reshapeTarget(node, [Number.NaN, 6, 3, 3], [Number.NaN, -1]); // [NaN, 54]
 * ```
 */
export function reshapeTarget(node: OnnxNode, input: readonly number[], shape: readonly number[]): number[] {
  const allowZero = intAttr(node, "allowzero", 0) === 1;
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? (input[i] as number) : d));
  const batchIn = input.some(Number.isNaN);
  const known = (ds: readonly number[]) => sizeOf(ds.filter((d) => !Number.isNaN(d) && d !== -1));
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) throw bad(node, "has more than one -1 in its shape");
  const batchOut = dims.some(Number.isNaN);
  if (batchIn !== batchOut && !(batchIn && unknown === 1)) throw bad(node, "moves the batch axis");
  if (unknown === 1) {
    if (batchIn && !batchOut) {
      // [-1, features]: the -1 is the batch.
      if (dims[0] === -1 && known(input) === known(dims)) return [Number.NaN, ...dims.slice(1)];
      throw bad(node, "folds the batch axis into another one");
    }
    const rest = known(input) / known(dims);
    if (!Number.isInteger(rest)) throw bad(node, `cannot reshape [${input}] to [${shape}]`);
    return dims.map((d) => (d === -1 ? rest : d));
  }
  if (known(input) !== known(dims)) throw bad(node, `cannot reshape [${input}] to [${shape}]`);
  return dims;
}
