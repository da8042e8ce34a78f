/**
 * A client's side of a `202 Accepted` answer: poll the job's `statusUrl` until its receipt is there.
 *
 * @module
 */
import type { Receipt } from "../../src/index.js";

/**
 * Polls `GET /jobs/:id` (every 250 ms) until the job is no longer pending, or until `deadline` aborts.
 *
 * @returns the job's receipt and its CID, or `why` not (the job's answer, cut to 200 characters, or "deadline").
 * @example
 * ```ts
 * const { receipt, why } = await collectJob(`${base}/jobs/${jobId}`, AbortSignal.timeout(60_000));
 * ```
 */
export async function collectJob(
  url: string,
  deadline: AbortSignal,
): Promise<{ cid?: string; receipt?: Receipt; why?: string }> {
  while (!deadline.aborted) {
    const body = (await (await fetch(url)).json()) as { status?: string; cid?: string; receipt?: Receipt };
    if (body.status === "done" && body.cid && body.receipt) return { cid: body.cid, receipt: body.receipt };
    if (body.status !== "pending") return { why: JSON.stringify(body).slice(0, 200) };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { why: "deadline" };
}
