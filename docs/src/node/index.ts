// The `mcp-effect/node` counterpart of docs/src/index.ts (see there).
export * from "../../../src/node/index.js"
