// Audit of the direct backend (issue 22): the witness program a package stores where a circom package stores its
// wasm. It is data (the quantized network as JSON) interpreted by verinfer's own code — but nothing bounds what it
// declares, and nothing ties it to the package it came with, so a hostile package can make a prover allocate and
// compute in proportion to sizes it merely states.
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import {
  directWitness,
  directWitnessOfModel,
  isDirectWitnessProgram,
  MAX_WITNESS_PROGRAM_BYTES,
  writeWitnessProgram,
} from "../../src/circuits/direct/witness-program.js";
import { WitnessGenerator } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import { LAYER_MODULES } from "../../src/layers/registry.js";
import { ModelPackage } from "../../src/package/model-package.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { errorOf, ROOT, tinyPackage } from "../fixtures.js";

/** A witness program of a few hundred bytes whose network reads `n` inputs through one max-pool window. */
function hostileProgram(n: number): Uint8Array {
  const network = {
    inputShape: [n],
    inputSize: n,
    input: { bits: 2, fracBits: 0, lo: "0", hi: "3" },
    layers: [
      {
        kind: "maxPool2d",
        name: "m",
        inShape: [n, 1, 1],
        outShape: [1, 1, 1],
        poolSize: [n, 1],
        strides: [1, 1],
        diffBits: 4,
      },
      {
        kind: "rescale",
        name: "r",
        size: 1,
        multiplier: "1",
        shift: 0,
        activation: "linear",
        qBits: [4],
        outFracBits: 0,
      },
    ],
    outputShape: [1],
    outputFracBits: 0,
    outputWidth: 4,
  };
  return new TextEncoder().encode(
    JSON.stringify({ format: "verinfer/direct-witness@1", modelCommitment: "1", network }),
  );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("audit: the direct witness program", () => {
  it("is data read by verinfer's code: the direct backend evaluates no code (no eval, Function, wasm, dynamic import)", () => {
    const dir = path.join(ROOT, "src", "circuits", "direct");
    for (const file of [
      "witness-program.ts",
      "build-model-circuit.ts",
      "constraint-system.ts",
      "gadgets.ts",
      "poseidon-gadget.ts",
      "commitment-gadgets.ts",
    ]) {
      const src = readFileSync(path.join(dir, file), "utf8");
      expect(src, file).not.toMatch(/\beval\s*\(|new\s+Function|WebAssembly|\bimport\s*\(|vm\.run/);
    }
    expect(isDirectWitnessProgram(hostileProgram(4))).toBe(true);
  });

  // Was a finding: the program was parsed with the network schema only, its declared sizes unbounded (2^30 inputs
  // declared in a few hundred bytes abort the prover process with a V8 out-of-memory, which no try/catch survives).
  // Now every layer is bounded to 2^24 values and the circuit to 2^28 constraints, from the shapes alone.
  it("refuses a program that declares more than the backend's limits (2^30 inputs in < 1 kB)", () => {
    const bytes = hostileProgram(2 ** 30);
    expect(bytes.length).toBeLessThan(1024);
    let error: unknown;
    try {
      directWitness(bytes);
    } catch (e) {
      error = e;
    }
    expect(isVerinferError(error, "ARTIFACT_CORRUPT"), "directWitness accepted it").toBe(true);
  });

  // Was a finding: a witness computation for the package's own (4-value) input first runs the declared
  // network's whole interval analysis (here a 2^20-value max-pool window) and only then notices that the input's
  // length is not the program's: the work a prover does is chosen by the program, not by the input it was given.
  it("checks the input against the program before any work proportional to the declared network", async () => {
    const bounds = vi.spyOn(LAYER_MODULES.maxPool2d, "bounds");
    const generator = await WitnessGenerator.create(hostileProgram(1 << 20));
    await expect(generator.compute({ input: [0n, 1n, 2n, 3n], inputSalt: 1n, outputSalt: 2n })).rejects.toThrow();
    const window = bounds.mock.calls.map(([, input]) => input.lo.length);
    expect(window, "the max-pool bounds ran over the declared 2^20 inputs").toEqual([]);
  });

  // A program has one spelling: strict JSON (no key twice), no extra keys, the commitment in canonical decimal,
  // and a size bound checked before the bytes are decoded.
  it("refuses a second spelling of a program and an oversized one, with ARTIFACT_CORRUPT", () => {
    const honest = new TextDecoder().decode(hostileProgram(4));
    expect(() => directWitness(new TextEncoder().encode(honest))).not.toThrow();
    const spellings = [
      honest.replace('"modelCommitment":"1"', '"modelCommitment":"2","modelCommitment":"1"'),
      honest.replace('"modelCommitment":"1"', '"modelCommitment":"01"'),
      honest.replace('"modelCommitment":"1"', '"modelCommitment":"1","extra":0'),
    ];
    for (const text of spellings) {
      expect(text).not.toBe(honest);
      expect(() => directWitness(new TextEncoder().encode(text)), text).toThrow(
        expect.objectContaining({ code: "ARTIFACT_CORRUPT" }),
      );
    }
    const huge = new Uint8Array(MAX_WITNESS_PROGRAM_BYTES + 1);
    huge[0] = 0x7b;
    // Refused by its size, before the 256 MiB are decoded and parsed (which would also fail, later).
    expect(() => directWitness(huge)).toThrow(
      expect.objectContaining({ code: "ARTIFACT_CORRUPT", message: expect.stringContaining("too large") }),
    );
  });

  // The network's interval analysis is a property of the (immutable) program, not of a witness: run once.
  it("checks the program's network on its first witness only", async () => {
    const bounds = vi.spyOn(LAYER_MODULES.maxPool2d, "bounds");
    const generator = await WitnessGenerator.create(hostileProgram(4));
    const inputs = { input: [0n, 1n, 2n, 3n], inputSalt: 1n, outputSalt: 2n };
    const first = await generator.compute(inputs);
    expect(bounds).toHaveBeenCalledTimes(1);
    expect(await generator.compute(inputs)).toEqual(first);
    expect(await generator.compute({ ...inputs, input: [3n, 2n, 1n, 0n] })).not.toEqual(first);
    expect(bounds).toHaveBeenCalledTimes(1);
    await expect(generator.compute({ ...inputs, input: [0n, 1n, 2n, 4n] })).rejects.toThrow();
  });
});

describe("audit: a package's witness program is its own model's", () => {
  it("refuses (ARTIFACT_CORRUPT) a program of another network stored under an honest manifest, before any witness", async () => {
    const honest = await tinyPackage();
    // The same network with one bias moved: a program that computes another model under this model's name.
    const other = structuredClone(honest.network);
    const dense = other.layers.find((l) => l.kind === "dense");
    if (dense?.kind !== "dense") throw new Error("the tiny network has a dense layer");
    dense.bias[0] = (dense.bias[0] as bigint) + 1n;
    const program = writeWitnessProgram({ network: other, modelCommitment: await modelCommitment(other) });
    const store = new ArtifactStore(honest.store.cacheDir);
    const manifest = structuredClone(honest.manifest);
    manifest.artifacts.wasm = await store.put(program);
    const pkg = await ModelPackage.fromManifest(manifest, store);
    expect(pkg.id).toBe(honest.id);
    const error = await errorOf(pkg.provingArtifacts());
    expect(isVerinferError(error, "ARTIFACT_CORRUPT"), String(error)).toBe(true);
    expect((error as Error).message).toContain(honest.id);
    // And a program that states the honest commitment beside the other network is refused the same way.
    const lying = writeWitnessProgram({ network: other, modelCommitment: BigInt(honest.id) });
    await expect(directWitnessOfModel(lying, honest.id)).rejects.toThrow(/not the one of model/);
    // The honest program passes the same check.
    await expect(directWitnessOfModel(await honest.artifact("wasm"), honest.id)).resolves.toBeTypeOf("function");
  });
});
