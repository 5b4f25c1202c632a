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

/**
 * Signing in from a command-line client: the loopback redirect listener
 * that opens the browser.
 *
 * @since 0.2.0
 */
export * as NodeOAuth from "./NodeOAuth.js"
