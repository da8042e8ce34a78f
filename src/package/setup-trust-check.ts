import { hasPhase2 } from "../proof-systems/systems.js";
import { ceremonyPtau } from "../setup/ceremony-ptau.js";
import { type AuditRecord, findAuditRecord } from "./audit-record.js";
import type { ModelPackage } from "./model-package.js";

/** A named check with its outcome, as `verifyReceipt` and `verifyPackage` list them. */
export interface TrustCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** What a passing `requireCeremony` check does not vouch for (Groth16). */
export const CEREMONY_CHECK_LIMITS =
  "Not covered: Groth16 is sound only if at least one ptau contributor AND at least one phase-2 contributor " +
  "were honest (kept no secret); this check cannot tell whether any was. It says nothing about what the model " +
  "computes, nor about a vkey other than the package's.";

/** What a passing `requireCeremony` check does not vouch for (PLONK, FFLONK). */
export const UNIVERSAL_CEREMONY_CHECK_LIMITS =
  "No per-circuit trusted party: a PLONK/FFLONK zkey follows from the r1cs and the ptau alone, with no secret of " +
  "its own, so the proof system is sound if at least one contributor to the public ceremony was honest. Not " +
  "covered: whether any was; what the model computes; a vkey other than the package's.";

function via(record: AuditRecord): string {
  const how =
    record.via === "setup"
      ? "the setup ran in this cache"
      : record.via === "audit"
        ? "verifyPackage audited it"
        : "a contribution was verified on an audited package";
  return `${how}, ${record.createdAt}`;
}

/**
 * The `requireCeremony` check of `verifyReceipt`, named `"setup"`. It passes only when both hold, each
 * established by this code rather than read from the manifest's `setup.kind`:
 * 1. the manifest's ptau BLAKE2b-512 is one of the pinned public ceremony files (`CEREMONY_PTAUS`);
 * 2. the package's zkey was verified against its r1cs and that ptau — because this cache ran the setup
 *    (`compileModel`), or `verifyPackage(pkg, { ptau })` passed — for this exact manifest (its sha256).
 *
 * An edited manifest (a `kind` of `"ceremony"`, a pinned hash, another zkey) has another sha256 and no
 * record, so it fails. The passing check's `detail` states what it covers and what it does not.
 *
 * @example
 * ```ts
 * const check = await setupTrustCheck(pkg); // { name: "setup", ok: false, detail: "… not a pinned ceremony …" }
 * ```
 */
export async function setupTrustCheck(pkg: ModelPackage | undefined): Promise<TrustCheck> {
  const fail = (detail: string): TrustCheck => ({ name: "setup", ok: false, detail });
  if (!pkg) return fail("requireCeremony needs a modelPackage: a bare vkey does not say how it was set up");
  const setup = pkg.manifest.setup;
  const ceremony = ceremonyPtau(setup.ptauBlake2b);
  if (!ceremony) {
    return fail(
      `the ptau (blake2b ${setup.ptauBlake2b.slice(0, 16)}…) is not a pinned ceremony file; the manifest says "${setup.kind}"`,
    );
  }
  const record = await findAuditRecord(pkg);
  if (!record || record.ptauBlake2b !== setup.ptauBlake2b) {
    return fail(
      "this package's zkey was never verified against its r1cs and the ceremony ptau here: " +
        `run verifyPackage(pkg, { ptau }) or \`verinfer audit ${pkg.id} --ptau ${ceremony.file}\``,
    );
  }
  if (!hasPhase2(pkg.manifest.proofSystem)) {
    return {
      name: "setup",
      ok: true,
      detail:
        `Covered: the ptau is ${ceremony.file} (Hermez/Polygon perpetual powers of tau, 2^${ceremony.power}, pinned ` +
        `BLAKE2b-512), and this package's ${pkg.manifest.proofSystem} zkey was derived from its r1cs and that ptau ` +
        `(${via(record)}). ${UNIVERSAL_CEREMONY_CHECK_LIMITS}`,
    };
  }
  const names = setup.contributions.map((c) => JSON.stringify(c.name)).join(", ");
  return {
    name: "setup",
    ok: true,
    detail:
      `Covered: the ptau is ${ceremony.file} (Hermez/Polygon perpetual powers of tau, 2^${ceremony.power}, pinned ` +
      `BLAKE2b-512), and this package's zkey was verified against its r1cs and that ptau (${via(record)}); ` +
      `phase-2 contributions: ${setup.contributions.length} (${names}). ${CEREMONY_CHECK_LIMITS}`,
  };
}
