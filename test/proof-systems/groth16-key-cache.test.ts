// The Groth16 key cache of proveGroth16Witness: a zkey is parsed once per bytes object, and an r1cs is known by its
// content — another bytes object holding the same r1cs (a re-read, a copy) reuses the key, a different r1cs costs
// its C matrix and is checked against the key's circuit, never a second parse of the zkey.

import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { randomSalt } from "../../src/attest/commitments.js";
import { proveGroth16Witness } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import * as groth16Key from "../../src/proof-systems/groth16-key.js";
import { demoPackage, errorOf, tinyCalibration, tinyPackage } from "../fixtures.js";

vi.mock("../../src/proof-systems/groth16-key.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/proof-systems/groth16-key.js")>();
  return { ...original, loadGroth16Key: vi.fn(original.loadGroth16Key), withR1cs: vi.fn(original.withR1cs) };
});

let zkey: Uint8Array;
let r1cs: Uint8Array;
let wtns: Uint8Array;

beforeAll(async () => {
  const pkg = await tinyPackage();
  const artifacts = await pkg.provingArtifacts();
  zkey = new Uint8Array(artifacts.zkey); // bytes no other test has proven with
  r1cs = new Uint8Array(await pkg.artifact("r1cs"));
  wtns = await artifacts.witness.compute({
    input: quantizeInput(pkg.network, tinyCalibration[2] as number[]),
    inputSalt: randomSalt(),
    outputSalt: randomSalt(),
  });
}, 600_000);

afterAll(async () => {
  await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
});

describe("the Groth16 key cache", () => {
  it("parses the zkey once whatever bytes object holds the r1cs, and derives C once per r1cs content", async () => {
    const load = vi.mocked(groth16Key.loadGroth16Key);
    const derive = vi.mocked(groth16Key.withR1cs);
    load.mockClear();
    derive.mockClear();
    for (const copy of [r1cs, new Uint8Array(r1cs), new Uint8Array(r1cs)]) {
      const { publicSignals } = await proveGroth16Witness({ wtns, zkey, r1cs: copy });
      expect(publicSignals.length).toBeGreaterThan(0);
    }
    await proveGroth16Witness({ wtns, zkey }); // without an r1cs: each proof verified instead
    await proveGroth16Witness({ wtns, zkey, r1cs: new Uint8Array(r1cs) });
    expect(load).toHaveBeenCalledTimes(1);
    expect(derive).toHaveBeenCalledTimes(1);
  }, 120_000);

  it("an r1cs of another circuit is still refused, the zkey not parsed again", async () => {
    const load = vi.mocked(groth16Key.loadGroth16Key);
    load.mockClear();
    const other = new Uint8Array(await (await demoPackage()).artifact("r1cs"));
    const error = await errorOf(proveGroth16Witness({ wtns, zkey, r1cs: other }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    expect(load).not.toHaveBeenCalled();
    // The cache still holds the right circuit's key afterwards.
    await proveGroth16Witness({ wtns, zkey, r1cs: new Uint8Array(r1cs) });
  }, 600_000);
});
