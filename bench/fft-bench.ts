/**
 * `npm run bench:fft [-- --json] [-- --runs N] [-- --powers 14,16]`: the Groth16 prover's coset transform (a
 * polynomial's values on the domain → its values on the odd coset) as wasmcurves does it (`frm_batchToMontgomery`,
 * `frm_ifft`, `frm_batchApplyKey`, `frm_fft`) against verinfer's fft plugin (`vfft_dif`, `vfft_mul`, `vfft_dit` with
 * twiddle and coset-factor tables made in the task), on one thread of a single-thread bn128 curve built with the plugin, interleaved
 * (old, new, old, …) so that the machine's load hits both alike; every output pair is checked equal. Also, to see
 * where a wasmcurves FFT's time goes: one `frm_mul` (from `vfft_powers`, a chain of multiplications), one
 * `frm_fft`, its bit-reversal pass alone, and one `vfft_dit`. Medians of `--runs` (default 5) after one warm-up.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { buildBn128 } from "ffjavascript";
import { type CosetCurve, cosetHScalars, cosetTransform } from "../src/proof-systems/wasm/coset-transform.js";
import { FFT_FUNCTIONS, fftPlugin } from "../src/proof-systems/wasm/fft-plugin.js";
import { proverCurve } from "../src/proof-systems/wasm/prover-curve.js";
import type { WasmModuleBuilder } from "../src/proof-systems/wasm/wasm-builder.js";
import { FIELD_PRIME } from "../src/util/field.js";
import { argValue, median } from "./bench-util.js";

type Task = Array<Record<string, unknown>>;

interface BenchCurve extends CosetCurve {
  tm: { queueAction(task: Task): Promise<Uint8Array[]> };
}

function randomEvals(n: number): Uint8Array {
  const out = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    let v = 0n;
    for (const b of randomBytes(40)) v = (v << 8n) | BigInt(b);
    v %= FIELD_PRIME;
    for (let j = 0; j < 32; j++) out[i * 32 + j] = Number((v >> BigInt(8 * j)) & 255n);
  }
  return out;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

/** The field operations a butterfly calls, each timed alone in a loop of its own. */
const OPS = ["frm_add", "frm_sub", "frm_copy"] as const;

/** `bench_<op>(pa, pb, count)`: count calls of op(a[i], b, a[i]) (copy: copy(a[i], b)) over consecutive a[i]. */
function loopPlugin(m: WasmModuleBuilder, op: (typeof OPS)[number]) {
  const name = `bench_${op}`;
  const f = m.addFunction(name);
  f.addParam("pa", "i32");
  f.addParam("pb", "i32");
  f.addParam("count", "i32");
  f.addLocal("end", "i32");
  const c = f.getCodeBuilder();
  const args =
    op === "frm_copy" ? [c.getLocal("pa"), c.getLocal("pb")] : [c.getLocal("pa"), c.getLocal("pb"), c.getLocal("pa")];
  f.addCode(
    c.setLocal("end", c.i32_add(c.getLocal("pa"), c.i32_mul(c.getLocal("count"), c.i32_const(32)))),
    c.block(
      c.loop(
        c.br_if(1, c.i32_ge_u(c.getLocal("pa"), c.getLocal("end"))),
        c.call(op, ...args),
        c.setLocal("pa", c.i32_add(c.getLocal("pa"), c.i32_const(32))),
        c.br(0),
      ),
    ),
  );
  m.exportFunction(name);
}

/**
 * The task snarkjs's Groth16 prover ran for each of A, B, C (wasmcurves's FFTs): evaluations to coefficients, each
 * times g^i (the key `one`, `g`), then evaluations again — those on the odd coset.
 */
function snarkjsCosetTask(
  curve: BenchCurve,
  evals: Uint8Array,
  { n, one, g }: { n: number; one: Uint8Array; g: Uint8Array },
): Promise<Uint8Array[]> {
  return curve.tm.queueAction([
    { cmd: "ALLOCSET", var: 0, buff: evals },
    { cmd: "ALLOCSET", var: 1, buff: one },
    { cmd: "ALLOCSET", var: 2, buff: g },
    { cmd: "ALLOC", var: 3, len: n * 32 },
    { cmd: "CALL", fnName: "frm_batchToMontgomery", params: [{ var: 0 }, { val: n }, { var: 0 }] },
    { cmd: "CALL", fnName: "frm_ifft", params: [{ var: 0 }, { val: n }] },
    {
      cmd: "CALL",
      fnName: "frm_batchApplyKey",
      params: [{ var: 0 }, { val: n }, { var: 1 }, { var: 2 }, { var: 3 }],
    },
    { cmd: "CALL", fnName: "frm_fft", params: [{ var: 3 }, { val: n }] },
    { cmd: "GET", out: 0, var: 3, len: n * 32 },
  ]);
}

async function main() {
  const json = process.argv.includes("--json");
  const runs = Number(argValue("--runs") ?? 5);
  const powers = (argValue("--powers") ?? "14,16").split(",").map(Number);
  const curve = (await buildBn128(true, (module) => {
    const m = module as WasmModuleBuilder;
    fftPlugin(m);
    m.exportFunction("frm__reversePermutation");
    for (const op of OPS) loopPlugin(m, op);
  })) as unknown as BenchCurve;
  const one = curve.Fr.e(1);
  const results = [];
  for (const power of powers) {
    const n = 2 ** power;
    const g = curve.Fr.w[power + 1] as Uint8Array;
    const old = (evals: Uint8Array) => snarkjsCosetTask(curve, evals, { n, one, g });
    const call = (evals: Uint8Array, calls: Task) =>
      curve.tm.queueAction([
        { cmd: "ALLOCSET", var: 0, buff: evals },
        { cmd: "ALLOC", var: 1, len: (n / 2) * 32 },
        { cmd: "ALLOCSET", var: 2, buff: one },
        ...calls,
      ]);
    const samples: Record<string, number[]> = {
      oldMs: [],
      newMs: [],
      mulNs: [],
      addNs: [],
      subNs: [],
      copyNs: [],
      frmFftMs: [],
      bitReverseMs: [],
      ditMs: [],
      copyMs: [],
    };
    for (let r = 0; r <= runs; r++) {
      const evals = randomEvals(n);
      const a = await timed(() => old(evals));
      const b = await timed(() => cosetTransform({ curve, power, g, evals }));
      if (!Buffer.from(a.value[0] as Uint8Array).equals(Buffer.from(b.value))) {
        throw new Error(`2^${power}: the plugin's coset transform differs from wasmcurves's`);
      }
      const copy = await timed(() => call(evals, []));
      const mul = await timed(() =>
        call(evals, [
          { cmd: "CALL", fnName: FFT_FUNCTIONS.powers, params: [{ var: 0 }, { val: n }, { var: 2 }, { var: 0 }] },
        ]),
      );
      const ops: Record<string, number> = {};
      for (const op of OPS) {
        const t = await timed(() =>
          call(evals, [{ cmd: "CALL", fnName: `bench_${op}`, params: [{ var: 0 }, { var: 1 }, { val: n }] }]),
        );
        ops[op] = ((t.ms - copy.ms) * 1e6) / n;
      }
      const fft = await timed(() =>
        call(evals, [{ cmd: "CALL", fnName: "frm_fft", params: [{ var: 0 }, { val: n }] }]),
      );
      const rev = await timed(() =>
        call(evals, [{ cmd: "CALL", fnName: "frm__reversePermutation", params: [{ var: 0 }, { val: power }] }]),
      );
      // Timing only: the twiddle table (var 1) holds whatever the wasm memory held; a multiplication's time does not
      // depend on its operands.
      const dit = await timed(() =>
        call(evals, [
          { cmd: "CALL", fnName: FFT_FUNCTIONS.dit, params: [{ var: 0 }, { val: n }, { var: 1 }, { val: 1 }] },
        ]),
      );
      if (r === 0) continue; // warm-up
      samples.oldMs?.push(a.ms);
      samples.newMs?.push(b.ms);
      samples.copyMs?.push(copy.ms);
      samples.mulNs?.push(((mul.ms - copy.ms) * 1e6) / (n - 1));
      samples.addNs?.push(ops.frm_add ?? 0);
      samples.subNs?.push(ops.frm_sub ?? 0);
      samples.copyNs?.push(ops.frm_copy ?? 0);
      samples.frmFftMs?.push(fft.ms - copy.ms);
      samples.bitReverseMs?.push(rev.ms - copy.ms);
      samples.ditMs?.push(dit.ms - copy.ms);
    }
    const med = (k: string) => Math.round(median(samples[k] ?? []) * 10) / 10;
    const butterflies = (n / 2) * power;
    results.push({
      power,
      n,
      oldMs: med("oldMs"),
      newMs: med("newMs"),
      speedup: Math.round((med("oldMs") / med("newMs")) * 100) / 100,
      mulNs: med("mulNs"),
      addNs: med("addNs"),
      subNs: med("subNs"),
      copyNs: med("copyNs"),
      frmFftMs: med("frmFftMs"),
      frmFftNsPerButterfly: Math.round((med("frmFftMs") * 1e6) / butterflies),
      bitReverseMs: med("bitReverseMs"),
      ditMs: med("ditMs"),
      ditNsPerButterfly: Math.round((med("ditMs") * 1e6) / butterflies),
      /** n/2·log n multiplications at the measured cost of one: the floor of a radix-2 FFT's multiplications. */
      mulFloorMs: Math.round(((butterflies * med("mulNs")) / 1e6) * 10) / 10,
    });
  }
  const threaded = await threadedH(powers, runs);
  if (json) console.log(JSON.stringify({ runs, results, threaded }, null, 2));
  else {
    console.table(results);
    console.table(threaded);
  }
}

/**
 * The prover's whole FFT stage on the prover's threaded curve (one worker per core): H's scalars from A, B, C as the prover
 * did it (one task per polynomial with wasmcurves's FFTs, then qap_joinABC in one task) against `cosetHScalars`
 * (six half-transform tasks, then one join task per thread), interleaved, outputs checked equal.
 */
async function threadedH(powers: number[], runs: number) {
  const curve = (await proverCurve({ singleThread: false })) as unknown as BenchCurve & {
    tm: { concurrency: number };
    terminate(): Promise<void>;
  };
  const one = curve.Fr.e(1);
  const rows = [];
  for (const power of powers) {
    const n = 2 ** power;
    const g = curve.Fr.w[power + 1] as Uint8Array;
    const odd = async (evals: Uint8Array) => (await snarkjsCosetTask(curve, evals, { n, one, g }))[0] as Uint8Array;
    const oldH = async (a: Uint8Array, b: Uint8Array, c: Uint8Array) => {
      const [ao, bo, co] = await Promise.all([odd(a), odd(b), odd(c)]);
      const [out] = await curve.tm.queueAction([
        { cmd: "ALLOCSET", var: 0, buff: ao },
        { cmd: "ALLOCSET", var: 1, buff: bo },
        { cmd: "ALLOCSET", var: 2, buff: co },
        { cmd: "ALLOC", var: 3, len: n * 32 },
        { cmd: "CALL", fnName: "qap_joinABC", params: [{ var: 0 }, { var: 1 }, { var: 2 }, { val: n }, { var: 3 }] },
        { cmd: "CALL", fnName: "frm_batchFromMontgomery", params: [{ var: 3 }, { val: n }, { var: 3 }] },
        { cmd: "GET", out: 0, var: 3, len: n * 32 },
      ]);
      return out as Uint8Array;
    };
    const samples = {
      oldMs: [] as number[],
      newMs: [] as number[],
      oldCpuMs: [] as number[],
      newCpuMs: [] as number[],
    };
    const cpu = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    for (let r = 0; r <= runs; r++) {
      const [a, b, c] = [randomEvals(n), randomEvals(n), randomEvals(n)];
      // The prover writes A, B, C into shared memory (which the workers read without a copy).
      const share = (v: Uint8Array) => {
        const out = new Uint8Array(new SharedArrayBuffer(v.byteLength));
        out.set(v);
        return out;
      };
      const [sa, sb, sc] = [share(a), share(b), share(c)];
      const c0 = cpu();
      const x = await timed(() => oldH(a, b, c));
      const c1 = cpu();
      const y = await timed(async () => cosetHScalars({ curve, power, g, a: sa, b: sb, c: sc }));
      const c2 = cpu();
      if (!Buffer.from(x.value).equals(Buffer.from(y.value))) throw new Error(`2^${power}: H's scalars differ`);
      if (r === 0) continue;
      samples.oldMs.push(x.ms);
      samples.newMs.push(y.ms);
      samples.oldCpuMs.push(c1 - c0);
      samples.newCpuMs.push(c2 - c1);
    }
    const med = (xs: number[]) => Math.round(median(xs));
    rows.push({
      power,
      threads: curve.tm.concurrency,
      oldMs: med(samples.oldMs),
      newMs: med(samples.newMs),
      oldCpuMs: med(samples.oldCpuMs),
      newCpuMs: med(samples.newCpuMs),
      speedup: Math.round((median(samples.oldMs) / median(samples.newMs)) * 100) / 100,
    });
  }
  await curve.terminate();
  return rows;
}

await main();
