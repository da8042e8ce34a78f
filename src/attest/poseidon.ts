import { useJsBlakeHash } from "./js-blake-hash.js";

/**
 * circomlibjs's Poseidon hasher: field elements in, a field element (in its internal form) out. Declared here, not
 * imported from circomlibjs, because circomlibjs ships no types: a public type naming it would break users' builds.
 */
export interface PoseidonHasher {
  (inputs: Array<bigint | Uint8Array>): Uint8Array;
  F: { toObject(a: Uint8Array): bigint; e(a: bigint | number | string): Uint8Array };
}

let instance: Promise<PoseidonHasher> | undefined;

/**
 * circomlibjs, imported on first use after {@link useJsBlakeHash}. Not a static import: Node links a static import's
 * whole graph, and so loads blake-hash's addon, before any module's code runs.
 */
async function importCircomlib(): Promise<typeof import("circomlibjs")> {
  useJsBlakeHash();
  const g = globalThis as { curve_bn128?: unknown; curve_bls12381?: unknown };
  const shared = { bn128: g.curve_bn128, bls12381: g.curve_bls12381 };
  const circomlib = await import("circomlibjs");
  // circomlibjs's own copy of ffjavascript sets the shared curves to null as it loads: put back the curve snarkjs
  // and verinfer's prover were sharing in this thread (dropped, it would be rebuilt and its workers left running).
  if (g.curve_bn128 == null && shared.bn128 != null) g.curve_bn128 = shared.bn128;
  if (g.curve_bls12381 == null && shared.bls12381 != null) g.curve_bls12381 = shared.bls12381;
  return circomlib;
}

/** The circomlibjs Poseidon hasher, built once per thread (building it costs ~100 ms). */
export function getPoseidon(): Promise<PoseidonHasher> {
  if (!instance) {
    const build = importCircomlib().then((circomlib) => circomlib.buildPoseidon());
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
