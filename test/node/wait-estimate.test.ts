// The node's backpressure estimate (examples/inference-node/wait-estimate.ts): what one sample, old samples and an
// idle prover can do to admission (issue 18 audit: a rogue proveMs of 1e12, an estimate that never decayed).
import { describe, expect, it } from "vitest";
import { WaitEstimate } from "../../examples/inference-node/wait-estimate.js";

const busy = { waiting: 1, running: 1, slots: 1 };

describe("WaitEstimate", () => {
  it("caps one sample: a 1e12 ms outlier counts as capMs", () => {
    const estimate = new WaitEstimate({ capMs: 300_000 });
    estimate.observe(1e12);
    expect(estimate.serviceMs).toBe(300_000);
  });

  it("forgets samples older than maxAgeMs", () => {
    const estimate = new WaitEstimate({ maxAgeMs: 1_000 });
    estimate.observe(5_000, Date.now() - 2_000);
    expect(estimate.serviceMs).toBeUndefined();
    expect(estimate.expectedWaitMs(busy)).toBeUndefined();
  });

  it("expects no wait when nothing waits and a slot is free, however slow the last proofs", () => {
    const estimate = new WaitEstimate();
    estimate.observe(60_000);
    expect(estimate.expectedWaitMs({ waiting: 0, running: 0, slots: 1 })).toBeUndefined();
    expect(estimate.expectedWaitMs(busy)).toBe(180_000);
  });
});
