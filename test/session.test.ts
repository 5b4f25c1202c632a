import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Ref } from "effect"
import { McpError, McpServer, McpTest } from "mcp-effect"
import type { McpSchema, RequestContext } from "mcp-effect"
import { advance, flush, pollUntil } from "./helpers.js"
import { initializeBody, JSON_AND_SSE, openSession, promise, raw, serveHttp } from "./httpHelpers.js"

/** Server-wide: what the session layer did, in order. */
class Journal extends Context.Tag("Journal")<Journal, Ref.Ref<ReadonlyArray<string>>>() {}

/** Per session: a connection with its own number. */
class Connection extends Context.Tag("Connection")<Connection, { readonly id: number }>() {}

/** Opens connection n+1 per session, recording each acquire and release in the server-wide journal. */
const ConnectionLive = Layer.scoped(
  Connection,
  Effect.gen(function*() {
    const journal = yield* Journal
    const id = (yield* Ref.get(journal)).filter((e) => e.startsWith("open")).length + 1
    return yield* Effect.acquireRelease(
      Effect.as(Ref.update(journal, (all) => [...all, `open ${id}`]), { id }),
      () => Ref.update(journal, (all) => [...all, `close ${id}`])
    )
  })
)

const journal = (entries: Ref.Ref<ReadonlyArray<string>>) => Layer.succeed(Journal, entries)

const WhichConnection = McpServer.tool("connection", {}, () => Effect.map(Connection, (c) => `connection ${c.id}`))
const Plain = McpServer.tool("plain", {}, () => Effect.succeed("plain"))

/** The tools that need a connection get it from the session layer; the journal is server-wide. */
const serverWith = (entries: Ref.Ref<ReadonlyArray<string>>) =>
  Layer.mergeAll(WhichConnection, Plain).pipe(
    Layer.provide(McpServer.layerSession(ConnectionLive)),
    Layer.provideMerge(McpServer.layer({ name: "sessions", version: "1" })),
    Layer.provide(journal(entries))
  )

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

describe("session layers", () => {
  it.scoped("are built once per session, on its first handler, and released when the session ends", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const server = serverWith(entries)
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* McpTest.makeClient(server)
        // Initialize, ping and lists run no handler of the server: nothing is built yet.
        yield* client.ping
        yield* client.listTools
        expect(yield* Ref.get(entries)).toEqual([])
        expect(text(yield* client.callTool("connection"))).toBe("connection 1")
        expect(text(yield* client.callTool("plain"))).toBe("plain")
        expect(text(yield* client.callTool("connection"))).toBe("connection 1")
        expect(yield* Ref.get(entries)).toEqual(["open 1"])
      }))
      expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1"])
    }))

  it.scoped("give each session its own instance", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const context = yield* Layer.build(serverWith(entries))
      const shared = Layer.succeedContext(context)
      const first = yield* McpTest.makeClient(shared)
      const second = yield* McpTest.makeClient(shared)
      expect(text(yield* first.callTool("connection"))).toBe("connection 1")
      expect(text(yield* second.callTool("connection"))).toBe("connection 2")
      expect(text(yield* first.callTool("connection"))).toBe("connection 1")
      expect(yield* Ref.get(entries)).toEqual(["open 1", "open 2"])
    }))

  it.scoped("are built once for concurrent first requests", () =>
    Effect.gen(function*() {
      const builds = yield* Ref.make(0)
      const Slow = Layer.effect(
        Connection,
        Effect.zipRight(Effect.sleep("1 second"), Effect.map(Ref.updateAndGet(builds, (n) => n + 1), (id) => ({ id })))
      )
      const client = yield* McpTest.makeClient(
        WhichConnection.pipe(
          Layer.provide(McpServer.layerSession(Slow)),
          Layer.provideMerge(McpServer.layer({ name: "s", version: "1" }))
        )
      )
      const calls = yield* Effect.fork(
        Effect.all([client.callTool("connection"), client.callTool("connection")], { concurrency: 2 })
      )
      yield* advance("1 second", 2)
      expect((yield* Fiber.join(calls)).map(text)).toEqual(["connection 1", "connection 1"])
      expect(yield* Ref.get(builds)).toBe(1)
    }))

  it.scoped("are released after the session's handlers were stopped", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const started = yield* Deferred.make<void>()
      const Hold = McpServer.tool("hold", {}, () =>
        Effect.flatMap(Connection, (c) =>
          Deferred.succeed(started, undefined).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() =>
              Ref.update(entries, (all) => [...all, `handler on ${c.id} stopped`])
            )
          )))
      const server = Hold.pipe(
        Layer.provide(McpServer.layerSession(ConnectionLive)),
        Layer.provideMerge(McpServer.layer({ name: "s", version: "1" })),
        Layer.provide(journal(entries))
      )
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* McpTest.makeClient(server)
        yield* Effect.forkDaemon(client.callTool("hold"))
        yield* Deferred.await(started)
      }))
      yield* flush
      expect(yield* Ref.get(entries)).toEqual(["open 1", "handler on 1 stopped", "close 1"])
    }))

  it.scoped("that fail answer the request with an error, keep the server serving, and are tried again", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const Flaky = Layer.effect(
        Connection,
        Effect.flatMap(
          Ref.updateAndGet(attempts, (n) => n + 1),
          (n) =>
            n === 1 ? Effect.fail(new Error("database down")) : n === 2 ? Effect.die("boom") : Effect.succeed({ id: n })
        )
      )
      const Refusing = Layer.effect(Connection, Effect.fail(McpError.McpError.invalidRequest("no connections for you")))
      const server = (layer: Layer.Layer<Connection, unknown>) =>
        Layer.mergeAll(WhichConnection, Plain).pipe(
          Layer.provide(McpServer.layerSession(layer)),
          Layer.provideMerge(McpServer.layer({ name: "s", version: "1" }))
        )
      const client = yield* McpTest.makeClient(server(Flaky))
      const failure = yield* Effect.flip(client.callTool("connection"))
      expect(failure).toMatchObject({
        code: -32603,
        message: "Internal error: the session's services could not be started"
      })
      expect(JSON.stringify(failure)).not.toContain("database down")
      expect(yield* Effect.flip(client.callTool("plain"))).toMatchObject({ code: -32603 })
      yield* client.ping
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["connection", "plain"])
      expect(text(yield* client.callTool("connection"))).toBe("connection 3")
      // A session layer that fails with an McpError answers with that error.
      const refused = yield* McpTest.makeClient(server(Refusing))
      expect(yield* Effect.flip(refused.callTool("plain"))).toMatchObject({
        code: -32600,
        message: "Invalid request: no connections for you"
      })
    }))

  it.effect("without a session, are built for each request and released when it ends", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const server = yield* McpServer.McpServer.pipe(Effect.provide(serverWith(entries)))
      const envelope: RequestContext.Envelope = {
        protocolVersion: "2025-11-25",
        clientCapabilities: {},
        clientInfo: undefined,
        logLevel: undefined,
        progressToken: undefined,
        auth: undefined,
        extras: undefined,
        sessionId: undefined
      }
      const channel: RequestContext.ClientChannel = {
        request: (method) => Effect.fail(McpError.McpError.methodNotFound(method)),
        notify: () => {},
        isActive: () => true,
        closeStream: () => {}
      }
      const call = { id: 1, method: "tools/call", params: { name: "connection" } }
      expect(text((yield* server.handle(call, envelope, channel)) as McpSchema.CallToolResult)).toBe("connection 1")
      expect(text((yield* server.handle(call, envelope, channel)) as McpSchema.CallToolResult)).toBe("connection 2")
      yield* server.handle({ id: 2, method: "tools/list", params: {} }, envelope, channel)
      expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1", "open 2", "close 2"])
    }))

  it.scoped("serve middlewares and mounted servers too, once per session of the parent", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const Tagged = McpServer.toolMiddleware((next) =>
        Effect.flatMap(Connection, (c) => Effect.map(next, (result) => ({ ...result, _meta: { connection: c.id } })))
      )
      const Child = WhichConnection.pipe(
        Layer.provide(McpServer.layerSession(ConnectionLive)),
        Layer.provideMerge(McpServer.layer({ name: "child", version: "1" }))
      )
      const Parent = Layer.mergeAll(Tagged, McpServer.mount("db", Child)).pipe(
        Layer.provide(McpServer.layerSession(ConnectionLive)),
        Layer.provideMerge(McpServer.layer({ name: "parent", version: "1" })),
        Layer.provide(journal(entries))
      )
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* McpTest.makeClient(Parent)
        const result = yield* client.callTool("db_connection")
        // The parent's middleware and the child's tool each have their server's session layer, built for this session.
        expect(result._meta).toEqual({ connection: 1 })
        expect(text(result)).toBe("connection 2")
        expect((yield* client.callTool("db_connection"))._meta).toEqual({ connection: 1 })
      }))
      expect(yield* Ref.get(entries)).toEqual(["open 1", "open 2", "close 2", "close 1"])
    }))
})

describe("session layers (review)", () => {
  it.scoped("are built once when several middlewares wrap the session's first request", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const Outer = McpServer.middleware((next) => next)
      const Inner = McpServer.middleware((next) => next)
      const server = WhichConnection.pipe(
        Layer.provide(McpServer.layerSession(ConnectionLive)),
        Layer.provideMerge(Inner),
        Layer.provideMerge(Outer),
        Layer.provideMerge(McpServer.layer({ name: "s", version: "1" })),
        Layer.provide(journal(entries))
      )
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* McpTest.makeClient(server)
        expect(text(yield* client.callTool("connection"))).toBe("connection 1")
        expect(text(yield* client.callTool("connection"))).toBe("connection 1")
      }))
      expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1"])
    }))

  it.scoped("that fail release what the layers before them built", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      class Other extends Context.Tag("Other")<Other, { readonly ok: true }>() {}
      const attempts = yield* Ref.make(0)
      const FailsOnce = Layer.effect(
        Other,
        Effect.flatMap(
          Ref.updateAndGet(attempts, (n) => n + 1),
          (n) => n === 1 ? Effect.fail(new Error("down")) : Effect.succeed({ ok: true as const })
        )
      )
      const Both = McpServer.tool("both", {}, () =>
        Effect.flatMap(Effect.zip(Connection, Other), ([c]) =>
          Effect.succeed(`connection ${c.id}`)))
      const server = Both.pipe(
        Layer.provide(McpServer.layerSession(FailsOnce)),
        Layer.provide(McpServer.layerSession(ConnectionLive)),
        Layer.provideMerge(McpServer.layer({ name: "s", version: "1" })),
        Layer.provide(journal(entries))
      )
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* McpTest.makeClient(server)
        yield* Effect.flip(client.callTool("both"))
        // Nothing of the failed build is kept: the connection it opened is closed at once.
        expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1"])
        expect(text(yield* client.callTool("both"))).toBe("connection 2")
      }))
      expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1", "open 2", "close 2"])
    }))
})

/** Waits for the second request's layers to be released: just after its answer went, on a fiber of their own. */
const releasedBoth = (entries: Ref.Ref<ReadonlyArray<string>>) =>
  pollUntil(Ref.get(entries), (seen) => seen.includes("close 2"))

describe("session layers over Streamable HTTP", () => {
  const call = (id: number) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "connection", arguments: {} }
  })

  it.scopedLive("are released on DELETE and on idle expiry", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const { url } = yield* serveHttp(serverWith(entries), { sessionIdleTimeout: "1 second" })
      const deleted = yield* promise(() => openSession(url))
      const idle = yield* promise(() => openSession(url))
      expect((yield* promise(() => raw(url, { headers: deleted.headers, body: call(1) }))).body).toContain(
        "connection 1"
      )
      expect((yield* promise(() => raw(url, { headers: idle.headers, body: call(1) }))).body).toContain("connection 2")
      yield* promise(() => raw(url, { method: "DELETE", headers: deleted.headers }))
      // Released before the DELETE is answered (the idle one may have expired too, on a machine slow enough).
      expect(yield* Ref.get(entries)).toContain("close 1")
      yield* releasedBoth(entries)
      expect([...(yield* Ref.get(entries))].sort()).toEqual(["close 1", "close 2", "open 1", "open 2"])
    }))

  it.scopedLive("are built for each POST in stateless mode", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const { url } = yield* serveHttp(serverWith(entries), { stateless: true })
      const headers = { ...JSON_AND_SSE, "mcp-protocol-version": "2025-11-25" }
      yield* promise(() => raw(url, { headers, body: initializeBody() }))
      expect((yield* promise(() => raw(url, { headers, body: call(1) }))).body).toContain("connection 1")
      expect((yield* promise(() => raw(url, { headers, body: call(2) }))).body).toContain("connection 2")
      yield* releasedBoth(entries)
      expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1", "open 2", "close 2"])
    }))
})

describe("session layers for 2026-07-28 requests over HTTP", () => {
  const META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {}
  }
  const modernCall = (id: number, name: string) => ({
    headers: { ...JSON_AND_SSE, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": name },
    body: { jsonrpc: "2.0", id, method: "tools/call", params: { name, _meta: META } }
  })

  it.scopedLive("are built for each request, and released when it ends", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<ReadonlyArray<string>>([])
      const { url } = yield* serveHttp(serverWith(entries))
      expect((yield* promise(() => raw(url, modernCall(1, "connection")))).body).toContain("connection 1")
      expect((yield* promise(() => raw(url, modernCall(2, "connection")))).body).toContain("connection 2")
      yield* releasedBoth(entries)
      expect(yield* Ref.get(entries)).toEqual(["open 1", "close 1", "open 2", "close 2"])
    }))
})

// A tool whose handler needs a session service leaves that requirement on its layer until a session layer meets it.
export const needsConnection: Layer.Layer<never, McpError.DefinitionError, McpServer.McpServer | Connection> =
  WhichConnection
// @ts-expect-error: without a session layer, the requirement stays
export const connectionUnmet: Layer.Layer<never, McpError.DefinitionError, McpServer.McpServer> = WhichConnection
export const connectionMet: Layer.Layer<never, McpError.DefinitionError, McpServer.McpServer | Journal> =
  WhichConnection.pipe(
    Layer.provide(McpServer.layerSession(ConnectionLive))
  )
