import { quantizationHash } from "../attest/attest-data.js";
import { type EasDomainOptions, SharedAttestationSchema, verifyOffchainAttestation } from "../attest/eas-offchain.js";
import {
  DATA_SCHEMA_UID,
  decodeDataAttestationData,
  decodeInferenceData,
  INFERENCE_SCHEMA_UID,
} from "../attest/eas-schemas.js";
import { type ModelIo, modelCommitmentOf, modelIdFromCommitment } from "../attest/model-commitment.js";
import { outputHash } from "../attest/output-hash.js";
import { RECEIPT_FORMAT, type Receipt, type ReceiptMode, ReceiptSchema } from "../attest/receipt.js";
import { vkeyCid } from "../attest/vkey-cid.js";
import { unrefIdleCurveWorkers } from "../circuits/unref-idle-curve-workers.js";
import { VerinferError } from "../errors.js";
import { findAuditRecord } from "../package/audit-record.js";
import type { ModelPackage } from "../package/model-package.js";
import { setupTrustCheck } from "../package/setup-trust-check.js";
import { PROOF_SYSTEMS } from "../proof-systems/proof-system.js";
import { PROOF_SYSTEM_MODULES, proofSystemModule } from "../proof-systems/systems.js";
import { verifySnarkProof } from "../proof-systems/verify-snark-proof.js";
import { FIELD_PRIME, fromField } from "../util/field.js";
import { parseStrictJson } from "../util/parse-strict-json.js";

/** Options of {@link verifyReceipt}. */
export interface VerifyReceiptOptions {
  /**
   * snarkjs verification key JSON (zk receipts), from a source you trust: a valid proof means only what the
   * circuit behind this key computes. With `modelPackage` too it must be the package's own key (else
   * `INVALID_OPTIONS`).
   */
  vkey?: Record<string, unknown>;
  /** The model package: proofs are checked against its key, and the receipt must name its model and key. */
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

/** A receipt field that `valid: true` does not vouch for, and why. */
export interface UnverifiedField {
  field: string;
  why: string;
}

/**
 * Outcome of {@link verifyReceipt}: `reason` is the first failed check's explanation. `valid: true` vouches for
 * every field of the receipt except those listed in `unverified`.
 */
export interface VerifyResult {
  valid: boolean;
  reason?: string;
  checks: VerifyCheck[];
  unverified: UnverifiedField[];
}

/** The I/O format a receipt states: recomputing the model commitment from it binds it. */
function statedIo(r: Receipt): ModelIo {
  return {
    inputShape: r.input.shape,
    input: {
      bits: r.input.quantization.bits,
      fracBits: r.input.quantization.fracBits,
      lo: BigInt(r.input.quantization.lo),
      ...(r.input.quantization.featureFracBits ? { featureFracBits: r.input.quantization.featureFracBits } : {}),
    },
    outputShape: r.output.shape,
    output: { width: r.output.width, fracBits: r.output.fracBits },
    head: r.output.class === undefined ? "none" : r.output.head === "sigmoid" ? "sign" : "argmax",
  };
}

/**
 * The statement a receipt makes, checked for consistency with its own model commitment: the commitment
 * recomputed from the stated I/O format and network commitment, the id from the commitment, every output in
 * its stated width, the values dequantized from the integers, the error bound from values and floats.
 * Whatever then matches the proof's (or the attestation's) model commitment is bound by it.
 */
async function statedStatement(r: Receipt): Promise<string | undefined> {
  if (r.model.id !== modelIdFromCommitment(BigInt(r.model.commitment))) return "model id does not match its commitment";
  const commitment = await modelCommitmentOf({ io: statedIo(r), network: BigInt(r.model.network) });
  if (commitment !== BigInt(r.model.commitment)) {
    return "the stated input/output format and network do not hash to the model commitment";
  }
  const n = r.output.quantized.length;
  const shapeSize = r.output.shape.reduce((a, b) => a * b, 1);
  if (shapeSize !== n || r.output.values.length !== n || r.output.float.length !== n) {
    return "output shape, values and quantized outputs disagree in length";
  }
  const half = 1n << BigInt(r.output.width - 1);
  for (let j = 0; j < n; j++) {
    const q = BigInt(r.output.quantized[j] as string);
    if (q < -half || q >= half) return `quantized output ${j} does not fit the stated output width`;
    if (r.output.values[j] !== Number(q) / 2 ** r.output.fracBits)
      return `output value ${j} is not the dequantized output`;
  }
  const err = Math.max(...r.output.values.map((v, j) => Math.abs(v - (r.output.float[j] as number))));
  if (err !== r.output.maxAbsError) return "maxAbsError does not match the stated float and proven outputs";
  if (r.output.head === "sigmoid") {
    // The class is the logit's sign, which the sigmoid's table does not show exactly: the proof's signal binds it.
    if (n !== 1 || (r.output.class !== 0 && r.output.class !== 1)) {
      return "a sigmoid head's receipt states one output and a class of 0 or 1";
    }
    if (r.output.probabilities !== undefined) return "a sigmoid head's receipt states no probabilities";
  } else if (r.output.class !== undefined) {
    let best = 0;
    for (let j = 1; j < n; j++)
      if (BigInt(r.output.quantized[j] as string) > BigInt(r.output.quantized[best] as string)) best = j;
    if (r.output.class !== best) return "the stated class is not the argmax of the quantized outputs";
    if (r.output.probabilities === undefined || r.output.probabilities.length !== n) {
      return "a softmax head's receipt states one probability per output";
    }
  } else if (r.output.probabilities !== undefined) {
    return "probabilities without a class: only a softmax head's receipt states them";
  }
  return undefined;
}

function publicSignals(r: Receipt): string | undefined {
  const proof = r.proof;
  if (!proof) return "zk receipt without a proof";
  const ps = proof.publicSignals.map(BigInt);
  if (ps.some((s) => s >= FIELD_PRIME)) return "a public signal is not a field element";
  const n = r.output.quantized.length;
  const head = r.output.class === undefined ? 0 : 1;
  if (ps.length !== 3 + n + head) {
    return `proof has ${ps.length} public signals, receipt states ${n} outputs${head ? " and a class" : ""}`;
  }
  if (head && BigInt(r.output.class as number) !== ps[3 + n]) return "the stated class differs from the proof's";
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

/** The receipt's proof system against the key's: a proof is only checked by a verifier of its own system. */
function proofSystem(r: Receipt, vkey: Record<string, unknown>): string | undefined {
  const system = r.proof?.system;
  return system === vkey.protocol
    ? undefined
    : `the receipt claims a ${String(system)} proof, the verification key is ${String(vkey.protocol)}`;
}

async function zkProof(r: Receipt, vkey: Record<string, unknown>): Promise<string | undefined> {
  const proof = r.proof;
  if (!proof) return "zk receipt without a proof";
  if (vkey.nPublic !== proof.publicSignals.length) {
    return `vkey expects ${vkey.nPublic} public signals, the proof has ${proof.publicSignals.length}`;
  }
  unrefIdleCurveWorkers();
  try {
    const ok = await verifySnarkProof({
      system: proof.system,
      vkey,
      publicSignals: proof.publicSignals,
      proof: proof.proof,
    });
    return ok ? undefined : `${proof.system} proof does not verify against the verification key`;
  } catch (cause) {
    return `proof could not be checked: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
}

/** Why a receipt's key is not the one given, in words that say what happened and what to verify with instead. */
function keyMismatch(proven: string, given: string, pkg: ModelPackage | undefined): string {
  const fix = `verify with the package of key ${proven} (\`loadModelPackage("${proven}")\` finds it in the cache that proved it; \`verinfer verify\` looks it up by itself) or with that vkey.json`;
  if (!pkg) return `the receipt was proven with verification key ${proven}, not with the key given (${given}): ${fix}`;
  const contributions = pkg.manifest.setup.contributions.length;
  const changed =
    contributions > 1
      ? `its setup has ${contributions} phase-2 contributions, and each contribution (\`verinfer setup contribute\`) makes a new key, so a receipt proven before the last one names an earlier key`
      : "it is another setup of the same model (a recompile with another ptau or proof system, or before a contribution)";
  return `the receipt was proven with verification key ${proven}; package ${pkg.id.slice(0, 10)}… has key ${given}: ${changed}. ${fix}`;
}

const ZERO_UID = `0x${"0".repeat(64)}`;

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
  const ref = String(att.sig.message.refUID ?? ZERO_UID).toLowerCase();
  if ((r.input.dataAttestation ?? ZERO_UID).toLowerCase() !== ref) {
    return "the receipt's input.dataAttestation is not the attestation's refUID";
  }
  return undefined;
}

/** The data node's attestation against the receipt's input: format, shape, commitment, link. */
function dataChecks(r: Receipt, att: unknown, check: (name: string, failure: string | undefined) => void): void {
  const sig = (att as { sig?: { uid?: unknown; message?: { data?: unknown } } }).sig;
  let decoded: ReturnType<typeof decodeDataAttestationData> | undefined;
  try {
    decoded = decodeDataAttestationData(sig?.message?.data as string);
  } catch {
    decoded = undefined;
  }
  if (!decoded) {
    check("data attestation fields", "data attestation data is not a verinfer data attestation");
    return;
  }
  const size = r.input.shape.reduce((a, b) => a * b, 1);
  const expected = quantizationHash({
    bits: r.input.quantization.bits,
    fracBits: r.input.quantization.fracBits,
    lo: BigInt(r.input.quantization.lo),
    size,
    ...(r.input.quantization.featureFracBits ? { featureFracBits: r.input.quantization.featureFracBits } : {}),
  });
  check(
    "data quantization",
    decoded.quantizationHash.toLowerCase() === expected
      ? undefined
      : "data attestation was made for another input quantization than the receipt's model",
  );
  let shape: unknown;
  try {
    shape = parseStrictJson(decoded.shape);
  } catch {
    shape = undefined;
  }
  // Element by element, as numbers: joined text would take [[16]] or ["16"] for [16].
  const dims = Array.isArray(shape) && shape.every((d) => Number.isInteger(d)) ? (shape as number[]) : undefined;
  const shapeOk =
    dims !== undefined &&
    ((dims.length === r.input.shape.length && dims.every((d, i) => d === r.input.shape[i])) ||
      (dims.length === 1 && dims[0] === size));
  check("data shape", shapeOk ? undefined : `data attestation's shape ${decoded.shape} is not the model's input shape`);
  check(
    "data commitment",
    decoded.commitment === BigInt(r.input.commitment) ? undefined : "data attestation commits to another input",
  );
  const uid = String(sig?.uid ?? "").toLowerCase();
  check(
    "data link",
    r.input.dataAttestation !== undefined && r.input.dataAttestation.toLowerCase() !== uid
      ? "receipt names another data attestation"
      : r.attestation && String(r.attestation.sig.message.refUID).toLowerCase() !== uid
        ? "inference attestation's refUID does not point to the data attestation"
        : undefined,
  );
}

/** Paths present in `raw` that a schema dropped from `parsed`: stated, but no part of the format. */
function strippedPaths(raw: unknown, parsed: unknown, at: string, out: string[]): string[] {
  if (raw === null || typeof raw !== "object" || parsed === null || typeof parsed !== "object") return out;
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const path = at ? `${at}.${key}` : key;
    if (!Object.hasOwn(parsed, key)) out.push(path);
    else strippedPaths(value, (parsed as Record<string, unknown>)[key], path, out);
  }
  return out;
}

/**
 * Fields of the receipt as given that no check reads: keys receipt@2 does not define (the schema strips them),
 * and keys inside the attestation that are not part of what EAS signs.
 */
function undefinedFields(raw: unknown, r: Receipt): UnverifiedField[] {
  const out = strippedPaths(raw, r, "", []).map((field) => ({
    field,
    why: `not a ${RECEIPT_FORMAT} field: dropped before any check`,
  }));
  const att = SharedAttestationSchema.safeParse(r.attestation);
  if (att.success) {
    for (const field of strippedPaths(r.attestation, att.data, "attestation", [])) {
      out.push({ field, why: "not part of the signed EAS attestation" });
    }
  }
  return out;
}

/** What `valid: true` does not vouch for under these options: stated, but bound by neither proof nor signature. */
function unverifiedFields(
  r: Receipt,
  options: VerifyReceiptOptions,
  keyChecked: boolean,
  keyAudited: boolean,
): UnverifiedField[] {
  const out: UnverifiedField[] = [
    { field: "output.float", why: "the tfjs float outputs are the fast answer; only the integer outputs are proven" },
    { field: "output.maxAbsError", why: "computed from output.float, which is not proven" },
    ...(r.output.probabilities === undefined
      ? []
      : [{ field: "output.probabilities", why: "the softmax of output.float: float probabilities, not proven" }]),
    { field: "timings", why: "measured and stated by the node that made the receipt" },
    { field: "createdAt", why: "the node's own clock" },
  ];
  if (r.mode !== "attest") out.push({ field: "backend", why: "which tfjs backend ran is not part of the proof" });
  // A receipt of one mode may carry the other mode's guarantee too; only its own mode's is checked.
  if (r.mode !== "attest" && r.attestation !== undefined) {
    out.push({
      field: "attestation",
      why: `a ${r.mode} receipt's attestation is not checked (only attest receipts' are)`,
    });
  }
  if (r.mode !== "zk" && r.proof !== undefined) {
    out.push({ field: "proof", why: `a ${r.mode} receipt's proof is not checked (only zk receipts' are)` });
  }
  if (r.input.dataAttestation !== undefined && options.dataAttestation === undefined && r.mode !== "attest") {
    out.push({
      field: "input.dataAttestation",
      why: "the data attestation it names was not checked (pass dataAttestation and trustedDataSigners)",
    });
  }
  if (!keyChecked && r.model.vkey !== undefined) {
    out.push({ field: "model.vkey", why: "no verification key was used for this receipt" });
  }
  if (r.mode === "zk" && !keyAudited) {
    out.push({
      field: "circuit",
      why: options.modelPackage
        ? "the package's key was not audited against its network here (verifyPackage / `verinfer audit`): a valid " +
          "proof means only what the key's circuit computes"
        : "a bare vkey is the caller's to trust: nothing here ties its circuit to model.network",
    });
  }
  if (r.mode === "zk" && !options.requireCeremony) {
    out.push({
      field: "setup",
      why: "a proof is only as sound as its key's setup; pass requireCeremony (with an audited package) to check it",
    });
  }
  return out;
}

/**
 * Verifies a receipt of any mode and lists every check it ran:
 * - every mode: the receipt's own statement — the model commitment recomputed from the stated input/output
 *   format (shapes, quantization, output width and scale) and network commitment, the id, each output within its
 *   width, values dequantized from the integers;
 * - `zk`: the proof (Groth16, PLONK or FFLONK: the receipt's `proof.system` must be the key's `protocol`) with
 *   the real snarkjs verifier against the package's key (or the caller's `vkey`),
 *   the receipt's named key against it, and every stated field against the public signals — so with nothing but
 *   a trusted vkey the output scale and input quantization are bound too;
 * - `attest`: the EAS attestation (signature, uid, schema, domain, trusted signer, age) and every commitment in
 *   it against the receipt;
 * - `none`: carries no guarantee of its own — reported invalid with a pointer to {@link reexecute};
 * - with `dataAttestation`: the data node's attestation, its input quantization and shape against the
 *   receipt's (bound) format, its commitment against the receipt's input, and the links between them.
 *
 * `valid: true` vouches for every field except those listed in `unverified`. A malformed receipt throws; a
 * well-formed one that fails returns `{ valid: false, reason, checks, unverified }`. Pass the receipt's JSON text
 * (a string) rather than a parsed object to have a key written twice refused (`JSON.parse` keeps the last).
 *
 * @throws VerinferError `MALFORMED_RECEIPT` (schema), `INVALID_OPTIONS` (no vkey/package for a zk receipt, a
 *   vkey that is not the package's, no trustedSigners for an attest receipt, no trustedDataSigners with a
 *   dataAttestation).
 * @example
 * ```ts
 * const { valid, reason, checks, unverified } = await verifyReceipt(receipt, { modelPackage: pkg });
 * ```
 */
export async function verifyReceipt(receipt: unknown, options: VerifyReceiptOptions = {}): Promise<VerifyResult> {
  // A receipt passed as its JSON text is parsed strictly: a key written twice (JSON.parse keeps the last) is
  // malformed, not silently one of two receipts.
  let json = receipt;
  if (typeof receipt === "string") {
    try {
      json = parseStrictJson(receipt);
    } catch (cause) {
      throw new VerinferError("MALFORMED_RECEIPT", "the receipt is not valid JSON", {
        cause,
        details: cause instanceof Error ? cause.message : String(cause),
      });
    }
  }
  const parsed = ReceiptSchema.safeParse(json);
  if (!parsed.success) {
    throw new VerinferError("MALFORMED_RECEIPT", `receipt does not match ${RECEIPT_FORMAT}`, {
      details: parsed.error.issues.map((i) => `${i.path.join(".") || "receipt"}: ${i.message}`).join("; "),
    });
  }
  const r = parsed.data;
  const pkg = options.modelPackage;
  const callerKeyCid = options.vkey !== undefined && pkg !== undefined ? vkeyCid(options.vkey) : undefined;
  if (pkg !== undefined && callerKeyCid !== undefined && callerKeyCid !== pkg.vkeyCid) {
    throw new VerinferError(
      "INVALID_OPTIONS",
      "the vkey is not the model package's: a package's proofs are checked against its own key only",
      { details: `vkey ${callerKeyCid}, package ${pkg.vkeyCid}` },
    );
  }
  const vkey = pkg?.vkey ?? options.vkey;
  if (r.mode === "zk") {
    if (!vkey || typeof vkey !== "object")
      throw new VerinferError(
        "INVALID_OPTIONS",
        "verifyReceipt needs the model's package or its vkey to check a zk receipt",
        {
          details: r.model.vkey
            ? `the receipt was proven for vkey ${r.model.vkey}; get it (or the package, \`verinfer export\`) from the model's publisher`
            : undefined,
        },
      );
    // The key's shape for its own protocol: a Groth16 key relabelled "plonk" is no PLONK key.
    // An unknown protocol is refused here, never checked against another system's shape.
    const shape = Object.hasOwn(PROOF_SYSTEM_MODULES, String(vkey.protocol))
      ? proofSystemModule(vkey.protocol).vkeySchema.safeParse(vkey)
      : undefined;
    if (!shape?.success) {
      throw new VerinferError(
        "INVALID_OPTIONS",
        `vkey is not a snarkjs verification key of ${PROOF_SYSTEMS.join(", ")} (bn128)`,
        { details: shape ? shape.error.message : `unknown protocol ${String(vkey.protocol)}` },
      );
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
  check("statement", await statedStatement(r));
  if (pkg) {
    check(
      "model package",
      r.model.id !== pkg.id || r.model.commitment !== pkg.manifest.commitments.model
        ? "receipt is for another model than the package"
        : undefined,
    );
  }

  const keyChecked = r.mode === "zk";
  if (r.mode === "zk") {
    const key = vkey as Record<string, unknown>;
    // A package's key CID was checked against the key when it was opened.
    const keyCid = pkg ? pkg.vkeyCid : vkeyCid(key);
    check(
      "verification key",
      r.model.vkey !== undefined && r.model.vkey !== keyCid ? keyMismatch(r.model.vkey, keyCid, pkg) : undefined,
    );
    const system = proofSystem(r, key);
    check("proof system", system);
    const signals = publicSignals(r);
    check("public signals", signals);
    if (signals === undefined && system === undefined) check(`${r.proof?.system} proof`, await zkProof(r, key));
  } else if (r.mode === "attest") {
    attestationChecks("attestation", r.attestation, INFERENCE_SCHEMA_UID, options.trustedSigners);
    check("attested fields", attestedFields(r));
  } else {
    check("guarantee", 'a "none" receipt carries no proof or attestation; check it with reexecute()');
  }

  if (options.dataAttestation !== undefined) {
    attestationChecks("data attestation", options.dataAttestation, DATA_SCHEMA_UID, options.trustedDataSigners);
    dataChecks(r, options.dataAttestation, check);
  }

  const keyAudited = r.mode === "zk" && pkg !== undefined && (await findAuditRecord(pkg)) !== undefined;
  const unverified = [...unverifiedFields(r, options, keyChecked, keyAudited), ...undefinedFields(receipt, r)];
  const failed = checks.find((c) => !c.ok);
  return failed
    ? { valid: false, reason: failed.detail ?? failed.name, checks, unverified }
    : { valid: true, checks, unverified };
}
