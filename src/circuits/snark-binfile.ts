import { open } from "node:fs/promises";
import { type ErrorCode, VerinferError } from "../errors.js";

/**
 * snarkjs's binary files (`.r1cs`, `.ptau`, `.zkey`, `.wtns`) share one layout: a 4-byte magic, a u32 version, a
 * u32 section count, then sections of `type: u32, size: u64, data`. This is verinfer's one reader of it.
 */

/** Where a section's data lies in its file. */
export interface BinfileSection {
  start: number;
  size: number;
}

/**
 * The sections of an in-memory snarkjs binary file, by type (the first of each type), checked to lie inside the
 * bytes.
 *
 * @throws VerinferError of `code` ("not a <magic> file: …") for another magic or a truncated section table.
 * @example
 * ```ts
 * const sections = binfileSections(r1cs, "r1cs", "ARTIFACT_CORRUPT");
 * ```
 */
export function binfileSections(bytes: Uint8Array, magic: string, code: ErrorCode): Map<number, BinfileSection> {
  const fail = (why: string): never => {
    throw new VerinferError(code, `not a ${magic} file: ${why}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== magic) fail("no magic");
  const sections = new Map<number, BinfileSection>();
  let pos = 12;
  const count = view.getUint32(8, true);
  for (let i = 0; i < count; i++) {
    if (pos + 12 > bytes.byteLength) fail("truncated section table");
    const type = view.getUint32(pos, true);
    const size = Number(view.getBigUint64(pos + 4, true));
    if (pos + 12 + size > bytes.byteLength) fail(`section ${type} runs past the end`);
    if (!sections.has(type)) sections.set(type, { start: pos + 12, size });
    pos += 12 + size;
  }
  return sections;
}

/**
 * The sections of a snarkjs binary file on disk, by type, reading only the section headers (ptau files reach
 * hundreds of GB).
 *
 * @throws VerinferError of `code` for another magic or a section table that runs past the file's end; the file
 *   system's error when the file cannot be opened.
 * @example
 * ```ts
 * const sections = await binfileSectionsOfFile("dev-bn128-12.ptau", "ptau", "SETUP_REQUIRED");
 * ```
 */
export async function binfileSectionsOfFile(
  file: string,
  magic: string,
  code: ErrorCode,
): Promise<Map<number, BinfileSection>> {
  const fail = (why: string): never => {
    throw new VerinferError(code, `not a ${magic} file: ${why}`, { meta: { file } });
  };
  const handle = await open(file, "r");
  try {
    const { size: fileSize } = await handle.stat();
    const head = new Uint8Array(12);
    const { bytesRead } = await handle.read(head, 0, 12, 0);
    if (bytesRead < 12 || new TextDecoder().decode(head.subarray(0, 4)) !== magic) fail("no magic");
    const count = new DataView(head.buffer).getUint32(8, true);
    const sections = new Map<number, BinfileSection>();
    let pos = 12;
    const h = new Uint8Array(12);
    for (let i = 0; i < count; i++) {
      if ((await handle.read(h, 0, 12, pos)).bytesRead < 12) fail("truncated section table");
      const v = new DataView(h.buffer);
      const type = v.getUint32(0, true);
      const size = Number(v.getBigUint64(4, true));
      if (pos + 12 + size > fileSize) fail(`section ${type} runs past the end`);
      if (!sections.has(type)) sections.set(type, { start: pos + 12, size });
      pos += 12 + size;
    }
    return sections;
  } finally {
    await handle.close();
  }
}

/** The header of a circom `.r1cs` (section 1) and where its constraints lie (section 2). */
export interface R1csLayout {
  /** Bytes per field element. */
  n8: number;
  prime: bigint;
  nWires: number;
  /** Public signals: outputs + public inputs. */
  nPublic: number;
  nConstraints: number;
  constraints: BinfileSection;
}

/**
 * Reads an r1cs's header and the place of its constraints.
 *
 * @throws VerinferError of `code` when the bytes are not an r1cs file.
 * @example
 * ```ts
 * const { nConstraints, nPublic } = r1csLayout(compiled.r1cs, "ARTIFACT_CORRUPT");
 * ```
 */
export function r1csLayout(bytes: Uint8Array, code: ErrorCode): R1csLayout {
  const fail = (why: string): never => {
    throw new VerinferError(code, `not an r1cs file: ${why}`);
  };
  const sections = binfileSections(bytes, "r1cs", code);
  const header = sections.get(1) ?? fail("no header section");
  const constraints = sections.get(2) ?? fail("no constraints section");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n8 = view.getUint32(header.start, true);
  const q = header.start + 4 + n8;
  if (q + 28 > header.start + header.size) fail("header section too short");
  let prime = 0n;
  for (let i = n8 - 1; i >= 0; i--) prime = (prime << 8n) | BigInt(bytes[header.start + 4 + i] as number);
  return {
    n8,
    prime,
    nWires: view.getUint32(q, true),
    nPublic: view.getUint32(q + 4, true) + view.getUint32(q + 8, true),
    nConstraints: view.getUint32(q + 24, true),
    constraints,
  };
}
