import { writeFile } from "node:fs/promises";
import { attestData } from "../attest/attest-data.js";
import type { Salts } from "../attest/receipt.js";
import { VerinferError } from "../errors.js";
import { quantizeModel } from "../pipeline/quantize-model.js";
import { reexecute } from "../pipeline/reexecute.js";
import { resumePendingProofs } from "../receipts/deferred-proofs.js";
import { atomicWrite } from "../storage/atomic-write.js";
import { EXIT } from "./exit-codes.js";
import { readJsonFile } from "./io.js";
import { loadSigner } from "./keys.js";

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Reads `{ values | input, shape?, source?, fetchedAt? }` or a bare array. */
async function readValues(
  file: string,
): Promise<{ values: unknown; shape?: number[]; source?: string; fetchedAt?: number }> {
  const json = await readJsonFile(file, "input file");
  if (Array.isArray(json)) return { values: json };
  const o = (json ?? {}) as Record<string, unknown>;
  return {
    values: o.values ?? o.input,
    ...(Array.isArray(o.shape) ? { shape: o.shape as number[] } : {}),
    ...(typeof o.source === "string" ? { source: o.source } : {}),
    ...(typeof o.fetchedAt === "number" ? { fetchedAt: o.fetchedAt } : {}),
  };
}

/** `verinfer attest-data`: a data node's signed, committed attestation of the values it fetched. */
export async function attestDataCommand(flags: {
  input: string;
  model: string;
  calibration: readonly (readonly number[])[];
  source?: string;
  keyFile?: string;
  out: string;
  saltOut?: string;
}): Promise<number> {
  const signer = await loadSigner(flags.keyFile);
  const payload = await readValues(flags.input);
  const source = flags.source ?? payload.source;
  if (!source)
    throw new VerinferError("INVALID_INPUT", "name the data source: --source or a source field in the input");
  const { network } = await quantizeModel(flags.model, { calibration: flags.calibration });
  const result = await attestData(
    {
      source,
      values: payload.values,
      shape: payload.shape ?? network.inputShape,
      fetchedAt: payload.fetchedAt ?? new Date(),
    },
    { signer, quantization: network },
  );
  const saltFile = flags.saltOut ?? flags.out.replace(/(\.json)?$/, ".salt.json");
  await atomicWrite(flags.out, JSON.stringify(result.attestation, null, 2));
  await writeFile(saltFile, JSON.stringify({ salt: result.salt.toString() }, null, 2), { mode: 0o600 });
  out(`attestation ${flags.out} (uid ${result.attestation.sig.uid}, signer ${result.attestation.signer})`);
  out(`salt        ${saltFile} (hand it to the inference node with the values; keep it private)`);
  return EXIT.ok;
}

/** `verinfer reexecute`: bit-exact re-execution of a receipt from the model, input and salts. */
export async function reexecuteCommand(
  receiptFile: string,
  flags: { model: string; calibration: readonly (readonly number[])[]; input: string; salts: string },
): Promise<number> {
  const receipt = await readJsonFile(receiptFile, "receipt", "MALFORMED_RECEIPT");
  const input = (await readValues(flags.input)).values;
  const salts = (await readJsonFile(flags.salts, "salts file")) as Salts;
  const result = await reexecute(receipt, {
    model: flags.model,
    quantization: { calibration: flags.calibration },
    input,
    salts,
  });
  out(result.valid ? "VALID" : `INVALID: ${result.reason}`);
  return result.valid ? EXIT.ok : EXIT.invalid;
}

/** `verinfer resume-proofs`: proves every persisted deferred proof job of the cache. */
export async function resumeProofsCommand(flags: { cacheDir?: string }): Promise<number> {
  const jobs = await resumePendingProofs(flags.cacheDir ? { cacheDir: flags.cacheDir } : {});
  let failed = 0;
  // Reported as each settles: a job waiting out its backoff does not hold back the lines of the others.
  await Promise.all(
    jobs.map(async (job) => {
      try {
        const receipt = await job.promise;
        out(`proved  ${job.id} (input ${receipt.input.commitment.slice(0, 12)}…)`);
      } catch (error) {
        failed++;
        out(`failed  ${job.id}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      }
    }),
  );
  out(`${jobs.length - failed} of ${jobs.length} pending proof(s) done`);
  return failed === 0 ? EXIT.ok : EXIT.invalid;
}
