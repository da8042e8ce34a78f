import { readFile } from "node:fs/promises";
import { VerinferError } from "../errors.js";
import { parseStrictJson } from "../util/parse-strict-json.js";

/**
 * Reads and parses a JSON file (a key repeated in one object is refused); a missing or unparsable file is a typed
 * error: `code` (default `INVALID_INPUT`; `MALFORMED_RECEIPT` for a receipt or an attestation).
 */
export async function readJsonFile(
  file: string,
  what: string,
  code: "INVALID_INPUT" | "MALFORMED_RECEIPT" = "INVALID_INPUT",
): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new VerinferError("ARTIFACT_MISSING", `cannot read ${what} ${file}`, { cause });
  }
  try {
    return parseStrictJson(text);
  } catch (cause) {
    throw new VerinferError(code, `${what} ${file} is not valid JSON`, {
      cause,
      details: cause instanceof Error ? cause.message : String(cause),
    });
  }
}

/** Calibration samples from a JSON file: an array of inputs, or `{ calibration: [...] }`. */
export async function readCalibration(file: string): Promise<number[][]> {
  const json = await readJsonFile(file, "calibration file");
  const samples = Array.isArray(json) ? json : (json as { calibration?: unknown }).calibration;
  if (!Array.isArray(samples)) {
    throw new VerinferError("INVALID_INPUT", `${file} must hold an array of inputs or { "calibration": [...] }`);
  }
  return samples.map((x) => (Array.isArray(x) ? (x.flat(Number.POSITIVE_INFINITY) as number[]) : x));
}
