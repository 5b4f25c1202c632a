import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// Suites too slow for `npm test` (they download the MCP Inspector through npx); `.ci/run` runs them after it.
export default defineConfig({
  ...(base.resolve === undefined ? {} : { resolve: base.resolve }),
  test: {
    include: ["test/slow/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000
  }
})
