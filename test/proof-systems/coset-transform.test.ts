// The Groth16 prover's coset transform from verinfer's fft plugin (issue 22): on random, all-zero, constant and
// single-nonzero vectors of every size 2^1 … 2^12 (and one 2^14) it equals wasmcurves's frm_batchToMontgomery,
// frm_ifft, frm_batchApplyKey, frm_fft (what snarkjs's prover does), and H's scalars made from split halves equal
// that transform followed by qap_joinABC, for 1, 2 and 3 join tasks and inputs in shared memory, views or plain arrays.
import { randomBytes } from "node:crypto";
import { buildBn128 } from "ffjavascript";
import { beforeAll, describe, expect, it } from "vitest";
import { isVerinferError } from "../../src/errors.js";
import {
  COSET_TASK_BYTES,
  type CosetCurve,
  cosetHScalars,
  cosetTaskBytes,
  cosetTransform,
  hasFftPlugin,
} from "../../src/proof-systems/wasm/coset-transform.js";
import { proverCurve } from "../../src/proof-systems/wasm/prover-curve.js";
import { FIELD_PRIME } from "../../src/util/field.js";

let curve: CosetCurve;

function vector(n: number, value: (i: number) => bigint): Uint8Array {
  const out = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    const v = value(i);
    for (let j = 0; j < 32; j++) out[i * 32 + j] = Number((v >> BigInt(8 * j)) & 255n);
  }
  return out;
}

function randomElement(): bigint {
  let v = 0n;
  for (const b of randomBytes(40)) v = (v << 8n) | BigInt(b);
  return v % FIELD_PRIME;
}

/** The vectors each size is checked on: random, all zero, constant, one nonzero entry. */
function vectors(n: number): Array<[string, Uint8Array]> {
  const at = Math.floor(n / 3);
  const c = randomElement();
  return [
    ["random", vector(n, randomElement)],
    ["zero", vector(n, () => 0n)],
    ["constant", vector(n, () => c)],
    ["single nonzero", vector(n, (i) => (i === at ? FIELD_PRIME - 1n : 0n))],
  ];
}

/** The coset generator the prover uses for a domain of 2^power points below the field's maximum. */
const cosetOf = (power: number) => curve.Fr.w[power + 1] as Uint8Array;

/** snarkjs's way: Montgomery conversion, wasmcurves's inverse FFT, the coset's powers, its forward FFT. */
async function reference(evals: Uint8Array, g: Uint8Array): Promise<Uint8Array> {
  const n = evals.byteLength / 32;
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: evals },
    { cmd: "ALLOCSET", var: 1, buff: curve.Fr.e(1) },
    { cmd: "ALLOCSET", var: 2, buff: g },
    { cmd: "ALLOC", var: 3, len: n * 32 },
    { cmd: "CALL", fnName: "frm_batchToMontgomery", params: [{ var: 0 }, { val: n }, { var: 0 }] },
    { cmd: "CALL", fnName: "frm_ifft", params: [{ var: 0 }, { val: n }] },
    { cmd: "CALL", fnName: "frm_batchApplyKey", params: [{ var: 0 }, { val: n }, { var: 1 }, { var: 2 }, { var: 3 }] },
    { cmd: "CALL", fnName: "frm_fft", params: [{ var: 3 }, { val: n }] },
    { cmd: "GET", out: 0, var: 3, len: n * 32 },
  ]);
  return out as Uint8Array;
}

async function referenceH(a: Uint8Array, b: Uint8Array, c: Uint8Array, g: Uint8Array): Promise<Uint8Array> {
  const n = a.byteLength / 32;
  const [out] = await curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: await reference(a, g) },
    { cmd: "ALLOCSET", var: 1, buff: await reference(b, g) },
    { cmd: "ALLOCSET", var: 2, buff: await reference(c, g) },
    { cmd: "ALLOC", var: 3, len: n * 32 },
    { cmd: "CALL", fnName: "qap_joinABC", params: [{ var: 0 }, { var: 1 }, { var: 2 }, { val: n }, { var: 3 }] },
    { cmd: "CALL", fnName: "frm_batchFromMontgomery", params: [{ var: 3 }, { val: n }, { var: 3 }] },
    { cmd: "GET", out: 0, var: 3, len: n * 32 },
  ]);
  return out as Uint8Array;
}

const hex = (v: Uint8Array) => Buffer.from(v).toString("hex");

beforeAll(async () => {
  curve = await proverCurve({ singleThread: true });
});

describe("the fft plugin's coset transform", () => {
  it("equals wasmcurves's inverse FFT, coset shift and FFT for every size 2^1 … 2^12", async () => {
    for (let power = 1; power <= 12; power++) {
      const g = cosetOf(power);
      for (const [kind, evals] of vectors(2 ** power)) {
        const got = hex(await cosetTransform({ curve, power, g, evals }));
        expect(got, `2^${power}, ${kind}`).toBe(hex(await reference(evals, g)));
      }
    }
  });

  it("equals it on 2^14 points, and on the coset snarkjs uses at the field's largest domain's shift", async () => {
    const power = 14;
    const evals = vector(2 ** power, randomElement);
    expect(hex(await cosetTransform({ curve, power, g: cosetOf(power), evals }))).toBe(
      hex(await reference(evals, cosetOf(power))),
    );
    // Any generator works, e.g. the shift snarkjs uses when the domain is the field's largest.
    const shift = (curve.Fr as unknown as { shift: Uint8Array }).shift;
    const small = vector(2 ** 6, randomElement);
    expect(hex(await cosetTransform({ curve, power: 6, g: shift, evals: small }))).toBe(
      hex(await reference(small, shift)),
    );
  });

  it("makes H's scalars from split halves as snarkjs's QAP does, for 1, 2 and 3 join tasks", async () => {
    for (const power of [1, 2, 3, 5, 8, 11]) {
      const n = 2 ** power;
      const g = cosetOf(power);
      const [a, b, c] = [vector(n, randomElement), vector(n, randomElement), vector(n, randomElement)];
      const want = hex(await referenceH(a, b, c, g));
      for (const parts of [1, 2, 3]) {
        expect(hex(await cosetHScalars({ curve, power, g, a, b, c, parts })), `2^${power}, ${parts}`).toBe(want);
      }
    }
    // The special vectors as A, B and C at once.
    const power = 6;
    const [r, z, k, one] = vectors(2 ** power).map(([, v]) => v) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    for (const [a, b, c] of [
      [z, z, z],
      [k, one, r],
      [one, k, z],
    ] as Array<[Uint8Array, Uint8Array, Uint8Array]>) {
      expect(hex(await cosetHScalars({ curve, power, g: cosetOf(power), a, b, c, parts: 2 }))).toBe(
        hex(await referenceH(a, b, c, cosetOf(power))),
      );
    }
  });

  it("is found on the prover's curve, not on a curve built without it", async () => {
    expect(hasFftPlugin(curve)).toBe(true);
    expect(hasFftPlugin((await buildBn128(true)) as object)).toBe(false);
  });

  it("reads its inputs alike from shared memory, from views into larger buffers and from plain arrays", async () => {
    const power = 7;
    const n = 2 ** power;
    const g = cosetOf(power);
    const [a, b, c] = [vector(n, randomElement), vector(n, randomElement), vector(n, randomElement)];
    const want = hex(await referenceH(a, b, c, g));
    const shared = (v: Uint8Array) => {
      const out = new Uint8Array(new SharedArrayBuffer(v.byteLength));
      out.set(v);
      return out;
    };
    const view = (v: Uint8Array) => {
      const big = new Uint8Array(v.byteLength + 64);
      big.set(v, 32);
      return big.subarray(32, 32 + v.byteLength);
    };
    for (const wrap of [shared, view]) {
      const got = await cosetHScalars({ curve, power, g, a: wrap(a), b: wrap(b), c: wrap(c), parts: 2 });
      expect(hex(got)).toBe(want);
    }
    expect(hex(await cosetTransform({ curve, power, g, evals: view(a) }))).toBe(hex(await reference(a, g)));
  });

  it("refuses a domain whose task would pass a worker's memory with UNSUPPORTED_MODE, before queueing anything", async () => {
    // A stand-in curve (bn128's Fr.s = 28): it records what is queued and allocates nothing.
    const queued: unknown[] = [];
    const fake: CosetCurve = {
      Fr: { s: 28, w: Array.from({ length: 29 }, () => new Uint8Array(32)), e: () => new Uint8Array(32) },
      tm: {
        concurrency: 2,
        queueAction: (task) => {
          queued.push(task);
          return Promise.reject(new Error("stand-in curve"));
        },
      },
    };
    const tiny = new Uint8Array(32);
    for (const power of [25, 26, 28]) {
      const g = new Uint8Array(32);
      for (const run of [
        () => cosetTransform({ curve: fake, power, g, evals: tiny }),
        () => cosetHScalars({ curve: fake, power, g, a: tiny, b: tiny, c: tiny }),
      ]) {
        const error = await run().catch((e: unknown) => e);
        expect(isVerinferError(error, "UNSUPPORTED_MODE"), `2^${power}`).toBe(true);
        expect((error as Error).message).toMatch(/domain of 2\^\d+ points is beyond the in-process prover/);
      }
    }
    expect(queued).toHaveLength(0);
    // 2^24 (1.5 GiB a task) still goes to the workers.
    expect(cosetTaskBytes(24)).toBeLessThanOrEqual(COSET_TASK_BYTES);
    expect(cosetTaskBytes(25)).toBeGreaterThan(COSET_TASK_BYTES);
    const error = await cosetTransform({ curve: fake, power: 24, g: new Uint8Array(32), evals: tiny }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toBe("stand-in curve");
    expect(queued).toHaveLength(1);
    expect(COSET_TASK_BYTES).toBeLessThan(2 ** 31);
  });

  it("refuses a domain of one point (a zkey's domain has at least 2)", async () => {
    const one = vector(1, randomElement);
    await expect(cosetTransform({ curve, power: 0, g: cosetOf(0), evals: one })).rejects.toThrow(RangeError);
    await expect(cosetHScalars({ curve, power: 0, g: cosetOf(0), a: one, b: one, c: one })).rejects.toThrow(RangeError);
  });
});
