import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// The repository runs on its TypeScript sources: "mcp-effect" resolves to src/ here, as tsconfig.json's `paths` make it
// for tsc, tsx and esbuild (the package's own exports point at the build in dist/).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^mcp-effect\/cluster$/, replacement: fileURLToPath(new URL("./src/cluster/index.ts", import.meta.url)) },
      { find: /^mcp-effect\/node$/, replacement: fileURLToPath(new URL("./src/node/index.ts", import.meta.url)) },
      { find: /^mcp-effect$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/slow/**", "**/node_modules/**"],
    globalSetup: ["test/globalSetup.ts"],
    // Two test files at a time (vitest's default on two cores is one): much of the suite waits on child processes.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})
