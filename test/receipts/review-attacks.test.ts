// A security review of the trust binding of receipt@2 / model@2 (issue 8), written as the attacks. Each test
// verified a false or forged statement (or accepted a forged artifact) on the code it was written against.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { attestData, quantizationHash } from "../../src/attest/attest-data.js";
import { commitValues, vectorCommitmentHeader } from "../../src/attest/commitments.js";
import { signOffchainAttestation } from "../../src/attest/eas-offchain.js";
import { DATA_SCHEMA_UID, encodeDataAttestationData } from "../../src/attest/eas-schemas.js";
import { commitOutput } from "../../src/attest/io-commitments.js";
import { modelIdFromCommitment } from "../../src/attest/model-commitment.js";
import type { Receipt } from "../../src/attest/receipt.js";
import { vkeyCid } from "../../src/attest/vkey-cid.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { compileCircuit } from "../../src/circuits/compile-circuit.js";
import { proveGroth16 } from "../../src/circuits/prove-groth16.js";
import { isVerinferError } from "../../src/errors.js";
import { integerForward } from "../../src/models/integer-forward.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import {
  type QuantizedNetwork,
  type QuantizedRescale,
  quantizedNetworkFromJson,
} from "../../src/models/quantized-network.js";
import { manifestSha256 } from "../../src/package/audit-record.js";
import { exportModelPackage } from "../../src/package/export-model-package.js";
import { loadModelPackage, type ModelPackage } from "../../src/package/model-package.js";
import { reexecute } from "../../src/pipeline/reexecute.js";
import { verifiableInfer } from "../../src/pipeline/verifiable-infer.js";
import { setupGroth16 } from "../../src/proof-systems/setup-groth16.js";
import { type VerifyResult, verifyReceipt } from "../../src/receipts/verify-receipt.js";
import { CEREMONY_PTAUS } from "../../src/setup/ceremony-ptau.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { ArtifactStore } from "../../src/storage/artifact-store.js";
import { FIELD_PRIME, toField } from "../../src/util/field.js";
import {
  asZk,
  demoPackage,
  demoSamples,
  errorOf,
  TEST_CACHE,
  tempDirs,
  tinyPackage,
  type ZkReceipt,
} from "../fixtures.js";

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const failed = (r: VerifyResult) => r.checks.filter((c) => !c.ok).map((c) => c.name);
const unverifiedFields = (r: VerifyResult) => r.unverified.map((u) => u.field);
const dataNode = new Wallet(`0x${"22".repeat(32)}`);
const stranger = new Wallet(`0x${"33".repeat(32)}`);
const tmp = tempDirs("verinfer-review-");

/** A verifyReceipt call must not vouch for the receipt: it throws MALFORMED_RECEIPT or returns invalid. */
async function refused(receipt: unknown, options: Parameters<typeof verifyReceipt>[1]): Promise<boolean> {
  try {
    return !(await verifyReceipt(receipt, options)).valid;
  } catch (error) {
    return isVerinferError(error, "MALFORMED_RECEIPT");
  }
}

describe("numbers a receipt states are canonical: one statement, one spelling", () => {
  let pkg: ModelPackage;
  let receipt: ZkReceipt;

  beforeAll(async () => {
    pkg = await demoPackage();
    receipt = asZk((await verifiableInfer(pkg, demoSamples.inputs[0] as number[])).receipt);
  });

  it("rejects an input offset stated as lo ± p, which the I/O descriptor hashes like lo", async () => {
    const lo = BigInt(receipt.input.quantization.lo);
    for (const forged of [lo + FIELD_PRIME, lo - FIELD_PRIME]) {
      const r = clone(receipt);
      r.input.quantization.lo = forged.toString();
      expect(await refused(r, { vkey: pkg.vkey })).toBe(true);
      expect(await refused(r, { modelPackage: pkg })).toBe(true);
    }
  });

  it("an offset of lo + 4p with a data attestation is a typed error, not a raw ABI exception", async () => {
    const values = demoSamples.inputs[1] as number[];
    const data = await attestData(
      { source: "feed", values, shape: [16], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: pkg },
    );
    const { receipt: honest } = await verifiableInfer(pkg, values, { inputSalt: data.salt });
    const r = clone(honest);
    r.input.quantization.lo = (BigInt(r.input.quantization.lo) + 4n * FIELD_PRIME).toString();
    const error = await errorOf(
      verifyReceipt(r, { vkey: pkg.vkey, dataAttestation: data.attestation, trustedDataSigners: [dataNode.address] }),
    );
    expect(isVerinferError(error, "MALFORMED_RECEIPT")).toBe(true);
  });

  it("rejects a network commitment stated as network + p (Poseidon reduces it mod p)", async () => {
    const r = clone(receipt);
    r.model.network = (BigInt(r.model.network) + FIELD_PRIME).toString();
    expect(await refused(r, { vkey: pkg.vkey })).toBe(true);
    expect(await refused(r, { modelPackage: pkg })).toBe(true);
  });

  it("rejects commitments and outputs with leading zeros or a negative zero", async () => {
    const edits: Array<(r: Receipt) => void> = [
      (r) => {
        r.input.commitment = `0${r.input.commitment}`;
      },
      (r) => {
        r.output.commitment = `00${r.output.commitment}`;
      },
      (r) => {
        r.output.quantized[0] = `-0${String(r.output.quantized[0]).replace("-", "")}`;
      },
    ];
    for (const edit of edits) {
      const r = clone(receipt);
      edit(r);
      expect(await refused(r, { vkey: pkg.vkey })).toBe(true);
    }
  });

  it("a commitment or offset that is no decimal at all is MALFORMED_RECEIPT, not a raw SyntaxError", async () => {
    for (const bad of ["1e3", "12.0", " 12"]) {
      for (const edit of [
        (r: Receipt) => {
          r.input.commitment = bad;
        },
        (r: Receipt) => {
          r.input.quantization.lo = bad;
        },
      ]) {
        const r = clone(receipt);
        edit(r);
        expect(isVerinferError(await errorOf(verifyReceipt(r, { vkey: pkg.vkey })), "MALFORMED_RECEIPT")).toBe(true);
      }
    }
  });
});

describe("the widest output a receipt states can be committed", () => {
  it("commits outputs of width 128 (offset -2^127), which quantizeNetwork and receipt@2 allow", async () => {
    // Outputs of width w are committed at offset -2^(w-1); the header holds lo + 2^127 in 128 bits.
    const lo = -(1n << 127n);
    const values = [lo, 0n, -lo - 1n];
    await expect(commitValues({ values, lo, width: 128, salt: 1n })).resolves.toBeTypeOf("bigint");
    expect(() => vectorCommitmentHeader({ length: 3, width: 128, lo: lo - 1n })).toThrow(RangeError);
  });
});

describe("a receipt's fields are checked or listed as unverified", () => {
  let pkg: ModelPackage;
  let receipt: ZkReceipt;

  beforeAll(async () => {
    pkg = await demoPackage();
    receipt = asZk((await verifiableInfer(pkg, demoSamples.inputs[0] as number[])).receipt);
  });

  it("a zk receipt carrying an attestation by nobody trusted does not pass it off as checked", async () => {
    const { receipt: attested } = await verifiableInfer(pkg, demoSamples.inputs[0] as number[], {
      mode: "attest",
      signer: stranger,
    });
    const r = clone(receipt);
    r.attestation = attested.attestation;
    const result = await verifyReceipt(r, { vkey: pkg.vkey });
    expect(result.valid === false || unverifiedFields(result).includes("attestation")).toBe(true);
  });

  it("an attest receipt carrying a proof that was never checked does not pass it off as checked", async () => {
    const inferenceNode = new Wallet(`0x${"11".repeat(32)}`);
    const { receipt: attested } = await verifiableInfer(pkg, demoSamples.inputs[0] as number[], {
      mode: "attest",
      signer: inferenceNode,
    });
    const r = clone(attested);
    const proof = clone(receipt.proof);
    proof.proof.pi_a[0] = "1";
    r.proof = proof;
    const result = await verifyReceipt(r, { trustedSigners: [inferenceNode.address] });
    expect(result.valid === false || unverifiedFields(result).includes("proof")).toBe(true);
  });

  it("lists fields receipt@2 does not define (stripped, never checked) instead of vouching for them", async () => {
    const r = {
      ...clone(receipt),
      label: "cat",
      model: { ...clone(receipt.model), name: "official-glyphs-v3" },
      output: { ...clone(receipt.output), labels: ["a", "b", "c", "d"] },
    };
    const result = await verifyReceipt(r, { vkey: pkg.vkey });
    expect(result.valid).toBe(true);
    for (const f of ["label", "model.name", "output.labels"]) expect(unverifiedFields(result)).toContain(f);
    // The honest receipt has none.
    const known = [
      "output.float",
      "output.maxAbsError",
      "timings",
      "createdAt",
      "backend",
      "setup",
      "circuit",
      "model.vkey",
    ];
    for (const f of unverifiedFields(await verifyReceipt(receipt, { vkey: pkg.vkey }))) expect(known).toContain(f);
  });

  it("lists unsigned fields inside an attestation instead of vouching for them", async () => {
    const inferenceNode = new Wallet(`0x${"11".repeat(32)}`);
    const { receipt: attested } = await verifiableInfer(pkg, demoSamples.inputs[0] as number[], {
      mode: "attest",
      signer: inferenceNode,
    });
    const r = clone(attested) as unknown as { attestation: { sig: { message: Record<string, unknown> } } };
    r.attestation.sig.message.note = "reviewed by the model's auditor";
    const result = await verifyReceipt(r, { trustedSigners: [inferenceNode.address] });
    expect(result.valid).toBe(true);
    expect(unverifiedFields(result)).toContain("attestation.sig.message.note");
    const known = ["output.float", "output.maxAbsError", "timings", "createdAt", "model.vkey"];
    const honest = await verifyReceipt(attested, { trustedSigners: [inferenceNode.address] });
    for (const f of unverifiedFields(honest)) expect(known).toContain(f);
  });

  it("compares a data attestation's shape as numbers, not as joined text", async () => {
    const values = demoSamples.inputs[1] as number[];
    const honest = await attestData(
      { source: "feed", values, shape: [16], fetchedAt: 1_700_000_000 },
      { signer: dataNode, quantization: pkg },
    );
    const { receipt: r } = await verifiableInfer(pkg, values, { inputSalt: honest.salt });
    const fields = {
      source: "feed",
      commitment: honest.commitment,
      fetchedAt: 1_700_000_000n,
      quantizationHash: quantizationHash(pkg.network),
    };
    // A data node that states a shape of arrays, or of strings: none of them is the model's [16].
    for (const shape of ["[[16]]", '["16"]', '[["16"]]']) {
      const data = encodeDataAttestationData({ ...fields, shape });
      const attestation = await signOffchainAttestation({ schema: DATA_SCHEMA_UID, data }, { signer: dataNode });
      const result = await verifyReceipt(r, {
        vkey: pkg.vkey,
        dataAttestation: attestation,
        trustedDataSigners: [dataNode.address],
      });
      expect(failed(result)).toEqual(["data shape"]);
    }
  });
});

describe("reexecute vouches only for what it recomputed", () => {
  let tiny: ModelPackage;
  let demo: ModelPackage;
  const input = [0.1, 0.2, 0.3, 0.4];
  let receipt: Receipt;
  let salts: { input: string; output: string };

  beforeAll(async () => {
    [tiny, demo] = [await tinyPackage(), await demoPackage()];
    ({ receipt, salts } = await verifiableInfer(tiny, input, { mode: "none" }));
  });

  it("accepts the honest receipt", async () => {
    expect(await reexecute(receipt, { modelPackage: tiny, input, salts })).toEqual({ valid: true });
  });

  it("rejects a receipt that names another model's id over this model's commitment", async () => {
    const r = clone(receipt);
    r.model.id = demo.id;
    expect((await reexecute(r, { modelPackage: tiny, input, salts })).valid).toBe(false);
  });

  it("rejects a receipt with an output value appended", async () => {
    const r = clone(receipt);
    r.output.values.push(1000);
    expect((await reexecute(r, { modelPackage: tiny, input, salts })).valid).toBe(false);
  });
});

describe("opening a package checks every field of the network the commitment does not hash", () => {
  it("refuses a network whose input.hi is not lo + 2^bits - 1 (hi is not hashed, yet the reference reads it)", async () => {
    const honest = await tinyPackage();
    const dir = await tmp();
    const written = await exportModelPackage(honest, { dir });
    const store = new ArtifactStore(dir);
    const manifest = JSON.parse(await readFile(written.manifest, "utf8"));
    const network = JSON.parse((await honest.artifact("network")).toString("utf8"));
    // The circuit accepts [lo, lo + 2^bits); a wider hi makes the reference accept inputs the circuit cannot
    // prove, a narrower one refuses inputs it can — under the same model id either way.
    network.input.hi = (BigInt(network.input.hi) + 1000n).toString();
    manifest.artifacts.network = await store.put(JSON.stringify(network));
    await writeFile(written.manifest, JSON.stringify(manifest));
    const error = await errorOf(loadModelPackage(dir, { cacheDir: await tmp() }));
    expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
  });

  it("refuses a manifest whose quantization, architecture or public-signal count is not its network's", async () => {
    const honest = await tinyPackage();
    type Manifest = typeof honest.manifest;
    const edits: Array<(m: Manifest) => void> = [
      (m) => {
        m.quantization.output.fracBits += 10;
      },
      (m) => {
        m.quantization.input.range = [-1000, 1000];
      },
      (m) => {
        m.architecture.outputShape = [2, 2];
      },
      (m) => {
        (m.architecture.layers[1] as Manifest["architecture"]["layers"][number]).activation = "linear";
      },
      (m) => {
        m.circuit.publicSignals += 1;
      },
    ];
    for (const edit of edits) {
      const dir = await tmp();
      const written = await exportModelPackage(honest, { dir });
      const manifest = JSON.parse(await readFile(written.manifest, "utf8")) as Manifest;
      edit(manifest);
      await writeFile(written.manifest, JSON.stringify(manifest));
      const error = await errorOf(loadModelPackage(dir, { cacheDir: await tmp() }));
      expect(isVerinferError(error, "ARTIFACT_CORRUPT")).toBe(true);
    }
  });

  it("refuses a network whose weights, biases or range widths do not have the layer's shape", async () => {
    const honest = await tinyPackage();
    // Layer 0 is the first dense layer (weights, biases), layer 1 its rescale (range widths).
    type Layer = { qBits: number[]; bias: string[]; weights: string[][] };
    const first = (n: { layers: Layer[] }) => n.layers[0] as Layer;
    const rescale = (n: { layers: Layer[] }) => n.layers[1] as Layer;
    const edits: Array<(n: { layers: Layer[] }) => void> = [
      (n) => rescale(n).qBits.push(20),
      (n) => first(n).bias.push("0"),
      (n) => first(n).weights[0]?.push("0"),
      (n) => first(n).weights.push(first(n).weights[0] ?? []),
    ];
    for (const edit of edits) {
      const network = JSON.parse((await honest.artifact("network")).toString("utf8"));
      edit(network);
      expect(() => quantizedNetworkFromJson(network)).toThrow();
    }
  });
});

describe("a package from a directory proves nothing about its key (open: audit / pinned ceremonies)", () => {
  // A second party is handed an export directory: the honest network (so the id recomputes), but the
  // verification key of a circuit of the attacker's that emits the honest model commitment as a constant and
  // computes something else; the manifest says "ceremony". Nothing on load ties the key to the network.
  let honest: ModelPackage;
  let forged: ZkReceipt;
  let exportDir: string;
  const input = [0.1, 0.2, 0.3, 0.4];
  let salts: { input: string; output: string };

  beforeAll(async () => {
    honest = await tinyPackage();
    const net = honest.network;
    // The last dense layer's first bias, raised by 7 steps of the rescale after it.
    const last = net.layers.map((l) => l.kind).lastIndexOf("dense");
    const shift = (net.layers[last + 1] as QuantizedRescale).shift;
    const evil: QuantizedNetwork = {
      ...net,
      layers: net.layers.map((l, i) =>
        i === last && l.kind === "dense"
          ? { ...l, bias: l.bias.map((b, j) => (j === 0 ? b + 7n * (1n << BigInt(shift)) : b)) }
          : l,
      ),
    };
    const source = generateCircuit({ network: evil, modelCommitment: BigInt(honest.manifest.commitments.model) });
    const workDir = await tmp();
    const compiled = await compileCircuit({ source, workDir });
    const ptau = await ensureDevPtau({ power: honest.manifest.setup.ptauPower, cacheDir: TEST_CACHE });
    const setup = await setupGroth16({ r1cs: compiled.r1cs, ptauFile: ptau.file });

    const inferred = await verifiableInfer(honest, input);
    const receipt = inferred.receipt;
    salts = inferred.salts;
    const xq = quantizeInput(net, input);
    const proof = await proveGroth16({
      witness: new Uint8Array(compiled.wasm),
      zkey: setup.zkey,
      inputs: { input: xq, inputSalt: BigInt(salts.input), outputSalt: BigInt(salts.output) },
    });
    const { output } = integerForward(evil, xq);
    const fracBits = receipt.output.fracBits;
    forged = asZk(clone(receipt));
    forged.model.vkey = vkeyCid(setup.vkey);
    forged.output.quantized = output.map(String);
    forged.output.values = output.map((q) => Number(q) / 2 ** fracBits);
    forged.output.commitment = (await commitOutput(evil, output, BigInt(salts.output))).toString();
    forged.output.maxAbsError = Math.max(
      ...forged.output.values.map((v, j) => Math.abs(v - (forged.output.float[j] as number))),
    );
    forged.proof = {
      system: "groth16",
      proof: proof.proof as ZkReceipt["proof"]["proof"],
      publicSignals: proof.publicSignals,
    };
    expect(forged.output.quantized).not.toEqual(receipt.output.quantized);
    expect(proof.publicSignals.slice(3)).toEqual(output.map((q) => toField(q).toString()));

    exportDir = await tmp();
    const written = await exportModelPackage(honest, { dir: exportDir });
    const store = new ArtifactStore(exportDir);
    const manifest = JSON.parse(await readFile(written.manifest, "utf8"));
    manifest.artifacts.vkey = await store.put(JSON.stringify(setup.vkey));
    manifest.vkey = vkeyCid(setup.vkey);
    manifest.setup.kind = "ceremony";
    await writeFile(written.manifest, JSON.stringify(manifest));
  });

  it("the forged receipt is false: the honest package and re-execution refuse it", async () => {
    expect(forged.model.id).toBe(modelIdFromCommitment(BigInt(honest.manifest.commitments.model)));
    expect((await verifyReceipt(forged, { modelPackage: honest })).valid).toBe(false);
    expect((await reexecute(forged, { modelPackage: honest, input, salts })).valid).toBe(false);
  });

  // Was open until setup trust landed: the export loaded under the honest id and requireCeremony took the label.
  it("a crafted export with a foreign key, a 'ceremony' label, a pinned ptau hash and its own audit record is not trusted", async () => {
    const manifestFile = path.join(exportDir, "manifest.json");
    const manifest = JSON.parse(await readFile(manifestFile, "utf8"));
    const pinned = CEREMONY_PTAUS.find((c) => c.power === manifest.setup.ptauPower) ?? CEREMONY_PTAUS[0];
    manifest.setup.ptauBlake2b = pinned?.blake2b;
    await writeFile(manifestFile, JSON.stringify(manifest));
    // The export ships an "audit" of itself, as the loader's own cache would hold one.
    const record = {
      format: "verinfer/audit@1",
      manifestSha256: manifestSha256(manifest),
      modelId: manifest.id,
      ptauBlake2b: manifest.setup.ptauBlake2b,
      via: "audit",
      createdAt: new Date().toISOString(),
      checks: [{ name: "zkey", ok: true }],
    };
    await mkdir(path.join(exportDir, "audits"), { recursive: true });
    await writeFile(path.join(exportDir, "audits", `${record.manifestSha256}.json`), JSON.stringify(record));

    const pkg = await loadModelPackage(exportDir, { cacheDir: await tmp() });
    const strict = await verifyReceipt(forged, { modelPackage: pkg, requireCeremony: true });
    expect(strict.valid).toBe(false);
    expect(strict.checks.find((c) => c.name === "setup")?.ok).toBe(false);
    // Without requireCeremony the proof checks against the package's (foreign) key, and the result says that the
    // key's circuit was never audited against the network: the one claim a valid result here does not make.
    const loose = await verifyReceipt(forged, { modelPackage: pkg });
    expect(loose.unverified.map((u) => u.field)).toContain("circuit");
  });
});
