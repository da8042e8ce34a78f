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

/** zod schema of a receipt, `verinfer/receipt@1`. Bigints are decimal strings; salts are never part of it. */
export const ReceiptSchema = z.object({
  format: z.literal(RECEIPT_FORMAT),
  model: z.object({ id: z.string().regex(/^0x[0-9a-f]{64}$/), commitment: fieldDecimal }),
  mode: z.literal("zk"),
  input: z.object({ commitment: fieldDecimal, shape: z.array(z.number().int().positive()) }),
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
  proof: z.object({
    system: z.literal("groth16"),
    proof: Groth16ProofSchema,
    publicSignals: z.array(fieldDecimal).min(4),
  }),
  backend: z.enum(BACKEND_PREFERENCE as unknown as [string, ...string[]]),
  timings: z.record(z.string(), z.number().nonnegative()),
  createdAt: z.string(),
});

/** A parsed receipt. */
export type Receipt = z.infer<typeof ReceiptSchema>;

/** The private salts of one inference; keep them to re-open the commitments later. Never in a receipt. */
export interface Salts {
  input: string;
  output: string;
}
