import cliProgress from "cli-progress";
import type { OnProgress, ProgressStage } from "../progress.js";

/**
 * Shows progress events: a cli-progress bar over the pipeline's stages on a terminal, one line per stage
 * change otherwise (CI logs, pipes). Everything goes to stderr so stdout stays machine-readable.
 */
export function createProgress(stages: readonly ProgressStage[]): { onProgress: OnProgress; stop(): void } {
  if (!process.stderr.isTTY) {
    let last = "";
    return {
      onProgress: (e) => {
        if (e.stage !== last || e.done) process.stderr.write(`[${e.stage}] ${e.message}\n`);
        last = e.stage;
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: " {bar} {stage} | {message}", stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(stages.length, 0, { stage: stages[0] ?? "", message: "" });
  return {
    onProgress: (e) => {
      const index = stages.indexOf(e.stage);
      const value = index < 0 ? undefined : index + (e.done ? 1 : 0);
      bar.update(value ?? 0, { stage: e.stage, message: e.message.replace(/\s+/g, " ").slice(0, 60) });
    },
    stop: () => bar.stop(),
  };
}
