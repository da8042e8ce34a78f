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
// source. Weights are constants, so linear layers are linear combinations: no constraint of their own after
// circom --O2; only rescales and max pooling cost constraints, through the gadgets of circuits/verinfer.circom.

const list = (values: readonly (bigint | number)[]) => `[${values.join(",")}]`;

function header(index: number, layer: QuantizedLayer, summary: string): string {
  return `// Layer ${index}: ${layer.kind}, ${layerInputSize(layer)} -> ${layerOutputSize(layer)} values. ${summary}
template Layer${index}() {
    signal input in[${layerInputSize(layer)}];
    signal output out[${layerOutputSize(layer)}];
`;
}

function dense(index: number, l: QuantizedDense): string {
  return `${header(index, l, "Linear: out_j = b_j + sum_i W[j][i] * in[i].")}    var W[${l.nOut}][${l.nIn}] = [${l.weights.map(list).join(",\n        ")}];
    var b[${l.nOut}] = ${list(l.bias)};
    for (var j = 0; j < ${l.nOut}; j++) {
        var acc = b[j];
        for (var i = 0; i < ${l.nIn}; i++) {
            acc += W[j][i] * in[i];
        }
        out[j] <== acc;
    }
}
`;
}

function conv2d(index: number, l: QuantizedConv2d): string {
  const [h, w, c] = l.inShape;
  const [oh, ow, oc] = l.outShape;
  const [kh, kw] = l.kernelSize;
  const [sh, sw] = l.strides;
  const [pt, pl] = l.padding;
  const k = kh * kw * c;
  return `${header(index, l, "Linear: a convolution, zero padding outside the input.")}    var K[${oc}][${k}] = [${l.weights.map(list).join(",\n        ")}];
    var b[${oc}] = ${list(l.bias)};
    for (var oy = 0; oy < ${oh}; oy++) {
        for (var ox = 0; ox < ${ow}; ox++) {
            for (var co = 0; co < ${oc}; co++) {
                var acc = b[co];
                for (var ky = 0; ky < ${kh}; ky++) {
                    var iy = oy * ${sh} + ky - ${pt};
                    for (var kx = 0; kx < ${kw}; kx++) {
                        var ix = ox * ${sw} + kx - ${pl};
                        if (iy >= 0 && iy < ${h} && ix >= 0 && ix < ${w}) {
                            for (var ci = 0; ci < ${c}; ci++) {
                                acc += K[co][(ky * ${kw} + kx) * ${c} + ci] * in[(iy * ${w} + ix) * ${c} + ci];
                            }
                        }
                    }
                }
                out[(oy * ${ow} + ox) * ${oc} + co] <== acc;
            }
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
}
`;
}

function sumPool2d(index: number, l: QuantizedSumPool2d): string {
  return `${header(index, l, "Linear: the sum of each window (an average pooling before its rescale).")}${poolLoops(
    l,
    "var acc = 0;",
    "acc += in[i];",
    "out[j] <== acc;",
  )}`;
}

function maxPool2d(index: number, l: QuantizedMaxPool2d): string {
  const k = l.poolSize[0] * l.poolSize[1];
  if (k === 1) {
    return `${header(index, l, "A 1x1 max pooling: a selection.")}${poolLoops(l, "", "out[j] <== in[i];", "")}`;
  }
  const n = layerOutputSize(l);
  return `${header(index, l, `The maximum of each window: MaxOf(${k}, ${l.diffBits}) per output.`)}    component mx[${n}];
${poolLoops(l, `mx[j] = MaxOf(${k}, ${l.diffBits});`, `mx[j].in[py * ${l.poolSize[1]} + px] <== in[i];`, "out[j] <== mx[j].out;")}`;
}

function rescale(index: number, l: QuantizedRescale): string {
  const gadget = l.activation === "relu" ? "RescaleRelu" : "Rescale";
  const unusedSign = l.activation === "relu" ? "" : "\n        _ <== unit[j].nonNegative;";
  return `${header(
    index,
    l,
    `${gadget}(${l.shift}, qBits[j]) of ${l.multiplier} * in[j]: floor(${l.multiplier} * in[j] / 2^${l.shift}) with remainder and quotient range-checked.`,
  )}    var qBits[${l.size}] = ${list(l.qBits)};
    component unit[${l.size}];
    for (var j = 0; j < ${l.size}; j++) {
        unit[j] = ${gadget}(${l.shift}, qBits[j]);
        unit[j].in <== in[j] * ${l.multiplier};
        out[j] <== unit[j].out;${unusedSign}
    }
}
`;
}

/** The circom template `Layer<index>` of one quantized layer. */
export function layerTemplate(index: number, layer: QuantizedLayer): string {
  switch (layer.kind) {
    case "dense":
      return dense(index, layer);
    case "conv2d":
      return conv2d(index, layer);
    case "sumPool2d":
      return sumPool2d(index, layer);
    case "maxPool2d":
      return maxPool2d(index, layer);
    case "rescale":
      return rescale(index, layer);
  }
}
