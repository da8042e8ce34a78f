import { FFLONK_EVALUATIONS, type ReceiptProof } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { BASE_FIELD_MODULUS, isDecimalString } from "../util/field.js";

type G1 = [bigint, bigint];
type G2 = [[bigint, bigint], [bigint, bigint]];

/** The arguments of a snarkjs Groth16 verifier's `verifyProof(a, b, c, publicSignals)` (and `submitProof`). */
export interface Groth16Calldata {
  a: G1;
  b: G2;
  c: G1;
  publicSignals: bigint[];
}

function coordinate(value: string | undefined, what: string): bigint {
  if (!isDecimalString(value)) {
    throw new VerinferError("MALFORMED_RECEIPT", `${what} is not a decimal field element`, { meta: { value } });
  }
  const v = BigInt(value);
  if (v >= BASE_FIELD_MODULUS)
    throw new VerinferError("MALFORMED_RECEIPT", `${what} is not below the base field modulus`);
  return v;
}

/**
 * Converts a snarkjs Groth16 proof and its public signals to the calldata of snarkjs's Solidity verifier — the
 * same numbers `snarkjs.groth16.exportSolidityCallData` prints. The projective third coordinates are dropped, and
 * each G2 coordinate pair of `pi_b` is swapped: snarkjs writes Fp2 elements as `[c0, c1]`, the EVM pairing
 * precompile (EIP-197) reads them as `(c1, c0)`.
 *
 * Public signals are passed through unreduced, so a value ≥ the field modulus reaches the chain and is rejected
 * there; it is not silently wrapped here.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` for a coordinate that is not a base field element.
 * @example
 * ```ts
 * const { a, b, c, publicSignals } = groth16Calldata(receipt.proof);
 * await verifier.verifyProof(a, b, c, publicSignals);
 * ```
 */
export function groth16Calldata(
  proof: Pick<Extract<ReceiptProof, { system: "groth16" }>, "proof" | "publicSignals">,
): Groth16Calldata {
  const { pi_a, pi_b, pi_c } = proof.proof;
  const b0 = pi_b[0] ?? [];
  const b1 = pi_b[1] ?? [];
  return {
    a: [coordinate(pi_a[0], "pi_a[0]"), coordinate(pi_a[1], "pi_a[1]")],
    b: [
      [coordinate(b0[1], "pi_b[0][1]"), coordinate(b0[0], "pi_b[0][0]")],
      [coordinate(b1[1], "pi_b[1][1]"), coordinate(b1[0], "pi_b[1][0]")],
    ],
    c: [coordinate(pi_c[0], "pi_c[0]"), coordinate(pi_c[1], "pi_c[1]")],
    publicSignals: signals(proof.publicSignals),
  };
}

function word(value: string | undefined, what: string): bigint {
  if (!isDecimalString(value)) {
    throw new VerinferError("MALFORMED_RECEIPT", `${what} is not decimal`, { meta: { value } });
  }
  const v = BigInt(value);
  if (v >= 1n << 256n) throw new VerinferError("MALFORMED_RECEIPT", `${what} does not fit uint256`);
  return v;
}

function signals(publicSignals: readonly string[]): bigint[] {
  return publicSignals.map((s, i) => word(s, `publicSignals[${i}]`));
}

function point(p: readonly string[] | undefined, what: string): [bigint, bigint] {
  return [coordinate(p?.[0], `${what}[0]`), coordinate(p?.[1], `${what}[1]`)];
}

/**
 * The arguments of a snarkjs PLONK or FFLONK verifier's `verifyProof(proof, publicSignals)` (and the registry's
 * `submitPlonkProof` / `submitFflonkProof`): the proof as 24 words, the public signals as they are.
 */
export interface UniversalCalldata {
  proof: bigint[];
  publicSignals: bigint[];
}

/**
 * Converts a snarkjs PLONK proof and its public signals to the calldata of snarkjs's PLONK Solidity verifier,
 * `verifyProof(uint256[24], uint256[n])` — the same numbers `snarkjs.plonk.exportSolidityCallData` prints: the
 * nine G1 commitments (A, B, C, Z, T1, T2, T3, Wxi, Wxiw) as affine x, y, then the six evaluations. Values are
 * passed through unreduced: one outside its field is rejected on chain, never wrapped here.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` for a coordinate that is not a base field element or a value that is
 *   not a uint256.
 * @example
 * ```ts
 * const { proof, publicSignals } = plonkCalldata(receipt.proof);
 * await verifier.verifyProof(proof, publicSignals);
 * ```
 */
export function plonkCalldata(
  proof: Pick<Extract<ReceiptProof, { system: "plonk" }>, "proof" | "publicSignals">,
): UniversalCalldata {
  const p = proof.proof;
  const points = (["A", "B", "C", "Z", "T1", "T2", "T3", "Wxi", "Wxiw"] as const).flatMap((k) => point(p[k], k));
  const evals = (["eval_a", "eval_b", "eval_c", "eval_s1", "eval_s2", "eval_zw"] as const).map((k) => word(p[k], k));
  return { proof: [...points, ...evals], publicSignals: signals(proof.publicSignals) };
}

/**
 * Converts a snarkjs FFLONK proof and its public signals to the calldata of snarkjs's FFLONK Solidity verifier,
 * `verifyProof(bytes32[24], uint256[n])` — the same numbers `snarkjs.fflonk.exportSolidityCallData` prints: the
 * commitments C1, C2, W1, W2 as affine x, y, then the 16 evaluations in {@link FFLONK_EVALUATIONS} order.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` as {@link plonkCalldata}.
 * @example
 * ```ts
 * const { proof, publicSignals } = fflonkCalldata(receipt.proof);
 * ```
 */
export function fflonkCalldata(
  proof: Pick<Extract<ReceiptProof, { system: "fflonk" }>, "proof" | "publicSignals">,
): UniversalCalldata {
  const { polynomials, evaluations } = proof.proof;
  const points = (["C1", "C2", "W1", "W2"] as const).flatMap((k) => point(polynomials[k], k));
  const evals = FFLONK_EVALUATIONS.map((k) => word(evaluations[k], k));
  return { proof: [...points, ...evals], publicSignals: signals(proof.publicSignals) };
}
