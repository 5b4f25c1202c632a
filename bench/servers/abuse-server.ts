/**
 * The abuse benchmark's server (bench/abuse.ts): `NodeHttp.serve` on 127.0.0.1 with the options given as JSON in
 * argv[2], serving a few tools, a prompt and a template with completers. It prints `listening <port>` once it
 * listens, and answers the parent's "memory" message (over IPC) with its memory after a forced GC.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"

/** Logs 60 MB (6,000 entries of 10 KB), then answers: an SSE stream larger than NodeHttp's backlog limit (32 MiB). */
const Flood = McpServer.tool(
  "flood",
  { description: "Logs 60 MB, then answers" },
  () =>
    Effect.as(
      Effect.forEach(Array.from({ length: 6000 }), () => RequestContext.log("info", "x".repeat(10_000)), {
        discard: true
      }),
      "flooded"
    )
)

/** Closes its stream, then answers: the answer is kept in the event store for a resumption. */
const Detached = McpServer.tool(
  "detached",
  { description: "Answers after closing its stream" },
  () => Effect.zipRight(RequestContext.closeStream, Effect.succeed("kept result"))
)

const Add = McpServer.tool(
  "add",
  { parameters: { a: Schema.Number, b: Schema.Number }, success: Schema.Number },
  ({ a, b }) => Effect.succeed(a + b)
)

const Review = McpServer.prompt("review", {
  parameters: { code: Schema.String, language: Schema.optional(Schema.String) },
  complete: { language: (value) => Effect.succeed(["python", "typescript"].filter((l) => l.startsWith(value))) }
}, ({ code }) => Effect.succeed(`Review:\n${code}`))

const Greeting = McpServer.resource("greeting://{name}", {
  complete: { name: (value) => Effect.succeed(["alice", "bob"].filter((n) => n.startsWith(value))) }
}, ({ name }) => Effect.succeed(`Hello, ${name}!`))

const Server = Layer.mergeAll(Flood, Detached, Add, Review, Greeting).pipe(
  Layer.provideMerge(McpServer.layer({ name: "abuse-target", version: "1.0.0" }))
)

// Two collections a moment apart: buffers a collection finds unreachable are freed by a background task after it.
process.on("message", (message) => {
  if (message !== "memory") return
  globalThis.gc?.()
  setTimeout(() => {
    globalThis.gc?.()
    const { arrayBuffers, heapUsed, rss } = process.memoryUsage()
    process.send?.({ rss, heapUsed, arrayBuffers })
  }, 250)
})

const options: NodeHttp.ServeOptions = JSON.parse(process.argv[2] ?? "{}")

NodeRuntime.runMain(
  Effect.scoped(Effect.gen(function*() {
    const { port } = yield* NodeHttp.serve(Server, { ...options, port: 0, host: "127.0.0.1" })
    process.stdout.write(`listening ${port}\n`)
    return yield* Effect.never
  })),
  { disablePrettyLogger: true }
)
