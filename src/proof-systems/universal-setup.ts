import * as snarkjs from "snarkjs";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import { ensureDevPtau } from "../setup/dev-ptau.js";
import { inspectPtau, type PtauInfo } from "../setup/inspect-ptau.js";
import type { OnProgress } from "../util/progress.js";
import type { ProofSystemModule, ProofSystemSetup, ProofSystemSetupParams } from "./proof-system-module.js";

/** Parameters of {@link setupPlonk} and {@link setupFflonk}. */
export interface SetupUniversalParams {
  r1cs: Uint8Array;
  /** Path of a prepared powers-of-tau file (see `requiredPtauPowerFor` for the power each system needs). */
  ptauFile: string;
  onProgress?: OnProgress;
}

/** Result of a universal (PLONK-family) setup. */
export interface UniversalSetup {
  zkey: Uint8Array;
  /** Verification key in snarkjs's JSON shape (`protocol: "plonk"` or `"fflonk"`). */
  vkey: Record<string, unknown>;
  /** PLONK gates snarkjs made of the r1cs (its "Plonk constraints" / "Constraints" count). */
  gates: number | undefined;
}

/** A snarkjs setup entry point. */
export type Runner = (r1cs: unknown, ptau: string, zkey: unknown, logger: unknown) => Promise<unknown>;

/** Runs one snarkjs universal setup and exports its key; see `setupPlonk`, `setupFflonk`. */
export async function universalSetup(
  protocol: "plonk" | "fflonk",
  run: Runner,
  params: SetupUniversalParams,
): Promise<UniversalSetup> {
  const errors: string[] = [];
  let gates: number | undefined;
  const note = (message: string) => {
    const m = /^(?:Plonk constraints|\s*Constraints):\s+(\d+)/.exec(message);
    if (m) gates = Number(m[1]);
  };
  const logger = {
    debug: () => {},
    info: (message: string) => {
      note(message);
      params.onProgress?.({ stage: "setup", message });
    },
    warn: (message: string) => params.onProgress?.({ stage: "setup", message }),
    error: (message: string) => errors.push(message),
  };
  unrefIdleCurveWorkers();
  const zkey = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  params.onProgress?.({ stage: "setup", message: `${protocol} setup (from the ptau alone; no phase 2)` });
  let result: unknown;
  try {
    result = await run({ type: "mem", data: params.r1cs }, params.ptauFile, zkey, logger);
  } catch (cause) {
    throw new VerinferError("SETUP_REQUIRED", `${protocol} setup failed`, {
      details: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
  // snarkjs's plonk setup reports a too-small ptau by logging an error and returning -1.
  if (result === -1 || errors.length > 0 || !zkey.data) {
    throw new VerinferError("SETUP_REQUIRED", `${protocol} setup failed`, {
      details: errors.join("; ") || "no zkey was written (ptau too small?)",
    });
  }
  const vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: zkey.data });
  if (vkey.protocol !== protocol) {
    throw new VerinferError("INTERNAL", `${protocol} setup wrote a ${String(vkey.protocol)} zkey`);
  }
  params.onProgress?.({ stage: "setup", message: "setup done", done: true });
  return { zkey: zkey.data, vkey, gates };
}

/**
 * A universal (PLONK-family) setup of `system` from a given ptau, or from the cached dev ptau of the power the
 * circuit needs (`devCacheDir`): the setup itself takes nothing but the r1cs and the ptau.
 *
 * @throws VerinferError `INVALID_OPTIONS` unless exactly one of `ptauFile` and `devCacheDir` is given;
 *   `SETUP_REQUIRED` as the setup.
 */
export async function setupFromPtau(
  params: ProofSystemSetupParams,
  system: Pick<ProofSystemModule, "name" | "circuitSize" | "requiredPtauPower">,
  run: (params: SetupUniversalParams) => Promise<UniversalSetup>,
): Promise<ProofSystemSetup> {
  const { r1cs, ptauFile, devCacheDir, onProgress } = params;
  if ((ptauFile === undefined) === (devCacheDir === undefined)) {
    throw new VerinferError("INVALID_OPTIONS", `a ${system.name} setup takes exactly one of ptauFile and devCacheDir`);
  }
  let devPtau: PtauInfo | undefined;
  if (devCacheDir !== undefined) {
    const power = system.requiredPtauPower(system.circuitSize(r1cs));
    const dev = await ensureDevPtau({ power, cacheDir: devCacheDir, ...(onProgress ? { onProgress } : {}) });
    devPtau = await inspectPtau(dev.file);
  }
  const file = devPtau?.file ?? (ptauFile as string);
  const setup = await run({ r1cs, ptauFile: file, ...(onProgress ? { onProgress } : {}) });
  return {
    zkey: setup.zkey,
    vkey: setup.vkey,
    contributions: [],
    ...(setup.gates !== undefined ? { gates: setup.gates } : {}),
    ...(devPtau ? { devPtau } : {}),
  };
}
