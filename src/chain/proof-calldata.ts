import type { ReceiptProof } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";

type G1 = [bigint, bigint];
type G2 = [[bigint, bigint], [bigint, bigint]];

/** The arguments of a snarkjs Groth16 verifier's `verifyProof(a, b, c, publicSignals)` (and `submitProof`). */
export interface Groth16Calldata {
  a: G1;
  b: G2;
  c: G1;
  publicSignals: bigint[];
}

/** Base field of BN254: proof coordinates are elements of it. */
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

function coordinate(value: string | undefined, what: string): bigint {
  if (value === undefined || !/^\d{1,78}$/.test(value)) {
    throw new VerinferError("MALFORMED_RECEIPT", `${what} is not a decimal field element`, { meta: { value } });
  }
  const v = BigInt(value);
  if (v >= BASE_FIELD) throw new VerinferError("MALFORMED_RECEIPT", `${what} is not below the base field modulus`);
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
export function groth16Calldata(proof: Pick<ReceiptProof, "proof" | "publicSignals">): Groth16Calldata {
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
    publicSignals: proof.publicSignals.map((s, i) => {
      if (!/^\d{1,78}$/.test(s)) throw new VerinferError("MALFORMED_RECEIPT", `publicSignals[${i}] is not decimal`);
      const v = BigInt(s);
      if (v >= 1n << 256n) throw new VerinferError("MALFORMED_RECEIPT", `publicSignals[${i}] does not fit uint256`);
      return v;
    }),
  };
}
