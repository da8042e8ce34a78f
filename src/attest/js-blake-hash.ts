/**
 * Keeps blake-hash's native addon out of verinfer's processes and threads: importing this module runs
 * {@link useJsBlakeHash}. poseidon.ts, the only module that imports circomlibjs (which loads blake-hash), imports
 * it first; ES modules run in import order, so it runs before blake-hash would in every thread.
 *
 * @module
 */
import Module, { createRequire } from "node:module";
import { isMainThread } from "node:worker_threads";

/** `code` of the process warning emitted when blake-hash's addon was already loaded in a worker thread. */
export const BLAKE_HASH_ADDON_WARNING = "VERINFER_BLAKE_HASH_ADDON";

/**
 * Installs blake-hash's own pure-JavaScript implementation (`blake-hash/js`, the one it falls back to when it
 * finds no addon) as the `blake-hash` that circomlibjs loads, in the calling thread. Takes effect only before
 * blake-hash has run in the thread; afterwards it changes nothing.
 *
 * Why: circomlibjs loads blake-hash (for its EdDSA; verinfer hashes with Poseidon only), and blake-hash 2.0.0 then
 * loads its prebuilt native addon. That addon keeps each class's constructor in a process-wide C++ static
 * (`static Napi::FunctionReference constructor`), overwritten by every thread that loads it. Once a worker thread
 * that loaded it has ended, the next thread to load it deletes the ended thread's reference: freed memory is
 * written, and the process aborts a few collections later ("corrupted size vs. prev_size", SIGABRT) — a prover
 * pool, whose workers end and are replaced, took its whole process down this way. The JavaScript implementation
 * gives the same digests (test/attest/js-blake-hash.test.ts) and holds no per-process state.
 */
export function useJsBlakeHash(): void {
  const fromVerinfer = createRequire(import.meta.url);
  // Resolved the way circomlibjs resolves it, from circomlibjs's own folder.
  const fromCircomlib = createRequire(fromVerinfer.resolve("circomlibjs"));
  const id = fromCircomlib.resolve("blake-hash");
  const cached = fromCircomlib.cache[id];
  const js: unknown = fromCircomlib("blake-hash/js");
  if (cached?.loaded) {
    // Too late: something in this thread loaded circomlibjs before verinfer. Harmless on the main thread (the bug
    // needs a thread that ends); in a worker thread, said once, so that a process that then aborts is explained.
    if (cached.exports !== js && !isMainThread) {
      process.emitWarning(
        "circomlibjs was loaded in this worker thread before verinfer, with blake-hash's native addon: a process whose worker threads load that addon and end can abort with heap corruption. Import verinfer before circomlibjs in worker threads.",
        { code: BLAKE_HASH_ADDON_WARNING },
      );
    }
    return;
  }
  if (cached) {
    // Node's ES module loader enters a CommonJS module in the cache when it links the graph that imports it, and
    // runs it later only if nothing has loaded it by then: filled in here, blake-hash's index.js never runs.
    cached.exports = js;
    cached.loaded = true;
    return;
  }
  const entry = new Module(id);
  entry.filename = id;
  entry.exports = js;
  entry.loaded = true;
  fromCircomlib.cache[id] = entry;
}

useJsBlakeHash();
