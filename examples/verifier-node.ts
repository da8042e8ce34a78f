/**
 * A verifier node. It trusts three things only: the addresses of the data nodes and inference nodes it accepts,
 * the model package it pins (its verification key and quantized network), and its own re-execution. Given what
 * `examples/data-node-flow.ts` produces, it checks
 *   (a) the attested receipt: signature, trusted signer, age, and the link to a trusted data attestation;
 *   (b) the zk receipt: its Groth16 proof against the verification key;
 *   (c) both receipts by bit-exact re-execution of the integer network with the input and salts;
 *   (d) that the two receipts state the same model, commitments and outputs.
 *
 * Run: `npm run example:verifier` (`tsc -p tsconfig.scripts.json && node build/examples/verifier-node.js`) — runs
 * the data-node flow for a bundle, verifies it, prints a table and a JSON line. Exit 0 all valid, 1 not, 2 error.
 * In an application, import from "verinfer" instead of "../src/index.js".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  loadModelPackage,
  type ModelPackage,
  type Receipt,
  type ReexecuteResult,
  reexecute,
  type VerifyResult,
  verifyReceipt,
} from "../src/index.js";
import { type DataNodeBundle, main as dataNodeFlow } from "./data-node-flow.js";

/** The verifier's own configuration: what it trusts. Never taken from the bundle it checks. */
export interface VerifierConfig {
  /** The model it accepts receipts for: its vkey checks proofs, its network re-executes. */
  modelPackage: ModelPackage;
  /** Inference nodes whose attested receipts it accepts. */
  trustedSigners: readonly string[];
  /** Data nodes whose data attestations it accepts. */
  trustedDataSigners: readonly string[];
  /** Reject attestations older than this many seconds; default one hour. */
  maxAge?: number;
}

/** A verdict without a check list. */
export interface Verdict {
  valid: boolean;
  reason?: string;
}

/** Every verdict of {@link main}; `valid` only when all of them are. */
export interface VerifierReport {
  valid: boolean;
  /** (a) the attested receipt, by signature and data attestation. */
  attested: VerifyResult;
  /** (b) the zk receipt, by its proof. */
  zk: VerifyResult;
  /** (c) the attested receipt, by re-execution. */
  reexecutedAttested: ReexecuteResult;
  /** (c) the zk receipt, by re-execution. */
  reexecutedZk: ReexecuteResult;
  /** (d) the two receipts state the same commitments and outputs. */
  sameCommitments: Verdict;
}

/** What the bundle must hold; the signer addresses in it are ignored (trust comes from {@link VerifierConfig}). */
export type VerifierInput = Pick<DataNodeBundle, "attested" | "zk" | "dataAttestation" | "input" | "salts">;

function sameCommitments(a: Receipt, b: Receipt): Verdict {
  const fields: [string, unknown, unknown][] = [
    ["model commitment", a.model.commitment, b.model.commitment],
    ["input commitment", a.input.commitment, b.input.commitment],
    ["output commitment", a.output.commitment, b.output.commitment],
    ["quantized outputs", a.output.quantized.join(), b.output.quantized.join()],
    ["data attestation", a.input.dataAttestation, b.input.dataAttestation],
  ];
  const differ = fields.find(([, x, y]) => x !== y);
  return differ ? { valid: false, reason: `${differ[0]} differs between the receipts` } : { valid: true };
}

/**
 * Verifies one bundle four ways and returns every verdict. A bundle that is well-formed but wrong gives
 * `valid: false` with reasons; a malformed one (not a receipt, salts not decimals) throws a `VerinferError`.
 */
export async function main(bundle: VerifierInput, config: VerifierConfig): Promise<VerifierReport> {
  const pkg = config.modelPackage;
  const maxAge = config.maxAge ?? 3600;
  // requireMode: a receipt of the wrong kind in either slot must not pass on the other slot's guarantee.
  const attested = await verifyReceipt(bundle.attested, {
    requireMode: "attest",
    modelPackage: pkg,
    trustedSigners: config.trustedSigners,
    trustedDataSigners: config.trustedDataSigners,
    dataAttestation: bundle.dataAttestation,
    maxAge,
  });
  // A bare vkey, as a verifier without the model's artifacts would hold; re-execution below pins the model.
  const zk = await verifyReceipt(bundle.zk, { requireMode: "zk", vkey: pkg.vkey });
  // Integer semantics: the same answer on every machine, so the verifier needs nobody's word for the outputs.
  const reexecutedAttested = await reexecute(bundle.attested, {
    modelPackage: pkg,
    input: bundle.input,
    salts: bundle.salts,
  });
  const reexecutedZk = await reexecute(bundle.zk, { modelPackage: pkg, input: bundle.input, salts: bundle.salts });
  const same = sameCommitments(bundle.attested, bundle.zk);
  const valid = attested.valid && zk.valid && reexecutedAttested.valid && reexecutedZk.valid && same.valid;
  return { valid, attested, zk, reexecutedAttested, reexecutedZk, sameCommitments: same };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  (async () => {
    const bundle = await dataNodeFlow();
    // A real verifier reads its trusted addresses and pinned model id from its own configuration; the example
    // trusts the two keys the flow just generated and the model it just used.
    const config: VerifierConfig = {
      modelPackage: await loadModelPackage(bundle.modelId),
      trustedSigners: [bundle.signers.inferenceNode],
      trustedDataSigners: [bundle.signers.dataNode],
    };
    return main(bundle, config);
  })().then(
    (report) => {
      const rows = [
        ["(a) attested receipt: signature + data", report.attested],
        ["(b) zk receipt: groth16 proof", report.zk],
        ["(c) attested receipt: re-execution", report.reexecutedAttested],
        ["(c) zk receipt: re-execution", report.reexecutedZk],
        ["(d) same commitments", report.sameCommitments],
      ] as const;
      console.table(rows.map(([check, v]) => ({ check, valid: v.valid, reason: v.reason ?? "" })));
      const reasons = Object.fromEntries(rows.filter(([, v]) => !v.valid).map(([check, v]) => [check, v.reason]));
      console.log(JSON.stringify({ valid: report.valid, ...(report.valid ? {} : { reasons }) }));
      process.exit(report.valid ? 0 : 1);
    },
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
