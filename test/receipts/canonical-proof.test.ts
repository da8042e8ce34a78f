// Issue 19, finding 4: snarkjs's verifier accepts one proof under several spellings (a coordinate plus q, a
// projective point with z ≠ 1), which would give one proof several receipts (several CIDs). Only snarkjs's own
// encoding is a receipt: every other spelling is MALFORMED_RECEIPT (malformed input throws, STYLE.md rule 5),
// while a public signal at or above r stays what it was, an invalid proof ({ valid: false }).
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ReceiptSchema } from "../../src/attest/receipt.js";
import { isVerinferError } from "../../src/errors.js";
import type { DenseNetwork } from "../../src/models/network.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { verifySnarkProof } from "../../src/proof-systems/verify-snark-proof.js";
import { verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { BASE_FIELD_MODULUS, FIELD_PRIME } from "../../src/util/field.js";
import {
  type AnyZkReceipt,
  asAnyZk,
  errorOf,
  TEST_CACHE,
  tinyCalibration,
  tinyNetwork,
  tinyPackage,
} from "../fixtures.js";

// The PLONK and FFLONK packages are of another network than the tiny one: compiled into TEST_CACHE under the tiny
// network's id, they would take over its by-id entry, which other tests resolve.
const otherTiny: DenseNetwork = {
  ...tinyNetwork,
  layers: tinyNetwork.layers.map((l, i) => (i === 1 ? { ...l, bias: [0, 0.2, -0.1, 0.0625] } : l)),
};

const q = BASE_FIELD_MODULUS;
const mod = (x: bigint) => ((x % q) + q) % q;
const plus = (s: string, m: bigint) => (BigInt(s) + m).toString();

/** The same affine G1 point in Jacobian coordinates with z = λ: (x·λ², y·λ³, λ). */
function projectiveG1(p: readonly string[], lambda: bigint): string[] {
  const [x, y] = p.map(BigInt) as [bigint, bigint];
  return [mod(x * lambda * lambda), mod(y * lambda * lambda * lambda), lambda].map(String);
}

/** The same affine G2 point with z = λ (a real scalar of Fq2). */
function projectiveG2(p: readonly (readonly string[])[], lambda: bigint): string[][] {
  const scale = (c: readonly string[], k: bigint) => c.map((v) => mod(BigInt(v) * k).toString());
  return [
    scale(p[0] as string[], lambda * lambda),
    scale(p[1] as string[], lambda * lambda * lambda),
    [String(lambda), "0"],
  ];
}

async function malformed(receipt: unknown, pkg: ModelPackage): Promise<void> {
  const error = await errorOf(verifyReceipt(receipt, { modelPackage: pkg }));
  expect(isVerinferError(error, "MALFORMED_RECEIPT"), String((error as Error)?.message)).toBe(true);
}

describe("one proof, one encoding", () => {
  const receipts: Record<"groth16" | "plonk" | "fflonk", { pkg: ModelPackage; r: AnyZkReceipt }> = {} as never;

  beforeAll(async () => {
    for (const system of ["groth16", "plonk", "fflonk"] as const) {
      const pkg =
        system === "groth16"
          ? await tinyPackage()
          : await compileModel(otherTiny, {
              calibration: tinyCalibration,
              cacheDir: TEST_CACHE,
              quiet: true,
              proofSystem: system,
            });
      const { receipt } = await verifiableInfer(pkg, tinyCalibration[2] as number[]);
      receipts[system] = { pkg, r: asAnyZk(receipt) };
    }
  }, 600_000);

  it("accepts snarkjs's own encoding of each system", async () => {
    for (const { pkg, r } of Object.values(receipts)) {
      expect(await verifyReceipt(r, { modelPackage: pkg })).toMatchObject({ valid: true });
    }
  });

  it("refuses a Groth16 proof with a coordinate plus q, or in projective coordinates, which snarkjs accepts", async () => {
    const { pkg, r } = receipts.groth16;
    if (r.proof.system !== "groth16") throw new Error("groth16 expected");
    const p = r.proof.proof;
    const spellings = [
      { ...p, pi_a: [plus(p.pi_a[0] as string, q), ...p.pi_a.slice(1)] },
      { ...p, pi_c: [p.pi_c[0] as string, plus(p.pi_c[1] as string, q), "1"] },
      { ...p, pi_a: projectiveG1(p.pi_a, 2n) },
      { ...p, pi_c: projectiveG1(p.pi_c, 12345n) },
      { ...p, pi_b: projectiveG2(p.pi_b, 3n) },
      { ...p, pi_b: [[plus(p.pi_b[0]?.[0] as string, q), p.pi_b[0]?.[1] as string], ...p.pi_b.slice(1)] },
    ];
    for (const proof of spellings) {
      // The attack is real: snarkjs's verifier takes the second spelling for the same proof.
      expect(
        await verifySnarkProof({ system: "groth16", vkey: pkg.vkey, publicSignals: r.proof.publicSignals, proof }),
      ).toBe(true);
      await malformed({ ...r, proof: { ...r.proof, proof } }, pkg);
    }
  });

  it("refuses a PLONK proof with a commitment plus q, a projective commitment or an evaluation plus r", async () => {
    const { pkg, r } = receipts.plonk;
    if (r.proof.system !== "plonk") throw new Error("plonk expected");
    const p = r.proof.proof;
    for (const proof of [
      { ...p, A: [plus(p.A[0] as string, q), ...p.A.slice(1)] },
      { ...p, Wxi: projectiveG1(p.Wxi, 5n) },
      { ...p, eval_a: plus(p.eval_a, FIELD_PRIME) },
      { ...p, eval_zw: `0${p.eval_zw}` },
    ]) {
      await malformed({ ...r, proof: { ...r.proof, proof } }, pkg);
    }
  });

  it("refuses an FFLONK proof with a commitment plus q, a projective commitment or an evaluation plus r", async () => {
    const { pkg, r } = receipts.fflonk;
    if (r.proof.system !== "fflonk") throw new Error("fflonk expected");
    const p = r.proof.proof;
    const c1 = p.polynomials.C1;
    for (const proof of [
      { ...p, polynomials: { ...p.polynomials, C1: [plus(c1[0] as string, q), ...c1.slice(1)] } },
      { ...p, polynomials: { ...p.polynomials, W2: projectiveG1(p.polynomials.W2, 7n) } },
      { ...p, evaluations: { ...p.evaluations, a: plus(p.evaluations.a, FIELD_PRIME) } },
      { ...p, evaluations: { ...p.evaluations, inv: `+${p.evaluations.inv}` } },
    ]) {
      await malformed({ ...r, proof: { ...r.proof, proof } }, pkg);
    }
  });

  it("refuses public signals spelled with leading zeros or a sign; one plus r stays an invalid proof", async () => {
    for (const { pkg, r } of Object.values(receipts)) {
      const ps = r.proof.publicSignals;
      for (const spelled of [`0${ps[1]}`, `+${ps[1]}`, `-${ps[1]}`, ` ${ps[1]}`]) {
        await malformed({ ...r, proof: { ...r.proof, publicSignals: [ps[0], spelled, ...ps.slice(2)] } }, pkg);
      }
      const aliased = {
        ...r,
        proof: { ...r.proof, publicSignals: [ps[0], plus(ps[1] as string, FIELD_PRIME), ...ps.slice(2)] },
      };
      expect(await verifyReceipt(aliased, { modelPackage: pkg })).toMatchObject({ valid: false });
    }
  });

  it("property: every other spelling of a Groth16 point fails the receipt schema, the canonical one passes", () => {
    const { r } = receipts.groth16;
    if (r.proof.system !== "groth16") throw new Error("groth16 expected");
    const p = r.proof.proof;
    expect(ReceiptSchema.safeParse(r).success).toBe(true);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n, max: q - 1n }),
        fc.bigInt({ min: 1n, max: 5n }),
        fc.constantFrom("pi_a", "pi_b", "pi_c"),
        fc.boolean(),
        (lambda, k, which, projective) => {
          let proof: typeof p;
          if (which === "pi_b") {
            const b = p.pi_b;
            proof = projective
              ? { ...p, pi_b: projectiveG2(b, lambda) }
              : {
                  ...p,
                  pi_b: [[b[0]?.[0] as string, plus(b[0]?.[1] as string, k * q)], b[1] as string[], b[2] as string[]],
                };
          } else {
            const a = p[which];
            proof = {
              ...p,
              [which]: projective ? projectiveG1(a, lambda) : [a[0] as string, plus(a[1] as string, k * q), "1"],
            };
          }
          return !ReceiptSchema.safeParse({ ...r, proof: { ...r.proof, proof } }).success;
        },
      ),
      { numRuns: 200, seed: 19 },
    );
  });
});
