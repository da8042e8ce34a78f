import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilNode, startAnvil } from "../../src/chain/anvil.js";
import type { ModelPackage } from "../../src/package/model-package.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { demoPackage, demoSamples, runCli, tinyPackage } from "../fixtures.js";

describe("verinfer chain CLI on a real anvil node", () => {
  let anvil: AnvilNode;
  let dir = "";
  let pkg: ModelPackage;
  /** --rpc and --key-file of the deployer. */
  let key: string[];
  /** --registry and --rpc, for reads. */
  let read: string[];
  let registry = "";
  let modelKey = "";

  // Deploying and registering run here, under the hook's longer timeout: each CLI call loads solc-js.
  beforeAll(async () => {
    anvil = await startAnvil();
    dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-chain-cli-"));
    await writeFile(path.join(dir, "deployer.key"), anvil.accounts[0] as string, { mode: 0o600 });
    key = ["--rpc", anvil.rpcUrl, "--key-file", path.join(dir, "deployer.key")];
    const deploy = await runCli(["chain", "deploy", ...key]);
    expect(deploy.code).toBe(0);
    registry = /registry (0x[0-9a-fA-F]{40})/.exec(deploy.stdout)?.[1] as string;
    expect(registry).toBeDefined();
    read = ["--registry", registry, "--rpc", anvil.rpcUrl];

    pkg = await demoPackage();
    const register = await runCli(["chain", "register", pkg.id, "--registry", registry, ...key]);
    expect(register.code).toBe(0);
    modelKey = /key +(0x[0-9a-f]{64})/.exec(register.stdout)?.[1] as string;
    expect(modelKey).toBeDefined();
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it("records a zk receipt under the printed model key, reads it back, and reports a replay as unchanged", async () => {
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[6]);
    const receiptFile = path.join(dir, "receipt.json");
    await writeFile(receiptFile, JSON.stringify(receipt));
    const submit = ["chain", "submit", receiptFile, "--registry", registry, "--model-key", modelKey, ...key];
    expect((await runCli(submit)).code).toBe(0);

    const statement = [modelKey, receipt.input.commitment, receipt.output.commitment];
    expect((await runCli(["chain", "get", ...statement, ...read])).code).toBe(0);
    const other = [modelKey, receipt.output.commitment, receipt.input.commitment];
    expect((await runCli(["chain", "get", ...other, ...read])).code).toBe(1);
    // The model id is not a model key: nothing is recorded under it.
    const byId = [receipt.model.id, receipt.input.commitment, receipt.output.commitment];
    expect((await runCli(["chain", "get", ...byId, ...read])).code).toBe(1);

    // A replay succeeds and says it changed nothing (the registry's AlreadyVerified no-op); the record is the first.
    const before = (await runCli(["chain", "get", ...statement, ...read])).stdout;
    expect(before).toContain(`"kind":"verified"`);
    const replay = await runCli(submit);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/^verified already \(unchanged\) 0x[0-9a-f]{64} \(tx 0x/m);
    expect((await runCli(["chain", "get", ...statement, ...read])).stdout).toBe(before);
  });

  it("audits a registration against a package: exit 0 for the model's own, 1 for another model", async () => {
    expect((await runCli(["chain", "model", modelKey, "--model", pkg.id, ...read])).code).toBe(0);
    const tiny = await tinyPackage();
    expect((await runCli(["chain", "model", modelKey, "--model", tiny.id, ...read])).code).toBe(1);
  });

  it("refuses to send without a key", async () => {
    const { code, stderr } = await runCli(["chain", "deploy", "--rpc", anvil.rpcUrl]);
    expect(code).toBe(2);
    expect(stderr).toContain("INVALID_OPTIONS");
  });
});
