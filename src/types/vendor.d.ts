// Minimal typings for untyped dependencies, covering only what verinfer calls.
declare module "circomlibjs" {
  export interface PoseidonField {
    toObject(a: Uint8Array): bigint;
    e(a: bigint | number | string): Uint8Array;
  }
  export interface Poseidon {
    (inputs: Array<bigint | Uint8Array>): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}

declare module "snarkjs" {
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  type FileLike = string | Uint8Array | { type: "mem"; data?: Uint8Array };
  type Logger = {
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  };
  export const groth16: {
    prove(
      zkey: FileLike,
      wtns: FileLike,
      logger?: Logger,
      options?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(
      input: Record<string, unknown>,
      wasm: FileLike,
      zkey: FileLike,
      logger?: Logger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vkey: unknown, publicSignals: string[], proof: unknown, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: unknown, publicSignals: string[]): Promise<string>;
  };
  /** snarkjs's PLONK and FFLONK proofs, as `proof.json` holds them (see verinfer's receipt schemas). */
  export type UniversalProof = Record<string, unknown> & { protocol: string; curve: string };
  interface UniversalProtocol {
    setup(r1cs: FileLike, ptau: FileLike, zkey: FileLike, logger?: Logger): Promise<unknown>;
    prove(
      zkey: FileLike,
      wtns: FileLike,
      logger?: Logger,
      options?: { singleThread?: boolean },
    ): Promise<{ proof: UniversalProof; publicSignals: string[] }>;
    verify(vkey: unknown, publicSignals: string[], proof: unknown, logger?: Logger): Promise<boolean>;
  }
  export const plonk: UniversalProtocol & {
    exportSolidityCallData(proof: unknown, publicSignals: string[]): Promise<string>;
  };
  export const fflonk: UniversalProtocol & {
    /** Note the argument order: public signals first. */
    exportSolidityCallData(publicSignals: string[], proof: unknown): Promise<string>;
    exportSolidityVerifier(vkey: unknown, templates: Record<string, string>, logger?: Logger): Promise<string>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: FileLike, wtns: FileLike): Promise<void>;
    exportJson(wtns: FileLike): Promise<bigint[]>;
    check(r1cs: FileLike, wtns: FileLike, logger?: Logger): Promise<boolean>;
  };
  export const zKey: {
    newZKey(r1cs: FileLike, ptau: FileLike, zkey: FileLike, logger?: Logger): Promise<unknown>;
    /** Resolves to the contribution hash (BLAKE2b-512 of the contribution's public key). */
    contribute(
      zkeyOld: FileLike,
      zkeyNew: FileLike,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    verifyFromR1cs(r1cs: FileLike, ptau: FileLike, zkey: FileLike, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: FileLike, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: FileLike, templates: unknown, logger?: Logger): Promise<string>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: FileLike, logger?: Logger): Promise<unknown>;
    contribute(oldFile: FileLike, newFile: FileLike, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldFile: FileLike, newFile: FileLike, logger?: Logger): Promise<unknown>;
  };
  export const r1cs: {
    info(
      r1cs: FileLike,
      logger?: Logger,
    ): Promise<{
      nConstraints: number;
      nVars: number;
      nOutputs: number;
      nPubInputs: number;
      nPrvInputs: number;
    }>;
  };
  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<{ terminate(): Promise<void> }>;
  };
}

declare module "circom_runtime" {
  export function WitnessCalculatorBuilder(code: Uint8Array, options?: Record<string, unknown>): Promise<unknown>;
}

declare module "ejs" {
  const ejs: { render(template: string, data: Record<string, unknown>): string };
  export default ejs;
}

declare module "ffjavascript" {
  /**
   * Builds ffjavascript's bn128 curve; `plugins` receives wasmbuilder's ModuleBuilder after the curve's own
   * functions and before the wasm is built. Threaded curves are cached on `globalThis.curve_bn128`.
   */
  export function buildBn128(singleThread?: boolean, plugins?: (module: unknown) => void): Promise<unknown>;
}
