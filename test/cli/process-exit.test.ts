// A script that uses the library exits by itself once its work is done (issue 12): snarkjs's shared curve keeps a
// worker thread per core, which must not hold the process open after a setup, a proof or a verification.
// The scripts import the package by name, from an app folder whose node_modules/verinfer links to this repository,
// so they run the built dist/ through package.json's "exports" as a user's app would (`npm test` builds first).
import { spawn } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { DEMO_MODEL_DIR, demoSamples, ROOT, TEST_CACHE, tempDirs, tinyCalibration, tinyNetwork } from "../fixtures.js";

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

/** Runs a script (ES module or CommonJS) with node in a fresh app folder; measures how long it lives after "done". */
async function runScript(source: string, kind: "mjs" | "cjs" = "mjs"): Promise<ScriptRun> {
  const app = await tempDir();
  await mkdir(path.join(app, "node_modules"));
  await symlink(ROOT, path.join(app, "node_modules", "verinfer"), "dir");
  const file = path.join(app, `script.${kind}`);
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

describe("a script using verinfer", () => {
  it("exits by itself after compileModel → verifiableInfer → verifyReceipt on the demo model", async () => {
    const run = await runScript(`
      import { compileModel, verifiableInfer, verifyReceipt } from "verinfer";
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
      import { compileModel, verifiableInfer, verifyReceipt } from "verinfer";
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

  it("exits by itself after two HeliaStorage nodes moved a package by CID and were closed", async () => {
    const run = await runScript(`
      import { compileModel, createHeliaStorage, getModelPackage, putModelPackage } from "verinfer";
      const pkg = await compileModel(${JSON.stringify(DEMO_MODEL_DIR)}, {
        calibration: ${JSON.stringify(demoSamples.calibration)},
        cacheDir: ${JSON.stringify(TEST_CACHE)},
        quiet: true,
      });
      const a = await createHeliaStorage({ directory: ${JSON.stringify(await tempDir())} });
      const b = await createHeliaStorage({ directory: ${JSON.stringify(await tempDir())}, peers: a.multiaddrs });
      const { manifestCid } = await putModelPackage(a, pkg);
      const fetched = await getModelPackage(b, manifestCid, { cacheDir: ${JSON.stringify(await tempDir())} });
      console.log("same " + (fetched.id === pkg.id));
      await b.close();
      await a.close();
      console.log("done");
    `);
    expect(run.stdout).toContain("same true");
    expect(run.code).toBe(0);
    expect(run.exitAfterDoneMs).toBeLessThan(EXIT_WITHIN_MS);
  });

  it("loads with require() from a CommonJS app (Node >= 20.19), every subpath, and exits after a proof", async () => {
    const run = await runScript(
      `
      const { compileModel, verifiableInfer, verifyReceipt } = require("verinfer");
      for (const sub of ["models", "circuits", "attest", "storage", "chain"]) {
        if (Object.keys(require("verinfer/" + sub)).length === 0) throw new Error("verinfer/" + sub + " is empty");
      }
      (async () => {
        const pkg = await compileModel(${JSON.stringify(DEMO_MODEL_DIR)}, {
          calibration: ${JSON.stringify(demoSamples.calibration)},
          cacheDir: ${JSON.stringify(TEST_CACHE)},
          quiet: true,
        });
        const { receipt } = await verifiableInfer(pkg, ${JSON.stringify(demoSamples.inputs[1])});
        const { valid } = await verifyReceipt(receipt, { modelPackage: pkg });
        console.log("valid " + valid);
        console.log("done");
      })();
    `,
      "cjs",
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("valid true");
    expect(run.code).toBe(0);
    expect(run.exitAfterDoneMs).toBeLessThan(EXIT_WITHIN_MS);
  });
});
