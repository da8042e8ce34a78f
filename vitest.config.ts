import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // snarkjs keeps worker threads of its own; separate processes keep files from sharing curve state.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    globalSetup: ["test/global-setup.ts"],
  },
});
