// verinfer's batch-affine multi-exponentiation (the prover curve's wasm plugin): equal to ffjavascript's
// multiExpAffine and to a plain sum of scalar multiplications, on every scalar width and on the cases a batch-affine
// bucket gets wrong when a branch is missing (bases at infinity, the same point twice in a bucket, P and −P in a
// bucket, a bucket that gets every point), and the prover really runs on the curve that has it.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import {
  batchAffineMultiExp,
  msmChunkPoints,
  msmTaskBytes,
  msmWindowBits,
  TASK_BYTES,
} from "../../src/proof-systems/batch-affine-multi-exp.js";
import { msmSignedWindows } from "../../src/proof-systems/wasm/batch-affine-msm.js";
import {
  type CurveTaskCommand,
  hasProverPlugins,
  type ProverCurve,
  proverCurve,
} from "../../src/proof-systems/wasm/prover-curve.js";

type GroupName = "G1" | "G2";

let curve: ProverCurve;
let single: ProverCurve;

beforeAll(async () => {
  // snarkjs's own curve (no plugins) first: the prover must still end up on a curve with them.
  await snarkjs.curves.getCurveFromName("bn128");
  curve = await proverCurve({ singleThread: false });
  single = await proverCurve({ singleThread: true });
});

afterAll(async () => {
  await curve.terminate();
});

const pointBytes = (group: GroupName) => 2 * curve[group].F.n8;

/** Distinct affine points k·g for small random k (cheap to make, all in the group). */
function randomPoints(group: GroupName, count: number): Uint8Array[] {
  const G = curve[group] as unknown as { g: Uint8Array; timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array };
  return Array.from({ length: count }, () => curve[group].toAffine(G.timesScalar(G.g, randomBytes(8))));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const infinity = (group: GroupName) => new Uint8Array(pointBytes(group));
const negate = (group: GroupName, p: Uint8Array) =>
  curve[group].toAffine((curve[group] as unknown as { neg(a: Uint8Array): Uint8Array }).neg(p));

/** Σ scalar_i · base_i by one scalar multiplication per term (wasmcurves' double-and-add), bases at infinity skipped. */
function plainSum(group: GroupName, bases: Uint8Array, scalars: Uint8Array): Uint8Array {
  const G = curve[group] as unknown as {
    zero: Uint8Array;
    add(a: Uint8Array, b: Uint8Array): Uint8Array;
    timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array;
  };
  const pb = pointBytes(group);
  const n = bases.byteLength / pb;
  if (n === 0) return G.zero;
  const size = scalars.byteLength / n;
  let sum = G.zero;
  for (let i = 0; i < n; i++) {
    const base = bases.subarray(i * pb, (i + 1) * pb);
    if (base.every((b) => b === 0)) continue;
    sum = G.add(sum, G.timesScalar(base, scalars.slice(i * size, (i + 1) * size)));
  }
  return sum;
}

async function expectMsm(
  group: GroupName,
  bases: Uint8Array,
  scalars: Uint8Array,
  opts: { windowBits?: number; against?: "plain" | "ffjavascript"; on?: ProverCurve } = {},
): Promise<Uint8Array> {
  const on = opts.on ?? curve;
  const got = await batchAffineMultiExp({
    curve: on,
    group,
    bases,
    scalars,
    ...(opts.windowBits !== undefined ? { windowBits: opts.windowBits } : {}),
  });
  const want =
    opts.against === "ffjavascript"
      ? await curve[group].multiExpAffine(bases, scalars)
      : plainSum(group, bases, scalars);
  expect(curve[group].eq(got, want)).toBe(true);
  return got;
}

/** One scalar of `size` bytes with value v (little-endian), repeated n times. */
function repeated(v: bigint, size: number, n: number): Uint8Array {
  const out = new Uint8Array(n * size);
  for (let i = 0; i < n; i++) for (let b = 0; b < size; b++) out[i * size + b] = Number((v >> BigInt(8 * b)) & 0xffn);
  return out;
}

describe("batch-affine multi-exponentiation", () => {
  it("runs on a curve built with verinfer's plugins, threaded and single-threaded, even after snarkjs built its own", () => {
    expect(hasProverPlugins(curve)).toBe(true);
    expect(hasProverPlugins(single)).toBe(true);
    expect(hasProverPlugins((globalThis as { curve_bn128?: unknown }).curve_bn128)).toBe(true);
  });

  it("equals ffjavascript's multiExpAffine on random G1 scalars of every width 1..32 bytes", async () => {
    const points = randomPoints("G1", 8);
    for (let width = 1; width <= 32; width++) {
      const n = 19 + width;
      const bases = concat(Array.from({ length: n }, (_, i) => points[(i * 5 + width) % points.length] as Uint8Array));
      await expectMsm("G1", bases, new Uint8Array(randomBytes(n * width)), { against: "ffjavascript" });
    }
  });

  it("equals ffjavascript's multiExpAffine on random G2 scalars of widths 1, 2, 3, 8, 17 and 32 bytes", async () => {
    const points = randomPoints("G2", 6);
    for (const width of [1, 2, 3, 8, 17, 32]) {
      const n = 23;
      const bases = concat(Array.from({ length: n }, (_, i) => points[(i * 7 + width) % points.length] as Uint8Array));
      await expectMsm("G2", bases, new Uint8Array(randomBytes(n * width)), { against: "ffjavascript" });
    }
  });

  it("equals the plain sum on a few hundred distinct points, with every window width from 1 to 13 bits", async () => {
    const n = 301;
    const bases = concat(randomPoints("G1", n));
    const scalars = new Uint8Array(randomBytes(n * 4));
    for (const windowBits of [1, 2, 3, 5, 8, 13]) await expectMsm("G1", bases, scalars, { windowBits });
  });

  for (const group of ["G1", "G2"] as const) {
    describe(`${group} edge cases`, () => {
      it("n = 0 is the zero point", async () => {
        const got = await batchAffineMultiExp({ curve, group, bases: new Uint8Array(0), scalars: new Uint8Array(0) });
        expect(curve[group].isZero(got)).toBe(true);
      });

      it("n = 1, n = 2 and odd n", async () => {
        const points = randomPoints(group, 7);
        for (const n of [1, 2, 3, 7]) {
          await expectMsm(group, concat(points.slice(0, n)), new Uint8Array(randomBytes(n * 32)));
        }
      });

      it("all-zero scalars give the zero point, and zero scalars among others add nothing", async () => {
        const bases = concat(randomPoints(group, 5));
        const zero = await batchAffineMultiExp({ curve, group, bases, scalars: new Uint8Array(5 * 32) });
        expect(curve[group].isZero(zero)).toBe(true);
        const scalars = new Uint8Array(randomBytes(5 * 8));
        scalars.fill(0, 8, 24);
        await expectMsm(group, bases, scalars);
      });

      it("skips bases at infinity (the all-zero affine point of a zkey)", async () => {
        const [p, q] = randomPoints(group, 2) as [Uint8Array, Uint8Array];
        const bases = concat([infinity(group), p, infinity(group), q, infinity(group)]);
        // The same digit for all: a point at infinity in a bucket must not be added as (0, 0).
        await expectMsm(group, bases, repeated(5n, 1, 5));
        await expectMsm(group, bases, new Uint8Array(randomBytes(5 * 32)));
        const none = await batchAffineMultiExp({
          curve,
          group,
          bases: concat([infinity(group)]),
          scalars: repeated(9n, 1, 1),
        });
        expect(curve[group].isZero(none)).toBe(true);
      });

      it("doubles when the same point lands twice in one bucket", async () => {
        const [p] = randomPoints(group, 1) as [Uint8Array];
        // 2·(3P) = 6P: one bucket, two equal points (x1 = x2, y1 = y2).
        const got = await expectMsm(group, concat([p, p]), repeated(3n, 1, 2));
        expect(curve[group].isZero(got)).toBe(false);
        // 2^k copies of P: every round of the reduction is all doublings.
        await expectMsm(group, concat(Array.from({ length: 64 }, () => p)), repeated(1n, 1, 64));
      });

      it("empties a bucket holding P and −P, and keeps going with what follows", async () => {
        const [p, q] = randomPoints(group, 2) as [Uint8Array, Uint8Array];
        const minusP = negate(group, p);
        const cancelled = await expectMsm(group, concat([p, minusP]), repeated(7n, 1, 2));
        expect(curve[group].isZero(cancelled)).toBe(true);
        // P, −P, Q in one bucket: the cancelled pair is infinity, and infinity + Q is Q.
        await expectMsm(group, concat([p, minusP, q]), repeated(7n, 1, 3));
        // P, −P, P, −P, P: pairs cancel in round one, infinities pair in round two.
        await expectMsm(group, concat([p, minusP, p, minusP, p]), repeated(7n, 1, 5));
        // Q, P, −P, Q (the second pair cancels, then Q + ∞ and ∞ + Q both come out as Q).
        await expectMsm(group, concat([q, q, p, minusP]), repeated(2n, 1, 4));
      });

      it("scalars with every bit set, full width and narrow", async () => {
        const bases = concat(randomPoints(group, 3));
        for (const width of [1, 2, 8, 32]) {
          await expectMsm(group, bases, new Uint8Array(3 * width).fill(0xff), { against: "ffjavascript" });
        }
      });

      it("a bucket that gets every point (all scalars 1) halves per round", async () => {
        const n = 37;
        await expectMsm(group, concat(randomPoints(group, n)), repeated(1n, 1, n));
      });

      it("gives the same sum on the single-threaded curve (a pool worker's)", async () => {
        const n = 9;
        const bases = concat(randomPoints(group, n));
        await expectMsm(group, bases, new Uint8Array(randomBytes(n * 32)), { on: single });
      });
    });
  }

  it("equals the plain sum on random small inputs with duplicated and negated bases and points at infinity", async () => {
    const pool = randomPoints("G1", 4);
    const choices = [...pool, ...pool.map((p) => negate("G1", p)), infinity("G1")];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: choices.length - 1 }), fc.integer({ min: 0, max: 40 })), {
          minLength: 0,
          maxLength: 24,
        }),
        fc.integer({ min: 1, max: 6 }),
        async (terms, windowBits) => {
          const bases = concat(terms.map(([i]) => choices[i] as Uint8Array));
          const scalars = new Uint8Array(terms.map(([, s]) => s));
          const got = await batchAffineMultiExp({ curve, group: "G1", bases, scalars, windowBits });
          expect(curve.G1.eq(got, plainSum("G1", bases, scalars))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("refuses bases that are not whole points and scalars of no whole width with INVALID_INPUT", async () => {
    const [p] = randomPoints("G1", 1) as [Uint8Array];
    const bases = concat([p, p]);
    for (const [b, s] of [
      [bases.subarray(0, 100), new Uint8Array(2)],
      [bases, new Uint8Array(3)],
      [bases, new Uint8Array(66)],
    ] as const) {
      const error = await batchAffineMultiExp({ curve, group: "G1", bases: b, scalars: s }).catch((e: unknown) => e);
      expect(isVerinferError(error, "INVALID_INPUT")).toBe(true);
    }
  });

  it("refuses window bits outside 1..24 (or not integers) with INVALID_INPUT, before any work", async () => {
    const bases = concat(randomPoints("G1", 3));
    const scalars = new Uint8Array(randomBytes(3 * 32));
    for (const windowBits of [0, -1, 25, 31, 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = await batchAffineMultiExp({ curve, group: "G1", bases, scalars, windowBits }).catch(
        (e: unknown) => e,
      );
      expect(isVerinferError(error, "INVALID_INPUT"), `windowBits ${windowBits}`).toBe(true);
    }
    // The range's low end and a wide window work (24 bits would walk 2^23 buckets per window: slow, not wrong).
    for (const windowBits of [1, 17]) await expectMsm("G1", bases, scalars, { windowBits, against: "ffjavascript" });
  });

  describe("chunks (review s3 F1: a task past ffjavascript's 2 GiB of worker memory never answers)", () => {
    /** The curve with its task queue watched: the points each task gets (its first ALLOCSET, the bases). */
    function watched(group: GroupName): { on: ProverCurve; taskPoints: number[] } {
      const taskPoints: number[] = [];
      const tm = {
        concurrency: curve.tm.concurrency,
        queueAction: (task: CurveTaskCommand[]) => {
          const bases = task.find((t) => t.cmd === "ALLOCSET" && t.var === 0);
          taskPoints.push(bases && "buff" in bases ? bases.buff.byteLength / pointBytes(group) : Number.NaN);
          return curve.tm.queueAction(task);
        },
      };
      return { on: { ...curve, tm } as unknown as ProverCurve, taskPoints };
    }

    for (const group of ["G1", "G2"] as const) {
      it(`${group}: 1000 points in chunks of at most 100 equal the sum in one chunk and ffjavascript's`, async () => {
        const n = 1000;
        const distinct = randomPoints(group, 97);
        const parts = Array.from({ length: n }, (_, i) => distinct[(i * 31) % distinct.length] as Uint8Array);
        // Points 100..199 (one whole chunk) at infinity, scalars of points 300..399 zero, and a P, −P pair across
        // a chunk border.
        for (let i = 100; i < 200; i++) parts[i] = infinity(group);
        parts[599] = distinct[5] as Uint8Array;
        parts[600] = negate(group, distinct[5] as Uint8Array);
        const bases = concat(parts);
        const scalars = new Uint8Array(randomBytes(n * 32));
        scalars.fill(0, 300 * 32, 400 * 32);
        scalars.set(scalars.subarray(599 * 32, 600 * 32), 600 * 32);
        const { on, taskPoints } = watched(group);
        const chunked = await batchAffineMultiExp({ curve: on, group, bases, scalars, maxChunkPoints: 100 });
        expect(taskPoints.length).toBeGreaterThanOrEqual(9);
        expect(Math.max(...taskPoints)).toBeLessThanOrEqual(100);
        const whole = await batchAffineMultiExp({ curve, group, bases, scalars });
        const G = curve[group];
        expect(G.eq(chunked, whole)).toBe(true);
        expect(G.eq(G.toAffine(chunked), G.toAffine(await G.multiExpAffine(bases, scalars)))).toBe(true);
        // Uneven chunks (1000 into chunks of at most 333) and chunks of one point.
        for (const maxChunkPoints of [333, 1]) {
          const sum = await batchAffineMultiExp({
            curve,
            group,
            bases: bases.subarray(0, 40 * pointBytes(group)),
            scalars: scalars.subarray(0, 40 * 32),
            maxChunkPoints,
          });
          const want = await batchAffineMultiExp({
            curve,
            group,
            bases: bases.subarray(0, 40 * pointBytes(group)),
            scalars: scalars.subarray(0, 40 * 32),
          });
          expect(G.eq(sum, want), `chunks of ${maxChunkPoints}`).toBe(true);
        }
        // Chunks of nothing but infinities, and of nothing but zero scalars: zero.
        const pb = pointBytes(group);
        for (const [b, sc] of [
          [bases.subarray(100 * pb, 200 * pb), new Uint8Array(100).fill(7)],
          [bases.subarray(300 * pb, 400 * pb), scalars.subarray(300 * 32, 400 * 32)],
        ] as const) {
          const zero = await batchAffineMultiExp({ curve, group, bases: b, scalars: sc, maxChunkPoints: 10 });
          expect(G.isZero(zero)).toBe(true);
        }
      });
    }

    it("keeps every task's wasm memory within the budget at the sizes that used to fail, and chunks those", () => {
      for (const [group, n8, n] of [
        ["G1", 32, 2 ** 24],
        ["G1", 32, 2 ** 23],
        ["G2", 64, 2 ** 23],
        ["G2", 64, 2 ** 22],
      ] as const) {
        for (const threads of [1, 2, 16]) {
          for (const [scalarBytes, bits] of [
            [32, 254],
            [1, 8],
          ] as const) {
            const c = msmWindowBits(n, bits);
            for (const windowBits of [c, 1, 24]) {
              const chunk = msmChunkPoints({ n8, scalarBytes, bits, windowBits, threads, budget: TASK_BYTES });
              const nWindows = msmSignedWindows(bits, windowBits);
              const windows = Math.ceil(nWindows / Math.min(nWindows, threads));
              const label = `${group} 2^${Math.log2(n)} ${threads} threads ${bits} bits c=${windowBits}`;
              expect(chunk, label).toBeGreaterThan(1000);
              expect(msmTaskBytes({ n: chunk, n8, scalarBytes, windowBits, windows }), label).toBeLessThanOrEqual(
                TASK_BYTES,
              );
              if (scalarBytes === 32) expect(chunk, label).toBeLessThan(n);
            }
          }
        }
      }
      // The budget leaves ffjavascript's 2 GiB worker memory room for the wasm's own memory.
      expect(TASK_BYTES).toBeLessThanOrEqual(2 ** 30);
    });
  });

  describe("at 2^14 points (the prover's sizes), at the default window width and at wide windows of 14 to 16 bits", () => {
    /** 128² affine points P_j + Q_k over 128 random P_j and Q_k (distinct but with negligible probability). */
    function manyPoints(group: GroupName): Uint8Array {
      const G = curve[group];
      const ps = randomPoints(group, 128);
      const qs = randomPoints(group, 128);
      return concat(ps.flatMap((p) => qs.map((q) => G.toAffine(G.add(p, q)))));
    }

    for (const [group, widths] of [
      ["G1", [undefined, 14, 16]],
      // G2 at its default width (10 bits at 2^14 points) costs as much again: the small G2 cases above cover it.
      ["G2", [14]],
    ] as const) {
      it(`${group}: equals ffjavascript's multiExpAffine at window widths ${widths.map((w) => w ?? "default").join(", ")}`, async () => {
        const n = 2 ** 14;
        const bases = manyPoints(group);
        // A point at infinity and two equal points among the distinct ones.
        bases.fill(0, 7 * pointBytes(group), 8 * pointBytes(group));
        bases.copyWithin(100 * pointBytes(group), 99 * pointBytes(group), 100 * pointBytes(group));
        const scalars = new Uint8Array(randomBytes(n * 32));
        for (let i = 0; i < n; i++) scalars[i * 32 + 31] = (scalars[i * 32 + 31] as number) & 0x1f; // below 2^253
        const G = curve[group];
        const want = G.toAffine(await G.multiExpAffine(bases, scalars));
        expect(G.isZero(want)).toBe(false);
        for (const windowBits of widths) {
          const got = await batchAffineMultiExp({
            curve,
            group,
            bases,
            scalars,
            ...(windowBits !== undefined ? { windowBits } : {}),
          });
          expect(G.eq(G.toAffine(got), want), `window bits ${windowBits ?? "default"}`).toBe(true);
        }
      });
    }
  });

  it("picks wider windows for more points", () => {
    expect(msmWindowBits(1 << 16, 254)).toBeGreaterThan(msmWindowBits(1 << 10, 254));
    expect(msmWindowBits(100, 8)).toBeLessThanOrEqual(8);
  });
});
