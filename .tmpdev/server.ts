/**
 * Quick start: a tool and a resource template, served over stdio.
 *
 *   npx tsx examples/quickstart.ts
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "../examples/internal/isMain.js"

// Add an addition tool
const Add = McpServer.tool("add", {
  description: "Add 2 numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
}, ({ a, b }) => Effect.succeed(a + b))

// Add a dynamic greeting resource
const Greeting = McpServer.resource(
  "greeting://{name}",
  { description: "Get a personalized greeting" },
  ({ name }) => Effect.succeed(`Hello, ${name}!`)
)

export const QuickstartServer = Layer.mergeAll(Add, Greeting).pipe(
  Layer.provideMerge(McpServer.layer({ name: "Demo", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/quickstart.ts` serves. */
export default QuickstartServer

if (isMain(import.meta.url)) NodeStdio.run(QuickstartServer)
