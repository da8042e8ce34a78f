import { cidOf } from "../storage/cid.js";
import { canonicalJson } from "../storage/json-objects.js";

/**
 * The identity of a verification key: the CIDv1 (raw, sha2-256) of its canonical JSON. Manifests and receipts
 * name their key by it, so a verifier can tell which key a proof was made for — and fetch it from any
 * content-addressed store — before trusting it. Two compiles of one model give two keys (fresh phase-2
 * randomness), hence two CIDs.
 *
 * @example
 * ```ts
 * vkeyCid(pkg.vkey); // "bafkrei…"
 * ```
 */
export function vkeyCid(vkey: unknown): string {
  return cidOf(new TextEncoder().encode(canonicalJson(vkey)));
}
