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

/** The mean of the latest proving times and the expected wait of a new job; see {@link expectedWaitMs}. */
export class WaitEstimate {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly size = 32) {}

  /** Records one receipt's proving time (ms). */
  observe(proveMs: number): void {
    if (!Number.isFinite(proveMs) || proveMs < 0) return;
    if (this.samples.length < this.size) this.samples.push(proveMs);
    else this.samples[this.next] = proveMs;
    this.next = (this.next + 1) % this.size;
  }

  /** Mean proving time of the latest receipts, ms; `undefined` before the first. */
  get serviceMs(): number | undefined {
    const n = this.samples.length;
    return n === 0 ? undefined : this.samples.reduce((a, b) => a + b, 0) / n;
  }

  /**
   * Expected time from now to a new job's receipt, ms: the rounds of `slots` jobs before its own turn, one more
   * when every slot is busy (it waits for one to free), times the mean proving time. `undefined` before the
   * first measurement (then only the count bound applies).
   */
  expectedWaitMs(load: ProverLoad): number | undefined {
    const service = this.serviceMs;
    if (service === undefined) return undefined;
    const slots = Math.max(1, load.slots);
    const rounds = Math.ceil((Math.max(0, load.waiting) + 1) / slots) + (load.running >= slots ? 1 : 0);
    return rounds * service;
  }
}
