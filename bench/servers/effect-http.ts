/**
 * The HTTP benchmark's mcp-effect server: an `echo` tool, an `echo-progress` tool that reports progress before it
 * answers (so that its answer is streamed), plus /__heap (heap after a forced GC).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { createServer } from "node:http"
import { BenchTelemetry } from "./telemetry.js"

const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

const EchoProgress = McpServer.tool("echo-progress", {
  description: "Report progress, then echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.as(RequestContext.progress(1, 1), text))

const Server = Layer.merge(Echo, EchoProgress).pipe(
  Layer.provideMerge(McpServer.layer({ name: "bench-effect", version: "1.0.0" }))
)

const main = Effect.gen(function*() {
  const listener = yield* NodeHttp.makeListener(Server, { maxSessions: 20_000, maxRequestsPerSession: 1000 })
  const server = createServer({ requestTimeout: 0 }, (request, response) => {
    if (request.url !== "/__heap") return listener(request, response)
    globalThis.gc?.()
    response.end(String(process.memoryUsage().heapUsed))
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    process.stdout.write(`listening ${typeof address === "object" && address !== null ? address.port : 0}\n`)
  })
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(main).pipe(Effect.provide(BenchTelemetry)), { disablePrettyLogger: true })
