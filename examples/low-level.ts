/**
 * A low-level server: no registry, just the JSON-RPC peer and a hand-written
 * router, for full control over every method (like the Python SDK's
 * low-level `Server`).
 *
 *   npx tsx examples/low-level.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { McpError, McpSchema, Peer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

export const tools: ReadonlyArray<McpSchema.ToolDefinition> = [{
  name: "query_db",
  description: "Query the database",
  inputSchema: { type: "object", properties: { query: { type: "string" } }, required: ["query"] }
}]

const router = (request: Peer.IncomingRequest) => {
  switch (request.method) {
    case "initialize": {
      const asked = request.params?.protocolVersion
      return Effect.succeed({
        // Echo the client's version when we speak it, else offer our latest.
        protocolVersion: typeof asked === "string" && McpSchema.SUPPORTED_PROTOCOL_VERSIONS.includes(asked)
          ? asked
          : McpSchema.LATEST_PROTOCOL_VERSION,
        capabilities: { tools: {} },
        serverInfo: { name: "low-level", version: "1.0.0" }
      })
    }
    case "ping":
      return Effect.succeed({})
    case "tools/list":
      return Effect.succeed({ tools })
    case "tools/call": {
      const query = (request.params?.arguments as { query?: unknown } | undefined)?.query
      return typeof query === "string"
        ? Effect.succeed({ content: [{ type: "text", text: `Query results for: ${query}` }] })
        : McpError.McpError.invalidParams("query must be a string")
    }
    default:
      return undefined
  }
}

const main = Effect.gen(function*() {
  const peer = yield* Peer.make(NodeStdio.makeTransport(), { onRequest: router })
  yield* peer.run
}).pipe(Effect.scoped, Effect.provide(NodeStdio.layerStderrLogger))

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
