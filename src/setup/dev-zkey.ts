import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import os from "node:os";
import { binfileSectionsOfFile, r1csLayout } from "../circuits/snark-binfile.js";
import { VerinferError } from "../errors.js";
import type { OnProgress } from "../util/progress.js";
import type { PointsTask } from "./fixed-base-worker.js";
import {
  chooseWindow,
  DEV_CONTRIBUTION_NAME,
  MAX_WRITER_POWER,
  randomFr,
  WorkerSet,
  type WriteDevPtauResult,
  writePtauFromSecrets,
} from "./ptau-writer.js";
import { type Elem, freshCurve, snarkjsInternals, type WasmCurve } from "./snarkjs-internals.js";

/** Parameters of {@link writeDevZkey}. */
export interface WriteDevZkeyParams {
  /** The circuit's `.r1cs` bytes (circom's binary format, bn128). */
  r1cs: Uint8Array;
  /** Where to write the dev ptau the zkey is derived from (power: the circuit's, atomically renamed). */
  ptauFile: string;
  /** Worker threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Largest circuit power accepted (default 27, the writer's limit). */
  maxPower?: number;
  onProgress?: OnProgress;
}

/** What {@link writeDevZkey} made. */
export interface DevZkey {
  /** The Groth16 zkey, snarkjs's format, sections 1–10, one phase-2 contribution named "verinfer dev". */
  zkey: Uint8Array;
  /** The matching dev ptau (same τ, α, β): `snarkjs zkey verify r1cs ptau zkey` accepts the pair. */
  ptau: WriteDevPtauResult;
  /** snarkjs's circuit hash (what `zkey new` prints), hex. */
  csHash: string;
  /** snarkjs's contribution hash (BLAKE2b-512 of the contribution's public key), hex. */
  contributionHash: string;
  /** Wall seconds of the two steps. */
  seconds: { ptau: number; zkey: number };
}

const G1 = 64;
const G2 = 128;
const FR = 32;
const CHUNK = { 1: 8192, 2: 4096 } as const;
/** snarkjs zkey new hashes the H points in chunks of this many (and its last chunk is always full: see below). */
const H_HASH_CHUNK = 1 << 14;

interface R1cs {
  nVars: number;
  nPublic: number;
  nConstraints: number;
  prime: bigint;
  /** Offset of the constraints section's data in the r1cs bytes, and its size. */
  constraints: { start: number; size: number };
}

function readR1cs(bytes: Uint8Array): R1cs {
  const layout = r1csLayout(bytes, "INVALID_INPUT");
  if (layout.n8 !== FR) {
    throw new VerinferError("INVALID_INPUT", "not a circom r1cs file", {
      details: `field elements of ${layout.n8} bytes (bn128 has 32)`,
    });
  }
  const { nWires, nPublic, nConstraints, prime, constraints } = layout;
  return { nVars: nWires, nPublic, nConstraints, prime, constraints };
}

interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (code: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}

/**
 * snarkjs's bn128 wasm (the module ffjavascript builds) instantiated on this thread with its own memory, called
 * with raw pointers: field arithmetic on millions of elements without a JavaScript object per element. Its memory
 * ends up holding secret-derived values: {@link FieldVm.wipe} zeroes it.
 */
class FieldVm {
  // biome-ignore lint/suspicious/noExplicitAny: wasm exports are untyped functions.
  readonly ex: any;
  private readonly memory: { buffer: ArrayBuffer; grow(pages: number): number };
  u8: Uint8Array;
  private top: number;

  constructor(curve: WasmCurve) {
    const wa = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    this.memory = new wa.Memory({ initial: curve.tm.u32.buffer.byteLength / 65536 });
    this.ex = new wa.Instance(new wa.Module(curve.tm.code), { env: { memory: this.memory } }).exports;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.top = new Uint32Array(this.memory.buffer)[0] as number;
  }

  /** Reserves `bytes`, keeping room above for the scratch space the wasm functions take from address 0's pointer. */
  alloc(bytes: number): number {
    const p = (this.top + 7) & ~7;
    this.top = p + bytes;
    const need = this.top + Math.max(64 << 20, 2 * bytes);
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
      this.u8 = new Uint8Array(this.memory.buffer);
    }
    new Uint32Array(this.memory.buffer)[0] = this.top;
    // The wasm functions' scratch space lies above `top`: what it left there is not ours to read as zero.
    this.u8.fill(0, p, p + bytes);
    return p;
  }

  /** A Montgomery element of `curve` copied in. */
  put(e: Elem): number {
    const p = this.alloc(FR);
    this.u8.set(e, p);
    return p;
  }

  small(v: number): number {
    const p = this.alloc(FR);
    new DataView(this.memory.buffer).setUint32(p, v, true);
    this.ex.frm_toMontgomery(p, p);
    return p;
  }

  read(p: number, bytes: number): Uint8Array {
    return this.u8.slice(p, p + bytes);
  }

  wipe(): void {
    new Uint8Array(this.memory.buffer).fill(0);
  }
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** One zkey section (or hash-only stream) of fixed-base multiples: scalars in the VM, results by chunk. */
interface PointSection {
  name: string;
  group: 1 | 2;
  count: number;
  /** VM address of `count` Montgomery scalars. */
  scalars: number;
  lem: boolean;
  hash: boolean;
  outLem: Uint8Array[];
  outU: Uint8Array[];
}

/**
 * Writes a development Groth16 setup directly from toxic waste this process draws and then overwrites: a dev
 * ptau of the circuit's power (with {@link writePtauFromSecrets}: τ, α, β) and the zkey `snarkjs zkey new` + one
 * `zkey contribute` (secret δ) would derive from it, byte for byte in every section `zkey verify` compares, but
 * computed as scalars times generators: the QAP polynomials are evaluated at τ in the field (Lagrange basis by
 * the barycentric formula, then u_j(τ), v_j(τ), w_j(τ) summed over the r1cs coefficients) and each point is one
 * fixed-base multiplication on worker threads. No multi-exponentiation, no per-point variable-base multiplication
 * by 1/δ (what makes `zkey new` + `contribute` take minutes from 2^16 up).
 *
 * The zkey's circuit hash is snarkjs's (the same points hashed in the same order, including `zkey new`'s reading
 * of one point past the ptau's τ section for domains of 2^15 and more, reproduced from the file's bytes), and its
 * one contribution record ("verinfer dev": δ·G1, a proof of knowledge of δ on the transcript) is what
 * `zkey contribute` writes, so `snarkjs zkey verify r1cs ptau zkey` accepts the pair and its proofs verify with
 * snarkjs's verifier. Whoever ran this could have kept the secrets: development only (`setup: "dev"`).
 *
 * Secrets live only in memory (never on disk, never in a bigint); their buffers, the field VM's memory and the
 * workers' memories are zeroed when done — best effort: copies the JavaScript engine makes are beyond reach.
 *
 * @throws VerinferError `INVALID_INPUT` for bytes that are not a bn128 r1cs, `SETUP_REQUIRED` for a circuit beyond
 *   `maxPower`.
 * @example
 * ```ts
 * const { zkey, ptau } = await writeDevZkey({ r1cs, ptauFile: "/tmp/dev-setup.ptau" });
 * ```
 */
export async function writeDevZkey(params: WriteDevZkeyParams): Promise<DevZkey> {
  const { r1cs: bytes, ptauFile, onProgress } = params;
  const threads = params.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new VerinferError("INVALID_OPTIONS", `threads must be a positive integer, got ${String(threads)}`);
  }
  const r1cs = readR1cs(bytes);
  const report = (message: string, done?: boolean) =>
    onProgress?.({ stage: "setup", message, ...(done ? { done } : {}) });
  const curve = await freshCurve();
  const internals = await snarkjsInternals();
  const { Fr } = curve;
  const r = Fr.toObject(Fr.e(-1)) + 1n;
  if (r1cs.prime !== r) throw new VerinferError("INVALID_INPUT", "the r1cs is not over bn128's scalar field");
  const { nVars, nPublic, nConstraints } = r1cs;
  if (nVars < nPublic + 1) throw new VerinferError("INVALID_INPUT", "the r1cs has fewer wires than public signals");
  const power = (nConstraints + nPublic).toString(2).length;
  const maxPower = Math.min(params.maxPower ?? MAX_WRITER_POWER, MAX_WRITER_POWER);
  if (power > maxPower) {
    throw new VerinferError("SETUP_REQUIRED", `a dev setup of power ${power} is out of reach`, {
      details: `pass a ceremony ptau file of power >= ${power} (dev setups stop at 2^${maxPower})`,
    });
  }
  const n = 2 ** power;

  const tau = randomFr(curve);
  const alpha = randomFr(curve);
  const beta = randomFr(curve);
  const delta = randomFr(curve);
  const secrets = [tau, alpha, beta, delta];
  const vm = new FieldVm(curve);
  let workers: WorkerSet | undefined;
  const jobs: PointsTask[] = [];
  try {
    const t0 = performance.now();
    report(`2^${power}: dev ptau (τ, α, β shared with the zkey)`);
    const ptau = await writePtauFromSecrets(
      { power, file: ptauFile, threads, ...(onProgress ? { onProgress } : {}) },
      { tau, alpha, beta },
    );
    const t1 = performance.now();
    report(`2^${power}: QAP at τ over ${nConstraints} constraints, ${nVars} wires`);
    const ex = vm.ex;
    const sec = (e: Elem) => vm.put(e);
    const [pTau, pAlpha, pBeta, pDelta] = secrets.map(sec) as [number, number, number, number];
    const pInvDelta = vm.alloc(FR);
    ex.frm_inverse(pDelta, pInvDelta);
    const pOne = vm.small(1);
    const pT = vm.alloc(FR);
    const pT2 = vm.alloc(FR);
    /** Writes x_i = x0·step^i and 1/(τ - x_i), i < count, to pX and pInv (one batch inversion; pT is scratch). */
    const pointsAndInverses = (pX0: number, pStep: number, count: number, pX: number, pInv: number) => {
      const pD = vm.alloc(FR * count);
      ex.frm_copy(pX0, pT);
      for (let i = 0; i < count; i++) {
        ex.frm_copy(pT, pX + FR * i);
        ex.frm_sub(pTau, pT, pD + FR * i);
        ex.frm_mul(pT, pStep, pT);
      }
      ex.frm_batchInverse(pD, FR, count, pInv, FR);
    };

    // Lagrange basis at τ over the domain of n: L_c = ω^c (τ^n - 1) / (n (τ - ω^c)), for the constraints and the
    // nPublic + 1 rows zkey new adds (A gets signal s at row nConstraints + s, pinning the public inputs).
    const rows = nConstraints + nPublic + 1;
    const pL = vm.alloc(FR * rows);
    {
      const pX = vm.alloc(FR * rows);
      const pOmega = vm.put(Fr.w[power] as Elem);
      const pK = vm.alloc(FR);
      ex.frm_copy(pTau, pK);
      for (let i = 0; i < power; i++) ex.frm_square(pK, pK);
      ex.frm_sub(pK, pOne, pK);
      ex.frm_inverse(vm.small(n), pT);
      ex.frm_mul(pK, pT, pK);
      pointsAndInverses(pOne, pOmega, rows, pX, pL);
      for (let c = 0; c < rows; c++) {
        const l = pL + FR * c;
        ex.frm_mul(l, pX + FR * c, l);
        ex.frm_mul(l, pK, l);
      }
    }

    // u, v, w at τ, and zkey new's coefficient section (A and B entries, values c·R² mod r as it stores them).
    const pU = vm.alloc(FR * nVars);
    const pV = vm.alloc(FR * nVars);
    const pW = vm.alloc(FR * nVars);
    vm.u8.fill(0, pU, pW + FR * nVars); // zero in Montgomery form too
    const { start, size } = r1cs.constraints;
    const pR = vm.alloc(size);
    vm.u8.set(bytes.subarray(start, start + size), pR);
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, size);
    const entries: Array<{ matrix: number; constraint: number; signal: number; at: number }> = [];
    let off = 0;
    const bad = (why: string): never => {
      throw new VerinferError("INVALID_INPUT", "malformed r1cs constraints", { details: why });
    };
    for (let c = 0; c < nConstraints; c++) {
      const l = pL + FR * c;
      for (let matrix = 0; matrix < 3; matrix++) {
        if (off + 4 > size) bad(`constraint ${c} is truncated`);
        const terms = view.getUint32(off, true);
        off += 4;
        const acc = matrix === 0 ? pU : matrix === 1 ? pV : pW;
        for (let k = 0; k < terms; k++) {
          if (off + 4 + FR > size) bad(`constraint ${c} is truncated`);
          const signal = view.getUint32(off, true);
          if (signal >= nVars) bad(`constraint ${c} names wire ${signal} of ${nVars}`);
          const coef = pR + off + 4;
          off += 4 + FR;
          ex.frm_toMontgomery(coef, coef);
          if (matrix < 2) entries.push({ matrix, constraint: c, signal, at: coef });
          ex.frm_mul(coef, l, pT);
          ex.frm_add(acc + FR * signal, pT, acc + FR * signal);
        }
      }
    }
    for (let s = 0; s <= nPublic; s++) {
      ex.frm_add(pU + FR * s, pL + FR * (nConstraints + s), pU + FR * s);
      entries.push({ matrix: 0, constraint: nConstraints + s, signal: s, at: pOne });
    }
    const coefSection = new Uint8Array(4 + entries.length * (12 + FR));
    {
      const cv = new DataView(coefSection.buffer);
      cv.setUint32(0, entries.length, true);
      entries.forEach((e, i) => {
        const o = 4 + i * (12 + FR);
        cv.setUint32(o, e.matrix, true);
        cv.setUint32(o + 4, e.constraint, true);
        cv.setUint32(o + 8, e.signal, true);
        ex.frm_toMontgomery(e.at, pT); // (c·R)·R: zkey new's Fr.mul(c, R²) written in normal form
        coefSection.set(vm.u8.subarray(pT, pT + FR), o + 12);
      });
    }

    // IC (s <= nPublic, over γ = 1) and C (s > nPublic, over δ) are β·u + α·v + w; the circuit hash takes C at δ = 1.
    const pIcC = vm.alloc(FR * nVars);
    for (let s = 0; s < nVars; s++) {
      const k = pIcC + FR * s;
      ex.frm_mul(pBeta, pU + FR * s, k);
      ex.frm_mul(pAlpha, pV + FR * s, pT);
      ex.frm_add(k, pT, k);
      ex.frm_add(k, pW + FR * s, k);
    }
    const nC = nVars - nPublic - 1;
    const pCd = vm.alloc(FR * nC);
    for (let s = 0; s < nC; s++) ex.frm_mul(pIcC + FR * (nPublic + 1 + s), pInvDelta, pCd + FR * s);

    // H: zkey new takes the odd points of the ptau's Lagrange block of 2n (the extended one, since the ptau's power
    // is the circuit's: its last power τ^(2n-1) counts as zero), and contribute divides them by δ:
    // H_i = x_i ((τ^2n - 1) / (2n (τ - x_i)) - τ^(2n-1) / (2n)) / δ, x_i = ω_2n^(2i+1).
    const pH = vm.alloc(FR * n);
    {
      const pX = vm.alloc(FR * n);
      const pInv = vm.alloc(FR * n);
      const pStep = vm.put(Fr.w[power] as Elem);
      const pC = vm.alloc(FR);
      const pE = vm.alloc(FR);
      ex.frm_copy(pOne, pE);
      ex.frm_copy(pTau, pC);
      for (let i = 0; i < power + 1; i++) {
        ex.frm_mul(pE, pC, pE); // running product: after the loop pE = τ^(2^(power+1) - 1)
        ex.frm_square(pC, pC);
      }
      ex.frm_sub(pC, pOne, pC); // τ^2n - 1
      ex.frm_inverse(vm.small(2 * n), pT2);
      ex.frm_mul(pC, pT2, pC);
      ex.frm_mul(pE, pT2, pE);
      pointsAndInverses(vm.put(Fr.w[power + 1] as Elem), pStep, n, pX, pInv);
      for (let i = 0; i < n; i++) {
        const h = pH + FR * i;
        ex.frm_mul(pInv + FR * i, pC, h);
        ex.frm_sub(h, pE, h);
        ex.frm_mul(h, pX + FR * i, h);
        ex.frm_mul(h, pInvDelta, h);
      }
    }

    const sections: Record<string, PointSection> = {};
    const add = (name: string, group: 1 | 2, count: number, scalars: number, lem: boolean, hash: boolean) => {
      sections[name] = { name, group, count, scalars, lem, hash, outLem: [], outU: [] };
    };
    add("IC", 1, nPublic + 1, pIcC, true, true);
    add("Cinit", 1, nC, pIcC + FR * (nPublic + 1), false, true);
    add("A", 1, nVars, pU, true, true);
    add("B1", 1, nVars, pV, true, true);
    add("C", 1, nC, pCd, true, false);
    add("H", 1, n, pH, true, false);
    add("B2", 2, nVars, pV, true, true);

    // Every scalar leaves the VM in its task (transferred to a worker, which zeroes it); then the VM is wiped.
    type Job = { section: PointSection; index: number; task: PointsTask };
    const byGroup: Record<1 | 2, Job[]> = { 1: [], 2: [] };
    for (const s of Object.values(sections)) {
      const chunk = CHUNK[s.group];
      for (let a = 0, index = 0; a < s.count; a += chunk, index++) {
        const k = Math.min(chunk, s.count - a);
        const task: PointsTask = {
          type: "points",
          kind: "scalars",
          n: k,
          params: [vm.read(s.scalars + FR * a, FR * k)],
          hashForms: s.hash,
          uncompressedOnly: true,
        };
        jobs.push(task);
        byGroup[s.group].push({ section: s, index, task });
      }
    }
    vm.wipe();
    for (const s of [tau, alpha, beta]) s.fill(0);

    workers = new WorkerSet(threads, {
      code: curve.tm.code,
      pFree: curve.tm.u32[0] as number,
      pages: curve.tm.u32.buffer.byteLength / 65536,
      pG1gen: curve.tm.pG1gen,
      pG2gen: curve.tm.pG2gen,
    });
    const total = byGroup[1].length + byGroup[2].length;
    let done = 0;
    let lastReport = 0;
    for (const group of [1, 2] as const) {
      const list = byGroup[group];
      if (list.length === 0) continue;
      await workers.loadTable(
        group,
        chooseWindow(
          list.reduce((acc, j) => acc + j.task.n, 0),
          threads,
        ),
      );
      await workers.drain(list, (job, res) => {
        if (job.section.lem) job.section.outLem[job.index] = res.lem as Uint8Array;
        if (job.section.hash) job.section.outU[job.index] = res.uncompressed as Uint8Array;
        done++;
        const now = performance.now();
        if (now - lastReport > 1000) {
          lastReport = now;
          const elapsed = (now - t1) / 1000;
          report(
            `2^${power}: zkey points ${Math.floor((100 * done) / total)}% — about ` +
              `${formatSeconds((elapsed * (total - done)) / Math.max(done, 1))} left`,
          );
        }
      });
    }

    report(`2^${power}: circuit hash, contribution record, zkey file`);
    const zkey = await assemble({ curve, internals, r1cs, power, ptauFile, coefSection, sections, delta });
    const t2 = performance.now();
    report(`dev zkey 2^${power} in ${formatSeconds((t2 - t1) / 1000)} (ptau ${formatSeconds((t1 - t0) / 1000)})`, true);
    return { ...zkey, ptau, seconds: { ptau: (t1 - t0) / 1000, zkey: (t2 - t1) / 1000 } };
  } finally {
    for (const s of secrets) s.fill(0);
    for (const job of jobs) for (const p of job.params) if (p.byteLength > 0) p.fill(0);
    vm.wipe();
    await workers?.close();
    new Uint8Array(curve.tm.memory.buffer).fill(0);
  }
}

interface AssembleParams {
  curve: WasmCurve;
  internals: Awaited<ReturnType<typeof snarkjsInternals>>;
  r1cs: R1cs;
  power: number;
  ptauFile: string;
  coefSection: Uint8Array;
  sections: Record<string, PointSection>;
  /** δ (the contribution record needs it); wiped by the caller. */
  delta: Elem;
}

async function assemble(p: AssembleParams): Promise<{ zkey: Uint8Array; csHash: string; contributionHash: string }> {
  const { curve, internals, r1cs, power, sections } = p;
  const { G1: g1, G2: g2 } = curve;
  const n = 2 ** power;
  const { nVars, nPublic } = r1cs;
  const sec = (name: string) => sections[name] as PointSection;
  const join = (parts: Uint8Array[]) => Buffer.concat(parts);

  // What zkey new copies from the ptau: α·G1, β·G1 (sections 4, 5 point 0), β·G2 (section 6); and for the circuit
  // hash, the H points τ^i (τ^n - 1)·G1 it forms from section 2 (τ^(n+i) - τ^i).
  const ptauSections = await readPtauSections(p.ptauFile);
  const handle = await open(p.ptauFile, "r");
  const readAt = async (at: number, length: number) => {
    const b = new Uint8Array(length);
    await handle.read(b, 0, length, at);
    return b;
  };
  let alpha1: Uint8Array;
  let beta1: Uint8Array;
  let beta2: Uint8Array;
  let hashH: Uint8Array;
  try {
    alpha1 = await readAt(ptauSections.get(4) as number, G1);
    beta1 = await readAt(ptauSections.get(5) as number, G1);
    beta2 = await readAt(ptauSections.get(6) as number, G2);
    // zkey new's hashHPoints reads chunks of min(n - 1, 2^14) points from every multiple of 2^14 below n - 1:
    // from n = 2^15 on that is n points, not n - 1, and the last one is τ^(n-1)·G1 subtracted from the 64 bytes
    // after the τ·G1 section. Reproduced from the same bytes, so the hash is the one `zkey verify` recomputes.
    const chunks = Math.ceil((n - 1) / H_HASH_CHUNK);
    const count = n - 1 <= H_HASH_CHUNK ? n - 1 : chunks * Math.min(n - 1, H_HASH_CHUNK);
    const s2 = ptauSections.get(2) as number;
    const high = await readAt(s2 + n * G1, count * G1);
    const low = await readAt(s2, count * G1);
    hashH = subtractToUncompressed(curve, high, low, count);
  } finally {
    await handle.close();
  }

  const pointVm = new FieldVm(curve);
  const U1 = (lem: Uint8Array) => lemToU(pointVm, 1, lem);
  const U2 = (lem: Uint8Array) => lemToU(pointVm, 2, lem);
  const genG1 = new Uint8Array(G1);
  const genG2 = new Uint8Array(G2);
  g1.toRprLEM(genG1, 0, g1.g);
  g2.toRprLEM(genG2, 0, g2.g);
  const be32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, false);
    return b;
  };
  const cs = createHash("blake2b512");
  for (const u of [U1(alpha1), U1(beta1), U2(beta2), U2(genG2), U1(genG1), U2(genG2)]) cs.update(u);
  const hashSection = (name: string, count: number) => {
    cs.update(be32(count));
    for (const u of sec(name).outU) cs.update(u);
  };
  hashSection("IC", nPublic + 1);
  cs.update(be32(n - 1));
  cs.update(hashH);
  hashSection("Cinit", nVars - nPublic - 1);
  hashSection("A", nVars);
  hashSection("B1", nVars);
  hashSection("B2", nVars);
  const csHash = new Uint8Array(cs.digest());

  // The contribution `zkey contribute` would record for δ: δ·G1, a random s·G1, s·δ·G1, the transcript
  // (circuit hash, then both G1 points) and δ times the G2 point hashed from it.
  const delta = p.delta;
  const rnd = randomFr(curve);
  const g1s = g1.toAffine(g1.timesFr(g1.g, rnd));
  rnd.fill(0);
  const g1sx = g1.toAffine(g1.timesFr(g1s, delta));
  const uncompressed = (group: 1 | 2, point: Elem) => {
    const b = new Uint8Array(group === 1 ? G1 : G2);
    (group === 1 ? g1 : g2).toRprUncompressed(b, 0, point);
    return b;
  };
  const lemOf = (group: 1 | 2, point: Elem) => {
    const b = new Uint8Array(group === 1 ? G1 : G2);
    (group === 1 ? g1 : g2).toRprLEM(b, 0, point);
    return b;
  };
  const transcript = new Uint8Array(
    createHash("blake2b512").update(csHash).update(uncompressed(1, g1s)).update(uncompressed(1, g1sx)).digest(),
  );
  const g2sp = internals.hashToG2(curve, transcript);
  const g2spx = g2.toAffine(g2.timesFr(g2sp, delta));
  const delta1 = g1.toAffine(g1.timesFr(g1.g, delta));
  const delta2 = g2.toAffine(g2.timesFr(g2.g, delta));
  const contributionHash = createHash("blake2b512")
    .update(uncompressed(1, delta1))
    .update(uncompressed(1, g1s))
    .update(uncompressed(1, g1sx))
    .update(uncompressed(2, g2spx))
    .update(transcript)
    .digest("hex");
  const name = new TextEncoder().encode(DEV_CONTRIBUTION_NAME);
  const contribution = join([
    csHash,
    le32(1),
    lemOf(1, delta1),
    lemOf(1, g1s),
    lemOf(1, g1sx),
    lemOf(2, g2spx),
    transcript,
    le32(0),
    le32(2 + name.length),
    new Uint8Array([1, name.length]),
    name,
  ]);

  const q = curve.q;
  const header = join([
    le32(32),
    bigLE(q, 32),
    le32(32),
    bigLE(curve.Fr.toObject(curve.Fr.e(-1)) + 1n, 32),
    le32(nVars),
    le32(nPublic),
    le32(n),
    alpha1,
    beta1,
    beta2,
    genG2,
    lemOf(1, delta1),
    lemOf(2, delta2),
  ]);
  const body: Array<[number, Uint8Array]> = [
    [1, le32(1)],
    [2, header],
    [3, join(sec("IC").outLem)],
    [4, p.coefSection],
    [5, join(sec("A").outLem)],
    [6, join(sec("B1").outLem)],
    [7, join(sec("B2").outLem)],
    [8, join(sec("C").outLem)],
    [9, join(sec("H").outLem)],
    [10, contribution],
  ];
  const total = 12 + body.reduce((acc, [, b]) => acc + 12 + b.length, 0);
  const zkey = new Uint8Array(total);
  const zv = new DataView(zkey.buffer);
  zkey.set(new TextEncoder().encode("zkey"), 0);
  zv.setUint32(4, 1, true);
  zv.setUint32(8, body.length, true);
  let pos = 12;
  for (const [id, b] of body) {
    zv.setUint32(pos, id, true);
    zv.setBigUint64(pos + 4, BigInt(b.length), true);
    zkey.set(b, pos + 12);
    pos += 12 + b.length;
  }
  return { zkey, csHash: Buffer.from(csHash).toString("hex"), contributionHash };
}

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

function bigLE(v: bigint, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
}

/** Start of each section's data in a ptau file. */
async function readPtauSections(file: string): Promise<Map<number, number>> {
  const sections = await binfileSectionsOfFile(file, "ptau", "INTERNAL");
  return new Map([...sections].map(([type, section]) => [type, section.start]));
}

/** Affine Montgomery points to snarkjs's uncompressed form, with the wasm's own conversion (public points only). */
function lemToU(vm: FieldVm, group: 1 | 2, lem: Uint8Array): Uint8Array {
  const p = vm.alloc(lem.length);
  vm.u8.set(lem, p);
  const size = group === 1 ? G1 : G2;
  (group === 1 ? vm.ex.g1m_batchLEMtoU : vm.ex.g2m_batchLEMtoU)(p, lem.length / size, p);
  const out = vm.read(p, lem.length);
  vm.u8.fill(0, p, p + lem.length);
  return out;
}

/** `high[i] - low[i]` as snarkjs's g1m_subAffine + batchToAffine + batchLEMtoU compute them (uncompressed). */
function subtractToUncompressed(curve: WasmCurve, high: Uint8Array, low: Uint8Array, count: number): Uint8Array {
  const vm = new FieldVm(curve);
  const pA = vm.alloc(high.length);
  const pB = vm.alloc(low.length);
  const pJ = vm.alloc(count * 96);
  vm.u8.set(high, pA);
  vm.u8.set(low, pB);
  for (let i = 0; i < count; i++) vm.ex.g1m_subAffine(pA + G1 * i, pB + G1 * i, pJ + 96 * i);
  vm.ex.g1m_batchToAffine(pJ, count, pJ);
  vm.ex.g1m_batchLEMtoU(pJ, count, pJ);
  return vm.read(pJ, count * G1);
}
