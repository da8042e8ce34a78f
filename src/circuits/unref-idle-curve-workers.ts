import type { Worker } from "node:worker_threads";
import { PROVER_PLUGIN_EXPORTS } from "../proof-systems/wasm/plugins.js";

// snarkjs builds its bn128 curve once per thread (ffjavascript's buildBn128) and caches it on
// `globalThis.curve_bn128`, with one worker thread per core that stays alive after every proof, setup and
// verification: a script that only awaited verinfer's promises would never exit. Terminating the curve after each
// call would cost a rebuild (~0.3 s) per proof and break concurrent calls, so instead each worker is unref'd while it
// is idle and ref'd again while it holds a task: the process stays alive exactly as long as there is work.

/** Whether a curve's wasm has verinfer's prover plugins (src/proof-systems/wasm/plugins.ts). */
function hasPluginExports(curve: unknown): boolean {
  const exports = (curve as { tm?: { instance?: { exports?: Record<string, unknown> } } } | null | undefined)?.tm
    ?.instance?.exports;
  return exports !== undefined && PROVER_PLUGIN_EXPORTS.every((name) => typeof exports[name] === "function");
}

/** Where web-worker (ffjavascript's `Worker` in Node) keeps the worker_threads Worker it wraps. */
const NODE_WORKER = Symbol.for("worker");
const PATCHED = Symbol.for("verinfer.unrefIdleCurveWorkers");

/** What is used of ffjavascript's ThreadManager (`curve.tm`); anything else found there is left alone. */
interface ThreadManagerLike {
  workers?: unknown[];
  working?: boolean[];
  postAction?: (this: unknown, workerId: number, ...rest: unknown[]) => unknown;
  [PATCHED]?: true;
}

interface WebWorkerLike {
  [NODE_WORKER]?: Worker;
  addEventListener(type: "message", listener: () => void): void;
}

function nodeWorker(worker: unknown): Worker | undefined {
  const inner = (worker as WebWorkerLike | undefined)?.[NODE_WORKER];
  return typeof inner?.ref === "function" && typeof inner.unref === "function" ? inner : undefined;
}

function releaseWhenIdle(curve: unknown): void {
  const tm = (curve as { tm?: ThreadManagerLike } | null | undefined)?.tm;
  if (!tm || tm[PATCHED]) return;
  const { workers, working, postAction } = tm;
  // A single-threaded curve has no workers; a thread manager of another shape is not ours to touch.
  if (!Array.isArray(workers) || !Array.isArray(working) || typeof postAction !== "function") return;
  if (!workers.every((w) => nodeWorker(w) && typeof (w as WebWorkerLike).addEventListener === "function")) return;
  tm[PATCHED] = true;
  tm.postAction = function (this: unknown, workerId: number, ...rest: unknown[]) {
    nodeWorker(workers[workerId])?.ref();
    return postAction.call(this, workerId, ...rest);
  };
  for (const [i, w] of workers.entries()) {
    // Runs after the thread manager's own listener, which marks the worker free and hands it the next task.
    (w as WebWorkerLike).addEventListener("message", () => {
      if (!working[i]) nodeWorker(w)?.unref();
    });
    if (!working[i]) nodeWorker(w)?.unref();
  }
}

/**
 * Makes snarkjs's shared bn128 curve hold the process open only while its worker threads have work, so that a
 * script using verinfer exits by itself once its promises settle. Idempotent; call it before any snarkjs call
 * that may build the curve (proving, setup, verification, r1cs info). Curves built later are handled as they are
 * cached; a curve already cached is handled now.
 *
 * @example
 * ```ts
 * unrefIdleCurveWorkers();
 * const ok = await snarkjs.groth16.verify(vkey, publicSignals, proof);
 * ```
 */
export function unrefIdleCurveWorkers(): void {
  const g = globalThis as { curve_bn128?: unknown };
  if (Object.getOwnPropertyDescriptor(g, "curve_bn128")?.set) return; // already installed (here or by another copy)
  let current = g.curve_bn128;
  Object.defineProperty(g, "curve_bn128", {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (curve: unknown) => {
      releaseWhenIdle(curve);
      // The prover's curve (snarkjs's with verinfer's wasm plugins) is a superset of a plain one: a plain curve whose
      // build raced the prover's is not installed over it (its caller keeps it; its idle workers are unref'd).
      if (curve && hasPluginExports(current) && !hasPluginExports(curve)) return;
      current = curve;
    },
  });
  releaseWhenIdle(current);
}
