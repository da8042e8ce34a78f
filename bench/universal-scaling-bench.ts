/**
 * `npm run bench:universal [-- --domains 10,12,14] [-- --systems plonk,fflonk] [-- --compile-only]`: how snarkjs's PLONK and
 * FFLONK setup and prove scale with the circuit, measured on chain circuits (`x[i] <== x[i-1] * x[i-1]`, one PLONK
 * gate per constraint) sized to fill a domain of `2^c` gates. Per domain power c, each step runs in its own child
 * process, so its peak RSS (`maxRSS`, worker threads included) and CPU seconds (user + system, all threads) are its
 * own:
 *
 * - ptau: {@link writeDevPtau} of power c + 3, what FFLONK needs (PLONK reads the same file: it needs only c);
 * - setup: snarkjs `plonk setup` / `fflonk setup` from that ptau (compile excluded), zkey kept on disk for the next;
 * - prove: witness + snarkjs `plonk prove` / `fflonk prove`, one warm-up proof then one timed (the verifier checks it).
 *
 * What it is for: the MLP (153,089 gates, a 2^18 domain) needs a 2^21 ptau under FFLONK; these rows give the growth
 * per doubling to extrapolate from, next to PLONK's at the same sizes (whose MLP point `bench:systems` measures).
 * The 1-minute load average before and after each step is printed with it: the machine is shared.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import { compileCircuit } from "../src/circuits/compile-circuit.js";
import { writeDevPtau } from "../src/setup/ptau-writer.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue } from "./bench-util.js";

type System = "plonk" | "fflonk";
type Step = "ptau" | "setup" | "prove";

/** One measured step, as a child reports it. */
export interface ScalingRow {
  step: Step;
  system?: System;
  /** Domain power c: the circuit has 2^c - 6 gates. */
  domain: number;
  /** ptau rows: the file's power (c + 3). */
  ptauPower?: number;
  gates?: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  /** ptau: the file; setup: the zkey. */
  fileMiB?: number;
  /** 1-minute load average before and after. */
  load: [number, number];
}

interface ChildOut {
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  bytes?: number;
  gates?: number;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const load1 = () => round(os.loadavg()[0] as number, 2);
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => process.stderr.write(`${m}\n`) };
const workRoot = () => path.join(packageRoot(), ".verinfer-cache", "bench-universal");

function chainSource(domain: number): string {
  // gates = constraints + public signals (out, a) = (2^c - 8) + 2
  return `pragma circom 2.1.6;
template Chain(n) {
    signal input a;
    signal output out;
    signal x[n];
    x[0] <== a * a;
    for (var i = 1; i < n; i++) x[i] <== x[i - 1] * x[i - 1];
    out <== x[n - 1];
}
component main {public [a]} = Chain(${2 ** domain - 8});
`;
}

async function timed(fn: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

async function circuit(domain: number): Promise<{ r1cs: Uint8Array; wasm: Uint8Array }> {
  const dir = path.join(workRoot(), `circuit-${domain}`);
  const r1csFile = path.join(dir, "chain.r1cs");
  const wasmFile = path.join(dir, "chain.wasm");
  if (!(await stat(wasmFile).catch(() => undefined))) {
    await mkdir(dir, { recursive: true });
    const work = await mkdtemp(path.join(os.tmpdir(), "verinfer-universal-"));
    try {
      const compiled = await compileCircuit({ source: chainSource(domain), workDir: work });
      await writeFile(r1csFile, compiled.r1cs);
      await writeFile(wasmFile, compiled.wasm);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return { r1cs: new Uint8Array(await readFile(r1csFile)), wasm: new Uint8Array(await readFile(wasmFile)) };
}

const ptauFile = (domain: number) => path.join(workRoot(), `dev-${domain + 3}.ptau`);
const zkeyFile = (system: System, domain: number) => path.join(workRoot(), `${system}-${domain}.zkey`);

async function child(step: Step, system: System, domain: number): Promise<ChildOut> {
  const curveDone = async () => (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  if (step === "ptau") {
    let bytes = 0;
    const t = await timed(async () => {
      bytes = (await writeDevPtau({ power: domain + 3, file: ptauFile(domain) })).bytes;
    });
    return { ...t, maxRssMiB: process.resourceUsage().maxRSS / 1024, bytes };
  }
  const { r1cs, wasm } = await circuit(domain);
  const sj = system === "plonk" ? snarkjs.plonk : snarkjs.fflonk;
  if (step === "setup") {
    const zkey = { type: "mem" } as { type: "mem"; data?: Uint8Array };
    let gates: number | undefined;
    const logger = {
      ...quiet,
      info: (m: string) => {
        const g = /^(?:Plonk constraints|\s*Constraints):\s+(\d+)/.exec(m);
        if (g) gates = Number(g[1]);
      },
    };
    const t = await timed(async () => {
      const r = await (sj.setup as (...a: unknown[]) => Promise<unknown>)(
        { type: "mem", data: r1cs },
        ptauFile(domain),
        zkey,
        logger,
      );
      if (r === -1 || !zkey.data) throw new Error(`${system} setup failed`);
    });
    await writeFile(zkeyFile(system, domain), zkey.data as Uint8Array);
    await curveDone();
    return {
      ...t,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
      bytes: (zkey.data as Uint8Array).length,
      ...(gates !== undefined ? { gates } : {}),
    };
  }
  const zkey = new Uint8Array(await readFile(zkeyFile(system, domain)));
  const vkey = await snarkjs.zKey.exportVerificationKey({ type: "mem", data: zkey });
  const proveOnce = async () => {
    const wtns = { type: "mem" } as { type: "mem"; data?: Uint8Array };
    await snarkjs.wtns.calculate({ a: 3 }, { type: "mem", data: wasm }, wtns);
    return sj.prove({ type: "mem", data: zkey }, wtns as { type: "mem"; data: Uint8Array });
  };
  await proveOnce(); // warm-up: curve threads, wasm instantiation
  let result: Awaited<ReturnType<typeof proveOnce>> | undefined;
  const t = await timed(async () => {
    result = await proveOnce();
  });
  const r = result as NonNullable<typeof result>;
  if (!(await sj.verify(vkey, r.publicSignals, r.proof))) throw new Error(`${system} proof did not verify`);
  await curveDone();
  return { ...t, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

function runChild(step: Step, system: System, domain: number): Promise<ChildOut> {
  const args = [fileURLToPath(import.meta.url), "--child", step, system, String(domain)];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--max-old-space-size=20000", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line)
        reject(new Error(`${step} ${system} 2^${domain} failed (exit ${code}): ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(7)) as ChildOut);
    });
  });
}

async function measure(step: Step, system: System | undefined, domain: number): Promise<ScalingRow> {
  const before = load1();
  const r = await runChild(step, system ?? "plonk", domain);
  const row: ScalingRow = {
    step,
    ...(system ? { system } : {}),
    domain,
    ...(step === "ptau" ? { ptauPower: domain + 3 } : {}),
    ...(r.gates !== undefined ? { gates: r.gates } : {}),
    seconds: round(r.seconds, 2),
    cpuSeconds: round(r.cpuSeconds, 1),
    maxRssMiB: Math.round(r.maxRssMiB),
    ...(r.bytes !== undefined ? { fileMiB: round(r.bytes / 2 ** 20, 1) } : {}),
    load: [before, load1()],
  };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  return row;
}

async function main(): Promise<void> {
  const c = process.argv.indexOf("--child");
  if (c >= 0) {
    const [step, system, domain] = process.argv.slice(c + 1, c + 4) as [Step, System, string];
    const out = await child(step, system, Number(domain));
    process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
    return;
  }
  const domains = (argValue("--domains") ?? "10,12,14").split(",").map(Number);
  const systems = (argValue("--systems") ?? "plonk,fflonk").split(",") as System[];
  await mkdir(workRoot(), { recursive: true });
  if (process.argv.includes("--compile-only")) {
    // Compiling is not timed: do it ahead, outside the benchmark lock.
    for (const domain of domains) await circuit(domain);
    return;
  }
  const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
  process.stderr.write(`cores: ${os.availableParallelism()}; ${uptime()}\n`);
  const rows: ScalingRow[] = [];
  for (const domain of domains) {
    await circuit(domain); // compile once, untimed
    rows.push(await measure("ptau", undefined, domain));
    for (const system of systems) {
      rows.push(await measure("setup", system, domain));
      rows.push(await measure("prove", system, domain));
      await rm(zkeyFile(system, domain), { force: true });
    }
    await rm(ptauFile(domain), { force: true });
  }
  process.stderr.write(`end: ${uptime()}\n`);
  const lines = [
    "| step | system | domain | wall s | CPU s | peak RSS MiB | file MiB | load 1m |",
    "|---|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.step}${r.ptauPower ? ` 2^${r.ptauPower}` : ""} | ${r.system ?? ""} | 2^${r.domain} | ${r.seconds} | ` +
        `${r.cpuSeconds} | ${r.maxRssMiB} | ${r.fileMiB ?? ""} | ${r.load[0]} → ${r.load[1]} |`,
    );
  }
  process.stderr.write(`${lines.join("\n")}\n`);
}

await main();
