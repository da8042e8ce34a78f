import { BASE_FIELD_MODULUS, FIELD_PRIME } from "../util/field.js";

/** A proof as the receipt schema has parsed it: decimal strings, shapes already checked. */
export type ProofFields =
  | { system: "groth16"; proof: { pi_a: string[]; pi_b: string[][]; pi_c: string[] } }
  | { system: "plonk"; proof: Record<string, unknown> }
  | { system: "fflonk"; proof: { polynomials: Record<string, string[]>; evaluations: Record<string, string> } };

const G1_KEYS_PLONK = ["A", "B", "C", "Z", "T1", "T2", "T3", "Wxi", "Wxiw"] as const;
const EVALS_PLONK = ["eval_a", "eval_b", "eval_c", "eval_s1", "eval_s2", "eval_zw"] as const;

const reduced = (s: string, modulus: bigint) => BigInt(s) < modulus;

/**
 * A G1 point as snarkjs writes it: affine `[x, y, "1"]` with x, y < q, or the point at infinity `["0", "1", "0"]`.
 * Anything else (projective z ≠ 1, a coordinate plus q) names the same point a second way.
 */
function g1Problem(name: string, p: readonly string[]): string | undefined {
  if (p[0] === "0" && p[1] === "1" && p[2] === "0") return undefined;
  if (p[2] !== "1") return `${name} is not affine (z must be "1")`;
  if (!reduced(p[0] as string, BASE_FIELD_MODULUS) || !reduced(p[1] as string, BASE_FIELD_MODULUS)) {
    return `${name} has a coordinate at or above the base field modulus`;
  }
  return undefined;
}

/** A G2 point as snarkjs writes it: `[[x0, x1], [y0, y1], ["1", "0"]]` reduced, or infinity `[[0,0],[1,0],[0,0]]`. */
function g2Problem(name: string, p: readonly (readonly string[])[]): string | undefined {
  const flat = p.flat();
  if (flat.join(",") === "0,0,1,0,0,0") return undefined;
  if (p[2]?.[0] !== "1" || p[2]?.[1] !== "0") return `${name} is not affine (z must be ["1", "0"])`;
  if (flat.slice(0, 4).some((c) => !reduced(c, BASE_FIELD_MODULUS))) {
    return `${name} has a coordinate at or above the base field modulus`;
  }
  return undefined;
}

function scalarProblem(name: string, s: string): string | undefined {
  return reduced(s, FIELD_PRIME) ? undefined : `${name} is at or above the scalar field modulus`;
}

/**
 * Why a proof is not in the one encoding verinfer accepts, or `undefined` when it is: snarkjs's own output — G1/G2
 * points affine with z exactly `"1"` (`["1","0"]` in G2) or the point at infinity as snarkjs writes it,
 * coordinates reduced below q, evaluations reduced below r (decimal spelling is checked by the schema). snarkjs's
 * verifier accepts other spellings of one proof (x + q, projective z ≠ 1), which would give one proof several
 * receipts (several CIDs); contracts refuse them anyway.
 *
 * Public signals are not checked here: one at or above r is a false statement, which `verifyReceipt` reports as
 * an invalid proof (`{ valid: false }`) and the registry as `SignalOutOfField`.
 *
 * @example
 * ```ts
 * const why = canonicalProofProblem({ system: "groth16", proof }); // undefined for snarkjs's output
 * ```
 */
export function canonicalProofProblem(p: ProofFields): string | undefined {
  switch (p.system) {
    case "groth16":
      return g1Problem("pi_a", p.proof.pi_a) ?? g2Problem("pi_b", p.proof.pi_b) ?? g1Problem("pi_c", p.proof.pi_c);
    case "plonk": {
      for (const k of G1_KEYS_PLONK) {
        const why = g1Problem(k, p.proof[k] as string[]);
        if (why) return why;
      }
      for (const k of EVALS_PLONK) {
        const why = scalarProblem(k, p.proof[k] as string);
        if (why) return why;
      }
      return undefined;
    }
    case "fflonk": {
      for (const [k, point] of Object.entries(p.proof.polynomials)) {
        const why = g1Problem(k, point);
        if (why) return why;
      }
      for (const [k, s] of Object.entries(p.proof.evaluations)) {
        const why = scalarProblem(k, s);
        if (why) return why;
      }
      return undefined;
    }
  }
}
