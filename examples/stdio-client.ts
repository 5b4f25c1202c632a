/**
 * A stdio client: spawns the echo server and calls its tool, resource and
 * prompt.
 *
 *   npx tsx examples/stdio-client.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const main = Effect.gen(function*() {
  const client = yield* NodeStdio.connect({ command: "npx", args: ["tsx", "examples/echo.ts"] })
  yield* Console.log(`Connected to ${client.serverInfo.name} ${client.serverInfo.version}`)
  const tools = yield* client.listTools
  yield* Console.log("Tools:", tools.map((t) => t.name).join(", "))
  const result = yield* client.callTool("echo_tool", { message: "hello" })
  yield* Console.log("Tool result:", result.content)
  const resource = yield* client.readResource("echo://world")
  yield* Console.log("Resource:", resource.contents)
  const prompt = yield* client.getPrompt("echo_prompt", { message: "hi" })
  yield* Console.log("Prompt:", prompt.messages)
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
