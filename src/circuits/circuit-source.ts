import { VerinferError } from "../errors.js";
import { isSmoothActivation } from "../models/layers/piecewise.js";
import type { QuantizedNetwork } from "../models/quantized-network.js";
import { generateCircuit } from "./codegen.js";

/** Parameters of {@link circuitSource}. */
export interface CircuitSourceParams {
  network: QuantizedNetwork;
  modelCommitment: bigint;
  /** The backend that compiles it: `"circom"` refuses a network only the direct backend proves. */
  backend: "direct" | "circom";
}

/** The layers of a network that only the direct backend proves (circom stays the oracle of the older kinds). */
export function directOnlyLayers(network: QuantizedNetwork): string[] {
  return network.layers.flatMap((l) =>
    l.kind === "rescale" && isSmoothActivation(l.activation) ? [`${l.name} (${l.activation})`] : [],
  );
}

/**
 * The circuit source a package stores (and `verifyPackage` regenerates): the circom program of the network, or,
 * for a network with kinds only the direct backend proves, a fixed statement that it has no circom form (its R1CS
 * is written from the layer modules).
 *
 * @throws VerinferError `UNSUPPORTED_LAYER` when `backend` is `"circom"` and the network has direct-only layers.
 * @example
 * ```ts
 * const source = circuitSource({ network, modelCommitment, backend: "direct" });
 * ```
 */
export function circuitSource(params: CircuitSourceParams): string {
  const directOnly = directOnlyLayers(params.network);
  if (directOnly.length === 0) return generateCircuit(params);
  if (params.backend === "circom") {
    throw new VerinferError("UNSUPPORTED_LAYER", `the circom backend does not prove ${directOnly.join(", ")}`, {
      details: 'compile with circuitBackend: "direct" (the default)',
    });
  }
  return `// verinfer: this network has layers only the direct backend proves: ${directOnly.join(", ")}.\n// Its R1CS is written from the layer modules (src/layers); it has no circom form.\n`;
}
