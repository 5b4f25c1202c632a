/** The benchmark's mcp-effect server: one `echo` tool over stdio. */
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { BenchTelemetry } from "./telemetry.js"

const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

Echo.pipe(
  Layer.provideMerge(McpServer.layer({ name: "bench-effect", version: "1.0.0" })),
  Layer.provide(BenchTelemetry),
  NodeStdio.run
)
