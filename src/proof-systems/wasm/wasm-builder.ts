/**
 * The types of wasmbuilder's builders as verinfer's wasm plugins use them (wasmbuilder ships no types).
 *
 * @module
 */

/** The parts of wasmbuilder's code builder verinfer's plugins use (wasmbuilder ships no types; each returns bytecode). */
export interface CodeBuilder {
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
  i32_lt_s(a: number[], b: number[]): number[];
  i32_gt_u(a: number[], b: number[]): number[];
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

/** The parts of wasmbuilder's function builder verinfer's plugins use. */
export interface FunctionBuilder {
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
