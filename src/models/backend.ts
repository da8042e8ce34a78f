import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { VerinferError } from "../errors.js";

/** Which TensorFlow.js backend ran the float inference; recorded in every receipt. */
export type BackendName = "tfjs-node-gpu" | "tfjs-node" | "wasm" | "cpu";

/** Backends in order of preference. */
export const BACKEND_PREFERENCE: readonly BackendName[] = ["tfjs-node-gpu", "tfjs-node", "wasm", "cpu"];

let selected: Promise<BackendName> | undefined;

async function tryNative(pkg: "@tensorflow/tfjs-node-gpu" | "@tensorflow/tfjs-node"): Promise<boolean> {
  try {
    // Optional dependencies: they exist only where libtensorflow could be downloaded at install time.
    await import(pkg);
    return await tf.setBackend("tensorflow");
  } catch {
    return false;
  }
}

const HOST_EVENTS: readonly string[] = ["uncaughtException", "unhandledRejection"];

/**
 * Runs `init` and then removes the process-wide `uncaughtException` / `unhandledRejection` listeners it added.
 * tfjs-backend-wasm's Emscripten runtime installs listeners that rethrow from inside its own file, so a user's
 * uncaught error would end the process with code 7 and a stack pointing into tfjs: the library must not change how
 * its host process dies.
 */
async function withoutHostListeners<T>(init: () => Promise<T>): Promise<T> {
  // Typed as plain events: @types/node overloads listeners() per event and cannot take a union of two.
  const host = process as unknown as NodeJS.EventEmitter;
  const before = new Map(HOST_EVENTS.map((event) => [event, new Set(host.listeners(event))]));
  try {
    return await init();
  } finally {
    for (const event of HOST_EVENTS) {
      for (const listener of host.listeners(event)) {
        if (!before.get(event)?.has(listener)) host.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // In Node the wasm binaries are read from the package's dist folder, not fetched over HTTP.
    const require = createRequire(import.meta.url);
    const dist = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
    wasm.setWasmPaths(`${dist}${path.sep}`);
    return await withoutHostListeners(async () => {
      const ok = await tf.setBackend("wasm");
      if (ok) await tf.ready();
      return ok;
    });
  } catch {
    return false;
  }
}

async function tryBackend(name: BackendName): Promise<boolean> {
  switch (name) {
    case "tfjs-node-gpu":
    case "tfjs-node":
      return tryNative(`@tensorflow/${name}`);
    case "wasm":
      return tryWasm();
    case "cpu":
      return tf.setBackend("cpu");
  }
}

async function select(preferred: BackendName | undefined): Promise<BackendName> {
  const fromEnv = process.env.VERINFER_BACKEND as BackendName | undefined;
  const forced = preferred ?? (fromEnv && BACKEND_PREFERENCE.includes(fromEnv) ? fromEnv : undefined);
  const order = forced ? [forced] : BACKEND_PREFERENCE;
  for (const name of order) {
    if (await tryBackend(name)) {
      await tf.ready();
      return name;
    }
  }
  throw new VerinferError("BACKEND_UNAVAILABLE", `TensorFlow.js backend ${order.join(", ")} could not start`);
}

/**
 * Selects the TensorFlow.js backend once per process: tfjs-node-gpu, else tfjs-node, else wasm, else cpu
 * (or the one named by `preferred` / the `VERINFER_BACKEND` environment variable).
 *
 * @param preferred - force one backend; fails with `BACKEND_UNAVAILABLE` when it cannot start.
 * @returns the backend that is now active.
 * @example
 * ```ts
 * const backend = await initBackend(); // "wasm" on a machine without libtensorflow
 * ```
 */
export function initBackend(preferred?: BackendName): Promise<BackendName> {
  if (preferred !== undefined) {
    selected = select(preferred);
    return selected;
  }
  selected ??= select(undefined);
  return selected;
}

export { tf };
