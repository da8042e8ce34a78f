import { WitnessCalculatorBuilder } from "circom_runtime";
import * as snarkjs from "snarkjs";
import { VerinferError } from "../errors.js";
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

/**
 * Witness generation and Groth16 proving with snarkjs, entirely in memory.
 *
 * @example
 * ```ts
 * const { proof, publicSignals } = await proveGroth16({ witness: wasm, zkey, inputs });
 * ```
 */
export async function proveGroth16(params: {
  witness: WitnessGenerator | Uint8Array;
  zkey: Uint8Array;
  inputs: CircuitInputs;
  /** Prove on this thread only, without snarkjs's thread pool (what a pool worker wants: one core each). */
  singleThread?: boolean;
}): Promise<Groth16ProofBundle> {
  const generator =
    params.witness instanceof WitnessGenerator ? params.witness : await WitnessGenerator.create(params.witness);
  const wtns = await generator.compute(params.inputs);
  unrefIdleCurveWorkers();
  try {
    const options = params.singleThread ? { singleThread: true } : undefined;
    return await snarkjs.groth16.prove(
      { type: "mem", data: params.zkey },
      { type: "mem", data: wtns },
      undefined,
      options,
    );
  } catch (cause) {
    throw new VerinferError("PROVE_FAILED", "groth16 proving failed", {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}
