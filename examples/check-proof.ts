/**
 * A verifier that trusts nothing but a verification key: checks a receipt written by `verinfer demo --out DIR`
 * (or `verinfer infer`), with verinfer's `verifyReceipt` (proof + every stated field) and, to show the proof is
 * plain snarkjs, with `snarkjs.groth16.verify` directly.
 *
 * Run: `npm run example:check -- DIR` (DIR holds receipt.json and vkey.json). Exit 0 valid, 1 invalid.
 * In an application, import from "verinfer" instead of "../src/index.js".
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import { verifyReceipt } from "../src/index.js";

/** Checks DIR/receipt.json against DIR/vkey.json both ways; returns both verdicts. */
export async function main(dir: string): Promise<{ verinfer: boolean; reason?: string; snarkjs: boolean }> {
  const receipt = JSON.parse(readFileSync(path.join(dir, "receipt.json"), "utf8"));
  const vkey = JSON.parse(readFileSync(path.join(dir, "vkey.json"), "utf8"));
  const result = await verifyReceipt(receipt, { vkey });
  const raw = await snarkjs.groth16.verify(vkey, receipt.proof.publicSignals, receipt.proof.proof);
  return { verinfer: result.valid, ...(result.reason ? { reason: result.reason } : {}), snarkjs: raw };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: check-proof DIR   (DIR holds receipt.json and vkey.json)");
    process.exit(2);
  }
  main(dir).then(
    (r) => {
      console.log(JSON.stringify(r));
      process.exit(r.verinfer && r.snarkjs ? 0 : 1);
    },
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
