// Run before the suite (`npm test`, and vitest's global setup): several test files start their own redis-server.
// Without one, stop at once with one line on how to get it, instead of failing deep inside those tests.
import { spawnSync } from "node:child_process";

const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
if (probe.error || probe.status !== 0) {
  process.stderr.write(
    "npm test needs redis-server on PATH (the queue tests start their own): " +
      "sudo apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)\n",
  );
  process.exit(1);
}
