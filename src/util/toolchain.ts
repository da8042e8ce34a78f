import { createRequire } from "node:module";
import path from "node:path";
import { packageRoot } from "./package-root.js";

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Versions of the tools that shape a model package; recorded in manifests and part of the cache key. */
export function toolchainVersions(): Record<string, string> {
  return {
    verinfer: (require(path.join(packageRoot(), "package.json")) as { version: string }).version,
    circom2: versionOf("circom2"),
    circomlib: versionOf("circomlib"),
    circomlibjs: versionOf("circomlibjs"),
    snarkjs: versionOf("snarkjs"),
  };
}
