import { readFile } from "node:fs/promises";
import { Wallet } from "ethers";
import { VerinferError } from "../errors.js";

/** Environment variable the CLI reads a signing key from when no `--key-file` is given. */
export const KEY_ENV = "VERINFER_PRIVATE_KEY";

/**
 * Loads a signing key from a file (hex, optional 0x, surrounding whitespace ignored) or from
 * `VERINFER_PRIVATE_KEY` — never from a command-line argument, which other users of the machine can read.
 *
 * @throws VerinferError `INVALID_OPTIONS` when neither is given or the key is not a secp256k1 private key.
 */
export async function loadSigner(keyFile: string | undefined): Promise<Wallet> {
  let key: string | undefined;
  if (keyFile) {
    try {
      key = (await readFile(keyFile, "utf8")).trim();
    } catch (cause) {
      throw new VerinferError("ARTIFACT_MISSING", `cannot read key file ${keyFile}`, { cause });
    }
  } else {
    key = process.env[KEY_ENV]?.trim();
  }
  if (!key) throw new VerinferError("INVALID_OPTIONS", `a signing key is needed: --key-file <file> or ${KEY_ENV}`);
  try {
    return new Wallet(key.startsWith("0x") ? key : `0x${key}`);
  } catch (cause) {
    throw new VerinferError("INVALID_OPTIONS", "the signing key is not a 32-byte hex private key", { cause });
  }
}
