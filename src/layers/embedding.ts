import { packValues } from "../attest/commitments.js";
import type { Lc } from "../circuits/direct/constraint-system.js";
import { embeddingBounds, embeddingForward, type QuantizedEmbedding, tokenId } from "../models/layers/embedding.js";
import type { LayerModule } from "./layer-module.js";
import { fieldInts, peakOf } from "./linear-module.js";

/**
 * Embedding lookups, one one-hot selector per token: selector bits s_1 … s_(V−1) are wires proven boolean and
 * s_0 = 1 − Σ s_v is a linear combination proven boolean too, so exactly one s_v is 1 (a sum of at most V − 1 < p
 * booleans that leaves 1 − Σ in {0, 1}); one constraint id = Σ v·s_v ties the selector to the token id (the
 * input wire, which the input commitment covers); the row `table[0][d] + Σ s_v·(table[v][d] − table[0][d])` is a
 * linear combination of committed constants. Cost: V + 1 constraints per token (V = vocabulary size), nothing per
 * embedding dimension.
 */
export const embeddingModule: LayerModule<QuantizedEmbedding> = {
  kind: "embedding",
  code: 43n,
  inputSize: (l) => l.length,
  outputSize: (l) => l.length * l.dim,
  forward: embeddingForward,
  bounds(l) {
    const out = embeddingBounds(l);
    const peak = peakOf(out);
    return { ...out, peak: peak > BigInt(l.vocab) ? peak : BigInt(l.vocab) };
  },
  commitment(l) {
    const offset = 1n << BigInt(l.weightBits - 1);
    return {
      descriptor: [this.code, ...fieldInts([l.vocab, l.dim, l.length, l.weightBits, l.weightFracBits])],
      constants: packValues(
        l.table.flat().map((w) => w + offset),
        l.weightBits,
      ),
    };
  },
  emit(cs, l, input) {
    const out: Lc[] = [];
    const row0 = l.table[0] as bigint[];
    for (let t = 0; t < l.length; t++) {
      const idLc = input[t] as Lc;
      // An id outside the vocabulary has no selector: INVALID_INPUT, as in the integer reference.
      const id = tokenId(l, idLc.value, t);
      const sel = Array.from({ length: l.vocab - 1 }, (_, k) => cs.bit(k + 1 === id ? 1n : 0n));
      const s0 = cs.lin(
        sel.map((s) => [s, -1n] as const),
        1n,
      );
      cs.assertBoolean(s0);
      cs.assertEqual(cs.lin(sel.map((s, k) => [s, BigInt(k + 1)] as const)), idLc);
      for (let d = 0; d < l.dim; d++) {
        const base = row0[d] as bigint;
        out.push(
          cs.lin(
            sel.map((s, k) => [s, ((l.table[k + 1] as bigint[])[d] as bigint) - base] as const),
            base,
          ),
        );
      }
    }
    return out;
  },
  estimate: (l) => l.length * (l.vocab + 1),
  sample: () => ({
    kind: "embedding",
    name: "e",
    vocab: 3,
    dim: 2,
    length: 2,
    weightBits: 4,
    weightFracBits: 2,
    table: [
      [1n, -2n],
      [3n, 0n],
      [-4n, 5n],
    ],
  }),
};
