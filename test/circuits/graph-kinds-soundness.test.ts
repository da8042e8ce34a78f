// Review of issue 21's kinds in the direct backend, as an attacker: a network must have one spelling per model
// commitment, every gadget of the new kinds (embedding lookups, gating products, merges, smooth activations,
// padded pools) must have exactly one witness per input — the integer semantics — and the integer reference must
// agree with the circuit at the extremes of the input range.
import { describe, expect, it } from "vitest";
import { commitValues } from "../../src/attest/commitments.js";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { buildModelCircuit } from "../../src/circuits/direct/build-model-circuit.js";
import { writeR1cs } from "../../src/circuits/direct/write-r1cs.js";
import { isVerinferError, VerinferError } from "../../src/errors.js";
import type { Network } from "../../src/models/network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import {
  type QuantizedNetwork,
  quantizedNetworkFromJson,
  quantizedNetworkToJson,
} from "../../src/models/quantized-network.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import { checkR1cs, parseR1cs } from "../r1cs-check.js";

/** What a function threw (the test fails when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

/** 2 → dense → sigmoid → dense → linear: a network with a smooth activation inside it. */
function smoothNetwork(): QuantizedNetwork {
  const net: Network = {
    inputShape: [2],
    inputSize: 2,
    layers: [
      {
        name: "a",
        units: 2,
        activation: "linear",
        kernel: [
          [1, 0.5],
          [-1, 2],
        ],
        bias: [0, 0.1],
      },
      { kind: "activation", name: "s", activation: "sigmoid" },
      { name: "b", units: 1, activation: "linear", kernel: [[1], [-1]], bias: [0] },
    ],
  };
  return quantizeNetwork(net, {
    calibration: [
      [1, 0],
      [-1, 1],
    ],
    inputBits: 3,
    weightBits: 4,
    activationBits: 5,
  });
}

describe("model commitment: one spelling per network", () => {
  it("refuses an input offset outside [-2^127, 2^127): lo and lo + p would share a model id", async () => {
    const net = smoothNetwork();
    const far: QuantizedNetwork = {
      ...net,
      input: { ...net.input, lo: net.input.lo + FIELD_PRIME, hi: net.input.hi + FIELD_PRIME },
    };
    // The attack: the offset is hashed as a field element, so both spellings commit alike.
    const e1 = thrown(() => quantizedNetworkFromJson(quantizedNetworkToJson(far)));
    expect(e1).toBeInstanceOf(Error);
    const e2 = await modelCommitment(far).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVerinferError(e2, "INVALID_MODEL")).toBe(true);
    expect(await modelCommitment(net)).toBeTypeOf("bigint");
  });

  it("refuses a network whose outputs are a smooth activation's: its output packing would not be binding", async () => {
    const full = smoothNetwork();
    // The network cut after its sigmoid: schema-shaped (outputs from a rescale, width its qBits), but a sigmoid's
    // outputs are table values at another scale, far outside the qBits the output packing relies on.
    const sig = full.layers[1];
    if (sig?.kind !== "rescale" || !sig.piecewise) throw new Error("expected the sigmoid rescale");
    const cut: QuantizedNetwork = {
      ...full,
      layers: full.layers.slice(0, 2),
      outputShape: [2],
      outputFracBits: sig.outFracBits,
      outputWidth: Math.max(...sig.qBits),
    };
    // The attack this refusal prevents: the circuit's output commitment opens to an in-range vector that is not
    // the proven output (a value past its slot carries into the next one).
    const mc = await modelCommitment(full);
    const half = 1n << BigInt(cut.outputWidth - 1);
    const slot = 1n << BigInt(cut.outputWidth);
    let shown = false;
    for (let a = full.input.lo; a <= full.input.hi && !shown; a++) {
      for (let b = full.input.lo; b <= full.input.hi && !shown; b++) {
        const w = buildModelCircuit({
          network: cut,
          modelCommitment: mc,
          track: false,
          checked: true,
          inputs: { input: [a, b], inputSalt: 3n, outputSalt: 5n },
        }).witness();
        const out = w.slice(4, 6) as [bigint, bigint];
        // Both outputs in one packed element: P = (y0 + half) + (y1 + half)·2^width.
        const packed = out[0] + half + (out[1] + half) * slot;
        const forged = [(packed % slot) - half, packed / slot - half];
        if (out[0] + half < slot || forged.some((v) => v < -half || v >= half)) continue;
        expect(await commitValues({ values: forged, lo: -half, width: cut.outputWidth, salt: 5n })).toBe(w[3]);
        expect(forged).not.toEqual(out);
        shown = true;
      }
    }
    expect(shown).toBe(true);
    // Refused at the boundary (a package's network, a witness program's) and by the backend.
    expect(thrown(() => quantizedNetworkFromJson(quantizedNetworkToJson(cut)))).toBeInstanceOf(Error);
    const e = thrown(() => buildModelCircuit({ network: cut, modelCommitment: mc, track: true }));
    expect(isVerinferError(e, "INVALID_MODEL")).toBe(true);
  });
});

// Keep imports used while the file grows.
void VerinferError;
void writeR1cs;
void parseR1cs;
void checkR1cs;
void toField;
