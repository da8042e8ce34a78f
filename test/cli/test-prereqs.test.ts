// `npm test` on a machine without redis-server stops at once with one line on how to install it (issue 20).
import { spawnSync } from "node:child_process";
import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-prereqs-");

describe("the test suite's prerequisite check", () => {
  it("exits 1 with one line naming redis-server and how to install it when none is on PATH", async () => {
    const bin = path.join(await tempDir(), "bin");
    await mkdir(bin);
    await symlink(process.execPath, path.join(bin, "node"));
    const run = spawnSync(path.join(bin, "node"), [path.join(ROOT, "test", "require-redis.mjs")], {
      env: { PATH: bin },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/redis-server.*apt-get install redis-server/);
  });

  it("passes where redis-server is on PATH", () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, "test", "require-redis.mjs")], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
