import { z } from "zod";
import { ACTIVATIONS } from "../models/network.js";
import { PROOF_SYSTEMS } from "../proof-systems/proof-system.js";
import { hasPhase2 } from "../proof-systems/systems.js";
import { cidFromSha256 } from "../storage/cid.js";
import { DECIMAL_STRING } from "../util/field.js";

/**
 * Format tag of model package manifests. `@3` names every artifact by its CIDv1 beside its sha256 (`@2` had the
 * sha256 only); the two must agree.
 */
export const MODEL_FORMAT = "verinfer/model@3";

/**
 * zod schema of one artifact of a manifest: the CIDv1 (raw codec, sha2-256, base32) every `Storage` knows the
 * bytes by, the same digest as hex, and the size. A reader fetches by `cid` and checks sha256 and size.
 */
export const ArtifactRefSchema = z
  .object({
    cid: z.string().regex(/^bafkrei[a-z2-7]{52}$/, "must be a base32 CIDv1 of raw sha2-256 bytes"),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.number().int().nonnegative(),
  })
  .refine((ref) => cidFromSha256(ref.sha256) === ref.cid, { message: "cid and sha256 name different bytes" });

/** What a package's ptau is: see `ModelManifest["setup"]["kind"]`. */
export const SETUP_KINDS = ["dev", "ceremony", "unrecognized"] as const;

/** One of {@link SETUP_KINDS}. */
export type SetupKind = (typeof SETUP_KINDS)[number];

/** Kinds of quantized layers a manifest lists. */
export const QUANTIZED_LAYER_KINDS = [
  "dense",
  "conv2d",
  "sumPool2d",
  "rescale",
  "maxPool2d",
  "add",
  "concat",
  "mul",
  "embedding",
] as const;

const dims = z.array(z.number().int().positive());
const pair = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

/** One quantized layer as a manifest restates it: kind, name, output shape and the kind's parameters. */
export const ManifestLayerSchema = z.object({
  kind: z.enum(QUANTIZED_LAYER_KINDS),
  name: z.string(),
  outputShape: dims,
  activation: z.enum(ACTIVATIONS).optional(),
  /** k of a leakyRelu's slope 2^-k. */
  leakShift: z.number().int().positive().optional(),
  kernelSize: pair.optional(),
  strides: pair.optional(),
  padding: pair.optional(),
  poolSize: pair.optional(),
  /** The tensors the layer reads (0: the input, t: layer t − 1's output), when not the previous layer's. */
  inputs: z.array(z.number().int().nonnegative()).optional(),
});

const decimal = z.string().regex(DECIMAL_STRING, "must be a canonical non-negative decimal integer");

/** zod schema of a model package manifest, `verinfer/model@3`. */
export const ModelManifestSchema = z
  .object({
    format: z.literal(MODEL_FORMAT),
    /** The model commitment as 0x-prefixed 32-byte hex. */
    id: z.string().regex(/^0x[0-9a-f]{64}$/),
    name: z.string(),
    createdAt: z.string(),
    architecture: z.object({
      inputShape: z.array(z.number().int().positive()),
      inputSize: z.number().int().positive(),
      outputShape: z.array(z.number().int().positive()),
      /** `"softmax"`: the outputs are logits and the proof also states their argmax (`predictedClass`). */
      head: z.enum(["none", "softmax", "sigmoid"]),
      /** The quantized layers in order, as the circuit computes them (see `QuantizedLayer`). */
      layers: z.array(ManifestLayerSchema),
    }),
    quantization: z.object({
      input: z.object({
        bits: z.number().int(),
        fracBits: z.number().int(),
        lo: z.string(),
        hi: z.string(),
        /** The float interval the circuit accepts (with per-feature scales: the one every input value accepts). */
        range: z.tuple([z.number(), z.number()]),
        /** Per-feature input scales (input i is xq_i / 2^featureFracBits[i]); absent: one shared scale. */
        featureFracBits: z.array(z.number().int()).optional(),
      }),
      /** Per weighted layer its weight format, per rescale its shift, multiplier and widest range check. */
      layers: z.array(
        z.object({
          kind: z.enum(QUANTIZED_LAYER_KINDS),
          weightBits: z.number().int().optional(),
          weightFracBits: z.number().int().optional(),
          outFracBits: z.number().int().optional(),
          shift: z.number().int().optional(),
          multiplier: z.string().optional(),
          maxQBits: z.number().int().optional(),
          diffBits: z.number().int().optional(),
        }),
      ),
      output: z.object({ fracBits: z.number().int(), width: z.number().int() }),
    }),
    /**
     * How the quantized model tracks the float one on the calibration samples (informative, measured at compile
     * time; not a trust claim).
     */
    fidelity: z
      .object({
        samples: z.number().int().positive(),
        maxAbsError: z.number().nonnegative(),
        meanAbsError: z.number().nonnegative(),
        /** Absent for a model with one output (a regressor), where no argmax means anything. */
        argmaxAgreement: z.number().min(0).max(1).optional(),
        maxAbsFloat: z.number().nonnegative(),
        /** Largest per-output max |float − proven| divided by that output's float range over the samples. */
        maxRelativeError: z.number().nonnegative().optional(),
        /** The output `maxRelativeError` was measured on. */
        worstOutput: z.number().int().nonnegative().optional(),
      })
      .optional(),
    /** Weights are circuit constants (the verification key binds them). */
    visibility: z.literal("constant"),
    /** The model commitment (= id) and its network part; see `modelCommitmentOf`. */
    commitments: z.object({ model: decimal, network: decimal }),
    /** CIDv1 of the verification key's canonical JSON (`vkeyCid`): part of the model's identity. */
    vkey: z.string().regex(/^b[a-z2-7]{20,120}$/),
    circuit: z.object({
      constraints: z.number().int().nonnegative(),
      publicSignals: z.number().int().positive(),
      /** The ptau power the setup of `proofSystem` needs (`requiredPtauPowerFor`). */
      power: z.number().int().positive(),
      /** PLONK/FFLONK: gates snarkjs made of the r1cs (linear combinations included). */
      gates: z.number().int().positive().optional(),
      inspectWarnings: z.array(z.string()),
      /**
       * `"direct"`: the r1cs and the witness program (`artifacts.wasm`, then a JSON program, not a wasm) were written
       * by verinfer's direct backend (compiler revision 8 on); absent: compiled by circom2 from `artifacts.circuit`.
       */
      backend: z.literal("direct").optional(),
    }),
    /** How proofs are made and checked; the vkey's `protocol` (checked on load). */
    proofSystem: z.enum(PROOF_SYSTEMS),
    setup: z.object({
      /**
       * What the ptau is, by its BLAKE2b-512: `ceremony` only for a pinned public ceremony file, `dev` for the
       * cached development ptau, `unrecognized` for any other. A label, re-checked by every trust decision.
       */
      kind: z.enum(SETUP_KINDS),
      ptauSha256: z.string().regex(/^[0-9a-f]{64}$/),
      /** BLAKE2b-512 of the ptau file (the hash ceremonies publish). */
      ptauBlake2b: z.string().regex(/^[0-9a-f]{128}$/),
      ptauPower: z.number().int().positive(),
      /**
       * Groth16 phase-2 contributions, first first: the setup is sound if one of them was honest. Empty for PLONK
       * and FFLONK, whose zkey follows from the r1cs and the ptau alone.
       */
      contributions: z.array(z.object({ name: z.string().max(64), hash: z.string().regex(/^[0-9a-f]{128}$/) })),
    }),
    artifacts: z.object({
      network: ArtifactRefSchema,
      floatNetwork: ArtifactRefSchema,
      circuit: ArtifactRefSchema,
      r1cs: ArtifactRefSchema,
      wasm: ArtifactRefSchema,
      zkey: ArtifactRefSchema,
      vkey: ArtifactRefSchema,
    }),
    toolchain: z.record(z.string(), z.string()),
  })
  .refine((m) => hasPhase2(m.proofSystem) === m.setup.contributions.length > 0, {
    message:
      "a phase-2 system (groth16) needs at least one phase-2 contribution; universal ones (plonk, fflonk) have none",
    path: ["setup", "contributions"],
  });

/** A parsed `verinfer/model@3` manifest. */
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** Artifact names of a model package. */
export type ArtifactName = keyof ModelManifest["artifacts"];
