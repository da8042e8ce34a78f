import { AbiCoder, keccak256 } from "ethers";

/**
 * The hash an attestation carries for a receipt's stated outputs: keccak256 of the ABI encoding of
 * `(int256[] quantized, int256 fracBits)` — cheap to recompute on-chain, and it pins the dequantized values too.
 *
 * @example
 * ```ts
 * outputHash(["-218", "20006"], 11); // "0x…"
 * ```
 */
export function outputHash(quantized: readonly (string | bigint)[], fracBits: number): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["int256[]", "int256"], [quantized.map(BigInt), fracBits]));
}
