import { performance } from "node:perf_hooks";
import type { OnProgress, ProgressStage } from "./progress.js";

/** How often a step that reports nothing itself says it is still running. */
export const HEARTBEAT_MS = 2_000;

/** Parameters of {@link withHeartbeat}. */
export interface HeartbeatParams {
  onProgress: OnProgress | undefined;
  stage: ProgressStage;
  message: string;
  /** Default {@link HEARTBEAT_MS}. */
  intervalMs?: number;
}

/**
 * Runs a step that reports no progress of its own (circom2's compile, a witness-wasm instantiation) and, while it
 * runs, repeats its message with the time elapsed every {@link HEARTBEAT_MS}, so a long step is never silent.
 * The timer is unref'd: it never holds a process open.
 *
 * @example
 * ```ts
 * const compiled = await withHeartbeat({ onProgress, stage: "compile", message: "compiling" }, () => compileCircuit(p));
 * ```
 */
export async function withHeartbeat<T>(params: HeartbeatParams, step: () => Promise<T>): Promise<T> {
  const { onProgress, stage, message, intervalMs = HEARTBEAT_MS } = params;
  if (!onProgress) return step();
  const started = performance.now();
  onProgress({ stage, message, elapsedMs: 0 });
  const timer = setInterval(() => {
    const elapsedMs = performance.now() - started;
    onProgress({ stage, message: `${message} (${Math.round(elapsedMs / 1000)} s)`, elapsedMs });
  }, intervalMs);
  timer.unref();
  try {
    return await step();
  } finally {
    clearInterval(timer);
  }
}
