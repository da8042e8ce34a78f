/**
 * verinfer's coset transform for the Groth16 prover, as WebAssembly built into ffjavascript's bn128 module (a plugin:
 * `buildBn128(singleThread, fftPlugin)` calls it with the module builder before the wasm is built). Its functions use
 * the curve's own Montgomery field arithmetic (`frm_mul`, `frm_add`, `frm_sub`, `frm_copy`).
 *
 * What the prover needs per polynomial is its values on the domain → its values on a coset of it. wasmcurves's
 * `frm_ifft` + `frm_batchApplyKey` + `frm_fft` do that with two whole-array FFTs that each start with a bit-reversal
 * pass and compute every twiddle inside the butterfly loop (one extra multiplication per butterfly), plus two
 * multiplication passes (1/n, the coset's powers) and a Montgomery conversion. Here:
 * - the inverse FFT is decimation in frequency (natural order in, bit-reversed out) and the forward FFT decimation
 *   in time (bit-reversed in, natural out): no bit-reversal pass at all;
 * - twiddles come from tables of w^j and w^-j made once per domain size (`vfft_powers`), so a butterfly costs one
 *   multiplication, and none where its twiddle is 1;
 * - the coset's powers, the 1/n of the inverse FFT and the conversion to Montgomery form are one table of factors in
 *   bit-reversed order (`vfft_cosetFactors`), applied in one pass between the two FFTs (`vfft_mul`);
 * - each FFT can be run on a part of the array (`vfft_dif`/`vfft_dit` take any power-of-two size and the step into
 *   the tables), so that one transform can be split into independent halves (`vfft_difSplit`, `vfft_ditJoin`).
 *
 * Elements are 32 bytes (bn128's Fr); pointers and sizes are the wasm's i32s.
 */

import type { WasmModuleBuilder } from "./wasm-builder.js";

/** The names of the functions {@link fftPlugin} adds to the module. */
export const FFT_FUNCTIONS = {
  powers: "vfft_powers",
  cosetFactors: "vfft_cosetFactors",
  mul: "vfft_mul",
  dif: "vfft_dif",
  dit: "vfft_dit",
  difSplit: "vfft_difSplit",
  ditJoin: "vfft_ditJoin",
} as const;

const N8 = 32;

/**
 * Adds verinfer's coset-transform functions to a bn128 wasm module (see the file's comment). Pass it to
 * ffjavascript's `buildBn128(singleThread, plugins)`; it must run after wasmcurves has built `frm_*`.
 *
 * @example
 * ```ts
 * const curve = await buildBn128(true, (m) => fftPlugin(m));
 * ```
 */
export function fftPlugin(module: WasmModuleBuilder): void {
  // Scratch elements in the module's static memory (the functions are not reentrant, like wasmcurves's own).
  const scratch = module.alloc(N8);
  const square = module.alloc(N8);
  const fn = (name: string, params: string[], locals: string[]) => {
    const f = module.addFunction(name);
    for (const p of params) f.addParam(p, "i32");
    for (const l of locals) f.addLocal(l, "i32");
    module.exportFunction(name);
    const c = f.getCodeBuilder();
    const get = (v: string) => c.getLocal(v);
    const k = (v: number) => c.i32_const(v);
    const set = (v: string, x: number[]) => c.setLocal(v, x);
    const plus = (a: number[], b: number[]) => c.i32_add(a, b);
    /** `while (v < end) { body; v += step }`, unsigned. */
    const loopBelow = (v: string, end: number[], step: number[], body: number[][]): number[] =>
      c.block(c.loop(c.br_if(1, c.i32_ge_u(get(v), end)), ...body, set(v, plus(get(v), step)), c.br(0)));
    return { f, c, get, k, set, plus, loopBelow, T: k(scratch), M: k(square) };
  };

  /**
   * One stage of dif or dit over x (locals px, end, hB, stepB, pTw; pa, pj, pw, blockEnd are its own): block by
   * block of 2·hB bytes, the j = 0 butterfly (twiddle 1: (a, b) → (a + b, a − b), the same in both orders), then
   * `butterfly` for j = 1 … with the twiddle at pw, stepB bytes apart.
   */
  const stageBlocks = (h: ReturnType<typeof fn>, butterfly: number[][]): number[] => {
    const { c, get, k, set, plus, loopBelow, T } = h;
    return loopBelow("pa", get("end"), c.i32_shl(get("hB"), k(1)), [
      c.call("frm_sub", get("pa"), plus(get("pa"), get("hB")), T),
      c.call("frm_add", get("pa"), plus(get("pa"), get("hB")), get("pa")),
      c.call("frm_copy", T, plus(get("pa"), get("hB"))),
      set("pj", plus(get("pa"), k(N8))),
      set("blockEnd", plus(get("pa"), get("hB"))),
      set("pw", plus(get("pTw"), get("stepB"))),
      loopBelow("pj", get("blockEnd"), k(N8), [...butterfly, set("pw", plus(get("pw"), get("stepB")))]),
    ]);
  };

  // out[i] = first · base^i for 0 <= i < count (count >= 1).
  {
    const { f, c, get, k, set, plus, loopBelow } = fn(
      FFT_FUNCTIONS.powers,
      ["pOut", "count", "pFirst", "pBase"],
      ["p", "end"],
    );
    f.addCode(
      c.call("frm_copy", get("pFirst"), get("pOut")),
      set("end", plus(get("pOut"), c.i32_mul(get("count"), k(N8)))),
      set("p", plus(get("pOut"), k(N8))),
      loopBelow("p", get("end"), k(N8), [c.call("frm_mul", c.i32_sub(get("p"), k(N8)), get("pBase"), get("p"))]),
    );
  }

  // out[p] = first · g^rev(p) for p < 2^bits, rev reversing `bits` bits. Built level by level: with
  // rev_L(2q + b) = b·2^(L-1) + rev_(L-1)(q), out_L[2q + b] = out_(L-1)[q] · (g^(2^(L-1)))^b.
  {
    const { f, c, get, k, set, plus, M } = fn(
      FFT_FUNCTIONS.cosetFactors,
      ["pOut", "bits", "pFirst", "pG"],
      ["size", "n", "q", "pq", "p2q"],
    );
    f.addCode(
      c.call("frm_copy", get("pFirst"), get("pOut")),
      c.call("frm_copy", get("pG"), M),
      set("n", c.i32_shl(k(1), get("bits"))),
      set("size", k(1)),
      c.block(
        c.loop(
          c.br_if(1, c.i32_ge_u(get("size"), get("n"))),
          set("q", get("size")),
          // q from size - 1 down to 0: out[2q], out[2q + 1] are written once every out[q'], q' > q, has been read.
          c.block(
            c.loop(
              c.br_if(1, c.i32_eqz(get("q"))),
              set("q", c.i32_sub(get("q"), k(1))),
              set("pq", plus(get("pOut"), c.i32_mul(get("q"), k(N8)))),
              set("p2q", plus(get("pOut"), c.i32_mul(get("q"), k(2 * N8)))),
              c.call("frm_mul", get("pq"), M, plus(get("p2q"), k(N8))),
              c.call("frm_copy", get("pq"), get("p2q")),
              c.br(0),
            ),
          ),
          c.call("frm_mul", M, M, M),
          set("size", c.i32_shl(get("size"), k(1))),
          c.br(0),
        ),
      ),
    );
  }

  // a[i] = a[i] · b[i] for i < n.
  {
    const { f, c, get, k, set, plus, loopBelow } = fn(FFT_FUNCTIONS.mul, ["pa", "pb", "n"], ["end"]);
    f.addCode(
      set("end", plus(get("pa"), c.i32_mul(get("n"), k(N8)))),
      loopBelow("pa", get("end"), k(N8), [
        c.call("frm_mul", get("pa"), get("pb"), get("pa")),
        set("pb", plus(get("pb"), k(N8))),
      ]),
    );
  }

  // Decimation in frequency, in place, natural order in, bit-reversed out: the FFT of size m with root w_m, where
  // tw[j] = w^j of the table's root w and w_m = w^twStep. Stages half = m/2 … 1; butterfly (a, b) → (a + b,
  // (a − b)·w_(2·half)^j), w_(2·half)^j = tw[j · twStep · m/(2·half)].
  {
    const h = fn(FFT_FUNCTIONS.dif, ["px", "m", "pTw", "twStep"], ["hB", "stepB", "end", "pa", "pj", "pw", "blockEnd"]);
    const { f, c, get, k, set, plus, T } = h;
    f.addCode(
      set("end", plus(get("px"), c.i32_mul(get("m"), k(N8)))),
      set("hB", c.i32_mul(get("m"), k(N8 / 2))),
      set("stepB", c.i32_mul(get("twStep"), k(N8))),
      c.block(
        c.loop(
          c.br_if(1, c.i32_eqz(c.i32_shr_u(get("hB"), k(5)))),
          set("pa", get("px")),
          stageBlocks(h, [
            c.call("frm_sub", get("pj"), plus(get("pj"), get("hB")), T),
            c.call("frm_add", get("pj"), plus(get("pj"), get("hB")), get("pj")),
            c.call("frm_mul", T, get("pw"), plus(get("pj"), get("hB"))),
          ]),
          set("hB", c.i32_shr_u(get("hB"), k(1))),
          set("stepB", c.i32_shl(get("stepB"), k(1))),
          c.br(0),
        ),
      ),
    );
  }

  // Decimation in time, in place, bit-reversed in, natural order out (same table convention as dif). Stages
  // half = 1 … m/2; butterfly (a, b) → (a + t, a − t), t = b·w_(2·half)^j.
  {
    const h = fn(FFT_FUNCTIONS.dit, ["px", "m", "pTw", "twStep"], ["hB", "stepB", "end", "pa", "pj", "pw", "blockEnd"]);
    const { f, c, get, k, set, plus, T } = h;
    f.addCode(
      set("end", plus(get("px"), c.i32_mul(get("m"), k(N8)))),
      set("hB", k(N8)),
      set("stepB", c.i32_mul(c.i32_mul(get("twStep"), get("m")), k(N8 / 2))),
      c.block(
        c.loop(
          c.br_if(1, c.i32_ge_u(get("hB"), c.i32_mul(get("m"), k(N8)))),
          set("pa", get("px")),
          stageBlocks(h, [
            c.call("frm_mul", plus(get("pj"), get("hB")), get("pw"), T),
            c.call("frm_sub", get("pj"), T, plus(get("pj"), get("hB"))),
            c.call("frm_add", get("pj"), T, get("pj")),
          ]),
          set("hB", c.i32_shl(get("hB"), k(1))),
          set("stepB", c.i32_shr_u(get("stepB"), k(1))),
          c.br(0),
        ),
      ),
    );
  }

  // The first stage of dif on an array of size n, one half of its output at a time: out[i] = in[i] + in[i + n/2]
  // (upper = 0) or (in[i] − in[i + n/2])·tw[i·twStep] (upper = 1), i < n/2. Each half then goes on alone: dif of
  // size n/2 with twStep·2.
  {
    const { f, c, get, k, set, plus, loopBelow } = fn(
      FFT_FUNCTIONS.difSplit,
      ["pIn", "n", "pTw", "twStep", "pOut", "upper"],
      ["hB", "end", "stepB"],
    );
    f.addCode(
      set("hB", c.i32_mul(get("n"), k(N8 / 2))),
      set("end", plus(get("pIn"), get("hB"))),
      set("stepB", c.i32_mul(get("twStep"), k(N8))),
      c.if(
        get("upper"),
        loopBelow("pIn", get("end"), k(N8), [
          c.call("frm_sub", get("pIn"), plus(get("pIn"), get("hB")), get("pOut")),
          c.call("frm_mul", get("pOut"), get("pTw"), get("pOut")),
          set("pOut", plus(get("pOut"), k(N8))),
          set("pTw", plus(get("pTw"), get("stepB"))),
        ]),
        loopBelow("pIn", get("end"), k(N8), [
          c.call("frm_add", get("pIn"), plus(get("pIn"), get("hB")), get("pOut")),
          set("pOut", plus(get("pOut"), k(N8))),
        ]),
      ),
    );
  }

  // The last stage of dit, for count positions: lo' = lo + t, hi' = lo − t, t = hi·tw[i·twStep] (i < count; the
  // caller offsets the pointers to do a range).
  {
    const { f, c, get, k, set, plus, loopBelow, T } = fn(
      FFT_FUNCTIONS.ditJoin,
      ["pLo", "pHi", "count", "pTw", "twStep", "pOutLo", "pOutHi"],
      ["end", "stepB"],
    );
    f.addCode(
      set("end", plus(get("pLo"), c.i32_mul(get("count"), k(N8)))),
      set("stepB", c.i32_mul(get("twStep"), k(N8))),
      loopBelow("pLo", get("end"), k(N8), [
        c.call("frm_mul", get("pHi"), get("pTw"), T),
        c.call("frm_sub", get("pLo"), T, get("pOutHi")),
        c.call("frm_add", get("pLo"), T, get("pOutLo")),
        set("pHi", plus(get("pHi"), k(N8))),
        set("pTw", plus(get("pTw"), get("stepB"))),
        set("pOutLo", plus(get("pOutLo"), k(N8))),
        set("pOutHi", plus(get("pOutHi"), k(N8))),
      ]),
    );
  }
}
