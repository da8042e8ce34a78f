import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilNode, startAnvil } from "../src/chain/anvil.js";
import { verifiableInfer } from "../src/verifiable-infer.js";
import { demoPackage, demoSamples, runCli } from "./fixtures.js";

describe("verinfer chain CLI on a real anvil node", () => {
  let anvil: AnvilNode;
  let dir = "";

  beforeAll(async () => {
    anvil = await startAnvil();
    dir = await mkdtemp(path.join(os.tmpdir(), "verinfer-chain-cli-"));
    await writeFile(path.join(dir, "deployer.key"), anvil.accounts[0] as string, { mode: 0o600 });
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it("deploys, registers the demo model, records a zk receipt, reads it back, and refuses a replay", async () => {
    const key = ["--rpc", anvil.rpcUrl, "--key-file", path.join(dir, "deployer.key")];
    const deploy = await runCli(["chain", "deploy", ...key]);
    expect(deploy.code).toBe(0);
    const registry = /registry (0x[0-9a-fA-F]{40})/.exec(deploy.stdout)?.[1] as string;
    expect(registry).toBeDefined();

    const pkg = await demoPackage();
    expect((await runCli(["chain", "register", pkg.id, "--registry", registry, ...key])).code).toBe(0);

    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[6]);
    const receiptFile = path.join(dir, "receipt.json");
    await writeFile(receiptFile, JSON.stringify(receipt));
    const submit = await runCli(["chain", "submit", receiptFile, "--registry", registry, ...key]);
    expect(submit.code).toBe(0);

    const statement = [receipt.model.id, receipt.input.commitment, receipt.output.commitment];
    const get = await runCli(["chain", "get", ...statement, "--registry", registry, "--rpc", anvil.rpcUrl]);
    expect(get.code).toBe(0);
    const other = [receipt.model.id, receipt.output.commitment, receipt.input.commitment];
    expect((await runCli(["chain", "get", ...other, "--registry", registry, "--rpc", anvil.rpcUrl])).code).toBe(1);

    const replay = await runCli(["chain", "submit", receiptFile, "--registry", registry, ...key]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain("CHAIN_ERROR");
    expect(replay.stderr).toContain("AlreadyRecorded");
  });

  it("refuses to send without a key", async () => {
    const { code, stderr } = await runCli(["chain", "deploy", "--rpc", anvil.rpcUrl]);
    expect(code).toBe(2);
    expect(stderr).toContain("INVALID_OPTIONS");
  });
});
