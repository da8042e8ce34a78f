/** Median, 99th percentile and mean of the latest samples of a latency, in ms (0 when there are none). */
export interface LatencySummary {
  /** Samples in the window (at most its size; the oldest go first). */
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/** The latest `size` samples of a latency; see {@link LatencySummary}. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly size = 1_024) {}

  add(ms: number): void {
    if (!Number.isFinite(ms)) return;
    if (this.samples.length < this.size) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.size;
  }

  summary(): LatencySummary {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const n = sorted.length;
    if (n === 0) return { count: 0, p50: 0, p99: 0, mean: 0 };
    const at = (q: number) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)] as number;
    return { count: n, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / n };
  }
}
