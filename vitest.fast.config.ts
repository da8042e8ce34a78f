import { defineConfig } from "vitest/config";

/**
 * `npm run test:fast`: the test files that compile no circuit and start no dev setup (no global setup either), for
 * a quick check while working; `npm test` runs every file. A file belongs here only if it stays fast.
 */
export default defineConfig({
  test: {
    include: [
      "test/decimal-string.test.ts",
      "test/eas.test.ts",
      "test/error-codes.test.ts",
      "test/helia-hostile-peer.test.ts",
      "test/host-errors.test.ts",
      "test/proof-system-table.test.ts",
      "test/published-types.test.ts",
      "test/storage.test.ts",
      "test/test-prereqs.test.ts",
    ],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 300_000,
  },
});
