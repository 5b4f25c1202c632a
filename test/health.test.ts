import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Scope } from "effect"
import type { McpSchema } from "mcp-effect"
import { McpServer } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"

const statusOf = (url: string, method = "GET") =>
  Effect.promise(() =>
    fetch(url, { method }).then(async (response) => ({ status: response.status, body: await response.text() }))
  )

describe("NodeHttp health endpoints", () => {
  it.scopedLive("answer liveness and readiness; readiness turns 503 while the server drains its calls", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const Slow = McpServer.tool(
        "slow",
        {},
        () => Deferred.succeed(started, undefined).pipe(Effect.zipRight(Deferred.await(release)), Effect.as("done"))
      )
      const Server = Slow.pipe(Layer.provideMerge(McpServer.layer({ name: "health", version: "1" })))
      const serving = yield* Scope.make()
      const { url } = yield* NodeHttp.serve(Server, { port: 0, health: true, shutdownGracePeriod: "1 minute" }).pipe(
        Scope.extend(serving)
      )
      const base = url.replace(/\/mcp$/, "")
      expect(yield* statusOf(`${base}/livez`)).toEqual({ status: 200, body: "{\"status\":\"ok\"}" })
      expect(yield* statusOf(`${base}/readyz`)).toEqual({ status: 200, body: "{\"status\":\"ok\"}" })
      expect((yield* statusOf(`${base}/readyz`, "POST")).status).toBe(405)
      expect((yield* statusOf(`${base}/other`)).status).toBe(404)

      const client = yield* NodeHttp.connect(url, { protocolVersion: "2025-11-25", http: { openGetStream: false } })
      const call = yield* Effect.fork(client.callTool("slow"))
      yield* Deferred.await(started)
      const closing = yield* Effect.fork(Scope.close(serving, Exit.void))
      // Readiness flips as soon as the shutdown begins; the call in flight still completes.
      const draining = yield* statusOf(`${base}/readyz`).pipe(
        Effect.tap((answer) => answer.status === 503 ? Effect.void : Effect.sleep("20 millis")),
        Effect.repeat({ until: (answer) => answer.status === 503, times: 500 })
      )
      expect(draining).toEqual({ status: 503, body: "{\"status\":\"draining\"}" })
      expect((yield* statusOf(`${base}/livez`)).status).toBe(200)
      yield* Deferred.succeed(release, undefined)
      const result = yield* Fiber.join(call)
      expect((result.content[0] as McpSchema.TextContent).text).toBe("done")
      yield* Fiber.join(closing)
    }))

  it.scopedLive("are absent unless asked for, and may have paths of their own", () =>
    Effect.gen(function*() {
      const Server = McpServer.layer({ name: "health", version: "1" })
      const plain = yield* NodeHttp.serve(Server, { port: 0 })
      expect((yield* statusOf(plain.url.replace(/\/mcp$/, "/livez"))).status).toBe(404)
      const custom = yield* NodeHttp.serve(Server, { port: 0, health: { live: "/up", ready: "/ready" } })
      expect((yield* statusOf(custom.url.replace(/\/mcp$/, "/up"))).status).toBe(200)
      expect((yield* statusOf(custom.url.replace(/\/mcp$/, "/ready"))).status).toBe(200)
    }))
})
