import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { McpServer, McpTest, Prompt, RequestContext, Tool } from "mcp-effect"
import { TestServer } from "./fixtures.js"

const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" }
}
const SERVER_INFO = { name: "test-server", version: "1.0.0" }

const Logs = McpServer.tool("logs", {}, () => Effect.as(RequestContext.log("info", "working"), "done"))
/** Adds a prompt, then a tool, then removes the tool: three changes to be heard, or not. */
const Change = McpServer.tool("change", {}, () =>
  Effect.gen(function*() {
    yield* McpServer.addPrompt(Prompt.make("later", {}, () => Effect.succeed("x")))
    yield* McpServer.addTool(Tool.make("later", {}, () => Effect.succeed("x")))
    yield* McpServer.removeTool("later")
    return "changed"
  }))
const Server = Layer.mergeAll(TestServer, Layer.mergeAll(Logs, Change).pipe(Layer.provide(TestServer)))

/** A modern request: `_meta` merged into its params. */
const modern = (id: number, method: string, params: Record<string, unknown> = {}, meta: object = META) => ({
  jsonrpc: "2.0",
  id,
  method,
  params: { ...params, _meta: meta }
})

const exchange = (message: unknown) =>
  Effect.gen(function*() {
    const conn = yield* McpTest.raw(Server)
    yield* conn.send(message)
    return (yield* conn.receive) as any
  })

describe("2026-07-28 requests", () => {
  it.scoped("server/discover names the versions, the capabilities and the server", () =>
    Effect.gen(function*() {
      const response = yield* exchange(modern(1, "server/discover"))
      expect(response.result).toMatchObject({
        resultType: "complete",
        supportedVersions: ["2026-07-28"],
        capabilities: { tools: {}, resources: {}, prompts: {} },
        instructions: "Use add to add.",
        ttlMs: 0,
        cacheScope: "private",
        _meta: { "io.modelcontextprotocol/serverInfo": SERVER_INFO }
      })
    }))

  it.scoped("serves tools, resources and prompts without a handshake, each result complete", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.send(modern(1, "tools/list"))
      const list: any = yield* conn.receive
      expect(list.result).toMatchObject({ resultType: "complete", ttlMs: 0, cacheScope: "private" })
      expect(list.result.tools.map((t: { name: string }) => t.name)).toContain("add")
      yield* conn.send(modern(2, "tools/call", { name: "add", arguments: { a: 2, b: 3 } }))
      const called: any = yield* conn.receive
      expect(called.result).toMatchObject({ resultType: "complete", structuredContent: { result: 5 } })
      expect(called.result).not.toHaveProperty("ttlMs")
      yield* conn.send(modern(3, "resources/read", { uri: "greeting://Ada" }))
      expect(((yield* conn.receive) as any).result).toMatchObject({ resultType: "complete", ttlMs: 0 })
      yield* conn.send(modern(4, "prompts/get", { name: "review", arguments: { code: "x" } }))
      expect(((yield* conn.receive) as any).result.resultType).toBe("complete")
    }))

  it.scoped("refuses a missing or malformed _meta with -32602, and an unknown version with -32022", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      const { "io.modelcontextprotocol/clientCapabilities": _, ...noCapabilities } = META
      const cases: Array<[unknown, number]> = [
        [modern(1, "tools/list", {}, noCapabilities), -32602],
        [modern(2, "tools/list", {}, { ...META, "io.modelcontextprotocol/protocolVersion": 7 }), -32602],
        [modern(3, "tools/list", {}, { ...META, "io.modelcontextprotocol/logLevel": "loud" }), -32602],
        [{ jsonrpc: "2.0", id: 4, method: "tools/list", params: { _meta: "x" } }, -32602],
        [{ jsonrpc: "2.0", id: 5, method: "tools/list", params: { _meta: null } }, -32602],
        [{ jsonrpc: "2.0", id: 6, method: "tools/list", params: { _meta: [] } }, -32602]
      ]
      for (const [message, code] of cases) {
        yield* conn.send(message)
        expect(((yield* conn.receive) as any).error.code).toBe(code)
      }
      yield* conn.send(modern(7, "tools/list", {}, { ...META, "io.modelcontextprotocol/protocolVersion": "v999" }))
      expect(((yield* conn.receive) as any).error).toMatchObject({
        code: -32022,
        data: { supported: ["2026-07-28"], requested: "v999" }
      })
      // Without clientInfo the request is still served.
      const { "io.modelcontextprotocol/clientInfo": __, ...noInfo } = META
      yield* conn.send(modern(8, "tools/list", {}, noInfo))
      expect(((yield* conn.receive) as any).result.resultType).toBe("complete")
    }))

  it.scoped("answers the methods this revision removed, and unknown ones, with -32601", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      const methods = [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "no/such"
      ]
      for (const [index, method] of methods.entries()) {
        yield* conn.send(modern(index, method, { uri: "greeting://x", level: "info" }))
        expect(((yield* conn.receive) as any).error.code).toBe(-32601)
      }
    }))

  it.scoped("answers a missing resource with -32602 and its uri", () =>
    Effect.gen(function*() {
      const response = yield* exchange(modern(1, "resources/read", { uri: "nothing://here" }))
      expect(response.error).toMatchObject({ code: -32602, data: { uri: "nothing://here" } })
    }))

  it.scoped("sends log messages only to a request that asked for them with a log level", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.send(modern(1, "tools/call", { name: "logs" }))
      expect(((yield* conn.receive) as any).id).toBe(1)
      yield* conn.send(
        modern(2, "tools/call", { name: "logs" }, { ...META, "io.modelcontextprotocol/logLevel": "info" })
      )
      expect(yield* conn.receive).toMatchObject({ method: "notifications/message", params: { data: "working" } })
      expect(((yield* conn.receive) as any).id).toBe(2)
      yield* conn.send(
        modern(3, "tools/call", { name: "logs" }, { ...META, "io.modelcontextprotocol/logLevel": "error" })
      )
      expect(((yield* conn.receive) as any).id).toBe(3)
    }))
})

describe("one connection, one era", () => {
  it.scoped("a connection that spoke 2026-07-28 refuses initialize with -32022 and a request without _meta", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.send(modern(1, "tools/list"))
      yield* conn.receive
      const initialize = yield* conn.initialize()
      expect(initialize).toMatchObject({ error: { code: -32022, data: { requested: "2025-11-25" } } })
      yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/list" })
      expect(((yield* conn.receive) as any).error.code).toBe(-32602)
    }))

  it.scoped("a server/discover probe leaves the connection free to fall back to initialize", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.send(modern(1, "server/discover"))
      yield* conn.receive
      const initialize: any = yield* conn.initialize()
      expect(initialize.result.protocolVersion).toBe("2025-11-25")
      yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/list" })
      const list: any = yield* conn.receive
      expect(list.result).not.toHaveProperty("resultType")
    }))
})

describe("subscriptions/listen", () => {
  it.scoped("acknowledges what it will send, then sends only that, tagged with its id, until cancelled", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.send(modern(7, "subscriptions/listen", {
        notifications: { toolsListChanged: true, resourceSubscriptions: ["demo://x"] }
      }))
      expect(yield* conn.receive).toEqual({
        jsonrpc: "2.0",
        method: "notifications/subscriptions/acknowledged",
        params: {
          notifications: { toolsListChanged: true, resourceSubscriptions: ["demo://x"] },
          _meta: { "io.modelcontextprotocol/subscriptionId": 7 }
        }
      })
      yield* conn.send(modern(8, "tools/call", { name: "change" }))
      // The prompt change is not sent: this listen did not ask for it.
      const tagged = { _meta: { "io.modelcontextprotocol/subscriptionId": 7 } }
      const heard = [yield* conn.receive, yield* conn.receive, yield* conn.receive]
      expect(heard).toContainEqual({ jsonrpc: "2.0", method: "notifications/tools/list_changed", params: tagged })
      expect(heard.filter((m: any) => m.method === "notifications/tools/list_changed")).toHaveLength(2)
      expect(heard.find((m: any) => m.id === 8)).toBeDefined()
      yield* conn.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 7 } })
      yield* conn.send(modern(9, "tools/call", { name: "change" }))
      // Cancelled: nothing more on the listen, only the call's answer.
      expect(((yield* conn.receive) as any).id).toBe(9)
    }))
})

describe("caching hints", () => {
  it.scoped("are configurable per method, with ttlMs 0 and private by default", () =>
    Effect.gen(function*() {
      const Cached = McpServer.tool("t", {}, () => Effect.succeed("x")).pipe(
        Layer.provideMerge(McpServer.layer({
          name: "cached",
          version: "1.0.0",
          cacheHints: { "tools/list": { ttlMs: 60_000, cacheScope: "public" } }
        }))
      )
      const conn = yield* McpTest.raw(Cached)
      yield* conn.send(modern(1, "tools/list"))
      expect(((yield* conn.receive) as any).result).toMatchObject({ ttlMs: 60_000, cacheScope: "public" })
      yield* conn.send(modern(2, "prompts/list"))
      expect(((yield* conn.receive) as any).result).toMatchObject({ ttlMs: 0, cacheScope: "private" })
    }))

  it.scoped("a resource's own hint overrides the server's for its reads, in the 2026-07-28 era only", () =>
    Effect.gen(function*() {
      const Resources = Layer.mergeAll(
        McpServer.resource(
          "config://app",
          { cache: { ttlMs: 300_000, cacheScope: "public" } },
          () => Effect.succeed("{}")
        ),
        McpServer.resource(
          "user://{id}/profile",
          { cache: { ttlMs: 5_000, cacheScope: "private" } },
          ({ id }) => Effect.succeed(id)
        ),
        McpServer.resource("clock://now", {}, () => Effect.succeed("12:00"))
      ).pipe(Layer.provideMerge(McpServer.layer({
        name: "cached",
        version: "1.0.0",
        cacheHints: { "resources/read": { ttlMs: 1_000, cacheScope: "private" } }
      })))
      const conn = yield* McpTest.raw(Resources)
      const read = (id: number, uri: string) =>
        Effect.zipRight(conn.send(modern(id, "resources/read", { uri })), conn.receive) as Effect.Effect<any>
      expect((yield* read(1, "config://app")).result).toMatchObject({ ttlMs: 300_000, cacheScope: "public" })
      expect((yield* read(2, "user://7/profile")).result).toMatchObject({ ttlMs: 5_000, cacheScope: "private" })
      expect((yield* read(3, "clock://now")).result).toMatchObject({ ttlMs: 1_000, cacheScope: "private" })

      const legacy = yield* McpTest.raw(Resources)
      yield* legacy.initialize()
      yield* legacy.send({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: "config://app" } })
      expect(((yield* legacy.receive) as any).result).not.toHaveProperty("ttlMs")
    }))
})

describe("a modern request's _meta", () => {
  const Whoami = McpServer.tool(
    "whoami",
    {},
    () =>
      Effect.map(
        RequestContext.RequestContext,
        (ctx) => JSON.stringify({ capabilities: ctx.clientCapabilities, info: ctx.clientInfo })
      )
  )

  it.scoped("is read afresh when it changes between requests (its last decode is kept for the next request)", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Layer.mergeAll(TestServer, Whoami.pipe(Layer.provide(TestServer))))
      const ask = (id: number, capabilities: object, info: object) =>
        Effect.zipRight(
          conn.send(modern(id, "tools/call", { name: "whoami" }, {
            ...META,
            "io.modelcontextprotocol/clientCapabilities": capabilities,
            "io.modelcontextprotocol/clientInfo": info
          })),
          conn.receive
        ).pipe(Effect.map((response: any) => JSON.parse(response.result.content[0].text)))
      const a = { name: "a", version: "1" }
      const b = { name: "b", version: "1" }
      expect(yield* ask(1, {}, a)).toEqual({ capabilities: {}, info: a })
      expect(yield* ask(2, { roots: {} }, a)).toEqual({ capabilities: { roots: {} }, info: a })
      expect(yield* ask(3, { roots: {} }, b)).toEqual({ capabilities: { roots: {} }, info: b })
      expect(yield* ask(4, { roots: { listChanged: true } }, b)).toEqual({
        capabilities: { roots: { listChanged: true } },
        info: b
      })
      expect(yield* ask(5, {}, a)).toEqual({ capabilities: {}, info: a })
    }))
})
