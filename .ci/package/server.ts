// A user's server, compiled against the packed package with plain tsc and run with plain node by .ci/package-check.sh.
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"

const Add = McpServer.tool("add", {
  description: "Add two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
}, ({ a, b }) => Effect.succeed(a + b))

Add.pipe(Layer.provideMerge(McpServer.layer({ name: "Consumer", version: "1.0.0" })), NodeStdio.run)
