import { spawn } from "node:child_process";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { VerinferError } from "../errors.js";
import { packageRoot } from "../util/package-root.js";

const require = createRequire(import.meta.url);

/** Folder of verinfer's hand-written circom templates. */
export const GADGETS_DIR = path.join(packageRoot(), "circuits");

/** Parameters of {@link compileCircuit}. */
export interface CompileCircuitParams {
  /** circom source of the main circuit. */
  source: string;
  /** Empty scratch directory; circom2 runs sandboxed in it. */
  workDir: string;
  /** circom simplification level (default `--O2`: the prover pays for linear constraints too). */
  optimization?: "O1" | "O2";
  /** Also emit circom's symbol file (signal name → wire), for debugging and tests. */
  sym?: boolean;
}

/** Result of {@link compileCircuit}. */
export interface CompiledCircuit {
  r1cs: Buffer;
  wasm: Buffer;
  /** What circom's `--inspect` printed as warnings (empty for verinfer's own templates). */
  warnings: string[];
  /** circom's own report of non-linear and linear constraints. */
  nonLinearConstraints: number;
  linearConstraints: number;
  /** The `.sym` file's text when `sym` was requested. */
  sym?: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/**
 * Compiles a circom circuit with the `circom2` npm package (circom 2.x in WebAssembly) with `--inspect`.
 * circom2's file system is sandboxed to the working directory, so the gadget library and circomlib's
 * templates are copied next to the source first.
 *
 * @throws VerinferError `COMPILE_FAILED` with circom's output.
 * @example
 * ```ts
 * const { r1cs, wasm } = await compileCircuit({ source, workDir: "/tmp/build-1" });
 * ```
 */
export async function compileCircuit(params: CompileCircuitParams): Promise<CompiledCircuit> {
  const { workDir, source } = params;
  const lib = path.join(workDir, "lib");
  await mkdir(lib, { recursive: true });
  const circomlib = path.join(path.dirname(require.resolve("circomlib/package.json")), "circuits");
  for (const dir of [circomlib, GADGETS_DIR]) {
    for (const f of await readdir(dir)) {
      if (f.endsWith(".circom")) await copyFile(path.join(dir, f), path.join(lib, f));
    }
  }
  await writeFile(path.join(workDir, "model.circom"), source);
  const cli = path.join(path.dirname(require.resolve("circom2/package.json")), "cli.js");
  const args = [cli, "model.circom", "--r1cs", "--wasm", `--${params.optimization ?? "O2"}`, "--inspect", "-l", "lib"];
  if (params.sym) args.push("--sym");
  const { code, out } = await run(process.execPath, args, workDir);
  const text = out.replace(ANSI, "");
  if (code !== 0 || !text.includes("Everything went okay")) {
    throw new VerinferError("COMPILE_FAILED", "circom failed to compile the generated circuit", { details: text });
  }
  const warnings = text.split("\n").filter((l) => l.startsWith("warning"));
  const count = (label: string) =>
    Number(new RegExp(`^${label} constraints: (\\d+)`, "m").exec(text)?.[1] ?? Number.NaN);
  return {
    r1cs: await readFile(path.join(workDir, "model.r1cs")),
    wasm: await readFile(path.join(workDir, "model_js", "model.wasm")),
    warnings,
    nonLinearConstraints: count("non-linear"),
    linearConstraints: count("linear"),
    ...(params.sym ? { sym: await readFile(path.join(workDir, "model.sym"), "utf8") } : {}),
  };
}
