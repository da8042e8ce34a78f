// The development powers-of-tau: written directly from known secrets, checked by snarkjs's own verifier and used
// by snarkjs's own setups (Groth16, PLONK, FFLONK), whose proofs snarkjs's own verifiers accept.
import { existsSync, writeFileSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { binfileSections } from "../../src/circuits/snark-binfile.js";
import { isVerinferError } from "../../src/errors.js";
import { devPtauNeeds, ensureDevPtau, MAX_DEV_PTAU_POWER } from "../../src/setup/dev-ptau.js";
import { DEV_CONTRIBUTION_NAME, writeDevPtau } from "../../src/setup/ptau-writer.js";
import type { ProgressEvent } from "../../src/util/progress.js";
import { errorOf, tempDirs } from "../fixtures.js";
import { compileTestCircuit, type TestCircuit } from "../r1cs-check.js";

type Mem = { type: "mem"; data?: Uint8Array };
type Logger = { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void };
type Proof = { proof: unknown; publicSignals: string[] };
type Universal = {
  setup(r1cs: Mem, ptau: string, zkey: Mem, logger?: Logger): Promise<unknown>;
  fullProve(input: Record<string, unknown>, wasm: Mem, zkey: Mem): Promise<Proof>;
  verify(vkey: unknown, publicSignals: string[], proof: unknown): Promise<boolean>;
};
// The snarkjs functions these tests call beyond the ones verinfer's own code uses (src/types/vendor.d.ts).
const sj = snarkjs as unknown as {
  powersOfTau: { verify(file: string, logger?: Logger): Promise<boolean> };
  zKey: {
    newZKey(r1cs: Mem, ptau: string, zkey: Mem): Promise<unknown>;
    verifyFromR1cs(r1cs: Mem, ptau: string, zkey: Mem): Promise<boolean>;
    exportVerificationKey(zkey: Mem): Promise<unknown>;
  };
  groth16: { fullProve(input: Record<string, unknown>, wasm: Mem, zkey: Mem): Promise<Proof> } & Pick<
    Universal,
    "verify"
  >;
  plonk: Universal;
  fflonk: Universal;
};

const POWER = 8;
const G1 = 64;
const tempDir = tempDirs("verinfer-dev-ptau-");

/** snarkjs's logger, keeping what it says. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (m: string) => lines.push(m);
  return { logger: { debug: () => {}, info: keep, warn: keep, error: keep }, lines };
}

/** Start of a section's data in a ptau file. */
function sectionStart(bytes: Uint8Array, id: number): number {
  const section = binfileSections(bytes, "ptau", "ARTIFACT_CORRUPT").get(id);
  if (!section) throw new Error(`no section ${id}`);
  return section.start;
}

const mem = (data: Uint8Array): Mem => ({ type: "mem", data: new Uint8Array(data) });

describe("dev powers of tau", () => {
  let cacheDir: string;
  let ptau: string;
  let events: ProgressEvent[];
  let circuit: TestCircuit;
  // c = a^4 * b + b: five constraints, one public input.
  const input = { a: 3n, b: 5n };
  const expected = (3n ** 4n * 5n + 5n).toString();

  beforeAll(async () => {
    cacheDir = await tempDir();
    events = [];
    const dev = await ensureDevPtau({ power: POWER, cacheDir, onProgress: (e) => events.push(e) });
    ptau = dev.file;
    circuit = await compileTestCircuit(`template T() {
    signal input a;
    signal input b;
    signal output c;
    signal x[4];
    x[0] <== a * a;
    x[1] <== x[0] * a;
    x[2] <== x[1] * a;
    x[3] <== x[2] * b;
    c <== x[3] + b;
}
component main {public [a]} = T();`);
  });

  afterAll(async () => {
    await (await snarkjs.curves.getCurveFromName("bn128")).terminate();
  });

  it("is accepted by snarkjs powersoftau verify, with one contribution named verinfer dev", async () => {
    const { logger, lines } = recorder();
    expect(await sj.powersOfTau.verify(ptau, logger)).toBe(true);
    expect(lines).toContain(`Contribution #1: ${DEV_CONTRIBUTION_NAME}`);
    expect(lines.some((l) => l.startsWith("Contribution #2"))).toBe(false);
    expect(events.some((e) => e.stage === "ptau")).toBe(true);
    expect(events.at(-1)).toMatchObject({ stage: "ptau", done: true });
  });

  it("writes a file powersoftau verify accepts when every section spans many worker tasks", async () => {
    // Odd task sizes and 13-bit windows (digits straddling 32-bit words): the paths a power-8 file with default
    // tuning never takes, and every file from about 2^13 up does.
    const file = path.join(cacheDir, "chunked.ptau");
    await writeDevPtau({ power: 7, file, chunk: 37, window: 13 });
    expect(await sj.powersOfTau.verify(file, recorder().logger)).toBe(true);
  });

  it("fails powersoftau verify when one Lagrange point is replaced by its neighbour", async () => {
    const bytes = new Uint8Array(await readFile(ptau));
    const at = sectionStart(bytes, 12) + G1 * (2 ** POWER - 1 + 5); // power POWER's block, point 5
    bytes.copyWithin(at, at + G1, at + 2 * G1);
    const tampered = path.join(cacheDir, "tampered-lagrange.ptau");
    await writeFile(tampered, bytes);
    expect(await sj.powersOfTau.verify(tampered, recorder().logger)).toBe(false);
  });

  it("fails powersoftau verify when one byte of a tau*G1 point changes", async () => {
    const bytes = new Uint8Array(await readFile(ptau));
    const at = sectionStart(bytes, 2) + G1 * 7 + 3;
    bytes[at] = (bytes[at] as number) ^ 1;
    const tampered = path.join(cacheDir, "tampered-tau.ptau");
    await writeFile(tampered, bytes);
    const result = await sj.powersOfTau.verify(tampered, recorder().logger).catch(() => false);
    expect(result).toBe(false);
  });

  it("gives a Groth16 zkey that passes zkey verify against the r1cs, and proofs snarkjs accepts", async () => {
    const zkey: Mem = { type: "mem" };
    await sj.zKey.newZKey(mem(circuit.r1cs), ptau, zkey);
    expect(await sj.zKey.verifyFromR1cs(mem(circuit.r1cs), ptau, zkey)).toBe(true);
    const vkey = await sj.zKey.exportVerificationKey(zkey);
    const { proof, publicSignals } = await sj.groth16.fullProve(input, mem(circuit.wasm), zkey);
    expect(publicSignals).toEqual([expected, "3"]);
    expect(await sj.groth16.verify(vkey, publicSignals, proof)).toBe(true);
    expect(await sj.groth16.verify(vkey, [expected, "4"], proof)).toBe(false);
  });

  for (const system of ["plonk", "fflonk"] as const) {
    it(`serves ${system} setup, whose proofs snarkjs's ${system} verifier accepts`, async () => {
      const zkey: Mem = { type: "mem" };
      await sj[system].setup(mem(circuit.r1cs), ptau, zkey);
      const vkey = await sj.zKey.exportVerificationKey(zkey);
      const { proof, publicSignals } = await sj[system].fullProve(input, mem(circuit.wasm), zkey);
      expect(await sj[system].verify(vkey, publicSignals, proof)).toBe(true);
      expect(await sj[system].verify(vkey, [expected, "4"], proof)).toBe(false);
    });
  }

  it("serves a smaller circuit from the cached larger file without writing a new one", async () => {
    const dir = path.join(cacheDir, "ptau");
    const before = await readdir(dir);
    const mtime = (await stat(ptau)).mtimeMs;
    const seen: ProgressEvent[] = [];
    const small = await ensureDevPtau({ power: POWER - 2, cacheDir, onProgress: (e) => seen.push(e) });
    expect(small).toEqual({ file: ptau, power: POWER });
    expect(await readdir(dir)).toEqual(before);
    expect((await stat(ptau)).mtimeMs).toBe(mtime);
    expect(seen).toEqual([]);
  });

  it("keeps the file another process cached first while it wrote its own (packages set up from it stay auditable)", async () => {
    // Two processes sharing a cache both find no ptau of a power and both write one (each from its own tau). The one
    // that finishes second must not replace the first's file: packages set up from it name it by hash. Here the
    // "other process" finishes while this call writes: its file appears right after this call's cache check.
    const shared = await tempDir();
    const target = path.join(shared, "ptau", `dev-bn128-${POWER}.ptau`);
    const theirs = await readFile(ptau);
    const result = await ensureDevPtau({
      power: POWER,
      cacheDir: shared,
      onProgress: (e) => {
        if (e.stage === "ptau" && !existsSync(target)) writeFileSync(target, theirs);
      },
    });
    expect(result).toEqual({ file: target, power: POWER });
    expect((await readFile(target)).equals(theirs)).toBe(true);
    // Nothing of its own is left beside it.
    expect(await readdir(path.dirname(target))).toEqual([path.basename(target)]);
  });

  it("refuses, before writing anything, a power whose memory this machine does not have free", async () => {
    const empty = path.join(await tempDir(), "cache");
    const needs = devPtauNeeds(MAX_DEV_PTAU_POWER);
    // A 2^21 file is 2.4 GB and its hash chain keeps every monomial point twice in memory.
    expect(needs.diskBytes).toBeGreaterThan(2.4e9);
    expect(needs.memoryBytes).toBeGreaterThan(needs.diskBytes / 2);
    const free = vi.spyOn(os, "freemem").mockReturnValue(needs.memoryBytes - 1);
    try {
      const error = await errorOf(ensureDevPtau({ power: MAX_DEV_PTAU_POWER, cacheDir: empty }));
      expect(isVerinferError(error, "SETUP_REQUIRED")).toBe(true);
      expect((error as { meta?: Record<string, unknown> }).meta).toMatchObject({ memoryBytes: needs.memoryBytes });
      expect(await readdir(path.join(empty, "ptau")).catch(() => [])).toEqual([]);
    } finally {
      free.mockRestore();
    }
  });

  it("refuses powers it cannot write", async () => {
    expect(isVerinferError(await errorOf(ensureDevPtau({ power: 0, cacheDir })), "SETUP_REQUIRED")).toBe(true);
    expect(MAX_DEV_PTAU_POWER).toBe(21);
    expect(isVerinferError(await errorOf(ensureDevPtau({ power: 22, cacheDir })), "SETUP_REQUIRED")).toBe(true);
    const file = path.join(cacheDir, "x.ptau");
    expect(isVerinferError(await errorOf(writeDevPtau({ power: 2.5, file })), "INVALID_OPTIONS")).toBe(true);
    expect(isVerinferError(await errorOf(writeDevPtau({ power: 4, file, threads: 0 })), "INVALID_OPTIONS")).toBe(true);
    expect(isVerinferError(await errorOf(writeDevPtau({ power: 4, file, window: 17 })), "INVALID_OPTIONS")).toBe(true);
    expect(isVerinferError(await errorOf(writeDevPtau({ power: 4, file, chunk: 0 })), "INVALID_OPTIONS")).toBe(true);
  });
});
