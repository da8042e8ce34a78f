/**
 * Keeps blake-hash's native addon out of verinfer's processes and threads. poseidon.ts, the only module that loads
 * circomlibjs (and through it blake-hash), calls {@link useJsBlakeHash} before it imports circomlibjs.
 *
 * @module
 */
import Module, { createRequire } from "node:module";

/**
 * Installs blake-hash's own pure-JavaScript implementation (`blake-hash/js`, the one it falls back to when it
 * finds no addon) as the `blake-hash` that circomlibjs loads, in the calling thread. Takes effect only before
 * circomlibjs is first imported in the thread; afterwards it changes nothing.
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
  if (fromCircomlib.cache[id]) return;
  const entry = new Module(id);
  entry.filename = id;
  entry.exports = fromCircomlib("blake-hash/js");
  entry.loaded = true;
  fromCircomlib.cache[id] = entry;
}
