/**
 * Two MCP servers mounted in one HTTP app, next to an ordinary route.
 *
 *   npx tsx examples/http-mounted.ts
 *   # http://127.0.0.1:3002/math/mcp, http://127.0.0.1:3002/echo/mcp, http://127.0.0.1:3002/health
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer, Schema } from "effect"
import { McpServer, StreamableHttp } from "mcp-effect"
import { createServer } from "node:http"
import { isMain } from "./internal/isMain.js"

export const MathServer = McpServer.tool("add", {
  description: "Add two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
}, ({ a, b }) => Effect.succeed(a + b)).pipe(Layer.provideMerge(McpServer.layer({ name: "math", version: "1.0.0" })))

export const EchoServer = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text)).pipe(Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })))

const App = Layer.scopedDiscard(Effect.gen(function*() {
  const math = yield* StreamableHttp.toApp(MathServer)
  const echo = yield* StreamableHttp.toApp(EchoServer)
  const router = HttpRouter.empty.pipe(
    HttpRouter.all("/math/mcp", math),
    HttpRouter.all("/echo/mcp", echo),
    HttpRouter.get("/health", HttpServerResponse.text("ok"))
  )
  yield* HttpServer.serveEffect(router)
  yield* Effect.logInfo("Serving /math/mcp, /echo/mcp and /health on http://127.0.0.1:3002")
}))

if (isMain(import.meta.url)) {
  App.pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port: 3002, host: "127.0.0.1" })),
    Layer.launch,
    NodeRuntime.runMain
  )
}
