// First: circomlibjs loads blake-hash, whose native addon must not load (see js-blake-hash.ts).
import "./js-blake-hash.js";
import { buildPoseidon } from "circomlibjs";

/**
 * circomlibjs's Poseidon hasher: field elements in, a field element (in its internal form) out. Declared here, not
 * imported from circomlibjs, because circomlibjs ships no types: a public type naming it would break users' builds.
 */
export interface PoseidonHasher {
  (inputs: Array<bigint | Uint8Array>): Uint8Array;
  F: { toObject(a: Uint8Array): bigint; e(a: bigint | number | string): Uint8Array };
}

let instance: Promise<PoseidonHasher> | undefined;

/** The circomlibjs Poseidon hasher, built once per thread (building it costs ~100 ms). */
export function getPoseidon(): Promise<PoseidonHasher> {
  if (!instance) {
    const build = buildPoseidon();
    instance = build;
    // A failed build (out of memory) is not kept: the next call tries again.
    build.catch(() => {
      if (instance === build) instance = undefined;
    });
  }
  return instance;
}

/**
 * Poseidon over any number of field elements, 16 at a time — the same chain as `PoseidonChain` in
 * circuits/verinfer.circom: h = P(e[0..16]), then h = P(h, next 15) until every element is absorbed.
 */
export async function poseidonChain(elements: readonly bigint[]): Promise<bigint> {
  if (elements.length === 0) throw new RangeError("poseidonChain needs at least one element");
  const poseidon = await getPoseidon();
  const first = elements.slice(0, 16);
  let h = poseidon.F.toObject(poseidon(first));
  for (let pos = 16; pos < elements.length; pos += 15) {
    h = poseidon.F.toObject(poseidon([h, ...elements.slice(pos, pos + 15)]));
  }
  return h;
}
