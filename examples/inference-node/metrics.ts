import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ProofQueue, ProverPool } from "../../src/index.js";
import { withinDeadline } from "./queue-faults.js";

/** Options of {@link createNodeMetrics}. */
export interface NodeMetricsOptions {
  queue?: ProofQueue;
  /** Longest wait for the queue's Redis in a scrape (ms); then `verinfer_redis_up 0` and the queue gauges keep their last values. Default 500. */
  timeoutMs?: number;
  pool?: ProverPool;
  /** Requests of `POST /infer` being served now. */
  inFlight: () => number;
}

/** The inference node's Prometheus metrics; see {@link createNodeMetrics}. */
export interface NodeMetrics {
  registry: Registry;
  /** Counts one answered request by route and status. */
  request(route: string, status: number): void;
  /** Records one zk receipt's proving time (the prover's witness + Groth16 time). */
  proved(proveMs: number): void;
}

/**
 * Prometheus metrics of an inference node (prom-client), served as `GET /metrics`:
 *
 * - `verinfer_http_requests_total{route,status}`, `verinfer_infer_in_flight`;
 * - `verinfer_prove_duration_seconds` (histogram of the zk receipts this node returned);
 * - with a proof queue, from Redis at each scrape: `verinfer_proof_queue_depth`, `…_active`, `…_completed`,
 *   `…_failed` (jobs kept in Redis), and this node's `verinfer_proof_queue_redelivered_total`,
 *   `…_submitted_total`, `…_rejected_total`, and `verinfer_redis_up` (0 while Redis does not answer within
 *   `timeoutMs`: a scrape never hangs on it);
 * - with a prover pool: `verinfer_prover_pool_queued`, `…_running`, `…_completed_total`, `…_failed_total`,
 *   `…_rejected_total`.
 *
 * Labels hold routes and status codes only: never a model input, a salt or a receipt.
 *
 * @example
 * ```ts
 * const metrics = createNodeMetrics({ queue, inFlight: () => inFlight });
 * app.get("/metrics", async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
 * ```
 */
export function createNodeMetrics(options: NodeMetricsOptions): NodeMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: "verinfer_http_requests_total",
    help: "HTTP requests answered, by route and status",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  const prove = new Histogram({
    name: "verinfer_prove_duration_seconds",
    help: "Witness generation and Groth16 proving time of the zk receipts returned",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const { queue, pool } = options;
  // A read that gives nothing (Redis did not answer) leaves the metric as it was.
  const gauge = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const value = await read();
        if (value !== undefined) this.set(value);
      },
    });
  // A count kept elsewhere (the queue, the pool), exposed as a counter: each scrape adds what it grew by.
  const counter = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>) => {
    let last = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      async collect() {
        const now = await read();
        if (now === undefined) return;
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  gauge("verinfer_infer_in_flight", "POST /infer requests being served", options.inFlight);
  if (queue) {
    // One Redis round trip per scrape, shared by every queue metric, and bounded: undefined when it timed out.
    type Stats = Awaited<ReturnType<ProofQueue["stats"]>>;
    const timeoutMs = options.timeoutMs ?? 500;
    let snapshot: Promise<Stats | undefined> | undefined;
    const stats = () => {
      snapshot ??= withinDeadline(queue.stats(), timeoutMs)
        .catch(() => undefined)
        .finally(() => {
          setImmediate(() => {
            snapshot = undefined;
          });
        });
      return snapshot;
    };
    const from = (pick: (s: Stats) => number) => async () => {
      const s = await stats();
      return s === undefined ? undefined : pick(s);
    };
    gauge("verinfer_redis_up", "Whether the proof queue's Redis answered this scrape (1) or not (0)", async () =>
      (await stats()) === undefined ? 0 : 1,
    );
    gauge(
      "verinfer_proof_queue_depth",
      "Proof jobs waiting for a prover (Redis, whole queue)",
      from((s) => s.depth),
    );
    gauge(
      "verinfer_proof_queue_active",
      "Proof jobs a prover holds (Redis, whole queue)",
      from((s) => s.active),
    );
    gauge(
      "verinfer_proof_queue_completed",
      "Completed proof jobs kept in Redis",
      from((s) => s.completed),
    );
    gauge(
      "verinfer_proof_queue_failed",
      "Failed proof jobs kept in Redis",
      from((s) => s.failed),
    );
    gauge(
      "verinfer_proof_queue_max_depth",
      "The queue's maxDepth",
      from((s) => s.maxDepth),
    );
    counter(
      "verinfer_proof_queue_redelivered_total",
      "Stalled proof jobs redelivered (seen by this node)",
      from((s) => s.redelivered),
    );
    counter(
      "verinfer_proof_queue_submitted_total",
      "Proof jobs this node added",
      from((s) => s.submitted),
    );
    counter(
      "verinfer_proof_queue_rejected_total",
      "Proof jobs this node refused (OVERLOADED)",
      from((s) => s.rejected),
    );
    counter(
      "verinfer_proof_queue_proven_total",
      "zk receipts this node collected",
      from((s) => s.proven),
    );
    counter(
      "verinfer_proof_queue_failures_total",
      "Proof jobs this node saw fail",
      from((s) => s.failures),
    );
  }
  if (pool) {
    gauge("verinfer_prover_pool_queued", "Pool jobs waiting for a worker", () => pool.stats.queued);
    gauge("verinfer_prover_pool_running", "Pool jobs being proven", () => pool.stats.running);
    counter("verinfer_prover_pool_completed_total", "Pool jobs completed", () => pool.stats.completed);
    counter("verinfer_prover_pool_failed_total", "Pool jobs failed", () => pool.stats.failed);
    counter("verinfer_prover_pool_rejected_total", "Pool jobs refused (OVERLOADED)", () => pool.stats.rejected);
  }
  return {
    registry,
    request: (route, status) => requests.inc({ route, status: String(status) }),
    proved: (proveMs) => prove.observe(proveMs / 1_000),
  };
}
