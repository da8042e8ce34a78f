import { buildPoseidon, type Poseidon } from "circomlibjs";

let instance: Promise<Poseidon> | undefined;

/** The circomlibjs Poseidon hasher, built once per process (building it costs ~100 ms). */
export function getPoseidon(): Promise<Poseidon> {
  instance ??= buildPoseidon();
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
