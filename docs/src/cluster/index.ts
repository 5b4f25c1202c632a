// The `mcp-effect/cluster` counterpart of docs/src/index.ts (see there).
export * from "../../../src/cluster/index.js"
