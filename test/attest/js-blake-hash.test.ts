import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BLAKE_HASH_ADDON_WARNING } from "../../src/attest/js-blake-hash.js";
import { poseidonChain } from "../../src/attest/poseidon.js";
import { ROOT } from "../fixtures.js";

type CreateBlakeHash = (algorithm: string) => {
  update(data: Buffer): { digest(): Buffer };
};

const fromCircomlib = createRequire(createRequire(import.meta.url).resolve("circomlibjs"));
/** Whether blake-hash ships its addon prebuilt for this platform (linux-x64 does; elsewhere it runs its JS anyway). */
const hasAddon = existsSync(
  path.join(path.dirname(fromCircomlib.resolve("blake-hash")), "prebuilds", `${process.platform}-${process.arch}`),
);

/**
 * A child process that starts worker threads one after another; each hashes with verinfer's Poseidon (dist/, as
 * a prover pool's workers run it), reports its digest, whether blake-hash's addon is mapped into the process and
 * the process warnings it saw, and ends. The last thread imports circomlibjs itself before verinfer: the addon
 * loads (the check can fail), and verinfer says so in a warning.
 */
const CHILD = `
const { Worker } = require("node:worker_threads");
const source = (direct) => \`
  const { parentPort } = require("node:worker_threads");
  const { readFileSync } = require("node:fs");
  const warnings = [];
  process.on("warning", (w) => warnings.push(w.code));
  (async () => {
    if (\${direct}) await import("circomlibjs");
    const digest = String(await (await import(\${JSON.stringify(process.env.POSEIDON_JS)})).poseidonChain([1n, 2n, 3n]));
    await new Promise((resolve) => setImmediate(resolve));
    parentPort.postMessage({ digest, addon: readFileSync("/proc/self/maps", "utf8").includes("blake-hash/prebuilds"), warnings });
  })();\`;
(async () => {
  const reports = [];
  for (const direct of [false, false, false, false, false, false, true]) {
    // circomlibjs's web-worker dependency imports workerData.mod in any thread that is not the main one (as the
    // prover pool's workers give it): an empty module.
    const worker = new Worker(source(direct), { eval: true, workerData: { mod: "data:text/javascript,", type: "module" } });
    reports.push(await new Promise((resolve, reject) => { worker.once("message", resolve); worker.once("error", reject); }));
    await worker.terminate();
  }
  console.log(JSON.stringify(reports));
})();
`;

describe("blake-hash in verinfer's threads", () => {
  it.runIf(hasAddon)("blake-hash's JavaScript implementation gives its native addon's digests", () => {
    // blake-hash's index.js loads this (its addon) unless verinfer installed the JavaScript implementation first.
    const native = fromCircomlib("blake-hash/bindings") as CreateBlakeHash;
    const js = fromCircomlib("blake-hash/js") as CreateBlakeHash;
    expect(native).not.toBe(js);
    for (const algorithm of ["blake224", "blake256", "blake384", "blake512"]) {
      for (const data of [Buffer.alloc(0), Buffer.from("verinfer"), Buffer.alloc(1000, 0xa5)]) {
        expect(js(algorithm).update(data).digest().toString("hex")).toBe(
          native(algorithm).update(data).digest().toString("hex"),
        );
      }
    }
  });

  it.runIf(process.platform === "linux")(
    "worker threads that hash with verinfer and end never load blake-hash's addon, and the process lives",
    async () => {
      const poseidonJs = path.join(ROOT, "dist", "attest", "poseidon.js");
      expect(existsSync(poseidonJs), "run `npm run build` first").toBe(true);
      const child = spawnSync(process.execPath, ["-e", CHILD], {
        cwd: ROOT,
        env: { ...process.env, POSEIDON_JS: poseidonJs },
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(child.signal, child.stderr).toBeNull();
      expect(child.status, child.stderr).toBe(0);
      const reports = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "") as Array<{
        digest: string;
        addon: boolean;
        warnings: string[];
      }>;
      const expected = String(await poseidonChain([1n, 2n, 3n]));
      expect(reports.slice(0, -1)).toEqual(Array(6).fill({ digest: expected, addon: false, warnings: [] }));
      // circomlibjs imported before verinfer loads the addon (the check above can fail), and verinfer warns.
      expect(reports.at(-1)).toEqual({
        digest: expected,
        addon: hasAddon,
        warnings: hasAddon ? [BLAKE_HASH_ADDON_WARNING] : [],
      });
    },
  );
});
