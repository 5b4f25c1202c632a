/**
 * Echo: the same thing as a tool, a resource template and a prompt.
 *
 *   npx tsx examples/echo.ts
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const EchoTool = McpServer.tool("echo_tool", {
  description: "Echo a message as a tool",
  parameters: { message: Schema.String }
}, ({ message }) => Effect.succeed(`Tool echo: ${message}`))

const EchoResource = McpServer.resource(
  "echo://{message}",
  { description: "Echo a message as a resource" },
  ({ message }) => Effect.succeed(`Resource echo: ${message}`)
)

const EchoPrompt = McpServer.prompt("echo_prompt", {
  description: "Create an echo prompt",
  parameters: { message: Schema.String }
}, ({ message }) => Effect.succeed(`Please process this message: ${message}`))

export const EchoServer = Layer.mergeAll(EchoTool, EchoResource, EchoPrompt).pipe(
  Layer.provideMerge(McpServer.layer({ name: "Echo", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/echo.ts` serves. */
export default EchoServer

if (isMain(import.meta.url)) NodeStdio.run(EchoServer)
