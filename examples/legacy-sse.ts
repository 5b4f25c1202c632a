/**
 * A server that also speaks the legacy HTTP+SSE transport (protocol
 * 2024-11-05) for older clients: `GET /sse` opens the event stream, whose
 * `endpoint` event names the URL to POST messages to. Streamable HTTP stays
 * at `/mcp`.
 *
 *   npx tsx examples/legacy-sse.ts             # http://127.0.0.1:3003/sse
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

export const LegacySseServer = Echo.pipe(
  Layer.provideMerge(McpServer.layer({ name: "legacy-example", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/legacy-sse.ts` serves. */
export default LegacySseServer

if (isMain(import.meta.url)) NodeHttp.run(LegacySseServer, { port: 3003, legacySse: true })
