/**
 * The wasm plugins built into verinfer's prover curve, one line each (see {@link proverCurve}).
 *
 * @module
 */
import { buildBatchAffineMsm, type WasmModuleBuilder } from "./batch-affine-msm.js";
import { FFT_FUNCTIONS, fftPlugin } from "./fft-plugin.js";

/** A plugin adds functions to ffjavascript's bn128 module builder (after the curve's own functions). */
export type WasmPlugin = (module: WasmModuleBuilder) => void;

/** Every plugin of the prover curve, in build order. */
export const PROVER_PLUGINS: readonly WasmPlugin[] = [
  (m) => buildBatchAffineMsm(m, { group: "g1m", field: "f1m" }),
  (m) => buildBatchAffineMsm(m, { group: "g2m", field: "f2m" }),
  fftPlugin,
];

/** Wasm exports whose presence shows that a curve was built with {@link PROVER_PLUGINS}. */
export const PROVER_PLUGIN_EXPORTS: readonly string[] = ["g1m_vmsmWindow", "g2m_vmsmWindow", FFT_FUNCTIONS.ditJoin];
