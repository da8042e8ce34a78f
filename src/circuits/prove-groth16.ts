import { WitnessCalculatorBuilder } from "circom_runtime";
import { VerinferError } from "../errors.js";
import { exportVerificationKey } from "../proof-systems/export-verification-key.js";
import { type Groth16ProvingKey, loadGroth16Key, withR1cs } from "../proof-systems/groth16-key.js";
import {
  type Groth16VerifyingPoints,
  groth16ProofHolds,
  groth16VerifyingPoints,
  type PairingCurve,
} from "../proof-systems/groth16-proof-check.js";
import { proveWithGroth16Key } from "../proof-systems/groth16-prover.js";
import { proverCurve } from "../proof-systems/wasm/prover-curve.js";
import { sha256Hex } from "../storage/sha256-hex.js";
import { toField } from "../util/field.js";
import { directWitness, directWitnessOfModel, isDirectWitnessProgram } from "./direct/witness-program.js";
import { unrefIdleCurveWorkers } from "./unref-idle-curve-workers.js";

/** Private inputs of a verinfer model circuit. */
export interface CircuitInputs {
  /** Quantized input values (signed). */
  input: readonly bigint[];
  inputSalt: bigint;
  outputSalt: bigint;
}

/**
 * A Groth16 proof exactly as snarkjs writes `proof.json` (bn128 points as decimal strings). Declared here, not
 * imported from snarkjs, because snarkjs ships no types: a public type naming it would break users' builds.
 */
export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

/** A Groth16 proof and public signals exactly as snarkjs writes `proof.json` and `public.json`. */
export interface Groth16ProofBundle {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** The circuit's input object (field elements as decimal strings) for witness generation. */
export function circuitInputJson(inputs: CircuitInputs): Record<string, string | string[]> {
  return {
    in: inputs.input.map((v) => toField(v).toString()),
    inputSalt: inputs.inputSalt.toString(),
    outputSalt: inputs.outputSalt.toString(),
  };
}

interface WitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array>;
}

/**
 * A circuit's witness calculator, instantiated once and reused. The witness program is a circom wasm (instantiating
 * it costs more than computing a witness for a large model: ~100 ms vs ~25 ms for mlp-784-56-10) or, for circuits
 * the direct backend wrote, its witness program (the network, walked as when the R1CS was written). Calls are
 * serialized because one wasm instance holds one witness at a time.
 */
export class WitnessGenerator {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly calculate: (inputs: CircuitInputs) => Promise<Uint8Array> | Uint8Array) {}

  /**
   * Instantiates the witness program: a circom wasm, or a direct-backend program — with `modelId`, one that must
   * be that model's (its network recomputed to that id: `ARTIFACT_CORRUPT` otherwise).
   */
  static async create(program: Uint8Array, options: { modelId?: string } = {}): Promise<WitnessGenerator> {
    if (isDirectWitnessProgram(program)) {
      return new WitnessGenerator(
        options.modelId === undefined ? directWitness(program) : await directWitnessOfModel(program, options.modelId),
      );
    }
    const calculator = (await WitnessCalculatorBuilder(program)) as WitnessCalculator;
    return new WitnessGenerator((inputs) => calculator.calculateWTNSBin(circuitInputJson(inputs), 1));
  }

  /**
   * Computes the witness, as `.wtns` file bytes (snarkjs's format).
   *
   * @throws VerinferError `PROVE_FAILED` when the inputs do not satisfy the circuit.
   */
  compute(inputs: CircuitInputs): Promise<Uint8Array> {
    const run = this.queue.then(async () => {
      try {
        return await this.calculate(inputs);
      } catch (cause) {
        throw new VerinferError("PROVE_FAILED", "witness generation failed", {
          details: cause instanceof Error ? cause.message : String(cause),
          cause,
        });
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Computes the witness with the circuit's witness wasm (instantiating it for this one call; keep a
 * {@link WitnessGenerator} for repeated use).
 *
 * @returns the `.wtns` file bytes.
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit (e.g. out-of-range input).
 */
export async function computeWitness(wasm: Uint8Array, inputs: CircuitInputs): Promise<Uint8Array> {
  return (await WitnessGenerator.create(wasm)).compute(inputs);
}

interface CachedKey {
  /** The key without C (its points are views into the zkey bytes it is cached under). */
  key: Groth16ProvingKey;
  /** The key with the C of an r1cs, by that r1cs's content (the last bytes object seen holding it). */
  checked?: { r1cs: Uint8Array; sha256: string; key: Groth16ProvingKey };
  /** The key's verification key points, to check each proof before it is returned. */
  verifying?: Promise<Groth16VerifyingPoints>;
}

/**
 * Parsed keys by the zkey bytes they came from (a package and a pool worker keep the same bytes while warm). The
 * zkey is keyed by its bytes object, not its hash: the key's points are views into those bytes, so a key shared
 * with another copy would keep a second zkey in memory. An r1cs is keyed by its sha256: another bytes object of the
 * same r1cs (a re-read, a copy) reuses the key, and a different r1cs costs its C matrix, never the zkey's parse.
 */
const keys = new WeakMap<Uint8Array, CachedKey>();

function cachedKey(zkey: Uint8Array, r1cs: Uint8Array | undefined): { cached: CachedKey; key: Groth16ProvingKey } {
  let cached = keys.get(zkey);
  if (!cached) {
    cached = { key: loadGroth16Key({ zkey }) };
    keys.set(zkey, cached);
  }
  if (!r1cs) return { cached, key: cached.key };
  let checked = cached.checked;
  if (checked?.r1cs !== r1cs) {
    const sha256 = sha256Hex(r1cs);
    checked = checked?.sha256 === sha256 ? { ...checked, r1cs } : { r1cs, sha256, key: withR1cs(cached.key, r1cs) };
    cached.checked = checked;
  }
  return { cached, key: checked.key };
}

/**
 * Witness generation and a Groth16 proof, in memory, with verinfer's prover ({@link proveWithGroth16Key}): the
 * zkey (and r1cs) are parsed once per bytes object and kept while it lives. With the r1cs, the witness is checked
 * against every constraint before any point work; without it, each proof is verified against the zkey's own
 * verification key before it is returned. Either way a witness that does not satisfy the circuit is an error,
 * never an invalid proof.
 *
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit; `ARTIFACT_CORRUPT` for a
 *   malformed zkey or an r1cs of another circuit.
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveGroth16({ witness: wasm, zkey, r1cs, inputs });
 * ```
 */
export async function proveGroth16(params: {
  witness: WitnessGenerator | Uint8Array;
  zkey: Uint8Array;
  /** The circuit's r1cs: every witness is checked against it before proving. */
  r1cs?: Uint8Array;
  inputs: CircuitInputs;
  /** Prove on this thread only, without snarkjs's thread pool (what a pool worker wants: one core each). */
  singleThread?: boolean;
}): Promise<Groth16ProofBundle> {
  const generator =
    params.witness instanceof WitnessGenerator ? params.witness : await WitnessGenerator.create(params.witness);
  const wtns = await generator.compute(params.inputs);
  return proveGroth16Witness({
    wtns,
    zkey: params.zkey,
    ...(params.r1cs ? { r1cs: params.r1cs } : {}),
    ...(params.singleThread ? { singleThread: true } : {}),
  });
}

/**
 * A Groth16 proof of a computed witness (`.wtns` bytes), with the key cache and the checks of
 * {@link proveGroth16}.
 *
 * @throws VerinferError `PROVE_FAILED` when the witness does not satisfy the circuit; `ARTIFACT_CORRUPT` for a
 *   malformed zkey or an r1cs of another circuit.
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveGroth16Witness({ wtns, zkey, r1cs });
 * ```
 */
export async function proveGroth16Witness(params: {
  wtns: Uint8Array;
  zkey: Uint8Array;
  r1cs?: Uint8Array;
  singleThread?: boolean;
}): Promise<Groth16ProofBundle> {
  const { cached, key } = cachedKey(params.zkey, params.r1cs);
  unrefIdleCurveWorkers();
  let bundle: Groth16ProofBundle;
  try {
    bundle = await proveWithGroth16Key({
      key,
      wtns: params.wtns,
      ...(params.singleThread ? { singleThread: true } : {}),
    });
  } catch (cause) {
    if (cause instanceof VerinferError) throw cause;
    // The curve's wasm or its worker threads (out of memory, a dead worker): still the typed error callers handle.
    throw new VerinferError("PROVE_FAILED", "groth16 proving failed", { details: String(cause), cause });
  }
  // Every proof is checked against the zkey's own verification key before it is returned (~10 ms: one pairing
  // product on points parsed once): without an r1cs this is what refuses a witness that breaks the circuit; with
  // one, the witness was checked already, and this refuses what the witness check cannot see — a wrong
  // multi-exponentiation or FFT result, or a zkey point altered in memory.
  const curve = (await proverCurve({ singleThread: params.singleThread ?? false })) as unknown as PairingCurve;
  cached.verifying ??= exportVerificationKey(params.zkey, "groth16").then((vkey) =>
    groth16VerifyingPoints(curve, vkey),
  );
  cached.verifying.catch(() => {
    cached.verifying = undefined;
  });
  if (!(await groth16ProofHolds({ curve, key: await cached.verifying, ...bundle }))) {
    throw new VerinferError(
      "PROVE_FAILED",
      key.c
        ? "the prover made a proof that does not verify against the zkey's verification key"
        : "the witness does not satisfy the circuit (its proof does not verify)",
      { details: key.c ? "the witness satisfies the r1cs: a prover fault or a corrupted zkey" : undefined },
    );
  }
  return bundle;
}
