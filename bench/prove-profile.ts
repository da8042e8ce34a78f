import { performance } from "node:perf_hooks";
import * as snarkjs from "snarkjs";
import { randomSalt } from "../src/attest/commitments.js";
import { quantizeInput } from "../src/models/quantize-input.js";
import type { ModelPackage } from "../src/package/model-package.js";

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

/** Where one Groth16 proof's time goes, in ms: the witness, then snarkjs's stages (from its debug log). */
export interface ProveProfile {
  witnessMs: number;
  buildAbcMs: number;
  fftMs: number;
  msmAMs: number;
  msmB1Ms: number;
  msmB2Ms: number;
  msmCMs: number;
  msmHMs: number;
  /** Witness values ≥ 2^64, as a fraction of all. */
  largeScalarFraction: number;
}

/**
 * One profiled Groth16 proof of a package on an input: the witness (the package's witness program) and snarkjs's
 * prover, split at the stage messages its debug logger prints (`Building ABC`, the FFTs, `Reading A Points`, …).
 */
export async function profileProve(pkg: ModelPackage, input: readonly number[]): Promise<ProveProfile> {
  const { witness, zkey } = await pkg.provingArtifacts();
  const t0 = performance.now();
  const wtns = await witness.compute({
    input: quantizeInput(pkg.network, input),
    inputSalt: randomSalt(),
    outputSalt: randomSalt(),
  });
  const witnessMs = performance.now() - t0;
  const marks: Array<[string, number]> = [];
  const log = (msg: string) => marks.push([msg, performance.now()]);
  const logger = { debug: log, info: log, warn: log, error: log };
  await snarkjs.groth16.prove({ type: "mem", data: zkey }, { type: "mem", data: wtns }, logger as never);
  const end = performance.now();
  const at = (prefix: string) => marks.find(([m]) => m.startsWith(prefix))?.[1] ?? end;
  const firstFft = Math.min(...marks.filter(([m]) => /FFT/.test(m)).map(([, t]) => t), at("Join ABC"));
  const span = (a: number, b: number) => Math.round(Math.max(0, b - a));
  return {
    witnessMs: Math.round(witnessMs),
    buildAbcMs: span(at("Building ABC"), firstFft),
    fftMs: span(firstFft, at("Reading A Points")),
    msmAMs: span(at("Reading A Points"), at("Reading B1 Points")),
    msmB1Ms: span(at("Reading B1 Points"), at("Reading B2 Points")),
    msmB2Ms: span(at("Reading B2 Points"), at("Reading C Points")),
    msmCMs: span(at("Reading C Points"), at("Reading H Points")),
    msmHMs: span(at("Reading H Points"), end),
    largeScalarFraction: Math.round(largeScalarFraction(wtns) * 10000) / 10000,
  };
}
