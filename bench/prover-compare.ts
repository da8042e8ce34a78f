/**
 * `npm run bench:prover [-- --json] [-- --runs N] [-- --models mlp-784-56-10,lenet5-avg,lenet5-max]`: snarkjs's
 * `groth16.prove` against verinfer's prover on the same witnesses, interleaved (snarkjs, verinfer, snarkjs, …) so a
 * change in the machine's load hits both alike. Each model is compiled once (from the cache when it is there). Per
 * prover: median wall time and median CPU time of the process (all threads) per proof, and the median of each stage
 * (A/B/C, FFTs, each MSM). One warm-up proof each is not counted. The key parse is reported apart (`loadMs`, once
 * per key). Every proof of both provers is verified.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { compileModel } from "../src/pipeline/compile-model.js";
import { loadGroth16Key } from "../src/proof-systems/groth16-key.js";
import { proveWithGroth16Key } from "../src/proof-systems/groth16-prover.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median } from "./bench-util.js";
import { mnistDigits } from "./mnist-digits.js";
import { type ProveProfile, packageWitness, profileKeyProve, profileSnarkjsProve } from "./prove-profile.js";

const models = path.join(packageRoot(), "bench", "models");

function inputsOf(name: string): { calibration: number[][]; inputs: number[][] } {
  const samples = JSON.parse(readFileSync(path.join(models, name, "samples.json"), "utf8")) as {
    calibration: number[][];
    inputs?: number[][];
  };
  return { calibration: samples.calibration, inputs: samples.inputs ?? mnistDigits().test.xs.slice(0, 16) };
}

type Stages = Omit<ProveProfile, "largeScalarFraction" | "witnessMs">;

function medians(profiles: ProveProfile[]): Stages {
  const m = (k: keyof Stages) => Math.round(median(profiles.map((p) => p[k])));
  return {
    totalMs: m("totalMs"),
    cpuMs: m("cpuMs"),
    buildAbcMs: m("buildAbcMs"),
    checkMs: m("checkMs"),
    fftMs: m("fftMs"),
    msmAMs: m("msmAMs"),
    msmB1Ms: m("msmB1Ms"),
    msmB2Ms: m("msmB2Ms"),
    msmCMs: m("msmCMs"),
    msmHMs: m("msmHMs"),
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
  for (let i = 0; i <= runs; i++) {
    const { wtns } = await packageWitness(pkg, inputs[i % inputs.length] as number[]);
    const a = await profileSnarkjsProve(zkey, wtns);
    const b = await profileKeyProve(key, wtns);
    const check = await proveWithGroth16Key({ key, wtns });
    if (!(await snarkjs.groth16.verify(pkg.vkey, check.publicSignals, check.proof))) {
      throw new Error(`${name}: a proof of verinfer's prover did not verify`);
    }
    if (i > 0) {
      snark.push(a);
      ours.push(b);
    }
  }
  return {
    model: name,
    constraints: pkg.manifest.circuit.constraints,
    runs,
    loadMs,
    largeScalarFraction: ours[0]?.largeScalarFraction,
    snarkjs: medians(snark),
    verinfer: medians(ours),
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const runs = Number(argValue("--runs") ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
  const names = (argValue("--models") ?? "mlp-784-56-10,lenet5-avg,lenet5-max").split(",");
  for (const name of names) {
    const r = await benchModel(name, runs);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else console.table({ snarkjs: r.snarkjs, verinfer: r.verinfer });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
