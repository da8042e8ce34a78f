import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { modelCommitmentOf, modelIdFromCommitment, modelIo, networkCommitment } from "../attest/model-commitment.js";
import { vkeyCid } from "../attest/vkey-cid.js";
import { circuitSource } from "../circuits/circuit-source.js";
import { compileCircuit } from "../circuits/compile-circuit.js";
import { writeDirectCircuit } from "../circuits/direct/write-direct-circuit.js";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import { fidelityWarnings, measureFidelity } from "../models/measure-fidelity.js";
import type { QuantizeOptions } from "../models/quantize.js";
import { quantizedNetworkToJson } from "../models/quantized-network.js";
import { recordAudit } from "../package/audit-record.js";
import { manifestArchitecture, manifestQuantization } from "../package/manifest-quantization.js";
import { MODEL_FORMAT, type ModelManifest, type SetupKind } from "../package/model-manifest.js";
import { findModelPackage, indexModelPackage, ModelPackage } from "../package/model-package.js";
import { readR1csHeader } from "../proof-systems/plonk-gates.js";
import { type ProofSystem, parseProofSystem } from "../proof-systems/proof-system.js";
import { proofSystemModule } from "../proof-systems/systems.js";
import { inspectPtau } from "../setup/inspect-ptau.js";
import { ArtifactStore } from "../storage/artifact-store.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { sha256Hex } from "../storage/sha256-hex.js";
import type { OnProgress } from "../util/progress.js";
import { withHeartbeat } from "../util/progress-heartbeat.js";
import { toolchainVersions } from "../util/toolchain.js";
import { type ModelSource, quantizeModel } from "./quantize-model.js";

export type { ModelSource };

/** Options of {@link compileModel}. */
export interface CompileModelOptions extends Partial<QuantizeOptions> {
  /**
   * A prepared powers-of-tau file. Without it a cached dev ptau is used (`setup: "dev"`). The setup is
   * `"ceremony"` only when the file's BLAKE2b-512 is a pinned public ceremony file (`CEREMONY_PTAUS`), else
   * `"unrecognized"`.
   */
  ptau?: string;
  /** Artifact cache; default `VERINFER_CACHE` or `~/.cache/verinfer`. */
  cacheDir?: string;
  /**
   * `"groth16"` (default): smallest proofs, circuit-specific phase-2 setup. `"plonk"` / `"fflonk"`: universal
   * setup from the ptau alone (no per-circuit trusted party), larger circuits (every linear combination becomes
   * gates) and a larger ptau. See `PROOF_SYSTEMS`.
   */
  proofSystem?: ProofSystem;
  /**
   * How the R1CS and the witness program are made: `"direct"` (default) writes them from the layer modules in
   * TypeScript (src/circuits/direct); `"circom"` compiles the generated circom source with circom2 (slow: ~1.1–1.7 ms
   * of CPU per constraint), kept as the test oracle. Both give the same public signals on the same inputs.
   */
  circuitBackend?: CircuitBackend;
  /** Human-readable name stored in the manifest. */
  name?: string;
  /** Recompile even when the cache holds this model. */
  force?: boolean;
  /** Silences the dev-setup warning on stderr. */
  quiet?: boolean;
  onProgress?: OnProgress;
}

/** Bump when what a compile writes into a package changes, so cached packages of older compilers are not reused. */
const COMPILER_REVISION = 9;

/** The circuit backends of {@link compileModel}. */
export type CircuitBackend = "direct" | "circom";

/**
 * The key {@link compileModel} caches a package under: the manifest format and compiler revision, the quantized
 * network, the ptau (`undefined` for the dev ptau) and the toolchain.
 */
export function compileCacheKey(params: {
  networkJson: string;
  ptauSha256: string | undefined;
  toolchain: Record<string, string>;
  /** Absent for groth16, so that Groth16 packages keep their keys. */
  proofSystem?: ProofSystem;
  /** Absent for the default (direct) backend. */
  backend?: CircuitBackend;
}): string {
  const { networkJson, ptauSha256, toolchain, proofSystem, backend } = params;
  return sha256Hex(
    JSON.stringify({
      format: MODEL_FORMAT,
      revision: COMPILER_REVISION,
      networkJson,
      ptau: ptauSha256 ?? "dev",
      toolchain,
      ...(proofSystem && proofSystem !== "groth16" ? { proofSystem } : {}),
      ...(backend && backend !== "direct" ? { backend } : {}),
    }),
  );
}

const SETUP_RECORD_DETAIL =
  "compileModel generated the circuit from the network, compiled it and derived the zkey from that r1cs and the ptau";

/** The smallest ptau power snarkjs accepts for a circuit (its `cirPower`). */
export function requiredPtauPower(nConstraints: number, nPublic: number): number {
  return (nConstraints + nPublic).toString(2).length;
}

/**
 * Quantizes, writes the circuit (R1CS and witness program, directly from the layer modules by default; with circom2
 * on request), and runs the setup, storing every
 * artifact content-addressed in the cache. Compiling the same model with the same options again returns the
 * cached package without recompiling.
 *
 * @param model - model directory (`model.json` + shards), in-memory tfjs LayersModel, or a float {@link Network}.
 * @param options - calibration samples (or `inputRange`), bit widths, ptau, cache directory, progress.
 * @throws VerinferError `UNSUPPORTED_LAYER`, `INVALID_OPTIONS`, `QUANTIZATION_OVERFLOW`, `COMPILE_FAILED`,
 *   `SETUP_REQUIRED`.
 * @example
 * ```ts
 * const pkg = await compileModel("examples/models/demo-glyphs", { calibration: samples });
 * console.log(pkg.id, pkg.manifest.circuit.constraints);
 * ```
 */
export async function compileModel(model: ModelSource, options: CompileModelOptions = {}): Promise<ModelPackage> {
  const { onProgress } = options;
  const proofSystem = parseProofSystem(options.proofSystem ?? "groth16");
  const cacheDir = resolveCacheDir(options.cacheDir);
  const { float, network } = await quantizeModel(model, options);
  const netCommitment = await networkCommitment(network);
  const commitment = await modelCommitmentOf({ io: modelIo(network), network: netCommitment });
  const id = modelIdFromCommitment(commitment);

  // A given ptau is named by its hash: "ceremony" only when the hash is pinned, never because it was passed.
  let ptau = options.ptau ? await inspectPtau(options.ptau) : undefined;
  const networkJson = JSON.stringify(quantizedNetworkToJson(network));
  const toolchain = toolchainVersions();
  const backend: CircuitBackend = options.circuitBackend ?? "direct";
  if (backend !== "direct" && backend !== "circom") {
    throw new VerinferError("INVALID_OPTIONS", `unknown circuit backend ${JSON.stringify(backend)}`);
  }
  const cacheKey = compileCacheKey({ networkJson, ptauSha256: ptau?.sha256, toolchain, proofSystem, backend });
  if (!options.force) {
    const cached = await findModelPackage(cacheDir, "key", cacheKey).catch(() => undefined);
    if (cached) {
      onProgress?.({ stage: "setup", message: `using cached package ${id}`, done: true });
      return cached;
    }
  }

  onProgress?.({ stage: "quantize", message: "measuring float vs integer outputs on the calibration samples" });
  const fidelity = await measureFidelity({ float, network, samples: options.calibration ?? [] });
  for (const warning of fidelityWarnings(network, fidelity)) {
    onProgress?.({ stage: "quantize", message: `warning: ${warning}` });
    if (!options.quiet) process.stderr.write(`verinfer: WARNING ${warning}\n`);
  }

  onProgress?.({ stage: "codegen", message: "generating circuit" });
  const source = circuitSource({ network, modelCommitment: commitment, backend });
  await mkdir(path.join(cacheDir, "build"), { recursive: true });
  const workDir = await mkdtemp(path.join(cacheDir, "build", "compile-"));
  try {
    if (backend === "direct") onProgress?.({ stage: "compile", message: "writing the R1CS directly" });
    const compiled =
      backend === "direct"
        ? writeDirectCircuit({ network, modelCommitment: commitment })
        : await withHeartbeat(
            { onProgress, stage: "compile", message: "compiling with circom2 (--O2 --inspect)" },
            () => compileCircuit({ source, workDir }),
          );
    unrefIdleCurveWorkers();
    // The header's counts (what `snarkjs r1cs info` prints) without parsing every constraint: snarkjs's full read
    // of a 680k-constraint r1cs cost 49 CPU-s and 3.3 GB of memory, more than writing it.
    const info = readR1csHeader(compiled.r1cs);
    const nPublic = info.nPublic;
    const system = proofSystemModule(proofSystem);
    const size = system.circuitSize(compiled.r1cs);
    onProgress?.({
      stage: "compile",
      message: `${info.constraints} constraints${size.gates !== undefined ? `, ${size.gates} ${proofSystem} gates` : ""}`,
      done: true,
    });
    const power = system.requiredPtauPower(size);

    const kind: SetupKind = ptau ? (ptau.ceremony ? "ceremony" : "unrecognized") : "dev";
    if (kind === "unrecognized" && !options.quiet) {
      process.stderr.write(
        `verinfer: WARNING ${options.ptau} is not a pinned ceremony ptau (blake2b ${ptau?.blake2b.slice(0, 16)}…); ` +
          'the setup is marked "unrecognized".\n',
      );
    }
    if (!ptau) {
      if (!options.quiet) {
        process.stderr.write(
          `verinfer: WARNING model ${id.slice(0, 10)}… uses a development setup (single local contribution); ` +
            "pass a ceremony ptau for production.\n",
        );
      }
    }
    if (ptau && ptau.power < power) {
      throw new VerinferError(
        "SETUP_REQUIRED",
        `a ${proofSystem} setup of this circuit needs a ptau of power ${power}`,
        {
          details: `${options.ptau ?? ptau.file} has power ${ptau.power}`,
        },
      );
    }
    // Without a ptau, the system's dev setup: Groth16 writes its own dev ptau (same secrets as the zkey, so `zkey
    // verify` holds) into the cache; PLONK and FFLONK set up from the cached dev ptau of the power they need.
    const setup = await system.setup({
      r1cs: compiled.r1cs,
      ...(ptau ? { ptauFile: ptau.file } : { devCacheDir: cacheDir }),
      ...(onProgress ? { onProgress } : {}),
    });
    // The count the manifest states (and loading recomputes) must be the one snarkjs's setup made.
    if (size.gates !== undefined && setup.gates !== undefined && setup.gates !== size.gates) {
      throw new VerinferError("INTERNAL", `snarkjs made ${setup.gates} gates, ${size.gates} were counted`);
    }
    ptau ??= setup.devPtau;
    if (!ptau) throw new VerinferError("INTERNAL", "the dev setup returned no ptau");

    const store = new ArtifactStore(cacheDir);
    const vkeyJson = JSON.stringify(setup.vkey, null, 1);
    const floatJson = JSON.stringify(float);
    const artifacts = {
      network: await store.put(networkJson),
      floatNetwork: await store.put(floatJson),
      circuit: await store.put(source),
      r1cs: await store.put(compiled.r1cs),
      wasm: await store.put(compiled.wasm),
      zkey: await store.put(setup.zkey),
      vkey: await store.put(vkeyJson),
    };
    const manifest: ModelManifest = {
      format: MODEL_FORMAT,
      id,
      name: options.name ?? (typeof model === "string" ? path.basename(path.resolve(model)) : "model"),
      createdAt: new Date().toISOString(),
      architecture: manifestArchitecture(network),
      quantization: manifestQuantization(network),
      ...(fidelity ? { fidelity } : {}),
      visibility: "constant",
      commitments: { model: commitment.toString(), network: netCommitment.toString() },
      vkey: vkeyCid(setup.vkey),
      circuit: {
        constraints: info.constraints,
        publicSignals: nPublic,
        power,
        ...(size.gates !== undefined ? { gates: size.gates } : {}),
        inspectWarnings: compiled.warnings,
        ...(backend === "direct" ? { backend } : {}),
      },
      proofSystem,
      setup: {
        kind,
        ptauSha256: ptau.sha256,
        ptauBlake2b: ptau.blake2b,
        ptauPower: ptau.power,
        contributions: setup.contributions,
      },
      artifacts,
      toolchain,
    };
    const manifestRef = await store.put(JSON.stringify(manifest, null, 1));
    await indexModelPackage(cacheDir, cacheKey, manifestRef, id);
    const pkg = await ModelPackage.fromCompile({
      manifest,
      store,
      json: { network: networkJson, floatNetwork: floatJson, vkey: vkeyJson },
      networkCommitment: netCommitment,
      circuitSize: size,
    });
    // This process derived the zkey from the r1cs it compiled and this ptau: the audit's zkey check holds by
    // construction, for this exact manifest, in this cache.
    await recordAudit(
      pkg,
      { ptauBlake2b: ptau.blake2b, via: "setup", checks: [{ name: "setup", ok: true, detail: SETUP_RECORD_DETAIL }] },
      { persist: true },
    );
    return pkg;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
