import type { Interface } from "ethers";
import { isVerinferError, VerinferError } from "../errors.js";

/** What a failed chain operation carries in `VerinferError.meta`. */
export interface ChainErrorMeta {
  /** The operation, e.g. `"submitProof"`. */
  action: string;
  /** ethers' error code (`CALL_EXCEPTION`, `NONCE_EXPIRED`, `REPLACEMENT_UNDERPRICED`, `NETWORK_ERROR`, …). */
  ethersCode?: string;
  /** The decoded custom error's name, e.g. `"ProofRejected"`. */
  reason?: string;
  /** The custom error's arguments, bigints as decimal strings. */
  args?: unknown[];
  /** Raw revert data when it could not be decoded. */
  data?: string;
  /** Transaction hash, when one was sent. */
  txHash?: string;
}

interface EthersLikeError {
  code?: string;
  data?: unknown;
  shortMessage?: string;
  message?: string;
  revert?: { name?: string; args?: unknown[] } | null;
  info?: { error?: { data?: unknown; message?: string } };
  error?: { data?: unknown; message?: string };
  receipt?: { hash?: string };
  transaction?: { hash?: string };
}

function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

function revertData(e: EthersLikeError): string | undefined {
  for (const candidate of [e.data, e.info?.error?.data, e.error?.data]) {
    if (typeof candidate === "string" && /^0x[0-9a-fA-F]*$/.test(candidate) && candidate.length >= 10) {
      return candidate;
    }
    const nested = (candidate as { data?: unknown } | undefined)?.data;
    if (typeof nested === "string" && /^0x[0-9a-fA-F]*$/.test(nested) && nested.length >= 10) return nested;
  }
  return undefined;
}

/**
 * Turns whatever an ethers call threw into a `VerinferError` with code `CHAIN_ERROR`: the decoded custom error
 * (`meta.reason`, `meta.args`) for reverts, ethers' code for nonce, fee, funds and network failures. A
 * `VerinferError` passes through unchanged.
 *
 * @example
 * ```ts
 * try { await registry.submitProof(...); } catch (e) { throw chainError(e, "submitProof", registry.interface); }
 * ```
 */
export function chainError(error: unknown, action: string, iface?: Interface): VerinferError {
  if (isVerinferError(error)) return error;
  const e = (error ?? {}) as EthersLikeError;
  const meta: ChainErrorMeta = { action };
  if (typeof e.code === "string") meta.ethersCode = e.code;
  const txHash = e.receipt?.hash ?? e.transaction?.hash;
  if (txHash) meta.txHash = txHash;
  if (e.revert?.name) {
    meta.reason = e.revert.name;
    meta.args = (e.revert.args ?? []).map(plain);
  } else {
    const data = revertData(e);
    if (data !== undefined) {
      const parsed = (() => {
        try {
          return iface?.parseError(data) ?? null;
        } catch {
          return null;
        }
      })();
      if (parsed) {
        meta.reason = parsed.name;
        meta.args = [...parsed.args].map(plain);
      } else {
        meta.data = data;
      }
    }
  }
  const what = meta.reason ?? e.shortMessage ?? e.message ?? String(error);
  return new VerinferError("CHAIN_ERROR", `${action} failed: ${what}`, {
    cause: error,
    meta: meta as unknown as Record<string, unknown>,
  });
}
