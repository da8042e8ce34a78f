import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { modelCommitmentOf, modelIdFromCommitment, modelIo, networkCommitment } from "../attest/model-commitment.js";
import { vkeyCid } from "../attest/vkey-cid.js";
import { WitnessGenerator } from "../circuits/prove-groth16.js";
import { isVerinferError, VerinferError } from "../errors.js";
import { type DenseNetwork, DenseNetworkSchema } from "../models/network.js";
import { type QuantizedNetwork, quantizedNetworkFromJson } from "../models/quantized-network.js";
import type { CircuitSize } from "../proof-systems/proof-system-module.js";
import { proofSystemModule } from "../proof-systems/systems.js";
import { ArtifactStore } from "../storage/artifact-store.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { canonicalJson } from "../storage/json-objects.js";
import { readUntrustedFile } from "../storage/read-untrusted-file.js";
import { sha256Hex } from "../storage/sha256-hex.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import { manifestArchitecture, manifestQuantization } from "./manifest-quantization.js";
import { type ArtifactName, MODEL_FORMAT, type ModelManifest, ModelManifestSchema } from "./model-manifest.js";

/** A package's proving artifacts, hash-checked, as {@link ModelPackage.provingArtifacts} keeps them. */
export interface ProvingArtifacts {
  wasm: Uint8Array;
  zkey: Uint8Array;
  /**
   * The circuit's r1cs where the proof system proves with it (Groth16 checks each witness against it before
   * proving); PLONK and FFLONK ignore it, so it is not read for them.
   */
  r1cs: Uint8Array | undefined;
  witness: WitnessGenerator;
}

/**
 * A compiled model: its manifest, quantized and float networks, verification key, and lazy, hash-checked
 * access to the proving artifacts in the artifact store.
 */
export class ModelPackage {
  readonly manifest: ModelManifest;
  readonly network: QuantizedNetwork;
  readonly floatNetwork: DenseNetwork;
  /** Verification key in snarkjs's JSON shape. */
  readonly vkey: Record<string, unknown>;
  readonly store: ArtifactStore;
  /**
   * The cache whose audit records vouch for this package: the loader's own cache, never a directory that came
   * with the package (an export could otherwise ship its own "audit").
   */
  readonly trustDir: string;
  private proving: Promise<ProvingArtifacts> | undefined;

  private constructor(
    manifest: ModelManifest,
    network: QuantizedNetwork,
    floatNetwork: DenseNetwork,
    vkey: Record<string, unknown>,
    store: ArtifactStore,
    trustDir: string,
  ) {
    this.manifest = manifest;
    this.network = network;
    this.floatNetwork = floatNetwork;
    this.vkey = vkey;
    this.store = store;
    this.trustDir = trustDir;
  }

  /** The model id (model commitment as hex). */
  get id(): string {
    return this.manifest.id;
  }

  /** CIDv1 of the verification key (checked against the key itself when the package was opened). */
  get vkeyCid(): string {
    return this.manifest.vkey;
  }

  /** Reads and hash-checks one artifact. */
  artifact(name: ArtifactName): Promise<Buffer> {
    return this.store.get(this.manifest.artifacts[name], name);
  }

  /**
   * Witness wasm (and its instantiated witness generator), zkey and — where the proof system proves with it — r1cs,
   * read and hash-checked once, then kept in memory for warm proving.
   */
  provingArtifacts(): Promise<ProvingArtifacts> {
    const withR1cs = proofSystemModule(this.manifest.proofSystem).provesWithR1cs;
    this.proving ??= Promise.all([
      this.artifact("wasm"),
      this.artifact("zkey"),
      withR1cs ? this.artifact("r1cs") : undefined,
    ]).then(async ([wasm, zkey, r1cs]) => ({
      wasm: ownBytes(wasm),
      zkey: ownBytes(zkey),
      r1cs: r1cs && ownBytes(r1cs),
      witness: await WitnessGenerator.create(ownBytes(wasm), { modelId: this.id }),
    }));
    this.proving.catch(() => {
      this.proving = undefined;
    });
    return this.proving;
  }

  /**
   * Opens a package from its manifest bytes, checking every small artifact's hash now and the large ones
   * (wasm, zkey) on first use. What the manifest states about identity is recomputed, never trusted: the
   * network commitment and the model commitment (hence the id) from the quantized network, and the vkey's CID
   * from the key. Setup trust is not established here (see `verifyPackage`).
   *
   * @throws VerinferError `ARTIFACT_CORRUPT` / `ARTIFACT_MISSING`.
   */
  static async fromManifest(
    manifestJson: unknown,
    store: ArtifactStore,
    options: { trustDir?: string } = {},
  ): Promise<ModelPackage> {
    const manifest = parseManifest(manifestJson);
    return ModelPackage.open(manifest, store, options.trustDir ?? store.cacheDir, {
      json: async (name) => (await store.get(manifest.artifacts[name], name)).toString("utf8"),
      networkCommitment: (network) => networkCommitment(network),
      circuitSize: async () =>
        proofSystemModule(manifest.proofSystem).circuitSize(
          new Uint8Array(await store.get(manifest.artifacts.r1cs, "r1cs")),
        ),
    });
  }

  /**
   * The package a compile has just stored, from what it stored and derived in this process: no artifact is read back
   * or hashed again (for 1,001,363 constraints, `npm run bench:big-cnn -- --open`: ~10 CPU-s to read back and check,
   * ~0.5 CPU-s this way). The small artifacts are parsed from the very text that was stored, and the manifest's claims are
   * checked as {@link ModelPackage.fromManifest} checks them, except that the network commitment and the circuit
   * size are the compiler's word — hence only `compileModel` calls this. A package opened later from bytes
   * (`loadModelPackage`, `getModelPackage`, `fromManifest`) is read and checked in full again.
   *
   * Not part of the public API: the network commitment and circuit size are taken on trust.
   *
   * @internal
   * @throws VerinferError `ARTIFACT_CORRUPT` when the manifest does not state what the values are (a compiler bug).
   */
  static fromCompile(compiled: CompiledPackage): Promise<ModelPackage> {
    const { store } = compiled;
    return ModelPackage.open(parseManifest(compiled.manifest), store, store.cacheDir, {
      json: (name) => compiled.json[name],
      networkCommitment: () => compiled.networkCommitment,
      circuitSize: () => compiled.circuitSize,
    });
  }

  /** Parses the small artifacts and checks the manifest's identity and size claims against them. */
  private static async open(
    manifest: ModelManifest,
    store: ArtifactStore,
    trustDir: string,
    parts: {
      json: (name: "network" | "floatNetwork" | "vkey") => string | Promise<string>;
      networkCommitment: (network: QuantizedNetwork) => bigint | Promise<bigint>;
      circuitSize: () => CircuitSize | Promise<CircuitSize>;
    },
  ): Promise<ModelPackage> {
    try {
      const network = quantizedNetworkFromJson(parseStrictJson(await parts.json("network")));
      const floatNetwork = DenseNetworkSchema.parse(parseStrictJson(await parts.json("floatNetwork")));
      const vkey = parseStrictJson(await parts.json("vkey")) as Record<string, unknown>;
      await checkIdentity(manifest, network, vkey, await parts.networkCommitment(network));
      checkCircuitSizes(manifest, await parts.circuitSize());
      return new ModelPackage(manifest, network, floatNetwork, vkey, store, trustDir);
    } catch (cause) {
      if (cause instanceof VerinferError) throw cause;
      throw new VerinferError("ARTIFACT_CORRUPT", `model package ${manifest.id} has an unreadable artifact`, { cause });
    }
  }
}

/**
 * What a compile hands to {@link ModelPackage.fromCompile}: the manifest it stored, the text of the small artifacts
 * it stored under the manifest's refs, and what it computed from them.
 */
export interface CompiledPackage {
  manifest: ModelManifest;
  store: ArtifactStore;
  /** The text stored as each small artifact. */
  json: Record<"network" | "floatNetwork" | "vkey", string>;
  /** The network's commitment, as the compile computed it. */
  networkCommitment: bigint;
  /** The r1cs's size in the manifest's proof system, as the compile counted it. */
  circuitSize: CircuitSize;
}

function parseManifest(manifestJson: unknown): ModelManifest {
  const parsed = ModelManifestSchema.safeParse(manifestJson);
  if (!parsed.success) {
    throw new VerinferError("ARTIFACT_CORRUPT", `model manifest does not match ${MODEL_FORMAT}`, {
      details: parsed.error.message,
    });
  }
  return parsed.data;
}

/**
 * A plain Uint8Array of a read artifact: a view when the Buffer spans its own memory (a file read is), a copy only
 * when it shares a pooled one. A PLONK zkey of a 2^18 domain is ~0.9 GB: copying it doubled the prover's peak.
 */
function ownBytes(b: Buffer): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? new Uint8Array(b.buffer) : new Uint8Array(b);
}

/** The manifest's identity claims against the artifacts they name. */
async function checkIdentity(
  manifest: ModelManifest,
  network: QuantizedNetwork,
  vkey: Record<string, unknown>,
  netCommitment: bigint,
): Promise<void> {
  const corrupt = (what: string) =>
    new VerinferError("ARTIFACT_CORRUPT", `model package ${manifest.id}: ${what}`, {
      details: "the manifest states an identity its artifacts do not have",
    });
  if (netCommitment.toString() !== manifest.commitments.network) throw corrupt("network commitment differs");
  const commitment = await modelCommitmentOf({ io: modelIo(network), network: netCommitment });
  if (commitment.toString() !== manifest.commitments.model || modelIdFromCommitment(commitment) !== manifest.id) {
    throw corrupt("model commitment differs from the network's");
  }
  if (vkeyCid(vkey) !== manifest.vkey) throw corrupt("verification key differs from the manifest's vkey CID");
  if (vkey.nPublic !== manifest.circuit.publicSignals) throw corrupt("public-signal count differs from the key's");
  // The proof system decides which prover and verifier run: it is the key's, never only the manifest's word.
  if (vkey.protocol !== manifest.proofSystem)
    throw corrupt(`the key is ${String(vkey.protocol)}, not ${manifest.proofSystem}`);
  // What the manifest restates about the network (for people and tools that read it) must be the network's.
  const stated = { architecture: manifest.architecture, quantization: manifest.quantization };
  const derived = { architecture: manifestArchitecture(network), quantization: manifestQuantization(network) };
  if (canonicalJson(stated) !== canonicalJson(derived)) {
    throw corrupt("architecture or quantization differs from the network's");
  }
}

/**
 * What the manifest states about the circuit's size (constraints, public signals, PLONK gates, the ptau power its
 * setup needs) against the r1cs it names (`count`: the proof system's `circuitSize` of it): people and tools read these numbers (and size a ptau by them), so they
 * are recomputed, never taken on the manifest's word. PLONK/FFLONK manifests must state their gates; Groth16 ones
 * must not (Groth16 pays for constraints).
 */
function checkCircuitSizes(manifest: ModelManifest, count: CircuitSize): void {
  const corrupt = (what: string) =>
    new VerinferError("ARTIFACT_CORRUPT", `model package ${manifest.id}: ${what}`, {
      details: "the manifest states circuit sizes its r1cs does not have",
    });
  const system = manifest.proofSystem;
  const stated = manifest.circuit;
  const sizing = proofSystemModule(system);
  if (stated.constraints !== count.constraints)
    throw corrupt(`${stated.constraints} constraints stated, r1cs has ${count.constraints}`);
  if (stated.publicSignals !== count.nPublic) throw corrupt("public-signal count differs from the r1cs's");
  if (stated.gates !== count.gates) {
    throw corrupt(
      count.gates === undefined
        ? `a ${system} manifest states PLONK gates`
        : `${String(stated.gates)} ${system} gates stated, the r1cs makes ${count.gates}`,
    );
  }
  const power = sizing.requiredPtauPower(count);
  if (stated.power !== power) throw corrupt(`ptau power 2^${stated.power} stated, the circuit needs 2^${power}`);
}

/** Options of {@link loadModelPackage}. */
export interface LoadModelPackageOptions {
  cacheDir?: string;
}

type IndexKind = "key" | "id" | "vkey";

/** A verification-key CID (CIDv1, base32 lower case, as `vkeyCid` writes it): also safe as a file name. */
const VKEY_CID = /^b[a-z2-7]{20,120}$/;

function indexPath(cacheDir: string, kind: IndexKind, name: string): string {
  return path.join(cacheDir, "models", { key: "by-key", id: "by-id", vkey: "by-vkey" }[kind], `${name}.json`);
}

/**
 * Records a package's manifest under a cache key, under its model id (the latest package of the model) and under its
 * vkey CID — the key a receipt names, so a receipt proven before a later setup (`verinfer setup contribute`) still
 * finds the package it was proven with.
 */
export async function indexModelPackage(
  cacheDir: string,
  key: string,
  manifestRef: { sha256: string; size: number },
  id: string,
): Promise<void> {
  const body = JSON.stringify({ manifest: manifestRef });
  await atomicWrite(indexPath(cacheDir, "key", key), body);
  await atomicWrite(indexPath(cacheDir, "id", id), body);
  const manifest = JSON.parse((await new ArtifactStore(cacheDir).get(manifestRef, "manifest")).toString("utf8"));
  const vkey = (manifest as { vkey?: unknown } | null)?.vkey;
  if (typeof vkey === "string" && VKEY_CID.test(vkey)) await atomicWrite(indexPath(cacheDir, "vkey", vkey), body);
}

/** Looks a package up by cache key, model id or vkey CID; `undefined` when absent (a corrupt one is an error). */
export async function findModelPackage(
  cacheDir: string,
  kind: IndexKind,
  name: string,
): Promise<ModelPackage | undefined> {
  let index: { manifest: { sha256: string; size: number } };
  try {
    index = parseStrictJson(await readFile(indexPath(cacheDir, kind, name), "utf8")) as typeof index;
  } catch {
    return undefined;
  }
  const store = new ArtifactStore(cacheDir);
  const bytes = await store.get(index.manifest, "manifest");
  return ModelPackage.fromManifest(parseStrictJson(bytes.toString("utf8")), store);
}

/** Largest `manifest.json` a package is loaded from (a manifest is a few KiB). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/**
 * Loads a model package: by model id from the cache (the model's latest package), by verification-key CID from the
 * cache (the package of exactly that key: what a receipt's `model.vkey` names), or from a `manifest.json` path (or a
 * directory holding one) — an export (`exportModelPackage`, `verinfer export`) when an `objects/` directory sits beside it,
 * else with its artifacts in the cache's store. Either way the package's identity is recomputed on load.
 *
 * @throws VerinferError `ARTIFACT_MISSING` when nothing is found, `ARTIFACT_CORRUPT` on a hash mismatch.
 * @example
 * ```ts
 * const pkg = await loadModelPackage("0x1234…");
 * const proving = await loadModelPackage(receipt.model.vkey); // the package a receipt was proven with
 * ```
 */
export async function loadModelPackage(ref: string, options: LoadModelPackageOptions = {}): Promise<ModelPackage> {
  const cacheDir = resolveCacheDir(options.cacheDir);
  if (/^0x[0-9a-f]{64}$/.test(ref)) {
    const pkg = await findModelPackage(cacheDir, "id", ref);
    if (!pkg) {
      throw new VerinferError("ARTIFACT_MISSING", `model ${ref} is not in the cache`, {
        details: `cache: ${cacheDir}; a package exported with \`verinfer export\` loads from its manifest.json`,
      });
    }
    return pkg;
  }
  if (VKEY_CID.test(ref)) {
    const pkg = await findModelPackage(cacheDir, "vkey", ref);
    if (!pkg) {
      throw new VerinferError("ARTIFACT_MISSING", `no package with verification key ${ref} is in the cache`, {
        details: `cache: ${cacheDir}; packages are indexed by key when compiled, contributed to or fetched`,
      });
    }
    return pkg;
  }
  const inDir = (await stat(ref).catch(() => undefined))?.isDirectory() === true;
  const file = inDir ? path.join(ref, "manifest.json") : ref;
  let text: string;
  try {
    // A regular file of bounded size: a FIFO there would block forever. Inside a directory (an export someone
    // sent) no link is followed either; a path the user names may be a link they made.
    const bytes = await readUntrustedFile(file, path.basename(file), {
      maxBytes: MAX_MANIFEST_BYTES,
      ...(inDir ? { root: ref } : { followSymlink: true }),
    });
    text = bytes.toString("utf8");
  } catch (cause) {
    if (isVerinferError(cause, "ARTIFACT_CORRUPT")) throw cause;
    throw new VerinferError("ARTIFACT_MISSING", `cannot read model manifest ${path.basename(file)}`, {
      cause,
      details: "pass a model id in the cache, a manifest.json, or the directory `verinfer export` wrote",
    });
  }
  // An export keeps its objects beside its manifest: `objects/` (the store's layout), `artifacts/` before it.
  const isDir = async (name: string) =>
    (await stat(path.join(path.dirname(file), name)).catch(() => undefined))?.isDirectory() === true;
  const exported = (await isDir("objects")) || (await isDir("artifacts"));
  let json: unknown;
  try {
    json = parseStrictJson(text);
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", `${path.basename(file)} is not JSON (sha256 ${sha256Hex(text)})`, {
      cause,
    });
  }
  // An export's artifacts are read (and hash-checked) from its directory; trust comes from the loader's cache.
  return ModelPackage.fromManifest(json, new ArtifactStore(exported ? path.dirname(file) : cacheDir), {
    trustDir: cacheDir,
  });
}
