import { performance } from "node:perf_hooks";
import cliProgress from "cli-progress";
import type { OnProgress, ProgressEvent, ProgressStage } from "../util/progress.js";

/** On a pipe or CI log, a step that keeps reporting is printed at most this often (stage changes always print). */
const LOG_INTERVAL_MS = 10_000;

/** "1 min 05 s", "42 s": a time left, for people. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

/** The part of a line after the stage: the message, the step's percentage and its time left where known. */
export function describeProgress(e: ProgressEvent): string {
  const message = e.message.replace(/\s+/g, " ").trim();
  const parts = [message];
  // snarkjs-style counters already say "i/n"; a percentage is added only where the message has none.
  if (e.fraction !== undefined && !/%/.test(message)) parts.push(`${Math.floor(e.fraction * 100)}%`);
  if (e.etaMs !== undefined && !/left/.test(message)) parts.push(`~${formatDuration(e.etaMs)} left`);
  return parts.join(" · ");
}

/** Shortens a line to `width` characters, keeping its end (where the count and the time left are). */
export function fitLine(line: string, width: number): string {
  if (width <= 1 || line.length <= width) return line.slice(0, Math.max(width, 0));
  const tail = Math.floor(width / 2);
  return `${line.slice(0, width - tail - 1)}…${line.slice(line.length - tail)}`;
}

/**
 * Shows progress events: a cli-progress bar over the pipeline's stages on a terminal, with the current step's
 * message, percentage and time left fitted to the terminal's width; one line per stage change otherwise (CI logs,
 * pipes), plus a line every 10 s while a long step reports. Everything goes to stderr so stdout stays
 * machine-readable.
 */
export function createProgress(stages: readonly ProgressStage[]): { onProgress: OnProgress; stop(): void } {
  if (!process.stderr.isTTY) {
    let last = "";
    let lastPrinted = 0;
    return {
      onProgress: (e) => {
        const now = performance.now();
        if (e.stage !== last || e.done || now - lastPrinted >= LOG_INTERVAL_MS) {
          process.stderr.write(`[${e.stage}] ${describeProgress(e)}\n`);
          lastPrinted = now;
        }
        last = e.stage;
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: " {bar} {stage} | {message}", stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const barSize = 40;
  bar.start(stages.length, 0, { stage: stages[0] ?? "", message: "" });
  return {
    onProgress: (e) => {
      const index = stages.indexOf(e.stage);
      const value = index < 0 ? undefined : index + (e.done ? 1 : (e.fraction ?? 0));
      // " {bar} {stage} | {message}": the message gets what the bar and the stage leave of the line, less one
      // column so that the line never wraps (a wrapped bar line repeats on every update).
      const width = (process.stderr.columns || 100) - barSize - e.stage.length - 6;
      bar.update(value ?? 0, { stage: e.stage, message: fitLine(describeProgress(e), width) });
    },
    stop: () => bar.stop(),
  };
}
