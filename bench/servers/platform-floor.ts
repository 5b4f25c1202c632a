/**
 * A floor for comparison: the cheapest JSON-RPC answer an `@effect/platform` Node HTTP server can give (parse the
 * body, answer), with no MCP at all. It shows what the platform's per-request machinery costs by itself.
 */
import { HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { createServer } from "node:http"

const app = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
  Effect.map(request.text, (text) => {
    const message = JSON.parse(text)
    if (message.id === undefined) return HttpServerResponse.empty({ status: 202 })
    const result = message.method === "initialize"
      ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "floor", version: "1" } }
      : { content: [{ type: "text", text: message.params?.arguments?.text ?? "" }] }
    return HttpServerResponse.unsafeJson({ jsonrpc: "2.0", id: message.id, result })
  }))
const main = Effect.gen(function*() {
  const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
  yield* HttpServer.serveEffect(app).pipe(Effect.provideService(HttpServer.HttpServer, server))
  process.stdout.write(`listening ${server.address._tag === "TcpAddress" ? server.address.port : 0}\n`)
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(main), { disablePrettyLogger: true })
