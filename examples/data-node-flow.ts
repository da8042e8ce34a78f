/**
 * A data node and an inference node working together. The data node (an oracle with its own key) fetches a
 * reading, commits to it and signs a data attestation; the inference node (another key) runs the model on that
 * reading, reuses the data node's salt so its receipt's input commitment is the attested one, answers at once
 * with a signed (attest) receipt, and proves the same inference in the background for a zk receipt.
 *
 * Run: `npm run example:data-node` (`tsc -p tsconfig.scripts.json && node build/examples/data-node-flow.js`) —
 * prints one JSON line per step. `examples/verifier-node.ts` checks what this produces.
 * In an application, import from "verinfer" instead of "../src/index.js".
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Wallet } from "ethers";
import {
  attestData,
  compileModel,
  type Receipt,
  type Salts,
  type SharedAttestation,
  verifiableInfer,
} from "../src/index.js";
import { packageRoot } from "../src/util/package-root.js";

/** Where the data node claims its reading came from. */
export const SOURCE = "https://sensors.example/glyphs/42";

/** Everything a verifier needs to check one inference end to end. JSON-safe (bigints are decimal strings). */
export interface DataNodeBundle {
  /** The model both nodes used. */
  modelId: string;
  source: string;
  /** The reading exactly as fetched (floats, before quantization). */
  input: number[];
  /** The data node's signed commitment to `input`. */
  dataAttestation: SharedAttestation;
  /** The inference node's immediate answer, signed, its attestation's `refUID` pointing at `dataAttestation`. */
  attested: Receipt;
  /** The deferred Groth16 receipt of the same inference: same commitments and outputs as `attested`. */
  zk: Receipt;
  /**
   * Private: the salts that open both receipts' commitments. `salts.input` is the data node's salt. Hand them only
   * to parties allowed to re-execute (auditors, a dispute), never publish them with the receipts.
   */
  salts: Salts;
  /** The salt the data node committed with (equals `salts.input`). */
  dataSalt: string;
  /** Addresses of the two keys, for the verifier's trust lists. */
  signers: { dataNode: string; inferenceNode: string };
}

/**
 * Stands in for an HTTP fetch of a sensor feed: reads a held-out sample of the demo model from disk, so the
 * example runs offline and deterministically.
 */
async function fetchReading(url: string, modelDir: string): Promise<{ values: number[]; fetchedAt: Date }> {
  const samples = JSON.parse(await readFile(path.join(modelDir, "samples.json"), "utf8")) as { inputs: number[][] };
  const values = samples.inputs[0];
  if (!values) throw new Error(`no reading at ${url}`);
  return { values, fetchedAt: new Date() };
}

/**
 * Runs the flow: data node fetches and attests, inference node infers with `mode: "attest"` and `deferProof`,
 * then awaits the zk receipt. Returns the bundle for a verifier.
 *
 * @param cacheDir - artifact cache (default `VERINFER_CACHE` or `~/.cache/verinfer`); the deferred proof job is
 *   persisted there until proven.
 */
export async function main(cacheDir?: string): Promise<DataNodeBundle> {
  const modelDir = path.join(packageRoot(), "examples", "models", "demo-glyphs");
  const samples = JSON.parse(await readFile(path.join(modelDir, "samples.json"), "utf8")) as {
    calibration: number[][];
  };
  const pkg = await compileModel(modelDir, { calibration: samples.calibration, ...(cacheDir ? { cacheDir } : {}) });

  // Fresh keys keep the example self-contained. Real nodes load theirs from a key file or an environment variable
  // (`new Wallet(process.env.ORACLE_KEY)`, `Wallet.fromEncryptedJson(…)`), never from argv, which any user of the
  // machine can read in the process list.
  const oracle = Wallet.createRandom();
  const inferenceNode = Wallet.createRandom();

  // Data node: the commitment is over the values as the model quantizes them, so the data node needs the model's
  // input quantization (public, in its manifest) — not its weights or proving key.
  const reading = await fetchReading(SOURCE, modelDir);
  const shape = pkg.manifest.architecture.inputShape;
  const data = await attestData(
    { source: SOURCE, values: reading.values, shape, fetchedAt: reading.fetchedAt },
    { signer: oracle, quantization: pkg },
  );
  // Handed to the inference node over a private channel: with the values, the salt opens the commitment.
  const handoff = { values: reading.values, salt: data.salt, attestation: data.attestation };

  // Inference node: the data node's salt makes its input commitment the attested one; verifiableInfer refuses
  // values and salt that do not open the attestation's commitment.
  const result = await verifiableInfer(pkg, handoff.values, {
    mode: "attest",
    signer: inferenceNode,
    inputSalt: handoff.salt,
    dataAttestation: handoff.attestation,
    deferProof: true,
  });
  if (!result.deferred) throw new Error("verifiableInfer returned no deferred proof handle");
  // The attested receipt can be served now; the zk receipt follows when the background proof is done.
  const zk = await result.deferred.promise;

  return {
    modelId: pkg.id,
    source: SOURCE,
    input: handoff.values,
    dataAttestation: handoff.attestation,
    attested: result.receipt,
    zk,
    salts: result.salts,
    dataSalt: handoff.salt.toString(),
    signers: { dataNode: oracle.address, inferenceNode: inferenceNode.address },
  };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (b) => {
      // Salts stay out of the log: they are private.
      const lines = [
        { step: "data attestation", source: b.source, uid: b.dataAttestation.sig.uid, signer: b.signers.dataNode },
        {
          step: "attested receipt",
          signer: b.signers.inferenceNode,
          refUID: b.attested.attestation?.sig.message.refUID,
          input: b.attested.input.commitment,
          output: b.attested.output.values,
        },
        { step: "zk receipt", input: b.zk.input.commitment, output: b.zk.output.values, proveMs: b.zk.timings.proveMs },
      ];
      for (const line of lines) console.log(JSON.stringify(line));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
