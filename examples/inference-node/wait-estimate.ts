/**
 * How long a new proof would take to come back, from what the node measures: the proving time of its latest
 * receipts and the jobs ahead of it. The node admits a request only while this stays within its wait budget
 * (backpressure by default): past it, 429 + Retry-After before the body is read.
 *
 * @module
 */

/** The load a new job would meet: jobs waiting for a prover, jobs being proven, prover slots. */
export interface ProverLoad {
  /** Jobs waiting for a prover (the pool's or the queue's waiting jobs, plus requests this node admitted and has not handed over yet). */
  waiting: number;
  /** Jobs being proven now. */
  running: number;
  /** Provers that work side by side (≥ 1): a pool's workers; for a queue, the jobs active now (a lower bound). */
  slots: number;
}

/** Options of {@link WaitEstimate}. */
export interface WaitEstimateOptions {
  /** Samples kept (the latest). Default 32. */
  size?: number;
  /** Most ms one sample counts for (a longer one is taken as this): one outlier cannot lock admission. */
  capMs?: number;
  /** A sample older than this (ms) no longer counts: the estimate decays when no proofs are measured. Default 10 min. */
  maxAgeMs?: number;
}

/**
 * The mean of the latest proving times and the expected wait of a new job; see {@link expectedWaitMs}. Samples
 * are what the node measured on its own clock (hand-over to settled receipt), never a prover's report: a remote
 * prover's `timings.proveMs` is its unverified word. Each is capped, and ages out.
 */
export class WaitEstimate {
  private readonly samples: { ms: number; at: number }[] = [];
  private next = 0;
  private readonly size: number;
  private readonly capMs: number;
  private readonly maxAgeMs: number;

  constructor(options: WaitEstimateOptions = {}) {
    this.size = options.size ?? 32;
    this.capMs = options.capMs ?? Number.POSITIVE_INFINITY;
    this.maxAgeMs = options.maxAgeMs ?? 600_000;
  }

  /** Records one proof's time (ms) as the node measured it. */
  observe(proveMs: number, now = Date.now()): void {
    if (!Number.isFinite(proveMs) || proveMs < 0) return;
    const sample = { ms: Math.min(proveMs, this.capMs), at: now };
    if (this.samples.length < this.size) this.samples.push(sample);
    else this.samples[this.next] = sample;
    this.next = (this.next + 1) % this.size;
  }

  /** Mean proving time of the latest proofs not aged out, ms; `undefined` when there is none. */
  serviceAt(now = Date.now()): number | undefined {
    const live = this.samples.filter((s) => now - s.at <= this.maxAgeMs);
    return live.length === 0 ? undefined : live.reduce((a, s) => a + s.ms, 0) / live.length;
  }

  /** {@link serviceAt} now. */
  get serviceMs(): number | undefined {
    return this.serviceAt();
  }

  /**
   * Expected time from now to a new job's receipt, ms: the rounds of `slots` jobs before its own turn, one more
   * when every slot is busy (it waits for one to free), times the mean proving time. `undefined` before the
   * first measurement (then only the count bound applies), and when nothing waits and a slot is free (a job
   * starts at once: however long it takes, refusing it would not make it shorter).
   */
  expectedWaitMs(load: ProverLoad): number | undefined {
    const service = this.serviceMs;
    if (service === undefined) return undefined;
    const slots = Math.max(1, load.slots);
    if (load.waiting <= 0 && load.running < slots) return undefined;
    const rounds = Math.ceil((Math.max(0, load.waiting) + 1) / slots) + (load.running >= slots ? 1 : 0);
    return rounds * service;
  }
}
