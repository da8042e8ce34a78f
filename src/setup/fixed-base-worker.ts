/**
 * The worker thread of the dev ptau writer: fixed-base scalar multiplication of the BN254 generators on
 * snarkjs's own WebAssembly curve code (wasmcurves, as built by ffjavascript), driven from JavaScript.
 *
 * The body is one self-contained function that {@link fixedBaseWorkerSource} turns into source text for
 * `new Worker(src, { eval: true })`: it imports nothing and closes over nothing, so it runs the same from src/
 * under vitest (transpiled by esbuild) as from dist/, with no build step between them.
 */

/** What a worker receives first (`workerData`). */
export interface FixedBaseWorkerInit {
  /** The bn128 wasm module snarkjs builds (ffjavascript `curve.tm.code`). */
  code: Uint8Array;
  /** Addresses inside that module: first free byte, affine generators of G1 and G2. */
  pFree: number;
  /** Initial memory size the module declares, in 64 KiB pages. */
  pages: number;
  pG1gen: number;
  pG2gen: number;
}

/** Builds windows `[from, to)` of the table of `group` into `shared` (affine, Montgomery). */
export interface TableTask {
  type: "table";
  group: 1 | 2;
  /** Window width in bits; each window holds 2^(w-1) points (signed digits). */
  w: number;
  from: number;
  to: number;
  shared: SharedArrayBuffer;
}

/** Copies a whole table (built by every worker's {@link TableTask}s) into this worker's memory. */
export interface LoadTask {
  type: "load";
  group: 1 | 2;
  w: number;
  windows: number;
  shared: SharedArrayBuffer;
}

/**
 * `n` points `[s_k]·G` of the loaded group, written affine in snarkjs's LEM encoding, optionally also
 * compressed and uncompressed (the forms the ptau hash chain hashes). Scalars (Fr, Montgomery, 32 bytes each):
 * - geometric: `s_k = a · b^k` (`a`, `b` = params[0], params[1]);
 * - lagrange: `s_k = x_k · (c / (tau - x_k) - e)`, `x_k = x0 · omega^k`
 *   (params = x0, omega, tau, c, e): the Lagrange basis at tau over a power-of-two domain;
 * - scalars: the n scalars themselves, back to back in params[0] (n · 32 bytes).
 */
export interface PointsTask {
  type: "points";
  kind: "geometric" | "lagrange" | "scalars";
  n: number;
  params: Uint8Array[];
  /** Also return the points compressed and uncompressed (what snarkjs hashes). */
  hashForms: boolean;
  /** With `hashForms`: only the uncompressed form (a zkey's circuit hash needs no compressed points). */
  uncompressedOnly?: boolean;
}

/** Zeroes the worker's whole wasm memory (table, scalars, secrets) before it is terminated. */
export interface WipeTask {
  type: "wipe";
}

export type FixedBaseTask = TableTask | LoadTask | PointsTask | WipeTask;

/** A worker's answer to one task. */
export interface FixedBaseResult {
  ok: boolean;
  error?: string;
  lem?: Uint8Array;
  compressed?: Uint8Array;
  uncompressed?: Uint8Array;
}

/** Number of signed windows of width `w` that cover a 254-bit scalar with room for the last carry. */
export function windowCount(w: number): number {
  return Math.ceil(256 / w);
}

interface WasmApi {
  Memory: new (d: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
  Module: new (code: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}

function fixedBaseWorkerMain(): void {
  // An eval'd worker is a CommonJS script: `require` is its loader (no import statements allowed here).
  const threads = require("node:worker_threads") as typeof import("node:worker_threads");
  const init = threads.workerData.init as FixedBaseWorkerInit;
  const port = threads.parentPort;
  if (!port) throw new Error("not a worker thread");
  // The project's lib has no WebAssembly typings (ES2022 without DOM): the few constructors used, typed here.
  const wa = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const memory = new wa.Memory({ initial: init.pages });
  const instance = new wa.Instance(new wa.Module(init.code), { env: { memory } });
  // biome-ignore lint/suspicious/noExplicitAny: wasm exports are untyped functions.
  const ex = instance.exports as any;
  let u8 = new Uint8Array(memory.buffer);
  let u32 = new Uint32Array(memory.buffer);
  // The wasm functions take scratch space from the pointer at address 0 upwards; ours sits below it.
  let top = init.pFree;
  const SCRATCH = 8 << 20;

  function reserve(bytes: number): number {
    const p = (top + 7) & ~7;
    top = p + bytes;
    const need = top + SCRATCH + bytes * 3;
    if (need > memory.buffer.byteLength) {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
      u8 = new Uint8Array(memory.buffer);
      u32 = new Uint32Array(memory.buffer);
    }
    u32[0] = top;
    return p;
  }
  function release(p: number): void {
    top = p;
    u32[0] = top;
  }

  const field = (prefix: string) => ({
    copy: ex[`${prefix}_copy`],
    add: ex[`${prefix}_add`],
    sub: ex[`${prefix}_sub`],
    neg: ex[`${prefix}_neg`],
    mul: ex[`${prefix}_mul`],
    square: ex[`${prefix}_square`],
    isZero: ex[`${prefix}_isZero`],
    batchInverse: ex[`${prefix}_batchInverse`],
  });
  const G = {
    1: {
      sA: 64,
      sJ: 96,
      gen: init.pG1gen,
      addMixed: ex.g1m_addMixed,
      double: ex.g1m_double,
      toJacobian: ex.g1m_toJacobian,
      toAffine: ex.g1m_toAffine,
      batchToAffine: ex.g1m_batchToAffine,
      batchLEMtoC: ex.g1m_batchLEMtoC,
      batchLEMtoU: ex.g1m_batchLEMtoU,
      f: field("f1m"),
    },
    2: {
      sA: 128,
      sJ: 192,
      gen: init.pG2gen,
      addMixed: ex.g2m_addMixed,
      double: ex.g2m_double,
      toJacobian: ex.g2m_toJacobian,
      toAffine: ex.g2m_toAffine,
      batchToAffine: ex.g2m_batchToAffine,
      batchLEMtoC: ex.g2m_batchLEMtoC,
      batchLEMtoU: ex.g2m_batchLEMtoU,
      f: field("f2m"),
    },
  } as const;

  let loaded: { group: 1 | 2; w: number; windows: number; pTable: number } | undefined;

  function buildTable(task: TableTask): void {
    const g = G[task.group];
    const half = 2 ** (task.w - 1);
    const mark = top;
    const pB = reserve(g.sJ);
    const pBa = reserve(g.sA);
    const pE = reserve(half * g.sJ);
    const pOut = reserve(half * g.sA);
    const out = new Uint8Array(task.shared);
    g.toJacobian(g.gen, pB);
    for (let i = 0; i < task.w * task.from; i++) g.double(pB, pB);
    for (let j = task.from; j < task.to; j++) {
      g.toAffine(pB, pBa);
      g.toJacobian(pBa, pE);
      for (let k = 1; k < half; k++) g.addMixed(pE + (k - 1) * g.sJ, pBa, pE + k * g.sJ);
      g.batchToAffine(pE, half, pOut);
      out.set(u8.subarray(pOut, pOut + half * g.sA), j * half * g.sA);
      for (let i = 0; i < task.w; i++) g.double(pB, pB);
    }
    release(mark);
  }

  function loadTable(task: LoadTask): void {
    if (loaded) release(loaded.pTable);
    const g = G[task.group];
    const bytes = task.windows * 2 ** (task.w - 1) * g.sA;
    const pTable = reserve(bytes);
    u8.set(new Uint8Array(task.shared, 0, bytes), pTable);
    loaded = { group: task.group, w: task.w, windows: task.windows, pTable };
  }

  function points(task: PointsTask): FixedBaseResult {
    if (!loaded) throw new Error("no table loaded");
    const { group, w, windows, pTable } = loaded;
    const g = G[group];
    const n = task.n;
    const mark = top;
    const explicit = task.kind === "scalars";
    const pP = reserve(explicit ? 32 : 32 * task.params.length);
    if (!explicit) {
      task.params.forEach((p, i) => {
        u8.set(p, pP + 32 * i);
        p.fill(0);
      });
    }
    const pS = reserve(32 * n);
    const pX = reserve(32 * n);
    const pD = reserve(32 * n);
    const pT = reserve(32);
    if (explicit) {
      const given = task.params[0] as Uint8Array;
      if (given.length !== 32 * n) throw new Error("scalars: params[0] must hold n scalars");
      u8.set(given, pS);
      given.fill(0);
    } else if (task.kind === "geometric") {
      ex.frm_copy(pP, pT);
      for (let k = 0; k < n; k++) {
        ex.frm_copy(pT, pS + 32 * k);
        ex.frm_mul(pT, pP + 32, pT);
      }
    } else {
      const [pOmega, pTau, pC, pE] = [pP + 32, pP + 64, pP + 96, pP + 128];
      ex.frm_copy(pP, pT);
      for (let k = 0; k < n; k++) {
        ex.frm_copy(pT, pX + 32 * k);
        ex.frm_sub(pTau, pT, pD + 32 * k);
        ex.frm_mul(pT, pOmega, pT);
      }
      ex.frm_batchInverse(pD, 32, n, pS, 32);
      for (let k = 0; k < n; k++) {
        const s = pS + 32 * k;
        ex.frm_mul(s, pC, s);
        ex.frm_sub(s, pE, s);
        ex.frm_mul(s, pX + 32 * k, s);
      }
    }
    ex.frm_batchFromMontgomery(pS, n, pS);

    // Signed digits of every scalar, window by window.
    const half = 2 ** (w - 1);
    const full = 2 ** w;
    const mask = full - 1;
    const digits = new Int32Array(n * windows);
    for (let k = 0; k < n; k++) {
      const base = (pS + 32 * k) >>> 2;
      let carry = 0;
      for (let j = 0; j < windows; j++) {
        const bit = j * w;
        const word = bit >>> 5;
        const shift = bit & 31;
        let d = word < 8 ? (u32[base + word] as number) >>> shift : 0;
        if (shift + w > 32 && word + 1 < 8) d |= (u32[base + word + 1] as number) << (32 - shift);
        d = (d & mask) + carry;
        carry = d >= half ? 1 : 0;
        digits[j * n + k] = d - carry * full;
      }
      if (carry !== 0) throw new Error("scalar overflowed the windows");
    }

    // Accumulate in affine coordinates, one window at a time for all n points, sharing one field inversion per
    // window (Montgomery's trick): ~1.8x fewer field multiplications than Jacobian mixed additions. With signed
    // digits the partial sum before window j is below 2^(w·j) in absolute value and the table point at least
    // 2^(w·j), so the two never share an x coordinate (no doubling, no infinity) — checked anyway.
    const f = g.f;
    const n8 = g.sA / 2;
    const pA = reserve(g.sA * n);
    const pDen = reserve(n8 * n);
    const pInv = reserve(n8 * n);
    const pL = reserve(n8);
    const pX3 = reserve(n8);
    const pY = reserve(n8);
    const started = new Uint8Array(n);
    const adding = new Int32Array(n);
    u8.fill(0, pA, pA + g.sA * n);
    for (let j = 0; j < windows; j++) {
      let m = 0;
      const row = j * n;
      for (let k = 0; k < n; k++) {
        const d = digits[row + k] as number;
        if (d === 0) continue;
        const t = pTable + (j * half + (d > 0 ? d : -d) - 1) * g.sA;
        const a = pA + g.sA * k;
        if (started[k] === 0) {
          f.copy(t, a);
          if (d > 0) f.copy(t + n8, a + n8);
          else f.neg(t + n8, a + n8);
          started[k] = 1;
          continue;
        }
        const den = pDen + n8 * m;
        f.sub(t, a, den);
        if (f.isZero(den)) throw new Error("degenerate addition");
        adding[m++] = k;
      }
      if (m === 0) continue;
      f.batchInverse(pDen, n8, m, pInv, n8);
      for (let i = 0; i < m; i++) {
        const k = adding[i] as number;
        const d = digits[row + k] as number;
        const t = pTable + (j * half + (d > 0 ? d : -d) - 1) * g.sA;
        const a = pA + g.sA * k;
        // λ = (±y_t − y_a) / (x_t − x_a); x3 = λ² − x_a − x_t; y3 = λ·(x_a − x3) − y_a
        if (d > 0) f.sub(t + n8, a + n8, pY);
        else {
          f.add(t + n8, a + n8, pY);
          f.neg(pY, pY);
        }
        f.mul(pY, pInv + n8 * i, pL);
        f.square(pL, pX3);
        f.sub(pX3, a, pX3);
        f.sub(pX3, t, pX3);
        f.sub(a, pX3, pY);
        f.mul(pL, pY, pY);
        f.sub(pY, a + n8, a + n8);
        f.copy(pX3, a);
      }
    }
    const result: FixedBaseResult = { ok: true, lem: u8.slice(pA, pA + g.sA * n) };
    if (task.hashForms) {
      if (!task.uncompressedOnly) {
        const pC = reserve((g.sA / 2) * n);
        g.batchLEMtoC(pA, n, pC);
        result.compressed = u8.slice(pC, pC + (g.sA / 2) * n);
      }
      g.batchLEMtoU(pA, n, pA);
      result.uncompressed = u8.slice(pA, pA + g.sA * n);
    }
    // Scalars are powers and Lagrange values of the secret: do not leave them (or their digits) in memory.
    digits.fill(0);
    u8.fill(0, mark);
    release(mark);
    return result;
  }

  port.on("message", (task: FixedBaseTask) => {
    try {
      if (task.type === "table") {
        buildTable(task);
        port.postMessage({ ok: true });
      } else if (task.type === "load") {
        loadTable(task);
        port.postMessage({ ok: true });
      } else if (task.type === "points") {
        const r = points(task);
        const transfer = [r.lem, r.compressed, r.uncompressed]
          .filter((b) => b)
          .map((b) => (b as Uint8Array).buffer as ArrayBuffer);
        port.postMessage(r, transfer);
      } else {
        u8.fill(0);
        port.postMessage({ ok: true });
      }
    } catch (error) {
      port.postMessage({ ok: false, error: String((error as Error)?.stack ?? error) });
    }
  });
}

/** Source text of the worker, for `new Worker(source, { eval: true, workerData: { init } })`. */
export function fixedBaseWorkerSource(): string {
  // `__name` covers transpilers that keep function names by wrapping them in a helper call.
  return `"use strict";\nconst __name = (f) => f;\n(${fixedBaseWorkerMain.toString()})();\n`;
}
