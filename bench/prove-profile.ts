import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { randomSalt } from "../src/attest/commitments.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import type { ModelPackage } from "../src/package/model-package.js";
import { type Groth16ProvingKey, loadGroth16Key } from "../src/proof-systems/groth16-key.js";
import { type Groth16ProveTimings, proveWithGroth16Key } from "../src/proof-systems/groth16-prover.js";

/** Fraction of a `.wtns` file's values that are ≥ 2^64 (full-width scalars, the dear ones in snarkjs's MSMs). */
export function largeScalarFraction(wtns: Uint8Array): number {
  const view = new DataView(wtns.buffer, wtns.byteOffset, wtns.byteLength);
  const n8 = view.getUint32(24, true);
  const count = view.getUint32(28 + n8, true);
  const start = 12 + 12 + 4 + n8 + 4 + 12;
  let large = 0;
  for (let i = 0; i < count; i++) {
    const at = start + i * n8;
    for (let b = 8; b < n8; b++) {
      if (wtns[at + b] !== 0) {
        large++;
        break;
      }
    }
  }
  return count === 0 ? 0 : large / count;
}

/** A proof's stages, in ms. */
export interface StageTimes {
  buildAbcMs: number;
  checkMs: number;
  fftMs: number;
  msmAMs: number;
  msmB1Ms: number;
  msmB2Ms: number;
  msmCMs: number;
  msmHMs: number;
}

/** Where one Groth16 proof's time goes, in ms: the witness, then the prover's stages. */
export interface ProveProfile {
  witnessMs: number;
  /** A·w, B·w, C (verinfer's prover: with reading the witness and the r1cs check, `checkMs` of it). */
  buildAbcMs: number;
  /** The r1cs check (verinfer's prover; 0 for snarkjs, which makes none). */
  checkMs: number;
  fftMs: number;
  msmAMs: number;
  msmB1Ms: number;
  msmB2Ms: number;
  msmCMs: number;
  msmHMs: number;
  /** The proof's wall time (witness excluded). */
  totalMs: number;
  /** CPU time of the whole process (every thread) during the proof, witness excluded. */
  cpuMs: number;
  /** Each stage's CPU time (ms, whole process). */
  cpuStages: StageTimes;
  /** Witness values ≥ 2^64, as a fraction of all. */
  largeScalarFraction: number;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * One profiled proof with snarkjs's `groth16.prove`, split at the stage messages its debug logger prints
 * (`Building ABC`, the FFTs, `Reading A Points`, …). Witness time is not included (`witnessMs` 0).
 */
export async function profileSnarkjsProve(zkey: Uint8Array, wtns: Uint8Array): Promise<ProveProfile> {
  const marks: Array<[string, number, number]> = [];
  const log = (msg: string) => marks.push([msg, performance.now(), cpuNow()]);
  const logger = { debug: log, info: log, warn: log, error: log };
  const c0 = cpuNow();
  const start = performance.now();
  await snarkjs.groth16.prove({ type: "mem", data: zkey }, { type: "mem", data: wtns }, logger as never);
  const end = performance.now();
  const cEnd = cpuNow();
  const stages = (k: 1 | 2, last: number): StageTimes => {
    const at = (prefix: string) => marks.find(([m]) => m.startsWith(prefix))?.[k] ?? last;
    const ffts = marks.filter(([m]) => /FFT/.test(m)).map((m) => m[k]);
    const firstFft = Math.min(...ffts, at("Join ABC"));
    const span = (a: number, b: number) => Math.round(Math.max(0, b - a));
    return {
      buildAbcMs: span(at("Building ABC"), firstFft),
      checkMs: 0,
      fftMs: span(firstFft, at("Reading A Points")),
      msmAMs: span(at("Reading A Points"), at("Reading B1 Points")),
      msmB1Ms: span(at("Reading B1 Points"), at("Reading B2 Points")),
      msmB2Ms: span(at("Reading B2 Points"), at("Reading C Points")),
      msmCMs: span(at("Reading C Points"), at("Reading H Points")),
      msmHMs: span(at("Reading H Points"), last),
    };
  };
  return {
    witnessMs: 0,
    ...stages(1, end),
    totalMs: Math.round(end - start),
    cpuMs: Math.round(cEnd - c0),
    cpuStages: stages(2, cEnd),
    largeScalarFraction: Math.round(largeScalarFraction(wtns) * 10000) / 10000,
  };
}

/** One profiled proof with verinfer's prover on a parsed key (its own stage timings). */
export async function profileKeyProve(
  key: Groth16ProvingKey,
  wtns: Uint8Array,
  msm?: "batch-affine" | "ffjavascript",
): Promise<ProveProfile> {
  let timings: Groth16ProveTimings | undefined;
  const c0 = cpuNow();
  const start = performance.now();
  await proveWithGroth16Key({ key, wtns, onTimings: (t) => (timings = t), ...(msm ? { msm } : {}) });
  const totalMs = performance.now() - start;
  const cpuMs = cpuNow() - c0;
  const round = (t: Omit<Groth16ProveTimings, "cpu">): StageTimes => ({
    buildAbcMs: Math.round(t.abcMs),
    checkMs: Math.round(t.checkMs),
    fftMs: Math.round(t.fftMs),
    msmAMs: Math.round(t.msmAMs),
    msmB1Ms: Math.round(t.msmB1Ms),
    msmB2Ms: Math.round(t.msmB2Ms),
    msmCMs: Math.round(t.msmCMs),
    msmHMs: Math.round(t.msmHMs),
  });
  const t = timings as Groth16ProveTimings;
  return {
    witnessMs: 0,
    ...round(t),
    totalMs: Math.round(totalMs),
    cpuMs: Math.round(cpuMs),
    cpuStages: round(t.cpu as Omit<Groth16ProveTimings, "cpu">),
    largeScalarFraction: Math.round(largeScalarFraction(wtns) * 10000) / 10000,
  };
}

/** One unprofiled proof with verinfer's prover (its stages at once, as `verifiableInfer` runs it): wall and CPU ms. */
export async function timeKeyProve(key: Groth16ProvingKey, wtns: Uint8Array, msm?: "batch-affine" | "ffjavascript") {
  const c0 = cpuNow();
  const start = performance.now();
  const bundle = await proveWithGroth16Key({ key, wtns, ...(msm ? { msm } : {}) });
  return { bundle, totalMs: performance.now() - start, cpuMs: cpuNow() - c0 };
}

/** A package's witness (`.wtns` bytes) for an input, with fresh salts, and the time it took. */
export async function packageWitness(pkg: ModelPackage, input: readonly number[]) {
  const { witness } = await pkg.provingArtifacts();
  const t0 = performance.now();
  const wtns = await witness.compute({
    input: quantizeInput(pkg.network, input),
    inputSalt: randomSalt(),
    outputSalt: randomSalt(),
  });
  return { wtns, witnessMs: performance.now() - t0 };
}

/**
 * One profiled Groth16 proof of a package on an input, as `verifiableInfer` makes it: the witness (the package's
 * witness program), then verinfer's prover on the package's zkey and r1cs.
 */
export async function profileProve(pkg: ModelPackage, input: readonly number[]): Promise<ProveProfile> {
  const { zkey, r1cs } = await pkg.provingArtifacts();
  const { wtns, witnessMs } = await packageWitness(pkg, input);
  const key = loadGroth16Key({ zkey, r1cs });
  return { ...(await profileKeyProve(key, wtns)), witnessMs: Math.round(witnessMs) };
}
