import type { OnProgress, ProgressStage } from "../progress.js";

/** A snarkjs logger that forwards its info lines as progress events (snarkjs reports long loops there). */
export function snarkLogger(stage: ProgressStage, onProgress: OnProgress | undefined) {
  const forward = (message: string) => onProgress?.({ stage, message });
  return { debug: () => {}, info: forward, warn: forward, error: forward };
}
