import { z } from "zod";
import { BACKEND_PREFERENCE } from "../models/backend.js";

/** Format tag of receipts. */
export const RECEIPT_FORMAT = "verinfer/receipt@1";

const fieldDecimal = z.string().regex(/^\d{1,78}$/, "must be a field element in decimal");
const signedDecimal = z.string().regex(/^-?\d{1,78}$/, "must be a decimal integer");

/** zod schema of a snarkjs Groth16 `proof.json`. */
export const Groth16ProofSchema = z.object({
  pi_a: z.array(fieldDecimal).length(3),
  pi_b: z.array(z.array(fieldDecimal).length(2)).length(3),
  pi_c: z.array(fieldDecimal).length(3),
  protocol: z.literal("groth16"),
  curve: z.literal("bn128"),
});

/** Receipt modes: a zk proof, a signed attestation, or commitments only (checkable by re-execution). */
export const RECEIPT_MODES = ["zk", "attest", "none"] as const;
/** One of {@link RECEIPT_MODES}. */
export type ReceiptMode = (typeof RECEIPT_MODES)[number];

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of hex");

/**
 * The attestation inside a receipt: an EAS off-chain attestation exactly as EAS tools share it,
 * `{ sig, signer }`. Checked in depth by `verifyOffchainAttestation`; here only its envelope.
 */
export const ReceiptAttestationSchema = z.object({
  sig: z.looseObject({ uid: bytes32, message: z.looseObject({}), signature: z.looseObject({}) }),
  signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
});

/** zod schema of a receipt, `verinfer/receipt@1`. Bigints are decimal strings; salts are never part of it. */
export const ReceiptSchema = z
  .object({
    format: z.literal(RECEIPT_FORMAT),
    model: z.object({ id: z.string().regex(/^0x[0-9a-f]{64}$/), commitment: fieldDecimal }),
    mode: z.enum(RECEIPT_MODES),
    input: z.object({
      commitment: fieldDecimal,
      shape: z.array(z.number().int().positive()),
      /** uid of the data node's attestation of this input, when it came from one. */
      dataAttestation: bytes32.optional(),
    }),
    output: z.object({
      commitment: fieldDecimal,
      shape: z.array(z.number().int().positive()),
      /** The proven integer outputs, signed. */
      quantized: z.array(signedDecimal).min(1),
      /** Power-of-two scale: values[j] = quantized[j] / 2^fracBits. */
      fracBits: z.number().int(),
      /** Dequantized proven outputs. */
      values: z.array(z.number()),
      /** The tfjs float outputs (the fast, unproven answer). */
      float: z.array(z.number()),
      /** max |float[j] - values[j]|. */
      maxAbsError: z.number().nonnegative(),
    }),
    /** Present in `zk` receipts. */
    proof: z
      .object({
        system: z.literal("groth16"),
        proof: Groth16ProofSchema,
        publicSignals: z.array(fieldDecimal).min(4),
      })
      .optional(),
    /** Present in `attest` receipts. */
    attestation: ReceiptAttestationSchema.optional(),
    backend: z.enum(BACKEND_PREFERENCE as unknown as [string, ...string[]]),
    timings: z.record(z.string(), z.number().nonnegative()),
    createdAt: z.string(),
  })
  .refine((r) => r.mode !== "zk" || r.proof !== undefined, { message: "a zk receipt needs a proof", path: ["proof"] })
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

/** The `attestation` field of an attest receipt: `{ sig, signer }` as EAS tools share it. */
export type ReceiptAttestation = NonNullable<Receipt["attestation"]>;
