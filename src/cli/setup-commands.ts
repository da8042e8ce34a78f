import { performance } from "node:perf_hooks";
import { manifestSha256 } from "../package/audit-record.js";
import type { ModelPackage } from "../package/model-package.js";
import { verifyPackage } from "../package/verify-package.js";
import { contributeSetup } from "../pipeline/contribute-setup.js";
import type { ProgressStage } from "../util/progress.js";
import { EXIT } from "./exit-codes.js";
import { createProgress } from "./progress-bar.js";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `verinfer audit`: every check of {@link verifyPackage}, one per line; exit 0 when all pass, 1 otherwise. */
export async function auditCommand(pkg: ModelPackage, flags: { ptau?: string; json?: boolean }): Promise<number> {
  const progress = createProgress(["audit"] as ProgressStage[]);
  const started = performance.now();
  let result: Awaited<ReturnType<typeof verifyPackage>>;
  try {
    result = await verifyPackage(pkg, { ...(flags.ptau ? { ptau: flags.ptau } : {}), onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (flags.json) {
    out(JSON.stringify({ model: pkg.id, ...result }, null, 2));
  } else {
    out(
      `model   ${pkg.id} (setup "${pkg.manifest.setup.kind}", ${pkg.manifest.setup.contributions.length} phase-2 contributions)`,
    );
    for (const c of result.checks) out(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}${c.detail ? `: ${c.detail}` : ""}`);
    out(result.ok ? `AUDIT OK (${seconds} s)` : `AUDIT FAILED (${seconds} s)`);
  }
  return result.ok ? EXIT.ok : EXIT.invalid;
}

/** `verinfer setup contribute`: one more Groth16 phase-2 contribution; prints the new package. */
export async function contributeCommand(pkg: ModelPackage, flags: { name: string; ptau?: string }): Promise<number> {
  const progress = createProgress(["setup"] as ProgressStage[]);
  const started = performance.now();
  let next: ModelPackage;
  try {
    next = await contributeSetup(pkg, {
      name: flags.name,
      ...(flags.ptau ? { ptau: flags.ptau } : {}),
      onProgress: progress.onProgress,
    });
  } finally {
    progress.stop();
  }
  const contributions = next.manifest.setup.contributions;
  out(`model          ${next.id} (unchanged)`);
  out(`vkey           sha256 ${next.manifest.artifacts.vkey.sha256} (was ${pkg.manifest.artifacts.vkey.sha256})`);
  out(`contribution   #${contributions.length} "${flags.name}" ${contributions[contributions.length - 1]?.hash}`);
  out(`chain          ${contributions.map((c) => JSON.stringify(c.name)).join(" → ")} verified against r1cs + ptau`);
  out(`manifest       canonical sha256 ${manifestSha256(next.manifest)}`);
  out(`took           ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return EXIT.ok;
}
