/**
 * Handshake-era sessions that outlive their process: two endpoints ("nodes")
 * share one `SessionStore` and one `EventStore`, and a session opened on the
 * first continues on the second once the first is gone.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Logger, Option, Queue, Scope, TestClock } from "effect"
import {
  EventStore,
  McpServer,
  ProtectedResource,
  RequestContext,
  SessionStore,
  StreamableHttp,
  TokenVerifier
} from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { request as httpRequest } from "node:http"
import { flush } from "./helpers.js"
import { JSON_AND_SSE, openSession, promise, raw, sseMessages } from "./httpHelpers.js"

const WATCHED = "file:///watched.txt"

/**
 * The server every node runs; `steps` reports progress 1, waits for `latch`, then reports 2 and 3. The watched
 * resource says in `watching` when a node starts and stops watching it for its subscribers.
 */
const serverWith = (latch: Deferred.Deferred<void>, watching: Queue.Queue<string>) =>
  Layer.mergeAll(
    McpServer.resource(WATCHED, {
      subscribe: () => Effect.acquireRelease(watching.offer("start"), () => watching.offer("stop"))
    }, () => Effect.succeed("watched")),
    McpServer.tool("whoami", { description: "The session as the handler sees it" }, () =>
      Effect.map(RequestContext.current, (ctx) =>
        JSON.stringify({
          sessionId: ctx.sessionId,
          protocolVersion: ctx.protocolVersion,
          clientInfo: ctx.clientInfo,
          clientCapabilities: ctx.clientCapabilities,
          logLevel: ctx.logLevel
        }))),
    McpServer.tool("logs", { description: "Logs at info and at error" }, () =>
      Effect.logInfo("quiet line").pipe(Effect.zipRight(Effect.logError("loud line")), Effect.as("logged"))),
    McpServer.tool("touch", { description: "Updates the watched resource" }, () =>
      Effect.as(McpServer.notifyResourceUpdated(WATCHED), "touched")),
    McpServer.tool("hang", { description: "Reports progress, then never answers" }, () =>
      Effect.zipRight(RequestContext.progress(1, 2, "started"), Effect.never)),
    McpServer.tool("steps", { description: "Three steps, the last two once released" }, () =>
      Effect.gen(function*() {
        yield* RequestContext.progress(1, 3, "step 1")
        // The client polls from here (SEP-1699): its response ends, the rest is only stored.
        yield* RequestContext.closeStream
        yield* Deferred.await(latch)
        yield* RequestContext.progress(2, 3, "step 2")
        yield* RequestContext.progress(3, 3, "step 3")
        return "stepped"
      }))
  ).pipe(Layer.provideMerge(McpServer.layer({ name: "nodes", version: "1.0.0" })))

/** What the nodes of one deployment share, and how to start one; `extra` goes beside the server (its protection). */
const deployment = (
  sessions: SessionStore.Service = SessionStore.makeMemory().pipe(Effect.runSync),
  extra: Layer.Layer<never> = Layer.empty,
  events: EventStore.Service = EventStore.makeMemory()
) =>
  Effect.gen(function*() {
    const latch = yield* Deferred.make<void>()
    const watching = yield* Queue.unbounded<string>()
    const Server = Layer.merge(serverWith(latch, watching), extra)
    const node = (options: NodeHttp.ServeOptions = {}) =>
      NodeHttp.serve(Server, { port: 0, retryMillis: 20, ...options }).pipe(
        Effect.provideService(SessionStore.SessionStore, sessions),
        Effect.provideService(EventStore.EventStore, events)
      )
    /** A node in a scope of its own, which the test closes to end it. */
    const mortalNode = (options?: NodeHttp.ServeOptions) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const served = yield* Scope.extend(node(options), scope)
        return { ...served, stop: Scope.close(scope, Exit.void) }
      })
    return { sessions, events, latch, watching, node, mortalNode }
  })

const initializeParams = {
  protocolVersion: "2025-11-25",
  capabilities: {},
  clientInfo: { name: "raw-http", version: "1" }
}

const call = (id: number, name: string, meta?: Record<string, unknown>) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {}, ...(meta !== undefined ? { _meta: meta } : {}) }
})

const request = (id: number, method: string, params?: object) => ({
  jsonrpc: "2.0",
  id,
  method,
  ...(params !== undefined ? { params } : {})
})

/** The text of a tool result in a JSON or SSE body. */
const resultText = (body: string): string => {
  const messages = body.trimStart().startsWith("{") ? [JSON.parse(body)] : sseMessages(body).map((m) => m.message)
  const response = messages.find((m) => "result" in m || "error" in m)
  return response?.result?.content?.[0]?.text ?? JSON.stringify(response)
}

/** The JSON a tool (`whoami`) answered with, from a client's result. */
const parsed = (result: McpSchema.CallToolResult) => {
  const first = result.content[0]
  return JSON.parse(first?.type === "text" ? first.text : "null")
}

/** An SSE response read as it comes: `waitFor` resolves once the body holds `text`. Closed with the scope. */
const openStream = (url: string, headers: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      let body = ""
      const waiting: Array<{ text: string; resolve: (body: string) => void }> = []
      const check = () => {
        for (const w of [...waiting]) {
          if (body.includes(w.text)) {
            waiting.splice(waiting.indexOf(w), 1)
            w.resolve(body)
          }
        }
      }
      const req = httpRequest(url, { method: "GET", headers: { ...headers, accept: "text/event-stream" } }, (res) => {
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          body += chunk
          check()
        })
      })
      req.on("error", () => {})
      req.end()
      const waitFor = (text: string) =>
        promise(() =>
          new Promise<string>((resolve) => {
            waiting.push({ text, resolve })
            check()
          })
        )
      return { waitFor, close: () => req.destroy() }
    }),
    (stream) => Effect.sync(stream.close)
  )

describe("SessionStore over Streamable HTTP", () => {
  it.scopedLive("a session opened on A continues on B, with its log level and subscriptions, once A has stopped", () =>
    Effect.gen(function*() {
      const { mortalNode, node, sessions, watching } = yield* deployment()
      const a = yield* mortalNode()
      const { headers, sessionId } = yield* promise(() => openSession(a.url))
      for (
        const [id, method, params] of [[1, "logging/setLevel", { level: "error" }], [2, "resources/subscribe", {
          uri: WATCHED
        }]] as const
      ) {
        expect((yield* promise(() => raw(a.url, { headers, body: request(id, method, params) }))).status).toBe(200)
      }
      const onA = yield* promise(() => raw(a.url, { headers, body: call(3, "logs") }))
      const streamOnA = sseMessages(onA.body)[0]!.id!.split("/")[0]!
      expect(Option.getOrThrow(yield* sessions.load(sessionId))).toMatchObject({
        protocolVersion: "2025-11-25",
        logLevel: "error",
        subscriptions: [WATCHED],
        clientInfo: { name: "raw-http", version: "1" }
      })
      yield* a.stop
      // A watched the resource while the session was subscribed there, and stopped when it let the session go.
      expect(Array.from(yield* Queue.takeAll(watching))).toEqual(["start", "stop"])

      const b = yield* node()
      const whoami = yield* promise(() => raw(b.url, { headers, body: call(4, "whoami") }))
      // B, taking the session up, watches it for the subscription it brought.
      expect(yield* Queue.take(watching)).toBe("start")
      expect(whoami.status).toBe(200)
      expect(whoami.headers["mcp-session-id"]).toBe(sessionId)
      expect(JSON.parse(resultText(whoami.body))).toEqual({
        sessionId,
        protocolVersion: "2025-11-25",
        clientInfo: { name: "raw-http", version: "1" },
        clientCapabilities: {},
        logLevel: "error"
      })
      // The log level still filters: only the error reaches the client.
      const logs = yield* promise(() => raw(b.url, { headers, body: call(5, "logs") }))
      expect(logs.body).toContain("loud line")
      expect(logs.body).not.toContain("quiet line")
      // A fresh stream id, never one of A's, that still names the session up to its last `-`.
      const streamOnB = sseMessages(logs.body)[0]!.id!.split("/")[0]!
      expect(streamOnB).not.toBe(streamOnA)
      expect(streamOnB.slice(0, streamOnB.lastIndexOf("-"))).toBe(sessionId)
      // The subscription made on A brings resources/updated on B's GET stream.
      const stream = yield* openStream(b.url, headers)
      yield* stream.waitFor("retry:")
      expect((yield* promise(() => raw(b.url, { headers, body: call(6, "touch") }))).status).toBe(200)
      const updated = yield* stream.waitFor("resources/updated")
      expect(sseMessages(updated).map((m) => m.message)).toContainEqual({
        jsonrpc: "2.0",
        method: "notifications/resources/updated",
        params: { uri: WATCHED }
      })
    }))

  it.scopedLive("continues a session on B when A was interrupted mid-request, without a graceful drain", () =>
    Effect.gen(function*() {
      const { node } = yield* deployment()
      const ready = yield* Deferred.make<NodeHttp.Served>()
      const nodeA = yield* Effect.fork(
        Effect.scoped(
          Effect.flatMap(node({ shutdownGracePeriod: 0 }), (served) => Deferred.succeed(ready, served)).pipe(
            Effect.zipRight(Effect.never)
          )
        )
      )
      const a = yield* Deferred.await(ready)
      const { headers, sessionId } = yield* promise(() => openSession(a.url))
      yield* promise(() => raw(a.url, { headers, body: request(1, "logging/setLevel", { level: "warning" }) }))
      // A request in flight on A when it goes: it is lost, the session is not.
      const hanging = raw(a.url, { headers, body: call(2, "hang", { progressToken: "h" }), until: "started" })
      yield* promise(() => hanging)
      yield* Fiber.interrupt(nodeA)

      const b = yield* node()
      const whoami = yield* promise(() => raw(b.url, { headers, body: call(3, "whoami") }))
      expect(JSON.parse(resultText(whoami.body))).toMatchObject({ sessionId, logLevel: "warning" })
      // The same request id as the lost one is free again on B.
      expect((yield* promise(() => raw(b.url, { headers, body: request(2, "ping") }))).status).toBe(200)
    }))

  it.scopedLive("our client continues transparently when its requests go to B, and its DELETE removes the session", () =>
    Effect.gen(function*() {
      const { mortalNode, node, sessions } = yield* deployment()
      const a = yield* mortalNode()
      const b = yield* node()
      // The balancer in front: the client always speaks to A's URL, sent to whichever node `target` is.
      let target = a.port
      const base = yield* Effect.provide(HttpClient.HttpClient, NodeHttpClient.layer)
      const balanced = HttpClient.mapRequest(
        base,
        (req) => HttpClientRequest.setUrl(req, req.url.replace(`:${a.port}/`, `:${target}/`))
      )
      const clientScope = yield* Scope.make()
      const client = yield* NodeHttp.connect(a.url, { protocolVersion: "2025-11-25" }).pipe(
        Effect.provideService(HttpClient.HttpClient, balanced),
        Scope.extend(clientScope)
      )
      yield* client.setLevel("error")
      const before = parsed(yield* client.callTool("whoami"))
      expect(before.logLevel).toBe("error")

      // A goes; the balancer sends the session to B.
      target = b.port
      yield* a.stop
      const after = parsed(yield* client.callTool("whoami"))
      expect(after).toEqual(before)
      const logged = yield* client.callTool("logs")
      expect(logged.content).toEqual([{ type: "text", text: "logged" }])
      // Its GET stream carries on on B too (resumed from A's with Last-Event-ID): a resource update sent there reaches
      // it, whether the stream was back before the update or not.
      const notifications = yield* client.subscribe
      yield* client.subscribeResource(WATCHED)
      yield* client.callTool("touch")
      const updated = yield* Queue.take(notifications).pipe(
        Effect.repeat({ until: (n) => n.method === "notifications/resources/updated" })
      )
      expect(updated.params).toEqual({ uri: WATCHED })

      // Closing the client ends the session on B: no node can continue it any more.
      yield* Scope.close(clientScope, Exit.void)
      expect(Option.isNone(yield* sessions.load(before.sessionId))).toBe(true)
      const c = yield* node()
      const gone = yield* promise(() =>
        raw(c.url, {
          headers: { ...JSON_AND_SSE, "mcp-session-id": before.sessionId, "mcp-protocol-version": "2025-11-25" },
          body: request(1, "ping")
        })
      )
      expect(gone.status).toBe(404)
    }))

  it.scopedLive("a stream with progress opened on A is resumed on B with Last-Event-ID, and replays what was stored", () =>
    Effect.gen(function*() {
      const { events, latch, mortalNode, node } = yield* deployment()
      const a = yield* mortalNode()
      const { headers } = yield* promise(() => openSession(a.url))
      // The handler closes the stream after step 1; the client would poll from its last event id.
      const first = yield* promise(() => raw(a.url, { headers, body: call(1, "steps", { progressToken: "s" }) }))
      expect(first.ended).toBe(true)
      const seen = sseMessages(first.body)
      expect(seen.map((m) => m.message.params?.message)).toEqual(["step 1"])
      const lastEventId = seen[0]!.id!
      // Steps 2 and 3 and the answer are stored while no response is attached; then A stops (after its drain).
      yield* Deferred.succeed(latch, undefined)
      yield* a.stop

      const b = yield* node()
      const resumed = yield* promise(() =>
        raw(b.url, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream", "last-event-id": lastEventId }
        })
      )
      expect(resumed.status).toBe(200)
      expect(resumed.ended).toBe(true)
      const replayed = sseMessages(resumed.body)
      expect(replayed.map((m) => m.message.params?.message ?? m.message.result?.content?.[0]?.text)).toEqual([
        "step 2",
        "step 3",
        "stepped"
      ])
      expect(replayed[0]!.id!.split("/")[0]).toBe(lastEventId.split("/")[0])
      // Ended on B, the session takes the stream A opened with it.
      expect((yield* promise(() => raw(b.url, { method: "DELETE", headers }))).status).toBe(200)
      expect(Option.isNone(yield* events.replayAfter(lastEventId))).toBe(true)
    }))

  it.scopedLive("an event stored (by a store that answers later) while A shuts down is still resumed on B", () =>
    Effect.gen(function*() {
      const memory = EventStore.makeMemory()
      const gate = yield* Deferred.make<void>()
      const appending = yield* Deferred.make<void>()
      const appended = yield* Deferred.make<void>()
      // Not the memory store itself: the endpoint goes through its effects, and each append waits for the gate.
      const slow: EventStore.Service = {
        ...memory,
        append: (streamId, message) =>
          Deferred.succeed(appending, undefined).pipe(
            Effect.zipRight(Deferred.await(gate)),
            Effect.zipRight(memory.append(streamId, message)),
            Effect.tap(() => Deferred.succeed(appended, undefined))
          )
      }
      const { mortalNode, node } = yield* deployment(undefined, undefined, slow)
      const a = yield* mortalNode({ shutdownGracePeriod: 0 })
      const { headers } = yield* promise(() => openSession(a.url))
      // The stream opens (its priming event names it) while its first event is still being stored.
      const opened = yield* promise(() =>
        raw(a.url, { headers, body: call(1, "hang", { progressToken: "h" }), until: "retry:" })
      )
      const priming = /id: (\S+)/.exec(opened.body)![1]!
      // The handler's first event is being stored (the priming line comes before it) when A stops: its request ends
      // with the shutdown, and the stream must keep the event for B (it was removed as if the client had cancelled).
      yield* Deferred.await(appending)
      yield* a.stop
      yield* Deferred.succeed(gate, undefined)
      yield* Deferred.await(appended)

      const b = yield* node()
      const resumed = yield* promise(() =>
        raw(b.url, { method: "GET", headers: { ...headers, accept: "text/event-stream", "last-event-id": priming } })
      )
      expect(resumed.status).toBe(200)
      expect(resumed.ended).toBe(true)
      // Then the request's last word, stored for B: A never finished it, and B cannot, so the client sends it again.
      const [progress, answer] = sseMessages(resumed.body).map((m) => m.message)
      expect(progress?.params?.message).toBe("started")
      expect(answer?.id).toBe(1)
      expect(answer?.error?.message).toMatch(/^The server shut down before this request completed/)
    }))

  it.scopedLive("DELETE on B ends a session A opened, held or not: no node can revive it", () =>
    Effect.gen(function*() {
      const { mortalNode, node, sessions } = yield* deployment()
      const a = yield* mortalNode()
      const revivedFirst = yield* promise(() => openSession(a.url))
      const neverRevived = yield* promise(() => openSession(a.url))
      yield* a.stop
      const b = yield* node()
      expect((yield* promise(() => raw(b.url, { headers: revivedFirst.headers, body: request(1, "ping") }))).status)
        .toBe(200)
      for (const { headers, sessionId } of [revivedFirst, neverRevived]) {
        expect((yield* promise(() => raw(b.url, { method: "DELETE", headers }))).status).toBe(200)
        expect(Option.isNone(yield* sessions.load(sessionId))).toBe(true)
      }
      const c = yield* node()
      for (const { headers } of [revivedFirst, neverRevived]) {
        expect((yield* promise(() => raw(c.url, { headers, body: request(2, "ping") }))).status).toBe(404)
        expect((yield* promise(() => raw(c.url, { method: "DELETE", headers }))).status).toBe(404)
      }
    }))

  it.scopedLive("a 2025-03-26 session continues on B with a batch as its first request there", () =>
    Effect.gen(function*() {
      const { mortalNode, node } = yield* deployment()
      const a = yield* mortalNode()
      const { headers } = yield* promise(() => openSession(a.url, "2025-03-26"))
      yield* a.stop
      const b = yield* node()
      const batch = yield* promise(() => raw(b.url, { headers, body: [request(1, "ping"), request(2, "ping")] }))
      expect(batch.status).toBe(200)
      expect(JSON.parse(batch.body)).toEqual([{ jsonrpc: "2.0", id: 1, result: {} }, {
        jsonrpc: "2.0",
        id: 2,
        result: {}
      }])
    }))

  it.scopedLive("an id no node opened is 404 on every method", () =>
    Effect.gen(function*() {
      const { node } = yield* deployment()
      const b = yield* node()
      const headers = { ...JSON_AND_SSE, "mcp-session-id": crypto.randomUUID(), "mcp-protocol-version": "2025-11-25" }
      const post = yield* promise(() => raw(b.url, { headers, body: request(1, "ping") }))
      expect(post.status).toBe(404)
      expect(JSON.parse(post.body)).toMatchObject({
        id: 1,
        error: { message: expect.stringContaining("Session not found") }
      })
      expect(
        (yield* promise(() => raw(b.url, { method: "GET", headers: { ...headers, accept: "text/event-stream" } })))
          .status
      ).toBe(404)
      expect((yield* promise(() => raw(b.url, { method: "DELETE", headers }))).status).toBe(404)
    }))

  it.scopedLive("concurrent first requests for a session revive it once", () =>
    Effect.gen(function*() {
      const memory = yield* SessionStore.makeMemory()
      const loads = { count: 0 }
      const loading = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      // Every load waits for the test: the requests all arrive while the first revival is under way.
      const slow: SessionStore.Service = {
        ...memory,
        load: (sessionId) =>
          Effect.sync(() => loads.count++).pipe(
            Effect.zipRight(Deferred.succeed(loading, undefined)),
            Effect.zipRight(Deferred.await(release)),
            Effect.zipRight(memory.load(sessionId))
          )
      }
      const { mortalNode, node } = yield* deployment(slow)
      const a = yield* mortalNode()
      const { headers } = yield* promise(() => openSession(a.url))
      yield* a.stop
      const b = yield* node()
      const pings = [1, 2, 3].map((id) => raw(b.url, { headers, body: request(id, "ping") }))
      const get = raw(b.url, { method: "GET", headers: { ...headers, accept: "text/event-stream" }, until: "retry:" })
      // Released once the first revival has begun: requests that arrive before then join it, later ones find it.
      yield* Deferred.await(loading)
      yield* Deferred.succeed(release, undefined)
      const answers = yield* promise(() => Promise.all([...pings, get]))
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(loads.count).toBe(1)
    }))

  it.scopedLive("on a protected endpoint, a session continues only for the principal that opened it", () =>
    Effect.gen(function*() {
      // Each token is its own principal.
      const Protected = ProtectedResource.layer({
        resource: "http://127.0.0.1/mcp",
        authorizationServers: ["https://issuer.example"]
      }).pipe(Layer.provide(TokenVerifier.layer((token) => Effect.succeed({ subject: token, scopes: [] }))))
      const { mortalNode, node, sessions } = yield* deployment(undefined, Protected)
      const a = yield* mortalNode()
      const as = (token: string, headers: Record<string, string>) => ({ ...headers, authorization: `Bearer ${token}` })
      const opened = yield* promise(() =>
        raw(a.url, { headers: as("alice", JSON_AND_SSE), body: request(0, "initialize", initializeParams) })
      )
      const sessionId = String(opened.headers["mcp-session-id"])
      const headers = { ...JSON_AND_SSE, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }
      yield* a.stop
      const b = yield* node()
      // To anyone else the session does not exist, on any method, and it stays for its owner.
      const mallory = as("mallory", headers)
      expect((yield* promise(() => raw(b.url, { headers: mallory, body: request(1, "ping") }))).status).toBe(404)
      expect((yield* promise(() => raw(b.url, { method: "DELETE", headers: mallory }))).status).toBe(404)
      expect(Option.isSome(yield* sessions.load(sessionId))).toBe(true)
      expect((yield* promise(() => raw(b.url, { headers: as("alice", headers), body: request(2, "ping") }))).status)
        .toBe(200)
      expect((yield* promise(() => raw(b.url, { headers: mallory, body: request(3, "ping") }))).status).toBe(404)
    }))

  it.scopedLive("a revived session counts against the node's session limit", () =>
    Effect.gen(function*() {
      const { mortalNode, node, sessions } = yield* deployment()
      const a = yield* mortalNode()
      const { headers, sessionId } = yield* promise(() => openSession(a.url))
      yield* a.stop
      const b = yield* node({ maxSessions: 1 })
      yield* promise(() => openSession(b.url))
      const refused = yield* promise(() => raw(b.url, { headers, body: request(1, "ping") }))
      expect(refused.status).toBe(503)
      // Refused here, not lost: another node may still continue it.
      expect(Option.isSome(yield* sessions.load(sessionId))).toBe(true)
    }))
})

/**
 * A counting store around a memory store (`shared`, or its own), and a handler over it driven without a socket,
 * under the `TestClock`. `failing`: every save dies; `loadsWaitFor`: every load waits for it.
 */
const handlerWith = (
  options: StreamableHttp.Options,
  setup: {
    readonly shared?: SessionStore.Service
    readonly failing?: boolean
    readonly loadsWaitFor?: Deferred.Deferred<void>
  } = {}
) =>
  Effect.gen(function*() {
    const memory = setup.shared ?? (yield* SessionStore.makeMemory())
    const counts = { save: 0, touch: 0, remove: 0, load: 0 }
    const counted = <A>(name: keyof typeof counts, effect: Effect.Effect<A>) =>
      Effect.zipRight(Effect.sync(() => counts[name]++), effect)
    const store: SessionStore.Service = {
      load: (id) =>
        counted(
          "load",
          Effect.zipRight(setup.loadsWaitFor ? Deferred.await(setup.loadsWaitFor) : Effect.void, memory.load(id))
        ),
      save: (id, state) =>
        setup.failing ? Effect.dieMessage("the database is down") : counted("save", memory.save(id, state)),
      touch: (id) => counted("touch", memory.touch(id)),
      remove: (id) => counted("remove", memory.remove(id))
    }
    const scope = yield* Scope.make()
    const context = yield* Layer.build(serverWith(yield* Deferred.make<void>(), yield* Queue.unbounded<string>())).pipe(
      Scope.extend(scope)
    )
    const handle = yield* StreamableHttp.makeHandler(options).pipe(
      Effect.provide(context),
      Effect.provideService(SessionStore.SessionStore, store),
      Scope.extend(scope)
    )
    const send = (method: string, headers: Record<string, string>, body?: unknown) =>
      Effect.async<{ readonly status: number; readonly headers: Record<string, string> }>((resume) =>
        handle({
          method,
          header: (name) => ({ host: "127.0.0.1", ...headers })[name],
          body: (_, done) => done(body === undefined ? "" : JSON.stringify(body))
        }, (reply) => {
          if (reply._tag === "Stream") reply.onClose()
          resume(
            Effect.succeed({ status: reply._tag === "Stream" ? 200 : reply.status, headers: { ...reply.headers } })
          )
        })
      )
    const initialize = Effect.map(
      send("POST", JSON_AND_SSE, request(0, "initialize", initializeParams)),
      (response) => ({
        status: response.status,
        sessionId: response.headers["mcp-session-id"] ?? "",
        headers: {
          ...JSON_AND_SSE,
          "mcp-session-id": response.headers["mcp-session-id"] ?? "",
          "mcp-protocol-version": "2025-11-25"
        }
      })
    )
    return { counts, memory, send, initialize, stop: Scope.close(scope, Exit.void) }
  })

/** Lets the clock run `seconds` forward, ten seconds at a time, so that every sweep due on the way runs. */
const elapse = (seconds: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds; i += 10) {
      yield* TestClock.adjust("10 seconds")
      yield* flush
    }
  })

describe("SessionStore: when the endpoint saves, touches and removes", () => {
  it.effect("saves on initialize and on each change, touches once per sweep, removes an idle session", () =>
    Effect.gen(function*() {
      // Sweeps every 30 seconds (half the unused timeout).
      const node = yield* handlerWith({ sessionIdleTimeout: "10 minutes", unusedSessionTimeout: "1 minute" })
      const { headers, sessionId, status } = yield* node.initialize
      expect(status).toBe(200)
      expect(node.counts.save).toBe(1)
      yield* node.send("POST", headers, request(1, "resources/subscribe", { uri: WATCHED }))
      yield* node.send("POST", headers, request(2, "resources/unsubscribe", { uri: WATCHED }))
      expect(node.counts.save).toBe(3)
      expect(Option.getOrThrow(yield* node.memory.load(sessionId)).subscriptions).toEqual([])
      // Requests cost no store round trip: the next sweep touches the session once.
      for (let id = 3; id < 13; id++) yield* node.send("POST", headers, request(id, "ping"))
      expect(node.counts.touch).toBe(0)
      yield* elapse(30)
      expect(node.counts.touch).toBe(1)
      // A sweep with nothing used since the last touches nothing.
      yield* elapse(30)
      expect(node.counts.touch).toBe(1)
      // Idle past its timeout: closed, and forgotten by the store.
      yield* elapse(11 * 60)
      expect(node.counts.remove).toBe(1)
      expect(Option.isNone(yield* node.memory.load(sessionId))).toBe(true)
      yield* node.stop
    }))

  it.effect("leaves sessions in the store when the endpoint shuts down, for another process to continue", () =>
    Effect.gen(function*() {
      const node = yield* handlerWith({})
      const { sessionId } = yield* node.initialize
      yield* node.stop
      expect(node.counts.remove).toBe(0)
      expect(Option.isSome(yield* node.memory.load(sessionId))).toBe(true)
    }))

  it.effect("a store that fails costs a session its survival, not its use", () =>
    Effect.gen(function*() {
      const node = yield* handlerWith({}, { failing: true })
      const { headers, status } = yield* node.initialize
      expect(status).toBe(200)
      expect((yield* node.send("POST", headers, request(1, "logging/setLevel", { level: "info" }))).status).toBe(200)
      expect((yield* node.send("POST", headers, request(2, "ping"))).status).toBe(200)
      yield* node.stop
    }).pipe(Effect.provide(Logger.remove(Logger.defaultLogger))))

  it.effect("concurrent first requests (POSTs and a GET) revive a session once", () =>
    Effect.gen(function*() {
      const a = yield* handlerWith({})
      const { headers, sessionId } = yield* a.initialize
      yield* a.stop
      const release = yield* Deferred.make<void>()
      const b = yield* handlerWith({}, { shared: a.memory, loadsWaitFor: release })
      const ping = (id: number) => b.send("POST", headers, request(id, "ping"))
      const requests = yield* Effect.fork(
        Effect.all([ping(1), ping(2), b.send("GET", { ...headers, accept: "text/event-stream" }), ping(3)], {
          concurrency: "unbounded"
        })
      )
      yield* flush
      // Every request has arrived and waits for the one revival.
      expect(b.counts.load).toBe(1)
      yield* Deferred.succeed(release, undefined)
      expect((yield* Fiber.join(requests)).map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(b.counts.load).toBe(1)
      // A DELETE then ends the revived session, and the store forgets it.
      expect((yield* b.send("DELETE", headers)).status).toBe(200)
      expect(Option.isNone(yield* a.memory.load(sessionId))).toBe(true)
      yield* b.stop
    }))
})
