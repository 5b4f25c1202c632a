// @effect/docgen 0.5.2 rewrites the `mcp-effect` imports of the JSDoc examples it type-checks and runs to
// `../../src`, assuming its outDir is one level deep; with docs/api it writes them to docs/api/examples, where that
// path is docs/src. This forwards it to the sources.
export * from "../../src/index.js"
