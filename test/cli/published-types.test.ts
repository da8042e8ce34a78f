// The published .d.ts files must compile in a user's project that checks library types (`skipLibCheck: false`):
// a declaration that names an untyped dependency (snarkjs, circomlibjs) is TS7016 there (issue 12). A consumer app
// whose node_modules/verinfer links to this repository imports every entry point; tsc runs on it, and every
// diagnostic located in verinfer's own dist/ (or the app) fails the test — whatever its message names: "…/node_modules/
// snarkjs/main.js implicitly has an 'any' type" located in dist/ is verinfer's error. Diagnostics located in other
// packages' declarations (@tensorflow/tfjs's do not compile under strict + skipLibCheck false, as the README says;
// ethers bundles a second @types/node) are theirs.
import { spawn } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import packageJson from "../../package.json" with { type: "json" };
import { ROOT, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-types-");

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("published type declarations", () => {
  it("compile with skipLibCheck false: no diagnostic in verinfer's own .d.ts files", async () => {
    const app = await tempDir();
    await mkdir(path.join(app, "node_modules"));
    await symlink(ROOT, path.join(app, "node_modules", "verinfer"), "dir");
    const entries = Object.keys(packageJson.exports).filter((e) => e !== "./package.json");
    expect(entries.length).toBeGreaterThan(3);
    const imports = entries.map(
      (e, i) => `import * as m${i} from "${e === "." ? "verinfer" : `verinfer/${e.slice(2)}`}";`,
    );
    await writeFile(
      path.join(app, "index.ts"),
      `${imports.join("\n")}\nexport const all = [${entries.map((_e, i) => `m${i}`).join(", ")}];\n`,
    );
    await writeFile(
      path.join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ["index.ts"],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const { output } = await run(process.execPath, [tsc, "-p", ".", "--pretty", "false"], app);
    // A diagnostic is "file(line,col): error TSn: message"; only the file decides whose it is.
    const located = output
      .split("\n")
      .map((line) => /^(.+?)\(\d+,\d+\): error TS\d+/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null);
    const unlocated = output.split("\n").filter((line) => /^error TS\d+/.test(line));
    const own = [path.join(ROOT, "dist") + path.sep, app + path.sep];
    const ours = located
      .filter((m) => own.some((dir) => path.resolve(app, m[1] as string).startsWith(dir)))
      .map((m) => m[0]);
    expect([...unlocated, ...ours], output).toEqual([]);
  }, 300_000);
});
