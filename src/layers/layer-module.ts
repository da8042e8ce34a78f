import type { ConstraintSystem, Lc } from "../circuits/direct/constraint-system.js";
import type { QuantizedLayer, QuantizedLayerKind } from "../models/quantized-network.js";

/** Integer bounds of a tensor, per value. */
export interface Bounds {
  lo: readonly bigint[];
  hi: readonly bigint[];
}

/** What a layer contributes to the model commitment: its descriptor fields, then its constant tables. */
export interface LayerCommitment {
  /**
   * The layer's kind code (first) and every scalar parameter that fixes its integer semantics (shapes, strides,
   * scales, multipliers, range widths, activation), a fixed number of fields per kind, or a count stated earlier in
   * the descriptor: the concatenation of descriptors parses one way only.
   */
  descriptor: bigint[];
  /** Every constant table the layer computes with (weights, biases), as field elements; their sizes follow from the descriptor. */
  constants: bigint[];
}

/**
 * Everything verinfer knows about one layer kind, in one place. The network commitment, the circuit, the
 * witness, the constraint estimate and the field-size check are all built by walking the layers through their
 * modules (src/layers/registry.ts), never by naming kinds: a kind cannot be in the circuit without committing to
 * what its module says it computes with, and the registry test perturbs every number of each module's
 * {@link LayerModule.sample} and requires the commitment to change.
 *
 * To add a kind: one file implementing this interface, one line in the registry, its tests (see docs/backend.md).
 */
export interface LayerModule<L extends QuantizedLayer = QuantizedLayer> {
  readonly kind: L["kind"];
  /** The kind's code in the architecture descriptor; never reused. */
  readonly code: bigint;
  /** Number of values the layer reads. */
  inputSize(layer: L): number;
  /** Number of values the layer writes. */
  outputSize(layer: L): number;
  /** The integer semantics (the spec: what `integerForward` computes for this kind). */
  forward(layer: L, input: readonly bigint[]): bigint[];
  /**
   * Exact output bounds over inputs within `input`, and `peak`: the largest magnitude any value inside the layer's
   * gadgets takes (an accumulator times a multiplier plus its offset, a difference), for the field-size check.
   */
  bounds(layer: L, input: Bounds): Bounds & { peak: bigint };
  /** The layer's part of the network commitment. */
  commitment(layer: L): LayerCommitment;
  /** Emits the layer's constraints and computes its witness values: outputs as linear combinations. */
  emit(cs: ConstraintSystem, layer: L, input: readonly Lc[]): Lc[];
  /** The exact number of constraints {@link LayerModule.emit} adds. */
  estimate(layer: L): number;
  /** A small valid layer of this kind, for the registry-wide tests. */
  sample(): L;
}

/** A module of the kind `K`. */
export type LayerModuleOf<K extends QuantizedLayerKind> = LayerModule<Extract<QuantizedLayer, { kind: K }>>;
