import { defineConfig } from "vitest/config";

/**
 * `npm run test:fast`: the test files that compile no circuit and start no dev setup (no global setup either), for
 * a quick check while working; `npm test` runs every file. A file belongs here only if it stays fast.
 */
export default defineConfig({
  test: {
    include: [
      "test/util/decimal-string.test.ts",
      "test/receipts/eas.test.ts",
      "test/util/error-codes.test.ts",
      "test/storage/helia-hostile-peer.test.ts",
      "test/cli/host-errors.test.ts",
      "test/proof-systems/proof-system-table.test.ts",
      "test/cli/published-types.test.ts",
      "test/storage/storage.test.ts",
      "test/cli/test-prereqs.test.ts",
      "test/attest/js-blake-hash.test.ts",
    ],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 300_000,
  },
});
