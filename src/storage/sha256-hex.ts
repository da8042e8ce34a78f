import { createHash } from "node:crypto";

/**
 * sha256 of bytes (or of a string's UTF-8) as lower-case hex.
 *
 * @example
 * ```ts
 * sha256Hex("hello"); // "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
 * ```
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
