/**
 * A stateless Streamable HTTP server: no sessions, every POST served on a
 * fresh context (so any replica behind a load balancer can answer it). GET
 * and DELETE answer 405, and requests to the client fail fast.
 *
 *   npx tsx examples/http-stateless.ts --port 3001
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const Convert = McpServer.tool("celsius_to_fahrenheit", {
  description: "Convert a temperature",
  parameters: { celsius: Schema.Number },
  success: Schema.Struct({ fahrenheit: Schema.Number })
}, ({ celsius }) => Effect.succeed({ fahrenheit: celsius * 9 / 5 + 32 }))

export const StatelessServer = Convert.pipe(
  Layer.provideMerge(McpServer.layer({ name: "stateless-example", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/http-stateless.ts` serves. */
export default StatelessServer

if (isMain(import.meta.url)) {
  const port = process.argv.includes("--port") ? Number(process.argv[process.argv.indexOf("--port") + 1]) : 3001
  NodeHttp.run(StatelessServer, { port, stateless: true })
}
