/**
 * The prover pool's worker thread (run by piscina from `dist/receipts/prover-worker.js`; see
 * {@link createProverPool}). It keeps, per model, the zkey bytes and an instantiated witness generator, read
 * from the artifact store and hash-checked once, and it builds its curve once.
 *
 * @module
 */
import { performance } from "node:perf_hooks";
import { parentPort } from "node:worker_threads";
import * as snarkjs from "snarkjs";
import { WitnessGenerator } from "../circuits/prove-groth16.js";
import { type ErrorCode, VerinferError } from "../errors.js";
import type { ProofSystem } from "../proof-systems/proof-system.js";
import { proveCircuit, type SnarkProofBundle } from "../proof-systems/prove-circuit.js";
import { proofSystemModule } from "../proof-systems/systems.js";
import { proverCurve } from "../proof-systems/wasm/prover-curve.js";
import { type ArtifactRef, ArtifactStore } from "../storage/artifact-store.js";

/** What the pool sends a worker: references into an artifact store, never the artifacts themselves. */
export interface ProverTask {
  /** The pool's job number, echoed in the "started" message that starts the job's timeout clock. */
  jobId: number;
  /** Cache directory whose artifact store holds `wasm` and `zkey`. */
  cacheDir: string;
  /** The zkey's proof system. */
  system: ProofSystem;
  /** The model whose witness program `wasm` must be (a direct program's network is recomputed to this id). */
  modelId: string;
  wasm: ArtifactRef;
  zkey: ArtifactRef;
  /** The circuit's r1cs: a Groth16 prover checks each witness against it before proving. */
  r1cs?: ArtifactRef;
  /** Quantized input. */
  input: bigint[];
  inputSalt: bigint;
  outputSalt: bigint;
  /** Test hook, honoured only when the worker's environment has `VERINFER_TEST_CRASH=1`. */
  testCrash?: "exit" | "throw";
}

/** A worker's answer. Errors travel as data: a thrown `VerinferError` would lose its class and code crossing threads. */
export type ProverTaskResult =
  | (SnarkProofBundle & { ok: true; proveMs: number; loadMs: number })
  | { ok: false; code: ErrorCode; shortMessage: string; details?: string };

/** The message a worker posts when it picks a job up. */
export interface ProverStartedMessage {
  verinferProverStarted: number;
}

interface LoadedModel {
  zkey: Uint8Array;
  r1cs: Uint8Array | undefined;
  witness: WitnessGenerator;
}

/** Models a worker keeps loaded; the least recently used one goes first. */
const MAX_MODELS = 4;
const models = new Map<string, Promise<LoadedModel>>();

/**
 * Builds this worker's curve once, single-threaded, with verinfer's wasm plugins (the prover curve: the
 * Groth16 prover's multi-exponentiations need them; snarkjs's PLONK and FFLONK provers run on it too). A worker thread cannot have snarkjs's own thread pool
 * anyway: ffjavascript makes it with the `web-worker` package, which off the main thread has no `Worker`.
 * snarkjs's `groth16.prove` gets its curve from ffjavascript's `buildBn128`, which returns the thread's shared
 * curve (`globalThis.curve_bn128`) — or, asked for `{ singleThread: true }`, builds a new one for every proof
 * (~150 ms of wasm building). Installing one single-threaded curve as the shared one gives each worker one
 * curve, built once, on its own core. Should the installation not take (another ffjavascript), every proof
 * passes `singleThread` instead: slower, still correct.
 *
 * @returns whether each proof must ask for `singleThread` itself.
 */
async function initCurve(): Promise<boolean> {
  const curve = await proverCurve({ singleThread: true });
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
  const shared = await snarkjs.curves.getCurveFromName("bn128").catch(() => undefined);
  if (shared === curve) return false;
  await shared?.terminate();
  return true;
}

const curveReady = initCurve();
// Reported to the first job that awaits it; never an unhandled rejection that would take the worker down idle.
curveReady.catch(() => undefined);

function loadModel(task: ProverTask): Promise<LoadedModel> {
  const key = `${task.cacheDir}\n${task.modelId}\n${task.zkey.sha256}\n${task.wasm.sha256}\n${task.r1cs?.sha256}`;
  let loaded = models.get(key);
  if (loaded) {
    models.delete(key);
  } else {
    const store = new ArtifactStore(task.cacheDir);
    loaded = Promise.all([
      store.get(task.wasm, "witness wasm"),
      store.get(task.zkey, "zkey"),
      task.r1cs && proofSystemModule(task.system).provesWithR1cs ? store.get(task.r1cs, "r1cs") : undefined,
    ]).then(async ([wasm, zkey, r1cs]) => ({
      zkey: new Uint8Array(zkey),
      r1cs: r1cs && new Uint8Array(r1cs),
      witness: await WitnessGenerator.create(new Uint8Array(wasm), { modelId: task.modelId }),
    }));
    loaded.catch(() => models.delete(key));
  }
  models.set(key, loaded);
  for (const old of models.keys()) {
    if (models.size <= MAX_MODELS) break;
    models.delete(old);
  }
  return loaded;
}

function crashForTest(kind: "exit" | "throw"): Promise<never> {
  if (kind === "exit") process.exit(70);
  setImmediate(() => {
    throw new Error("verinfer test crash: uncaught exception in the prover worker");
  });
  return new Promise<never>(() => undefined);
}

/** Proves one job. Piscina calls this default export on the worker thread. */
export default async function proveTask(task: ProverTask): Promise<ProverTaskResult> {
  parentPort?.postMessage({ verinferProverStarted: task.jobId } satisfies ProverStartedMessage);
  try {
    if (task.testCrash && process.env.VERINFER_TEST_CRASH === "1") await crashForTest(task.testCrash);
    const t0 = performance.now();
    const perProofSingleThread = await curveReady;
    const { zkey, r1cs, witness } = await loadModel(task);
    const t1 = performance.now();
    const bundle = await proveCircuit({
      system: task.system,
      witness,
      zkey,
      ...(r1cs ? { r1cs } : {}),
      inputs: { input: task.input, inputSalt: task.inputSalt, outputSalt: task.outputSalt },
      singleThread: perProofSingleThread,
    });
    return { ok: true, ...bundle, proveMs: performance.now() - t1, loadMs: t1 - t0 };
  } catch (error) {
    if (error instanceof VerinferError) {
      return {
        ok: false,
        code: error.code,
        shortMessage: error.shortMessage,
        ...(error.details ? { details: error.details } : {}),
      };
    }
    return {
      ok: false,
      code: "PROVE_FAILED",
      shortMessage: "the prover worker failed",
      details: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
}
