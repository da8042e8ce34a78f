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
    // Measured only with --coverage (as `npm test` runs it), so a single file run by hand is not held to the
    // whole suite's thresholds. Counts code the test processes run from src/; code run in child processes (the
    // CLI from dist/, the example nodes, prover processes) is not counted, so the figure is a lower bound.
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/types/**", "**/*.d.ts"],
      reporter: ["text-summary", "json-summary"],
      reportsDirectory: "coverage",
      // Set under what a subset reaches (the fast tier + pipeline, tampering and cid-storage tests: 28.47 % statements,
      // 22.77 % branches, 34.16 % functions, 29.83 % lines), so they hold for the whole suite, which runs that subset
      // and more; raise them to just under the whole suite's figure.
      thresholds: { statements: 27, branches: 21, functions: 32, lines: 28 },
    },
  },
});
