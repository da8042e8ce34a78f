/**
 * `npm run bench:helia [-- --runs N] [-- --model demo|mlp|all]`: how long a model package takes to travel by CID
 * between two Helia nodes on loopback. Node A puts the package (`putModelPackage`); for each run a fresh node B
 * with an empty blockstore and an empty cache dials A and fetches it (`getModelPackage`: manifest, then every
 * artifact over bitswap, hash-checked, copied into B's cache, identity recomputed). The models are compiled into
 * a temporary cache (only the cached ptau files are copied). Prints one JSON line per run, then the medians.
 */
import { readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { getModelPackage } from "../src/package/get-model-package.js";
import { putModelPackage } from "../src/package/put-model-package.js";
import { compileModel } from "../src/pipeline/compile-model.js";
import { resolveCacheDir } from "../src/storage/cache-dir.js";
import { createHeliaStorage } from "../src/storage/helia-storage.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median } from "./bench-util.js";

const MODELS: Record<string, string> = {
  demo: path.join(packageRoot(), "examples", "models", "demo-glyphs"),
  mlp: path.join(packageRoot(), "bench", "models", "mlp-784-56-10"),
};

async function benchModel(model: string, runs: number, work: string): Promise<Array<Record<string, number | string>>> {
  const dir = MODELS[model] as string;
  const cacheDir = path.join(work, `cache-${model}`);
  await cp(path.join(resolveCacheDir(), "ptau"), path.join(cacheDir, "ptau"), { recursive: true }).catch(() => {});
  const samples = JSON.parse(readFileSync(path.join(dir, "samples.json"), "utf8")) as { calibration: number[][] };
  const pkg = await compileModel(dir, { calibration: samples.calibration, cacheDir, quiet: true });
  const bytes = Object.values(pkg.manifest.artifacts).reduce((sum, a) => sum + a.size, 0);
  const a = await createHeliaStorage({ directory: path.join(work, `ipfs-a-${model}`) });
  const rows: Array<Record<string, number | string>> = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const t0 = performance.now();
      const { manifestCid } = await putModelPackage(a, pkg);
      const putMs = performance.now() - t0;
      const b = await createHeliaStorage({ directory: path.join(work, `ipfs-b-${model}-${run}`), peers: a.multiaddrs });
      try {
        const t1 = performance.now();
        const fetched = await getModelPackage(b, manifestCid, {
          cacheDir: path.join(work, `prover-cache-${model}-${run}`),
          signal: AbortSignal.timeout(300_000),
        });
        const getMs = performance.now() - t1;
        if (fetched.id !== pkg.id) throw new Error("fetched another model");
        const row = {
          model,
          run,
          bytes,
          zkeyBytes: pkg.manifest.artifacts.zkey.size,
          wasmBytes: pkg.manifest.artifacts.wasm.size,
          putMs: Math.round(putMs),
          getMs: Math.round(getMs),
          getMBps: Math.round((bytes / 1e6 / (getMs / 1000)) * 10) / 10,
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      } finally {
        await b.close();
      }
    }
  } finally {
    await a.close();
  }
  return rows;
}

async function main(): Promise<void> {
  const runs = Number(argValue("--runs") ?? 3);
  const choice = argValue("--model") ?? "all";
  const models = choice === "all" ? Object.keys(MODELS) : [choice];
  for (const m of models)
    if (!MODELS[m]) throw new Error(`--model must be one of ${Object.keys(MODELS).join(", ")}, all`);
  const work = await mkdtemp(path.join(os.tmpdir(), "verinfer-helia-bench-"));
  try {
    const summary: Array<Record<string, number | string>> = [];
    for (const model of models) {
      const rows = await benchModel(model, runs, work);
      const first = rows[0] as Record<string, number | string>;
      summary.push({
        model,
        bytes: first.bytes as number,
        putMsMedian: median(rows.map((r) => r.putMs as number)),
        getMsMedian: median(rows.map((r) => r.getMs as number)),
        getMBpsMedian: median(rows.map((r) => r.getMBps as number)),
      });
    }
    console.log("\n| model | package bytes | put (A) ms | get (B, cold) ms | MB/s |");
    console.log("|---|---:|---:|---:|---:|");
    for (const s of summary) {
      console.log(`| ${s.model} | ${s.bytes} | ${s.putMsMedian} | ${s.getMsMedian} | ${s.getMBpsMedian} |`);
    }
    console.log(JSON.stringify({ runs, summary }));
  } finally {
    await rm(work, { recursive: true, force: true });
    await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  }
}

await main();
