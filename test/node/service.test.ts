import { cp, readFile, rm, stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer, handleShutdownSignals, type InferenceNodeOptions } from "../../examples/inference-node/server.js";
import {
  cidOf,
  createProverPool,
  FsStorage,
  loadModelPackage,
  MemoryStorage,
  type ModelPackage,
  type Receipt,
  type ReceiptMode,
  reexecute,
  verifyReceipt,
} from "../../src/index.js";
import { demoPackage, demoSamples, ROOT, TEST_CACHE, tempDirs } from "../fixtures.js";

const tempDir = tempDirs("verinfer-service-");

/** Directories of the node no error body may name: the cache, the test's temporary folders, home, the repo. */
const PRIVATE_PATHS = [TEST_CACHE, ROOT, os.tmpdir(), os.homedir()];

/** Listens on an ephemeral loopback port; → its base URL. */
async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field in the tests.
  body: any;
}

async function call(url: string, init?: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  // Every error this file provokes is checked: no answer may tell a client where the node keeps its files.
  if (response.status >= 400) {
    for (const dir of PRIVATE_PATHS) expect(text, `${response.status} body names ${dir}`).not.toContain(dir);
  }
  return { status: response.status, headers: response.headers, text, body };
}

/**
 * Starts a `POST /infer` whose body is only half sent, so the request holds its slot from its headers on;
 * `finish()` sends the rest and resolves with the answer; `abort()` hangs up (a server closing waits for it).
 */
function halfSentInfer(base: string, body: string): { finish: () => Promise<Answer>; abort: () => void } {
  const url = new URL(`${base}/infer`);
  const bytes = Buffer.from(body);
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: "POST",
    headers: { "content-type": "application/json", "content-length": bytes.byteLength },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: new Headers(), text, body: JSON.parse(text) });
      });
    });
  });
  req.write(bytes.subarray(0, bytes.byteLength >> 1));
  return {
    finish: () => {
      req.end(bytes.subarray(bytes.byteLength >> 1));
      return answer;
    },
    abort: () => {
      answer.catch(() => undefined);
      req.destroy();
    },
  };
}

/** Polls `/health` until the node holds `n` requests (or gives up after ~5 s); → what it last held. */
async function waitInFlight(base: string, n: number): Promise<number> {
  let inFlight = -1;
  for (let i = 0; i < 500 && inFlight !== n; i++) {
    inFlight = (await call(`${base}/health`)).body.inFlight;
    if (inFlight !== n) await new Promise((r) => setTimeout(r, 10));
  }
  return inFlight;
}

/** The JSON of an input nested `depth` arrays deep around one number (JSON.stringify would overflow its stack). */
function nestedJson(depth: number): string {
  return `${"[".repeat(depth)}0.5${"]".repeat(depth)}`;
}

function postInfer(base: string, body: unknown): Promise<Answer> {
  return call(`${base}/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const inputs = demoSamples.inputs;
const input = (i: number) => inputs[i % inputs.length] as number[];

describe("inference-node service", () => {
  let pkg: ModelPackage;
  /** A node of the demo model that keeps nothing on disk (no salts, no jobs), with `options` on top. */
  const memoryNode = (options: Partial<InferenceNodeOptions> = {}) =>
    buildServer({ models: [pkg], storage: new MemoryStorage(), saltsDir: false, jobsDir: false, ...options });
  let app: FastifyInstance;
  let base: string;
  let saltsDir: string;
  let storage: FsStorage;
  const signer = Wallet.createRandom();

  beforeAll(async () => {
    pkg = await demoPackage();
    storage = new FsStorage(await tempDir());
    saltsDir = await tempDir();
    app = await buildServer({
      cacheDir: TEST_CACHE,
      models: [pkg.id],
      storage,
      signer,
      saltsDir,
      jobsDir: await tempDir(),
      maxInFlight: 64,
      // These tests are about what the node answers, not about its wait budget: on a loaded machine a burst of
      // 20 proofs outlasts the default 30 s (then 202s, and backpressure 429s for the requests after).
      waitMs: 600_000,
    });
    base = await listen(app);
  });

  afterAll(async () => {
    await app.close();
  });

  it("reports its models and load on /health", async () => {
    const { status, body } = await call(`${base}/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ ok: true, inFlight: 0, maxInFlight: 64 });
    expect(body.models).toEqual([
      { id: pkg.id, name: pkg.manifest.name, inputShape: pkg.manifest.architecture.inputShape, setup: "dev" },
    ]);
  });

  it("answers a concurrent burst with receipts that verify and are retrievable by their CID", async () => {
    const modes: ReceiptMode[] = ["zk", "zk", "attest", "none"];
    const requests = Array.from({ length: 20 }, (_, i) => ({ modelId: pkg.id, input: input(i), mode: modes[i % 4] }));
    const answers = await Promise.all(requests.map((r) => postInfer(base, r)));
    expect(answers.map((a) => a.status)).toEqual(requests.map(() => 200));

    for (const [i, { body }] of answers.entries()) {
      const receipt = body.receipt as Receipt;
      const mode = requests[i]?.mode as ReceiptMode;
      expect(receipt.mode).toBe(mode);
      expect(body.cid).toMatch(/^bafkrei[a-z2-7]{52}$/);

      // Retrievable, byte for byte: the body hashes to the CID it was asked for.
      const stored = await call(`${base}/receipts/${body.cid}`);
      expect(stored.status).toBe(200);
      expect(cidOf(new TextEncoder().encode(stored.text))).toBe(body.cid);
      expect(stored.body).toEqual(receipt);
      expect(await storage.has(body.cid)).toBe(true);

      // The node kept the salts, owner-only, under the receipt's CID.
      const saltsFile = path.join(saltsDir, `${body.cid}.json`);
      expect((await stat(saltsFile)).mode & 0o777).toBe(0o600);
      const salts = JSON.parse(await readFile(saltsFile, "utf8"));

      if (mode === "none") {
        const again = await reexecute(stored.body, { modelPackage: pkg, input: input(i), salts });
        expect(again.valid, again.reason).toBe(true);
      } else {
        const result = await verifyReceipt(stored.body, { modelPackage: pkg, trustedSigners: [signer.address] });
        expect(result.valid, result.reason).toBe(true);
      }
    }
    const cids = new Set(answers.map((a) => a.body.cid));
    expect(cids.size).toBe(20);
  });

  it.each([
    ["a body that is not JSON", "{ not json", 400, "INVALID_INPUT"],
    ["an empty object", "{}", 400, "INVALID_INPUT"],
    ["a JSON array", "[1, 2]", 400, "INVALID_INPUT"],
    ["a missing input", { input: undefined }, 400, "INVALID_INPUT"],
    ["an input that is not an array", { input: "0,1,0" }, 400, "INVALID_INPUT"],
    ["an input with a string", { input: [...input(0).slice(1), "0.5"] }, 400, "INVALID_INPUT"],
    ["an input with a null (how JSON sends NaN)", { input: [...input(0).slice(1), null] }, 400, "INVALID_INPUT"],
    ["an input value out of the calibrated range", { input: [...input(0).slice(1), 1e6] }, 400, "INVALID_INPUT"],
    ["a negative input value", { input: [...input(0).slice(1), -3] }, 400, "INVALID_INPUT"],
    ["an input of the wrong length", { input: input(0).slice(1) }, 400, "INVALID_INPUT"],
    ["an unknown mode", { mode: "fast" }, 400, "UNSUPPORTED_MODE"],
    ["a mode of the wrong type", { mode: 1 }, 400, "UNSUPPORTED_MODE"],
    ["an unknown field", { extra: true }, 400, "INVALID_INPUT"],
    ["a malformed model id", { modelId: "demo-glyphs" }, 400, "INVALID_INPUT"],
    ["a model id the node does not serve", { modelId: `0x${"ab".repeat(32)}` }, 404, "ARTIFACT_MISSING"],
    ["an input value of 1e308", { input: [...input(0).slice(1), 1e308] }, 400, "INVALID_INPUT"],
    ["an input value of -1e308", { input: [-1e308, ...input(0).slice(1)] }, 400, "INVALID_INPUT"],
    ["an input of 100,000 values", { input: new Array(100_000).fill(0.5) }, 400, "INVALID_INPUT"],
    [
      "an input of 10 million values (over the body limit)",
      { input: new Array(10_000_000).fill(0) },
      413,
      "INVALID_INPUT",
    ],
  ])("refuses %s", async (_what, patch, status, code) => {
    const body = typeof patch === "string" ? patch : { modelId: pkg.id, input: input(0), mode: "zk", ...patch };
    const answer = await postInfer(base, body);
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ code });
    expect(typeof answer.body.message).toBe("string");
  });

  it("refuses an input nested 20,000 arrays deep with a 400, not a 500", async () => {
    for (const json of [nestedJson(20_000), `[${nestedJson(20_000)}, ${input(0).slice(1).join(", ")}]`]) {
      const answer = await postInfer(base, `{ "modelId": "${pkg.id}", "input": ${json} }`);
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe("INVALID_INPUT");
    }
  });

  it("names the index of a hostile input value in its 400", async () => {
    for (const [i, v] of [
      [15, 1e308],
      [0, -1e308],
      [7, Number.MAX_VALUE],
    ] as const) {
      const values = input(0).map((x, k) => (k === i ? v : x));
      const answer = await postInfer(base, { modelId: pkg.id, input: values, mode: "zk" });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: "INVALID_INPUT", index: i });
    }
  });

  it("refuses 10 million values with INVALID_INPUT, not a 500, when its body limit lets them in", async () => {
    const roomy = await memoryNode({ bodyLimit: 64 << 20 });
    const url = await listen(roomy);
    try {
      const answer = await postInfer(url, { modelId: pkg.id, input: new Array(10_000_000).fill(0), mode: "zk" });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe("INVALID_INPUT");
    } finally {
      await roomy.close();
    }
  });

  it("refuses a body of a content type it does not parse", async () => {
    const answer = await call(`${base}/infer`, {
      method: "POST",
      headers: { "content-type": "application/xml" },
      body: "x",
    });
    expect(answer.status).toBe(415);
    expect(answer.body.code).toBe("INVALID_INPUT");
  });

  it("answers 400 for a malformed CID and 404 for an unknown one", async () => {
    for (const bad of ["not-a-cid", "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5", "bafkrei"]) {
      const answer = await call(`${base}/receipts/${bad}`);
      expect(answer.status, bad).toBe(400);
      expect(answer.body.code).toBe("INVALID_INPUT");
    }
    const unknown = await call(`${base}/receipts/${cidOf(new TextEncoder().encode("nothing"))}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("ARTIFACT_MISSING");
    const route = await call(`${base}/nowhere`);
    expect(route.status).toBe(404);
  });

  it("answers 404 for an unknown receipt without naming where it keeps its receipts", async () => {
    const unknown = await call(`${base}/receipts/${cidOf(new TextEncoder().encode("nothing at all"))}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("ARTIFACT_MISSING");
    expect(unknown.text).not.toContain(storage.dir);
  });

  it("serves only receipts: a model artifact or other object's CID is 404 NOT_FOUND, and not read", async () => {
    // Issue 19, finding 6: it used to read and hash whole model artifacts for anyone, and answer 500.
    const zkey = await storage.put(await pkg.artifact("zkey"));
    const other = await storage.put(new TextEncoder().encode(JSON.stringify({ not: "a receipt" })));
    for (const cid of [zkey, other]) {
      const answer = await call(`${base}/receipts/${cid}`);
      expect(answer.status, cid).toBe(404);
      expect(answer.body.code).toBe("NOT_FOUND");
    }
  });

  it("holds each client to its write quota (an API-key hook names the client), with 429 and Retry-After", async () => {
    const quoted = await buildServer({
      models: [pkg],
      storage: new MemoryStorage(),
      saltsDir: false,
      clientQuota: { requests: 2, windowMs: 60_000 },
      identifyClient: (request) => String(request.headers["x-api-key"] ?? request.ip),
    });
    const url = await listen(quoted);
    try {
      const post = (key: string) =>
        call(`${url}/infer`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": key },
          body: JSON.stringify({ modelId: pkg.id, input: input(0), mode: "none" }),
        });
      expect((await post("alice")).status).toBe(200);
      expect((await post("alice")).status).toBe(200);
      const third = await post("alice");
      expect(third.status).toBe(429);
      expect(third.body.code).toBe("OVERLOADED");
      expect(third.headers.get("retry-after")).toBeTruthy();
      expect((await post("bob")).status).toBe(200);
    } finally {
      await quoted.close();
    }
  });

  it("answers 500 INTERNAL, naming no path, when a model it serves has lost its proving key", async () => {
    const cacheDir = await tempDir();
    for (const sub of ["objects", "models"]) {
      await cp(path.join(TEST_CACHE, sub), path.join(cacheDir, sub), { recursive: true });
    }
    const copy = await loadModelPackage(pkg.id, { cacheDir });
    const broken = await buildServer({
      cacheDir,
      models: [copy],
      storage: new MemoryStorage(),
      saltsDir: false,
      jobsDir: false,
    });
    const url = await listen(broken);
    try {
      await rm(copy.store.pathOf(copy.manifest.artifacts.zkey.sha256));
      const answer = await postInfer(url, { modelId: pkg.id, input: input(0), mode: "zk" });
      // The node's own fault: neither the client's 404 nor a message that names its cache.
      expect(answer.status).toBe(500);
      expect(answer.body.code).toBe("INTERNAL");
      expect(answer.text).not.toContain(cacheDir);
    } finally {
      await broken.close();
    }
  });

  it("refuses attest requests when it has no signing key", async () => {
    const unsigned = await memoryNode();
    const url = await listen(unsigned);
    try {
      const answer = await postInfer(url, { modelId: pkg.id, input: input(0), mode: "attest" });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe("UNSUPPORTED_MODE");
    } finally {
      await unsigned.close();
    }
  });

  it("answers 429 with Retry-After beyond its capacity, and loses no request", async () => {
    const small = await memoryNode({
      maxInFlight: 1,
      retryAfterSeconds: 2,
      waitMs: 600_000,
    });
    const url = await listen(small);
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => postInfer(url, { modelId: pkg.id, input: input(i), mode: "zk" })),
      );
      const ok = answers.filter((a) => a.status === 200);
      const refused = answers.filter((a) => a.status === 429);
      expect(ok.length + refused.length).toBe(6);
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const a of refused) {
        expect(a.body.code).toBe("OVERLOADED");
        expect(a.headers.get("retry-after")).toBe("2");
      }
      for (const a of ok) expect((await verifyReceipt(a.body.receipt, { modelPackage: pkg })).valid).toBe(true);
    } finally {
      await small.close();
    }
  });

  it("refuses a request with 429 when full before reading its body: malformed, oversized or hostile", async () => {
    const small = await memoryNode({ maxInFlight: 1 });
    const url = await listen(small);
    // One request whose body is still on its way holds the only slot.
    const first = halfSentInfer(url, JSON.stringify({ modelId: pkg.id, input: input(0), mode: "none" }));
    try {
      expect(await waitInFlight(url, 1)).toBe(1);
      // Each of these would be a 400 or a 413 had its body been read: a full node answers 429 to all.
      for (const body of [
        "{ not json",
        `{ "modelId": "${pkg.id}", "input": ${nestedJson(20_000)} }`,
        JSON.stringify({ modelId: pkg.id, input: [...input(0).slice(1), 1e308] }),
        JSON.stringify({ modelId: pkg.id, input: new Array(1_000_000).fill(0.5) }),
      ]) {
        const answer = await postInfer(url, body);
        expect(answer.status).toBe(429);
        expect(answer.body.code).toBe("OVERLOADED");
        expect(answer.headers.get("retry-after")).toBe("1");
      }
      const answer = await first.finish();
      expect(answer.status).toBe(200);
      expect(await waitInFlight(url, 0)).toBe(0);
      // With its slot free again, the node reads bodies and refuses the malformed one for what it is.
      expect((await postInfer(url, "{ not json")).status).toBe(400);
    } finally {
      first.abort();
      await small.close();
    }
  });

  it("frees the slot of a client that hangs up mid-body", async () => {
    const small = await memoryNode({ maxInFlight: 1 });
    const url = await listen(small);
    const hangUp = halfSentInfer(url, JSON.stringify({ modelId: pkg.id, input: input(1), mode: "none" }));
    try {
      expect(await waitInFlight(url, 1)).toBe(1);
      hangUp.abort();
      expect(await waitInFlight(url, 0)).toBe(0);
      const answer = await postInfer(url, { modelId: pkg.id, input: input(1), mode: "none" });
      expect(answer.status).toBe(200);
    } finally {
      hangUp.abort();
      await small.close();
    }
  });

  it("proves on a prover pool, and answers 429 when the pool is full", async () => {
    const pool = createProverPool({ workers: 1, maxQueue: 1, jobTimeoutMs: 60_000 });
    // Admission beyond the pool's capacity, so the pool itself refuses jobs.
    const pooled = await memoryNode({
      pool,
      maxInFlight: 50,
      waitMs: 600_000,
    });
    const url = await listen(pooled);
    try {
      const health = await call(`${url}/health`);
      expect(health.body.pool).toMatchObject({ workers: 1, maxQueue: 1 });
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => postInfer(url, { modelId: pkg.id, input: input(i), mode: "zk" })),
      );
      const statuses = answers.map((a) => a.status);
      expect(
        statuses.every((s) => s === 200 || s === 429),
        statuses.join(),
      ).toBe(true);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      expect(statuses).toContain(429);
      for (const a of answers) {
        if (a.status === 429) {
          expect(a.body.code).toBe("OVERLOADED");
          expect(a.headers.get("retry-after")).toBe("1");
        } else {
          expect(a.body.receipt.timings.proveQueueMs).toBeGreaterThanOrEqual(0);
          const result = await verifyReceipt(a.body.receipt, { modelPackage: pkg });
          expect(result.valid, result.reason).toBe(true);
        }
      }
    } finally {
      await pooled.close();
      await pool.close();
    }
  });

  it("finishes the requests in flight when told to shut down, then stops accepting", async () => {
    const pool = createProverPool({ workers: 1, maxQueue: 4, jobTimeoutMs: 60_000 });
    const closing = await memoryNode({
      pool,
      waitMs: 600_000,
    });
    const url = await listen(closing);
    // A signal nothing else in this process listens to: emitting SIGTERM here would reach vitest's own handlers.
    expect(process.listenerCount("SIGUSR2")).toBe(0);
    let exitCode: number | undefined;
    let removeHandlers = () => {};
    const exited = new Promise<void>((resolve) => {
      removeHandlers = handleShutdownSignals(closing, {
        pool,
        signals: ["SIGUSR2"],
        exit: (code) => {
          exitCode = code;
          resolve();
        },
      });
    });
    const inFlight = Promise.all(
      [0, 1, 2].map((i) => postInfer(url, { modelId: pkg.id, input: input(i), mode: "zk" })),
    );
    // Wait until the node holds the requests, then signal.
    let held = 0;
    for (let i = 0; i < 500 && held < 3; i++) {
      held = (await call(`${url}/health`)).body.inFlight;
      if (held < 3) await new Promise((r) => setTimeout(r, 10));
    }
    expect(held).toBe(3);
    process.emit("SIGUSR2", "SIGUSR2");
    const answers = await inFlight;
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    for (const a of answers) expect((await verifyReceipt(a.body.receipt, { modelPackage: pkg })).valid).toBe(true);
    await exited;
    expect(exitCode).toBe(0);
    expect(pool.closed).toBe(true);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(process.listenerCount("SIGUSR2")).toBe(1);
    removeHandlers();
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });
});
