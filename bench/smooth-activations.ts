// Measures each smooth activation's integer function against the float one and its constraints per unit, beside a
// ReLU unit at the same bits: `npm run bench:smooth [-- --json]`. Counts are exact (no timing).
import { rescaleConstraints } from "../src/circuits/direct/gadgets.js";
import {
  piecewiseForward,
  type SmoothParams,
  smoothFunction,
  TABLED_ACTIVATIONS,
  type TabledActivation,
  tablePiecewise,
} from "../src/models/layers/piecewise.js";

/** Inputs at 2^-f: activationBits 16 on calibrated |x| < 8 gives f = 16 − 1 − ceil(log2(8 · 1.25)) = 11. */
const F = 11;
/** A typical dense rescale: shift 8 (8-bit weights), units range-checked to 20 bits by worst-case analysis. */
const SHIFT = 8;
const B = 20;

/** An exp is measured on its window (|x| < 8 here), beyond which it saturates; the others on twice their window. */
function measure(name: TabledActivation, precision: "default" | "high", smooth?: SmoothParams, label: string = name) {
  const { piecewise, outFracBits } = tablePiecewise({ name, inFracBits: F, precision, ...(smooth ? { smooth } : {}) });
  let worst = 0;
  let yMin = Infinity;
  let yMax = -Infinity;
  const span = 2 ** (piecewise.window + (name === "exp" ? -1 : 1));
  const fn = smoothFunction(name, smooth);
  for (let q = -span; q < span; q++) {
    const x = q / 2 ** F;
    const fx = fn(x);
    if (Math.abs(x) <= 8) {
      yMin = Math.min(yMin, fx);
      yMax = Math.max(yMax, fx);
    }
    const y = Number(piecewiseForward(piecewise, BigInt(q))) / 2 ** outFracBits;
    worst = Math.max(worst, Math.abs(y - fx));
  }
  const bits = Math.max(B, piecewise.window);
  const unit = { shift: SHIFT, B: bits, outFracBits, piecewise, activation: name };
  const constraints = rescaleConstraints(unit);
  const relu = rescaleConstraints({ shift: SHIFT, B, outFracBits: F, activation: "relu" });
  return {
    name: label,
    precision,
    segments: 2 ** piecewise.segmentBits,
    window: `|x| < ${2 ** (piecewise.window - 1 - F)}`,
    maxError: worst,
    errorOfRange: worst / (yMax - yMin),
    constraints,
    reluConstraints: relu,
    ratio: constraints / relu,
    outFracBits,
  };
}

const rows = [
  ...TABLED_ACTIVATIONS.flatMap((name) => [measure(name, "default"), measure(name, "high")]),
  // PyTorch's Hardsigmoid (ONNX HardSigmoid alpha = 1/6).
  ...(["default", "high"] as const).map((p) => measure("hardSigmoid", p, { alpha: 1 / 6 }, "hardSigm1/6")),
];
if (process.argv.includes("--json")) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`inputs at 2^-${F}, rescale shift ${SHIFT}, ${B}-bit units (range of |x| <= 8 for the error ratio)`);
  console.log("activation   precision segments window    max|err|    err/range   constraints relu ratio");
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(12)} ${r.precision.padEnd(9)} ${String(r.segments).padEnd(8)} ${r.window.padEnd(9)} ${r.maxError.toExponential(2).padEnd(11)} ${(r.errorOfRange * 256).toFixed(3).padStart(6)}/256  ${String(r.constraints).padStart(6)}     ${r.reluConstraints}  ${r.ratio.toFixed(2)}`,
    );
  }
}
