import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as snarkjs from "snarkjs";

/** A point or field element as ffjavascript holds it: Montgomery form, little-endian bytes. */
export type Elem = Uint8Array;

/** The parts of ffjavascript's wasm field verinfer calls. */
export interface WasmField {
  n8: number;
  one: Elem;
  zero: Elem;
  /** `w[k]`: the primitive 2^k-th root of unity ffjavascript's FFTs use. */
  w: Elem[];
  e(a: number | bigint): Elem;
  add(a: Elem, b: Elem): Elem;
  sub(a: Elem, b: Elem): Elem;
  mul(a: Elem, b: Elem): Elem;
  inv(a: Elem): Elem;
  exp(a: Elem, e: number | bigint): Elem;
  eq(a: Elem, b: Elem): boolean;
  isZero(a: Elem): boolean;
  fromRprLE(buff: Uint8Array, offset?: number): Elem;
  toObject(a: Elem): bigint;
}

/** The parts of ffjavascript's wasm curve group verinfer calls. */
export interface WasmGroup {
  g: Elem;
  F: { n8: number };
  timesFr(p: Elem, s: Elem): Elem;
  toAffine(p: Elem): Elem;
  toRprLEM(buff: Uint8Array, offset: number, p: Elem): void;
  toRprUncompressed(buff: Uint8Array, offset: number, p: Elem): void;
  eq(a: Elem, b: Elem): boolean;
}

/** A single-threaded bn128 curve of snarkjs's own ffjavascript, with its wasm module. */
export interface WasmCurve {
  Fr: WasmField;
  F1: { n8: number };
  q: bigint;
  G1: WasmGroup;
  G2: WasmGroup;
  tm: {
    code: Uint8Array;
    memory: { buffer: ArrayBuffer };
    u32: Uint32Array;
    pG1gen: number;
    pG2gen: number;
  };
}

/** A blake2b hasher from the `@noble/hashes` copy snarkjs uses (snarkjs stores its internal state). */
export interface NobleHasher {
  update(data: Uint8Array): NobleHasher;
  digest(): Uint8Array;
}

/** Functions of snarkjs 0.7's own sources the ptau writer reuses, so its records match snarkjs's byte for byte. */
export interface SnarkjsInternals {
  blake2b: { create(opts: { dkLen: number }): NobleHasher };
  /** misc.toPartialHash: the 216-byte blake2b state a ptau contribution record stores. */
  toPartialHash(hasher: NobleHasher): Uint8Array;
  /** keypair.getG2sp: the G2 point a proof of knowledge is checked against. */
  getG2sp(curve: WasmCurve, personalization: number, challenge: Uint8Array, g1s: Elem, g1sx: Elem): Elem;
  /** keypair.hashToG2: the G2 point a zkey contribution's proof of knowledge is checked against. */
  hashToG2(curve: WasmCurve, transcript: Uint8Array): Elem;
  /** powersoftau_utils.toPtauPubKeyRpr: a contribution's public key (montgomery: LEM, else uncompressed). */
  toPtauPubKeyRpr(buff: Uint8Array, pos: number, curve: WasmCurve, key: unknown, montgomery: boolean): Uint8Array;
}

let cached: Promise<SnarkjsInternals> | undefined;

/**
 * Loads snarkjs's contribution-record helpers from the installed snarkjs package (by file path: its `exports`
 * only names the entry point), and `@noble/hashes` and the curve as snarkjs resolves them. The versions are the
 * ones `snarkjs powersoftau verify` will read our file with.
 */
export function snarkjsInternals(): Promise<SnarkjsInternals> {
  cached ??= (async () => {
    const main = createRequire(import.meta.url).resolve("snarkjs");
    const root = path.resolve(path.dirname(main), "..");
    const fromSnarkjs = createRequire(path.join(root, "main.js"));
    const load = (rel: string) => import(pathToFileURL(path.join(root, rel)).href);
    const [misc, keypair, utils] = await Promise.all([
      load("src/misc.js"),
      load("src/keypair.js"),
      load("src/powersoftau_utils.js"),
    ]);
    const noble = fromSnarkjs("@noble/hashes/blake2b") as SnarkjsInternals["blake2b"] extends infer B
      ? { blake2b: B }
      : never;
    return {
      blake2b: noble.blake2b,
      toPartialHash: misc.toPartialHash,
      getG2sp: keypair.getG2sp,
      hashToG2: keypair.hashToG2,
      toPtauPubKeyRpr: utils.toPtauPubKeyRpr,
    };
  })();
  return cached;
}

/**
 * A fresh single-threaded bn128 curve (its own wasm memory, no worker threads), so that the field temporaries
 * a dev setup leaves in it go away with it rather than living on in snarkjs's shared curve.
 */
export async function freshCurve(): Promise<WasmCurve> {
  return (await snarkjs.curves.getCurveFromName("bn128", { singleThread: true })) as unknown as WasmCurve;
}
