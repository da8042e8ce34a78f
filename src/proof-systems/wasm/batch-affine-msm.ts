/**
 * A wasm plugin for ffjavascript's curve: one Pippenger window of a multi-exponentiation with batch-affine bucket
 * accumulation, generic over the group (`g1m`/`f1m` or `g2m`/`f2m`).
 *
 * ffjavascript's own window (`g1m_multiexpAffine_chunk`) adds every point into a Jacobian bucket with a mixed
 * addition (~7M + 4S). Here buckets stay affine and additions are done in batches that share one field inversion
 * (Montgomery's trick): an affine addition is then 3M for its share of the batch inversion plus λ, x3, y3 (2M + 1S).
 *
 * Scalars are first cut into signed c-bit digits, a task's windows at once (`_vmsmDigits`): d ∈ [−2^(c−1), 2^(c−1)],
 * a digit above 2^(c−1) becoming d − 2^c with a carry into the next window, so a window needs only 2^(c−1)
 * buckets (−P goes into bucket |d|). A base at infinity gets digit 0 in every window.
 *
 * One window (`_vmsmWindow`), for the points whose digit d ≠ 0:
 * 1. **Sort by bucket**: count the points of each |d|, then copy each point (negated when d < 0) into a scratch
 *    array grouped by bucket (bucket |d| holds its points contiguously).
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

import type { WasmModuleBuilder } from "./wasm-builder.js";

export type { WasmModuleBuilder };

/** Name of the window function built for group prefix `group` (e.g. `g1m_vmsmWindow`). */
export function msmWindowFunction(group: "g1m" | "g2m"): string {
  return `${group}_vmsmWindow`;
}

/** Name of the signed-digit function built for group prefix `group` (e.g. `g1m_vmsmDigits`). */
export function msmDigitsFunction(group: "g1m" | "g2m"): string {
  return `${group}_vmsmDigits`;
}

/** Bytes of scratch memory one window call needs for `n` points, window `c` bits, field elements of `n8` bytes. */
export function msmWindowScratchBytes(n: number, c: number, n8: number): number {
  const align8 = (v: number) => (v + 7) & ~7;
  return 8 * (2 ** (c - 1) + 1) + n * 2 * n8 + 2 * align8(n) + 2 * n8 * ((n >> 1) + 1) + 64;
}

/** Windows of c-bit signed digits for scalars of `bits` bits (one more than unsigned when a carry can reach it). */
export function msmSignedWindows(bits: number, c: number): number {
  return Math.floor(bits / c) + 1;
}

/**
 * Adds `${group}_vmsmDigits(pBases, pScalars, scalarSize, n, c, firstWindow, endWindow, pDigits)`: for each scalar i
 * its signed c-bit digits of windows firstWindow ≤ w < endWindow, as i32 at pDigits[(w − firstWindow) · n + i]
 * (window-major), 0 in every window for a base at infinity. The windows below firstWindow are walked for their
 * carries only.
 */
function buildSignedDigits(module: WasmModuleBuilder, g: string, pb: number): void {
  const f = module.addFunction(`${g}_vmsmDigits`);
  for (const p of ["pBases", "pScalars", "scalarSize", "n", "c", "firstWindow", "endWindow", "pDigits"]) {
    f.addParam(p, "i32");
  }
  for (const l of ["i", "w", "raw", "carry", "half", "full", "itBase", "itScalar", "zero"]) f.addLocal(l, "i32");
  const c = f.getCodeBuilder();
  const get = (name: string) => c.getLocal(name);
  const set = (name: string, v: number[]) => c.setLocal(name, v);
  const k32 = (v: number) => c.i32_const(v);
  const add = (a: number[], b: number[]) => c.i32_add(a, b);
  const forUp = (name: string, from: number[], to: number[], ...body: number[][]) => [
    ...set(name, from),
    ...c.block(c.loop(c.br_if(1, c.i32_eq(get(name), to)), ...body, set(name, add(get(name), k32(1))), c.br(0))),
  ];
  f.addCode(
    set("full", c.i32_shl(k32(1), get("c"))),
    set("half", c.i32_shr_u(get("full"), k32(1))),
    set("itBase", get("pBases")),
    set("itScalar", get("pScalars")),
    forUp(
      "i",
      k32(0),
      get("n"),
      set("zero", c.call(`${g}_isZeroAffine`, get("itBase"))),
      set("carry", k32(0)),
      forUp(
        "w",
        k32(0),
        get("endWindow"),
        set("raw", get("carry")),
        // getChunk masks at the scalar's end; past it (the carry's window) the chunk is 0.
        c.if(
          c.i32_lt_u(c.i32_mul(get("w"), get("c")), c.i32_shl(get("scalarSize"), k32(3))),
          set(
            "raw",
            add(
              get("raw"),
              c.call(
                `${g}_multiexpAffine_getChunk`,
                get("itScalar"),
                get("scalarSize"),
                c.i32_mul(get("w"), get("c")),
                get("c"),
              ),
            ),
          ),
        ),
        c.if(
          c.i32_gt_u(get("raw"), get("half")),
          [...set("raw", c.i32_sub(get("raw"), get("full"))), ...set("carry", k32(1))],
          set("carry", k32(0)),
        ),
        c.if(
          c.i32_ge_u(get("w"), get("firstWindow")),
          c.i32_store(
            add(
              get("pDigits"),
              c.i32_shl(add(c.i32_mul(c.i32_sub(get("w"), get("firstWindow")), get("n")), get("i")), k32(2)),
            ),
            c.i32_mul(get("raw"), c.i32_eqz(get("zero"))),
          ),
        ),
      ),
      set("itBase", add(get("itBase"), k32(pb))),
      set("itScalar", add(get("itScalar"), get("scalarSize"))),
    ),
  );
  module.exportFunction(`${g}_vmsmDigits`);
}

/**
 * Adds `${group}_vmsmDigits` (see buildSignedDigits) and `${group}_vmsmWindow(pBases, pDigits, n, c, pScratch, pr)`
 * to a bn128 module builder (after wasmcurves has built the curve): pr (Jacobian) = Σ_i digit_i · base_i over one
 * window's signed digits (i32, |digit| ≤ 2^(c−1)); bases affine Montgomery; `pScratch` has
 * {@link msmWindowScratchBytes}. Needs 1 ≤ c ≤ 24.
 */
export function buildBatchAffineMsm(module: WasmModuleBuilder, names: { group: "g1m" | "g2m"; field: string }): void {
  const { group: g, field: fq } = names;
  const fieldModule = module.modules[fq];
  if (!fieldModule) throw new Error(`batch-affine msm: the module has no field ${fq}`);
  const n8 = fieldModule.n64 * 8;
  const pb = 2 * n8;
  buildSignedDigits(module, g, pb);
  const f = module.addFunction(msmWindowFunction(g));
  for (const p of ["pBases", "pDigits", "n", "c", "pScratch", "pr"]) f.addParam(p, "i32");
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
    "itDigit",
    "neg",
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
  /** d = |digit| at itDigit, neg = digit < 0. */
  const readDigit = [
    ...set("d", c.i32_load(get("itDigit"))),
    ...set("neg", c.i32_lt_s(get("d"), k32(0))),
    ...c.if(get("neg"), set("d", c.i32_sub(k32(0), get("d")))),
  ];
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
    set("nb", add(c.i32_shl(k32(1), c.i32_sub(get("c"), k32(1))), k32(1))),
    set("pCnt", get("pScratch")),
    set("pOff", add(get("pCnt"), c.i32_shl(get("nb"), k32(2)))),
    set("pP", add(get("pOff"), c.i32_shl(get("nb"), k32(2)))),
    set("pInf", add(get("pP"), c.i32_mul(get("n"), k32(pb)))),
    set("pCat", add(get("pInf"), c.i32_and(add(get("n"), k32(7)), k32(~7)))),
    set("pDen", add(get("pCat"), c.i32_and(add(get("n"), k32(7)), k32(~7)))),
    set("pAcc", add(get("pDen"), c.i32_mul(add(c.i32_shr_u(get("n"), k32(1)), k32(1)), k32(n8)))),
    // 1. Count the points of each bucket |digit| (zero digits, bases at infinity among them, contribute nothing).
    forUp("d", k32(0), get("nb"), c.i32_store(cntAt(get("d")), k32(0))),
    set("itDigit", get("pDigits")),
    forUp(
      "i",
      k32(0),
      get("n"),
      readDigit,
      c.if(get("d"), c.i32_store(cntAt(get("d")), add(c.i32_load(cntAt(get("d"))), k32(1)))),
      set("itDigit", add(get("itDigit"), k32(4))),
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
    set("itDigit", get("pDigits")),
    forUp(
      "i",
      k32(0),
      get("n"),
      readDigit,
      c.if(get("d"), [
        ...set("slot", c.i32_load(offAt(get("d")))),
        ...c.call(`${fq}_copy`, x(get("itBase")), x(pointAt(get("slot")))),
        ...c.if(
          get("neg"),
          c.call(`${fq}_neg`, y(get("itBase")), y(pointAt(get("slot")))),
          c.call(`${fq}_copy`, y(get("itBase")), y(pointAt(get("slot")))),
        ),
        ...c.i32_store8(infAt(get("slot")), k32(0)),
        ...c.i32_store(offAt(get("d")), add(get("slot"), k32(1))),
      ]),
      set("itBase", add(get("itBase"), k32(pb))),
      set("itDigit", add(get("itDigit"), k32(4))),
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
