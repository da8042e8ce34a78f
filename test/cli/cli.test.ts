import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { ReceiptSchema } from "../../src/attest/receipt.js";
import { getModelPackage } from "../../src/package/get-model-package.js";
import { putModelPackage } from "../../src/package/put-model-package.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { DEMO_MODEL_DIR, demoPackage, demoSamples, runCli, TEST_CACHE } from "../fixtures.js";

describe("verinfer CLI", () => {
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-cli-"));
    await writeFile(path.join(dir, "input.json"), JSON.stringify(demoSamples.inputs[1]));
    await writeFile(path.join(dir, "vkey.json"), JSON.stringify((await demoPackage()).vkey));
  });

  it("compile prints the model id and constraint count of a cached model", async () => {
    const { code, stdout } = await runCli(["compile", DEMO_MODEL_DIR]);
    expect(code).toBe(0);
    expect(stdout).toContain((await demoPackage()).id);
    expect(stdout).toMatch(/\d+ constraints/);
  });

  it("infer writes a receipt and its salts; verify accepts it by cached model and by vkey", async () => {
    const receiptFile = path.join(dir, "receipt.json");
    const infer = await runCli([
      "infer",
      DEMO_MODEL_DIR,
      "--input",
      path.join(dir, "input.json"),
      "--out",
      receiptFile,
    ]);
    expect(infer.code).toBe(0);
    const receipt = ReceiptSchema.parse(JSON.parse(await readFile(receiptFile, "utf8")));
    const salts = JSON.parse(await readFile(path.join(dir, "receipt.salts.json"), "utf8"));
    expect(Object.keys(salts).sort()).toEqual(["input", "output"]);
    expect(JSON.stringify(receipt)).not.toContain(salts.input);
    expect((await runCli(["verify", receiptFile])).code).toBe(0);
    // A bare vkey is the caller's to trust: the verdict says what it rests on.
    const withKey = await runCli(["verify", receiptFile, "--vkey", path.join(dir, "vkey.json")]);
    expect(withKey.stdout.trim()).toBe("VALID (against the given vkey: what its circuit computes is yours to trust)");
    expect(withKey.code).toBe(0);
  });

  it("a repeated infer on a model directory does not load or requantize it; changed weights compile anew", async () => {
    const model = path.join(dir, "model-copy");
    await cp(DEMO_MODEL_DIR, model, { recursive: true });
    // A cache of its own: the shared test cache outlives a run, and a later run would find the changed model's
    // package from the one before (no "[quantize]" then, although the weights did change).
    const cache = path.join(dir, "cache-repeated-infer");
    const infer = (out: string) =>
      runCli(["infer", model, "--input", path.join(dir, "input.json"), "--out", path.join(dir, out)], { cache });
    const first = await infer("first.json");
    expect(first.code).toBe(0);
    const second = await infer("second.json");
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain("[load]");
    expect(second.stderr).not.toContain("[quantize]");
    const id = (file: string) => readFile(path.join(dir, file), "utf8").then((t) => JSON.parse(t).model.id as string);
    expect(await id("second.json")).toBe(await id("first.json"));
    expect((await runCli(["verify", path.join(dir, "second.json")], { cache })).code).toBe(0);

    // One weight changed (enough to change its 8-bit quantized value): the recorded package no longer names this
    // source, so the model is quantized again.
    const weights = path.join(model, "weights.bin");
    const bytes = await readFile(weights);
    new Float32Array(bytes.buffer, bytes.byteOffset, 1)[0] = -0.75;
    await writeFile(weights, bytes);
    const changed = await infer("changed.json");
    expect(changed.code).toBe(0);
    expect(changed.stderr).toContain("[quantize]");
    expect(await id("changed.json")).not.toBe(await id("first.json"));
  }, 180_000);

  it("infer takes a `verinfer export` directory as its model", async () => {
    const exported = path.join(dir, "export");
    expect((await runCli(["export", DEMO_MODEL_DIR, "--out", exported, "--proving"])).code).toBe(0);
    const run = await runCli([
      "infer",
      exported,
      "--input",
      path.join(dir, "input.json"),
      "--out",
      path.join(dir, "e.json"),
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain("[quantize]");
    expect((await runCli(["verify", path.join(dir, "e.json"), "--model", exported])).stdout.trim()).toBe("VALID");
  }, 120_000);

  it("publish puts a package on a storage and prints the manifest CID a prover fetches it by", async () => {
    const pkg = await demoPackage();
    const storageDir = path.join(dir, "published");
    const { code, stdout } = await runCli(["publish", pkg.id, "--storage", storageDir]);
    expect(code).toBe(0);
    const cid = /^manifest\s+(bafkrei\S+)$/m.exec(stdout)?.[1] as string;
    expect(cid).toBe((await putModelPackage(new MemoryStorage(), pkg)).manifestCid);
    const fetched = await getModelPackage(new FsStorage(storageDir), cid, { cacheDir: path.join(dir, "prover-cache") });
    expect(fetched.id).toBe(pkg.id);
    expect((await runCli(["publish", pkg.id])).code).toBe(2);
  });

  it("verify exits 1 for a receipt whose output was changed", async () => {
    const receipt = JSON.parse(await readFile(path.join(dir, "receipt.json"), "utf8"));
    receipt.output.quantized[0] = (BigInt(receipt.output.quantized[0]) + 1n).toString();
    const file = path.join(dir, "tampered.json");
    await writeFile(file, JSON.stringify(receipt));
    const { code, stdout } = await runCli(["verify", file, "--vkey", path.join(dir, "vkey.json")]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^INVALID/);
  });

  it("verify exits 1 with --require-ceremony on a dev-setup model", async () => {
    const { code } = await runCli(["verify", path.join(dir, "receipt.json"), "--require-ceremony"]);
    expect(code).toBe(1);
  });

  it("exits 2 for a malformed receipt, a bad input file, a missing model, and a usage error", async () => {
    const junk = path.join(dir, "junk.json");
    await writeFile(junk, JSON.stringify({ format: "nope" }));
    expect((await runCli(["verify", junk, "--vkey", path.join(dir, "vkey.json")])).code).toBe(2);
    const nan = path.join(dir, "nan.json");
    await writeFile(nan, "[1, 2, 3]");
    const bad = await runCli(["infer", DEMO_MODEL_DIR, "--input", nan, "--out", path.join(dir, "r.json")]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("INVALID_INPUT");
    expect((await runCli(["compile", path.join(dir, "no-such-model")])).code).toBe(2);
    expect((await runCli(["infer", DEMO_MODEL_DIR])).code).toBe(2);
    expect((await runCli(["frobnicate"])).code).toBe(2);
  });

  describe("attestation flow", () => {
    const oracleKey = `0x${"55".repeat(32)}`;
    const nodeKey = `0x${"66".repeat(32)}`;
    const oracle = new Wallet(oracleKey).address;
    const node = new Wallet(nodeKey).address;
    const f = (name: string) => path.join(dir, name);

    beforeAll(async () => {
      await writeFile(f("oracle.key"), oracleKey, { mode: 0o600 });
      await writeFile(f("node.key"), `${nodeKey.slice(2)}\n`, { mode: 0o600 });
      await writeFile(f("values.json"), JSON.stringify({ values: demoSamples.inputs[3], source: "sensor-7" }));
    });

    it("attests data, infers in attest mode from it, verifies the chain and re-executes", async () => {
      const attest = await runCli([
        "attest-data",
        "--input",
        f("values.json"),
        "--model",
        DEMO_MODEL_DIR,
        "--key-file",
        f("oracle.key"),
        "--out",
        f("data.json"),
      ]);
      expect(attest.code).toBe(0);
      const infer = await runCli([
        "infer",
        DEMO_MODEL_DIR,
        "--mode",
        "attest",
        "--key-file",
        f("node.key"),
        "--input",
        f("values.json"),
        "--data-attestation",
        f("data.json"),
        "--input-salt",
        f("data.salt.json"),
        "--out",
        f("attested.json"),
      ]);
      expect(infer.code).toBe(0);
      const chain = ["--trusted-signer", node, "--trusted-data-signer", oracle, "--data-attestation", f("data.json")];
      expect((await runCli(["verify", f("attested.json"), ...chain])).code).toBe(0);
      const untrusted = await runCli(["verify", f("attested.json"), "--trusted-signer", oracle]);
      expect(untrusted.code).toBe(1);
      const reexec = ["--model", DEMO_MODEL_DIR, "--input", f("values.json"), "--salts", f("attested.salts.json")];
      expect((await runCli(["reexecute", f("attested.json"), ...reexec])).code).toBe(0);
      const wrong = ["--model", DEMO_MODEL_DIR, "--input", f("input.json"), "--salts", f("attested.salts.json")];
      expect((await runCli(["reexecute", f("attested.json"), ...wrong])).code).toBe(1);
    });

    it("refuses attest mode without a key, and never takes a key from the command line", async () => {
      const noKey = await runCli([
        "infer",
        DEMO_MODEL_DIR,
        "--mode",
        "attest",
        "--input",
        f("values.json"),
        "--out",
        f("x.json"),
      ]);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain("INVALID_OPTIONS");
      const argvKey = await runCli([
        "attest-data",
        "--key",
        oracleKey,
        "--input",
        f("values.json"),
        "--model",
        DEMO_MODEL_DIR,
        "--out",
        f("y.json"),
      ]);
      expect(argvKey.code).toBe(2);
    });

    it("persists a deferred proof that resume-proofs finishes in a later process", async () => {
      const infer = await runCli([
        "infer",
        DEMO_MODEL_DIR,
        "--mode",
        "attest",
        "--defer-proof",
        "--key-file",
        f("node.key"),
        "--input",
        f("input.json"),
        "--out",
        f("deferred.json"),
      ]);
      expect(infer.code).toBe(0);
      const id = /job ([0-9a-f-]{36}) persisted/.exec(infer.stdout)?.[1];
      expect(id).toBeDefined();
      const resume = await runCli(["resume-proofs"]);
      expect(resume.code).toBe(0);
      const zk = ReceiptSchema.parse(
        JSON.parse(await readFile(path.join(TEST_CACHE, "jobs", "done", `${id}.json`), "utf8")),
      );
      const attested = ReceiptSchema.parse(JSON.parse(await readFile(f("deferred.json"), "utf8")));
      expect(zk.mode).toBe("zk");
      expect(zk.input.commitment).toBe(attested.input.commitment);
      expect(zk.output.commitment).toBe(attested.output.commitment);
    });
  });
});
