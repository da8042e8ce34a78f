import { isVerinferError } from "../errors.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import { generateCircuit } from "./codegen.js";

/** Parameters of {@link circuitSource}. */
export interface CircuitSourceParams {
  network: QuantizedNetwork;
  modelCommitment: bigint;
  /** The backend that compiles it: `"circom"` refuses a network only the direct backend proves. */
  backend: "direct" | "circom";
}

/**
 * The circuit source a package stores (and `verifyPackage` regenerates): the circom program of the network where
 * the circom backend (a test oracle for chains of the first layer kinds) can express it; for a network only the
 * direct backend proves (smooth activations, merges, any wiring, padded pooling, embeddings), a fixed note, since its
 * R1CS is written from network.json by the layer modules.
 *
 * @throws VerinferError `UNSUPPORTED_LAYER` for such a network when `backend` is `"circom"`.
 * @example
 * ```ts
 * const source = circuitSource({ network: qnet, modelCommitment: c, backend: "direct" });
 * ```
 */
export function circuitSource(params: CircuitSourceParams): string {
  const { network, modelCommitment, backend } = params;
  try {
    return generateCircuit({ network, modelCommitment });
  } catch (e) {
    if (backend !== "direct" || !isVerinferError(e, "UNSUPPORTED_LAYER")) throw e;
    return (
      "// verinfer: this network (a graph, or layer kinds circom has no template for) is proven by the direct\n" +
      "// backend only; its R1CS and witness are written from network.json (src/circuits/direct).\n" +
      `// model commitment: ${modelCommitment}\n`
    );
  }
}
