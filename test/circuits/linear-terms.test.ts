import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeTerms, encodeTerms, TERM_BYTES } from "../../src/circuits/direct/constraint-store.js";
import { ConstraintSystem, type Lc } from "../../src/circuits/direct/constraint-system.js";
import { Terms } from "../../src/circuits/direct/linear-terms.js";
import { FIELD_PRIME } from "../../src/util/field.js";

const mod = (v: bigint) => ((v % FIELD_PRIME) + FIELD_PRIME) % FIELD_PRIME;

/** Σ k·terms + constant as a map of field coefficients (zeros dropped): what the maps of bigints computed. */
function reference(parts: ReadonlyArray<readonly [Lc, bigint]>, constant: bigint): Map<number, bigint> {
  const out = new Map<number, bigint>();
  if (mod(constant) !== 0n) out.set(0, mod(constant));
  for (const [lc, k] of parts) {
    for (const [w, c] of lc.terms) out.set(w, mod((out.get(w) ?? 0n) + k * c));
  }
  for (const [w, c] of out) if (c === 0n) out.delete(w);
  return out;
}

/** Coefficients where a number stops being exact: around ±2^53, near p, and past 2^64. */
const coefficient = fc.oneof(
  fc.bigInt({ min: -5n, max: 5n }),
  fc.bigInt({ min: -(2n ** 53n) - 3n, max: -(2n ** 53n) + 3n }),
  fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }),
  fc.bigInt({ min: 2n ** 26n, max: 2n ** 27n }),
  fc.bigInt({ min: FIELD_PRIME - 3n, max: FIELD_PRIME + 3n }),
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
);

describe("linear combinations as typed arrays", () => {
  it("sum to the same field coefficients as maps of bigints, exactly past 2^53 and with cancellations", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), coefficient), { maxLength: 5 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.array(coefficient, { minLength: 4, maxLength: 4 }),
        coefficient,
        (layers, scales, constant) => {
          const cs = new ConstraintSystem({ track: true, nPublic: 1 });
          const wires = cs.privateInputs([1n, 2n, 3n, 4n, 5n]);
          // A first level of sums over the wires, then a sum of those (scaled): the second level meets
          // coefficients that already left the numbers, and terms that cancel.
          const sums = layers.map((terms) => cs.lin(terms.map(([i, k]) => [wires[i] as Lc, k] as const)));
          const parts = sums.map((lc, i) => [lc, scales[i] as bigint] as const);
          parts.push([sums[0] as Lc, -(scales[0] as bigint)]);
          const got = cs.lin(parts, constant);
          const want = reference(parts, constant);
          expect(new Map(got.terms)).toEqual(want);
          expect([...got.terms].map(([w]) => w)).toEqual([...want.keys()].sort((u, v) => u - v));
          // Encoded as the r1cs encodes a list: the same field elements.
          const bytes = new Uint8Array(4 + got.terms.size * TERM_BYTES);
          encodeTerms(bytes, new DataView(bytes.buffer), 0, got.terms, false);
          expect(decodeTerms(new DataView(bytes.buffer), 0).terms).toEqual(want);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("encodes a booleanity constraint's B = A − 1 for small, negative and full-width constants", () => {
    for (const c0 of [undefined, 1n, 2n, -1n, -(2n ** 53n) + 1n, 2n ** 53n, FIELD_PRIME - 2n ** 60n]) {
      const m = new Map<number, bigint>([[7, 3n]]);
      if (c0 !== undefined) m.set(0, mod(c0));
      const t = Terms.fromMap(m);
      const bytes = new Uint8Array(4 + (t.size + 1) * TERM_BYTES);
      const end = encodeTerms(bytes, new DataView(bytes.buffer), 0, t, true);
      const want = new Map(m);
      want.set(0, mod((m.get(0) ?? 0n) - 1n));
      if (want.get(0) === 0n) want.delete(0);
      const { terms, end: read } = decodeTerms(new DataView(bytes.buffer), 0);
      expect(read).toBe(end);
      expect(terms).toEqual(new Map([...want].sort(([u], [v]) => u - v)));
    }
  });
});
