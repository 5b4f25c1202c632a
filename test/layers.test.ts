import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { StreamableHttp } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { createServer } from "node:http"
import { LayersServer } from "../examples/layers.js"
import { spawnStdio } from "./helpers.js"
import { openSession, promise, raw } from "./httpHelpers.js"

const shout = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "shout", arguments: { text: "hi" } }
})

const shouted = (body: string) => JSON.parse(body).result.content[0].text

describe("transports as layers", () => {
  it("NodeStdio.layer serves a launched program over stdio and ends it when stdin ends", async () => {
    const server = spawnStdio("examples/layers.ts")
    server.initialize()
    server.send(shout(2))
    await server.waitFor(() => server.output.stdout.includes("\"id\":2"))
    expect(await server.end()).toBe(0)
    const lines = server.output.stdout.trim().split("\n").map((line) => JSON.parse(line))
    expect(lines.map((m) => m.id)).toEqual([1, 2])
    expect(lines[1].result.content[0].text).toBe("HI")
  }, 30_000)

  it.scopedLive("NodeHttp.layer serves the server in context and says where", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(NodeHttp.layer({ port: 0 }).pipe(Layer.provide(LayersServer)))
      const { url } = Context.get(context, NodeHttp.Address)
      const { headers } = yield* promise(() => openSession(url))
      expect(shouted((yield* promise(() => raw(url, { headers, body: shout(1) }))).body)).toBe("HI")
    }))

  it.scopedLive("StreamableHttp.layerRouter mounts the app in a router beside its other routes", () =>
    Effect.gen(function*() {
      class ApiRouter extends HttpRouter.Tag("ApiRouter")<ApiRouter>() {}
      const Health = ApiRouter.use((router) => router.get("/health", HttpServerResponse.text("ok")))
      const Mcp = StreamableHttp.layerRouter(ApiRouter, "/mcp").pipe(Layer.provide(LayersServer))
      const Served = ApiRouter.serve().pipe(
        Layer.provide(Layer.mergeAll(Health, Mcp)),
        Layer.provide(ApiRouter.Live),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
      const context = yield* Layer.build(Served)
      const address = Context.get(context, HttpServer.HttpServer).address
      const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
      expect((yield* promise(() => raw(`${base}/health`, { method: "GET" }))).body).toBe("ok")
      const { headers } = yield* promise(() => openSession(`${base}/mcp`))
      expect(shouted((yield* promise(() => raw(`${base}/mcp`, { headers, body: shout(1) }))).body)).toBe("HI")
    }))
})
