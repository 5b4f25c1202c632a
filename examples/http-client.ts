/**
 * A Streamable HTTP client: connects to a server (2026-07-28 if it speaks it,
 * else the handshake era, else legacy HTTP+SSE), answers its questions with
 * handlers of its own, and lists and calls what it offers. Its elicitation
 * handler answers for the user each call is made for (a service the call
 * provides): two calls at once, each question answered for its own user.
 *
 *   npx tsx examples/everything-server.ts --port 3000 &
 *   npx tsx examples/http-client.ts http://127.0.0.1:3000/mcp
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Context, Effect, Option } from "effect"
import { McpClient } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

/** The user a call is made for: the server's questions during that call are answered for them. */
class User extends Context.Tag("example/User")<User, string>() {}

const main = Effect.gen(function*() {
  const url = process.argv[2] ?? "http://127.0.0.1:3000/mcp"
  // On node:http (StreamableHttpClient.connect is the same on fetch, or on the HttpClient in context).
  const client = yield* NodeHttp.connect(url, { clientInfo: { name: "http-client", version: "1.0.0" } })
  yield* Console.log(`Connected to ${client.serverInfo.name} over protocol ${client.protocolVersion}`)

  const prompts = yield* client.listPrompts
  yield* Console.log("Prompts:", prompts.map((p) => p.name).join(", "))
  const resources = yield* client.listResources
  yield* Console.log("Resources:", resources.map((r) => r.uri).join(", "))
  const tools = yield* client.listTools
  yield* Console.log("Tools:", tools.map((t) => t.name).join(", "))

  if (tools.some((t) => t.name === "test_tool_with_progress")) {
    const result = yield* client.callTool("test_tool_with_progress", {}, {
      onProgress: (p) => Effect.runSync(Console.log(`progress ${p.progress}/${p.total ?? "?"}`)),
      resetTimeoutOnProgress: true
    })
    yield* Console.log("Result:", result.content)
  }
  if (tools.some((t) => t.name === "test_elicitation")) {
    // The server asks; the Elicitation handler below answers (live, or in a 2026-07-28 round), for the call's user.
    const elicited = yield* Effect.forEach(
      ["ada", "grace"],
      (user) => client.callTool("test_elicitation", { message: "Your name?" }).pipe(Effect.provideService(User, user)),
      { concurrency: "unbounded" }
    )
    for (const result of elicited) yield* Console.log("Elicited:", result.content)
  }
}).pipe(
  Effect.provideService(McpClient.Elicitation, {
    elicit: (params) =>
      Effect.gen(function*() {
        // The services of the call the question belongs to (over stdio, in the handshake era, none: nothing says).
        const user = Option.getOrElse(yield* Effect.serviceOption(User), () => "someone")
        yield* Console.log(`The server asks ${user}: ${params.message}`)
        return { action: "accept" as const, content: { username: user, email: `${user}@example.com` } }
      })
  }),
  Effect.provideService(McpClient.Sampling, {
    createMessage: () =>
      Effect.succeed({ role: "assistant" as const, model: "none", content: { type: "text" as const, text: "hi" } })
  }),
  Effect.scoped
)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
