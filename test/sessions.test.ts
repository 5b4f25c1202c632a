import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import type { Scope } from "effect"
import { McpServer, StreamableHttp } from "mcp-effect"
import { TestServer } from "./fixtures.js"
import { flush } from "./helpers.js"
import { initializeBody, JSON_AND_SSE, promise, raw, serveHttp } from "./httpHelpers.js"

/**
 * The Streamable HTTP handler, driven without a socket: each request is a
 * plain `Exchange`, so that the whole test runs under the `TestClock`.
 */
const handlerFor = (options: StreamableHttp.Options) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(TestServer)
    const handle = yield* StreamableHttp.makeHandler(options).pipe(Effect.provide(context))
    const send = (
      method: string,
      headers: Record<string, string>,
      body?: unknown,
      remoteAddress = "192.0.2.1"
    ): Effect.Effect<{ readonly status: number; readonly headers: Record<string, string>; readonly body: string }> =>
      Effect.async((resume) =>
        handle({
          method,
          remoteAddress,
          header: (name) => ({ host: "127.0.0.1", ...headers })[name],
          body: (_, done) => done(body === undefined ? "" : JSON.stringify(body))
        }, (reply) => {
          if (reply._tag === "Stream") {
            reply.onClose()
            return resume(Effect.succeed({ status: 200, headers: { ...reply.headers }, body: "" }))
          }
          resume(Effect.succeed({ status: reply.status, headers: { ...reply.headers }, body: reply.body }))
        })
      )
    const initialize = (remoteAddress?: string) =>
      Effect.map(send("POST", JSON_AND_SSE, initializeBody(), remoteAddress), (response) => ({
        ...response,
        headers: {
          ...JSON_AND_SSE,
          "mcp-session-id": response.headers["mcp-session-id"] ?? "",
          "mcp-protocol-version": "2025-11-25"
        }
      }))
    const ping = (headers: Record<string, string>) => send("POST", headers, { jsonrpc: "2.0", id: 1, method: "ping" })
    return { send, initialize, ping }
  })

/** Lets the clock run `seconds` forward, one second at a time, so that every sweep due on the way runs. */
const elapse = (seconds: number): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds; i++) {
      yield* TestClock.adjust("1 second")
      yield* flush
    }
  })

describe("Streamable HTTP: fair session limits", () => {
  it.scoped("closes a session left unused after initialize at the unused timeout, and a used one only when idle", () =>
    Effect.gen(function*() {
      const { initialize, ping, send } = yield* handlerFor({
        unusedSessionTimeout: "10 seconds",
        sessionIdleTimeout: "1 hour"
      })
      const used = yield* initialize()
      const unused = yield* initialize()
      const listening = yield* initialize()
      expect((yield* ping(used.headers)).status).toBe(200)
      // Notifications do not count as use (a client that only ever says `initialized` holds nothing).
      for (const session of [used, unused, listening]) {
        expect((yield* send("POST", session.headers, { jsonrpc: "2.0", method: "notifications/initialized" })).status)
          .toBe(202)
      }
      // A GET stream is use too.
      expect((yield* send("GET", { ...listening.headers, accept: "text/event-stream" })).status).toBe(200)
      yield* elapse(9)
      expect((yield* ping(unused.headers)).status).toBe(200)
      // That ping used it: from now on it has the idle timeout, like the others.
      const late = yield* initialize()
      yield* elapse(20)
      for (const session of [used, unused, listening]) expect((yield* ping(session.headers)).status).toBe(200)
      expect((yield* ping(late.headers)).status).toBe(404)
    }))

  it.scoped("lets one client hold at most maxSessionsPerClient sessions (429), leaving room for others", () =>
    Effect.gen(function*() {
      const { initialize, send } = yield* handlerFor({ maxSessions: 5, maxSessionsPerClient: 2 })
      const first = yield* initialize("198.51.100.7")
      yield* initialize("198.51.100.7")
      const third = yield* initialize("198.51.100.7")
      expect(third.status).toBe(429)
      expect(JSON.parse(third.body).error).toMatchObject({
        code: -32000,
        message: expect.stringMatching(/maximum of 2 sessions/)
      })
      // The same client over a dual-stack listener is the same client.
      expect((yield* initialize("::ffff:198.51.100.7")).status).toBe(429)
      // Everyone else is still served.
      expect((yield* initialize("203.0.113.9")).status).toBe(200)
      // Ending a session frees its place.
      expect((yield* send("DELETE", first.headers)).status).toBe(200)
      expect((yield* initialize("198.51.100.7")).status).toBe(200)
    }))

  it.scoped("frees a client's place when its initialize fails, and counts nothing without a limit", () =>
    Effect.gen(function*() {
      const limited = yield* handlerFor({ maxSessionsPerClient: 1 })
      const bad = yield* limited.send("POST", JSON_AND_SSE, { jsonrpc: "2.0", id: 1, method: "initialize", params: {} })
      expect(bad.status).toBe(400)
      expect((yield* limited.initialize()).status).toBe(200)
      const open = yield* handlerFor({ maxSessions: 50 })
      for (let i = 0; i < 50; i++) expect((yield* open.initialize()).status).toBe(200)
      expect((yield* open.initialize()).status).toBe(503)
    }))
})

describe("Streamable HTTP over node:http: fair session limits", () => {
  it.scopedLive("one client filling the session cap leaves the others served, and its unused sessions expire", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(McpServer.layer({ name: "s", version: "1" }), {
        maxSessions: 20,
        maxSessionsPerClient: 5,
        // Long enough that none expires while the ten initializes, or the last ping, are still on their way.
        unusedSessionTimeout: "1 second"
      })
      const opened = yield* promise(() =>
        Promise.all(Array.from({ length: 10 }, () => raw(url, { headers: JSON_AND_SSE, body: initializeBody() })))
      )
      expect(opened.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 429, 429, 429, 429, 429])
      // Unused, they expire: the client gets its places back (polled, never timed: the test's timeout is the bound).
      let again = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      while (again.status === 429) {
        yield* Effect.sleep("20 millis")
        again = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      }
      expect(again.status).toBe(200)
      const headers = { ...JSON_AND_SSE, "mcp-session-id": String(again.headers["mcp-session-id"]) }
      expect((yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: 1, method: "ping" } }))).status)
        .toBe(200)
    }))
})
