import { readFile } from "node:fs/promises";
import { VerinferError } from "../errors.js";

/** Reads and parses a JSON file; a missing or unparsable file is a typed error. */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new VerinferError("ARTIFACT_MISSING", `cannot read ${what} ${file}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new VerinferError("INVALID_INPUT", `${what} ${file} is not valid JSON`, { cause });
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
