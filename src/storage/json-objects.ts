import { VerinferError } from "../errors.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import type { Storage } from "./storage.js";

function serialize(value: unknown, at: string): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new VerinferError("INVALID_INPUT", `${at} is ${value}, which JSON cannot hold`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v, i) => (v === undefined ? "null" : serialize(v, `${at}[${i}]`))).join(",")}]`;
  }
  if (typeof value === "object") {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return serialize(toJSON.call(value), at);
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      // Code-unit order (as RFC 8785): JSON.stringify would put integer-like keys first in numeric order.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${serialize(v, `${at}.${k}`)}`).join(",")}}`;
  }
  throw new VerinferError("INVALID_INPUT", `${at} is a ${typeof value}, which JSON cannot hold`);
}

/**
 * Canonical JSON text: object keys sorted by UTF-16 code units, no whitespace, numbers as JavaScript prints
 * them (the RFC 8785 form for finite numbers). Equal values give equal text, hence equal CIDs.
 *
 * @throws VerinferError `INVALID_INPUT` for NaN, Infinity, bigints, functions or symbols.
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, "value");
}

/**
 * Stores a JSON value as its canonical UTF-8 bytes; → its CID.
 *
 * @example
 * ```ts
 * const cid = await putJson(storage, { hello: "world" });
 * ```
 */
export function putJson(storage: Storage, value: unknown): Promise<string> {
  return storage.put(new TextEncoder().encode(canonicalJson(value)));
}

/**
 * Reads a JSON object back.
 *
 * @throws VerinferError `ARTIFACT_MISSING`, or `ARTIFACT_CORRUPT` when the object is not UTF-8 JSON.
 * @example
 * ```ts
 * const value = await getJson(storage, cid);
 * ```
 */
export async function getJson(storage: Storage, cid: string): Promise<unknown> {
  const bytes = await storage.get(cid);
  try {
    return parseStrictJson(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new VerinferError("ARTIFACT_CORRUPT", `object ${cid} is not UTF-8 JSON (or repeats a key)`, { cause });
  }
}
