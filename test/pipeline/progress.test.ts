// Long steps are never silent (issue 12): snarkjs's loop counters become events with a fraction and a time left,
// steps that report nothing themselves get heartbeats, and the terminal line fits the terminal.
import * as snarkjs from "snarkjs";
import { describe, expect, it } from "vitest";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { compileCircuit } from "../../src/circuits/compile-circuit.js";
import { snarkLogger } from "../../src/circuits/snark-logger.js";
import { describeProgress, fitLine, formatDuration } from "../../src/cli/progress-bar.js";
import { requiredPtauPower } from "../../src/pipeline/compile-model.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import type { ProgressEvent } from "../../src/util/progress.js";
import { withHeartbeat } from "../../src/util/progress-heartbeat.js";
import { TEST_CACHE, tempDirs, tinyPackage } from "../fixtures.js";

const tempDir = tempDirs("verinfer-progress-");

describe("progress of long steps", () => {
  it("turns snarkjs's loop counters in a real zkey setup into events with a fraction in [0, 1]", async () => {
    const pkg = await tinyPackage();
    const source = generateCircuit({ network: pkg.network, modelCommitment: BigInt(pkg.manifest.commitments.model) });
    const { r1cs } = await compileCircuit({ source, workDir: await tempDir() });
    const info = await snarkjs.r1cs.info({ type: "mem", data: r1cs });
    const ptau = await ensureDevPtau({
      power: requiredPtauPower(info.nConstraints, info.nOutputs + info.nPubInputs),
      cacheDir: TEST_CACHE,
    });
    const events: ProgressEvent[] = [];
    await snarkjs.zKey.newZKey(
      { type: "mem", data: r1cs },
      ptau.file,
      { type: "mem" },
      snarkLogger("setup", (e) => events.push(e)),
    );
    const counted = events.filter((e) => e.fraction !== undefined);
    expect(counted.length).toBeGreaterThan(0);
    for (const e of counted) {
      expect(e.stage).toBe("setup");
      expect(e.fraction).toBeGreaterThanOrEqual(0);
      expect(e.fraction).toBeLessThanOrEqual(1);
      expect(e.message).toMatch(/\d+\/\d+$/);
    }
    // Lines without a counter (section names) are forwarded too.
    expect(events.some((e) => e.fraction === undefined && /Reading/.test(e.message))).toBe(true);
  }, 120_000);

  it("estimates the time left of a loop from its rate once it has run a while", async () => {
    const events: ProgressEvent[] = [];
    const logger = snarkLogger("setup", (e) => events.push(e));
    logger.debug("writing coeffs: 0/1000");
    await new Promise((r) => setTimeout(r, 1_100));
    logger.debug("writing coeffs: 250/1000");
    const last = events.at(-1);
    expect(last?.fraction).toBe(0.25);
    // 250 of 1000 in ≥ 1.1 s: about 3 × 1.1 s left.
    expect(last?.etaMs).toBeGreaterThan(3_000);
    expect(last?.etaMs).toBeLessThan(30_000);
    // A counter past its total, or over zero, is not progress.
    logger.debug("writing coeffs: 2000/1000");
    logger.debug("odd: 1/0");
    expect(events.at(-1)).toBe(last);
  });

  it("sends heartbeats with the elapsed time while a silent step runs, and none after it ends", async () => {
    const events: ProgressEvent[] = [];
    const result = await withHeartbeat(
      { onProgress: (e) => events.push(e), stage: "compile", message: "compiling", intervalMs: 100 },
      () => new Promise<string>((r) => setTimeout(() => r("compiled"), 450)),
    );
    expect(result).toBe("compiled");
    const beats = events.filter((e) => (e.elapsedMs ?? 0) > 0);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    expect(beats.map((e) => e.elapsedMs)).toEqual(
      [...beats.map((e) => e.elapsedMs)].sort((a, b) => (a ?? 0) - (b ?? 0)),
    );
    const count = events.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(events.length).toBe(count);
  });

  it("passes a failing step's error through and stops beating", async () => {
    const events: ProgressEvent[] = [];
    const failing = withHeartbeat(
      { onProgress: (e) => events.push(e), stage: "compile", message: "x", intervalMs: 50 },
      () => Promise.reject(new Error("circom failed")),
    );
    await expect(failing).rejects.toThrow("circom failed");
    const count = events.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(events.length).toBe(count);
  });

  it("describes a step with its percentage and time left, and fits a line to the terminal keeping its end", () => {
    expect(
      describeProgress({ stage: "setup", message: "writing coeffs 250/1000", fraction: 0.25, etaMs: 65_000 }),
    ).toBe("writing coeffs 250/1000 · 25% · ~1 min 05 s left");
    // The dev ptau writer's messages already say both.
    expect(
      describeProgress({ stage: "ptau", message: "2^16: G1, 40% — about 30 s left", fraction: 0.4, etaMs: 30_000 }),
    ).toBe("2^16: G1, 40% — about 30 s left");
    expect(formatDuration(42_400)).toBe("42 s");
    const line = `Multiexp start: ${"x".repeat(80)}: 512/4096 · 12% · ~3 s left`;
    const fitted = fitLine(line, 40);
    expect(fitted).toHaveLength(40);
    expect(fitted.endsWith("~3 s left")).toBe(true);
    expect(fitLine("short", 40)).toBe("short");
  });
});
