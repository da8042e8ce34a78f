import type { z } from "zod";
import type { ReceiptProof } from "../attest/receipt.js";
import type { CircuitInputs, Groth16Proof, WitnessGenerator } from "../circuits/prove-groth16.js";
import type { PtauInfo } from "../setup/inspect-ptau.js";
import type { ZkeyContribution } from "../setup/verify-zkey.js";
import type { OnProgress } from "../util/progress.js";
import type { ProofSystem } from "./proof-system.js";

/** What a circuit costs a proof system: what sizes its ptau (see {@link ProofSystemModule.requiredPtauPower}). */
export interface CircuitSize {
  /** R1CS constraints. */
  constraints: number;
  /** Public signals (outputs + public inputs). */
  nPublic: number;
  /** PLONK-family systems: the gates their setup makes of the r1cs; `undefined` where a system pays for constraints. */
  gates: number | undefined;
}

/** Parameters of {@link ProofSystemModule.setup}: exactly one of `ptauFile` and `devCacheDir`. */
export interface ProofSystemSetupParams {
  r1cs: Uint8Array;
  /** A prepared ptau of at least the system's {@link ProofSystemModule.requiredPtauPower}. */
  ptauFile?: string;
  /**
   * Without a ptau: a development setup, whose ptau the system writes or reuses under `<devCacheDir>/ptau` and
   * returns as `devPtau` (one local contributor: whoever ran it could have kept τ).
   */
  devCacheDir?: string;
  onProgress?: OnProgress;
}

/** A setup of one proof system. */
export interface ProofSystemSetup {
  zkey: Uint8Array;
  /** Verification key in snarkjs's JSON shape of the system. */
  vkey: Record<string, unknown>;
  /** Circuit-specific (phase-2) contributions made; none for a universal setup. */
  contributions: ZkeyContribution[];
  /** PLONK-family systems: the gates snarkjs made of the r1cs. */
  gates?: number;
  /** Dev setups: the ptau used (written or reused under `devCacheDir`). */
  devPtau?: PtauInfo;
}

/** Parameters of {@link ProofSystemModule.prove}. */
export interface ProofSystemProveParams {
  witness: WitnessGenerator | Uint8Array;
  zkey: Uint8Array;
  /**
   * The circuit's r1cs. Groth16 checks every witness against it (A·w ∘ B·w = C·w) before proving; without it,
   * Groth16 verifies each proof it makes instead. PLONK and FFLONK ignore it (snarkjs's provers check the witness).
   */
  r1cs?: Uint8Array;
  inputs: CircuitInputs;
  /** Prove on this thread only, without snarkjs's thread pool (what a pool worker wants: one core each). */
  singleThread?: boolean;
}

/**
 * A PLONK or FFLONK proof as snarkjs writes `proof.json` (see the receipt schemas for its fields). Declared here,
 * not imported from snarkjs, because snarkjs ships no types: a public type naming it breaks users' builds.
 */
export type UniversalProof = Record<string, unknown> & { protocol: string; curve: string };

/** A proof in snarkjs's own JSON shapes (`proof.json`, `public.json`). */
export interface ProofSystemProof {
  proof: Groth16Proof | UniversalProof;
  publicSignals: string[];
}

/** Parameters of {@link ProofSystemModule.verify}. */
export interface ProofSystemVerifyParams {
  /** The verification key (snarkjs's `verification_key.json` of the system). */
  vkey: unknown;
  publicSignals: readonly string[];
  /** snarkjs's proof JSON of the system. */
  proof: unknown;
}

/** One call of the InferenceRegistry contract that submits a proof: the method and its arguments after the model key. */
export interface RegistryProofCall {
  method: "submitProof" | "submitUniversalProof";
  args: unknown[];
}

/**
 * Everything verinfer does that depends on the proof system, for one system. Each system is one module
 * (`groth16.ts`, `plonk.ts`, `fflonk.ts`) held in `PROOF_SYSTEM_MODULES`, a `Record<ProofSystem, …>`: adding a name
 * to `PROOF_SYSTEMS` makes the compiler ask for its module, and every caller looks its system up there — no code
 * branches on a system's name, so none can fall into another system's branch.
 */
export interface ProofSystemModule {
  readonly name: ProofSystem;
  /**
   * Whether a setup has circuit-specific (phase-2) contributors who must be trusted (Groth16). Without one, the
   * zkey is a function of the r1cs and the ptau: audits regenerate it instead of checking contributions.
   */
  readonly hasPhase2: boolean;
  /**
   * Whether `prove` reads the r1cs (Groth16 checks every witness against it). A system that ignores it is never
   * handed one: reading and hash-checking a large r1cs costs seconds of a first proof.
   */
  readonly provesWithR1cs: boolean;
  /** The contract snarkjs's Solidity verifier template of the system declares. */
  readonly verifierContract: string;
  /** zod schema of what the system's verifier (and Solidity template) reads from a verification key. */
  readonly vkeySchema: z.ZodType<Record<string, unknown>>;
  /** What the circuit in `r1cs` costs this system. @throws VerinferError `ARTIFACT_CORRUPT` for a non-r1cs. */
  circuitSize(r1cs: Uint8Array): CircuitSize;
  /** The smallest ptau power a setup of this system accepts for a circuit of `size` (snarkjs's own checks). */
  requiredPtauPower(size: CircuitSize): number;
  /** The setup of the system for an r1cs. @throws VerinferError `SETUP_REQUIRED`, `INVALID_OPTIONS`. */
  setup(params: ProofSystemSetupParams): Promise<ProofSystemSetup>;
  /** Witness and proof, in memory. @throws VerinferError `PROVE_FAILED`. */
  prove(params: ProofSystemProveParams): Promise<ProofSystemProof>;
  /** snarkjs's verifier of the system, without console output; snarkjs may throw on a malformed key or proof. */
  verify(params: ProofSystemVerifyParams): Promise<boolean>;
  /** The verification key a zkey of this system holds. @throws VerinferError `ARTIFACT_CORRUPT` for another system's. */
  exportVerificationKey(zkey: Uint8Array): Promise<Record<string, unknown>>;
  /** Solidity source of snarkjs's verifier for a key. @throws VerinferError `INVALID_INPUT` for a malformed key. */
  solidityVerifier(vkey: unknown): Promise<string>;
  /**
   * The InferenceRegistry call that submits a receipt's proof.
   *
   * @throws VerinferError `MALFORMED_RECEIPT` for a proof of another system or a value that is no field element.
   */
  registryCall(proof: ReceiptProof): RegistryProofCall;
}
