import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Layer } from "effect"
import { McpServer, RequestContext, StreamableHttp } from "mcp-effect"
import { Grow, TestServer } from "./fixtures.js"
import { pollUntil } from "./helpers.js"
import { leave, openSession, promise, raw, serveHttp, servePlatform } from "./httpHelpers.js"

const Poll = McpServer.tool("poll", { description: "Closes its stream, then answers" }, () =>
  Effect.gen(function*() {
    yield* RequestContext.closeStream
    yield* Effect.sleep("200 millis")
    return "polled result"
  }))

const Ask = McpServer.tool(
  "ask",
  { description: "Samples the client's model" },
  () =>
    Effect.map(RequestContext.sample("What is 2+2?", { maxTokens: 10 }), (r) => {
      const content = Array.isArray(r.content) ? r.content[0] : r.content
      return content?.type === "text" ? content.text : "other"
    })
)

const Server = Layer.mergeAll(Poll, Ask, Grow).pipe(Layer.provideMerge(TestServer))

const connect = async (url: string) => {
  const client = new Client({ name: "official-sdk", version: "1.0.0" }, { capabilities: { sampling: {} } })
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    reconnectionOptions: {
      initialReconnectionDelay: 50,
      maxReconnectionDelay: 200,
      reconnectionDelayGrowFactor: 1,
      maxRetries: 5
    }
  })
  await client.connect(transport)
  return { client, transport }
}

describe("official TypeScript SDK client over Streamable HTTP", () => {
  it.scopedLive("uses a session with SSE, a sampling round trip, the GET stream and resumption", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { client, transport } = yield* promise(() => connect(url))
      yield* Effect.addFinalizer(() => Effect.promise(() => client.close()))
      expect(transport.sessionId).toMatch(/\S{32,}/)
      expect(client.getServerVersion()?.name).toBe("test-server")

      const added = yield* promise(() => client.callTool({ name: "add", arguments: { a: 1, b: 2 } }))
      expect(added.structuredContent).toEqual({ result: 3 })

      const progress: Array<number> = []
      const slow = promise(() =>
        client.callTool({ name: "progress", arguments: { steps: 0 } }, undefined, {
          onprogress: (p) => progress.push(p.progress)
        })
      )
      expect((yield* slow).content).toEqual([{ type: "text", text: "done after 0 steps" }])

      client.setRequestHandler(CreateMessageRequestSchema, async () => ({
        role: "assistant",
        model: "fake",
        content: { type: "text", text: "4" }
      }))
      const asked = yield* promise(() => client.callTool({ name: "ask", arguments: {} }))
      expect(asked.content).toEqual([{ type: "text", text: "4" }])

      const changed = new Promise<void>((resolve) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve())
      )
      yield* promise(() => client.callTool({ name: "grow", arguments: {} }))
      yield* promise(() => changed)

      const polled = yield* promise(() => client.callTool({ name: "poll", arguments: {} }))
      expect(polled.content).toEqual([{ type: "text", text: "polled result" }])

      yield* promise(() => transport.terminateSession())
      const after = yield* promise(() =>
        raw(url, {
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-session-id": transport.sessionId ?? "gone"
          },
          body: { jsonrpc: "2.0", id: 1, method: "ping" }
        })
      )
      expect(after.status).toBe(404)
    }))

  it.scopedLive("connects to the legacy HTTP+SSE transport", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { legacySse: true })
      const client = new Client({ name: "legacy", version: "1.0.0" })
      yield* promise(() => client.connect(new SSEClientTransport(new URL(url.replace(/\/mcp$/, "/sse")))))
      yield* Effect.addFinalizer(() => Effect.promise(() => client.close()))
      const result = yield* promise(() => client.callTool({ name: "echo", arguments: { text: "old but gold" } }))
      expect(result.content).toEqual([{ type: "text", text: "old but gold" }])
      const refused = yield* promise(() =>
        raw(url.replace(/\/mcp$/, "/sse"), { method: "GET", headers: { host: "evil.example.com" } })
      )
      expect(refused.status).toBe(403)
      const unknown = yield* promise(() =>
        raw(url.replace(/\/mcp$/, "/messages?sessionId=nope"), {
          headers: { "content-type": "application/json" },
          body: {}
        })
      )
      expect(unknown.status).toBe(404)
    }))
})

/** Serves a router with `@effect/platform`'s Node HTTP server on a free loopback port; its base URL. */
describe("mounting", () => {
  it.scopedLive("frees a GET stream whose client left before the platform wrote its response", () =>
    Effect.gen(function*() {
      const app = yield* StreamableHttp.toApp(TestServer)
      // A middleware that still works after the app has answered (metrics, say): the client leaves meanwhile.
      const base = yield* servePlatform(
        HttpRouter.empty.pipe(HttpRouter.all("/mcp", app)),
        (inner) => Effect.tap(inner, () => Effect.sleep("150 millis"))
      )
      const url = `${base}/mcp`
      const { headers } = yield* promise(() => openSession(url))
      const get = { ...headers, accept: "text/event-stream" }
      yield* promise(() => leave(url, get, undefined, 50))
      // The first stream is let go once the server sees the client gone, so the session may open another (one GET
      // stream at a time: 409 until then).
      const again = yield* pollUntil(
        promise(() => raw(url, { method: "GET", headers: get, readFor: 50 })),
        (r) => r.status !== 409,
        "50 millis"
      )
      expect(again.status).toBe(200)
    }))

  it.scopedLive("mounts two servers in one app next to an ordinary route", () =>
    Effect.gen(function*() {
      const Weather = McpServer.tool("forecast", { description: "Sunny" }, () => Effect.succeed("sunny")).pipe(
        Layer.provideMerge(McpServer.layer({ name: "weather", version: "1.0.0" }))
      )
      const math = yield* StreamableHttp.toApp(TestServer)
      const weather = yield* StreamableHttp.toApp(Weather)
      const base = yield* servePlatform(HttpRouter.empty.pipe(
        HttpRouter.all("/math/mcp", math),
        HttpRouter.all("/weather/mcp", weather),
        HttpRouter.get("/health", HttpServerResponse.text("ok"))
      ))
      const health = yield* promise(() => raw(`${base}/health`, { method: "GET" }))
      expect(health.body).toBe("ok")
      for (const [path, name] of [["/math/mcp", "test-server"], ["/weather/mcp", "weather"]]) {
        const { client } = yield* promise(() => connect(`${base}${path}`))
        expect(client.getServerVersion()?.name).toBe(name)
        yield* promise(() => client.close())
      }
    }))
})
