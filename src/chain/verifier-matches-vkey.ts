import { isAddress, keccak256, type Provider } from "ethers";
import { VerinferError } from "../errors.js";
import { chainError } from "./chain-error.js";
import { compileVerifier } from "./deploy-verifier.js";

/** Parameters of {@link verifierMatchesVkey}. */
export interface VerifierMatchesVkeyParams {
  provider: Provider;
  /** The deployed verifier to audit (e.g. the one a model key names). */
  verifier: string;
  /** The verification key it should check proofs against (snarkjs JSON of any system; `pkg.vkey`). */
  vkey: unknown;
}

/** What {@link verifierMatchesVkey} found. */
export interface VerifierMatch {
  /** `true` when the deployed runtime bytecode is byte for byte the verifier verinfer builds for `vkey`. */
  matches: boolean;
  /** Why not, when it does not match. */
  reason?: string;
  /** keccak256 of the runtime bytecode verinfer builds for the vkey. */
  expectedCodeHash: string;
  /** keccak256 of the code at `verifier` (`keccak256("0x")` when there is none). */
  deployedCodeHash: string;
}

/**
 * Audits a deployed verifier (Groth16, PLONK or FFLONK, by the vkey's `protocol`) against a verification key:
 * renders snarkjs's verifier for the vkey, compiles
 * it as {@link deployVerifier} does (the pinned solc-js, `SOLC_SETTINGS`), and compares the runtime bytecode with
 * the code at `verifier`, byte for byte (metadata included, so the source must be verinfer's too). A verifier that
 * matches accepts exactly the proofs the vkey accepts; this is what a consumer checks before pinning a model key.
 * A verifier built any other way (another compiler or settings) does not match even when it is honest: rebuild it
 * or audit it by other means.
 *
 * @throws VerinferError `INVALID_INPUT` for a malformed address or vkey, `COMPILE_FAILED`, `CHAIN_ERROR` when the
 *   code cannot be read.
 * @example
 * ```ts
 * const { matches } = await verifierMatchesVkey({ provider, verifier: model.verifier, vkey: pkg.vkey });
 * ```
 */
export async function verifierMatchesVkey(params: VerifierMatchesVkeyParams): Promise<VerifierMatch> {
  if (!isAddress(params.verifier)) throw new VerinferError("INVALID_INPUT", "verifier must be an address");
  const expected = await expectedRuntimeCode(params.vkey);
  let deployed: string;
  try {
    deployed = (await params.provider.getCode(params.verifier)).toLowerCase();
  } catch (error) {
    throw chainError(error, "getCode");
  }
  const result = { expectedCodeHash: keccak256(expected), deployedCodeHash: keccak256(deployed) };
  if (deployed === "0x") return { matches: false, reason: "no code at the verifier's address", ...result };
  if (deployed !== expected) {
    return { matches: false, reason: "the deployed code is not the verifier of this vkey", ...result };
  }
  return { matches: true, ...result };
}

async function expectedRuntimeCode(vkey: unknown): Promise<string> {
  return (await compileVerifier({ vkey })).deployedBytecode.toLowerCase();
}
