import { Contract, id, JsonRpcProvider, Network, solidityPackedKeccak256, Wallet, ZeroAddress } from "ethers";
import * as snarkjs from "snarkjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main as onchainExample } from "../../examples/onchain.js";
import { outputHash } from "../../src/attest/output-hash.js";
import {
  type AnvilNode,
  connectRegistry,
  deployRegistry,
  deployVerifier,
  exportSolidityVerifier,
  getInference,
  getModel,
  groth16Calldata,
  groth16VerifierSource,
  type InferenceEvent,
  type InferenceRegistryContract,
  modelKey,
  onInference,
  registerModel,
  setAttester,
  startAnvil,
  submitReceipt,
  verifierMatchesVkey,
} from "../../src/chain/index.js";
import { sendChecked } from "../../src/chain/send-transaction.js";
import { generateCircuit } from "../../src/circuits/codegen.js";
import { compileCircuit } from "../../src/circuits/compile-circuit.js";
import { type Groth16ProofBundle, proveGroth16 } from "../../src/circuits/prove-groth16.js";
import { isVerinferError, type ModelPackage, type Receipt, verifiableInfer } from "../../src/index.js";
import { quantizeInput } from "../../src/models/quantize-input.js";
import type { QuantizedNetwork } from "../../src/models/quantized-network.js";
import { requiredPtauPower } from "../../src/pipeline/compile-model.js";
import { setupGroth16 } from "../../src/proof-systems/setup-groth16.js";
import { ensureDevPtau } from "../../src/setup/dev-ptau.js";
import { FIELD_PRIME } from "../../src/util/field.js";
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

const tempDir = tempDirs("verinfer-chain-");

/** The reason (custom error name) of a CHAIN_ERROR a promise rejects with. */
async function revertReason(promise: Promise<unknown>): Promise<unknown> {
  const error = await errorOf(promise);
  expect(isVerinferError(error, "CHAIN_ERROR")).toBe(true);
  return (error as { meta?: { reason?: unknown } }).meta?.reason;
}

const clone = (r: Receipt): ZkReceipt => asZk(structuredClone(r));
/** The statement of a receipt, under a model key. */
const statement = (modelKey: string, r: Receipt) => ({
  modelKey,
  inputCommitment: r.input.commitment,
  outputCommitment: r.output.commitment,
});

/**
 * The squatter's circuit: another network (`network`) whose generated circuit hard-codes someone else's model
 * commitment as its first public signal, with a Groth16 setup of its own. Its proofs are valid for its own vkey.
 */
async function forgeCircuit(
  network: QuantizedNetwork,
  honestCommitment: bigint,
): Promise<{ vkey: Record<string, unknown>; prove(x: number[]): Promise<Groth16ProofBundle> }> {
  const source = generateCircuit({ network, modelCommitment: honestCommitment });
  const { r1cs, wasm } = await compileCircuit({ source, workDir: await tempDir() });
  const info = await snarkjs.r1cs.info({ type: "mem", data: r1cs });
  const power = requiredPtauPower(info.nConstraints, info.nOutputs + info.nPubInputs);
  const ptau = await ensureDevPtau({ power, cacheDir: TEST_CACHE });
  const { zkey, vkey } = await setupGroth16({ r1cs, ptauFile: ptau.file });
  return {
    vkey,
    prove: (x) =>
      proveGroth16({
        witness: wasm,
        zkey,
        inputs: { input: quantizeInput(network, x), inputSalt: 7n, outputSalt: 9n },
      }),
  };
}

/** A zk receipt that claims `proof` for `base`'s model, with the commitments its signals state. */
function withProof(base: Receipt, proof: Groth16ProofBundle): ZkReceipt {
  const r = clone(base);
  r.proof = {
    system: "groth16",
    proof: proof.proof as ZkReceipt["proof"]["proof"],
    publicSignals: proof.publicSignals,
  };
  r.input.commitment = proof.publicSignals[1] as string;
  r.output.commitment = proof.publicSignals[2] as string;
  return r;
}

describe("on-chain registry (anvil)", () => {
  let anvil: AnvilNode;
  let provider: JsonRpcProvider;
  let owner: Wallet;
  let submitter: Wallet;
  let attester: Wallet;
  let stranger: Wallet;
  let pkg: ModelPackage;
  let tiny: ModelPackage;
  let registry: InferenceRegistryContract;
  let demoVerifier: string;
  let tinyVerifier: string;
  /** The demo model's key: owner + demo commitment + demo verifier. */
  let demoKey: string;
  let tinyKey: string;
  let zk: ZkReceipt[];
  let tinyReceipt: ZkReceipt;
  const call = (name: string, ...args: unknown[]) => registry.getFunction(name)(...args);
  const as = (wallet: Wallet, on = registry) => on.connect(wallet) as InferenceRegistryContract;

  beforeAll(async () => {
    anvil = await startAnvil();
    provider = new JsonRpcProvider(anvil.rpcUrl, undefined, {
      staticNetwork: true,
      pollingInterval: 100,
      // ethers caches identical calls for 250 ms, eth_getTransactionCount included: back-to-back sends reuse a nonce.
      cacheTimeout: -1,
    });
    [owner, submitter, attester, stranger] = anvil.accounts.slice(0, 4).map((k) => new Wallet(k, provider)) as [
      Wallet,
      Wallet,
      Wallet,
      Wallet,
    ];
    pkg = await demoPackage();
    tiny = await tinyPackage();
    zk = [];
    for (const x of demoSamples.inputs.slice(0, 3)) zk.push(asZk((await verifiableInfer(pkg, x)).receipt));
    tinyReceipt = asZk((await verifiableInfer(tiny, [0.5, 0.25, 0.75, 0.1])).receipt);

    registry = (await deployRegistry(owner)).registry;
    demoVerifier = (await deployVerifier(owner, pkg)).address;
    tinyVerifier = (await deployVerifier(owner, tiny)).address;
    demoKey = (
      await registerModel(registry, {
        modelCommitment: pkg.manifest.commitments.model,
        verifier: demoVerifier,
        attesters: [attester.address],
      })
    ).modelKey;
    tinyKey = (
      await registerModel(registry, { modelCommitment: tiny.manifest.commitments.model, verifier: tinyVerifier })
    ).modelKey;
  });

  afterAll(async () => {
    provider?.destroy();
    await anvil?.stop();
  });

  it("records nothing under the honest model's key from a forged circuit that hard-codes its commitment", async () => {
    // The attacker's circuit computes the tiny network but emits the demo model's (public) commitment first.
    const honestCommitment = BigInt(pkg.manifest.commitments.model);
    const forged = await forgeCircuit(tiny.network, honestCommitment);
    const forgedProof = await forged.prove([0.5, 0.25, 0.75, 0.1]);
    expect(BigInt(forgedProof.publicSignals[0] as string)).toBe(honestCommitment);
    const fresh = (await deployRegistry(owner)).registry;
    const asAttacker = as(stranger, fresh);
    const forgedVerifier = (await deployVerifier(stranger, { vkey: forged.vkey })).address;

    // The attacker registers the honest commitment first, with the forged verifier and itself as attester, and
    // records a forged statement: it lands under the attacker's own key, which no consumer pins.
    const attackerKey = (
      await registerModel(asAttacker, {
        modelCommitment: honestCommitment,
        verifier: forgedVerifier,
        attesters: [stranger.address],
      })
    ).modelKey;
    const forgedReceipt = withProof(zk[0] as ZkReceipt, forgedProof);
    expect((await submitReceipt(asAttacker, { modelKey: attackerKey, receipt: forgedReceipt })).kind).toBe("verified");

    // The honest owner can still register, and gets the key a consumer derives from what it audited.
    const honest = await registerModel(fresh, { modelCommitment: honestCommitment, verifier: demoVerifier });
    const honestKey = modelKey({ owner: owner.address, modelCommitment: honestCommitment, verifier: demoVerifier });
    expect(honest.modelKey).toBe(honestKey);
    expect(honestKey).not.toBe(attackerKey);
    expect((await getModel(fresh, honestKey))?.owner).toBe(owner.address);

    // The forged statement is not visible under the honest key.
    const forgedStatement = statement(honestKey, forgedReceipt);
    expect(await getInference(fresh, forgedStatement)).toBeUndefined();
    const isVerified = fresh.getFunction("isVerified");
    expect(await isVerified(honestKey, forgedStatement.inputCommitment, forgedStatement.outputCommitment)).toBe(false);

    // The attacker cannot record under the honest key: its proof goes to the honest verifier, which rejects it; it
    // cannot make itself an attester of the key, and its attestations are not the key's.
    expect(await revertReason(submitReceipt(asAttacker, { modelKey: honestKey, receipt: forgedReceipt }))).toBe(
      "ProofRejected",
    );
    expect(
      await revertReason(setAttester(asAttacker, { modelKey: honestKey, attester: stranger.address, trusted: true })),
    ).toBe("NotModelOwner");
    const signed = (await verifiableInfer(pkg, demoSamples.inputs[2], { mode: "attest", signer: stranger })).receipt;
    expect(await revertReason(submitReceipt(asAttacker, { modelKey: honestKey, receipt: signed }))).toBe(
      "UntrustedAttester",
    );
    expect(await getInference(fresh, statement(honestKey, signed))).toBeUndefined();

    // Honest proofs record under the honest key, and a consumer's audit tells the two verifiers apart.
    const proven = await submitReceipt(fresh, { modelKey: honestKey, receipt: zk[0] as ZkReceipt });
    expect(proven.kind).toBe("verified");
    expect(await getInference(fresh, statement(honestKey, zk[0] as ZkReceipt))).toMatchObject({ kind: "verified" });
    expect((await verifierMatchesVkey({ provider, verifier: demoVerifier, vkey: pkg.vkey })).matches).toBe(true);
    expect((await verifierMatchesVkey({ provider, verifier: forgedVerifier, vkey: pkg.vkey })).matches).toBe(false);
  });

  it("derives the model key from owner, commitment and verifier, on chain and in TypeScript alike", async () => {
    const commitment = pkg.manifest.commitments.model;
    expect(demoKey).toBe(modelKey({ owner: owner.address, modelCommitment: commitment, verifier: demoVerifier }));
    expect(await call("modelKeyOf", owner.address, commitment, demoVerifier)).toBe(demoKey);
    expect(await call("modelKeyOf", stranger.address, commitment, ZeroAddress)).toBe(
      modelKey({ owner: stranger.address, modelCommitment: BigInt(commitment) }),
    );
    expect(await getModel(registry, demoKey)).toEqual({
      modelKey: demoKey,
      owner: owner.address,
      modelCommitment: BigInt(commitment),
      verifier: demoVerifier,
      proofSystem: "groth16",
    });
    expect(
      await getModel(registry, modelKey({ owner: stranger.address, modelCommitment: commitment })),
    ).toBeUndefined();
    expect(
      isVerinferError(
        await errorOf(Promise.resolve().then(() => modelKey({ owner: "0x12", modelCommitment: 1n }))),
        "INVALID_INPUT",
      ),
    ).toBe(true);
  });

  it("accepts an honest zk receipt: the record is readable and the event emitted", async () => {
    const events: InferenceEvent[] = [];
    const stop = await onInference(registry, (e) => events.push(e), { modelKey: demoKey });
    const receipt = zk[0] as ZkReceipt;
    const result = await submitReceipt(as(submitter), { modelKey: demoKey, receipt });
    expect(result).toMatchObject({ kind: "verified", alreadyRecorded: false });

    const record = await getInference(registry, statement(demoKey, receipt));
    const signals = receipt.proof.publicSignals.map(BigInt);
    const expectedHash = solidityPackedKeccak256(
      signals.slice(3).map(() => "uint256"),
      signals.slice(3),
    );
    expect(record).toMatchObject({ kind: "verified", submitter: submitter.address, outputHash: expectedHash });
    expect(record?.blockNumber).toBe(BigInt(result.blockNumber));
    expect(await call("isVerified", demoKey, signals[1], signals[2])).toBe(true);
    expect(result.key).toBe(await call("recordKey", demoKey, signals[1], signals[2]));

    const logs = await registry.queryFilter(registry.filters.InferenceVerified?.() ?? "InferenceVerified");
    const log = logs.find((l) => l.transactionHash === result.hash) as { args?: unknown[] } | undefined;
    expect(log?.args?.[0]).toBe(demoKey);
    expect(log?.args?.[1]).toBe(result.key);
    expect(log?.args?.[2]).toBe(submitter.address);

    for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await stop();
    expect(events[0]).toMatchObject({
      type: "verified",
      modelKey: demoKey,
      key: result.key,
      submitter: submitter.address,
      outputHash: expectedHash,
      txHash: result.hash,
    });
  });

  it("makes a duplicate of a verified statement a no-op with an event: the first relayer stays the submitter", async () => {
    const receipt = zk[0] as ZkReceipt;
    const before = await getInference(registry, statement(demoKey, receipt));
    expect(before).toMatchObject({ kind: "verified", submitter: submitter.address });
    const events: InferenceEvent[] = [];
    const stop = await onInference(registry, (e) => events.push(e), { modelKey: demoKey });

    // The front-run owner's (here: a stranger's) copy succeeds, says it changed nothing, and changes nothing.
    const dup = await submitReceipt(as(stranger), { modelKey: demoKey, receipt });
    expect(dup).toMatchObject({ kind: "verified", alreadyRecorded: true });
    expect(dup.key).toBe(await call("recordKey", demoKey, receipt.input.commitment, receipt.output.commitment));
    const inBlock = async (name: string) =>
      (await registry.queryFilter(name, dup.blockNumber, dup.blockNumber)) as unknown as {
        transactionHash: string;
        args: unknown[];
      }[];
    const already = (await inBlock("AlreadyVerified")).filter((l) => l.transactionHash === dup.hash);
    expect(already.map((l) => [...l.args])).toEqual([[demoKey, dup.key, stranger.address]]);
    expect(await inBlock("InferenceVerified")).toEqual([]);
    expect(await getInference(registry, statement(demoKey, receipt))).toEqual(before);

    // The duplicate's proof is not checked (the record already proves the statement): another statement's proof
    // under these signals is the same no-op, and still changes nothing.
    const wrongProof = clone(receipt);
    wrongProof.proof.proof = structuredClone((zk[1] as ZkReceipt).proof.proof);
    expect(await submitReceipt(as(stranger), { modelKey: demoKey, receipt: wrongProof })).toMatchObject({
      alreadyRecorded: true,
    });
    // Outputs other than the recorded ones are not a duplicate: refused, record unchanged.
    const otherOutputs = clone(receipt);
    otherOutputs.proof.publicSignals[3] = (
      (BigInt(receipt.proof.publicSignals[3] as string) + 1n) %
      FIELD_PRIME
    ).toString();
    expect(await revertReason(submitReceipt(as(stranger), { modelKey: demoKey, receipt: otherOutputs }))).toBe(
      "AlreadyRecorded",
    );
    expect(await getInference(registry, statement(demoKey, receipt))).toEqual(before);
    await new Promise((r) => setTimeout(r, 500));
    await stop();
    expect(events).toEqual([]);
  });

  it("rejects a proof whose public output signal was changed", async () => {
    const r = clone(zk[1] as ZkReceipt);
    r.proof.publicSignals[3] = ((BigInt(r.proof.publicSignals[3] as string) + 1n) % FIELD_PRIME).toString();
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: r }))).toBe("ProofRejected");
    expect(await getInference(registry, statement(demoKey, r))).toBeUndefined();
  });

  it("rejects a proof whose input commitment was changed", async () => {
    const r = clone(zk[1] as ZkReceipt);
    r.proof.publicSignals[1] = (zk[2] as ZkReceipt).proof.publicSignals[1] as string;
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: r }))).toBe("ProofRejected");
  });

  it("rejects a proof for another model, under either model's key", async () => {
    // Under the demo key: the first public signal is the tiny model's commitment.
    const asDemo = clone(tinyReceipt);
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: asDemo }))).toBe(
      "WrongModelCommitment",
    );
    // With the demo's commitment put into the signals: the demo verifier refuses the tiny model's proof.
    asDemo.proof.publicSignals[0] = pkg.manifest.commitments.model;
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: asDemo }))).toBe("ProofRejected");
    // And a demo proof under the tiny model's key.
    expect(await revertReason(submitReceipt(registry, { modelKey: tinyKey, receipt: zk[1] as ZkReceipt }))).toBe(
      "WrongModelCommitment",
    );
  });

  it("refuses a model key nobody registered, on both paths", async () => {
    const unknown = modelKey({
      owner: stranger.address,
      modelCommitment: pkg.manifest.commitments.model,
      verifier: demoVerifier,
    });
    expect(await revertReason(submitReceipt(registry, { modelKey: unknown, receipt: zk[1] as ZkReceipt }))).toBe(
      "ModelNotRegistered",
    );
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[0], {
      inputSalt: 801n,
      outputSalt: 801n,
      mode: "attest",
      signer: attester,
    });
    expect(await revertReason(submitReceipt(registry, { modelKey: unknown, receipt }))).toBe("ModelNotRegistered");
    expect(
      isVerinferError(await errorOf(submitReceipt(registry, { modelKey: "0x1234", receipt })), "INVALID_INPUT"),
    ).toBe(true);
  });

  it("refuses a call the verifier cannot answer, and a proof with too few public signals", async () => {
    // A "verifier" with code but no verifyProof for 7 signals: the registry itself.
    const { modelKey: wrongVerifier } = await registerModel(registry, {
      modelCommitment: pkg.manifest.commitments.model,
      verifier: await registry.getAddress(),
    });
    expect(await revertReason(submitReceipt(registry, { modelKey: wrongVerifier, receipt: zk[1] as ZkReceipt }))).toBe(
      "VerifierCallFailed",
    );
    // The receipt schema wants four signals or more, so this one goes to the registry directly.
    const { a, b, c, publicSignals } = groth16Calldata((zk[1] as ZkReceipt).proof);
    expect(
      await revertReason(sendChecked(registry, "submitProof", [demoKey, a, b, c, publicSignals.slice(0, 2)])),
    ).toBe("TooFewPublicSignals");
  });

  it("derives the verifier's selector for any number of public signals as solc does", async () => {
    for (const n of [1, 3, 7, 9, 10, 13, 99, 100, 255, 1000, 123456789]) {
      const signature = `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}])`;
      expect(await call("verifyProofSelector", n)).toBe(id(signature).slice(0, 10));
    }
  });

  it("rejects a public signal at or above the field modulus (registry and bare verifier)", async () => {
    const r = clone(zk[1] as ZkReceipt);
    r.proof.publicSignals[1] = (BigInt(r.proof.publicSignals[1] as string) + FIELD_PRIME).toString();
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: r }))).toBe("SignalOutOfField");
    // snarkjs ≥ 0.7.5's verifier refuses the alias on its own too; the honest signals pass (control).
    const n = r.proof.publicSignals.length;
    const verifier = new Contract(
      demoVerifier,
      [`function verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${n}]) view returns (bool)`],
      provider,
    );
    const aliased = groth16Calldata(r.proof);
    const honest = groth16Calldata((zk[1] as ZkReceipt).proof);
    const verify = verifier.getFunction("verifyProof");
    expect(await verify(honest.a, honest.b, honest.c, honest.publicSignals)).toBe(true);
    expect(await verify(aliased.a, aliased.b, aliased.c, aliased.publicSignals)).toBe(false);
  });

  it("accepts an attested receipt from a trusted attester, and refuses it a second time", async () => {
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[3], { mode: "attest", signer: attester });
    const result = await submitReceipt(as(stranger), { modelKey: demoKey, receipt });
    expect(result.kind).toBe("attested");
    const record = await getInference(registry, statement(demoKey, receipt));
    expect(record).toMatchObject({
      kind: "attested",
      submitter: attester.address,
      outputHash: outputHash(receipt.output.quantized, receipt.output.fracBits),
    });
    expect(await call("isVerified", demoKey, receipt.input.commitment, receipt.output.commitment)).toBe(false);
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt }))).toBe("AlreadyRecorded");
  });

  it("upgrades an attested statement to verified when its proof arrives", async () => {
    const x = demoSamples.inputs[4];
    const salts = { inputSalt: 12345n, outputSalt: 67890n };
    const attested = (await verifiableInfer(pkg, x, { mode: "attest", signer: attester, ...salts })).receipt;
    const proven = (await verifiableInfer(pkg, x, salts)).receipt;
    expect(statement(demoKey, proven)).toEqual(statement(demoKey, attested));
    await submitReceipt(registry, { modelKey: demoKey, receipt: attested });
    await submitReceipt(as(submitter), { modelKey: demoKey, receipt: proven });
    expect(await getInference(registry, statement(demoKey, proven))).toMatchObject({
      kind: "verified",
      submitter: submitter.address,
    });
  });

  it("rejects an attestation from an untrusted signer, and one whose attester was removed", async () => {
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[5], { mode: "attest", signer: stranger });
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt }))).toBe("UntrustedAttester");
    const second = (await verifiableInfer(pkg, demoSamples.inputs[6], { mode: "attest", signer: attester })).receipt;
    await setAttester(registry, { modelKey: demoKey, attester: attester.address, trusted: false });
    try {
      expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: second }))).toBe(
        "UntrustedAttester",
      );
    } finally {
      await setAttester(registry, { modelKey: demoKey, attester: attester.address, trusted: true });
    }
    expect(await getInference(registry, statement(demoKey, receipt))).toBeUndefined();
  });

  it("keeps attesters per model key: trusted under one key, a signer records nothing under another", async () => {
    // The stranger registers the demo commitment with the honest verifier, and trusts itself.
    const strangerKey = (
      await registerModel(as(stranger), {
        modelCommitment: pkg.manifest.commitments.model,
        verifier: demoVerifier,
        attesters: [stranger.address],
      })
    ).modelKey;
    expect(strangerKey).not.toBe(demoKey);
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[0], {
      inputSalt: 901n,
      outputSalt: 901n,
      mode: "attest",
      signer: stranger,
    });
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt }))).toBe("UntrustedAttester");
    expect((await submitReceipt(registry, { modelKey: strangerKey, receipt })).kind).toBe("attested");
    expect(await getInference(registry, statement(demoKey, receipt))).toBeUndefined();
    // A record under the stranger's key is not one under the demo key, even for an honest proof.
    const proven = zk[0] as ZkReceipt;
    expect(await getInference(registry, statement(strangerKey, proven))).toBeUndefined();
  });

  it("refuses an attestation of another model's commitment from a trusted attester", async () => {
    const { receipt } = await verifiableInfer(tiny, [0.1, 0.2, 0.3, 0.4], { mode: "attest", signer: attester });
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt }))).toBe(
      "AttestationModelMismatch",
    );
  });

  it("registers an attest-only model under a key of its own, which takes no proofs", async () => {
    const { modelKey: attestOnly } = await registerModel(registry, {
      modelCommitment: pkg.manifest.commitments.model,
      proofSystem: "none",
      attesters: [attester.address],
    });
    expect(attestOnly).toBe(modelKey({ owner: owner.address, modelCommitment: pkg.manifest.commitments.model }));
    expect(attestOnly).not.toBe(demoKey);
    expect(await revertReason(submitReceipt(registry, { modelKey: attestOnly, receipt: zk[2] as ZkReceipt }))).toBe(
      "NoVerifier",
    );
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[0], {
      inputSalt: 1001n,
      outputSalt: 1001n,
      mode: "attest",
      signer: attester,
    });
    expect((await submitReceipt(registry, { modelKey: attestOnly, receipt })).kind).toBe("attested");
    expect(await getInference(registry, statement(demoKey, receipt))).toBeUndefined();
  });

  it("rejects an attestation whose signed data was changed", async () => {
    const { receipt } = await verifiableInfer(pkg, demoSamples.inputs[7], { mode: "attest", signer: attester });
    const tampered = structuredClone(receipt);
    const message = tampered.attestation?.sig.message as { data: string };
    // Flip one bit of the input commitment inside the ABI-encoded data: the signature now recovers to someone else.
    const i = 2 + 2 * 64 + 63;
    message.data = `${message.data.slice(0, i)}${(Number.parseInt(message.data[i] as string, 16) ^ 1).toString(16)}${message.data.slice(i + 1)}`;
    expect(await revertReason(submitReceipt(registry, { modelKey: demoKey, receipt: tampered }))).toBe(
      "UntrustedAttester",
    );
  });

  it("lets only the model's owner manage attesters, and refuses the owner's second registration only", async () => {
    expect(
      await revertReason(setAttester(as(stranger), { modelKey: demoKey, attester: stranger.address, trusted: true })),
    ).toBe("NotModelOwner");
    const again = { modelCommitment: pkg.manifest.commitments.model, verifier: tinyVerifier };
    // Someone else registering the same commitment and verifier is no collision: it gets a key of its own.
    const theirs = await registerModel(as(submitter), again);
    expect(await revertReason(registerModel(as(submitter), again))).toBe("ModelAlreadyRegistered");
    expect(theirs.modelKey).toBe(modelKey({ owner: submitter.address, ...again }));
  });

  it("audits a deployed verifier against a vkey", async () => {
    expect(await groth16VerifierSource(pkg.vkey)).toBe(await exportSolidityVerifier(pkg));
    const honest = await verifierMatchesVkey({ provider, verifier: demoVerifier, vkey: pkg.vkey });
    expect(honest).toMatchObject({ matches: true });
    expect(honest.deployedCodeHash).toBe(honest.expectedCodeHash);
    expect(await verifierMatchesVkey({ provider, verifier: tinyVerifier, vkey: pkg.vkey })).toMatchObject({
      matches: false,
    });
    expect(await verifierMatchesVkey({ provider, verifier: stranger.address, vkey: pkg.vkey })).toMatchObject({
      matches: false,
    });
    const notAKey = await errorOf(
      verifierMatchesVkey({ provider, verifier: demoVerifier, vkey: { protocol: "plonk" } }),
    );
    expect(isVerinferError(notAKey, "INVALID_INPUT")).toBe(true);
  });

  it("reports an unreachable node as a CHAIN_ERROR", async () => {
    const dead = new JsonRpcProvider("http://127.0.0.1:9", Network.from(anvil.chainId), { staticNetwork: true });
    try {
      const far = await connectRegistry(await registry.getAddress(), new Wallet(anvil.accounts[5] as string, dead));
      const error = await errorOf(submitReceipt(far, { modelKey: demoKey, receipt: zk[2] as ZkReceipt }));
      expect(isVerinferError(error, "CHAIN_ERROR")).toBe(true);
    } finally {
      dead.destroy();
    }
  });

  it("converts proofs to calldata exactly as snarkjs's exportSolidityCallData does", async () => {
    for (const r of [...zk, tinyReceipt]) {
      const text = await snarkjs.groth16.exportSolidityCallData(r.proof.proof, r.proof.publicSignals);
      const [a, b, c, inputs] = JSON.parse(`[${text}]`) as [string[], string[][], string[], string[]];
      const mine = groth16Calldata(r.proof);
      expect(mine.a).toEqual(a.map(BigInt));
      expect(mine.b).toEqual(b.map((row) => row.map(BigInt)));
      expect(mine.c).toEqual(c.map(BigInt));
      expect(mine.publicSignals).toEqual(inputs.map(BigInt));
    }
  });
});

describe("examples/onchain", () => {
  it("deploys, registers, audits the verifier, records a zk and an attested receipt on its own anvil", async () => {
    const summary = await onchainExample(TEST_CACHE);
    expect(summary.verifierMatches).toBe(true);
    expect(summary.verified?.kind).toBe("verified");
    expect(summary.attested?.kind).toBe("attested");
    expect(summary.gas.submitProof).toBeGreaterThan(summary.gas.submitAttestation);
  });
});
