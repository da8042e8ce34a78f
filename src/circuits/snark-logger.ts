import { performance } from "node:perf_hooks";
import type { OnProgress, ProgressStage } from "../util/progress.js";

/** snarkjs/ffjavascript counters: "processing constraints: 20000/91233", "Multiexp start: A: 0/4096". */
const COUNTER = /^(.*?)(\d+)\s*\/\s*(\d+)\s*$/;
/** Fewest milliseconds between two forwarded counter events (snarkjs logs some loops every few points). */
const MIN_INTERVAL_MS = 200;

/**
 * A snarkjs logger that turns its lines into progress events. snarkjs reports long loops as "label i/n" debug
 * lines: those become events with `fraction` and, once a loop has run a while, `etaMs` from its rate so far;
 * other info/debug lines are forwarded as they are (they name the section being read or written). Forwarding is
 * throttled so a chatty loop costs nothing.
 *
 * @example
 * ```ts
 * await snarkjs.zKey.newZKey(r1cs, ptau, zkey, snarkLogger("setup", onProgress));
 * ```
 */
export function snarkLogger(stage: ProgressStage, onProgress: OnProgress | undefined) {
  const loops = new Map<string, { started: number }>();
  let lastSent = 0;
  const forward = (raw: string, always: boolean) => {
    if (!onProgress) return;
    const message = raw.replace(/\s+/g, " ").trim();
    const now = performance.now();
    const counter = COUNTER.exec(message);
    if (!counter) {
      if (always || now - lastSent >= MIN_INTERVAL_MS) {
        lastSent = now;
        onProgress({ stage, message });
      }
      return;
    }
    const label = (counter[1] as string).replace(/[:\s]+$/, "");
    const i = Number(counter[2]);
    const n = Number(counter[3]);
    if (!(n > 0) || i > n) return;
    let loop = loops.get(label);
    if (!loop || i === 0) {
      loop = { started: now };
      loops.set(label, loop);
    }
    if (!always && now - lastSent < MIN_INTERVAL_MS && i !== n) return;
    lastSent = now;
    const fraction = i / n;
    const elapsed = now - loop.started;
    // A rate is meaningful only after the loop has done some work for a while.
    const etaMs = fraction > 0.02 && elapsed > 1_000 ? (elapsed / fraction) * (1 - fraction) : undefined;
    onProgress({ stage, message: `${label} ${i}/${n}`, fraction, ...(etaMs !== undefined ? { etaMs } : {}) });
  };
  return {
    debug: (m: string) => forward(m, false),
    info: (m: string) => forward(m, true),
    warn: (m: string) => forward(m, true),
    error: (m: string) => forward(m, true),
  };
}
