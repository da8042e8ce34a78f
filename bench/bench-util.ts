/** Helpers shared by the benchmarks. */
import { performance } from "node:perf_hooks";
import type { CircuitBackend } from "../src/pipeline/compile-model.js";
import type { ProgressEvent } from "../src/util/progress.js";

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The value after `--name` on the command line, if any. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A positive integer option (`--runs 5`), or `fallback` when it is not given; anything else throws. */
export function positiveIntArg(name: string, fallback: number): number {
  const raw = argValue(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** `--circuit-backend direct|circom` (default `direct`). */
export function circuitBackendArg(): CircuitBackend {
  const backend = argValue("--circuit-backend") ?? "direct";
  if (backend !== "direct" && backend !== "circom") throw new Error("--circuit-backend: direct | circom");
  return backend;
}

/** When each progress stage was first and last reported (`performance.now()`), for splitting a compile's time. */
export interface StageMarks {
  first: Partial<Record<ProgressEvent["stage"], number>>;
  last: Partial<Record<ProgressEvent["stage"], number>>;
  onProgress: (e: ProgressEvent) => void;
}

export function stageMarks(): StageMarks {
  const first: StageMarks["first"] = {};
  const last: StageMarks["last"] = {};
  return {
    first,
    last,
    onProgress: (e) => {
      const now = performance.now();
      first[e.stage] ??= now;
      last[e.stage] = now;
    },
  };
}

/**
 * Splits the setup part of a compile that ended at `end`: `setupStart` is where the ptau or the setup began,
 * whichever came first, and `ptauMs` the span of the dev ptau writer's events (0 when a cached ptau was used). A
 * shared dev ptau is written before the setup starts; a Groth16 dev setup writes its own inside the setup step, so
 * its "ptau" events come after "setup" began. Either way `ptauMs` is the writer's own time.
 */
export function splitSetup(marks: StageMarks, end: number): { setupStart: number; ptauMs: number } {
  const { first, last } = marks;
  const setupStart = Math.min(first.ptau ?? end, first.setup ?? end);
  const ptauMs = first.ptau !== undefined && last.ptau !== undefined ? last.ptau - first.ptau : 0;
  return { setupStart, ptauMs };
}
