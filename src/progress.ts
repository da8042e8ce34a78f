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
}

/** Callback for {@link ProgressEvent}s. */
export type OnProgress = (event: ProgressEvent) => void;
