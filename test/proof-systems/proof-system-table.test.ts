// The proof-system table: every name has exactly its own module, and a name that is not one of PROOF_SYSTEMS is
// refused everywhere a system is looked up — it never falls into another system's branch (issue 20).
import { describe, expect, it } from "vitest";
import { compileVerifier, verifierSolidity } from "../../src/chain/deploy-verifier.js";
import { verifierContractName } from "../../src/chain/export-solidity-verifier.js";
import { REGISTRY_PROOF_SYSTEMS } from "../../src/chain/register-model.js";
import { isVerinferError } from "../../src/errors.js";
import { PROOF_SYSTEMS, type ProofSystem } from "../../src/proof-systems/proof-system.js";
import { proveCircuit } from "../../src/proof-systems/prove-circuit.js";
import { setupForSystem } from "../../src/proof-systems/setup-for-system.js";
import {
  hasPhase2,
  PROOF_SYSTEM_MODULES,
  proofSystemModule,
  requiredPtauPowerFor,
} from "../../src/proof-systems/systems.js";
import { verifySnarkProof } from "../../src/proof-systems/verify-snark-proof.js";
import { errorOf } from "../fixtures.js";

const UNKNOWN = ["groth17", "", "__proto__", "toString", "constructor", "GROTH16"] as unknown as ProofSystem[];

describe("proof-system table", () => {
  it("holds one module per name in PROOF_SYSTEMS, each named after its key, and the registry numbers them all", () => {
    expect(Object.keys(PROOF_SYSTEM_MODULES).sort()).toEqual([...PROOF_SYSTEMS].sort());
    for (const [name, module] of Object.entries(PROOF_SYSTEM_MODULES)) expect(module.name).toBe(name);
    for (const name of PROOF_SYSTEMS) expect(typeof REGISTRY_PROOF_SYSTEMS[name]).toBe("number");
    expect(new Set(Object.values(REGISTRY_PROOF_SYSTEMS)).size).toBe(Object.keys(REGISTRY_PROOF_SYSTEMS).length);
    expect(PROOF_SYSTEMS.filter(hasPhase2)).toEqual(["groth16"]);
    expect(PROOF_SYSTEMS.map(verifierContractName)).toEqual(["Groth16Verifier", "PlonkVerifier", "FflonkVerifier"]);
  });

  it("refuses an unknown system name with UNSUPPORTED_MODE, including Object.prototype names", () => {
    for (const name of UNKNOWN) {
      expect(() => proofSystemModule(name), String(name)).toThrow(
        expect.objectContaining({ code: "UNSUPPORTED_MODE" }),
      );
      expect(() => hasPhase2(name)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_MODE" }));
      expect(() => requiredPtauPowerFor(name, { constraints: 10, nPublic: 4, gates: 20 })).toThrow(
        expect.objectContaining({ code: "UNSUPPORTED_MODE" }),
      );
    }
    expect(() => proofSystemModule(undefined)).toThrow(expect.objectContaining({ code: "UNSUPPORTED_MODE" }));
  });

  it("never proves, sets up or verifies an unknown system as another one", async () => {
    const system = "groth17" as ProofSystem;
    const prove = proveCircuit({ system, witness: new Uint8Array(), zkey: new Uint8Array(), inputs: {} as never });
    expect(isVerinferError(await errorOf(prove), "UNSUPPORTED_MODE")).toBe(true);
    const setup = setupForSystem({ system, r1cs: new Uint8Array(), ptauFile: "/nonexistent.ptau" });
    expect(isVerinferError(await errorOf(setup), "UNSUPPORTED_MODE")).toBe(true);
    const verify = (async () => verifySnarkProof({ system, vkey: {}, publicSignals: [], proof: {} }))();
    expect(isVerinferError(await errorOf(verify), "UNSUPPORTED_MODE")).toBe(true);
  });

  it("refuses a bare vkey of no known protocol instead of rendering a Groth16 verifier for it", async () => {
    for (const protocol of ["groth17", undefined, 7]) {
      const err = await errorOf(compileVerifier({ vkey: { protocol, curve: "bn128", nPublic: 4 } }));
      expect(isVerinferError(err, "INVALID_INPUT"), String(protocol)).toBe(true);
    }
  });

  it("renders a PLONK verifier only from a PLONK key, an FFLONK one only from an FFLONK key", async () => {
    const fflonkish = { protocol: "fflonk", curve: "bn128", nPublic: 4 };
    await expect(PROOF_SYSTEM_MODULES.plonk.solidityVerifier(fflonkish)).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    await expect(
      PROOF_SYSTEM_MODULES.fflonk.solidityVerifier({ ...fflonkish, protocol: "plonk" }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(verifierSolidity({ vkey: { protocol: "groth16" } })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("builds a system's registry call only from a proof of that system", () => {
    const groth16Proof = {
      system: "groth16" as const,
      proof: {
        pi_a: ["1", "2", "1"],
        pi_b: [
          ["1", "2"],
          ["3", "4"],
          ["1", "0"],
        ],
        pi_c: ["5", "6", "1"],
      },
      publicSignals: ["1", "2", "3", "4"],
    };
    const call = PROOF_SYSTEM_MODULES.groth16.registryCall(groth16Proof as never);
    expect(call.method).toBe("submitProof");
    expect(call.args).toEqual([
      [1n, 2n],
      [
        [2n, 1n],
        [4n, 3n],
      ],
      [5n, 6n],
      [1n, 2n, 3n, 4n],
    ]);
    for (const other of ["plonk", "fflonk"] as const) {
      expect(() => PROOF_SYSTEM_MODULES[other].registryCall(groth16Proof as never)).toThrow(
        expect.objectContaining({ code: "MALFORMED_RECEIPT" }),
      );
    }
  });

  it("sizes the ptau of each system by its own rule, and a PLONK-family size must state its gates", () => {
    const size = { constraints: 1000, nPublic: 5, gates: 3000 };
    expect(requiredPtauPowerFor("groth16", size)).toBe(10); // 1005 < 2^10
    expect(requiredPtauPowerFor("plonk", size)).toBe(12); // 3000 ≤ 2^12
    expect(requiredPtauPowerFor("fflonk", size)).toBe(15); // domain 2^12; 9·2^12 + 18 ≤ 2^16 − 1
    expect(requiredPtauPowerFor("plonk", { ...size, gates: 4 })).toBe(3); // the domain is at least 2^3
    for (const system of ["plonk", "fflonk"] as const) {
      expect(() => PROOF_SYSTEM_MODULES[system].requiredPtauPower({ ...size, gates: undefined })).toThrow(
        expect.objectContaining({ code: "INVALID_INPUT" }),
      );
    }
  });
});
