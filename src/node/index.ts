/**
 * mcp-effect/node: Node specifics on `@effect/platform-node`.
 *
 * @since 0.1.0
 */
export * as NodeHttp from "./NodeHttp.js"

/**
 * MCP over stdio on Node: a server on the process's stdin and stdout, and the
 * client side, which spawns a server process.
 *
 * @since 0.1.0
 */
export * as NodeStdio from "./NodeStdio.js"
