import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { atomicWrite } from "../storage/atomic-write.js";
import { canonicalJson } from "../storage/json-objects.js";
import { sha256Hex } from "../storage/sha256-hex.js";
import { parseStrictJson } from "../util/parse-strict-json.js";
import type { ModelManifest } from "./model-manifest.js";
import type { ModelPackage } from "./model-package.js";

/** Format tag of audit records. */
export const AUDIT_FORMAT = "verinfer/audit@1";

/**
 * How a package's zkey came to be verified against its r1cs and ptau: this cache ran the setup itself
 * (`compileModel`), `verifyPackage` audited it, or `contributeSetup` verified a new contribution on top of a
 * package that was one of those.
 */
export const AUDIT_SOURCES = ["setup", "audit", "contribute"] as const;

/**
 * zod schema of an audit record, `verinfer/audit@1`: what a verifier established about one exact manifest.
 * It is kept in the verifier's own cache (`<cacheDir>/audits/<manifestSha256>.json`), never shipped with a
 * package: a record is only as trustworthy as the directory that holds it.
 */
export const AuditRecordSchema = z.object({
  format: z.literal(AUDIT_FORMAT),
  /** sha256 of the manifest's canonical JSON: the record covers that manifest and nothing else. */
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/),
  modelId: z.string(),
  /** BLAKE2b-512 of the ptau the zkey was verified against (or set up from). */
  ptauBlake2b: z.string().regex(/^[0-9a-f]{128}$/),
  via: z.enum(AUDIT_SOURCES),
  createdAt: z.string(),
  /** The checks that passed (a record is only written for a package that passed all of them). */
  checks: z.array(z.object({ name: z.string(), ok: z.literal(true), detail: z.string().optional() })),
});

/** A parsed `verinfer/audit@1` record. */
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

/** What a caller states when recording an audit; the rest is derived from the package. */
export type AuditFindings = Pick<AuditRecord, "ptauBlake2b" | "via" | "checks">;

// Trust earned in this process, per package object: never read from the manifest itself.
const audited = new WeakMap<ModelPackage, AuditRecord>();

/**
 * sha256 of a manifest's canonical JSON: the key audit records are stored under.
 *
 * @example
 * ```ts
 * const key = manifestSha256(pkg.manifest);
 * ```
 */
export function manifestSha256(manifest: ModelManifest): string {
  return sha256Hex(canonicalJson(manifest));
}

function recordPath(cacheDir: string, digest: string): string {
  return path.join(cacheDir, "audits", `${digest}.json`);
}

/**
 * Records that a package passed an audit (or was set up here): in memory for this package object, and, with
 * `persist`, in the package's cache so a later load of the exact same manifest finds it.
 *
 * @example
 * ```ts
 * await recordAudit(pkg, { ptauBlake2b, via: "audit", checks }, { persist: true });
 * ```
 */
export async function recordAudit(
  pkg: ModelPackage,
  findings: AuditFindings,
  options: { persist: boolean },
): Promise<AuditRecord> {
  const record: AuditRecord = {
    format: AUDIT_FORMAT,
    manifestSha256: manifestSha256(pkg.manifest),
    modelId: pkg.id,
    ptauBlake2b: findings.ptauBlake2b,
    via: findings.via,
    createdAt: new Date().toISOString(),
    checks: findings.checks,
  };
  audited.set(pkg, record);
  if (options.persist) {
    await atomicWrite(recordPath(pkg.trustDir, record.manifestSha256), JSON.stringify(record, null, 1));
  }
  return record;
}

/**
 * The audit record of this exact manifest: the one earned in this process by this package object, else the
 * one in the package's cache; `undefined` when there is none (an unreadable record counts as none).
 *
 * @example
 * ```ts
 * const record = await findAuditRecord(pkg); // undefined until verifyPackage(pkg) passed
 * ```
 */
export async function findAuditRecord(pkg: ModelPackage): Promise<AuditRecord | undefined> {
  const digest = manifestSha256(pkg.manifest);
  const inMemory = audited.get(pkg);
  if (inMemory?.manifestSha256 === digest) return inMemory;
  let json: unknown;
  try {
    json = parseStrictJson(await readFile(recordPath(pkg.trustDir, digest), "utf8"));
  } catch {
    return undefined;
  }
  const parsed = AuditRecordSchema.safeParse(json);
  if (!parsed.success || parsed.data.manifestSha256 !== digest || parsed.data.modelId !== pkg.id) return undefined;
  // A package's manifest never changes, so a record found once holds for the object: verifyReceipt asks per receipt.
  audited.set(pkg, parsed.data);
  return parsed.data;
}
