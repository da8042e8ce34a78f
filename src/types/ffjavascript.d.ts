// Minimal typings for ffjavascript (snarkjs's curve library), covering only what verinfer calls.
declare module "ffjavascript" {
  /**
   * ffjavascript's bn128 curve; `plugins` receives wasmbuilder's module builder after wasmcurves has built the
   * curve's functions and before the wasm is compiled. A threaded curve (`singleThread` false) is a process-wide
   * singleton: the first one built is returned to every later caller, whatever its plugins.
   */
  export function buildBn128(singleThread?: boolean, plugins?: (moduleBuilder: never) => void): Promise<unknown>;
}
