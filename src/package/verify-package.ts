import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { modelCommitment, modelIdFromCommitment } from "../attest/model-commitment.js";
import { circuitSource } from "../circuits/circuit-source.js";
import { type CompiledCircuit, compileCircuit } from "../circuits/compile-circuit.js";
import { writeDirectCircuit } from "../circuits/direct/write-direct-circuit.js";
import { setupForSystem } from "../proof-systems/setup-for-system.js";
import { hasPhase2 } from "../proof-systems/systems.js";
import { ceremonyPtau } from "../setup/ceremony-ptau.js";
import { verifyZkey } from "../setup/verify-zkey.js";
import { canonicalJson } from "../storage/json-objects.js";
import { sha256Hex } from "../storage/sha256-hex.js";
import type { OnProgress } from "../util/progress.js";
import { withHeartbeat } from "../util/progress-heartbeat.js";
import { recordAudit } from "./audit-record.js";
import type { ModelPackage } from "./model-package.js";
import { packagePtau } from "./package-ptau.js";
import type { TrustCheck } from "./setup-trust-check.js";

/** The checks {@link verifyPackage} runs, by name, in order. */
export const PACKAGE_CHECKS = [
  "model commitment",
  "circuit source",
  "r1cs",
  "witness wasm",
  "verification key",
  "ptau",
  "setup kind",
  "zkey",
  "contributions",
] as const;

/** One of {@link PACKAGE_CHECKS}. */
export type PackageCheckName = (typeof PACKAGE_CHECKS)[number];

/** Options of {@link verifyPackage}. */
export interface VerifyPackageOptions {
  /**
   * The ptau file the package claims (its BLAKE2b-512 must be the manifest's). Default: the file of that hash
   * in the cache's `ptau/` folder (where the dev ptau lives).
   */
  ptau?: string;
  /** Write an audit record in the package's cache when every check passes (default true). */
  persist?: boolean;
  onProgress?: OnProgress;
}

/** Outcome of {@link verifyPackage}: `ok` when every check passed. */
export interface VerifyPackageResult {
  ok: boolean;
  checks: Array<TrustCheck & { name: PackageCheckName }>;
}

const sameList = (a: readonly { name: string; hash: string }[], b: readonly { name: string; hash: string }[]) =>
  a.length === b.length && a.every((c, i) => c.name === b[i]?.name && c.hash === b[i]?.hash);

/**
 * Audits a model package from its artifacts, trusting nothing its manifest says:
 * - `model commitment`: recomputed from the quantized network, equal to the manifest's commitment and id;
 * - `circuit source`: regenerated from the network, equal to the stored circuit;
 * - `r1cs`, `witness wasm`: rebuilt — written again by the direct backend (`circuit.backend: "direct"`), else
 *   recompiled with circom2 — and equal to the stored ones (sha256; for the direct backend the "wasm" is its witness
 *   program);
 * - `verification key`: equal to the one exported from the zkey;
 * - `ptau`: the ptau file is the one the manifest names (BLAKE2b-512, sha256, power);
 * - `setup kind`: `"ceremony"` exactly when that hash is a pinned ceremony file;
 * - `zkey`: Groth16 — the zkey follows from the r1cs and the ptau through a valid chain of phase-2 contributions;
 *   PLONK/FFLONK — the zkey is byte for byte the one the setup regenerates from the r1cs and the ptau;
 * - `contributions`: Groth16 — that chain (at least one) is the one the manifest lists; PLONK/FFLONK — none.
 *
 * When every check passes it records the audit for this exact manifest (in memory, and in the package's cache
 * unless `persist: false`), which is what `requireCeremony` looks for. A package that fails returns
 * `{ ok: false, checks }`; it never throws for one.
 *
 * @throws VerinferError `ARTIFACT_MISSING` (an artifact or the ptau file is missing), `ARTIFACT_CORRUPT` (an
 *   artifact does not match its hash).
 * @example
 * ```ts
 * const { ok, checks } = await verifyPackage(pkg, { ptau: "powersOfTau28_hez_final_12.ptau" });
 * for (const c of checks) console.log(c.ok ? "ok  " : "FAIL", c.name, c.detail ?? "");
 * ```
 */
export async function verifyPackage(
  pkg: ModelPackage,
  options: VerifyPackageOptions = {},
): Promise<VerifyPackageResult> {
  const { manifest } = pkg;
  const { onProgress } = options;
  const checks: VerifyPackageResult["checks"] = [];
  const check = (name: PackageCheckName, failure: string | undefined, detail?: string) => {
    checks.push(
      failure === undefined ? { name, ok: true, ...(detail ? { detail } : {}) } : { name, ok: false, detail: failure },
    );
  };
  const step = (message: string) => onProgress?.({ stage: "audit", message });

  const ptau = await packagePtau(pkg, options.ptau);
  // Read (and hash-check) every artifact first: a missing one is an error, not a failed check.
  const [circuitText, r1cs, , zkey] = await Promise.all([
    pkg.artifact("circuit").then((b) => b.toString("utf8")),
    pkg.artifact("r1cs"),
    pkg.artifact("wasm"),
    pkg.artifact("zkey"),
  ]);

  step("recomputing the model commitment from the network");
  const commitment = await modelCommitment(pkg.network);
  check(
    "model commitment",
    commitment.toString() !== manifest.commitments.model
      ? `the network commits to ${modelIdFromCommitment(commitment)}, not to the manifest's commitment`
      : modelIdFromCommitment(commitment) !== pkg.id
        ? "the manifest's id is not its commitment"
        : undefined,
    pkg.id,
  );

  step("regenerating the circuit");
  let source: string | undefined;
  let sourceError: string | undefined;
  try {
    source = circuitSource({
      network: pkg.network,
      modelCommitment: commitment,
      backend: manifest.circuit.backend === "direct" ? "direct" : "circom",
    });
  } catch (error) {
    sourceError = `no circuit can be generated from the network: ${error instanceof Error ? error.message : String(error)}`;
  }
  check(
    "circuit source",
    sourceError ??
      (source === circuitText ? undefined : "the stored circuit is not the one generated from the network"),
  );

  const direct = manifest.circuit.backend === "direct";
  step(direct ? "rewriting the R1CS and witness program directly" : "recompiling the circuit with circom2");
  const buildDir = path.join(pkg.trustDir, "build");
  await mkdir(buildDir, { recursive: true });
  const workDir = await mkdtemp(path.join(buildDir, "audit-"));
  let compiled: Pick<CompiledCircuit, "r1cs" | "wasm"> | undefined;
  let compileError: string | undefined = sourceError;
  try {
    if (direct) {
      compiled = writeDirectCircuit({ network: pkg.network, modelCommitment: commitment });
    } else if (source !== undefined) {
      compiled = await withHeartbeat(
        { onProgress, stage: "audit", message: "recompiling the circuit with circom2" },
        () => compileCircuit({ source, workDir }),
      );
    }
  } catch (error) {
    compileError = `the regenerated circuit does not compile: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  const r1csSha = compiled ? sha256Hex(compiled.r1cs) : undefined;
  check(
    "r1cs",
    compileError ?? (r1csSha === manifest.artifacts.r1cs.sha256 ? undefined : "the stored r1cs is not the rebuilt one"),
    `sha256 ${manifest.artifacts.r1cs.sha256}`,
  );
  check(
    "witness wasm",
    compileError ??
      (compiled && sha256Hex(compiled.wasm) === manifest.artifacts.wasm.sha256
        ? undefined
        : "the stored witness program is not the rebuilt one"),
  );

  step("exporting the verification key from the zkey");
  let exported: Record<string, unknown> | undefined;
  let exportError: string | undefined;
  try {
    exported = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: new Uint8Array(zkey) });
  } catch (error) {
    exportError = `the zkey is unreadable: ${error instanceof Error ? error.message : String(error)}`;
  }
  check(
    "verification key",
    exportError ??
      (canonicalJson(exported) === canonicalJson(pkg.vkey) ? undefined : "the vkey is not the one the zkey exports"),
  );

  const setup = manifest.setup;
  check(
    "ptau",
    ptau.blake2b !== setup.ptauBlake2b || ptau.sha256 !== setup.ptauSha256
      ? `${ptau.file} is not the ptau the manifest names`
      : ptau.power !== setup.ptauPower
        ? `the ptau has power ${ptau.power}, the manifest says ${setup.ptauPower}`
        : undefined,
    path.basename(ptau.file),
  );
  const pinned = ceremonyPtau(setup.ptauBlake2b);
  check(
    "setup kind",
    (setup.kind === "ceremony") === (pinned !== undefined)
      ? undefined
      : pinned
        ? `the ptau is the pinned ${pinned.file} but the manifest says "${setup.kind}"`
        : 'the manifest says "ceremony" but its ptau is not a pinned ceremony file',
    pinned ? `ceremony: ${pinned.file}` : setup.kind,
  );

  if (!hasPhase2(manifest.proofSystem)) {
    // A PLONK/FFLONK zkey is a function of the r1cs and the ptau: regenerate it and compare, byte for byte.
    step(`regenerating the ${manifest.proofSystem} zkey from the r1cs and the ptau`);
    let regenerated: string | undefined;
    let setupError: string | undefined;
    try {
      const setup = await setupForSystem({
        system: manifest.proofSystem,
        r1cs: new Uint8Array(r1cs),
        ptauFile: ptau.file,
        ...(onProgress ? { onProgress } : {}),
      });
      regenerated = sha256Hex(setup.zkey);
    } catch (error) {
      setupError = `no ${manifest.proofSystem} zkey follows from the r1cs and the ptau: ${error instanceof Error ? error.message : String(error)}`;
    }
    check(
      "zkey",
      setupError ??
        (regenerated === manifest.artifacts.zkey.sha256
          ? undefined
          : `the zkey is not the ${manifest.proofSystem} setup of the r1cs and the ptau`),
      `regenerated, sha256 ${manifest.artifacts.zkey.sha256}`,
    );
    check(
      "contributions",
      setup.contributions.length === 0 ? undefined : `a ${manifest.proofSystem} setup has no phase-2 contributions`,
      "none: universal setup, no circuit-specific secret",
    );
    return finish();
  }

  step("verifying the zkey against the r1cs and the ptau (snarkjs zkey verify)");
  const verified = await verifyZkey({
    r1cs: new Uint8Array(r1cs),
    ptauFile: ptau.file,
    zkey: new Uint8Array(zkey),
    ...(onProgress ? { onProgress } : {}),
  });
  check("zkey", verified.valid ? undefined : verified.reason);
  check(
    "contributions",
    !verified.valid
      ? "the zkey's contribution chain did not verify"
      : verified.contributions.length === 0
        ? "the zkey has no phase-2 contribution: its delta is public"
        : !sameList(verified.contributions, setup.contributions)
          ? "the manifest's contributions are not the zkey's"
          : undefined,
    verified.contributions.map((c) => `${JSON.stringify(c.name)} ${c.hash.slice(0, 16)}…`).join(", "),
  );

  return finish();

  async function finish(): Promise<VerifyPackageResult> {
    const ok = checks.every((c) => c.ok);
    if (ok) {
      const passed = checks.map((c) => ({
        name: c.name,
        ok: true as const,
        ...(c.detail ? { detail: c.detail } : {}),
      }));
      await recordAudit(
        pkg,
        { ptauBlake2b: ptau.blake2b, via: "audit", checks: passed },
        {
          persist: options.persist ?? true,
        },
      );
    }
    onProgress?.({ stage: "audit", message: ok ? "package verified" : "package FAILED its audit", done: true });
    return { ok, checks };
  }
}
