// Issue 19, finding 2: a few hundred bytes of .onnx whose constant folding expands to billions of elements must be
// refused with INVALID_MODEL naming the node and the size, before anything is allocated. Each model is imported
// in a child process with a small heap (the built dist/, as `npm test` builds before vitest), so a regression
// fails this test (the child dies of heap exhaustion) instead of killing vitest.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { onnxModelType } from "../../src/models/onnx/decode-onnx.js";
import { MAX_CONSTANT_ELEMENTS, MAX_TENSOR_ELEMENTS } from "../../src/models/onnx/onnx-tensor.js";
import { ROOT, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-onnx-bomb-");
const HEAP_MB = 384;

type Node = { name: string; opType: string; input: string[]; output: string[]; attribute?: object[] };

const int64Tensor = (name: string, values: number[], dims = [values.length]) => ({
  name,
  dataType: 7,
  dims,
  int64Data: values,
});
const constant = (out: string, values: number[]): Node => ({
  name: out,
  opType: "Constant",
  input: [],
  output: [out],
  attribute: [{ name: "value", type: 4, t: int64Tensor(out, values) }],
});
const fill = (out: string, shape: string): Node => ({
  name: out,
  opType: "ConstantOfShape",
  input: [shape],
  output: [out],
});

/** A valid x·W model whose graph first folds `nodes` (constants the output never uses). */
function model(nodes: Node[]): Uint8Array {
  const type = onnxModelType();
  return type
    .encode(
      type.fromObject({
        irVersion: 8,
        opsetImport: [{ domain: "", version: 13 }],
        graph: {
          name: "g",
          node: [...nodes, { name: "mm", opType: "MatMul", input: ["x", "w"], output: ["y"] }],
          initializer: [{ name: "w", dataType: 1, dims: [3, 2], floatData: [1, 2, 3, 4, 5, 6] }],
          input: [
            { name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "N" }, { dimValue: 3 }] } } } },
          ],
          output: [{ name: "y", type: { tensorType: { elemType: 1 } } }],
        },
      }),
    )
    .finish();
}

/** Imports each model in one child process with a small heap: one JSON line per model. */
async function importInChild(models: Uint8Array[]): Promise<{ code?: string; message?: string; ok?: true }[]> {
  const dir = await tempDir();
  const files = await Promise.all(
    models.map(async (bytes, i) => {
      const file = path.join(dir, `m${i}.onnx`);
      await writeFile(file, bytes);
      return file;
    }),
  );
  const script = `
    import { readFileSync } from "node:fs";
    import { decodeOnnx } from ${JSON.stringify(path.join(ROOT, "dist/models/onnx/decode-onnx.js"))};
    import { importOnnxGraph } from ${JSON.stringify(path.join(ROOT, "dist/models/onnx/import-onnx-graph.js"))};
    for (const file of process.argv.slice(1)) {
      try {
        importOnnxGraph(decodeOnnx(readFileSync(file)));
        console.log(JSON.stringify({ ok: true }));
      } catch (e) {
        console.log(JSON.stringify({ code: e.code ?? e.name, message: String(e.message).slice(0, 300) }));
      }
    }`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [`--max-old-space-size=${HEAP_MB}`, "--input-type=module", "-e", script, ...files],
    { maxBuffer: 16 << 20, timeout: 120_000 },
  );
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe("ONNX import bounds every tensor before allocating it", () => {
  it("refuses constant folding that expands a tiny file, naming the node and the size", async () => {
    const attacks: { name: string; nodes: Node[]; node: string }[] = [
      {
        name: "ConstantOfShape to 2^30 elements",
        nodes: [constant("s", [2 ** 30]), fill("big", "s")],
        node: "big",
      },
      {
        name: "broadcasting Add of [16384,1] and [1,16384]",
        nodes: [
          constant("s1", [16384, 1]),
          constant("s2", [1, 16384]),
          fill("a", "s1"),
          fill("b", "s2"),
          { name: "outer", opType: "Add", input: ["a", "b"], output: ["o"] },
        ],
        node: "outer",
      },
      {
        name: "Gather of 16384 rows of 16384",
        nodes: [
          constant("sd", [2, 16384]),
          constant("si", [16384]),
          fill("d", "sd"),
          {
            name: "idx",
            opType: "ConstantOfShape",
            input: ["si"],
            output: ["i"],
            attribute: [{ name: "value", type: 4, t: int64Tensor("v", [0], [1]) }],
          },
          { name: "rows", opType: "Gather", input: ["d", "i"], output: ["g"] },
        ],
        node: "rows",
      },
      {
        name: "Concat of one tensor eight times",
        nodes: [
          constant("s", [2 ** 21]),
          fill("c", "s"),
          {
            name: "eight",
            opType: "Concat",
            input: Array(8).fill("c"),
            output: ["cc"],
            attribute: [{ name: "axis", type: 2, i: 0 }],
          },
          {
            name: "sixtyfour",
            opType: "Concat",
            input: Array(8).fill("cc"),
            output: ["ccc"],
            attribute: [{ name: "axis", type: 2, i: 0 }],
          },
        ],
        node: "eight",
      },
      {
        name: "many constants each under the limit",
        nodes: [constant("s", [MAX_TENSOR_ELEMENTS]), ...Array.from({ length: 40 }, (_, i) => fill(`f${i}`, "s"))],
        // The initializer and the shape constant count too: the fourth fill passes the total.
        node: `f${MAX_CONSTANT_ELEMENTS / MAX_TENSOR_ELEMENTS - 1}`,
      },
    ];
    const bytes = attacks.map((a) => model(a.nodes));
    expect(bytes[0]?.byteLength).toBeLessThan(300);
    const results = await importInChild(bytes);
    expect(results).toHaveLength(attacks.length);
    results.forEach((r, i) => {
      const attack = attacks[i] as (typeof attacks)[number];
      expect(r.code, attack.name).toBe("INVALID_MODEL");
      expect(r.message, attack.name).toContain(`"${attack.node}"`);
      expect(r.message, attack.name).toMatch(/\d+ elements/);
    });
  }, 150_000);

  it("refuses a Concat whose inputs disagree off the axis (their output dims would understate what is copied)", async () => {
    // [1] with 2048 × [1, 2^16] on axis 0: dims say [2049], the copy would be 2^27 elements.
    const nodes: Node[] = [
      constant("s1", [1]),
      constant("s2", [1, 2 ** 16]),
      fill("a", "s1"),
      fill("b", "s2"),
      {
        name: "skew",
        opType: "Concat",
        input: ["a", ...Array(2048).fill("b")],
        output: ["o"],
        attribute: [{ name: "axis", type: 2, i: 0 }],
      },
    ];
    const [result] = await importInChild([model(nodes)]);
    expect(result?.code).toBe("INVALID_MODEL");
    expect(result?.message).toContain('"skew"');
    expect(result?.message).toContain("cannot concatenate");
  }, 150_000);

  it("fuzz: random shape arithmetic imports or fails with a typed error, never exhausting a small heap", async () => {
    const dim = fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.constant(-1));
    const op = fc.constantFrom("Add", "Mul", "Concat", "Gather", "Transpose", "Cast", "Unsqueeze", "Reshape");
    const graph = fc.record({
      shapes: fc.array(fc.array(dim, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
      ops: fc.array(fc.tuple(op, fc.nat(), fc.nat()), { maxLength: 6 }),
    });
    const models = fc.sample(graph, { numRuns: 60, seed: 19 }).map(({ shapes, ops }) => {
      const nodes: Node[] = [];
      const names: string[] = [];
      shapes.forEach((s, i) => {
        nodes.push(constant(`s${i}`, s), fill(`t${i}`, `s${i}`));
        names.push(`s${i}`, `t${i}`);
      });
      ops.forEach(([opType, a, b], i) => {
        const x = names[a % names.length] as string;
        const y = names[b % names.length] as string;
        const input = ["Add", "Mul", "Concat", "Gather", "Reshape"].includes(opType) ? [x, y] : [x];
        nodes.push({ name: `n${i}`, opType, input, output: [`o${i}`] });
        names.push(`o${i}`);
      });
      return model(nodes);
    });
    const results = await importInChild(models);
    expect(results).toHaveLength(models.length);
    for (const r of results) {
      if (!r.ok) expect(["INVALID_MODEL", "UNSUPPORTED_LAYER"], r.message).toContain(r.code);
    }
    expect(results.some((r) => r.ok)).toBe(true);
    expect(results.some((r) => /more than verinfer imports/.test(r.message ?? ""))).toBe(true);
  }, 150_000);
});
