import path from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { isVerinferError, type ModelPackage } from "../../src/index.js";
import type { ModelManifest } from "../../src/package/model-manifest.js";
import { ModelPackage as PackageClass } from "../../src/package/model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { plonkGateCount } from "../../src/proof-systems/plonk-gates.js";
import { requiredPtauPowerFor } from "../../src/proof-systems/systems.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { errorOf, ROOT, TEST_CACHE, tinyCalibration, tinyNetwork, tinyPackage } from "../fixtures.js";

/** A cache of its own: the tiny model's PLONK package has the tiny model's id, which TEST_CACHE's index keeps. */
const CACHE = path.join(ROOT, ".verinfer-cache", "test-manifest-circuit");

const withCircuit = (m: ModelManifest, circuit: Partial<ModelManifest["circuit"]>): ModelManifest => ({
  ...structuredClone(m),
  circuit: { ...structuredClone(m.circuit), ...circuit },
});

async function refused(manifest: unknown, cacheDir: string): Promise<boolean> {
  return isVerinferError(
    await errorOf(PackageClass.fromManifest(manifest, new ArtifactStore(cacheDir))),
    "ARTIFACT_CORRUPT",
  );
}

describe("the circuit sizes a manifest states are the r1cs's, recomputed on load", () => {
  let plonk: ModelPackage;
  let groth16: ModelPackage;

  beforeAll(async () => {
    plonk = await compileModel(tinyNetwork, {
      calibration: tinyCalibration,
      cacheDir: CACHE,
      quiet: true,
      proofSystem: "plonk",
    });
    groth16 = await tinyPackage();
  }, 600_000);

  it("opens an untouched PLONK manifest, whose gate count is the r1cs's", async () => {
    const count = plonkGateCount(new Uint8Array(await plonk.artifact("r1cs")));
    expect(plonk.manifest.circuit.gates).toBe(count.gates);
    const reopened = await PackageClass.fromManifest(structuredClone(plonk.manifest), new ArtifactStore(CACHE));
    expect(reopened.manifest.circuit).toEqual(plonk.manifest.circuit);
  });

  it("refuses a PLONK manifest whose gate count was changed, up or down", async () => {
    const gates = plonk.manifest.circuit.gates as number;
    expect(await refused(withCircuit(plonk.manifest, { gates: gates - 1 }), CACHE)).toBe(true);
    expect(await refused(withCircuit(plonk.manifest, { gates: gates + 1000 }), CACHE)).toBe(true);
  });

  it("refuses a PLONK manifest that leaves its gate count out", async () => {
    const { gates: _, ...circuit } = plonk.manifest.circuit;
    expect(await refused({ ...structuredClone(plonk.manifest), circuit }, CACHE)).toBe(true);
  });

  it("refuses a manifest whose constraint count or ptau power was changed", async () => {
    for (const [pkg, cacheDir] of [
      [plonk, CACHE],
      [groth16, TEST_CACHE],
    ] as const) {
      const { constraints, power } = pkg.manifest.circuit;
      expect(await refused(withCircuit(pkg.manifest, { constraints: constraints + 1 }), cacheDir)).toBe(true);
      expect(await refused(withCircuit(pkg.manifest, { power: power - 1 }), cacheDir)).toBe(true);
    }
  });

  it("refuses a Groth16 manifest that states PLONK gates (Groth16 pays for constraints)", async () => {
    const count = plonkGateCount(new Uint8Array(await groth16.artifact("r1cs")));
    expect(groth16.manifest.circuit.gates).toBeUndefined();
    expect(groth16.manifest.circuit.power).toBe(requiredPtauPowerFor("groth16", count));
    expect(await refused(withCircuit(groth16.manifest, { gates: count.gates }), TEST_CACHE)).toBe(true);
  });
});

describe("proving reads the r1cs only where the proof system proves with it", () => {
  /** The artifact names a fresh package's first `provingArtifacts()` reads. */
  async function namesRead(pkg: ModelPackage, cacheDir: string): Promise<string[]> {
    const fresh = await PackageClass.fromManifest(structuredClone(pkg.manifest), new ArtifactStore(cacheDir));
    const get = vi.spyOn(ArtifactStore.prototype, "get");
    try {
      await fresh.provingArtifacts();
      return get.mock.calls.map(([, what]) => String(what));
    } finally {
      get.mockRestore();
    }
  }

  it("a PLONK package's proving artifacts leave the r1cs unread (PLONK ignores it); Groth16's read it", async () => {
    const plonk = await compileModel(tinyNetwork, {
      calibration: tinyCalibration,
      cacheDir: CACHE,
      quiet: true,
      proofSystem: "plonk",
    });
    expect(await namesRead(plonk, CACHE)).toEqual(["wasm", "zkey"]);
    expect((await plonk.provingArtifacts()).r1cs).toBeUndefined();
    expect((await namesRead(await tinyPackage(), TEST_CACHE)).sort()).toEqual(["r1cs", "wasm", "zkey"]);
  }, 600_000);
});
