import { z } from "zod";
import { VerinferError } from "../../errors.js";
import { bigintString, int } from "./schema-parts.js";

/**
 * A table lookup in integers (Keras `Embedding`, ONNX `Gather` on a constant table): input `length` token ids,
 * each an integer in [0, vocab); output `out[t·dim + d] = table[id_t][d]` (channels-last `[1, length, dim]`). The
 * table's integers are at scale 2^weightFracBits, within `weightBits` signed bits. Only a network's first layer
 * (its input is the ids: input quantization lo = 0, fracBits = 0, so the input commitment covers the ids).
 */
export interface QuantizedEmbedding {
  kind: "embedding";
  name: string;
  vocab: number;
  dim: number;
  length: number;
  weightBits: number;
  weightFracBits: number;
  /** `[vocab][dim]`. */
  table: bigint[][];
}

/** zod schema of a serialized {@link QuantizedEmbedding}. */
export const QuantizedEmbeddingSchema = z.object({
  kind: z.literal("embedding"),
  name: z.string(),
  vocab: int.positive(),
  dim: int.positive(),
  length: int.positive(),
  weightBits: int.min(2).max(32),
  weightFracBits: int,
  table: z.array(z.array(bigintString)),
});

/** The id at position t as a vocabulary index, or a typed error when it is none. */
export function tokenId(op: Pick<QuantizedEmbedding, "vocab">, id: bigint, t: number): number {
  if (id < 0n || id >= BigInt(op.vocab)) {
    throw new VerinferError("INVALID_INPUT", `token id ${id} at position ${t} is outside [0, ${op.vocab})`, {
      meta: { index: t, value: id.toString(), vocab: op.vocab },
    });
  }
  return Number(id);
}

/** The integer lookup. @throws VerinferError `INVALID_INPUT` for an id outside [0, vocab). */
export function embeddingForward(op: QuantizedEmbedding, ids: readonly bigint[]): bigint[] {
  const out: bigint[] = [];
  for (let t = 0; t < op.length; t++) {
    const row = op.table[tokenId(op, ids[t] as bigint, t)] as bigint[];
    for (let d = 0; d < op.dim; d++) out.push(row[d] as bigint);
  }
  return out;
}

/** Per-output bounds: column d of the table's least and greatest entries, for every position. */
export function embeddingBounds(op: QuantizedEmbedding): { lo: bigint[]; hi: bigint[] } {
  const colLo: bigint[] = [];
  const colHi: bigint[] = [];
  for (let d = 0; d < op.dim; d++) {
    const col = op.table.map((r) => r[d] as bigint);
    colLo.push(col.reduce((m, v) => (v < m ? v : m)));
    colHi.push(col.reduce((m, v) => (v > m ? v : m)));
  }
  const lo: bigint[] = [];
  const hi: bigint[] = [];
  for (let t = 0; t < op.length; t++) {
    lo.push(...colLo);
    hi.push(...colHi);
  }
  return { lo, hi };
}
