import { type Receipt, ReceiptSchema } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { getJson, putJson } from "../storage/json-objects.js";
import type { Storage } from "../storage/storage.js";

/**
 * Stores a receipt as canonical JSON and returns its CID. The same receipt always gets the same CID, and a
 * CID names exactly one receipt, so the CID is a tamper-evident handle to hand out or put on chain.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` when `receipt` is not a `verinfer/receipt@2`.
 * @example
 * ```ts
 * const { receipt } = await verifiableInfer(pkg, input);
 * const cid = await storeReceipt(storage, receipt); // "bafkrei…"
 * ```
 */
export async function storeReceipt(storage: Storage, receipt: Receipt): Promise<string> {
  const parsed = ReceiptSchema.safeParse(receipt);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", "not a verinfer/receipt@2", { details: parsed.error.message });
  }
  return putJson(storage, parsed.data);
}

/**
 * Loads and parses a stored receipt.
 *
 * @throws VerinferError `INVALID_INPUT` (malformed CID), `ARTIFACT_MISSING`, or `ARTIFACT_CORRUPT` when the
 *   object is damaged or is not a receipt.
 * @example
 * ```ts
 * const receipt = await loadReceipt(storage, cid);
 * const { valid } = await verifyReceipt(receipt, { modelPackage: pkg });
 * ```
 */
export async function loadReceipt(storage: Storage, cid: string): Promise<Receipt> {
  const parsed = ReceiptSchema.safeParse(await getJson(storage, cid));
  if (!parsed.success) {
    throw new VerinferError("ARTIFACT_CORRUPT", `object ${cid} is not a verinfer/receipt@2`, {
      details: parsed.error.message,
    });
  }
  return parsed.data;
}
