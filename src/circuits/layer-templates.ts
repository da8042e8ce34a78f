import { VerinferError } from "../errors.js";
import { poolIsPadded } from "../models/layers/geometry.js";
import { isSmoothActivation } from "../models/layers/piecewise.js";
import { relu6Ceiling } from "../models/layers/rescale.js";
import type {
  QuantizedConv2d,
  QuantizedDense,
  QuantizedLayer,
  QuantizedMaxPool2d,
  QuantizedRescale,
  QuantizedSumPool2d,
} from "../models/quantized-network.js";
import { layerInputSize, layerOutputSize } from "../models/quantized-network.js";

// Every template below is generated from numbers only: no free text (layer names, model names) ever enters circuit
// source. Weights are constants, so linear layers are linear combinations. A run of linear layers and the
// nonlinear layer that consumes it (a rescale or a max pooling) make one template, the linear values held in
// `var` arrays: no signal and no constraint of their own, nothing for circom's simplifier to eliminate. Only
// rescales and max pooling cost constraints: a rescale with a shift is written inline (rescaleInline below: the
// equations of circuits/verinfer.circom's rescale gadgets with no linear constraint over the accumulator left), as
// is max pooling; rescales without a shift go through the gadgets.

const list = (values: readonly (bigint | number)[]) => `[${values.join(",")}]`;

// circom builds the linear combination a `var` holds symbolically, and `acc += term` copies acc's terms: a
// left-to-right sum of n products costs O(n^2) term copies at compile time (a 784-input dense layer: 56 x 307k).
// Summing the products pairwise, as a balanced tree over the array t[0..n), costs O(n log n) and yields the same
// linear combination, so the same R1CS: only compile time changes.
const treeSum = (n: string, indent: string) => `${indent}for (var w = 1; w < ${n}; w *= 2) {
${indent}    for (var p = 0; p + w < ${n}; p += 2 * w) {
${indent}        t[p] += t[p + w];
${indent}    }
${indent}}
`;

function dense(l: QuantizedDense, src: string, dst: string, t: number): string {
  return `    // dense ${l.nIn} -> ${l.nOut}: ${dst}[j] = b[j] + sum_i W[j][i] * ${src}[i]
    var W${t}[${l.nOut}][${l.nIn}] = [${l.weights.map(list).join(",\n        ")}];
    var b${t}[${l.nOut}] = ${list(l.bias)};
    for (var j = 0; j < ${l.nOut}; j++) {
        var t[${l.nIn}];
        for (var i = 0; i < ${l.nIn}; i++) {
            t[i] = W${t}[j][i] * ${src}[i];
        }
${treeSum(String(l.nIn), "        ")}        ${dst}[j] = b${t}[j] + t[0];
    }
`;
}

function conv2d(l: QuantizedConv2d, src: string, dst: string, t: number): string {
  const [h, w, c] = l.inShape;
  const [oh, ow, oc] = l.outShape;
  const [kh, kw] = l.kernelSize;
  const [sh, sw] = l.strides;
  const [pt, pl] = l.padding;
  const k = kh * kw * c;
  return `    // conv2d ${h}x${w}x${c} -> ${oh}x${ow}x${oc}, kernel ${kh}x${kw}, strides ${sh}x${sw}, zero padding ${pt} top ${pl} left
    var K${t}[${oc}][${k}] = [${l.weights.map(list).join(",\n        ")}];
    var b${t}[${oc}] = ${list(l.bias)};
    for (var oy = 0; oy < ${oh}; oy++) {
        for (var ox = 0; ox < ${ow}; ox++) {
            for (var co = 0; co < ${oc}; co++) {
                var t[${k}];
                var n = 0;
                for (var ky = 0; ky < ${kh}; ky++) {
                    var iy = oy * ${sh} + ky - ${pt};
                    for (var kx = 0; kx < ${kw}; kx++) {
                        var ix = ox * ${sw} + kx - ${pl};
                        if (iy >= 0 && iy < ${h} && ix >= 0 && ix < ${w}) {
                            for (var ci = 0; ci < ${c}; ci++) {
                                t[n] = K${t}[co][(ky * ${kw} + kx) * ${c} + ci] * ${src}[(iy * ${w} + ix) * ${c} + ci];
                                n++;
                            }
                        }
                    }
                }
${treeSum("n", "                ")}                var acc = b${t}[co];
                if (n > 0) {
                    acc += t[0];
                }
                ${dst}[(oy * ${ow} + ox) * ${oc} + co] = acc;
            }
        }
    }
`;
}

function poolLoops(l: QuantizedSumPool2d | QuantizedMaxPool2d, before: string, body: string, after: string): string {
  const [, w, c] = l.inShape;
  const [oh, ow] = l.outShape;
  const [ph, pw] = l.poolSize;
  const [sh, sw] = l.strides;
  return `    for (var oy = 0; oy < ${oh}; oy++) {
        for (var ox = 0; ox < ${ow}; ox++) {
            for (var ch = 0; ch < ${c}; ch++) {
                var j = (oy * ${ow} + ox) * ${c} + ch;
                ${before}
                for (var py = 0; py < ${ph}; py++) {
                    for (var px = 0; px < ${pw}; px++) {
                        var i = ((oy * ${sh} + py) * ${w} + ox * ${sw} + px) * ${c} + ch;
                        ${body}
                    }
                }
                ${after}
            }
        }
    }
`;
}

function sumPool2d(l: QuantizedSumPool2d, src: string, dst: string): string {
  return `    // sum pooling ${l.poolSize[0]}x${l.poolSize[1]}, strides ${l.strides[0]}x${l.strides[1]} (an average before its rescale)
${poolLoops(
  l,
  `var t[${l.poolSize[0] * l.poolSize[1]}];\n                var n = 0;`,
  `t[n] = ${src}[i];\n                        n++;`,
  `${treeSum("n", "                ").trimStart()}                ${dst}[j] = t[0];`,
)}`;
}

function maxPool2d(l: QuantizedMaxPool2d, src: string): string {
  const k = l.poolSize[0] * l.poolSize[1];
  if (k === 1) return `    // 1x1 max pooling: a selection\n${poolLoops(l, "", `out[j] <== ${src}[i];`, "")}`;
  const B = l.diffBits;
  const nOut = layerOutputSize(l);
  // MaxOf(k, B) of circuits/verinfer.circom, inline for the reason rescaleInline gives: a running maximum
  // m_i = m_(i-1) + relu(a_i - m_(i-1)), where relu comes from the bits of e = a_i - m_(i-1) + 2^(B-1). Bits 1..B-1
  // are signals and bit 0 is what e leaves, each proven boolean, so e lies in [0, 2^B) and the top bit is
  // [a_i >= m_(i-1)]. The running maximum stays a linear combination (m + d, d a signal) and the last step's
  // product writes the output, so no linear constraint remains: (k - 1)(B + 1) constraints, as MaxOf's after --O2.
  const step = (last: boolean) =>
    last
      ? `out[j] <== best + (t[st] - best) * mb[j][st - 1][${B - 2}];`
      : `md[j][st - 1] <== (t[st] - best) * mb[j][st - 1][${B - 2}];
                        best = best + md[j][st - 1];`;
  const body =
    k > 2
      ? `if (st < ${k - 1}) {
                        ${step(false)}
                    } else {
                        ${step(true)}
                    }`
      : step(true);
  return `    // max pooling, inline: MaxOf(${k}, ${B}) per window
    signal mb[${nOut}][${k - 1}][${B - 1}];${k > 2 ? `\n    signal md[${nOut}][${k - 2}];` : ""}
${poolLoops(
  l,
  `var t[${k}];\n                var n = 0;`,
  `t[n] = ${src}[i];\n                        n++;`,
  `var best = t[0];
                for (var st = 1; st < ${k}; st++) {
                    var e = t[st] - best + ${1n << BigInt(B - 1)};
                    var u = 0;
                    for (var b = 1; b < ${B}; b++) {
                        mb[j][st - 1][b - 1] <-- (e >> b) & 1;
                        mb[j][st - 1][b - 1] * (mb[j][st - 1][b - 1] - 1) === 0;
                        u += mb[j][st - 1][b - 1] * 2 ** b;
                    }
                    var u0 = e - u;
                    u0 * (u0 - 1) === 0;
                    ${body}
                }`,
)}`;
}

/** The gadget of a rescale's activation, with its template arguments after (shift, qBits[j]). */
function gadgetOf(l: QuantizedRescale): { gadget: string; args: string; unusedSign: boolean } {
  switch (l.activation) {
    case "linear":
      return { gadget: "Rescale", args: "", unusedSign: true };
    case "relu":
      return { gadget: "RescaleRelu", args: "", unusedSign: false };
    case "relu6":
      return { gadget: "RescaleRelu6", args: `, ${relu6Ceiling(l.outFracBits)}`, unusedSign: false };
    case "leakyRelu":
      if (!Number.isInteger(l.leakShift)) throw new VerinferError("INTERNAL", `rescale "${l.name}" has no leakShift`);
      return { gadget: "RescaleLeakyRelu", args: `, ${l.leakShift}`, unusedSign: false };
    default:
      throw new VerinferError("INTERNAL", `rescale "${l.name}" reached circom with ${l.activation}`);
  }
}

function rescaleGadget(l: QuantizedRescale, src: string): string {
  const { gadget, args, unusedSign } = gadgetOf(l);
  return `    // ${gadget}(${l.shift}, qBits[j]${args}) of ${l.multiplier} * ${src}[j]: floor(${l.multiplier} * ${src}[j] / 2^${l.shift}), remainder and quotient range-checked
    var qBits[${l.size}] = ${list(l.qBits)};
    component unit[${l.size}];
    for (var j = 0; j < ${l.size}; j++) {
        unit[j] = ${gadget}(${l.shift}, qBits[j]${args});
        unit[j].in <== ${src}[j] * ${l.multiplier};
        out[j] <== unit[j].out;${unusedSign ? "\n        _ <== unit[j].nonNegative;" : ""}
    }
`;
}

// The rescales of circuits/verinfer.circom (Rescale, RescaleRelu, RescaleRelu6, RescaleLeakyRelu) with the linear
// combination kept inside the constraints. A gadget's input is a signal, so wiring a linear combination into it is a
// linear constraint, and circom --O2 eliminating thousands of those, each over hundreds of signals, is what made CNN
// compiles take minutes. Here the same equations are written so that no linear constraint over the accumulator
// remains: the lowest remainder bit r_0 (and, without an activation, the lowest quotient bit) is not a signal but
// the linear combination that the identity e = acc + 2^(B-1+s) = u * 2^s + r leaves for it, and its booleanity
// constraint r_0 * (r_0 - 1) = 0 carries the identity. The constraints are those --O2 derives from the gadget, and
// so is the argument why they pin q: every bit is proven boolean, so u = q + 2^(B-1) lies in [0, 2^B) and r in
// [0, 2^s), the pairs (u, r) map one-to-one onto [0, 2^(B+s)) and 2^(B+s) < p, so no two meet the same e modulo p.
// The activation then reads q's bits, as its gadget does:
// - relu: q times the sign bit (u's top bit);
// - relu6: the relu value rl, less relu(rl - C) where the ceiling C can be reached (RescaleRelu(0, B), the gadget
//   RescaleRelu6 uses; its input is rl - C, one signal, cheap to eliminate);
// - leakyRelu: q for q >= 0, else floor(q / 2^k) = (u >> k) - 2^(B-1-k), read from u's bits (k capped at B - 1, as
//   in RescaleLeakyRelu: below it every negative q floors to -1).
function rescaleInline(l: QuantizedRescale, src: string): string {
  const s = l.shift;
  const act = l.activation;
  if (isSmoothActivation(act)) throw new VerinferError("INTERNAL", `rescale "${l.name}" reached circom with ${act}`);
  const C = act === "relu6" ? relu6Ceiling(l.outFracBits) : 0n;
  // Units whose relu6 ceiling lies inside their range: only these need the cap.
  const capped = l.qBits.map((B) => act === "relu6" && C < 2n ** BigInt(B - 1) - 1n);
  const nCapped = capped.filter(Boolean).length;
  let k = 0;
  if (act === "leakyRelu") {
    if (!Number.isInteger(l.leakShift)) throw new VerinferError("INTERNAL", `rescale "${l.name}" has no leakShift`);
    k = l.leakShift as number;
  }
  // Quotient bit signals: all B with an activation (it reads the sign bit), B - 1 without (bit 0 is derived from out).
  const first = act === "linear" ? 1 : 0;
  const qSignals = l.qBits.reduce((a, b) => a + b - first, 0);
  const decls = [
    `    var qBits[${l.size}] = ${list(l.qBits)};`,
    ...(s > 1 ? [`    signal rb[${l.size}][${s - 1}];`] : []),
    ...(qSignals > 0 ? [`    signal qb[${qSignals}];`] : []),
    ...(nCapped > 0
      ? [
          `    var capped[${l.size}] = ${list(capped.map((c) => (c ? 1 : 0)))};`,
          `    signal rl[${nCapped}];`,
          `    component cap[${nCapped}];`,
          "    var c = 0;",
        ]
      : []),
  ];
  const relu = "(u - 2 ** (B - 1)) * qb[pos + B - 1]";
  const capOrRelu = `        if (capped[j] == 1) {
            rl[c] <== ${relu};
            cap[c] = RescaleRelu(0, B);
            cap[c].in <== rl[c] - ${C};
            out[j] <== rl[c] - cap[c].out;
            c += 1;
        } else {
            out[j] <== ${relu};
        }
`;
  // The output of the unit; with an activation, u (all B bits signals) carries the quotient into r0 below.
  const output: Record<typeof act, string> = {
    linear: `        out[j] <-- (e >> ${s}) - 2 ** (B - 1);
        var u0 = out[j] + 2 ** (B - 1) - u;
        u0 * (u0 - 1) === 0;
`,
    relu: `        out[j] <== ${relu};
`,
    relu6:
      nCapped > 0
        ? capOrRelu
        : `        out[j] <== ${relu};
`,
    leakyRelu: `        var kk = (${k} < B - 1 ? ${k} : B - 1);
        var shifted = 0 - 2 ** (B - 1 - kk);
        for (var i = kk; i < B; i++) {
            shifted += qb[pos + i] * 2 ** (i - kk);
        }
        out[j] <== shifted + qb[pos + B - 1] * (u - 2 ** (B - 1) - shifted);
`,
  };
  const tail =
    act === "linear"
      ? `        pos += B - 1;
        var r0 = e - (out[j] + 2 ** (B - 1)) * ${2n ** BigInt(s)} - r;
`
      : `        pos += B;
        var r0 = e - u * ${2n ** BigInt(s)} - r;
`;
  const name = { linear: "Rescale", relu: "RescaleRelu", relu6: "RescaleRelu6", leakyRelu: "RescaleLeakyRelu" }[act];
  const args = act === "relu6" ? `, ${C}` : act === "leakyRelu" ? `, ${k}` : "";
  return `    // ${name}(${s}, qBits[j]${args}) of ${l.multiplier} * ${src}[j], inline: floor(${l.multiplier} * ${src}[j] / 2^${s}), remainder and quotient bits proven boolean
${decls.join("\n")}
    var pos = 0;
    for (var j = 0; j < ${l.size}; j++) {
        var B = qBits[j];
        var e = ${src}[j] * ${l.multiplier} + 2 ** (B - 1 + ${s});
        var r = 0;
${
  s > 1
    ? `        for (var k = 1; k < ${s}; k++) {
            rb[j][k - 1] <-- (e >> k) & 1;
            rb[j][k - 1] * (rb[j][k - 1] - 1) === 0;
            r += rb[j][k - 1] * 2 ** k;
        }
`
    : ""
}        var u = 0;
        for (var k = ${first}; k < B; k++) {
            qb[pos + k - ${first}] <-- (e >> (${s} + k)) & 1;
            qb[pos + k - ${first}] * (qb[pos + k - ${first}] - 1) === 0;
            u += qb[pos + k - ${first}] * 2 ** k;
        }
${output[act]}${tail}        r0 * (r0 - 1) === 0;
    }
`;
}

function rescale(l: QuantizedRescale, src: string): string {
  // With s = 0 there is no remainder bit to carry the identity; such rescales are rare (a standalone activation on
  // rescaled values, whose input is a short sum), and the gadgets serve them.
  return l.shift > 0 ? rescaleInline(l, src) : rescaleGadget(l, src);
}

/**
 * The typed refusal of a layer the circom backend (a test oracle for the kinds it had) does not generate: new kinds
 * and new parameters (embeddings, padded pooling) are proven by the direct backend only.
 */
export function circomRefusal(l: QuantizedLayer): VerinferError {
  return new VerinferError("UNSUPPORTED_LAYER", `the circom backend does not generate layer "${l.name}" (${l.kind})`, {
    details:
      'embeddings, padded pooling and smooth activations are proven by the direct backend only (backend: "direct")',
    meta: { layer: l.name, kind: l.kind },
  });
}

/** Refuses, before any generation, a network with a layer the circom templates do not cover. */
export function checkCircomLayers(layers: readonly QuantizedLayer[]): void {
  for (const l of layers) {
    if (
      l.kind === "embedding" ||
      ((l.kind === "sumPool2d" || l.kind === "maxPool2d") && poolIsPadded(l)) ||
      (l.kind === "rescale" && isSmoothActivation(l.activation))
    ) {
      throw circomRefusal(l);
    }
  }
}

/**
 * Splits a network's layers into the groups that become one template each: a run of linear layers and the
 * rescale or max pooling that reads it (or that nonlinear layer alone).
 */
export function templateGroups(layers: readonly QuantizedLayer[]): QuantizedLayer[][] {
  const groups: QuantizedLayer[][] = [];
  let run: QuantizedLayer[] = [];
  for (const l of layers) {
    run.push(l);
    if (l.kind === "rescale" || l.kind === "maxPool2d") {
      groups.push(run);
      run = [];
    }
  }
  if (run.length > 0) groups.push(run);
  return groups;
}

/** The circom template `Layer<index>` of one group of layers (see {@link templateGroups}). */
export function groupTemplate(index: number, group: readonly QuantizedLayer[]): string {
  const first = group[0] as QuantizedLayer;
  const last = group[group.length - 1] as QuantizedLayer;
  const parts: string[] = [];
  let src = "in";
  group.forEach((l, t) => {
    if (l.kind === "rescale") {
      parts.push(rescale(l, src));
      return;
    }
    if (l.kind === "maxPool2d") {
      parts.push(maxPool2d(l, src));
      return;
    }
    const dst = `v${t}`;
    parts.push(`    var ${dst}[${layerOutputSize(l)}];\n`);
    if (l.kind === "dense") parts.push(dense(l, src, dst, t));
    else if (l.kind === "conv2d") parts.push(conv2d(l, src, dst, t));
    else if (l.kind === "sumPool2d") parts.push(sumPool2d(l, src, dst));
    else throw circomRefusal(l);
    src = dst;
  });
  // A trailing linear run (never produced by quantizeNetwork, whose outputs come from a rescale) is wired out.
  const tail =
    last.kind === "rescale" || last.kind === "maxPool2d"
      ? ""
      : `    for (var j = 0; j < ${layerOutputSize(last)}; j++) {\n        out[j] <== ${src}[j];\n    }\n`;
  return `// Layer ${index}: ${group.map((l) => l.kind).join(" -> ")}, ${layerInputSize(first)} -> ${layerOutputSize(last)} values.
template Layer${index}() {
    signal input in[${layerInputSize(first)}];
    signal output out[${layerOutputSize(last)}];
${parts.join("")}${tail}}
`;
}
