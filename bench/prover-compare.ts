/**
 * `npm run bench:prover [-- --json] [-- --runs N] [-- --models mlp-784-56-10,lenet5-avg,lenet5-max]`: snarkjs's
 * `groth16.prove` against verinfer's prover (and verinfer's prover with ffjavascript's multi-exponentiations instead
 * of its batch-affine ones: `verinferFfjsMsm`) on the same witnesses, interleaved (snarkjs, verinfer, snarkjs, …) so a
 * change in the machine's load hits both alike. Each model is compiled once (from the cache when it is there). Per
 * prover: median wall time and median CPU time of the process (all threads) per proof, and the median wall and CPU
 * time of each stage (A/B/C, FFTs, each MSM; verinfer's from a profiled proof, which runs the stages one after the
 * other, its totals from an unprofiled one, which runs them at once). One warm-up proof each is not counted. The key parse is reported apart (`loadMs`, once
 * per key). Every proof of both provers is verified.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { compileModel } from "../src/pipeline/compile-model.js";
import { loadGroth16Key } from "../src/proof-systems/groth16-key.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median, positiveIntArg } from "./bench-util.js";
import { mnistDigits } from "./mnist-digits.js";
import {
  type ProveProfile,
  packageWitness,
  profileKeyProve,
  profileSnarkjsProve,
  type StageTimes,
  timeKeyProve,
} from "./prove-profile.js";

const models = path.join(packageRoot(), "bench", "models");

function inputsOf(name: string): { calibration: number[][]; inputs: number[][] } {
  const samples = JSON.parse(readFileSync(path.join(models, name, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs?: number[][];
  };
  return { calibration: samples.calibration, inputs: samples.inputs ?? mnistDigits().test.xs.slice(0, 16) };
}

function medians(profiles: ProveProfile[]) {
  const m = (xs: number[]) => Math.round(median(xs));
  const stages = (pick: (p: ProveProfile) => StageTimes): StageTimes => {
    const of = (k: keyof StageTimes) => m(profiles.map((p) => pick(p)[k]));
    return {
      buildAbcMs: of("buildAbcMs"),
      checkMs: of("checkMs"),
      fftMs: of("fftMs"),
      msmAMs: of("msmAMs"),
      msmB1Ms: of("msmB1Ms"),
      msmB2Ms: of("msmB2Ms"),
      msmCMs: of("msmCMs"),
      msmHMs: of("msmHMs"),
    };
  };
  return {
    totalMs: m(profiles.map((p) => p.totalMs)),
    cpuMs: m(profiles.map((p) => p.cpuMs)),
    wallStages: stages((p) => p),
    cpuStages: stages((p) => p.cpuStages),
  };
}

async function benchModel(name: string, runs: number) {
  const { calibration, inputs } = inputsOf(name);
  const pkg = await compileModel(path.join(models, name), { calibration, quiet: true, name });
  const { zkey, r1cs } = await pkg.provingArtifacts();
  const t0 = performance.now();
  const key = loadGroth16Key({ zkey, r1cs });
  const loadMs = Math.round(performance.now() - t0);
  const snark: ProveProfile[] = [];
  const ours: ProveProfile[] = [];
  const fast: Array<{ totalMs: number; cpuMs: number }> = [];
  const oursFfjs: ProveProfile[] = [];
  const fastFfjs: Array<{ totalMs: number; cpuMs: number }> = [];
  for (let i = 0; i <= runs; i++) {
    const { wtns } = await packageWitness(pkg, inputs[i % inputs.length] as number[]);
    const a = await profileSnarkjsProve(zkey, wtns);
    const b = await profileKeyProve(key, wtns);
    const { bundle, totalMs, cpuMs } = await timeKeyProve(key, wtns);
    const c = await profileKeyProve(key, wtns, "ffjavascript");
    const d = await timeKeyProve(key, wtns, "ffjavascript");
    for (const proved of [bundle, d.bundle]) {
      if (!(await snarkjs.groth16.verify(pkg.vkey, proved.publicSignals, proved.proof))) {
        throw new Error(`${name}: a proof of verinfer's prover did not verify`);
      }
    }
    if (i > 0) {
      snark.push(a);
      ours.push(b);
      fast.push({ totalMs, cpuMs });
      oursFfjs.push(c);
      fastFfjs.push({ totalMs: d.totalMs, cpuMs: d.cpuMs });
    }
  }
  return {
    model: name,
    constraints: pkg.manifest.circuit.constraints,
    runs,
    loadMs,
    largeScalarFraction: ours[0]?.largeScalarFraction,
    snarkjs: medians(snark),
    /** verinfer's prover as verifiableInfer runs it (stages at once): median wall and CPU ms. */
    verinfer: {
      totalMs: Math.round(median(fast.map((f) => f.totalMs))),
      cpuMs: Math.round(median(fast.map((f) => f.cpuMs))),
    },
    /** verinfer's prover, profiled (stages one after the other). */
    verinferProfiled: medians(ours),
    /** verinfer's prover with ffjavascript's multi-exponentiations (the reference for the batch-affine MSM). */
    verinferFfjsMsm: {
      totalMs: Math.round(median(fastFfjs.map((f) => f.totalMs))),
      cpuMs: Math.round(median(fastFfjs.map((f) => f.cpuMs))),
    },
    verinferFfjsMsmProfiled: medians(oursFfjs),
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const runs = positiveIntArg("--runs", 5);
  const names = (argValue("--models") ?? "mlp-784-56-10,lenet5-avg,lenet5-max").split(",");
  for (const name of names) {
    const r = await benchModel(name, runs);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else console.log(JSON.stringify(r, null, 2));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
