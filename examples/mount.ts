/**
 * Composition: two servers, each written on its own, mounted into one under
 * prefixes (FastMCP's `mount`). The weather server's tool is listed as
 * `weather_forecast` and its template as `weather://weather/{city}`; notes
 * taken at run time in the notes server show up in the main server's lists,
 * and its clients are told (`notifications/resources/list_changed`).
 *
 *   npx tsx examples/mount.ts
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { McpServer, Resource } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"

export const WeatherServer = Layer.mergeAll(
  McpServer.tool("forecast", {
    description: "Tomorrow's forecast for a city",
    parameters: { city: Schema.String }
  }, ({ city }) => Effect.succeed(`Sunny in ${city}`)),
  McpServer.resource(
    "weather://{city}",
    { description: "Current weather" },
    ({ city }) => Effect.succeed(`${city}: 21°C`)
  )
).pipe(Layer.provideMerge(McpServer.layer({ name: "weather", version: "1.0.0" })))

class NoteCount extends Context.Tag("NoteCount")<NoteCount, Ref.Ref<number>>() {}

// Each note is a resource, registered at run time by the tool.
const TakeNote = McpServer.tool("take", {
  description: "Take a note; it becomes a resource",
  parameters: { text: Schema.String }
}, ({ text }) =>
  Effect.gen(function*() {
    const notes = yield* NoteCount
    const n = yield* Ref.updateAndGet(notes, (count) => count + 1)
    yield* McpServer.addResource(Resource.make(`note://${n}`, { mimeType: "text/plain" }, () => Effect.succeed(text)))
    return `Saved as note ${n}`
  }).pipe(Effect.orDie))

export const NotesServer = TakeNote.pipe(
  Layer.provideMerge(McpServer.layer({ name: "notes", version: "1.0.0" })),
  Layer.provide(Layer.effect(NoteCount, Ref.make(0)))
)

export const MainServer = Layer.mergeAll(
  McpServer.tool("hello", {}, () => Effect.succeed("Hello from main")),
  McpServer.mount("weather", WeatherServer),
  McpServer.mount("notes", NotesServer)
).pipe(Layer.provideMerge(McpServer.layer({ name: "main", version: "1.0.0" })))

if (import.meta.url === `file://${process.argv[1]}`) NodeStdio.run(MainServer)

/** The server layer, which `npx mcp-effect run examples/mount.ts` serves. */
export default MainServer
