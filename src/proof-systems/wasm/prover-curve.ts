/**
 * The bn128 curve verinfer's Groth16 prover runs on: ffjavascript's (the copy snarkjs uses), built with
 * verinfer's wasm plugins ({@link PROVER_PLUGINS}).
 *
 * @module
 */
import { buildBn128 } from "ffjavascript";
import { unrefIdleCurveWorkers } from "../../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../../errors.js";
import type { CurveGroup } from "../groth16-msm.js";
import type { WasmModuleBuilder } from "./batch-affine-msm.js";
import { PROVER_PLUGIN_EXPORTS, PROVER_PLUGINS } from "./plugins.js";

/** A group of ffjavascript's curve as the prover uses it (elements are Montgomery bytes, Jacobian unless affine). */
export interface ProverGroup extends CurveGroup {
  F: { n8: number };
  double(a: Uint8Array): Uint8Array;
  isZero(a: Uint8Array): boolean;
  eq(a: Uint8Array, b: Uint8Array): boolean;
  fromRprLEM(buff: Uint8Array, offset: number): Uint8Array;
  timesFr(p: Uint8Array, s: Uint8Array): Uint8Array;
  toAffine(p: Uint8Array): Uint8Array;
  toObject(p: Uint8Array): unknown;
}

/** A task command of ffjavascript's thread manager. */
export type CurveTaskCommand =
  | { cmd: "ALLOCSET"; var: number; buff: Uint8Array }
  | { cmd: "ALLOC"; var: number; len: number }
  | { cmd: "CALL"; fnName: string; params: Array<{ var: number; offset?: number } | { val: number }> }
  | { cmd: "GET"; out: number; var: number; len: number };

/** The parts of ffjavascript's bn128 curve the prover calls. */
export interface ProverCurve {
  name: string;
  Fr: {
    n8: number;
    s: number;
    w: Uint8Array[];
    shift: Uint8Array;
    e(v: bigint | number): Uint8Array;
    neg(a: Uint8Array): Uint8Array;
    mul(a: Uint8Array, b: Uint8Array): Uint8Array;
  };
  G1: ProverGroup;
  G2: ProverGroup;
  tm: {
    concurrency: number;
    instance: { exports: Record<string, unknown> };
    queueAction(task: CurveTaskCommand[]): Promise<Uint8Array[]>;
  };
  terminate(): Promise<void>;
}

/** Whether `curve` is a bn128 curve built with verinfer's plugins. */
export function hasProverPlugins(curve: unknown): curve is ProverCurve {
  const exports = (curve as { tm?: { instance?: { exports?: Record<string, unknown> } } } | null | undefined)?.tm
    ?.instance?.exports;
  return exports !== undefined && PROVER_PLUGIN_EXPORTS.every((name) => typeof exports[name] === "function");
}

function plugins(module: unknown): void {
  for (const plugin of PROVER_PLUGINS) plugin(module as WasmModuleBuilder);
}

let threadedBuild: Promise<ProverCurve> | undefined;
let singleThreaded: Promise<ProverCurve> | undefined;

async function buildThreaded(): Promise<ProverCurve> {
  unrefIdleCurveWorkers();
  const g = globalThis as { curve_bn128?: unknown };
  // buildBn128 hands back whatever threaded curve is cached, with or without plugins: clear the cache so that it
  // builds ours. Ours then stays the shared one (a superset of snarkjs's: snarkjs's later calls use it too).
  g.curve_bn128 = null;
  const curve = await buildBn128(false, plugins);
  if (!hasProverPlugins(curve))
    throw new VerinferError("INTERNAL", "ffjavascript's buildBn128 did not build the prover's plugins");
  // A plain curve snarkjs built meanwhile may have been cached after ours: ours is the shared one (the setter
  // installed by unrefIdleCurveWorkers keeps it there from now on).
  g.curve_bn128 = curve;
  return curve;
}

/**
 * The prover's bn128 curve with verinfer's wasm plugins: threaded (the shared curve on
 * `globalThis.curve_bn128`, which snarkjs then uses too; rebuilt when the shared curve is another or was
 * terminated), or single-threaded (one per thread, built once; a pool worker installs it as its shared curve).
 *
 * @example
 * ```ts
 * const curve = await proverCurve({ singleThread: false });
 * const sum = await batchAffineMultiExp({ curve, group: "G1", bases, scalars });
 * ```
 */
export async function proverCurve(params: { singleThread: boolean }): Promise<ProverCurve> {
  if (params.singleThread) {
    if (!singleThreaded) {
      const build = buildBn128(true, plugins).then((curve) => {
        if (!hasProverPlugins(curve))
          throw new VerinferError("INTERNAL", "ffjavascript's buildBn128 did not build the prover's plugins");
        return curve;
      });
      singleThreaded = build;
      // A failed build (out of memory) is not cached: the next call tries again.
      build.catch(() => {
        if (singleThreaded === build) singleThreaded = undefined;
      });
    }
    return singleThreaded;
  }
  const shared = (globalThis as { curve_bn128?: unknown }).curve_bn128;
  if (hasProverPlugins(shared)) return shared;
  if (!threadedBuild) {
    threadedBuild = buildThreaded();
    threadedBuild.then(
      () => {
        threadedBuild = undefined;
      },
      () => {
        threadedBuild = undefined;
      },
    );
  }
  return threadedBuild;
}
