import { describe, expect, it } from "vitest";
import { fidelityWarnings, measureFidelity } from "../../src/models/measure-fidelity.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { demoPackage, tinyCalibration, tinyNetwork } from "../fixtures.js";

describe("calibration fidelity", () => {
  it("reports how the proven outputs track the float ones on the calibration samples", async () => {
    const pkg = await demoPackage();
    const f = pkg.manifest.fidelity;
    expect(f?.samples).toBeGreaterThan(0);
    expect(f?.argmaxAgreement).toBeGreaterThanOrEqual(0.99);
    expect(f?.maxAbsError).toBeGreaterThan(0);
    expect(f?.maxAbsError).toBeLessThan(0.05 * (f?.maxAbsFloat ?? 0));
    expect(fidelityWarnings(pkg.network, f)).toEqual([]);
  });

  it("warns when calibration in the wrong units quantizes inputs to whole numbers", async () => {
    const pixels = tinyCalibration.map((x) => x.map((v) => v * 255));
    const network = quantizeNetwork(tinyNetwork, { calibration: pixels });
    expect(network.input.fracBits).toBeLessThanOrEqual(0);
    const f = await measureFidelity({ float: tinyNetwork, network, samples: pixels });
    expect(fidelityWarnings(network, f).some((w) => w.includes("whole numbers"))).toBe(true);
  });

  it("warns when a coarse quantization changes predictions or the error is large", async () => {
    const network = quantizeNetwork(tinyNetwork, { calibration: tinyCalibration, activationBits: 2, weightBits: 2 });
    const samples = Array.from({ length: 64 }, (_, i) => [0, 1, 2, 3].map((k) => ((i * 7 + k * 13) % 17) / 17));
    const f = await measureFidelity({ float: tinyNetwork, network, samples });
    expect(f?.samples).toBe(64);
    expect(fidelityWarnings(network, f).length).toBeGreaterThan(0);
  });

  it("skips samples outside the accepted range and reports nothing without samples", async () => {
    const network = quantizeNetwork(tinyNetwork, { calibration: tinyCalibration });
    expect(await measureFidelity({ float: tinyNetwork, network, samples: [[50, 50, 50, 50]] })).toBeUndefined();
    expect(await measureFidelity({ float: tinyNetwork, network, samples: [] })).toBeUndefined();
  });
});
