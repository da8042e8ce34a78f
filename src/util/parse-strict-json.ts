import { visit } from "jsonc-parser";

/**
 * Parses JSON from an untrusted place (a receipt, a manifest, an attestation, a job record, an export, a peer's
 * answer) as `JSON.parse` does, but refuses an object with the same key twice. `JSON.parse` keeps the last of
 * them, so a document could say one thing to a reader that keeps the first (another JSON library, a person
 * reading it) and another to verinfer, and the duplicate would never show up as unverified.
 *
 * Keys compare after unescaping: `"a"` and `"\u0061"` are the same key. The text is first parsed by `JSON.parse`
 * (strict RFC 8259), then scanned once by jsonc-parser (no comments, no trailing commas) for its keys.
 *
 * @throws SyntaxError what `JSON.parse` throws, or one naming the duplicate key and its offset: callers wrap it in
 *   the code of the document they read (`MALFORMED_RECEIPT`, `ARTIFACT_CORRUPT`, …), as they wrap JSON errors.
 * @example
 * ```ts
 * parseStrictJson('{"a": 1}');          // { a: 1 }
 * parseStrictJson('{"a": 1, "a": 2}');  // throws SyntaxError: duplicate key "a"
 * ```
 */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const open: Set<string>[] = [];
  let duplicate: { key: string; offset: number } | undefined;
  visit(
    text,
    {
      onObjectBegin: () => {
        open.push(new Set());
      },
      onObjectProperty: (key, offset) => {
        const keys = open[open.length - 1];
        if (!keys) return;
        if (keys.has(key)) duplicate ??= { key, offset };
        keys.add(key);
      },
      onObjectEnd: () => {
        open.pop();
      },
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  if (duplicate) {
    throw new SyntaxError(`duplicate key ${JSON.stringify(duplicate.key.slice(0, 100))} at offset ${duplicate.offset}`);
  }
  return value;
}
