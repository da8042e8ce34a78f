import * as snarkjs from "snarkjs";
import { quantizationHash } from "./attest/attest-data.js";
import { type EasDomainOptions, verifyOffchainAttestation } from "./attest/eas-offchain.js";
import {
  DATA_SCHEMA_UID,
  decodeDataAttestationData,
  decodeInferenceData,
  INFERENCE_SCHEMA_UID,
} from "./attest/eas-schemas.js";
import { modelIdFromCommitment } from "./attest/model-commitment.js";
import { outputHash } from "./attest/output-hash.js";
import { type Receipt, type ReceiptMode, ReceiptSchema } from "./attest/receipt.js";
import { VerinferError } from "./errors.js";
import { FIELD_PRIME, fromField } from "./field.js";
import { setupTrustCheck } from "./setup-trust-check.js";
import type { ModelPackage } from "./storage/model-package.js";

/** Options of {@link verifyReceipt}. */
export interface VerifyReceiptOptions {
  /** snarkjs verification key JSON (zk receipts). */
  vkey?: Record<string, unknown>;
  /** The model package; stricter than a bare vkey: also checks model id, scale and shapes. */
  modelPackage?: ModelPackage;
  /**
   * Accept only a package whose ptau is a pinned public ceremony file and whose zkey was verified against its
   * r1cs and that ptau (set up in this cache, or `verifyPackage` passed); needs `modelPackage`. See
   * `setupTrustCheck` for what this covers and what it does not.
   */
  requireCeremony?: boolean;
  /** Addresses whose inference attestations are accepted (required for attest receipts). */
  trustedSigners?: readonly string[];
  /** Addresses whose data attestations are accepted (required with `dataAttestation`). */
  trustedDataSigners?: readonly string[];
  /** The data node's attestation of the receipt's input. */
  dataAttestation?: unknown;
  /** Accept only these modes. */
  requireMode?: ReceiptMode | readonly ReceiptMode[];
  /** Reject attestations older than this many seconds. */
  maxAge?: number;
  /** EIP-712 domain the attestations must use (default `DEFAULT_EAS_DOMAIN`). */
  domain?: EasDomainOptions;
  /** Clock for expiry checks (tests); default now. */
  now?: Date;
}

/** One check {@link verifyReceipt} ran. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** Outcome of {@link verifyReceipt}: `reason` is the first failed check's explanation. */
export interface VerifyResult {
  valid: boolean;
  reason?: string;
  checks: VerifyCheck[];
}

/** Fields every receipt states about its outputs, whatever its mode. */
function statedOutputs(r: Receipt): string | undefined {
  if (r.model.id !== modelIdFromCommitment(BigInt(r.model.commitment))) return "model id does not match its commitment";
  const n = r.output.quantized.length;
  const shapeSize = r.output.shape.reduce((a, b) => a * b, 1);
  if (shapeSize !== n || r.output.values.length !== n || r.output.float.length !== n) {
    return "output shape, values and quantized outputs disagree in length";
  }
  for (let j = 0; j < n; j++) {
    const q = BigInt(r.output.quantized[j] as string);
    if (r.output.values[j] !== Number(q) / 2 ** r.output.fracBits)
      return `output value ${j} is not the dequantized output`;
  }
  const err = Math.max(...r.output.values.map((v, j) => Math.abs(v - (r.output.float[j] as number))));
  if (err !== r.output.maxAbsError) return "maxAbsError does not match the stated float and proven outputs";
  return undefined;
}

function publicSignals(r: Receipt): string | undefined {
  const proof = r.proof;
  if (!proof) return "zk receipt without a proof";
  const ps = proof.publicSignals.map(BigInt);
  if (ps.some((s) => s >= FIELD_PRIME)) return "a public signal is not a field element";
  const n = r.output.quantized.length;
  if (ps.length !== 3 + n) return `proof has ${ps.length} public signals, receipt states ${n} outputs`;
  if (BigInt(r.model.commitment) !== ps[0]) return "model commitment differs from the proof's";
  if (BigInt(r.input.commitment) !== ps[1]) return "input commitment differs from the proof's";
  if (BigInt(r.output.commitment) !== ps[2]) return "output commitment differs from the proof's";
  for (let j = 0; j < n; j++) {
    if (BigInt(r.output.quantized[j] as string) !== fromField(ps[3 + j] as bigint)) {
      return `quantized output ${j} differs from the proof's`;
    }
  }
  return undefined;
}

async function zkProof(r: Receipt, vkey: Record<string, unknown>): Promise<string | undefined> {
  const proof = r.proof;
  if (!proof) return "zk receipt without a proof";
  if (vkey.nPublic !== proof.publicSignals.length) {
    return `vkey expects ${vkey.nPublic} public signals, the proof has ${proof.publicSignals.length}`;
  }
  try {
    const ok = await snarkjs.groth16.verify(vkey, proof.publicSignals, proof.proof);
    return ok ? undefined : "groth16 proof does not verify against the verification key";
  } catch (cause) {
    return `proof could not be checked: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

function attestedFields(r: Receipt): string | undefined {
  const att = r.attestation;
  if (!att) return "attest receipt without an attestation";
  let d: ReturnType<typeof decodeInferenceData>;
  try {
    d = decodeInferenceData(att.sig.message.data as string);
  } catch {
    return "attestation data is not an inference attestation";
  }
  if (d.modelId.toLowerCase() !== r.model.id) return "attested model id differs from the receipt's";
  if (d.modelCommitment !== BigInt(r.model.commitment)) return "attested model commitment differs from the receipt's";
  if (d.inputCommitment !== BigInt(r.input.commitment)) return "attested input commitment differs from the receipt's";
  if (d.outputCommitment !== BigInt(r.output.commitment))
    return "attested output commitment differs from the receipt's";
  if (d.outputHash.toLowerCase() !== outputHash(r.output.quantized, r.output.fracBits)) {
    return "attested output hash differs from the receipt's outputs";
  }
  if (d.mode !== r.mode) return "attested mode differs from the receipt's";
  if (d.backend !== r.backend) return "attested backend differs from the receipt's";
  return undefined;
}

/**
 * Verifies a receipt of any mode and lists every check it ran:
 * - `zk`: the Groth16 proof with the real snarkjs verifier, and every stated field against the public signals;
 * - `attest`: the EAS attestation (signature, uid, schema, domain, trusted signer, age) and every commitment in
 *   it against the receipt;
 * - `none`: carries no guarantee of its own — reported invalid with a pointer to {@link reexecute};
 * - with `dataAttestation`: the data node's attestation, its commitment against the receipt's input, and the
 *   inference attestation's `refUID` against it.
 *
 * A malformed receipt throws; a well-formed one that fails returns `{ valid: false, reason, checks }`.
 *
 * @throws VerinferError `MALFORMED_RECEIPT` (schema), `INVALID_OPTIONS` (no vkey/package for a zk receipt, no
 *   trustedSigners for an attest receipt, no trustedDataSigners with a dataAttestation).
 * @example
 * ```ts
 * const { valid, reason, checks } = await verifyReceipt(receipt, { vkey });
 * ```
 */
export async function verifyReceipt(receipt: unknown, options: VerifyReceiptOptions = {}): Promise<VerifyResult> {
  const parsed = ReceiptSchema.safeParse(receipt);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", "receipt does not match verinfer/receipt@1", {
      details: parsed.error.message,
    });
  }
  const r = parsed.data;
  const pkg = options.modelPackage;
  const vkey = options.vkey ?? pkg?.vkey;
  if (r.mode === "zk") {
    if (!vkey || typeof vkey !== "object")
      throw new VerinferError("INVALID_OPTIONS", "verifyReceipt needs a vkey or a modelPackage");
    if (vkey.protocol !== "groth16" || typeof vkey.nPublic !== "number") {
      throw new VerinferError("INVALID_OPTIONS", "vkey is not a snarkjs groth16 verification key");
    }
  }
  if (r.mode === "attest" && !options.trustedSigners?.length) {
    throw new VerinferError("INVALID_OPTIONS", "an attest receipt is only as good as its signer: pass trustedSigners");
  }
  if (options.dataAttestation !== undefined && !options.trustedDataSigners?.length) {
    throw new VerinferError("INVALID_OPTIONS", "a dataAttestation needs trustedDataSigners");
  }
  const now = BigInt(Math.floor((options.now ?? new Date()).getTime() / 1000));

  const checks: VerifyCheck[] = [];
  const check = (name: string, failure: string | undefined) => {
    checks.push(failure === undefined ? { name, ok: true } : { name, ok: false, detail: failure });
  };
  const attestationChecks = (prefix: string, att: unknown, schema: string, signers: readonly string[] | undefined) => {
    const result = verifyOffchainAttestation(att, {
      schema,
      trustedSigners: [...(signers ?? [])],
      now,
      ...(options.domain ? { domain: options.domain } : {}),
      ...(options.maxAge !== undefined ? { maxAgeSeconds: options.maxAge } : {}),
    });
    for (const c of result.checks) checks.push({ ...c, name: `${prefix}: ${c.name}` });
  };
  const modes = options.requireMode === undefined ? undefined : ([] as ReceiptMode[]).concat(options.requireMode);
  if (modes) check("mode", modes.includes(r.mode) ? undefined : `mode "${r.mode}" is not one of ${modes.join(", ")}`);
  // Earned, never read from the manifest's label: pinned ceremony ptau + zkey verified here (setup-trust-check.ts).
  if (options.requireCeremony) checks.push(await setupTrustCheck(pkg));
  check("stated outputs", statedOutputs(r));
  if (pkg) {
    check(
      "model package",
      r.model.id !== pkg.id || r.model.commitment !== pkg.manifest.commitments.model
        ? "receipt is for another model than the package"
        : r.output.fracBits !== pkg.manifest.quantization.output.fracBits
          ? "output scale differs from the model's"
          : r.input.shape.join() !== pkg.manifest.architecture.inputShape.join()
            ? "input shape differs from the model's"
            : undefined,
    );
  }

  if (r.mode === "zk") {
    const signals = publicSignals(r);
    check("public signals", signals);
    if (signals === undefined) check("groth16 proof", await zkProof(r, vkey as Record<string, unknown>));
  } else if (r.mode === "attest") {
    attestationChecks("attestation", r.attestation, INFERENCE_SCHEMA_UID, options.trustedSigners);
    check("attested fields", attestedFields(r));
  } else {
    check("guarantee", 'a "none" receipt carries no proof or attestation; check it with reexecute()');
  }

  if (options.dataAttestation !== undefined) {
    attestationChecks("data attestation", options.dataAttestation, DATA_SCHEMA_UID, options.trustedDataSigners);
    const sig = (options.dataAttestation as { sig: { uid: string; message: { data: string } } }).sig;
    let decoded: ReturnType<typeof decodeDataAttestationData> | undefined;
    try {
      decoded = decodeDataAttestationData(sig.message.data);
    } catch {
      decoded = undefined;
    }
    const commitment = decoded?.commitment;
    if (pkg) {
      check(
        "data quantization",
        decoded?.quantizationHash.toLowerCase() === quantizationHash(pkg.network)
          ? undefined
          : "data attestation was made for another input quantization than the model's",
      );
    }
    check(
      "data commitment",
      commitment === BigInt(r.input.commitment) ? undefined : "data attestation commits to another input",
    );
    check(
      "data link",
      r.input.dataAttestation !== undefined && r.input.dataAttestation.toLowerCase() !== sig.uid.toLowerCase()
        ? "receipt names another data attestation"
        : r.attestation && String(r.attestation.sig.message.refUID).toLowerCase() !== sig.uid.toLowerCase()
          ? "inference attestation's refUID does not point to the data attestation"
          : undefined,
    );
  }

  const failed = checks.find((c) => !c.ok);
  return failed ? { valid: false, reason: failed.detail ?? failed.name, checks } : { valid: true, checks };
}
