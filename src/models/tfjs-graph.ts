import type * as tfTypes from "@tensorflow/tfjs";
import { type Layer, layerOutputShape, mergeOutputShape } from "./network.js";

/** tfjs merge layer classes verinfer proves, and the float merge each becomes. */
export const TFJS_MERGES: Record<string, "add" | "concat" | "mul"> = {
  Add: "add",
  Concatenate: "concat",
  Multiply: "mul",
};

/**
 * Where each tfjs layer's output lives among the float IR's tensors (0: the input, t: float layer t − 1's output),
 * as a functional model's graph is read in layer order: a layer that becomes no float layer (Dropout, a folded
 * BatchNormalization) passes its input's tensor on.
 */
export class TfjsGraph {
  private readonly tensorOf = new Map<string, number>();
  /** Tensors some layer passed on: read under two names, so nothing may be folded into their producer. */
  private readonly aliased = new Set<number>();
  readonly shapes: number[][];

  constructor(inputShape: readonly number[]) {
    this.shapes = [inputShape.slice()];
  }

  /** The float tensors a tfjs layer reads (its inbound layers, in order); [0] for the model's input. */
  inputsOf(layer: tfTypes.layers.Layer): number[] {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    return inbound.map((l) => (l.getClassName() === "InputLayer" ? 0 : (this.tensorOf.get(l.name) ?? -1)));
  }

  /**
   * Whether a layer's input comes straight from the float layer made just before it, read by nothing else, so that
   * an affine (a BatchNormalization) may be folded into that layer's weights without changing another reader.
   */
  foldsIntoPrevious(layer: tfTypes.layers.Layer, nLayers: number): boolean {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    const [src] = inbound;
    if (inbound.length !== 1 || !src || src.outboundNodes.length > 1) return false;
    const t = this.tensorOf.get(src.name);
    return t === nLayers && !this.aliased.has(t);
  }

  /** The shape a float layer reading `from` produces (merges read several tensors). */
  outputShape(layer: Layer, from: readonly number[]): number[] {
    const ins = from.map((t) => this.shapes[t] as number[]);
    return from.length > 1 ? mergeOutputShape(layer, ins) : layerOutputShape(layer, ins[0] as number[]);
  }

  /** Whether a tfjs layer's output is the float tensor `t` (the network's output: the last layer's). */
  isOutput(tfLayer: tfTypes.layers.Layer | undefined, t: number): boolean {
    return tfLayer !== undefined && this.tensorOf.get(tfLayer.name) === t;
  }

  /** Records a float layer that is not a tfjs layer's last (one of several a tfjs layer becomes). */
  addedInner(shape: readonly number[]): void {
    this.shapes.push(shape.slice());
  }

  /** Records a float layer made from a tfjs layer (its output is the next tensor). */
  added(tfLayer: tfTypes.layers.Layer, shape: readonly number[]): void {
    this.shapes.push(shape.slice());
    this.tensorOf.set(tfLayer.name, this.shapes.length - 1);
  }

  /** Records a tfjs layer that made no float layer: its output is its input's tensor, or a tfjs-given shape. */
  passed(tfLayer: tfTypes.layers.Layer, tensor: number): void {
    this.tensorOf.set(tfLayer.name, tensor);
    this.aliased.add(tensor);
  }
}
