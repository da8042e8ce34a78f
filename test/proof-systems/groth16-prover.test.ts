// verinfer's own Groth16 prover (issue 22): its proofs are snarkjs's (snarkjs's verifier and CLI accept them), its
// A·w / B·w / C evaluation equals a plain bigint evaluation of the r1cs (small-number fast path and bigint slow path
// alike), a witness that breaks a constraint is a typed PROVE_FAILED, and a malformed zkey or witness a typed error.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSalt } from "../../src/attest/commitments.js";
import { proveGroth16Witness } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { elementAt, type FieldVector, readVector } from "../../src/proof-systems/groth16-field.js";
import { loadGroth16Key } from "../../src/proof-systems/groth16-key.js";
import { type CurveGroup, multiExpByWidth, scalarWidths } from "../../src/proof-systems/groth16-msm.js";
import { evaluateGroth16Abc, proveWithGroth16Key, violatedConstraint } from "../../src/proof-systems/groth16-prover.js";
import { hasProverPlugins, proverCurve } from "../../src/proof-systems/wasm/prover-curve.js";
import { FIELD_PRIME } from "../../src/util/field.js";
import { demoPackage, demoSamples, errorOf, ROOT, tinyPackage } from "../fixtures.js";
import { encodeWtns, type LinearCombination, parseR1cs, type R1cs } from "../r1cs-check.js";

const run = promisify(execFile);
const SNARKJS = path.join(ROOT, "node_modules", "snarkjs", "build", "cli.cjs");
const P = FIELD_PRIME;

let pkg: ModelPackage;
let zkey: Uint8Array;
let r1csBytes: Uint8Array;
let r1cs: R1cs;
let wtns: Uint8Array;

function witnessOf(bytes: Uint8Array): bigint[] {
  const v = readVector(bytes, bytes.byteLength - 32 * r1cs.nWires, r1cs.nWires);
  if ("notReduced" in v) throw new Error("unreduced witness");
  return Array.from({ length: r1cs.nWires }, (_, i) => elementAt(v, i));
}

function lc(terms: LinearCombination, w: readonly bigint[]): bigint {
  let acc = 0n;
  for (const [s, c] of terms) acc += c * (w[s] as bigint);
  return ((acc % P) + P) % P;
}

function asBigints(v: FieldVector, n: number): bigint[] {
  return Array.from({ length: n }, (_, i) => elementAt(v, i));
}

/** snarkjs's QAP rows, evaluated the plain way: the r1cs's A and B, then A[nConstraints + s] = w[s] (public rows). */
function referenceAbc(w: readonly bigint[], nPublic: number) {
  const a = r1cs.constraints.map(([ra]) => lc(ra, w));
  const b = r1cs.constraints.map(([, rb]) => lc(rb, w));
  for (let s = 0; s <= nPublic; s++) {
    a.push(w[s] as bigint);
    b.push(0n);
  }
  return { a, b, c: a.map((x, i) => (x * (b[i] as bigint)) % P) };
}

beforeAll(async () => {
  pkg = await demoPackage();
  const artifacts = await pkg.provingArtifacts();
  zkey = artifacts.zkey;
  r1csBytes = new Uint8Array(await pkg.artifact("r1cs"));
  r1cs = parseR1cs(r1csBytes);
  wtns = await artifacts.witness.compute({
    input: quantizeInput(pkg.network, demoSamples.inputs[0]),
    inputSalt: randomSalt(),
    outputSalt: randomSalt(),
  });
});

afterAll(async () => {
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("verinfer's Groth16 prover", () => {
  it("makes proofs snarkjs's verifier and its CLI accept, with the witness's public signals", async () => {
    const key = loadGroth16Key({ zkey, r1cs: r1csBytes });
    const { proof, publicSignals } = await proveWithGroth16Key({ key, wtns });
    expect(await snarkjs.groth16.verify(pkg.vkey, publicSignals, proof)).toBe(true);
    const w = witnessOf(wtns);
    expect(publicSignals).toEqual(w.slice(1, 1 + key.nPublic).map(String));
    // A proof for other public signals is not accepted: the proof is bound to this witness.
    const other = [...publicSignals];
    other[0] = ((BigInt(other[0] as string) + 1n) % P).toString();
    expect(await snarkjs.groth16.verify(pkg.vkey, other, proof)).toBe(false);
    const dir = await mkdtemp(path.join(os.tmpdir(), "groth16-prover-"));
    try {
      await writeFile(path.join(dir, "vkey.json"), JSON.stringify(pkg.vkey));
      await writeFile(path.join(dir, "proof.json"), JSON.stringify(proof));
      await writeFile(path.join(dir, "public.json"), JSON.stringify(publicSignals));
      const { stdout } = await run(
        process.execPath,
        [SNARKJS, "groth16", "verify", "vkey.json", "public.json", "proof.json"],
        {
          cwd: dir,
        },
      );
      expect(stdout).toMatch(/OK!/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs its multi-exponentiations on the plugin curve (shared with snarkjs), as does the reference MSM path", async () => {
    const key = loadGroth16Key({ zkey, r1cs: r1csBytes });
    await snarkjs.curves.getCurveFromName("bn128");
    const batch = await proveWithGroth16Key({ key, wtns });
    expect(hasProverPlugins((globalThis as { curve_bn128?: unknown }).curve_bn128)).toBe(true);
    expect(await snarkjs.groth16.verify(pkg.vkey, batch.publicSignals, batch.proof)).toBe(true);
    const reference = await proveWithGroth16Key({ key, wtns, msm: "ffjavascript" });
    expect(await snarkjs.groth16.verify(pkg.vkey, reference.publicSignals, reference.proof)).toBe(true);
  });

  it("keeps the plugin curve shared when a plain snarkjs curve is built while it builds (no third thread pool)", async () => {
    const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
    await g.curve_bn128?.terminate();
    expect(g.curve_bn128).toBeNull();
    const [ours, theirs] = await Promise.all([
      proverCurve({ singleThread: false }),
      new Promise((r) => setTimeout(r, 5)).then(() => snarkjs.curves.getCurveFromName("bn128")),
    ]);
    expect(hasProverPlugins(ours)).toBe(true);
    expect(g.curve_bn128).toBe(ours);
    expect(await proverCurve({ singleThread: false })).toBe(ours);
    if (theirs !== (ours as unknown)) await theirs.terminate();
    await (ours as unknown as { terminate(): Promise<void> }).terminate();
    // After a terminate (ffjavascript's clears the cache) the next call builds the plugin curve again.
    expect(hasProverPlugins(await proverCurve({ singleThread: false }))).toBe(true);
  });

  it("proves on a single-threaded curve too (what a pool worker uses)", async () => {
    const key = loadGroth16Key({ zkey });
    const { proof, publicSignals } = await proveWithGroth16Key({ key, wtns, singleThread: true });
    expect(await snarkjs.groth16.verify(pkg.vkey, publicSignals, proof)).toBe(true);
  });

  it("evaluates A·w, B·w and C = A∘B exactly as the r1cs does, on the honest witness and on random ones", () => {
    const key = loadGroth16Key({ zkey, r1cs: r1csBytes });
    expect(key.rows).toBe(r1cs.constraints.length + key.nPublic + 1);
    const honest = witnessOf(wtns);
    // Random witnesses hit every path: zeros, small values of both signs, values at the 2^52 / 2^53 edges (whose
    // products and sums leave the exact-number range), and full-width field elements.
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    const edge = [0n, 1n, 2n ** 26n, 2n ** 52n - 1n, 2n ** 52n, 2n ** 53n + 1n, 2n ** 128n + 7n, P - 1n];
    const randomWitness = () =>
      honest.map((_, i) => {
        if (i === 0) return 1n;
        const k = rnd() % 6;
        if (k === 0) return 0n;
        if (k === 1) return BigInt(rnd() % 65536);
        if (k === 2) return P - BigInt(1 + (rnd() % 65536));
        if (k === 3) return edge[rnd() % edge.length] as bigint;
        if (k === 4) return P - (edge[rnd() % edge.length] as bigint) - 1n;
        return (BigInt(rnd()) * BigInt(rnd()) * BigInt(rnd()) * 2n ** 160n + BigInt(rnd())) % P;
      });
    for (const w of [honest, randomWitness(), randomWitness(), randomWitness()]) {
      const values = readVector(encodeWtns(w).subarray(-32 * w.length), 0, w.length);
      if ("notReduced" in values) throw new Error("unreduced");
      const abc = evaluateGroth16Abc(key, values);
      const ref = referenceAbc(w, key.nPublic);
      expect(asBigints(abc.a, key.rows)).toEqual(ref.a);
      expect(asBigints(abc.b, key.rows)).toEqual(ref.b);
      expect(asBigints(abc.c, key.rows)).toEqual(ref.c);
      const firstBroken = r1cs.constraints.findIndex(([ra, rb, rc]) => (lc(ra, w) * lc(rb, w)) % P !== lc(rc, w));
      expect(violatedConstraint(key, values, abc)).toBe(firstBroken);
    }
  });

  it("refuses a domain too large for a prover worker's memory (UNSUPPORTED_MODE) before reading the witness", async () => {
    // Only the power is read: without the check, the empty witness would fail as PROVE_FAILED (review s3 F1).
    const key = { power: 25 } as unknown as Parameters<typeof proveWithGroth16Key>[0]["key"];
    const error = await proveWithGroth16Key({ key, wtns: new Uint8Array(0) }).catch((e: unknown) => e);
    expect(isVerinferError(error, "UNSUPPORTED_MODE")).toBe(true);
  });

  it("refuses a witness that breaks a constraint (PROVE_FAILED), before any proof is made", async () => {
    const key = loadGroth16Key({ zkey, r1cs: r1csBytes });
    const w = witnessOf(wtns);
    for (const wire of [1, 1 + key.nPublic, w.length - 1]) {
      const tampered = [...w];
      tampered[wire] = ((tampered[wire] as bigint) + 1n) % P;
      const error = await errorOf(proveWithGroth16Key({ key, wtns: encodeWtns(tampered) }));
      expect(isVerinferError(error, "PROVE_FAILED")).toBe(true);
    }
  });

  it("refuses a witness whose wire 0 is not 1 (an all-zero witness satisfies every r1cs, yet its proof cannot verify)", async () => {
    const key = loadGroth16Key({ zkey, r1cs: r1csBytes });
    const w = witnessOf(wtns);
    const error = await errorOf(proveWithGroth16Key({ key, wtns: encodeWtns(w.map(() => 0n)) }));
    expect(isVerinferError(error, "PROVE_FAILED")).toBe(true);
    expect((error as Error).message).toContain("wire 0");
  });

  it("refuses a truncated or altered zkey, an r1cs of another circuit, and a malformed witness with typed errors", async () => {
    const corrupt = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return isVerinferError(error, "ARTIFACT_CORRUPT");
      }
      return false;
    };
    expect(corrupt(() => loadGroth16Key({ zkey: zkey.subarray(0, zkey.byteLength - 100) }))).toBe(true);
    expect(corrupt(() => loadGroth16Key({ zkey: zkey.subarray(0, 200) }))).toBe(true);
    const plonkLike = zkey.slice();
    new DataView(plonkLike.buffer).setUint32(12 + 12, 2, true); // section 1: protocol 2 (PLONK)
    expect(corrupt(() => loadGroth16Key({ zkey: plonkLike }))).toBe(true);
    expect(corrupt(() => loadGroth16Key({ zkey: new TextEncoder().encode("not a zkey at all") }))).toBe(true);
    const tinyR1cs = new Uint8Array(await (await tinyPackage()).artifact("r1cs"));
    expect(corrupt(() => loadGroth16Key({ zkey, r1cs: tinyR1cs }))).toBe(true);
    const key = loadGroth16Key({ zkey, r1cs: r1csBytes });
    const w = witnessOf(wtns);
    for (const bad of [encodeWtns(w.slice(0, -1)), wtns.subarray(0, wtns.byteLength - 1), encodeWtns(w, 7n)]) {
      const error = await errorOf(proveWithGroth16Key({ key, wtns: bad }));
      expect(isVerinferError(error, "PROVE_FAILED")).toBe(true);
    }
  });

  it("refuses a broken witness on the wired path too: by the r1cs check, or without an r1cs by verifying the proof", async () => {
    const w = witnessOf(wtns);
    const tampered = [...w];
    tampered[w.length - 1] = ((tampered[w.length - 1] as bigint) + 1n) % P;
    const bad = encodeWtns(tampered);
    for (const r1csArg of [{ r1cs: r1csBytes }, {}]) {
      const error = await errorOf(proveGroth16Witness({ wtns: bad, zkey, ...r1csArg }));
      expect(isVerinferError(error, "PROVE_FAILED")).toBe(true);
      const good = await proveGroth16Witness({ wtns, zkey, ...r1csArg });
      expect(await snarkjs.groth16.verify(pkg.vkey, good.publicSignals, good.proof)).toBe(true);
    }
  });

  it("never returns a proof that does not verify: a corrupted H point with an honest witness and r1cs is PROVE_FAILED", async () => {
    // The r1cs check passes (the witness is honest); only the final pairing check can see a wrong multi-exponentiation.
    const bad = zkey.slice();
    const view = new DataView(bad.buffer, bad.byteOffset, bad.byteLength);
    let at = 12;
    let hAt = -1;
    for (let i = 0; i < view.getUint32(8, true); i++) {
      const type = view.getUint32(at, true);
      const size = Number(view.getBigUint64(at + 4, true));
      if (type === 9) hAt = at + 12;
      at += 12 + size;
    }
    expect(hAt).toBeGreaterThan(0);
    (bad[hAt + 64 + 5] as number) ^= 0x10; // the second H point's x: off the curve
    for (const singleThread of [false, true]) {
      const error = await errorOf(proveGroth16Witness({ wtns, zkey: bad, r1cs: r1csBytes, singleThread }));
      expect(isVerinferError(error, "PROVE_FAILED")).toBe(true);
      expect(String((error as Error).message)).toMatch(/does not verify/);
    }
    const good = await proveGroth16Witness({ wtns, zkey, r1cs: r1csBytes });
    expect(await snarkjs.groth16.verify(pkg.vkey, good.publicSignals, good.proof)).toBe(true);
  });

  it("sums scalar·point grouped by scalar width exactly as one full-width multi-exponentiation does", async () => {
    const curve = (await snarkjs.curves.getCurveFromName("bn128")) as unknown as {
      G1: CurveGroup & { eq(a: Uint8Array, b: Uint8Array): boolean; toAffine(p: Uint8Array): Uint8Array };
    };
    const key = loadGroth16Key({ zkey });
    const n = 300;
    const scalars = new Uint8Array(32 * n);
    const view = new DataView(scalars.buffer);
    for (let i = 0; i < n; i++) {
      // widths 0..9 bytes and full width; the top byte of each nonzero group is nonzero
      const width = i % 11 === 10 ? 31 : i % 11;
      for (let b = 0; b < width; b++) scalars[32 * i + b] = (i * 37 + b * 11 + 1) & 0xff;
      if (width > 0) scalars[32 * i + width - 1] = 1 + (i % 200);
    }
    view.setUint32(0, 0, true); // a zero scalar
    const bases = key.pointsA.subarray(0, 64 * n);
    const widths = scalarWidths(scalars, 0, n);
    expect(widths[1]).toBe(1);
    expect(widths[10]).toBe(31);
    const grouped = await multiExpByWidth({ group: curve.G1, bases, pointBytes: 64, scalars, scalarAt: 0, widths, n });
    const plain = await curve.G1.multiExpAffine(bases, scalars);
    expect(curve.G1.eq(grouped, plain)).toBe(true);
    // …and differs when one scalar changes (the comparison can fail).
    scalars[32 * 5] = (scalars[32 * 5] as number) ^ 1;
    const changed = await multiExpByWidth({
      group: curve.G1,
      bases,
      pointBytes: 64,
      scalars,
      scalarAt: 0,
      widths: scalarWidths(scalars, 0, n),
      n,
    });
    expect(curve.G1.eq(changed, plain)).toBe(false);
  });
});
