import { z } from "zod";
import { BACKEND_PREFERENCE, type BackendName } from "../models/backend.js";
import { DECIMAL_STRING, FIELD_PRIME, isCommittableOffset } from "../util/field.js";
import { canonicalProofProblem, type ProofFields } from "./canonical-proof.js";

/** Format tag of receipts. */
export const RECEIPT_FORMAT = "verinfer/receipt@2";

// One spelling per number (DECIMAL_STRING): a second spelling would be a second receipt for one proof.
const canonicalDecimal = DECIMAL_STRING;
/**
 * A proof coordinate (a base-field element: snarkjs checks the points) or a public signal (verifyReceipt reports
 * one at or above p as an invalid proof).
 */
const fieldDecimal = z.string().regex(canonicalDecimal, "must be a canonical decimal");
/** A commitment: a scalar-field element, canonical and below p. */
const fieldElement = z
  .string()
  .regex(canonicalDecimal, "must be a canonical decimal")
  // zod runs every check, so the refinement sees strings the regex refused: test again before BigInt.
  .refine((s) => canonicalDecimal.test(s) && BigInt(s) < FIELD_PRIME, "must be below the field prime");
const canonicalSigned = /^(0|-?[1-9]\d{0,77})$/;
const signedDecimal = z.string().regex(canonicalSigned, "must be a canonical decimal integer");
/**
 * The input offset: the commitment header holds lo in [-2^127, 2^127), and the model
 * commitment hashes lo mod p, so lo ± p must not pass for lo.
 */
const inputOffset = signedDecimal.refine(
  (s) => canonicalSigned.test(s) && isCommittableOffset(BigInt(s)),
  "must lie in [-2^127, 2^127)",
);

/** zod schema of a snarkjs Groth16 `proof.json`. */
export const Groth16ProofSchema = z.object({
  pi_a: z.array(fieldDecimal).length(3),
  pi_b: z.array(z.array(fieldDecimal).length(2)).length(3),
  pi_c: z.array(fieldDecimal).length(3),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});

const g1Point = z.array(fieldDecimal).length(3);

/** zod schema of a snarkjs PLONK `proof.json` (G1 points in projective JSON, evaluations as decimals). */
export const PlonkProofSchema = z.object({
  A: g1Point,
  B: g1Point,
  C: g1Point,
  Z: g1Point,
  T1: g1Point,
  T2: g1Point,
  T3: g1Point,
  Wxi: g1Point,
  Wxiw: g1Point,
  eval_a: fieldDecimal,
  eval_b: fieldDecimal,
  eval_c: fieldDecimal,
  eval_s1: fieldDecimal,
  eval_s2: fieldDecimal,
  eval_zw: fieldDecimal,
  protocol: z.literal("plonk"),
  curve: z.literal("bn128"),
});

/** The evaluations of a snarkjs FFLONK proof, in the order its Solidity verifier reads them. */
export const FFLONK_EVALUATIONS = [
  "ql",
  "qr",
  "qm",
  "qo",
  "qc",
  "s1",
  "s2",
  "s3",
  "a",
  "b",
  "c",
  "z",
  "zw",
  "t1w",
  "t2w",
  "inv",
] as const;

/** zod schema of a snarkjs FFLONK `proof.json`. */
export const FflonkProofSchema = z.object({
  polynomials: z.object({ C1: g1Point, C2: g1Point, W1: g1Point, W2: g1Point }),
  evaluations: z.object(
    Object.fromEntries(FFLONK_EVALUATIONS.map((k) => [k, fieldDecimal])) as Record<
      (typeof FFLONK_EVALUATIONS)[number],
      typeof fieldDecimal
    >,
  ),
  protocol: z.literal("fflonk"),
  curve: z.literal("bn128"),
});

const publicSignalsSchema = z.array(fieldDecimal).min(4);

/**
 * zod schema of a zk receipt's `proof`: the proof system, snarkjs's proof JSON of that system (its `protocol`
 * must agree) and the public signals. Only snarkjs's own encoding of a proof passes (affine points with z = 1,
 * coordinates below q, evaluations below r: see {@link canonicalProofProblem}), so one proof is one receipt.
 */
export const ReceiptProofSchema = z
  .discriminatedUnion("system", [
    z.object({ system: z.literal("groth16"), proof: Groth16ProofSchema, publicSignals: publicSignalsSchema }),
    z.object({ system: z.literal("plonk"), proof: PlonkProofSchema, publicSignals: publicSignalsSchema }),
    z.object({ system: z.literal("fflonk"), proof: FflonkProofSchema, publicSignals: publicSignalsSchema }),
  ])
  .superRefine((p, ctx) => {
    const why = canonicalProofProblem(p as ProofFields);
    if (why) ctx.addIssue({ code: "custom", message: `not the canonical encoding: ${why}`, path: ["proof"] });
  });

/** Receipt modes: a zk proof, a signed attestation, or commitments only (checkable by re-execution). */
export const RECEIPT_MODES = ["zk", "attest", "none"] as const;
/** One of {@link RECEIPT_MODES}. */
export type ReceiptMode = (typeof RECEIPT_MODES)[number];

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex");
/** Fixed-point exponents: far beyond any calibrated scale, small enough that 2^fracBits is a finite double. */
const fracBits = z.number().int().min(-256).max(256);
/** Most per-feature input scales a receipt states (per-feature scales serve tabular inputs, not images). */
export const MAX_FEATURE_SCALES = 65_536;
const dims = z
  .array(
    z
      .number()
      .int()
      .positive()
      .max(2 ** 31),
  )
  .min(1)
  .max(8);

/**
 * The attestation inside a receipt: an EAS off-chain attestation exactly as EAS tools share it,
 * `{ sig, signer }`. Checked in depth by `verifyOffchainAttestation`; here only its envelope.
 */
export const ReceiptAttestationSchema = z.object({
  sig: z.looseObject({ uid: bytes32, message: z.looseObject({}), signature: z.looseObject({}) }),
  signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
});

/**
 * zod schema of a receipt, `verinfer/receipt@2`. Bigints are decimal strings; salts are never part of it.
 *
 * The model commitment is `PoseidonChain(header, io, model.network)` where `io` is read from `input.shape`,
 * `input.quantization`, `output.shape`, `output.width` and `output.fracBits` (see `modelCommitmentOf`): a
 * verifier recomputes it, so those fields are bound to the proof (or the attestation) through its first public
 * signal, with nothing but a verification key.
 */
const ms = z.number().nonnegative();

export const ReceiptSchema = z
  .object({
    format: z.literal(RECEIPT_FORMAT),
    model: z.object({
      id: z.string().regex(/^0x[0-9a-f]{64}$/),
      commitment: fieldElement,
      /** Poseidon commitment to the layers (architecture and weights); with the I/O format it gives `commitment`. */
      network: fieldElement,
      /** CIDv1 of the canonical JSON of the verification key the proof was made for (see `vkeyCid`). */
      vkey: z
        .string()
        .regex(/^b[a-z2-7]{20,120}$/)
        .optional(),
    }),
    mode: z.enum(RECEIPT_MODES),
    input: z.object({
      commitment: fieldElement,
      shape: dims,
      /** How each input value was quantized: xq = round(x · 2^fracBits) in [lo, lo + 2^bits). */
      quantization: z.object({
        bits: z.number().int().min(1).max(64),
        fracBits,
        lo: inputOffset,
        /**
         * Per-feature input scales (tabular inputs in raw units): input i is xq_i / 2^featureFracBits[i], one per
         * input value; `fracBits` is their minimum. Absent: every input at 2^fracBits.
         */
        featureFracBits: z.array(fracBits).max(MAX_FEATURE_SCALES).optional(),
      }),
      /** uid of the data node's attestation of this input, when it came from one. */
      dataAttestation: bytes32.optional(),
    }),
    output: z.object({
      commitment: fieldElement,
      shape: dims,
      /** Packing width of the outputs: each lies in [-2^(width-1), 2^(width-1)). */
      width: z.number().int().min(2).max(128),
      /** The proven integer outputs, signed. */
      quantized: z.array(signedDecimal).min(1),
      /** Power-of-two scale: values[j] = quantized[j] / 2^fracBits. */
      fracBits,
      /** Dequantized proven outputs. */
      values: z.array(z.number()),
      /** The tfjs float outputs (the fast, unproven answer). */
      float: z.array(z.number()),
      /** max |float[j] - values[j]|. */
      maxAbsError: z.number().nonnegative(),
      /**
       * The proven class, a public signal of the proof (its last), so a contract can act on it alone. Softmax head:
       * argmax of `quantized` with the lowest index winning ties. Sigmoid head (`head: "sigmoid"`): 1 when the logit
       * under the sigmoid is >= 0, else 0.
       */
      class: z.number().int().nonnegative().optional(),
      /**
       * `"sigmoid"`: a binary classifier's head — `quantized` is the proven sigmoid of one logit and `class` that
       * logit's proven sign. Absent for a softmax head (and for no head). Part of the model commitment's I/O format.
       */
      head: z.literal("sigmoid").optional(),
      /** Softmax head only: softmax of `float` — the float probabilities, NOT proven. */
      probabilities: z.array(z.number()).optional(),
    }),
    /** Present in `zk` receipts. */
    proof: ReceiptProofSchema.optional(),
    /** Present in `attest` receipts. */
    attestation: ReceiptAttestationSchema.optional(),
    /** Which tfjs backend computed `output.float` (not covered by a proof; covered by an attestation). */
    backend: z.enum(BACKEND_PREFERENCE as unknown as [BackendName, ...BackendName[]]),
    /**
     * Milliseconds per step, as measured by the node that made the receipt (never verified, so none is required).
     * Steps another version of verinfer times are accepted too, as numbers.
     */
    timings: z
      .object({
        /** tfjs float inference. */
        floatMs: ms.optional(),
        /** The integer reference forward pass. */
        integerMs: ms.optional(),
        /** Witness and proof (zk receipts). */
        proveMs: ms.optional(),
        /** Time the job waited in a prover pool or queue before a worker took it. */
        proveQueueMs: ms.optional(),
        /** Signing the attestation (attest receipts). */
        attestMs: ms.optional(),
      })
      .catchall(ms),
    /** When the receipt was made, by the node's clock (never verified; an attestation has its own signed time). */
    createdAt: z.string(),
  })
  .refine((r) => r.mode !== "zk" || r.proof !== undefined, { message: "a zk receipt needs a proof", path: ["proof"] })
  .refine(
    (r) => {
      const f = r.input.quantization.featureFracBits;
      return (
        !f ||
        (f.length === r.input.shape.reduce((a, b) => a * b, 1) &&
          r.input.quantization.fracBits === f.reduce((m, x) => Math.min(m, x)) &&
          f.some((x) => x !== r.input.quantization.fracBits))
      );
    },
    {
      message:
        "featureFracBits needs one scale per input value, fracBits must be their minimum, and equal scales are " +
        "stated as fracBits alone",
      path: ["input", "quantization", "featureFracBits"],
    },
  )
  .refine((r) => r.mode !== "attest" || r.attestation !== undefined, {
    message: "an attest receipt needs an attestation",
    path: ["attestation"],
  });

/** A parsed receipt. */
export type Receipt = z.infer<typeof ReceiptSchema>;

/** The private salts of one inference; keep them to re-open the commitments later. Never in a receipt. */
export interface Salts {
  input: string;
  output: string;
}

/** The `proof` field of a zk receipt. */
export type ReceiptProof = NonNullable<Receipt["proof"]>;

/** The `proof` field of a Groth16 zk receipt. */
export type Groth16ReceiptProof = Extract<ReceiptProof, { system: "groth16" }>;

/** The `attestation` field of an attest receipt: `{ sig, signer }` as EAS tools share it. */
export type ReceiptAttestation = NonNullable<Receipt["attestation"]>;
