// A script that uses the library exits by itself once its work is done (issue 12): snarkjs's shared curve keeps a
// worker thread per core, which must not hold the process open after a setup, a proof or a verification.
// The scripts run the built dist/ as a user's app would (`npm test` builds before vitest).
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ensureDevPtau } from "../src/circuits/dev-ptau.js";
import { DEMO_MODEL_DIR, demoSamples, ROOT, TEST_CACHE, tempDirs, tinyCalibration, tinyNetwork } from "./fixtures.js";

const tempDir = tempDirs("verinfer-exit-");

/** Longest wait from the script's last line to its exit; a script held open by worker threads never exits. */
const EXIT_WITHIN_MS = 5_000;

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the line "done" on stdout to the exit; undefined when the script was killed first. */
  exitAfterDoneMs?: number;
}

/** Runs an ES module script with node and measures how long it lives after printing "done". */
async function runScript(source: string, kind: "mjs" | "cjs" = "mjs"): Promise<ScriptRun> {
  const file = path.join(await tempDir(), `script.${kind}`);
  await writeFile(file, source);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: path.dirname(file), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let doneAt: number | undefined;
    let killer: NodeJS.Timeout | undefined;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (doneAt === undefined && /^done$/m.test(stdout)) {
        doneAt = Date.now();
        killer = setTimeout(() => child.kill("SIGKILL"), EXIT_WITHIN_MS * 4);
      }
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(killer);
      const exitAfterDoneMs = doneAt === undefined || code === null ? undefined : Date.now() - doneAt;
      resolve({ code, stdout, stderr, ...(exitAfterDoneMs === undefined ? {} : { exitAfterDoneMs }) });
    });
  });
}

const dist = (file: string) => pathToFileURL(path.join(ROOT, "dist", file)).href;

describe("a script using verinfer", () => {
  it("exits by itself after compileModel → verifiableInfer → verifyReceipt on the demo model", async () => {
    const run = await runScript(`
      import { compileModel, verifiableInfer, verifyReceipt } from ${JSON.stringify(dist("index.js"))};
      const pkg = await compileModel(${JSON.stringify(DEMO_MODEL_DIR)}, {
        calibration: ${JSON.stringify(demoSamples.calibration)},
        cacheDir: ${JSON.stringify(TEST_CACHE)},
        quiet: true,
      });
      const { receipt } = await verifiableInfer(pkg, ${JSON.stringify(demoSamples.inputs[0])});
      const { valid } = await verifyReceipt(receipt, { modelPackage: pkg });
      console.log("valid " + valid);
      console.log("done");
    `);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("valid true");
    expect(run.code).toBe(0);
    expect(run.exitAfterDoneMs).toBeLessThan(EXIT_WITHIN_MS);
  });

  it("exits by itself after a fresh Groth16 setup, a proof and a verification", async () => {
    const { file: ptau } = await ensureDevPtau({ power: 10, cacheDir: TEST_CACHE });
    const run = await runScript(`
      import { compileModel, verifiableInfer, verifyReceipt } from ${JSON.stringify(dist("index.js"))};
      const pkg = await compileModel(${JSON.stringify(tinyNetwork)}, {
        calibration: ${JSON.stringify(tinyCalibration)},
        cacheDir: ${JSON.stringify(await tempDir())},
        ptau: ${JSON.stringify(ptau)},
        quiet: true,
      });
      const { receipt } = await verifiableInfer(pkg, [0.1, 0.2, 0.3, 0.4]);
      const { valid } = await verifyReceipt(receipt, { modelPackage: pkg });
      console.log("valid " + valid);
      console.log("done");
    `);
    expect(run.stdout).toContain("valid true");
    expect(run.code).toBe(0);
    expect(run.exitAfterDoneMs).toBeLessThan(EXIT_WITHIN_MS);
  });
});
