/**
 * `npm run bench:msm [-- --json] [-- --runs N] [-- --cases g1-full-14,...]`: ffjavascript's `multiExpAffine`
 * against verinfer's batch-affine multi-exponentiation on the prover curve (threaded, one thread per core), on the
 * same random bases and scalars, interleaved (ffjavascript, verinfer, ffjavascript, …) so a change in the machine's
 * load hits both alike; one warm-up call each is not counted. Per case and implementation: median wall and CPU
 * (process, every thread) milliseconds. Every result of verinfer's is compared with ffjavascript's.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { batchAffineMultiExp, msmWindowBits } from "../src/proof-systems/batch-affine-multi-exp.js";
import { type ProverCurve, proverCurve } from "../src/proof-systems/wasm/prover-curve.js";
import { FIELD_PRIME } from "../src/util/field.js";
import { argValue, median, positiveIntArg } from "./bench-util.js";

interface Case {
  name: string;
  group: "G1" | "G2";
  log2n: number;
  /** Scalar bytes (32: uniform below the field's prime, like H's; narrower: random nonzero integers of that width). */
  width: number;
}

const CASES: Case[] = [
  { name: "g1-full-14", group: "G1", log2n: 14, width: 32 },
  { name: "g1-full-16", group: "G1", log2n: 16, width: 32 },
  { name: "g1-1byte-14", group: "G1", log2n: 14, width: 1 },
  { name: "g1-2byte-14", group: "G1", log2n: 14, width: 2 },
  { name: "g2-1byte-14", group: "G2", log2n: 14, width: 1 },
  { name: "g2-2byte-14", group: "G2", log2n: 14, width: 2 },
];

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** n distinct affine points P0 + i·Q (Montgomery bytes). */
function bases(curve: ProverCurve, group: "G1" | "G2", n: number): Uint8Array {
  const G = curve[group] as unknown as {
    g: Uint8Array;
    timesScalar(p: Uint8Array, s: Uint8Array): Uint8Array;
    add(a: Uint8Array, b: Uint8Array): Uint8Array;
    toAffine(p: Uint8Array): Uint8Array;
    F: { n8: number };
  };
  const pb = 2 * G.F.n8;
  const out = new Uint8Array(n * pb);
  let p = G.timesScalar(G.g, randomBytes(16));
  const q = G.timesScalar(G.g, randomBytes(16));
  for (let i = 0; i < n; i++) {
    out.set(G.toAffine(p), i * pb);
    p = G.add(p, q);
  }
  return out;
}

function scalars(n: number, width: number): Uint8Array {
  const out = new Uint8Array(n * width);
  for (let i = 0; i < n; i++) {
    let v = 0n;
    if (width === 32) {
      for (const b of randomBytes(40)) v = (v << 8n) | BigInt(b);
      v %= FIELD_PRIME;
    } else {
      while (v === 0n) for (const b of randomBytes(width)) v = (v << 8n) | BigInt(b);
    }
    for (let b = 0; b < width; b++) out[i * width + b] = Number((v >> BigInt(8 * b)) & 0xffn);
  }
  return out;
}

async function benchCase(curve: ProverCurve, c: Case, runs: number) {
  const n = 2 ** c.log2n;
  const b = bases(curve, c.group, n);
  const s = scalars(n, c.width);
  const G = curve[c.group];
  const times = { ffjavascript: [] as Array<[number, number]>, verinfer: [] as Array<[number, number]> };
  for (let run = 0; run <= runs; run++) {
    let t = performance.now();
    let cpu = cpuNow();
    const want = await G.multiExpAffine(b, s);
    const ffjs: [number, number] = [performance.now() - t, cpuNow() - cpu];
    t = performance.now();
    cpu = cpuNow();
    const got = await batchAffineMultiExp({ curve, group: c.group, bases: b, scalars: s });
    const ours: [number, number] = [performance.now() - t, cpuNow() - cpu];
    if (!G.eq(got, want)) throw new Error(`${c.name}: verinfer's MSM differs from ffjavascript's`);
    if (run > 0) {
      times.ffjavascript.push(ffjs);
      times.verinfer.push(ours);
    }
  }
  const med = (xs: Array<[number, number]>) => ({
    wallMs: Math.round(median(xs.map((x) => x[0])) * 10) / 10,
    cpuMs: Math.round(median(xs.map((x) => x[1])) * 10) / 10,
  });
  const bits = c.width === 32 ? 254 : 8 * c.width;
  return {
    case: c.name,
    group: c.group,
    n,
    scalarBytes: c.width,
    windowBits: msmWindowBits(n, bits),
    runs,
    equal: true,
    ffjavascript: med(times.ffjavascript),
    verinfer: med(times.verinfer),
  };
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const runs = positiveIntArg("--runs", 3);
  const wanted = argValue("--cases")?.split(",");
  const cases = wanted ? CASES.filter((c) => wanted.includes(c.name)) : CASES;
  const curve = await proverCurve({ singleThread: false });
  for (const c of cases) {
    const r = await benchCase(curve, c, runs);
    if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      console.log(
        `${r.case.padEnd(12)} n=${r.n} c=${r.windowBits}  ffjavascript ${r.ffjavascript.wallMs} ms (cpu ${r.ffjavascript.cpuMs})` +
          `  verinfer ${r.verinfer.wallMs} ms (cpu ${r.verinfer.cpuMs})  equal`,
      );
    }
  }
  await curve.terminate();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
