/**
 * `npm run bench:audit [-- --runs N] [-- --model demo|mlp]`: cost of the setup-trust operations on a bundled
 * model — `verifyPackage` (the audit, split into its phases) and `contributeSetup` (one phase-2 contribution
 * plus the verification of the whole chain). The model is compiled into a temporary copy of the cache (only
 * the cached ptau files are copied), so the contributions never touch the user's packages. Prints one JSON
 * line per run, then the medians.
 */
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import type { ModelPackage } from "../src/package/model-package.js";
import { verifyPackage } from "../src/package/verify-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { contributeSetup } from "../src/pipeline/contribute-setup.js";
import { resolveCacheDir } from "../src/storage/cache-dir.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median } from "./bench-util.js";

const MODELS: Record<string, string> = {
  demo: path.join(packageRoot(), "examples", "models", "demo-glyphs"),
  mlp: path.join(packageRoot(), "bench", "models", "mlp-784-56-10"),
};

/** The audit's phases, named by the progress message that starts each. */
const PHASES: Array<[string, string]> = [
  ["commitment", "recomputing the model commitment"],
  ["codegen", "regenerating the circuit"],
  ["recompile", "recompiling the circuit"],
  ["vkeyExport", "exporting the verification key"],
  ["zkeyVerify", "verifying the zkey"],
];

async function audit(pkg: ModelPackage): Promise<Record<string, number>> {
  const marks: Array<[string, number]> = [];
  const t0 = performance.now();
  const result = await verifyPackage(pkg, {
    persist: false,
    onProgress: (e) => {
      const phase = PHASES.find(([, prefix]) => e.message.startsWith(prefix));
      if (phase) marks.push([phase[0], performance.now()]);
    },
  });
  const end = performance.now();
  if (!result.ok) throw new Error(`audit failed: ${JSON.stringify(result.checks.filter((c) => !c.ok))}`);
  const out: Record<string, number> = { auditMs: Math.round(end - t0) };
  marks.forEach(([name, at], i) => {
    out[`${name}Ms`] = Math.round((marks[i + 1]?.[1] ?? end) - at);
  });
  return out;
}

async function main(): Promise<void> {
  const runs = Number(argValue("--runs") ?? 3);
  const model = argValue("--model") ?? "demo";
  const dir = MODELS[model];
  if (!dir) throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}`);
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), "verinfer-setup-bench-"));
  try {
    await cp(path.join(resolveCacheDir(), "ptau"), path.join(cacheDir, "ptau"), { recursive: true }).catch(() => {});
    const samples = JSON.parse(readFileSync(path.join(dir, "samples.json"), "utf8")) as { calibration: number[][] };
    let pkg = await compileModel(dir, { calibration: samples.calibration, cacheDir, quiet: true });
    const rows: Array<Record<string, number | string>> = [];
    for (let i = 0; i < runs; i++) {
      const a = await audit(pkg);
      const t = performance.now();
      pkg = await contributeSetup(pkg, { name: `bench-${i + 1}` });
      const row = {
        model,
        constraints: pkg.manifest.circuit.constraints,
        run: i + 1,
        ...a,
        contributeMs: Math.round(performance.now() - t),
        contributions: pkg.manifest.setup.contributions.length,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    const keys = Object.keys(rows[0] ?? {}).filter((k) => k.endsWith("Ms"));
    console.log(
      JSON.stringify({
        model,
        runs,
        median: Object.fromEntries(keys.map((k) => [k, median(rows.map((r) => r[k] as number))])),
      }),
    );
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
    await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  }
}

await main();
