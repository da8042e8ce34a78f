/**
 * `npm run bench:setup [-- --json] [-- --powers 12,14,16,18] [-- --snarkjs 12] [-- --reps 3] [-- --zkey 16,17]
 * [-- --devzkey 16,17,18] [-- --threads 2]`: the development setup at each size.
 *
 * - ptau: {@link writeDevPtau} at each power (median of `--reps` runs for powers <= 14, one run above).
 * - snarkjs: snarkjs's own path to the same prepared file (`powersoftau new` + `contribute` + `prepare phase2`), at
 *   the `--snarkjs` powers, and the ratio of its time to ours.
 * - zkey: for a chain circuit of 2^p - 8 constraints, Groth16 `zkey new` + one phase-2 contribution + vkey export
 *   (what compileModel ran before the direct dev zkey), from a dev ptau of the cache (written first, not timed).
 * - devzkey: the same circuit through {@link writeDevZkey} (what compileModel runs for a dev setup now): a dev ptau
 *   of the circuit's power and the zkey from the same secrets, + vkey export; both steps timed. With `--verify`,
 *   `snarkjs zkey verify r1cs ptau zkey` runs after the timing (not timed), up to 2^16.
 *
 * Every measurement runs in its own child process, so peak RSS (`maxRSS`, worker threads included) is its own.
 * The machine is shared: the 1-minute load average before and after each run is printed with it, and CPU seconds
 * (user + system, all threads) next to wall time. `--verify` runs `snarkjs powersoftau verify` on each dev ptau after
 * its timing (a check, not part of the time; powers up to 16, it is slow beyond). Prints a table, then the JSON of every row with `--json`.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import { compileCircuit } from "../src/circuits/compile-circuit.js";
import { ensureDevPtau } from "../src/setup/dev-ptau.js";
import { writeDevZkey } from "../src/setup/dev-zkey.js";
import { writeDevPtau } from "../src/setup/ptau-writer.js";
import { packageRoot } from "../src/util/package-root.js";
import { argValue, median } from "./bench-util.js";

/** One measured run, as a child reports it. */
interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  bytes?: number;
  /** ptau rows with `--verify`: what `snarkjs powersoftau verify` said of the file (not timed). */
  verified?: boolean;
  steps?: Record<string, number>;
  constraints?: number;
}

/** One row of the table. */
export interface SetupBenchRow {
  kind: "ptau" | "snarkjs-ptau" | "zkey" | "devzkey";
  power: number;
  runs: number;
  /** Median wall time. */
  seconds: number;
  cpuSeconds: number;
  maxRssMiB: number;
  fileMiB?: number;
  verified?: boolean;
  /** snarkjs-ptau rows: snarkjs's time over ours at the same power; devzkey rows: the snarkjs zkey path's CPU time over ours. */
  ratio?: number;
  /** zkey rows: seconds of each step (median run). */
  steps?: Record<string, number>;
  constraints?: number;
  /** 1-minute load average before and after the runs (2 cores shared with other users). */
  load: [number, number];
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));
const list = (v: string | undefined, fallback: number[]) =>
  v === undefined ? fallback : v === "" ? [] : v.split(",").map(Number);

function measure<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return fn().then((value) => {
    const cpu = process.cpuUsage(cpu0);
    return { value, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  });
}

const maxRssMiB = () => process.resourceUsage().maxRSS / 1024;
const quietLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

async function childPtau(power: number, dir: string, threads: number | undefined): Promise<ChildResult> {
  const file = path.join(dir, `dev-${power}.ptau`);
  const r = await measure(() => writeDevPtau({ power, file, ...(threads ? { threads } : {}) }));
  const result: ChildResult = {
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    maxRssMiB: maxRssMiB(),
    bytes: r.value.bytes,
  };
  if (process.argv.includes("--verify") && power <= 16) {
    const pot = snarkjs.powersOfTau as unknown as { verify(f: string, l: unknown): Promise<boolean> };
    result.verified = await pot.verify(file, quietLogger);
  }
  return result;
}

async function childSnarkjs(power: number, dir: string): Promise<ChildResult> {
  const [f0, f1, f2] = [0, 1, 2].map((i) => path.join(dir, `snarkjs-${power}.${i}.ptau`)) as [string, string, string];
  const steps: Record<string, number> = {};
  const r = await measure(async () => {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    let t = performance.now();
    const lap = (name: string) => {
      steps[name] = round((performance.now() - t) / 1000, 2);
      t = performance.now();
    };
    await snarkjs.powersOfTau.newAccumulator(curve, power, f0, quietLogger);
    lap("new");
    await snarkjs.powersOfTau.contribute(f0, f1, "bench", randomBytes(32).toString("hex"), quietLogger);
    lap("contribute");
    await snarkjs.powersOfTau.preparePhase2(f1, f2, quietLogger);
    lap("preparePhase2");
  });
  return { seconds: r.seconds, cpuSeconds: r.cpuSeconds, maxRssMiB: maxRssMiB(), steps };
}

function chainCircuit(power: number): string {
  const n = 2 ** power - 8;
  const source = `pragma circom 2.1.6;
template Chain(n) {
    signal input a;
    signal output out;
    signal x[n];
    x[0] <== a * a;
    for (var i = 1; i < n; i++) x[i] <== x[i - 1] * x[i - 1] + a;
    out <== x[n - 1];
}
component main {public [a]} = Chain(${n});
`;
  return source;
}

async function childDevZkey(power: number, dir: string, threads: number | undefined): Promise<ChildResult> {
  const compiled = await compileCircuit({ source: chainCircuit(power), workDir: dir });
  const ptauFile = path.join(dir, "setup.ptau");
  const steps: Record<string, number> = {};
  let zkey: Uint8Array | undefined;
  const r = await measure(async () => {
    const made = await writeDevZkey({ r1cs: compiled.r1cs, ptauFile, ...(threads ? { threads } : {}) });
    zkey = made.zkey;
    const t = performance.now();
    await snarkjs.zKey.exportVerificationKey({ type: "mem", data: made.zkey });
    steps.ptau = round(made.seconds.ptau, 2);
    steps.zkey = round(made.seconds.zkey, 2);
    steps.exportVkey = round((performance.now() - t) / 1000, 2);
  });
  const result: ChildResult = {
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    maxRssMiB: maxRssMiB(),
    steps,
    constraints: compiled.nonLinearConstraints + compiled.linearConstraints,
  };
  if (process.argv.includes("--verify") && power <= 16 && zkey) {
    const z = snarkjs.zKey as unknown as {
      verifyFromR1cs(r1cs: unknown, ptau: string, zkey: unknown, logger?: unknown): Promise<boolean>;
    };
    result.verified = await z.verifyFromR1cs(
      { type: "mem", data: compiled.r1cs },
      ptauFile,
      { type: "mem", data: zkey },
      quietLogger,
    );
  }
  return result;
}

async function childZkey(power: number, dir: string, cacheDir: string): Promise<ChildResult> {
  const source = chainCircuit(power);
  const compiled = await compileCircuit({ source, workDir: dir });
  const ptau = await ensureDevPtau({ power, cacheDir });
  const steps: Record<string, number> = {};
  const zkey0 = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  const zkey1 = { type: "mem" } as { type: "mem"; data?: Uint8Array };
  const r = await measure(async () => {
    let t = performance.now();
    const lap = (name: string) => {
      steps[name] = round((performance.now() - t) / 1000, 2);
      t = performance.now();
    };
    await snarkjs.zKey.newZKey({ type: "mem", data: compiled.r1cs }, ptau.file, zkey0, quietLogger);
    lap("zkeyNew");
    await snarkjs.zKey.contribute(zkey0, zkey1, "bench", randomBytes(32).toString("hex"), quietLogger);
    lap("contribute");
    await snarkjs.zKey.exportVerificationKey(zkey1 as { type: "mem"; data: Uint8Array });
    lap("exportVkey");
  });
  return {
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    maxRssMiB: maxRssMiB(),
    steps,
    constraints: compiled.nonLinearConstraints + compiled.linearConstraints,
  };
}

async function child(kind: string, power: number): Promise<void> {
  const threadsArg = argValue("--threads");
  const dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-setup-bench-"));
  try {
    const cacheDir = path.join(packageRoot(), ".verinfer-cache", "bench");
    const result =
      kind === "ptau"
        ? await childPtau(power, dir, threadsArg ? Number(threadsArg) : undefined)
        : kind === "snarkjs"
          ? await childSnarkjs(power, dir)
          : kind === "devzkey"
            ? await childDevZkey(power, dir, threadsArg ? Number(threadsArg) : undefined)
            : await childZkey(power, dir, cacheDir);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  }
}

function runChild(kind: string, power: number): Promise<ChildResult> {
  const args = [fileURLToPath(import.meta.url), "--child", kind, String(power)];
  const threads = argValue("--threads");
  if (threads) args.push("--threads", threads);
  if (process.argv.includes("--verify")) args.push("--verify");
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--max-old-space-size=16384", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    p.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line) reject(new Error(`${kind} ${power} failed (exit ${code}): ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(7)) as ChildResult);
    });
  });
}

async function rows(kind: SetupBenchRow["kind"], power: number, runs: number): Promise<SetupBenchRow> {
  const load0 = os.loadavg()[0] as number;
  const results: ChildResult[] = [];
  const childKind = kind === "snarkjs-ptau" ? "snarkjs" : kind;
  for (let i = 0; i < runs; i++) results.push(await runChild(childKind, power));
  const sorted = [...results].sort((a, b) => a.seconds - b.seconds);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)] as ChildResult;
  const row: SetupBenchRow = {
    kind,
    power,
    runs,
    seconds: round(median(results.map((r) => r.seconds)), 2),
    cpuSeconds: round(median(results.map((r) => r.cpuSeconds)), 1),
    maxRssMiB: Math.round(Math.max(...results.map((r) => r.maxRssMiB))),
    load: [round(load0, 2), round(os.loadavg()[0] as number, 2)],
  };
  if (mid.bytes !== undefined) row.fileMiB = round(mid.bytes / 2 ** 20, 1);
  if (results.some((r) => r.verified !== undefined)) row.verified = results.every((r) => r.verified);
  if (mid.steps) row.steps = mid.steps;
  if (mid.constraints !== undefined) row.constraints = mid.constraints;
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

function table(all: SetupBenchRow[]): string {
  const head = "| what | power | runs | wall s (median) | CPU s | peak RSS MiB | file MiB | ratio | load 1m |";
  const lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---|"];
  for (const r of all) {
    const what =
      r.kind === "devzkey" && r.steps
        ? `direct dev setup: ptau + zkey + vkey (${Object.values(r.steps).join(" + ")} s)${r.verified === undefined ? "" : r.verified ? ", zkey verify ok" : ", zkey verify FAILED"}`
        : r.kind === "zkey" && r.steps
          ? `zkey new + contribute + vkey (${Object.values(r.steps).join(" + ")} s)`
          : r.kind === "ptau"
            ? "verinfer dev ptau"
            : `snarkjs new + contribute + prepare (${Object.values(r.steps ?? {}).join(" + ")} s)`;
    lines.push(
      `| ${what} | 2^${r.power} | ${r.runs} | ${r.seconds} | ${r.cpuSeconds} | ${r.maxRssMiB} | ${r.fileMiB ?? ""} | ` +
        `${r.ratio ? `${r.ratio}×` : ""} | ${r.load[0]} → ${r.load[1]} |`,
    );
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf("--child");
  if (childIndex >= 0) {
    await child(process.argv[childIndex + 1] as string, Number(process.argv[childIndex + 2]));
    return;
  }
  const powers = list(argValue("--powers"), [12, 14, 16, 18]);
  const snarkjsPowers = list(argValue("--snarkjs"), [12]);
  const zkeyPowers = list(argValue("--zkey"), []);
  const devZkeyPowers = list(argValue("--devzkey"), []);
  const reps = Number(argValue("--reps") ?? 3);
  await mkdir(path.join(packageRoot(), ".verinfer-cache", "bench"), { recursive: true });
  const uptime = () => execFileSync("uptime", { encoding: "utf8" }).trim();
  const startUptime = uptime();
  process.stderr.write(`cores: ${os.availableParallelism()}; ${startUptime}\n`);
  const all: SetupBenchRow[] = [];
  const ours = new Map<number, SetupBenchRow>();
  for (const p of devZkeyPowers) all.push(await rows("devzkey", p, 1));
  for (const p of [...new Set([...powers, ...snarkjsPowers])].sort((a, b) => a - b)) {
    const row = await rows("ptau", p, p <= 14 ? reps : 1);
    ours.set(p, row);
    all.push(row);
  }
  for (const p of snarkjsPowers) {
    const row = await rows("snarkjs-ptau", p, 1);
    const mine = ours.get(p) as SetupBenchRow;
    row.ratio = round(row.seconds / mine.seconds, 1);
    all.push(row);
  }
  // Largest first: its dev ptau (cached, not timed) then serves the smaller circuits too.
  for (const p of [...zkeyPowers].sort((a, b) => b - a)) all.push(await rows("zkey", p, 1));
  // The direct path's ratio: the snarkjs zkey path at the same power (its dev ptau excluded) over ours (ptau
  // included), in CPU seconds: on the shared machine the two rows run at different loads, which sets wall times.
  for (const row of all) {
    const snark = all.find((o) => o.kind === "zkey" && o.power === row.power);
    if (row.kind === "devzkey" && snark) row.ratio = round(snark.cpuSeconds / row.cpuSeconds, 1);
  }
  const endUptime = uptime();
  console.log(table(all));
  console.log(`\nstart: ${startUptime}\nend:   ${endUptime}`);
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify({ cores: os.availableParallelism(), uptime: [startUptime, endUptime], rows: all }));
  }
}

await main();
