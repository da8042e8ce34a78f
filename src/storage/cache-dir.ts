import os from "node:os";
import path from "node:path";

/**
 * The cache directory: the `cacheDir` option, else `VERINFER_CACHE`, else `~/.cache/verinfer`.
 *
 * @example
 * ```ts
 * resolveCacheDir(); // "/home/me/.cache/verinfer"
 * ```
 */
export function resolveCacheDir(cacheDir?: string): string {
  return path.resolve(
    cacheDir ?? (process.env.VERINFER_CACHE || undefined) ?? path.join(os.homedir(), ".cache", "verinfer"),
  );
}
