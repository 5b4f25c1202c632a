/**
 * An agent's side of several servers: three connections, one of which
 * cannot start, aggregated under prefixes. The agent sees every tool of the
 * servers that answered (`echo_echo_tool`, `weather_weather_forecast`…),
 * calls them by those names, and reads why the third is missing.
 *
 *   npx tsx examples/aggregator.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Stream } from "effect"
import { McpClients } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const main = Effect.gen(function*() {
  const clients = yield* McpClients.make({
    echo: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/echo.ts"] }),
    weather: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/mount.ts"] }),
    missing: NodeStdio.connect({ command: "no-such-mcp-server" })
  })
  for (const [server, status] of yield* clients.status) {
    yield* Console.log(
      `${server}: ${status._tag}${status._tag === "Failed" ? ` (${Cause.squash(status.cause)})` : ""}`
    )
  }

  // What each server announces (a list that changed, a log line), tagged with the server's name.
  yield* clients.notifications.pipe(
    Stream.runForEach((n) => Console.log(`[${n.server}] ${n.method}`)),
    Effect.forkScoped
  )

  const tools = yield* clients.listTools
  yield* Console.log("Tools:", tools.map((tool) => tool.name).join(", "))
  const echoed = yield* clients.callTool("echo_echo_tool", { message: "hello" })
  yield* Console.log("echo_echo_tool:", echoed.content)
  const forecast = yield* clients.callTool("weather_weather_forecast", { city: "Lisbon" })
  yield* Console.log("weather_weather_forecast:", forecast.content)
  // The weather server (itself two mounted servers) takes notes as resources, and says so: the list changes.
  yield* clients.callTool("weather_notes_take", { text: "bring an umbrella" })
  const resources = yield* clients.listResources
  yield* Console.log("Resources:", resources.map((resource) => resource.uri).join(", "))
  const note = yield* clients.readResource("note://weather/notes/1")
  yield* Console.log("note://weather/notes/1:", note.contents)
}).pipe(Effect.scoped)

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
