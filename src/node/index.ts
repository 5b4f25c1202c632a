/**
 * mcp-effect/node: Node specifics on `@effect/platform-node`.
 *
 * @since 0.1.0
 */
export * as NodeHttp from "./NodeHttp.js"
export * as NodeStdio from "./NodeStdio.js"
