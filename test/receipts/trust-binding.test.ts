// Attacks on how proofs, keys, model ids, scales and data attestations are bound together (issue 8). Each test is
// the attack as it was reproduced on receipt@1 / model@1; each failed (verified a false statement) there.
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { attestData } from "../../src/attest/attest-data.js";
import { commitValues, packValues, vectorCommitmentHeader } from "../../src/attest/commitments.js";
import { modelCommitment } from "../../src/attest/model-commitment.js";
import { poseidonChain } from "../../src/attest/poseidon.js";
import type { Receipt } from "../../src/attest/receipt.js";
import { vkeyCid } from "../../src/attest/vkey-cid.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { isVerinferError } from "../../src/errors.js";
import type { DenseNetwork } from "../../src/models/dense-network.js";
import { quantizeNetwork } from "../../src/models/quantize.js";
import { loadModelPackage, type ModelPackage } from "../../src/package/model-package.js";
import { compileModel } from "../../src/pipeline/compile-model.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { type VerifyResult, verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import {
  asZk,
  demoPackage,
  demoSamples,
  errorOf,
  runCli,
  TEST_CACHE,
  tempDirs,
  tinyCalibration,
  tinyNetwork,
  tinyPackage,
  type ZkReceipt,
} from "../fixtures.js";

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const failed = (r: VerifyResult) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const dataNode = new Wallet(`0x${"22".repeat(32)}`);
const inferenceNode = new Wallet(`0x${"11".repeat(32)}`);
const tmp = tempDirs("verinfer-trust-");

describe("a bare vkey binds the output scale and the input format", () => {
  let pkg: ModelPackage;
  let receipt: ZkReceipt;

  beforeAll(async () => {
    pkg = await demoPackage();
    receipt = asZk((await verifiableInfer(pkg, demoSamples.inputs[0] as number[])).receipt);
  });

  it("accepts the honest receipt with nothing but the vkey", async () => {
    expect(await verifyReceipt(receipt, { vkey: pkg.vkey })).toMatchObject({ valid: true });
  });

  it("rejects outputs multiplied by 1024 with fracBits lowered by 10", async () => {
    const r = clone(receipt);
    r.output.fracBits -= 10;
    r.output.values = r.output.quantized.map((q) => Number(q) / 2 ** r.output.fracBits);
    r.output.maxAbsError = Math.max(...r.output.values.map((v, j) => Math.abs(v - (r.output.float[j] as number))));
    const result = await verifyReceipt(r, { vkey: pkg.vkey });
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(["statement"]);
  });

  it("rejects a huge fracBits that makes every value 0 (malformed), and a large one (unbound)", async () => {
    const huge = clone(receipt);
    huge.output.fracBits = 2000;
    huge.output.values = huge.output.values.map(() => 0);
    expect(isVerinferError(await errorOf(verifyReceipt(huge, { vkey: pkg.vkey })), "MALFORMED_RECEIPT")).toBe(true);
    const large = clone(receipt);
    large.output.fracBits = 200;
    large.output.values = large.output.quantized.map((q) => Number(q) / 2 ** 200);
    large.output.maxAbsError = Math.max(
      ...large.output.values.map((v, j) => Math.abs(v - (large.output.float[j] as number))),
    );
    expect(failed(await verifyReceipt(large, { vkey: pkg.vkey }))).toEqual(["statement"]);
  });

  it("rejects a changed input quantization, input shape, output width or network commitment", async () => {
    const edits: Array<(r: Receipt) => void> = [
      (r) => {
        r.input.quantization.fracBits += 1;
      },
      (r) => {
        r.input.quantization.lo = "-1";
      },
      (r) => {
        r.input.shape = [4, 4];
      },
      (r) => {
        r.output.width += 1;
      },
      (r) => {
        r.model.network = "1";
      },
    ];
    for (const edit of edits) {
      const r = clone(receipt);
      edit(r);
      expect(failed(await verifyReceipt(r, { vkey: pkg.vkey }))).toEqual(["statement"]);
    }
  });

  it("lists what valid does not vouch for, and keeps those fields out of every check", async () => {
    const r = clone(receipt);
    r.backend = "cpu";
    r.timings = { proveMs: 1 };
    r.createdAt = "1999-01-01T00:00:00.000Z";
    const result = await verifyReceipt(r, { vkey: pkg.vkey });
    expect(result.valid).toBe(true);
    const fields = result.unverified.map((u) => u.field);
    for (const f of ["backend", "timings", "createdAt", "output.float", "setup"]) expect(fields).toContain(f);
    expect(fields).not.toContain("output.quantized");
  });
});

describe("the vkey is part of the model's identity", () => {
  let demo: ModelPackage;
  let tiny: ModelPackage;
  let recompiled: ModelPackage;
  let tinyReceipt: ZkReceipt;

  beforeAll(async () => {
    [demo, tiny] = [await demoPackage(), await tinyPackage()];
    // A second compile of the same model: same id, fresh phase-2 randomness, another key. Its own cache, so no
    // other test sees it; the test cache's dev ptau is reused.
    const ptau = await ensureDevPtau({ power: tiny.manifest.setup.ptauPower, cacheDir: TEST_CACHE });
    recompiled = await compileModel(tinyNetwork, {
      calibration: tinyCalibration,
      cacheDir: await tmp(),
      ptau: ptau.file,
      quiet: true,
    });
    tinyReceipt = asZk((await verifiableInfer(tiny, [0.1, 0.2, 0.3, 0.4])).receipt);
  });

  it("refuses a caller's vkey that is not the package's, even with requireCeremony", async () => {
    const forged = clone(tinyReceipt);
    forged.model = { ...forged.model, id: demo.id, commitment: demo.manifest.commitments.model };
    const error = await errorOf(verifyReceipt(forged, { vkey: tiny.vkey, modelPackage: demo, requireCeremony: true }));
    expect(isVerinferError(error, "INVALID_OPTIONS")).toBe(true);
    // The package's own key, passed again, is fine.
    expect((await verifyReceipt(tinyReceipt, { vkey: tiny.vkey, modelPackage: tiny })).valid).toBe(true);
  });

  it("names the key a receipt was proven for, and says so when another compile's key is given", async () => {
    expect(recompiled.id).toBe(tiny.id);
    expect(recompiled.vkeyCid).not.toBe(tiny.vkeyCid);
    expect(tinyReceipt.model.vkey).toBe(vkeyCid(tiny.vkey));
    for (const options of [{ vkey: recompiled.vkey }, { modelPackage: recompiled }]) {
      const result = await verifyReceipt(tinyReceipt, options);
      expect(result.valid).toBe(false);
      expect(failed(result)).toContain("verification key");
    }
  });

  it("the CLI refuses --vkey and --model that disagree", async () => {
    const dir = await tmp();
    const receiptFile = path.join(dir, "receipt.json");
    const vkeyFile = path.join(dir, "vkey.json");
    await writeFile(receiptFile, JSON.stringify(tinyReceipt));
    await writeFile(vkeyFile, JSON.stringify(demo.vkey));
    const { code, stderr } = await runCli(["verify", receiptFile, "--vkey", vkeyFile, "--model", tiny.id]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/INVALID_OPTIONS/);
  });

  it("a verifier without the package is told what to pass", async () => {
    const dir = await tmp();
    const receiptFile = path.join(dir, "receipt.json");
    const other = clone(tinyReceipt);
    await writeFile(receiptFile, JSON.stringify(other));
    const { code, stderr } = await runCli(["verify", receiptFile, "--cache-dir", dir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/ARTIFACT_MISSING/);
    expect(stderr).toContain("--vkey");
    expect(stderr).toContain(tiny.vkeyCid);
  });

  it("an exported package lets a second party verify on a machine without the cache", async () => {
    const [exportDir, emptyCache] = [await tmp(), await tmp()];
    const exported = await runCli(["export", tiny.id, "--out", exportDir]);
    expect(exported.code).toBe(0);
    const receiptFile = path.join(exportDir, "receipt.json");
    await writeFile(receiptFile, JSON.stringify(tinyReceipt));
    // Nobody audited the export on this machine: the verdict says what it rests on, and the exit code is not 0
    // (issue 19, finding 8: a doctored circuit in an export proves whatever it computes).
    const args = ["verify", receiptFile, "--model", exportDir, "--cache-dir", emptyCache];
    const ok = await runCli(args);
    expect(ok.stdout.trim()).toMatch(/^VALID \(circuit not audited: .*run `verinfer audit .+`/);
    expect(ok.code).toBe(3);
    const allowed = await runCli([...args, "--allow-unaudited"]);
    expect(allowed.stdout).toMatch(/^VALID \(circuit not audited/);
    expect(allowed.code).toBe(0);
    const other = await loadModelPackage(path.join(exportDir, "manifest.json"), { cacheDir: emptyCache });
    expect(other.vkeyCid).toBe(tiny.vkeyCid);
    // Verifier-only: the proving artifacts stay behind.
    expect(isVerinferError(await errorOf(other.provingArtifacts()), "ARTIFACT_MISSING")).toBe(true);
  });

  it("opening a package recomputes its identity: an edited manifest is ARTIFACT_CORRUPT", async () => {
    const store = new ArtifactStore(TEST_CACHE);
    const manifest = JSON.parse(await readFile(path.join(TEST_CACHE, "models", "by-id", `${tiny.id}.json`), "utf8"))
      .manifest as { sha256: string; size: number };
    const original = JSON.parse((await store.get(manifest, "manifest")).toString("utf8"));
    const edits = [
      (m: typeof original) => {
        m.id = demo.id;
        m.commitments.model = demo.manifest.commitments.model;
      },
      (m: typeof original) => {
        m.vkey = demo.vkeyCid;
      },
      (m: typeof original) => {
        m.artifacts.vkey = demo.manifest.artifacts.vkey;
      },
    ];
    const dir = await tmp();
    for (const [i, edit] of edits.entries()) {
      const m = clone(original);
      edit(m);
      const file = path.join(dir, `manifest-${i}.json`);
      await writeFile(file, JSON.stringify(m));
      expect(isVerinferError(await errorOf(loadModelPackage(file, { cacheDir: TEST_CACHE })), "ARTIFACT_CORRUPT")).toBe(
        true,
      );
    }
  });
});

describe("no free text in circuit source", () => {
  it("emits the same circuit whatever the layer names, and never the names", async () => {
    const injected =
      '"\n} template Layer0() { signal input in[4]; signal output out[3]; out <-- in; } /*\ncomponent main = X();//';
    const named: DenseNetwork = {
      ...tinyNetwork,
      layers: tinyNetwork.layers.map((l, i) => ({ ...l, name: i === 0 ? injected : "*/ evil" })),
    };
    const sources = await Promise.all(
      [tinyNetwork, named].map(async (net) => {
        const q = quantizeNetwork(net, { calibration: tinyCalibration });
        return generateCircuit({ network: q, modelCommitment: await modelCommitment(q) });
      }),
    );
    expect(sources[1]).toBe(sources[0]);
    expect(sources[1]).not.toContain("evil");
    expect(sources[1]).not.toContain("signal output out[3]; out <-- in");
  });
});

describe("commitments are domain-separated", () => {
  const salt = 42n;

  it("a vector padded with lo no longer shares a commitment with the unpadded one", async () => {
    const v = [3n, 1n, 4n];
    const padded = [...v, 0n, 0n];
    // The attack on the old format: the same packed element, hence the same hash.
    const old = async (vs: bigint[]) => poseidonChain([salt, ...packValues(vs, 8)]);
    expect(await old(padded)).toBe(await old(v));
    expect(await commitValues({ values: padded, lo: 0n, width: 8, salt })).not.toBe(
      await commitValues({ values: v, lo: 0n, width: 8, salt }),
    );
  });

  it("the same integers under another width or offset commit differently", async () => {
    const v = [5n, 6n, 7n];
    const base = await commitValues({ values: v, lo: 0n, width: 8, salt });
    expect(await commitValues({ values: v, lo: 0n, width: 9, salt })).not.toBe(base);
    expect(await commitValues({ values: v, lo: -1n, width: 8, salt })).not.toBe(base);
  });

  it("a chain's prefix is not the commitment of a shorter vector", async () => {
    // 40 values at width 126: 2 per element, 20 elements + header + salt = a 2-step chain.
    const long = Array.from({ length: 40 }, (_, i) => BigInt(i));
    const chainPrefix = await poseidonChain([
      vectorCommitmentHeader({ length: 40, width: 126, lo: 0n }),
      salt,
      ...packValues(long, 126).slice(0, 14),
    ]);
    const short = await commitValues({ values: long.slice(0, 28), lo: 0n, width: 126, salt });
    expect(short).not.toBe(chainPrefix);
  });

  it("rejects a header it cannot hold", () => {
    expect(() => vectorCommitmentHeader({ length: 0, width: 8, lo: 0n })).toThrow(RangeError);
    expect(() => vectorCommitmentHeader({ length: 3, width: 254, lo: 0n })).toThrow(RangeError);
    expect(() => vectorCommitmentHeader({ length: 3, width: 8, lo: -(1n << 127n) - 1n })).toThrow(RangeError);
  });
});

describe("the data chain is never skipped", () => {
  it("with a bare vkey, rejects a data attestation made under another model's input scale", async () => {
    const pkg = await demoPackage();
    const values = demoSamples.inputs[1] as number[];
    // The data node quantized for a model reading inputs at half the scale...
    const other = { ...pkg.network, input: { ...pkg.network.input, fracBits: pkg.network.input.fracBits - 1 } };
    const data = await attestData(
      { source: "feed", values, shape: [16], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: other },
    );
    // ...and the inference node feeds this model the same integers, i.e. rescaled values, under the data salt.
    const rescaled = values.map((v) => Math.round(v * 2 ** other.input.fracBits) / 2 ** pkg.network.input.fracBits);
    const { receipt } = await verifiableInfer(pkg, rescaled, { inputSalt: data.salt });
    expect(receipt.input.commitment).toBe(data.commitment.toString());
    const result = await verifyReceipt(receipt, {
      vkey: pkg.vkey,
      dataAttestation: data.attestation,
      trustedDataSigners: [dataNode.address],
    });
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(["data quantization"]);
  });

  it("rejects a data attestation whose shape is not the model's input shape", async () => {
    const pkg = await demoPackage();
    const values = demoSamples.inputs[1] as number[];
    const data = await attestData(
      { source: "feed", values, shape: [2, 8], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: pkg },
    );
    const { receipt } = await verifiableInfer(pkg, values, {
      mode: "attest",
      signer: inferenceNode,
      inputSalt: data.salt,
      dataAttestation: data.attestation,
    });
    const result = await verifyReceipt(receipt, {
      trustedSigners: [inferenceNode.address],
      dataAttestation: data.attestation,
      trustedDataSigners: [dataNode.address],
    });
    expect(failed(result)).toEqual(["data shape"]);
  });

  it("an attest receipt's input.dataAttestation is bound by the signed refUID", async () => {
    const pkg = await demoPackage();
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[0] as number[], {
      mode: "attest",
      signer: inferenceNode,
    });
    const r = clone(receipt);
    r.input.dataAttestation = `0x${"ab".repeat(32)}`;
    const result = await verifyReceipt(r, { trustedSigners: [inferenceNode.address] });
    expect(failed(result)).toEqual(["attested fields"]);
  });
});
