#!/usr/bin/env node
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { ReceiptAttestation } from "../attest/receipt.js";
import { isVerinferError, VerinferError } from "../errors.js";
import { locateModel } from "../models/locate-model.js";
import type { ModelInput } from "../models/quantize-input.js";
import { exportModelPackage } from "../package/export-model-package.js";
import { loadModelPackage, type ModelPackage } from "../package/model-package.js";
import { putModelPackage } from "../package/put-model-package.js";
import { type CompileModelOptions, compileModel } from "../pipeline/compile-model.js";
import { type InferMode, type VerifiableInferOptions, verifiableInfer } from "../pipeline/verifiable-infer.js";
import { PROOF_SYSTEMS, type ProofSystem } from "../proof-systems/proof-system.js";
import { type VerifyReceiptOptions, type VerifyResult, verifyReceipt } from "../receipts/verify-receipt.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { resolveCacheDir } from "../storage/cache-dir.js";
import { FsStorage } from "../storage/fs-storage.js";
import { createHeliaStorage } from "../storage/helia-storage.js";
import { isDecimalString } from "../util/field.js";
import { packageRoot } from "../util/package-root.js";
import type { ProgressStage } from "../util/progress.js";
import { toolchainVersions } from "../util/toolchain.js";
import { attestDataCommand, reexecuteCommand, resumeProofsCommand } from "./attest-commands.js";
import { registerChainCommands } from "./chain-commands.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { readCalibration, readJsonFile } from "./io.js";
import { KEY_ENV, loadSigner } from "./keys.js";
import { createProgress } from "./progress-bar.js";
import { registerProverCommand } from "./prover-command.js";
import { auditCommand, contributeCommand } from "./setup-commands.js";
import { findCompiledSource, recordCompiledSource } from "./source-cache.js";

/** The bundled demo model (trained by examples/train-demo-model.ts). */
export const DEMO_MODEL_DIR = path.join(packageRoot(), "examples", "models", "demo-glyphs");

const COMPILE_STAGES: ProgressStage[] = ["load", "quantize", "codegen", "compile", "ptau", "setup"];
const ALL_STAGES: ProgressStage[] = [...COMPILE_STAGES, "infer", "prove", "verify"];

interface CompileFlags {
  ptau?: string;
  calibration?: string;
  inputRange?: [number, number];
  inputBits?: number;
  weightBits?: number;
  activationBits?: number;
  inputScales?: "auto" | "shared" | "perFeature";
  cacheDir?: string;
  proofSystem?: ProofSystem;
}

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError("expected an integer");
  return n;
}

function range(value: string): [number, number] {
  const parts = value.split(",").map(Number);
  if (parts.length !== 2 || !parts.every(Number.isFinite)) throw new InvalidArgumentError("expected MIN,MAX");
  return parts as [number, number];
}

function withCompileFlags(cmd: Command): Command {
  return cmd
    .option("--ptau <file>", "prepared powers-of-tau file from a ceremony (default: cached dev ptau)")
    .option(
      "--calibration <file>",
      "calibration inputs (JSON array, or {calibration: [...]}); default <modelDir>/samples.json (beside a .onnx file)",
    )
    .option("--input-range <min,max>", "allowed input range instead of calibration samples", range)
    .option("--input-bits <n>", "bits per input value (default 8)", int)
    .option("--weight-bits <n>", "bits per weight (default 8)", int)
    .option("--activation-bits <n>", "bits for the largest calibrated activation (default 16)", int)
    .option(
      "--input-scales <mode>",
      "auto | shared | perFeature: one input scale per feature, for tabular inputs in raw units (default auto)",
      inputScalesFlag,
    )
    .option("--cache-dir <dir>", "artifact cache (default $VERINFER_CACHE or ~/.cache/verinfer)")
    .option(
      "--proof-system <system>",
      `${PROOF_SYSTEMS.join(" | ")} (default groth16; plonk and fflonk need no per-circuit setup, but more gates)`,
      proofSystemFlag,
    );
}

function inputScalesFlag(value: string): "auto" | "shared" | "perFeature" {
  if (value !== "auto" && value !== "shared" && value !== "perFeature") {
    throw new InvalidArgumentError("expected auto, shared or perFeature");
  }
  return value;
}

function proofSystemFlag(value: string): ProofSystem {
  if (!(PROOF_SYSTEMS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${PROOF_SYSTEMS.join(", ")}`);
  }
  return value as ProofSystem;
}

async function compileOptions(modelDir: string, flags: CompileFlags): Promise<CompileModelOptions> {
  const options: CompileModelOptions = {};
  // The model is found first, so a wrong path says "no model at …", not that its samples.json is missing; the
  // default samples.json lies in the model's folder (beside an .onnx file or a model.json).
  const modelFolder = (await locateModel(modelDir)).dir;
  const calibrationFile = flags.calibration ?? (flags.inputRange ? undefined : path.join(modelFolder, "samples.json"));
  if (calibrationFile) options.calibration = await readCalibration(calibrationFile);
  if (flags.inputRange) options.inputRange = flags.inputRange;
  if (flags.ptau) options.ptau = flags.ptau;
  if (flags.inputBits !== undefined) options.inputBits = flags.inputBits;
  if (flags.weightBits !== undefined) options.weightBits = flags.weightBits;
  if (flags.activationBits !== undefined) options.activationBits = flags.activationBits;
  if (flags.inputScales !== undefined) options.inputScales = flags.inputScales;
  if (flags.cacheDir) options.cacheDir = flags.cacheDir;
  if (flags.proofSystem) options.proofSystem = flags.proofSystem;
  return options;
}

/**
 * Compiles a tfjs model directory, or finds the package it was compiled to with the same options: a repeated
 * `infer` neither loads tfjs nor requantizes (see {@link findCompiledSource}).
 */
async function compileWithProgress(modelDir: string, flags: CompileFlags): Promise<ModelPackage> {
  const options = await compileOptions(modelDir, flags);
  const compiled = await findCompiledSource(modelDir, options);
  if (compiled) return compiled;
  const progress = createProgress(COMPILE_STAGES);
  let pkg: ModelPackage;
  try {
    pkg = await compileModel(modelDir, { ...options, onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  await recordCompiledSource(modelDir, options, pkg);
  return pkg;
}

/**
 * A model named by id, manifest file or `verinfer export` directory is loaded (from the cache, or the export's own
 * files); a tfjs model directory is compiled, or its package found.
 */
async function resolvePackage(ref: string, flags: CompileFlags): Promise<ModelPackage> {
  const isExport = (await stat(path.join(ref, "manifest.json")).catch(() => undefined))?.isFile() === true;
  if (/^0x[0-9a-f]{64}$/.test(ref) || ref.endsWith(".json") || isExport) {
    return loadModelPackage(ref, flags.cacheDir ? { cacheDir: flags.cacheDir } : {});
  }
  return compileWithProgress(ref, flags);
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function demo(flags: { out?: string; cacheDir?: string }): Promise<number> {
  const started = performance.now();
  const samples = (await readJsonFile(path.join(DEMO_MODEL_DIR, "samples.json"), "demo samples")) as {
    calibration: number[][];
    inputs: number[][];
    labels: number[];
  };
  const progress = createProgress(ALL_STAGES);
  let result: Awaited<ReturnType<typeof verifiableInfer>>;
  let pkg: ModelPackage;
  let verified: Awaited<ReturnType<typeof verifyReceipt>>;
  let verifyMs: number;
  try {
    pkg = await compileModel(DEMO_MODEL_DIR, {
      calibration: samples.calibration,
      name: "demo-glyphs",
      onProgress: progress.onProgress,
      ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
    });
    result = await verifiableInfer(pkg, samples.inputs[0] as number[], { onProgress: progress.onProgress });
    progress.onProgress({ stage: "verify", message: "verifying the receipt" });
    const t = performance.now();
    verified = await verifyReceipt(result.receipt, { modelPackage: pkg });
    verifyMs = performance.now() - t;
    progress.onProgress({ stage: "verify", message: verified.valid ? "valid" : "INVALID", done: true });
  } finally {
    progress.stop();
  }
  const { receipt } = result;
  const argmax = (v: number[]) => v.indexOf(Math.max(...v));
  out("verinfer demo — 4x4 glyph classifier (16 → 8 relu → 4)");
  out(`  model        ${pkg.id}`);
  out(`  circuit      ${pkg.manifest.circuit.constraints} constraints, setup "${pkg.manifest.setup.kind}"`);
  out(`  backend      ${receipt.backend}`);
  out(`  float out    [${receipt.output.float.map((v) => v.toFixed(4)).join(", ")}]`);
  out(`  proven out   [${receipt.output.values.map((v) => v.toFixed(4)).join(", ")}]`);
  out(
    `  class        ${argmax(receipt.output.values)} (label ${samples.labels[0]}), max |float - proven| = ${receipt.output.maxAbsError.toExponential(2)}`,
  );
  out(`  prove        ${receipt.timings.proveMs?.toFixed(0)} ms, verify ${verifyMs.toFixed(0)} ms`);
  out(`  receipt      ${verified.valid ? "VALID" : `INVALID: ${verified.reason}`}`);
  if (flags.out) {
    await mkdir(flags.out, { recursive: true });
    await atomicWrite(path.join(flags.out, "receipt.json"), JSON.stringify(receipt, null, 2));
    await atomicWrite(path.join(flags.out, "vkey.json"), JSON.stringify(pkg.vkey, null, 1));
    await atomicWrite(path.join(flags.out, "proof.json"), JSON.stringify(receipt.proof?.proof, null, 1));
    await atomicWrite(path.join(flags.out, "public.json"), JSON.stringify(receipt.proof?.publicSignals, null, 1));
    await writeFile(path.join(flags.out, "salts.json"), JSON.stringify(result.salts, null, 2), { mode: 0o600 });
    out(`  wrote        ${flags.out}/{receipt,vkey,proof,public,salts}.json`);
  }
  out(`  total        ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return verified.valid ? EXIT.ok : EXIT.invalid;
}

async function infer(
  modelDir: string,
  flags: CompileFlags & {
    input: string;
    out: string;
    saltsOut?: string;
    mode: InferMode;
    keyFile?: string;
    deferProof?: boolean;
    dataAttestation?: string;
    inputSalt?: string;
  },
) {
  const json = await readJsonFile(flags.input, "input file");
  const input = Array.isArray(json)
    ? json
    : ((json as { input?: unknown; values?: unknown }).input ?? (json as { values?: unknown }).values);
  const pkg = await resolvePackage(modelDir, flags);
  const options: VerifiableInferOptions = { mode: flags.mode };
  if (flags.mode === "attest") options.signer = await loadSigner(flags.keyFile);
  if (flags.deferProof) options.deferProof = true;
  if (flags.dataAttestation) {
    options.dataAttestation = (await readJsonFile(
      flags.dataAttestation,
      "data attestation",
      "MALFORMED_RECEIPT",
    )) as ReceiptAttestation;
  }
  if (flags.inputSalt) {
    const salt = (await readJsonFile(flags.inputSalt, "input salt file")) as { salt?: unknown };
    if (!isDecimalString(salt?.salt)) {
      throw new VerinferError("INVALID_INPUT", `${flags.inputSalt} must hold { "salt": "<decimal>" }`);
    }
    options.inputSalt = BigInt(salt.salt);
  }
  const progress = createProgress(ALL_STAGES);
  let result: Awaited<ReturnType<typeof verifiableInfer>>;
  try {
    // The file is the user's: verifiableInfer checks its shape and values at run time (INVALID_INPUT).
    result = await verifiableInfer(pkg, input as ModelInput, { ...options, onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  const saltsFile = flags.saltsOut ?? flags.out.replace(/(\.json)?$/, ".salts.json");
  await atomicWrite(flags.out, JSON.stringify(result.receipt, null, 2));
  await writeFile(saltsFile, JSON.stringify(result.salts, null, 2), { mode: 0o600 });
  out(`receipt ${flags.out} (model ${result.receipt.model.id}, mode ${result.receipt.mode})`);
  out(`salts   ${saltsFile} (private: keep them to open the commitments later)`);
  if (result.deferred) {
    out(`proof   job ${result.deferred.id} persisted; run \`verinfer resume-proofs\` to finish it`);
  }
  return EXIT.ok;
}

interface VerifyFlags {
  vkey?: string;
  model?: string;
  requireCeremony?: boolean;
  cacheDir?: string;
  trustedSigner: string[];
  trustedDataSigner: string[];
  dataAttestation?: string;
  requireMode?: InferMode;
  maxAge?: number;
  allowUnaudited?: boolean;
}

/**
 * The verdict line, saying what a VALID rests on: a proof is only as meaningful as the circuit behind its key, and
 * a package nobody audited here (an export from elsewhere) may carry a doctored circuit.
 */
function verdict(result: VerifyResult, flags: VerifyFlags, model: string | undefined): { line: string; code: number } {
  if (!result.valid) return { line: `INVALID: ${result.reason}`, code: EXIT.invalid };
  if (!result.unverified.some((u) => u.field === "circuit")) return { line: "VALID", code: EXIT.ok };
  if (flags.vkey) {
    return { line: "VALID (against the given vkey: what its circuit computes is yours to trust)", code: EXIT.ok };
  }
  return {
    line:
      "VALID (circuit not audited: the proof shows only what the package's circuit computes; " +
      `run \`verinfer audit ${model ?? "<model>"}\` first)`,
    code: flags.allowUnaudited ? EXIT.ok : EXIT.unaudited,
  };
}

async function verify(receiptFile: string, flags: VerifyFlags) {
  const receipt = await readJsonFile(receiptFile, "receipt", "MALFORMED_RECEIPT");
  const options: VerifyReceiptOptions = {};
  if (flags.requireCeremony) options.requireCeremony = true;
  if (flags.trustedSigner.length > 0) options.trustedSigners = flags.trustedSigner;
  if (flags.trustedDataSigner.length > 0) options.trustedDataSigners = flags.trustedDataSigner;
  if (flags.dataAttestation)
    options.dataAttestation = await readJsonFile(flags.dataAttestation, "data attestation", "MALFORMED_RECEIPT");
  if (flags.requireMode) options.requireMode = flags.requireMode;
  if (flags.maxAge !== undefined) options.maxAge = flags.maxAge;
  const cache = flags.cacheDir ? { cacheDir: flags.cacheDir } : {};
  const mode = (receipt as { mode?: unknown })?.mode;
  if (flags.vkey) {
    options.vkey = (await readJsonFile(flags.vkey, "verification key")) as Record<string, unknown>;
    if (flags.model) options.modelPackage = await loadModelPackage(flags.model, cache);
  } else if (mode === "zk" || flags.model || flags.requireCeremony) {
    const id = flags.model ?? (receipt as { model?: { id?: unknown } })?.model?.id;
    if (typeof id !== "string") throw new VerinferError("MALFORMED_RECEIPT", "receipt names no model id; pass --vkey");
    // The receipt names the key it was proven with: the package of that key, even when the model's latest package
    // has another key (a later `setup contribute`); verifyReceipt still checks the package is the receipt's model.
    const named = (receipt as { model?: { vkey?: unknown } })?.model?.vkey;
    const byKey =
      flags.model || typeof named !== "string"
        ? undefined
        : await loadModelPackage(named, cache).catch(() => undefined);
    try {
      options.modelPackage = byKey ?? (await loadModelPackage(id, cache));
    } catch (error) {
      if (!isVerinferError(error, "ARTIFACT_MISSING") || flags.model) throw error;
      const key = (receipt as { model?: { vkey?: unknown } })?.model?.vkey;
      throw new VerinferError("ARTIFACT_MISSING", `model ${id} is not in this machine's cache`, {
        cause: error,
        details:
          "pass --vkey <vkey.json> (the verification key the model's publisher shares" +
          (typeof key === "string" ? `; this receipt was proven for ${key}` : "") +
          ") or --model <manifest.json> of the model's package",
      });
    }
  }
  const result = await verifyReceipt(receipt, options);
  const { line, code } = verdict(result, flags, flags.model ?? options.modelPackage?.id);
  out(line);
  for (const c of result.checks)
    process.stderr.write(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}${c.detail ? `: ${c.detail}` : ""}\n`);
  for (const u of result.unverified) process.stderr.write(`  --   ${u.field} (unverified: ${u.why})\n`);
  return code;
}

/** Builds the `verinfer` command line. */
export function buildCli(setExit: (code: number) => void): Command {
  const program = new Command("verinfer")
    .description("Verifiable ML inference: tfjs + exact fixed-point circuits + Groth16 receipts")
    .version(toolchainVersions().verinfer ?? "unknown")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("demo")
    .description("compile the bundled demo model if needed, infer, prove, verify, print a summary")
    .option("--out <dir>", "write receipt.json, vkey.json (snarkjs), proof.json, public.json, salts.json")
    .option("--cache-dir <dir>", "artifact cache (default $VERINFER_CACHE or ~/.cache/verinfer)")
    .action(async (flags) => setExit(await demo(flags)));

  withCompileFlags(program.command("compile <modelDir>").description("quantize, compile and set up a model"))
    .option("--json", "print the manifest as JSON")
    .action(async (modelDir: string, flags: CompileFlags & { json?: boolean }) => {
      const pkg = await compileWithProgress(modelDir, flags);
      if (flags.json) out(JSON.stringify(pkg.manifest, null, 2));
      else {
        out(`model   ${pkg.id}`);
        out(
          `circuit ${pkg.manifest.circuit.constraints} constraints` +
            (pkg.manifest.circuit.gates !== undefined ? `, ${pkg.manifest.circuit.gates} gates` : "") +
            ` (${pkg.manifest.proofSystem}, ptau 2^${pkg.manifest.circuit.power}), setup "${pkg.manifest.setup.kind}"`,
        );
        out(`range   inputs accepted in [${pkg.manifest.quantization.input.range.join(", ")}]`);
        const f = pkg.manifest.fidelity;
        if (f) {
          out(
            `fidelity on ${f.samples} calibration samples: max |float - proven| ${f.maxAbsError.toPrecision(3)}` +
              (f.maxRelativeError === undefined
                ? ""
                : ` (${(f.maxRelativeError * 100).toFixed(2)}% of output ${f.worstOutput}'s range)`) +
              (f.argmaxAgreement === undefined ? "" : `, argmax agreement ${(f.argmaxAgreement * 100).toFixed(1)}%`),
          );
        }
        out(`cache   ${resolveCacheDir(flags.cacheDir)}`);
      }
      setExit(EXIT.ok);
    });

  withCompileFlags(
    program
      .command("infer <model>")
      .description(
        "run one verifiable inference and write its receipt (model: a tfjs model directory, a model id, a manifest.json or a `verinfer export` directory)",
      ),
  )
    .requiredOption("--input <file>", "input JSON: an array (flat or nested) or {input: [...]}")
    .requiredOption("--out <file>", "where to write receipt.json")
    .option("--salts-out <file>", "where to write the private salts (default <out>.salts.json)")
    .addOption(
      new Option("--mode <mode>", "zk proof, signed attestation, or commitments only")
        .choices(["zk", "attest", "none"])
        .default("zk"),
    )
    .option("--key-file <file>", `signing key for --mode attest (hex; or set ${KEY_ENV})`)
    .option("--defer-proof", "with --mode attest: persist a proof job (finish it with resume-proofs)")
    .option("--data-attestation <file>", "the data node's attestation of this input")
    .option("--input-salt <file>", "the data node's salt file ({ salt }) for --data-attestation")
    .action(async (modelDir: string, flags) => setExit(await infer(modelDir, flags)));

  withCompileFlags(
    program
      .command("export <model>")
      .description(
        "write a model package a second party can verify with (manifest, vkey, artifacts); model: a model id, a manifest.json, or a tfjs model directory (compiled first if needed)",
      ),
  )
    .requiredOption("--out <dir>", "directory to write (manifest.json, vkey.json, objects/)")
    .option("--proving", "also export the witness wasm and zkey (large), so the export can prove")
    .action(async (model: string, flags: CompileFlags & { out: string; proving?: boolean }) => {
      const pkg = await resolvePackage(model, flags);
      const written = await exportModelPackage(pkg, { dir: flags.out, ...(flags.proving ? { proving: true } : {}) });
      out(`model    ${pkg.id}`);
      out(`vkey     ${pkg.vkeyCid}`);
      out(`wrote    ${written.manifest}, ${written.vkey}, ${Object.keys(written.cids).length} artifacts`);
      out(`verify   verinfer verify <receipt.json> --model ${written.manifest}`);
      setExit(EXIT.ok);
    });

  program
    .command("publish <model>")
    .description("put a model package on a content-addressed storage and print its manifest CID")
    .option("--storage <dir>", "an FsStorage directory (e.g. one a prover reads with --storage)")
    .option(
      "--ipfs <dir>",
      "the directory of a Helia IPFS node (its blockstore); a node started on it serves the package",
    )
    .option("--verifier-only", "leave out the witness wasm and zkey (a prover needs them)")
    .option("--cache-dir <dir>", "artifact cache (default $VERINFER_CACHE or ~/.cache/verinfer)")
    .action(
      async (model: string, flags: { storage?: string; ipfs?: string; verifierOnly?: boolean; cacheDir?: string }) => {
        if ((flags.storage === undefined) === (flags.ipfs === undefined)) {
          throw new VerinferError("INVALID_OPTIONS", "publish needs exactly one of --storage <dir> and --ipfs <dir>");
        }
        const pkg = await loadModelPackage(model, flags.cacheDir ? { cacheDir: flags.cacheDir } : {});
        // An IPFS node started only to write its blockstore: it listens nowhere and dials no one.
        const storage = flags.ipfs
          ? await createHeliaStorage({ directory: flags.ipfs, listen: [] })
          : new FsStorage(flags.storage as string);
        try {
          const put = await putModelPackage(storage, pkg, { proving: !flags.verifierOnly });
          out(`model    ${pkg.id}`);
          out(`manifest ${put.manifestCid}`);
          out(`objects  ${Object.keys(put.artifacts).length + 1}`);
        } finally {
          if ("close" in storage) await storage.close();
        }
        setExit(EXIT.ok);
      },
    );

  program
    .command("verify <receipt>")
    .description(
      "verify a receipt: exit 0 valid, 1 invalid, 2 malformed, 3 valid but the package's circuit is not audited here",
    )
    .option("--vkey <file>", "snarkjs verification key (default: the cached model package named by the receipt)")
    .option("--model <idOrManifest>", "model id in the cache, a manifest file, or a `verinfer export` directory")
    .option("--require-ceremony", "reject models set up with a development ptau")
    .option("--trusted-signer <address>", "accept attestations by this address (repeatable)", collect, [])
    .option("--trusted-data-signer <address>", "accept data attestations by this address (repeatable)", collect, [])
    .option("--data-attestation <file>", "check the input's data attestation too")
    .addOption(new Option("--require-mode <mode>", "accept only this mode").choices(["zk", "attest", "none"]))
    .option("--max-age <seconds>", "reject attestations older than this", int)
    .option(
      "--allow-unaudited",
      "exit 0 for a valid proof of a package nobody audited here (the verdict still says so)",
    )
    .option("--cache-dir <dir>", "artifact cache")
    .action(async (receipt: string, flags) => setExit(await verify(receipt, flags)));
  withCompileFlags(
    program.command("attest-data").description("data node: commit to fetched values and sign a data attestation"),
  )
    .requiredOption("--input <file>", "values JSON: an array, or { values, shape?, source?, fetchedAt? }")
    .requiredOption("--model <modelDir>", "the consuming model (its input quantization is used)")
    .requiredOption("--out <file>", "where to write the attestation ({ sig, signer })")
    .option("--salt-out <file>", "where to write the private salt (default <out>.salt.json)")
    .option("--source <source>", "where the values came from")
    .option("--key-file <file>", `signing key (hex; or set ${KEY_ENV})`)
    .action(
      async (
        flags: CompileFlags & {
          input: string;
          model: string;
          out: string;
          saltOut?: string;
          source?: string;
          keyFile?: string;
        },
      ) => {
        const options = await compileOptions(flags.model, flags);
        setExit(await attestDataCommand({ ...flags, calibration: options.calibration ?? [] }));
      },
    );

  withCompileFlags(
    program.command("reexecute <receipt>").description("re-execute a receipt bit-exactly: exit 0 valid, 1 invalid"),
  )
    .requiredOption("--model <modelDir>", "the model the receipt names")
    .requiredOption("--input <file>", "the original input")
    .requiredOption("--salts <file>", "the salts returned with the receipt")
    .action(async (receipt: string, flags: CompileFlags & { model: string; input: string; salts: string }) => {
      const options = await compileOptions(flags.model, flags);
      setExit(await reexecuteCommand(receipt, { ...flags, calibration: options.calibration ?? [] }));
    });

  withCompileFlags(
    program
      .command("audit <model>")
      .description(
        "audit a model package (modelDir, id or manifest.json): recompute its commitment, regenerate and recompile " +
          "its circuit, check vkey = export(zkey) and the zkey against r1cs + ptau; exit 0 ok, 1 failed, 2 malformed",
      ),
  )
    .option("--json", "print the checks as JSON")
    .action(async (model: string, flags: CompileFlags & { json?: boolean }) =>
      setExit(await auditCommand(await resolvePackage(model, flags), flags)),
    );

  const setup = program.command("setup").description("Groth16 setup of a compiled model");
  withCompileFlags(
    setup
      .command("contribute <model>")
      .description("add a phase-2 contribution (fresh OS randomness) to a model's zkey; writes a new package"),
  )
    .requiredOption("--name <name>", "the contributor's name, recorded in the zkey and the manifest")
    .action(async (model: string, flags: CompileFlags & { name: string }) =>
      setExit(await contributeCommand(await resolvePackage(model, flags), flags)),
    );

  program
    .command("resume-proofs")
    .description("finish the deferred proof jobs persisted in the cache")
    .option("--cache-dir <dir>", "artifact cache")
    .action(async (flags: { cacheDir?: string }) => setExit(await resumeProofsCommand(flags)));
  registerChainCommands(program, setExit);
  registerProverCommand(program, setExit);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  try {
    await buildCli((c) => {
      code = c;
    }).parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const e = error as Error;
    process.stderr.write(
      `verinfer: ${e instanceof VerinferError ? `${e.code}: ${e.message}` : (e.stack ?? String(e))}\n`,
    );
    return exitCodeFor(error);
  }
}

// snarkjs keeps curve worker threads alive: exit explicitly once the command is done.
main(process.argv).then((code) => process.exit(code));
