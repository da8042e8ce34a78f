// Loading verinfer must not change how its host process dies (issue 20): tfjs-backend-wasm's Emscripten runtime
// adds process listeners that rethrow a user's uncaught error from inside tfjs, exit code 7. A user's script that
// fails after the wasm backend has loaded exits 1 with its own error and its own stack. The scripts import the
// built package by name (`npm test` builds first), as a user's app would.
import { spawn } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-host-");

async function runScript(source: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const app = await tempDir();
  await mkdir(path.join(app, "node_modules"));
  await symlink(ROOT, path.join(app, "node_modules", "verinfer"), "dir");
  const file = path.join(app, "user-script.mjs");
  await writeFile(file, source);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a user's script that fails after verinfer loaded the wasm backend", () => {
  it("exits 1 with the user's uncaught error and the user's stack, not code 7 from tfjs-backend-wasm", async () => {
    const run = await runScript(`
      import { initBackend } from "verinfer/models";
      console.log("backend " + (await initBackend("wasm")));
      function userStep() { throw new Error("user failure 4711"); }
      setTimeout(userStep, 0);
    `);
    expect(run.stdout).toContain("backend wasm");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("Error: user failure 4711");
    expect(run.stderr).toMatch(/at Timeout\.userStep .*user-script\.mjs:4/);
    expect(run.stderr).not.toContain("tf-backend-wasm");
  }, 120_000);

  it("exits 1 with the user's error for a rejected top-level await and for an unhandled rejection", async () => {
    const awaited = await runScript(`
      import { initBackend } from "verinfer/models";
      await initBackend("wasm");
      await Promise.reject(new Error("user rejection 1"));
    `);
    expect(awaited.code).toBe(1);
    expect(awaited.stderr).toContain("Error: user rejection 1");
    expect(awaited.stderr).not.toContain("tf-backend-wasm");
    const unhandled = await runScript(`
      import { initBackend } from "verinfer/models";
      await initBackend("wasm");
      Promise.reject(new Error("user rejection 2"));
    `);
    expect(unhandled.code).toBe(1);
    expect(unhandled.stderr).toContain("Error: user rejection 2");
    expect(unhandled.stderr).not.toContain("tf-backend-wasm");
  }, 120_000);
});
