/** Stages of the long operations that report progress. */
export type ProgressStage =
  | "load"
  | "quantize"
  | "codegen"
  | "compile"
  | "ptau"
  | "setup"
  | "infer"
  | "witness"
  | "prove"
  | "verify"
  | "audit";

/** A progress report: `done` is set on the last event of a stage. */
export interface ProgressEvent {
  stage: ProgressStage;
  message: string;
  done?: boolean;
  /** How far the current step is, in [0, 1], where it can be counted (e.g. snarkjs's point loops). */
  fraction?: number;
  /** Estimated milliseconds left in the current step, from its rate so far; absent where it cannot be known. */
  etaMs?: number;
  /** Milliseconds since the current step began (set by heartbeats of steps that report nothing themselves). */
  elapsedMs?: number;
}

/** Callback for {@link ProgressEvent}s. */
export type OnProgress = (event: ProgressEvent) => void;
