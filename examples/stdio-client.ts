/**
 * A stdio client, as in the Python SDK's README: spawns the echo server, lists
 * its prompts and gets one, lists its resources and reads one, and calls its
 * tool. The era is the client's to settle: 2026-07-28 here.
 *
 *   npx tsx examples/stdio-client.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const main = Effect.gen(function*() {
  const client = yield* NodeStdio.connect({ command: "npx", args: ["tsx", "examples/echo.ts"] })
  yield* Console.log(
    `Connected to ${client.serverInfo.name} ${client.serverInfo.version} over protocol ${client.protocolVersion}`
  )
  const prompts = yield* client.listPrompts
  yield* Console.log("Prompts:", prompts.map((p) => p.name).join(", "))
  const prompt = yield* client.getPrompt("echo_prompt", { message: "hi" })
  yield* Console.log("Prompt:", prompt.messages)
  const templates = yield* client.listResourceTemplates
  yield* Console.log("Resource templates:", templates.map((t) => t.uriTemplate).join(", "))
  const resource = yield* client.readResource("echo://world")
  yield* Console.log("Resource:", resource.contents)
  const tools = yield* client.listTools
  yield* Console.log("Tools:", tools.map((t) => t.name).join(", "))
  const result = yield* client.callTool("echo_tool", { message: "hello" })
  yield* Console.log("Tool result:", result.content)
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
