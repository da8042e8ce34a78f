import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { modelCommitmentOf, modelIdFromCommitment, modelIo, networkCommitment } from "./attest/model-commitment.js";
import { vkeyCid } from "./attest/vkey-cid.js";
import { generateCircuit } from "./circuits/codegen.js";
import { compileCircuit } from "./circuits/compile-circuit.js";
import { ensureDevPtau } from "./circuits/dev-ptau.js";
import { inspectPtau } from "./circuits/inspect-ptau.js";
import { setupGroth16 } from "./circuits/setup-groth16.js";
import { unrefIdleCurveWorkers } from "./circuits/unref-idle-curve-workers.js";
import { fidelityWarnings, measureFidelity } from "./models/measure-fidelity.js";
import type { QuantizeOptions } from "./models/quantize.js";
import { quantizedNetworkToJson } from "./models/quantized-network.js";
import type { OnProgress } from "./progress.js";
import { type ModelSource, quantizeModel } from "./quantize-model.js";
import { ArtifactStore } from "./storage/artifact-store.js";
import { recordAudit } from "./storage/audit-record.js";
import { resolveCacheDir } from "./storage/cache-dir.js";
import { manifestQuantization } from "./storage/manifest-quantization.js";
import { MODEL_FORMAT, type ModelManifest, type SetupKind } from "./storage/model-manifest.js";
import { findModelPackage, indexModelPackage, ModelPackage } from "./storage/model-package.js";
import { sha256Hex } from "./storage/sha256-hex.js";
import { toolchainVersions } from "./toolchain.js";

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
  /** Human-readable name stored in the manifest. */
  name?: string;
  /** Recompile even when the cache holds this model. */
  force?: boolean;
  /** Silences the dev-setup warning on stderr. */
  quiet?: boolean;
  onProgress?: OnProgress;
}

/** Bump when what a compile writes into a package changes, so cached packages of older compilers are not reused. */
const COMPILER_REVISION = 3;

/**
 * The key {@link compileModel} caches a package under: the manifest format and compiler revision, the quantized
 * network, the ptau (`undefined` for the dev ptau) and the toolchain.
 */
export function compileCacheKey(params: {
  networkJson: string;
  ptauSha256: string | undefined;
  toolchain: Record<string, string>;
}): string {
  const { networkJson, ptauSha256, toolchain } = params;
  return sha256Hex(
    JSON.stringify({
      format: MODEL_FORMAT,
      revision: COMPILER_REVISION,
      networkJson,
      ptau: ptauSha256 ?? "dev",
      toolchain,
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
 * Quantizes, generates the circuit, compiles it with circom2, and runs the Groth16 setup, storing every
 * artifact content-addressed in the cache. Compiling the same model with the same options again returns the
 * cached package without recompiling.
 *
 * @param model - model directory (`model.json` + shards), in-memory tfjs LayersModel, or {@link DenseNetwork}.
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
  const cacheDir = resolveCacheDir(options.cacheDir);
  const { float, network } = await quantizeModel(model, options);
  const netCommitment = await networkCommitment(network);
  const commitment = await modelCommitmentOf({ io: modelIo(network), network: netCommitment });
  const id = modelIdFromCommitment(commitment);

  // A given ptau is named by its hash: "ceremony" only when the hash is pinned, never because it was passed.
  let ptau = options.ptau ? await inspectPtau(options.ptau) : undefined;
  const networkJson = JSON.stringify(quantizedNetworkToJson(network));
  const toolchain = toolchainVersions();
  const cacheKey = compileCacheKey({ networkJson, ptauSha256: ptau?.sha256, toolchain });
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
  const source = generateCircuit({ network, modelCommitment: commitment });
  await mkdir(path.join(cacheDir, "build"), { recursive: true });
  const workDir = await mkdtemp(path.join(cacheDir, "build", "compile-"));
  try {
    onProgress?.({ stage: "compile", message: "compiling with circom2 (--O2 --inspect)" });
    const compiled = await compileCircuit({ source, workDir });
    unrefIdleCurveWorkers();
    const info = await snarkjs.r1cs.info({ type: "mem", data: compiled.r1cs });
    const nPublic = info.nOutputs + info.nPubInputs;
    onProgress?.({ stage: "compile", message: `${info.nConstraints} constraints`, done: true });
    const power = requiredPtauPower(info.nConstraints, nPublic);

    const kind: SetupKind = ptau ? (ptau.ceremony ? "ceremony" : "unrecognized") : "dev";
    if (kind === "unrecognized" && !options.quiet) {
      process.stderr.write(
        `verinfer: WARNING ${options.ptau} is not a pinned ceremony ptau (blake2b ${ptau?.blake2b.slice(0, 16)}…); ` +
          'the setup is marked "unrecognized".\n',
      );
    }
    if (!ptau) {
      const dev = await ensureDevPtau({ power, cacheDir, ...(onProgress ? { onProgress } : {}) });
      ptau = await inspectPtau(dev.file);
      if (!options.quiet) {
        process.stderr.write(
          `verinfer: WARNING model ${id.slice(0, 10)}… uses a development setup (single local contribution); ` +
            "pass a ceremony ptau for production.\n",
        );
      }
    }
    const setup = await setupGroth16({
      r1cs: compiled.r1cs,
      ptauFile: ptau.file,
      ...(onProgress ? { onProgress } : {}),
    });

    const store = new ArtifactStore(cacheDir);
    const vkeyJson = JSON.stringify(setup.vkey, null, 1);
    const artifacts = {
      network: await store.put(networkJson),
      floatNetwork: await store.put(JSON.stringify(float)),
      circuit: await store.put(source),
      r1cs: await store.put(compiled.r1cs),
      wasm: await store.put(compiled.wasm),
      zkey: await store.put(setup.zkey),
      vkey: await store.put(vkeyJson),
    };
    const last = network.layers[network.layers.length - 1] as (typeof network.layers)[number];
    const manifest: ModelManifest = {
      format: MODEL_FORMAT,
      id,
      name: options.name ?? (typeof model === "string" ? path.basename(path.resolve(model)) : "model"),
      createdAt: new Date().toISOString(),
      architecture: {
        inputShape: float.inputShape,
        inputSize: float.inputSize,
        outputShape: [last.nOut],
        layers: float.layers.map((l) => ({ name: l.name, units: l.units, activation: l.activation })),
      },
      quantization: manifestQuantization(network),
      ...(fidelity ? { fidelity } : {}),
      visibility: "constant",
      commitments: { model: commitment.toString(), network: netCommitment.toString() },
      vkey: vkeyCid(setup.vkey),
      circuit: {
        constraints: info.nConstraints,
        publicSignals: nPublic,
        power,
        inspectWarnings: compiled.warnings,
      },
      proofSystem: "groth16",
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
    const pkg = await ModelPackage.fromManifest(manifest, store);
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
