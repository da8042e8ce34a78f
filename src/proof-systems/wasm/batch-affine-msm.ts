/**
 * A wasm plugin for ffjavascript's curve: one Pippenger window of a multi-exponentiation with batch-affine bucket
 * accumulation, generic over the group (`g1m`/`f1m` or `g2m`/`f2m`).
 *
 * ffjavascript's own window (`g1m_multiexpAffine_chunk`) adds every point into a Jacobian bucket with a mixed
 * addition (~7M + 4S). Here buckets stay affine and additions are done in batches that share one field inversion
 * (Montgomery's trick): an affine addition is then 3M for its share of the batch inversion plus λ, x3, y3 (2M + 1S).
 *
 * One window, for points whose c-bit digit at `startBit` is d ≠ 0 (and whose base is not the affine zero):
 * 1. **Sort by bucket**: count the points of each digit, then copy each point into a scratch array grouped by digit
 *    (bucket d holds its points contiguously).
 * 2. **Pairwise reduction in rounds**: each round pairs up the points of every bucket (0+1, 2+3, …) and adds every
 *    pair of the round in one batch; a bucket's k points become ⌈k/2⌉. Rounds repeat until each bucket holds at most
 *    one point. Every pair of a round is independent, so the batch is as large as the round (no waiting queue, and a
 *    bucket that gets most points — all-ones scalars — still halves per round instead of one addition per round).
 *    A pair is classified before any inversion: either member at infinity (no inversion: the other one is the sum),
 *    x1 ≠ x2 (addition, denominator x2 − x1), the same point (doubling, denominator 2y, numerator 3x²), or P and −P
 *    (the sum is infinity). Only nonzero denominators go into the batch inversion.
 * 3. **Running sum**: Σ d·B_d = Σ_d (B_top + … + B_d), in Jacobian coordinates (mixed additions).
 *
 * Rounds write each pair's sum over the pair's first slot, walking forward; the batch inversion's prefix products are
 * taken walking backward, so that the forward pass can peel the inverses off in its own order.
 *
 * @module
 */

/** The parts of wasmbuilder's function builder and code builder used here (wasmbuilder ships no types). */
interface CodeBuilder {
  getLocal(name: string): number[];
  setLocal(name: string, code: number[]): number[];
  i32_const(v: number): number[];
  i32_add(a: number[], b: number[]): number[];
  i32_sub(a: number[], b: number[]): number[];
  i32_mul(a: number[], b: number[]): number[];
  i32_shl(a: number[], b: number[]): number[];
  i32_shr_u(a: number[], b: number[]): number[];
  i32_and(a: number[], b: number[]): number[];
  i32_or(a: number[], b: number[]): number[];
  i32_eq(a: number[], b: number[]): number[];
  i32_ne(a: number[], b: number[]): number[];
  i32_eqz(a: number[]): number[];
  i32_lt_u(a: number[], b: number[]): number[];
  i32_ge_u(a: number[], b: number[]): number[];
  i32_load(addr: number[], offset?: number, align?: number): number[];
  i32_store(addr: number[], value: number[]): number[];
  i32_load8_u(addr: number[], offset?: number, align?: number): number[];
  i32_store8(addr: number[], value: number[]): number[];
  call(fn: string, ...args: number[][]): number[];
  if(cond: number[], then: number[], otherwise?: number[]): number[];
  block(code: number[]): number[];
  loop(...code: number[][]): number[];
  br_if(depth: number, cond: number[]): number[];
  br(depth: number): number[];
  ret(code: number[]): number[];
}

interface FunctionBuilder {
  addParam(name: string, type: "i32"): void;
  addLocal(name: string, type: "i32"): void;
  setReturnType(type: "i32"): void;
  getCodeBuilder(): CodeBuilder;
  addCode(...code: number[][]): void;
}

/** What of wasmbuilder's ModuleBuilder a plugin uses. */
export interface WasmModuleBuilder {
  modules: Record<string, { n64: number } | undefined>;
  addFunction(name: string): FunctionBuilder;
  exportFunction(name: string, exportName?: string): void;
  alloc(bytes: number): number;
}

/** Name of the window function built for group prefix `group` (e.g. `g1m_vmsmWindow`). */
export function msmWindowFunction(group: "g1m" | "g2m"): string {
  return `${group}_vmsmWindow`;
}

/** Bytes of scratch memory one window call needs for `n` points, window `c` bits, field elements of `n8` bytes. */
export function msmWindowScratchBytes(n: number, c: number, n8: number): number {
  const align8 = (v: number) => (v + 7) & ~7;
  return 8 * 2 ** c + n * 2 * n8 + 2 * align8(n) + 2 * n8 * ((n >> 1) + 1) + 64;
}

/**
 * Adds `${group}_vmsmWindow(pBases, pScalars, scalarSize, n, startBit, c, pScratch, pr)` to a bn128 module builder
 * (after wasmcurves has built the curve): pr (Jacobian) = Σ_i digit_i · base_i, digit_i the c-bit window of scalar i
 * at `startBit`; bases affine Montgomery (all-zero bytes = infinity), scalars `scalarSize`-byte little-endian;
 * `pScratch` has {@link msmWindowScratchBytes}. Needs 1 ≤ c ≤ 24.
 */
export function buildBatchAffineMsm(module: WasmModuleBuilder, names: { group: "g1m" | "g2m"; field: string }): void {
  const { group: g, field: fq } = names;
  const fieldModule = module.modules[fq];
  if (!fieldModule) throw new Error(`batch-affine msm: the module has no field ${fq}`);
  const n8 = fieldModule.n64 * 8;
  const pb = 2 * n8;
  const f = module.addFunction(msmWindowFunction(g));
  for (const p of ["pBases", "pScalars", "scalarSize", "n", "startBit", "c", "pScratch", "pr"]) f.addParam(p, "i32");
  for (const l of [
    "nb",
    "pCnt",
    "pOff",
    "pP",
    "pInf",
    "pCat",
    "pDen",
    "pAcc",
    "i",
    "d",
    "k",
    "p",
    "cnt",
    "start",
    "j",
    "pairs",
    "pA",
    "pB",
    "cat",
    "slot",
    "itBase",
    "itScalar",
  ]) {
    f.addLocal(l, "i32");
  }
  const c = f.getCodeBuilder();
  const get = (name: string) => c.getLocal(name);
  const set = (name: string, v: number[]) => c.setLocal(name, v);
  const k32 = (v: number) => c.i32_const(v);
  const add = (a: number[], b: number[]) => c.i32_add(a, b);
  const inc = (name: string, by = 1) => set(name, add(get(name), k32(by)));
  const dec = (name: string) => set(name, c.i32_sub(get(name), k32(1)));
  const x = (pt: number[]) => pt;
  const y = (pt: number[]) => add(pt, k32(n8));
  const cntAt = (d: number[]) => add(get("pCnt"), c.i32_shl(d, k32(2)));
  const offAt = (d: number[]) => add(get("pOff"), c.i32_shl(d, k32(2)));
  const pointAt = (slot: number[]) => add(get("pP"), c.i32_mul(slot, k32(pb)));
  const infAt = (slot: number[]) => add(get("pInf"), slot);
  const denAt = (k: number[]) => add(get("pDen"), c.i32_mul(k, k32(n8)));
  const accAt = (k: number[]) => add(get("pAcc"), c.i32_mul(k, k32(n8)));
  const digitOf = (scalar: number[]) =>
    c.call(`${g}_multiexpAffine_getChunk`, scalar, get("scalarSize"), get("startBit"), get("c"));
  /** for (name = from; name != to; name += step) body */
  const forUp = (name: string, from: number[], to: number[], ...body: number[][]) => [
    ...set(name, from),
    ...c.block(c.loop(c.br_if(1, c.i32_eq(get(name), to)), ...body, inc(name), c.br(0))),
  ];
  const T1 = k32(module.alloc(n8));
  const T2 = k32(module.alloc(n8));
  const LAMBDA = k32(module.alloc(n8));
  const INV = k32(module.alloc(n8));
  const INVK = k32(module.alloc(n8));
  const X3 = k32(module.alloc(n8));
  const RACC = k32(module.alloc(n8 * 3));

  // Scratch layout (see msmWindowScratchBytes): cnt[2^c] i32, off[2^c] i32, P[n] points, inf[n] bytes,
  // cat[n] bytes, den[n/2 + 1] and acc[n/2 + 1] field elements.
  f.addCode(
    c.call(`${g}_zero`, get("pr")),
    c.if(c.i32_eqz(get("n")), c.ret([])),
    set("nb", c.i32_shl(k32(1), get("c"))),
    set("pCnt", get("pScratch")),
    set("pOff", add(get("pCnt"), c.i32_shl(get("nb"), k32(2)))),
    set("pP", add(get("pOff"), c.i32_shl(get("nb"), k32(2)))),
    set("pInf", add(get("pP"), c.i32_mul(get("n"), k32(pb)))),
    set("pCat", add(get("pInf"), c.i32_and(add(get("n"), k32(7)), k32(~7)))),
    set("pDen", add(get("pCat"), c.i32_and(add(get("n"), k32(7)), k32(~7)))),
    set("pAcc", add(get("pDen"), c.i32_mul(add(c.i32_shr_u(get("n"), k32(1)), k32(1)), k32(n8)))),
    // 1. Count the points of each digit (zero digits and bases at infinity contribute nothing).
    forUp("d", k32(0), get("nb"), c.i32_store(cntAt(get("d")), k32(0))),
    set("itBase", get("pBases")),
    set("itScalar", get("pScalars")),
    forUp(
      "i",
      k32(0),
      get("n"),
      set("d", digitOf(get("itScalar"))),
      c.if(
        c.i32_and(c.i32_ne(get("d"), k32(0)), c.i32_eqz(c.call(`${g}_isZeroAffine`, get("itBase")))),
        c.i32_store(cntAt(get("d")), add(c.i32_load(cntAt(get("d"))), k32(1))),
      ),
      set("itBase", add(get("itBase"), k32(pb))),
      set("itScalar", add(get("itScalar"), get("scalarSize"))),
    ),
    // Bucket starts (off[d] is used as the fill cursor, then set back to the start).
    set("k", k32(0)),
    forUp(
      "d",
      k32(0),
      get("nb"),
      c.i32_store(offAt(get("d")), get("k")),
      set("k", add(get("k"), c.i32_load(cntAt(get("d"))))),
    ),
    set("itBase", get("pBases")),
    set("itScalar", get("pScalars")),
    forUp(
      "i",
      k32(0),
      get("n"),
      set("d", digitOf(get("itScalar"))),
      c.if(c.i32_and(c.i32_ne(get("d"), k32(0)), c.i32_eqz(c.call(`${g}_isZeroAffine`, get("itBase")))), [
        ...set("slot", c.i32_load(offAt(get("d")))),
        ...c.call(`${g}_copyAffine`, get("itBase"), pointAt(get("slot"))),
        ...c.i32_store8(infAt(get("slot")), k32(0)),
        ...c.i32_store(offAt(get("d")), add(get("slot"), k32(1))),
      ]),
      set("itBase", add(get("itBase"), k32(pb))),
      set("itScalar", add(get("itScalar"), get("scalarSize"))),
    ),
    forUp(
      "d",
      k32(0),
      get("nb"),
      c.i32_store(offAt(get("d")), c.i32_sub(c.i32_load(offAt(get("d"))), c.i32_load(cntAt(get("d"))))),
    ),
    // 2. Rounds of pairwise additions until every bucket holds at most one point.
    c.block(
      c.loop(
        // Pass A, backward over buckets and pairs: classify each pair, prefix-multiply the denominators.
        set("p", k32(0)),
        set("k", k32(0)),
        c.call(`${fq}_one`, accAt(k32(0))),
        set("d", get("nb")),
        c.block(
          c.loop(
            c.br_if(1, c.i32_eqz(get("d"))),
            dec("d"),
            set("pairs", c.i32_shr_u(c.i32_load(cntAt(get("d"))), k32(1))),
            set("start", c.i32_load(offAt(get("d")))),
            set("j", get("pairs")),
            c.block(
              c.loop(
                c.br_if(1, c.i32_eqz(get("j"))),
                dec("j"),
                set("slot", add(get("start"), c.i32_shl(get("j"), k32(1)))),
                set("pA", pointAt(get("slot"))),
                set("pB", add(get("pA"), k32(pb))),
                c.if(
                  c.i32_or(c.i32_load8_u(infAt(get("slot"))), c.i32_load8_u(infAt(add(get("slot"), k32(1))))),
                  set("cat", k32(0)),
                  c.if(
                    c.i32_eqz(c.call(`${fq}_eq`, x(get("pA")), x(get("pB")))),
                    [...set("cat", k32(1)), ...c.call(`${fq}_sub`, x(get("pB")), x(get("pA")), denAt(get("k")))],
                    c.if(
                      c.call(`${fq}_eq`, y(get("pA")), y(get("pB"))),
                      [...set("cat", k32(2)), ...c.call(`${fq}_add`, y(get("pA")), y(get("pA")), denAt(get("k")))],
                      set("cat", k32(3)),
                    ),
                  ),
                ),
                c.i32_store8(add(get("pCat"), get("p")), get("cat")),
                inc("p"),
                c.if(c.i32_or(c.i32_eq(get("cat"), k32(1)), c.i32_eq(get("cat"), k32(2))), [
                  ...c.call(`${fq}_mul`, accAt(get("k")), denAt(get("k")), accAt(add(get("k"), k32(1)))),
                  ...inc("k"),
                ]),
                c.br(0),
              ),
            ),
            c.br(0),
          ),
        ),
        c.br_if(1, c.i32_eqz(get("p"))),
        c.if(c.i32_ne(get("k"), k32(0)), c.call(`${fq}_inverse`, accAt(get("k")), INV)),
        // Pass B, forward: peel off each inverse, add the pair, write the sum over the pair's first slot.
        forUp(
          "d",
          k32(0),
          get("nb"),
          set("cnt", c.i32_load(cntAt(get("d")))),
          set("start", c.i32_load(offAt(get("d")))),
          set("pairs", c.i32_shr_u(get("cnt"), k32(1))),
          forUp(
            "j",
            k32(0),
            get("pairs"),
            dec("p"),
            set("cat", c.i32_load8_u(add(get("pCat"), get("p")))),
            set("slot", add(get("start"), c.i32_shl(get("j"), k32(1)))),
            set("pA", pointAt(get("slot"))),
            set("pB", add(get("pA"), k32(pb))),
            c.if(
              c.i32_eqz(get("cat")),
              // One of the pair at infinity: the sum is the other (or infinity when both are).
              c.if(
                c.i32_load8_u(infAt(get("slot"))),
                [
                  ...c.call(`${g}_copyAffine`, get("pB"), pointAt(add(get("start"), get("j")))),
                  ...c.i32_store8(infAt(add(get("start"), get("j"))), c.i32_load8_u(infAt(add(get("slot"), k32(1))))),
                ],
                [
                  ...c.call(`${g}_copyAffine`, get("pA"), pointAt(add(get("start"), get("j")))),
                  ...c.i32_store8(infAt(add(get("start"), get("j"))), k32(0)),
                ],
              ),
              c.if(c.i32_eq(get("cat"), k32(3)), c.i32_store8(infAt(add(get("start"), get("j"))), k32(1)), [
                ...dec("k"),
                // 1/den_k = (1/acc[k+1]) · acc[k]; then 1/acc[k] = (1/acc[k+1]) · den_k.
                ...c.call(`${fq}_mul`, INV, accAt(get("k")), INVK),
                ...c.call(`${fq}_mul`, INV, denAt(get("k")), INV),
                ...c.if(
                  c.i32_eq(get("cat"), k32(1)),
                  c.call(`${fq}_sub`, y(get("pB")), y(get("pA")), T1),
                  // Doubling: 3x².
                  [
                    ...c.call(`${fq}_square`, x(get("pA")), T1),
                    ...c.call(`${fq}_add`, T1, T1, T2),
                    ...c.call(`${fq}_add`, T1, T2, T1),
                  ],
                ),
                ...c.call(`${fq}_mul`, T1, INVK, LAMBDA),
                // x3 = λ² − xA − xB; y3 = λ(xA − x3) − yA.
                ...c.call(`${fq}_square`, LAMBDA, X3),
                ...c.call(`${fq}_sub`, X3, x(get("pA")), X3),
                ...c.call(`${fq}_sub`, X3, x(get("pB")), X3),
                ...c.call(`${fq}_sub`, x(get("pA")), X3, T1),
                ...c.call(`${fq}_mul`, LAMBDA, T1, T1),
                ...set("pB", pointAt(add(get("start"), get("j")))),
                ...c.call(`${fq}_sub`, T1, y(get("pA")), y(get("pB"))),
                ...c.call(`${fq}_copy`, X3, x(get("pB"))),
                ...c.i32_store8(infAt(add(get("start"), get("j"))), k32(0)),
              ]),
            ),
          ),
          // An odd bucket's last point moves down behind the sums.
          c.if(c.i32_and(get("cnt"), k32(1)), [
            ...set("slot", add(get("start"), c.i32_sub(get("cnt"), k32(1)))),
            ...c.call(`${g}_copyAffine`, pointAt(get("slot")), pointAt(add(get("start"), get("pairs")))),
            ...c.i32_store8(infAt(add(get("start"), get("pairs"))), c.i32_load8_u(infAt(get("slot")))),
          ]),
          c.i32_store(cntAt(get("d")), c.i32_sub(get("cnt"), get("pairs"))),
        ),
        c.br(0),
      ),
    ),
    // 3. Running sum from the top bucket down: RACC = B_top + … + B_d, pr = Σ RACC.
    c.call(`${g}_zero`, RACC),
    set("d", get("nb")),
    c.block(
      c.loop(
        dec("d"),
        c.br_if(1, c.i32_eqz(get("d"))),
        set("slot", c.i32_load(offAt(get("d")))),
        c.if(
          c.i32_and(c.i32_ne(c.i32_load(cntAt(get("d"))), k32(0)), c.i32_eqz(c.i32_load8_u(infAt(get("slot"))))),
          c.call(`${g}_addMixed`, RACC, pointAt(get("slot")), RACC),
        ),
        c.call(`${g}_add`, get("pr"), RACC, get("pr")),
        c.br(0),
      ),
    ),
  );
  module.exportFunction(msmWindowFunction(g));
}
