// A path a user passes that names nothing says so, with what was looked for (issue 20): a wrong model directory is
// "no model at <path>", not "cannot read calibration file <path>/samples.json".
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isVerinferError, type VerinferError } from "../../src/errors.js";
import { loadModel } from "../../src/models/load-model.js";
import { inspectPtau } from "../../src/setup/inspect-ptau.js";
import { errorOf, runCli, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-paths-");

async function missing(promise: Promise<unknown>): Promise<VerinferError> {
  const err = await errorOf(promise);
  expect(isVerinferError(err, "ARTIFACT_MISSING"), String(err)).toBe(true);
  return err as VerinferError;
}

describe("user paths that name no model", () => {
  it("a folder that does not exist: no model at <path>", async () => {
    const dir = path.join(await tempDir(), "no-such-model");
    const err = await missing(loadModel(dir));
    expect(err.shortMessage).toBe(`no model at ${dir}`);
    expect(err.details).toContain("no such file or folder");
  });

  it("a folder without model.json: names the model.json looked for, and an .onnx file it holds instead", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "net.onnx"), "");
    const err = await missing(loadModel(dir));
    expect(err.shortMessage).toBe(`no model at ${dir}`);
    expect(err.details).toContain(path.join(dir, "model.json"));
    expect(err.details).toContain("net.onnx");
  });

  it("an .onnx path that does not exist: no model at <path>", async () => {
    const file = path.join(await tempDir(), "absent.onnx");
    const err = await missing(loadModel(file));
    expect(err.shortMessage).toBe(`no model at ${file}`);
  });

  it("verinfer compile of a wrong folder exits 2 saying no model at it, not that samples.json is missing", async () => {
    const dir = path.join(await tempDir(), "typo");
    const run = await runCli(["compile", dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no model at ${dir}`);
    expect(run.stderr).not.toContain("samples.json");
  });

  it("a ptau path that does not exist: no ptau file at <path>", async () => {
    const file = path.join(await tempDir(), "absent.ptau");
    const err = await errorOf(inspectPtau(file));
    expect(isVerinferError(err, "SETUP_REQUIRED")).toBe(true);
    expect((err as VerinferError).shortMessage).toBe(`no ptau file at ${file}`);
  });
});
