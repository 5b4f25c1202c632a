import { HttpRouter } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Option, Queue, Ref, Schema, Scope } from "effect"
import { EventStore, McpClient, McpServer, RequestContext, StreamableHttp, StreamableHttpClient } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { createServer, request as httpRequest } from "node:http"
import type { Server as NodeServer } from "node:http"
import { Grow, TestServer, Unencodable } from "./fixtures.js"
import { pollUntil } from "./helpers.js"
import {
  initializeBody,
  JSON_AND_SSE,
  leave,
  openSession,
  promise,
  raw,
  readLate,
  serveHttp,
  serveHttpWatching,
  servePlatform,
  sseMessages,
  startExample
} from "./httpHelpers.js"

const Chatty = McpServer.tool("chatty", { description: "Logs, then answers" }, () =>
  Effect.gen(function*() {
    yield* RequestContext.log("info", "working")
    yield* RequestContext.progress(1, 2)
    return "chatted"
  }))

const Ask = McpServer.tool(
  "ask",
  { description: "Samples the client's model" },
  () => Effect.map(RequestContext.sample("hi", { maxTokens: 10 }), (r) => JSON.stringify(r.content))
)

const Poll = McpServer.tool("poll", { description: "Closes its stream, then answers" }, () =>
  Effect.gen(function*() {
    yield* RequestContext.closeStream
    yield* Effect.sleep("200 millis")
    return "polled result"
  }))

const Slow = McpServer.tool(
  "slow",
  { description: "Takes 300 ms", parameters: { fail: Schema.Boolean } },
  ({ fail }) =>
    Effect.sleep("300 millis").pipe(
      Effect.zipRight(fail ? Effect.fail(new Error("failed on purpose")) : Effect.succeed("slow done"))
    )
)

const Stall = McpServer.tool("stall", {
  description: "Never answers (after a log, if asked)",
  parameters: { log: Schema.Boolean }
}, ({ log }) => Effect.zipRight(log ? RequestContext.log("info", "hanging") : Effect.void, Effect.never))

const Flood = McpServer.tool(
  "flood",
  { description: "Logs 20 MB, then answers" },
  () =>
    Effect.as(
      Effect.forEach(Array.from({ length: 2000 }), () => RequestContext.log("info", "x".repeat(10_000)), {
        discard: true
      }),
      "flooded"
    )
)

/** How many notifications an SSE body says were dropped for a client that did not keep up. */
const droppedIn = (body: string) =>
  [...body.matchAll(/^: (\d+) notifications dropped/gm)].reduce((n, m) => n + Number(m[1]), 0)

/**
 * Calls `late_flood` and reads nothing until its 20 MB of logs are written: the response still ends with the result,
 * every log is either received or counted as dropped, and some were dropped.
 */
const expectLateFloodServed = (url: string) =>
  Effect.gen(function*() {
    const { headers } = yield* promise(() => openSession(url))
    const done = new Promise<void>((resolve) => (flooded = resolve))
    const late = yield* promise(() => readLate(url, headers, call(1, "late_flood"), done))
    expect(late.complete).toBe(true)
    const messages = sseMessages(late.body)
    expect(messages.at(-1)?.message.result.content[0].text).toBe("flooded")
    expect(droppedIn(late.body)).toBeGreaterThan(0)
    expect(messages.length - 1 + droppedIn(late.body)).toBe(2000)
  })

/** Resolved by `late_flood` once it has written its logs (set by the test that uses it). */
let flooded: () => void = () => {}

const LateFlood = McpServer.tool(
  "late_flood",
  { description: "Logs 20 MB, says so, then answers" },
  () =>
    Effect.gen(function*() {
      yield* Effect.forEach(Array.from({ length: 2000 }), () => RequestContext.log("info", "x".repeat(10_000)), {
        discard: true
      })
      yield* Effect.sync(() => flooded())
      return "flooded"
    })
)

const Hoard = McpServer.tool(
  "hoard",
  { description: "Sends 20 MB of requests to the client, which nobody can drop" },
  () =>
    Effect.flatMap(
      RequestContext.current,
      (ctx) =>
        Effect.forEach(Array.from({ length: 2000 }), () => ctx.request("test/hoard", { pad: "x".repeat(10_000) }), {
          concurrency: "unbounded",
          discard: true
        }).pipe(Effect.as("hoarded"))
    )
)

/**
 * Sends 20 MB of requests to the client (which nobody can drop) in one go, then answers at once: the response
 * comes while the client is still not reading.
 */
const Burst = McpServer.tool(
  "burst",
  { description: "Sends 20 MB of requests to the client, then answers without waiting for them" },
  () =>
    Effect.gen(function*() {
      const ctx = yield* RequestContext.current
      for (let i = 0; i < 2000; i++) {
        yield* Effect.forkDaemon(Effect.ignore(ctx.request("test/burst", { pad: "x".repeat(10_000) })))
      }
      // Every request goes out before the answer does.
      yield* Effect.yieldNow()
      return "burst done"
    })
)

const Server = Layer.mergeAll(Chatty, Ask, Poll, Slow, Stall, Flood, LateFlood, Hoard, Burst, Grow).pipe(
  Layer.provideMerge(TestServer)
)

/** A `raw` option that completes `deferred` once the response's body shows `text`. */
const opened = (deferred: Deferred.Deferred<void>, text: string) => ({
  text,
  then: () => Deferred.unsafeDone(deferred, Exit.void)
})

/**
 * `Server` with a `gate` tool that says when its call started, answers once `release` is done, and says when its
 * handler ended (whether it answered, or was interrupted): a request held in flight for exactly as long as a test
 * needs, whatever the machine's speed.
 */
const gated = Effect.gen(function*() {
  const started = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  const ended = yield* Deferred.make<boolean>()
  const Gate = McpServer.tool(
    "gate",
    { description: "Answers once released" },
    () =>
      Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Deferred.await(release)),
        Effect.as("released"),
        Effect.onExit((exit) => Deferred.succeed(ended, Exit.isSuccess(exit)))
      )
  )
  return { server: Gate.pipe(Layer.provideMerge(Server)), started, release, ended }
})

const call = (id: number | string, name: string, args: object = {}, meta?: object) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) }
})

describe("Streamable HTTP: POST", () => {
  it.scopedLive("answers simple requests with JSON and emitting ones with SSE, priming first", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url))
      const json = yield* promise(() => raw(url, { headers, body: call(1, "add", { a: 1, b: 2 }) }))
      expect(json.status).toBe(200)
      expect(json.headers["content-type"]).toMatch(/application\/json/)
      expect(JSON.parse(json.body).result.structuredContent).toEqual({ result: 3 })
      const sse = yield* promise(() => raw(url, { headers, body: call(2, "chatty", {}, { progressToken: "p" }) }))
      expect(sse.headers["content-type"]).toMatch(/text\/event-stream/)
      const blocks = sse.body.split("\n\n")
      expect(blocks[0]).toMatch(/^id: .+\/0\nretry: \d+\ndata: $/)
      const messages = sseMessages(sse.body).map((m) => m.message)
      expect(messages.map((m) => m.method ?? "response")).toEqual([
        "notifications/message",
        "notifications/progress",
        "response"
      ])
      expect(messages[2].result.content[0].text).toBe("chatted")
      const ids = sseMessages(sse.body).map((m) => m.id)
      expect(new Set(ids).size).toBe(ids.length)
    }))

  it.scopedLive("primes by the session's negotiated version, not by the request's version header", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url, "2025-11-25"))
      const sse = yield* promise(() =>
        raw(url, { headers: { ...headers, "mcp-protocol-version": "2025-03-26" }, body: call(1, "chatty") })
      )
      expect(sse.body).toMatch(/^id: \S+\/0\nretry: /)
    }))

  it.scopedLive("sends no priming event to sessions before 2025-11-25", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url, "2025-06-18"))
      const sse = yield* promise(() => raw(url, { headers, body: call(1, "chatty") }))
      expect(sse.body).not.toMatch(/retry:/)
      expect(sseMessages(sse.body)[0]!.message.method).toBe("notifications/message")
    }))

  it.scopedLive("answers notifications and responses with 202", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url))
      const response = yield* promise(() =>
        raw(url, { headers, body: { jsonrpc: "2.0", method: "notifications/roots/list_changed" } })
      )
      expect(response.status).toBe(202)
      const orphan = yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: 99, result: {} } }))
      expect(orphan.status).toBe(202)
    }))

  it.scopedLive("refuses bad headers and bodies with the right status and a clear message", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { maxBodyBytes: 1000 })
      const { headers } = yield* promise(() => openSession(url))
      const cases: Array<[Record<string, string>, string | object, number, RegExp]> = [
        [{ ...headers, accept: "application/json" }, call(1, "add"), 406, /Accept/],
        [{ ...headers, accept: "" }, call(1, "add"), 406, /Accept/],
        [{ ...headers, "content-type": "text/plain" }, call(1, "add"), 415, /Content-Type/],
        // The media type is parsed, not prefix-matched (regression: application/jsonfoo was accepted).
        [{ ...headers, "content-type": "application/jsonfoo" }, call(1, "add"), 415, /Content-Type/],
        // A method that is no string is -32600, as over stdio (regression: it got 202 and no answer).
        [headers, { jsonrpc: "2.0", id: 7, method: 42 }, 400, /method must be a string/],
        [headers, "{oops", 400, /Parse error/],
        [headers, { jsonrpc: "1.0", id: 1, method: "ping" }, 400, /Invalid request/],
        [headers, { jsonrpc: "2.0", id: 1, method: "ping", pad: "x".repeat(2000) }, 413, /exceeds 1000 bytes/],
        [{ ...headers, "mcp-session-id": "" }, call(1, "add"), 404, /Session not found/],
        [{ ...JSON_AND_SSE }, call(1, "add"), 400, /Mcp-Session-Id/],
        [{ ...headers, "mcp-session-id": "nope" }, call(1, "add"), 404, /Session not found/],
        [{ ...headers, "mcp-protocol-version": "1999-01-01" }, call(1, "add"), 400, /Unsupported MCP-Protocol-Version/],
        [{ ...headers, host: "evil.example.com" }, call(1, "add"), 403, /Host/],
        [{ ...headers, origin: "http://evil.example.com" }, call(1, "add"), 403, /Origin/]
      ]
      for (const [h, body, status, message] of cases) {
        const response = yield* promise(() => raw(url, { headers: h, body }))
        expect(response.status, JSON.stringify(h) + response.body).toBe(status)
        expect(JSON.parse(response.body).error.message).toMatch(message)
      }
      const charset = yield* promise(() =>
        raw(url, {
          headers: { ...headers, "content-type": "Application/JSON; charset=utf-8" },
          body: call(9, "add", { a: 1, b: 1 })
        })
      )
      expect(charset.status).toBe(200)
      // The session still works, and a missing version header means 2025-03-26, which is accepted.
      const { "mcp-protocol-version": _, ...noVersion } = headers
      const ok = yield* promise(() => raw(url, { headers: noVersion, body: call(2, "echo", { text: "alive" }) }))
      expect(JSON.parse(ok.body).result.content[0].text).toBe("alive")
      for (const host of ["localhost:1", "127.0.0.1:80", "[::1]:3000"]) {
        const local = yield* promise(() =>
          raw(url, { headers: { ...headers, host, origin: `http://${host}` }, body: call(3, "add", { a: 1, b: 1 }) })
        )
        expect(local.status).toBe(200)
      }
    }))

  it.scopedLive("serves other hosts only when configured", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { dnsRebinding: { allowedHosts: ["mcp.example.com"] } })
      const allowed = yield* promise(() =>
        raw(url, { headers: { ...JSON_AND_SSE, host: "mcp.example.com" }, body: initializeBody() })
      )
      expect(allowed.status).toBe(200)
      const other = yield* promise(() =>
        raw(url, { headers: { ...JSON_AND_SSE, host: "other.example.com" }, body: initializeBody() })
      )
      expect(other.status).toBe(403)
    }))

  it.scopedLive("runs concurrent POSTs on their own streams; one failing leaves the others alone", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url))
      const results = yield* promise(() =>
        Promise.all([
          raw(url, { headers, body: call(1, "slow", { fail: false }) }),
          raw(url, { headers, body: call(2, "slow", { fail: true }) }),
          raw(url, { headers, body: call(3, "slow", { fail: false }) }),
          raw(url, { headers, body: { jsonrpc: "2.0", id: 4, method: "nope" } })
        ])
      )
      const bodies = results.map((r) => JSON.parse(r.body))
      expect(bodies[0].result.content[0].text).toBe("slow done")
      expect(bodies[1].result.isError).toBe(true)
      expect(bodies[2].result.content[0].text).toBe("slow done")
      expect(bodies[3].error.code).toBe(-32601)
    }))

  it.scopedLive("accepts batches only on 2025-03-26 sessions", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const modern = yield* promise(() => openSession(url))
      const refused = yield* promise(() =>
        raw(url, { headers: modern.headers, body: [call(1, "add", { a: 1, b: 1 })] })
      )
      expect(refused.status).toBe(400)
      expect(JSON.parse(refused.body).error.message).toMatch(/batches/)
      const old = yield* promise(() => openSession(url, "2025-03-26"))
      const batch = yield* promise(() =>
        raw(url, {
          headers: old.headers,
          body: [call(1, "add", { a: 1, b: 1 }), { jsonrpc: "2.0", method: "notifications/whatever" }, {
            jsonrpc: "2.0",
            id: 2,
            method: "ping"
          }]
        })
      )
      const answers = JSON.parse(batch.body)
      expect(answers).toHaveLength(2)
      expect(answers.find((a: any) => a.id === 1).result.content).toEqual([{ type: "text", text: "{\"result\":2}" }])
      expect(answers.find((a: any) => a.id === 2).result).toEqual({})
    }))

  it.scopedLive("answers an over-long batch with one error, and a second initialize on a session with a refusal", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { maxBatchEntries: 3 })
      const { headers, sessionId } = yield* promise(() => openSession(url, "2025-03-26"))
      const long = yield* promise(() =>
        raw(url, { headers, body: Array.from({ length: 4 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "ping" })) })
      )
      expect(long.status).toBe(400)
      expect(JSON.parse(long.body).error).toMatchObject({
        code: -32600,
        message: expect.stringMatching(/at most 3 entries/)
      })
      const fits = yield* promise(() =>
        raw(url, { headers, body: Array.from({ length: 3 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "ping" })) })
      )
      expect(JSON.parse(fits.body)).toHaveLength(3)
      // Regression: an initialize on an initialized session opened a new session; the session refuses it now.
      const again = yield* promise(() => raw(url, { headers, body: initializeBody("2025-03-26") }))
      expect(again.headers["mcp-session-id"]).toBe(sessionId)
      expect(JSON.parse(again.body).error).toMatchObject({
        code: -32600,
        message: expect.stringMatching(/already initialized/)
      })
    }))

  it.scopedLive("hands each request's headers and remote address to the handler", () =>
    Effect.gen(function*() {
      const Whoami = McpServer.tool("whoami", {}, () =>
        Effect.map(RequestContext.current, (ctx) =>
          `${ctx.extras?.header?.("x-caller") ?? "-"} from ${ctx.extras?.remoteAddress ?? "-"}`))
      const { url } = yield* serveHttp(Layer.provideMerge(Whoami, TestServer))
      const { headers } = yield* promise(() =>
        openSession(url)
      )
      const answer = yield* promise(() =>
        raw(url, { headers: { ...headers, "x-caller": "ada" }, body: call(1, "whoami") })
      )
      expect(JSON.parse(answer.body).result.content[0].text).toMatch(/^ada from (127\.0\.0\.1|::ffff:127\.0\.0\.1)$/)
    }))

  it.scopedLive("refuses a batch entry whose id is in flight, without taking over its request", () =>
    Effect.gen(function*() {
      const gate = yield* gated
      const { url } = yield* serveHttp(gate.server, { maxRequestsPerSession: 2 })
      const { headers } = yield* promise(() => openSession(url, "2025-03-26"))
      const pending = yield* promise(() => raw(url, { headers, body: call(1, "gate") })).pipe(Effect.fork)
      yield* Deferred.await(gate.started)
      const batch = yield* promise(() =>
        raw(url, { headers, body: [call(1, "add", { a: 1, b: 1 }), call(2, "add", { a: 1, b: 2 })] })
      )
      const answers = JSON.parse(batch.body)
      expect(answers.find((a: any) => a.id === 1).error).toMatchObject({
        code: -32600,
        message: expect.stringMatching(/in flight/)
      })
      expect(answers.find((a: any) => a.id === 2).result.content).toEqual([{ type: "text", text: "{\"result\":3}" }])
      // Entries that are no JSON-RPC message, and ids twice in the batch, are refused inline, as over stdio.
      const odd = yield* promise(() =>
        raw(url, {
          headers,
          body: [42, { jsonrpc: "2.0", id: 1.5, method: "ping" }, { jsonrpc: "2.0", id: 9, method: "ping" }, {
            jsonrpc: "2.0",
            id: 9,
            method: "ping"
          }]
        })
      )
      expect(JSON.parse(odd.body).map((a: any) => [a.id, a.error?.code ?? "ok"])).toEqual([
        [null, -32600],
        [null, -32600],
        [9, "ok"],
        [9, -32600]
      ])
      const tooMany = yield* promise(() =>
        raw(url, { headers, body: [call(3, "add", { a: 1, b: 1 }), call(4, "add", { a: 1, b: 1 })] })
      )
      expect(tooMany.status).toBe(429)
      yield* Deferred.succeed(gate.release, undefined)
      const answered = yield* Fiber.join(pending)
      expect(JSON.parse(answered.body).result.content[0].text).toBe("released")
      const after = yield* promise(() =>
        raw(url, { headers, body: [call(5, "add", { a: 1, b: 1 }), call(6, "add", { a: 1, b: 1 })] })
      )
      expect(JSON.parse(after.body)).toHaveLength(2)
    }))

  it.scopedLive("drops an SSE response whose client stopped reading, rather than buffering without end", () =>
    Effect.gen(function*() {
      // A client that reads gets every message, or a count of the logs it could not keep up with, and its result,
      // however fast the handler writes: with the default limits, logs past 8 MiB of backlog are dropped and counted.
      const open = yield* serveHttp(Server)
      const read = yield* promise(() =>
        openSession(open.url).then(({ headers }) => raw(open.url, { headers, body: call(1, "flood") }))
      )
      expect(read.ended).toBe(true)
      expect(sseMessages(read.body).length + droppedIn(read.body)).toBe(2001)
      expect(read.body).toContain("flooded")
      // A client that reads the headers, then nothing until its response is closed on the server. No timer decides
      // (the stall timeout is an hour): the response is dropped as soon as its backlog goes above four times 64 KiB,
      // which the 20 MB of requests to the client (which cannot be dropped) do however loaded the machine, the kernel's
      // socket buffers holding a few MB at most. What the client reads then ends before any result.
      const { responseClosed, url } = yield* serveHttpWatching(Server, {
        maxStreamBufferBytes: 64 * 1024,
        streamStallTimeout: "1 hour"
      })
      const { headers } = yield* promise(() => openSession(url, "2025-11-25", { sampling: {} }))
      const closed = responseClosed("late")
      const late = yield* promise(() => readLate(url, { ...headers, "x-watch": "late" }, call(2, "hoard"), closed))
      expect(yield* promise(() => closed)).toBe(false)
      expect(late.complete).toBe(false)
      const next = yield* promise(() => raw(url, { headers, body: call(3, "add", { a: 1, b: 1 }) }))
      expect(JSON.parse(next.body).result.structuredContent).toEqual({ result: 2 })
    }))

  it.scopedLive("drops logs, not the result, for a client that does not keep up, and says how many", () =>
    Effect.gen(function*() {
      // The client reads nothing until the handler has written 20 MB of logs: past 64 KiB of backlog they are dropped
      // at once and counted, so the response is never cut off, and the client then gets its result.
      const { url } = yield* serveHttp(Server, { maxStreamBufferBytes: 64 * 1024, streamStallTimeout: "1 hour" })
      yield* expectLateFloodServed(url)
    }))

  it.scopedLive("on the platform's HttpApp path too, drops logs rather than holding them for a client that does not read", () =>
    Effect.gen(function*() {
      const app = yield* StreamableHttp.toApp(Server, { maxStreamBufferBytes: 64 * 1024 })
      const url = `${yield* servePlatform(HttpRouter.empty.pipe(HttpRouter.all("/mcp", app)))}/mcp`
      yield* expectLateFloodServed(url)
    }))

  it.scopedLive("keeps for a resumption the result that comes after an overflowing response was dropped", () =>
    Effect.gen(function*() {
      // The response is dropped (its backlog above four times 64 KiB) while the handler is still sending: the result,
      // which comes before the server has seen the response close, must stay in the store for a resumption rather
      // than be taken as delivered.
      const memory = EventStore.makeMemory({ maxBytesPerStream: 64 * 1024 * 1024, maxEventsPerStream: 10_000 })
      const { responseClosed, url } = yield* serveHttpWatching(
        Layer.provideMerge(Server, Layer.succeed(EventStore.EventStore, memory)),
        { maxStreamBufferBytes: 64 * 1024, streamStallTimeout: "1 hour" }
      )
      const { headers, sessionId } = yield* promise(() => openSession(url, "2025-11-25", { sampling: {} }))
      const closed = responseClosed("burst")
      const late = yield* promise(() => readLate(url, { ...headers, "x-watch": "burst" }, call(1, "burst"), closed))
      expect(yield* promise(() => closed)).toBe(false)
      expect(late.complete).toBe(false)
      expect(late.body).not.toContain("burst done")
      // The client may have read nothing at all: it resumes after the last of the 2000 requests, on the session's
      // second stream (the first was initialize's).
      const lastRequest = `${sessionId}-2/2000`
      const resumed = yield* promise(() =>
        raw(url, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream", "last-event-id": lastRequest },
          until: "burst done",
          readFor: 10_000
        })
      )
      expect(resumed.status).toBe(200)
      expect(resumed.body).toContain("burst done")
    }))

  it.scopedLive("ends the HTTP response of a cancelled request, JSON or SSE, and frees its slot", () =>
    Effect.gen(function*() {
      const gate = yield* gated
      const { url } = yield* serveHttp(gate.server, { maxRequestsPerSession: 1 })
      const { headers } = yield* promise(() => openSession(url))
      const cancel = (requestId: number) =>
        promise(() =>
          raw(url, { headers, body: { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId } } })
        )
      // Nothing came before the cancel: the POST is answered 202, with no body.
      const json = yield* promise(() => raw(url, { headers, body: call(1, "gate") })).pipe(Effect.fork)
      yield* Deferred.await(gate.started)
      expect((yield* cancel(1)).status).toBe(202)
      const jsonEnded = yield* Fiber.join(json)
      expect(jsonEnded.status).toBe(202)
      expect(jsonEnded.body).toBe("")
      expect(yield* Deferred.await(gate.ended)).toBe(false)
      // A log came first: the SSE stream carries it, then ends without a response.
      const logged = yield* Deferred.make<void>()
      const sse = yield* promise(() =>
        raw(url, { headers, body: call(2, "stall", { log: true }), seen: opened(logged, "hanging") })
      ).pipe(Effect.fork)
      yield* Deferred.await(logged)
      yield* cancel(2)
      const sseEnded = yield* Fiber.join(sse)
      expect(sseMessages(sseEnded.body).map((m) => m.message.method ?? "response")).toEqual(["notifications/message"])
      const next = yield* promise(() => raw(url, { headers, body: call(3, "add", { a: 1, b: 1 }) }))
      expect(next.status).toBe(200)
    }))

  it.scopedLive("caps requests in flight per session with 429", () =>
    Effect.gen(function*() {
      const gate = yield* gated
      const { url } = yield* serveHttp(gate.server, { maxRequestsPerSession: 2 })
      const { headers } = yield* promise(() => openSession(url))
      // Two calls wait at the gate: the third is answered first, and refused.
      const calls = [1, 2, 3].map((id) => raw(url, { headers, body: call(id, "gate") }))
      const first = yield* promise(() => Promise.race(calls))
      expect(first.status).toBe(429)
      expect(first.body).toMatch(/at most 2 requests/)
      yield* Deferred.succeed(gate.release, undefined)
      const results = yield* promise(() => Promise.all(calls))
      expect(results.map((r) => r.status).sort()).toEqual([200, 200, 429])
    }))
  it.scopedLive("answers a result JSON cannot encode with -32603, in JSON and in SSE, and keeps serving", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Unencodable.pipe(Layer.provideMerge(TestServer)))
      const { headers } = yield* promise(() => openSession(url))
      const direct = yield* promise(() => raw(url, { headers, body: call(1, "bigint") }))
      expect(direct.status).toBe(200)
      expect(JSON.parse(direct.body)).toEqual({
        jsonrpc: "2.0",
        id: 1,
        error: { code: -32603, message: "Internal error: the response could not be encoded as JSON" }
      })
      const streamed = yield* promise(() => raw(url, { headers, body: call(2, "logs-then-bigint") }))
      const messages = sseMessages(streamed.body).map((m) => m.message)
      expect(messages.map((m) => m.method ?? m.error?.code)).toEqual(["notifications/message", -32603])
      // A log is best-effort: what JSON cannot encode goes out as near as it can, and the handler carries on.
      const logged = sseMessages((yield* promise(() => raw(url, { headers, body: call(3, "logs-bigint") }))).body)
      expect(logged.map((m) => m.message.params?.data ?? m.message.result.content[0].text)).toEqual([
        { n: "1" },
        "logged"
      ])
      const fine = yield* promise(() => raw(url, { headers, body: call(4, "add", { a: 1, b: 2 }) }))
      expect(JSON.parse(fine.body).result.structuredContent).toEqual({ result: 3 })
    }))

  it.scopedLive("frees the slot of a request whose client left before the answer; the request itself runs on", () =>
    Effect.gen(function*() {
      const gate = yield* gated
      const { url } = yield* serveHttp(gate.server, { maxRequestsPerSession: 1 })
      const { headers } = yield* promise(() => openSession(url))
      // Leaving is not cancelling: the call still runs to its end, and then its slot is free again.
      yield* promise(() => leave(url, headers, call(1, "gate"), Effect.runPromise(Deferred.await(gate.started))))
      const busy = yield* promise(() => raw(url, { headers, body: call(2, "add", { a: 1, b: 1 }) }))
      expect(busy.status).toBe(429)
      yield* Deferred.succeed(gate.release, undefined)
      expect(yield* Deferred.await(gate.ended)).toBe(true)
      // The slot is given back once the answer has gone (nowhere), just after the handler ends: ask until it is.
      const next = yield* pollUntil(
        promise(() => raw(url, { headers, body: call(3, "add", { a: 1, b: 1 }) })),
        (r) => r.status !== 429
      )
      expect(next.status).toBe(200)
      expect(JSON.parse(next.body).result.structuredContent).toEqual({ result: 2 })
    }))
})

describe("Streamable HTTP: sessions", () => {
  it.scopedLive("registers a session only after a valid initialize, and DELETE ends it", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const bad = yield* promise(() =>
        raw(url, { headers: JSON_AND_SSE, body: { jsonrpc: "2.0", id: 1, method: "initialize", params: {} } })
      )
      expect(bad.status).toBe(400)
      expect(bad.headers["mcp-session-id"]).toBeUndefined()
      const { headers, sessionId } = yield* promise(() => openSession(url))
      expect(sessionId).toMatch(/^[\x21-\x7e]{32,}$/)
      const deleted = yield* promise(() => raw(url, { method: "DELETE", headers }))
      expect(deleted.status).toBe(200)
      const after = yield* promise(() => raw(url, { headers, body: call(1, "add", { a: 1, b: 1 }) }))
      expect(after.status).toBe(404)
    }))

  it.scopedLive("DELETE interrupts the session's handlers", () =>
    Effect.gen(function*() {
      const gate = yield* gated
      const { url } = yield* serveHttp(gate.server)
      const { headers } = yield* promise(() => openSession(url))
      raw(url, { headers, body: call(1, "gate") }).catch(() => {})
      yield* Deferred.await(gate.started)
      yield* promise(() => raw(url, { method: "DELETE", headers }))
      expect(yield* Deferred.await(gate.ended)).toBe(false)
    }))

  it.scopedLive("expires idle sessions and caps their number", () =>
    Effect.gen(function*() {
      // Long enough for the first two sessions to outlive the third's refusal on a loaded machine.
      const { url } = yield* serveHttp(Server, { sessionIdleTimeout: "1 second", maxSessions: 2 })
      const first = yield* promise(() => openSession(url))
      yield* promise(() => openSession(url))
      const third = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      expect(third.status).toBe(503)
      expect(third.body).toMatch(/maximum of 2 sessions/)
      // A refused initialize touches no session: ask until they have expired and one is free again.
      const fresh = yield* pollUntil(
        promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() })),
        (r) => r.status !== 503,
        "50 millis"
      )
      expect(fresh.status).toBe(200)
      const expired = yield* promise(() => raw(url, { headers: first.headers, body: call(1, "add", { a: 1, b: 1 }) }))
      expect(expired.status).toBe(404)
    }))

  it.scopedLive("carries list_changed and unrelated messages on the GET stream; one GET per session", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url))
      const attached = yield* Deferred.make<void>()
      const get = raw(url, {
        method: "GET",
        headers: { ...headers, accept: "text/event-stream" },
        seen: opened(attached, "retry:"),
        until: "list_changed"
      })
      yield* Deferred.await(attached)
      const second = yield* promise(() =>
        raw(url, { method: "GET", headers: { ...headers, accept: "text/event-stream" } })
      )
      expect(second.status).toBe(409)
      yield* promise(() => raw(url, { headers, body: call(1, "grow") }))
      const stream = yield* promise(() => get)
      expect(stream.headers["content-type"]).toMatch(/text\/event-stream/)
      expect(sseMessages(stream.body).map((m) => m.message.method)).toContain("notifications/tools/list_changed")
      const noAccept = yield* promise(() =>
        raw(url, { method: "GET", headers: { ...headers, accept: "application/json" } })
      )
      expect(noAccept.status).toBe(406)
    }))

  it.scopedLive("carries resources/updated for subscribed resources on the GET stream", () =>
    Effect.gen(function*() {
      const Touch = McpServer.tool("touch", { description: "Updates the readme" }, () =>
        Effect.as(McpServer.notifyResourceUpdated("file:///readme.md"), "touched"))
      const { url } = yield* serveHttp(Layer.provideMerge(Touch, Server))
      const { headers } = yield* promise(() =>
        openSession(url)
      )
      yield* promise(() =>
        raw(url, {
          headers,
          body: { jsonrpc: "2.0", id: 1, method: "resources/subscribe", params: { uri: "file:///readme.md" } }
        })
      )
      const attached = yield* Deferred.make<void>()
      const get = raw(url, {
        method: "GET",
        headers: { ...headers, accept: "text/event-stream" },
        seen: opened(attached, "retry:"),
        until: "resources/updated"
      })
      yield* Deferred.await(attached)
      yield* promise(() => raw(url, { headers, body: call(2, "touch") }))
      const stream = yield* promise(() => get)
      expect(sseMessages(stream.body).map((m) => m.message)).toContainEqual({
        jsonrpc: "2.0",
        method: "notifications/resources/updated",
        params: { uri: "file:///readme.md" }
      })
    }))

  it.scopedLive("keeps events in the EventStore in context, which is pluggable", () =>
    Effect.gen(function*() {
      const appended = yield* Ref.make(0)
      const memory = EventStore.makeMemory()
      const Counting = Layer.succeed(EventStore.EventStore, {
        ...memory,
        append: (streamId, message) =>
          Effect.zipRight(Ref.update(appended, (n) => n + 1), memory.append(streamId, message))
      })
      const { url } = yield* serveHttp(Layer.provideMerge(Server, Counting))
      const { headers } = yield* promise(() => openSession(url))
      yield* promise(() => raw(url, { headers, body: call(1, "chatty") }))
      // The log message and the response went out on the SSE stream, so both were stored.
      expect(yield* Ref.get(appended)).toBe(2)
    }))

  it.scopedLive("with a store that answers later, keeps each stream's order and still resumes", () =>
    Effect.gen(function*() {
      const memory = EventStore.makeMemory()
      const Slow = Layer.succeed(EventStore.EventStore, {
        ...memory,
        append: (streamId, message) => Effect.zipRight(Effect.sleep("5 millis"), memory.append(streamId, message)),
        replayAfter: (lastEventId) => Effect.zipRight(Effect.sleep("5 millis"), memory.replayAfter(lastEventId))
      })
      const { url } = yield* serveHttp(Layer.provideMerge(Server, Slow))
      const { headers } = yield* promise(() => openSession(url))
      const chatty = yield* promise(() => raw(url, { headers, body: call(1, "chatty", {}, { progressToken: "p" }) }))
      const events = sseMessages(chatty.body)
      expect(events.map((e) => e.message.method ?? "response")).toEqual([
        "notifications/message",
        "notifications/progress",
        "response"
      ])
      expect(events.map((e) => Number(e.id!.split("/")[1]))).toEqual([1, 2, 3])
      const post = yield* promise(() => raw(url, { headers, body: call(2, "poll") }))
      const priming = post.body.match(/^id: (\S+)/)![1]!
      const resumed = yield* promise(() =>
        raw(url, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream", "last-event-id": priming },
          until: "polled result"
        })
      )
      expect(sseMessages(resumed.body)[0]!.message).toMatchObject({
        id: 2,
        result: { content: [{ text: "polled result" }] }
      })
    }))

  it.scopedLive("with a store that answers later, ending a session ends every response and forgets every stream", () =>
    Effect.gen(function*() {
      const memory = EventStore.makeMemory()
      const Slow = Layer.succeed(EventStore.EventStore, {
        ...memory,
        append: (streamId, message) => Effect.zipRight(Effect.sleep("30 millis"), memory.append(streamId, message))
      })
      const { url } = yield* serveHttp(Layer.provideMerge(Server, Slow))
      const { headers, sessionId } = yield* promise(() => openSession(url))
      const get = { ...headers, accept: "text/event-stream" }
      // A stream that ended while detached (polling): its result is kept for a resumption.
      const polled = yield* promise(() => raw(url, { headers, body: call(1, "poll") }))
      const polledStream = polled.body.match(/^id: (\S+)\/0/)![1]!
      yield* pollUntil(memory.replayAfter(`${polledStream}/0`), Option.isSome)
      // The GET stream, with an event being stored as the session ends, and a resumption waiting for it.
      const attached = yield* Deferred.make<void>()
      const standalone = yield* Effect.fork(
        promise(() => raw(url, { method: "GET", headers: get, seen: opened(attached, "retry:"), readFor: 10_000 }))
      )
      yield* Deferred.await(attached)
      yield* promise(() => raw(url, { headers, body: call(2, "grow") }))
      const resumed = yield* Effect.fork(
        promise(() =>
          raw(url, { method: "GET", headers: { ...get, "last-event-id": `${sessionId}-0/0` }, readFor: 10_000 })
        )
      )
      // A request stream still running.
      const logged = yield* Deferred.make<void>()
      const hanging = yield* Effect.fork(
        promise(() =>
          raw(url, { headers, body: call(3, "stall", { log: true }), seen: opened(logged, "hanging"), readFor: 10_000 })
        )
      )
      yield* Deferred.await(logged)
      expect((yield* promise(() => raw(url, { method: "DELETE", headers }))).status).toBe(200)
      const [standaloneEnded, resumedEnded, hangingEnded] = yield* Fiber.join(
        Fiber.zip(Fiber.zip(standalone, resumed), hanging)
      ).pipe(
        Effect.map(([[a, b], c]) => [a, b, c] as const)
      )
      // Every response was ended by the server, none cut short by the reader.
      expect([standaloneEnded.ended, resumedEnded.ended, hangingEnded.ended]).toEqual([true, true, true])
      expect(sseMessages(hangingEnded.body).at(-1)!.message.error.message).toMatch(/session ended/)
      const hangingStream = hangingEnded.body.match(/^id: (\S+)\/0/)![1]!
      // The store forgets them on fibers of its own: as soon as it can, not before the DELETE answers.
      yield* pollUntil(
        Effect.forEach([polledStream, `${sessionId}-0`, hangingStream], (stream) => memory.replayAfter(`${stream}/0`)),
        (replays) => replays.every(Option.isNone)
      )
    }))

  it.scopedLive("sends SSE keep-alive comments", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { keepAliveInterval: "100 millis" })
      const { headers } = yield* promise(() => openSession(url))
      const stream = yield* promise(() =>
        raw(url, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream" },
          until: ": keep-alive\n\n: keep-alive"
        })
      )
      expect(stream.body.match(/: keep-alive/g)?.length).toBeGreaterThanOrEqual(2)
    }))

  it.scopedLive("replays a closed stream's result on a GET with Last-Event-ID (polling, SEP-1699)", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const { headers } = yield* promise(() => openSession(url))
      const post = yield* promise(() => raw(url, { headers, body: call(7, "poll") }))
      expect(post.headers["content-type"]).toMatch(/text\/event-stream/)
      const priming = post.body.match(/^id: (\S+)/)![1]!
      expect(sseMessages(post.body)).toEqual([])
      const resumed = yield* promise(() =>
        raw(url, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream", "last-event-id": priming },
          until: "polled result"
        })
      )
      const [event] = sseMessages(resumed.body)
      expect(event!.message).toMatchObject({ id: 7, result: { content: [{ text: "polled result" }] } })
      expect(event!.id!.startsWith(priming.split("/")[0]!)).toBe(true)
      const foreign = yield* promise(() =>
        raw(url, {
          method: "GET",
          headers: { ...headers, accept: "text/event-stream", "last-event-id": "other-session-1/0" }
        })
      )
      expect(foreign.status).toBe(400)
    }))

  it.live("drains in-flight requests on shutdown, then interrupts what is left", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const hanging = yield* Deferred.make<void>()
      const Hang = McpServer.tool("hang", { description: "hangs" }, () =>
        Deferred.succeed(hanging, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
        ))
      const gate = yield* gated
      const scope = yield* Scope.make()
      const { url } = yield* serveHttp(Layer.provideMerge(Hang, gate.server), { shutdownGracePeriod: "1 second" }).pipe(
        Scope.extend(scope)
      )
      const { headers } = yield* promise(() => openSession(url))
      const slow = raw(url, { headers, body: call(1, "gate") })
      const hang = raw(url, { headers, body: call(2, "hang") })
      yield* Deferred.await(gate.started)
      yield* Deferred.await(hanging)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      // Released as the shutdown begins (or just before): either way it answers within the grace period.
      yield* Deferred.succeed(gate.release, undefined)
      const drained = yield* promise(() => slow)
      expect(JSON.parse(drained.body).result.content[0].text).toBe("released")
      const cut = yield* promise(() => hang)
      expect(JSON.parse(cut.body).error.message).toMatch(/session ended/)
      yield* Fiber.join(closing)
      yield* Deferred.await(interrupted)
    }))
})

describe("Streamable HTTP: stateless", () => {
  it.scopedLive("serves each POST on a fresh context, without sessions", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { stateless: true })
      const init = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      expect(init.status).toBe(200)
      expect(init.headers["mcp-session-id"]).toBeUndefined()
      const result = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: call(1, "add", { a: 2, b: 2 }) }))
      expect(JSON.parse(result.body).result.structuredContent).toEqual({ result: 4 })
      for (const method of ["GET", "DELETE"]) {
        const refused = yield* promise(() =>
          raw(url, { method, headers: { ...JSON_AND_SSE, accept: "text/event-stream" } })
        )
        expect(refused.status).toBe(405)
      }
      // A request to the client fails fast with a clear error instead of hanging.
      const ask = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: call(2, "ask") }))
      const answer = JSON.parse(ask.body)
      expect(answer.result.isError).toBe(true)
      expect(answer.result.content[0].text).toMatch(/sampling/)
    }))
})

// Over fetch (the default) and over NodeHttp.layerHttpClient (node:http), which must behave the same.
describe.each(
  [
    ["fetch", <A, E, R>(effect: Effect.Effect<A, E, R>) => effect],
    ["node:http", <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeHttp.layerHttpClient)]
  ] as const
)("StreamableHttpClient over %s", (_, over) => {
  const connectOver = (...args: Parameters<typeof StreamableHttpClient.connect>) =>
    over(StreamableHttpClient.connect(...args))

  it.scopedLive("drives a server over HTTP: SSE progress, logs, sampling round trip and the GET stream", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      // The handshake era: its session, GET stream and live server requests are what this test drives.
      const client = yield* connectOver(url, { protocolVersion: "2025-11-25" }).pipe(
        Effect.provideService(McpClient.Sampling, {
          createMessage: () =>
            Effect.succeed({
              role: "assistant" as const,
              model: "m",
              content: { type: "text" as const, text: "sampled" }
            })
        })
      )
      const notifications = yield* client.subscribe
      expect(client.serverInfo.name).toBe("test-server")
      expect((yield* client.callTool("add", { a: 20, b: 22 })).structuredContent).toEqual({ result: 42 })
      const progress = yield* Ref.make<Array<number>>([])
      const chatty = yield* client.callTool("chatty", {}, {
        onProgress: (p) => Effect.runSync(Ref.update(progress, (a) => [...a, p.progress]))
      })
      expect(chatty.content).toEqual([{ type: "text", text: "chatted" }])
      expect(yield* Ref.get(progress)).toEqual([1])
      expect((yield* client.callTool("ask")).content[0]).toMatchObject({
        text: JSON.stringify({ type: "text", text: "sampled" })
      })
      yield* client.callTool("grow")
      const seen = yield* Queue.take(notifications).pipe(
        Effect.repeat({ until: (n) => n.method === "notifications/tools/list_changed" }),
        Effect.timeout("5 seconds")
      )
      expect(seen.method).toBe("notifications/tools/list_changed")
      expect((yield* client.listTools).map((t) => t.name)).toContain("grown")
    }))

  it.scopedLive("resumes a stream the server closed early", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const client = yield* connectOver(url, { protocolVersion: "2025-11-25" })
      expect((yield* client.callTool("poll")).content).toEqual([{ type: "text", text: "polled result" }])
    }))

  it.scopedLive("fails pending requests when the session is gone, and DELETEs on close", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { sessionIdleTimeout: "200 millis" })
      const fiber = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
        const client = yield* connectOver(url, {
          protocolVersion: "2025-11-25",
          http: { openGetStream: false, reinitialize: false }
        })
        yield* Effect.sleep("1500 millis")
        return yield* Effect.flip(client.callTool("add", { a: 1, b: 1 }))
      })))
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ message: expect.stringMatching(/Session not found/) })
    }))

  it.scopedLive("fails a call whose arguments JSON cannot encode at once, not at its timeout", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const client = yield* connectOver(url, { http: { openGetStream: false } })
      const exit = yield* Effect.exit(client.callTool("echo", { text: BigInt(1) }, { timeout: "1 hour" }))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(String(Exit.isFailure(exit) && Cause.squash(exit.cause))).toMatch(/cannot be encoded as JSON/)
      expect((yield* client.callTool("echo", { text: "still fine" })).content).toEqual([{
        type: "text",
        text: "still fine"
      }])
    }))

  it.scopedLive("sends DELETE when its scope closes", () =>
    Effect.gen(function*() {
      let sessionHeaders: Record<string, string> = {}
      const Who = McpServer.tool("who", { description: "session id" }, () =>
        Effect.map(RequestContext.current, (ctx) =>
          ctx.sessionId ?? "none"))
      const served = yield* serveHttp(Layer.provideMerge(Who, Server))
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* connectOver(served.url)
        const id = (yield* client.callTool("who")).content[0]
        sessionHeaders = { ...JSON_AND_SSE, "mcp-session-id": id?.type === "text" ? id.text : "" }
      }))
      const after = yield* promise(() =>
        raw(served.url, { headers: sessionHeaders, body: call(1, "add", { a: 1, b: 1 }) })
      )
      expect(after.status).toBe(404)
    }))
})

/** A server that answers the handshake and then cuts `tools/call`'s body short, closing the connection. */
const cuttingServer = Effect.acquireRelease(
  Effect.async<NodeServer>((resume) => {
    const server = createServer((request, response) => {
      let body = ""
      request.on("data", (chunk) => body += chunk).on("end", () => {
        const message = JSON.parse(body)
        if (message.method === "initialize") {
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
            jsonrpc: "2.0",
            id: message.id,
            result: {
              protocolVersion: "2025-11-25",
              capabilities: { tools: {} },
              serverInfo: { name: "cut", version: "1" }
            }
          }))
        } else if (message.id === undefined) {
          response.writeHead(202).end()
        } else {
          response.writeHead(200, { "content-type": "application/json", "content-length": "1000" })
          response.write(`{"jsonrpc":"2.0","id":${message.id},"result":`)
          response.socket?.destroy()
        }
      })
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.sync(() => server.close())
)

describe("NodeHttp.connect", () => {
  it.scopedLive("fails a call whose answer is cut short with what happened, and the client keeps working", () =>
    Effect.gen(function*() {
      const server = yield* cuttingServer
      const address = server.address()
      const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/mcp`
      const client = yield* NodeHttp.connect(url, { protocolVersion: "2025-11-25", http: { openGetStream: false } })
      const error = yield* Effect.flip(client.callTool("any"))
      // Cut in the headers or in the body, depending on when the socket's writes reached the client.
      const cut = /HTTP request failed: .*(socket hang up|ECONNRESET|closed mid-body)/
      expect(error).toMatchObject({ _tag: "ConnectionClosedError", reason: expect.stringMatching(cut) })
      expect(yield* Effect.flip(client.callTool("again"))).toMatchObject({ _tag: "ConnectionClosedError" })
    }))

  it.scopedLive("serves a real server's calls, JSON and SSE, through node:http", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const client = yield* NodeHttp.connect(url)
      expect((yield* client.callTool("add", { a: 2, b: 3 })).structuredContent).toEqual({ result: 5 })
      const progress: Array<number> = []
      yield* client.callTool("chatty", {}, { onProgress: (p) => progress.push(p.progress) })
      expect(progress.length).toBeGreaterThan(0)
    }))
})

describe("NodeHttp", () => {
  it.scopedLive("binds to 127.0.0.1 by default", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
    }))

  it("npm start -- --http serves the demo server and prints its URL", async () => {
    const { stop, url } = await startExample("examples/demo-server.ts", ["--http", "--port", "0"])
    try {
      const { headers } = await openSession(url)
      const response = await raw(url, { headers, body: call(1, "add", { a: 2, b: 3 }) })
      expect(JSON.parse(response.body).result.structuredContent).toEqual({ result: 5 })
    } finally {
      await stop()
    }
  }, 30_000)

  it("starts the HTTP examples on their documented ports when none is given (regression)", async () => {
    for (const [file, port] of [["examples/http-stateful.ts", 3000], ["examples/http-stateless.ts", 3001]] as const) {
      const { stop, url } = await startExample(file)
      try {
        expect(url).toBe(`http://127.0.0.1:${port}/mcp`)
        expect((await raw(url, { headers: JSON_AND_SSE, body: initializeBody() })).status).toBe(200)
      } finally {
        await stop()
      }
    }
  }, 30_000)
})

describe("legacy HTTP+SSE", () => {
  it.scopedLive("drops logs, not the result, for a client that does not keep up, and says how many", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server, { legacySse: true, maxStreamBufferBytes: 64 * 1024 })
      const base = url.replace(/\/mcp$/, "")
      const done = new Promise<void>((resolve) => (flooded = resolve))
      // The event stream, read only once the handler has written its 20 MB of logs.
      let endpoint: (path: string) => void = () => {}
      const path = new Promise<string>((resolve) => (endpoint = resolve))
      const stream = promise(() =>
        new Promise<string>((resolve) => {
          let text = ""
          httpRequest(`${base}/sse`, { method: "GET", headers: { accept: "text/event-stream" } }, (res) => {
            res.setEncoding("utf8")
            const onData = (chunk: string) => {
              text += chunk
              const match = /event: endpoint\ndata: (\S+)/.exec(text)
              if (match) endpoint(match[1]!)
              if (text.includes("flooded")) {
                res.destroy()
                resolve(text)
              }
            }
            res.on("data", onData)
            void path.then(() => done).then(() => res.resume())
            // Paused once the endpoint is known: nothing more is read until the flood is over.
            void path.then(() => res.pause())
          }).end()
        })
      ).pipe(Effect.fork)
      const fiber = yield* stream
      const messages = `${base}${yield* promise(() => path)}`
      const post = (body: object) =>
        promise(() => raw(messages, { headers: { "content-type": "application/json" }, body }))
      yield* post(initializeBody())
      yield* post({ jsonrpc: "2.0", method: "notifications/initialized" })
      yield* post(call(2, "late_flood"))
      const text = yield* Fiber.join(fiber)
      // The first event names the endpoint; the rest are messages.
      const logs = sseMessages(text.slice(text.indexOf("\n\n") + 2)).filter((m) =>
        m.message.method === "notifications/message"
      ).length
      expect(droppedIn(text)).toBeGreaterThan(0)
      expect(logs + droppedIn(text)).toBe(2000)
    }))
})
