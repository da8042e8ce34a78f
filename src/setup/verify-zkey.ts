import * as snarkjs from "snarkjs";
import type { OnProgress } from "../util/progress.js";

/** One Groth16 phase-2 contribution, as the zkey records it. */
export interface ZkeyContribution {
  /** The contributor's name (may be empty). */
  name: string;
  /** snarkjs's contribution hash, lower-case hex (128 digits). */
  hash: string;
}

/** Parameters of {@link verifyZkey}. */
export interface VerifyZkeyParams {
  r1cs: Uint8Array;
  /** Path of the phase-2-prepared ptau file the zkey must come from. */
  ptauFile: string;
  zkey: Uint8Array;
  onProgress?: OnProgress;
}

/** Result of {@link verifyZkey}. */
export interface ZkeyVerification {
  valid: boolean;
  /** Why it is invalid, as snarkjs said. */
  reason?: string;
  /** The zkey's contribution chain, first contribution first (empty when invalid). */
  contributions: ZkeyContribution[];
}

// snarkjs logs each verified contribution as "contribution #<i> <name>:" followed by formatHash's four
// tab-indented lines of four 8-digit hex words.
const CONTRIBUTION = /^contribution #(\d+) (.*):\n((?:\s*[0-9a-f]{8}){16})\s*$/;

/**
 * Verifies a Groth16 zkey against the circuit's r1cs and the ptau (snarkjs `zkey verify`): it re-derives the
 * initial zkey from r1cs + ptau, checks every phase-2 contribution in the chain (transcript, same-ratio
 * proofs) and that the final key follows from them. Returns the contributions it verified.
 *
 * Never throws for a zkey that fails: a zkey of another circuit, a broken chain or an unreadable file are
 * `{ valid: false, reason }`.
 *
 * @example
 * ```ts
 * const { valid, contributions } = await verifyZkey({ r1cs, ptauFile, zkey });
 * ```
 */
export async function verifyZkey(params: VerifyZkeyParams): Promise<ZkeyVerification> {
  const found = new Map<number, ZkeyContribution>();
  let lastError: string | undefined;
  const logger = {
    debug: () => {},
    info: (message: string) => {
      const m = CONTRIBUTION.exec(message);
      if (m) {
        found.set(Number(m[1]), { name: m[2] as string, hash: (m[3] as string).replace(/\s+/g, "") });
      } else {
        params.onProgress?.({ stage: "audit", message: message.split("\n")[0] as string });
      }
    },
    warn: (message: string) => params.onProgress?.({ stage: "audit", message }),
    error: (message: string) => {
      lastError = message;
    },
  };
  let ok: boolean;
  try {
    ok = await snarkjs.zKey.verifyFromR1cs(
      { type: "mem", data: params.r1cs },
      params.ptauFile,
      { type: "mem", data: params.zkey },
      logger,
    );
  } catch (cause) {
    return {
      valid: false,
      reason: `zkey could not be checked: ${cause instanceof Error ? cause.message : String(cause)}`,
      contributions: [],
    };
  }
  if (!ok) {
    return { valid: false, reason: lastError ?? "zkey does not follow from the r1cs and ptau", contributions: [] };
  }
  const contributions: ZkeyContribution[] = [];
  for (let i = 1; found.has(i); i++) contributions.push(found.get(i) as ZkeyContribution);
  if (contributions.length !== found.size) {
    return { valid: false, reason: "could not read the zkey's contribution chain", contributions: [] };
  }
  return { valid: true, contributions };
}
