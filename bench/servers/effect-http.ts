/** The HTTP benchmark's mcp-effect server: one `echo` tool, plus /__heap (heap after a forced GC). */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schema } from "effect"
import { McpServer, StreamableHttp } from "mcp-effect"
import { createServer } from "node:http"

const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

const Server = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "bench-effect", version: "1.0.0" })))

const heap = Effect.sync(() => {
  globalThis.gc?.()
  return HttpServerResponse.text(String(process.memoryUsage().heapUsed))
})

const main = Effect.gen(function*() {
  const httpServer = yield* NodeHttpServer.make(() => createServer({ requestTimeout: 0 }), { port: 0, host: "127.0.0.1" })
  const mcp = yield* StreamableHttp.toApp(Server, { maxSessions: 20_000, maxRequestsPerSession: 1000 })
  yield* HttpServer.serveEffect(HttpRouter.empty.pipe(HttpRouter.all("/mcp", mcp), HttpRouter.get("/__heap", heap))).pipe(
    Effect.provideService(HttpServer.HttpServer, httpServer)
  )
  const address = httpServer.address
  process.stdout.write(`listening ${address._tag === "TcpAddress" ? address.port : 0}\n`)
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(main), { disablePrettyLogger: true })
