import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Ref } from "effect"
import type { Duration } from "effect"
import { InMemoryTransport, McpServer, McpTest, Peer, RequestContext } from "mcp-effect"
import { TestServer } from "./fixtures.js"
import { advance, flush } from "./helpers.js"

describe("cancellation", () => {
  it.scoped("interrupts the handler, runs its finalizers and sends no response", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const finalized = yield* Deferred.make<void>()
      const Hang = McpServer.tool("hang", {}, () =>
        Effect.gen(function*() {
          yield* Effect.addFinalizer(() => Deferred.succeed(finalized, undefined))
          yield* Deferred.succeed(started, undefined)
          return yield* Effect.never
        }).pipe(Effect.scoped))
      const conn = yield* McpTest.raw(Layer.provideMerge(Hang, TestServer))
      yield* conn.initialize()
      yield* conn.send({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "hang" } })
      yield* Deferred.await(started)
      yield* conn.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 5, reason: "bored" } })
      yield* Deferred.await(finalized)
      yield* conn.send({ jsonrpc: "2.0", id: 6, method: "ping" })
      // The next message is the ping's answer: request 5 was never answered.
      expect(yield* conn.receive).toEqual({ jsonrpc: "2.0", id: 6, result: {} })
      // A late cancel for a finished request is harmless.
      yield* conn.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 6 } })
      yield* conn.send({ jsonrpc: "2.0", id: 7, method: "ping" })
      expect(yield* conn.receive).toEqual({ jsonrpc: "2.0", id: 7, result: {} })
    }))

  it.scoped("interrupting a client call cancels it on the server", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const finalized = yield* Deferred.make<void>()
      const Hang = McpServer.tool("hang", {}, () =>
        Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(finalized, undefined))
        ))
      const client = yield* McpTest.makeClient(Layer.provideMerge(Hang, TestServer))
      const call = yield* Effect.fork(client.callTool("hang"))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(call)
      yield* Deferred.await(finalized)
      expect(yield* client.callTool("echo", { text: "still here" })).toEqual({
        content: [{ type: "text", text: "still here" }]
      })
    }))
})

describe("progress", () => {
  it.scoped("a tool reporting progress over ten simulated minutes finishes at once under TestClock", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const seen = yield* Ref.make<Array<number>>([])
      const call = yield* Effect.fork(client.callTool("progress", { steps: 10 }, {
        timeout: "1 hour",
        onProgress: (p) => Ref.update(seen, (all) => [...all, p.progress]).pipe(Effect.runSync)
      }))
      yield* advance("1 minute", 10)
      const result = yield* Fiber.join(call)
      expect(result.content).toEqual([{ type: "text", text: "done after 10 steps" }])
      expect(yield* Ref.get(seen)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    }))

  it.scoped("sends progress reported before the handler's first yield (regression)", () =>
    Effect.gen(function*() {
      const Eager = McpServer.tool("eager", {}, () =>
        RequestContext.progress(0, 1).pipe(Effect.zipRight(RequestContext.progress(1, 1)), Effect.as("ok")))
      const client = yield* McpTest.makeClient(Layer.provideMerge(Eager, TestServer))
      const seen: Array<number> = []
      yield* client.callTool("eager", {}, {
        onProgress: (p) =>
          seen.push(p.progress)
      })
      expect(seen).toEqual([0, 1])
    }))

  it.scoped("sends no progress without a progress token", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(TestServer)
      yield* conn.initialize()
      yield* conn.send({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "progress", arguments: { steps: 2 } }
      })
      yield* advance("1 minute", 2)
      const first: any = yield* conn.receive
      // Only the log message from Effect.log and the response: no progress.
      expect(first.method).toBe("notifications/message")
      const response: any = yield* conn.receive
      expect(response.id).toBe(1)
    }))
})

/** Two peers on an in-memory pair; the right one answers with `answer`. */
const pair = (answer: (request: Peer.IncomingRequest, right: () => Peer.Peer) => Effect.Effect<unknown>) =>
  Effect.gen(function*() {
    const [a, b] = InMemoryTransport.makePair()
    const left = yield* Peer.make(a, { onRequest: () => undefined })
    // The handler runs only once `right` exists: requests come after both peers are made.
    const right: Peer.Peer = yield* Peer.make(b, { onRequest: (request) => answer(request, () => right) })
    yield* Effect.forkScoped(left.run)
    yield* Effect.forkScoped(right.run)
    return left
  })

const progressing =
  (count: number, every: Duration.DurationInput) => (request: Peer.IncomingRequest, right: () => Peer.Peer) =>
    Effect.gen(function*() {
      for (let i = 1; i <= count; i++) {
        yield* Effect.sleep(every)
        right().notify("notifications/progress", { progressToken: request.progressToken, progress: i })
      }
      yield* Effect.sleep(every)
      return { done: true }
    })

describe("outgoing request timeouts", () => {
  it.scoped("times out, and tells the peer to stop", () =>
    Effect.gen(function*() {
      const cancelled = yield* Deferred.make<void>()
      const left = yield* pair(() =>
        Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(cancelled, undefined)))
      )
      const call = yield* Effect.fork(left.request("slow", {}, { timeout: "1 second" }))
      yield* advance("500 millis", 3)
      const exit = yield* Fiber.await(call)
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/RequestTimeoutError/)
      yield* flush
      yield* Deferred.await(cancelled)
    }))

  it.scoped("progress resets the timeout when asked to", () =>
    Effect.gen(function*() {
      const left = yield* pair(progressing(5, "800 millis"))
      const call = yield* Effect.fork(left.request("work", {}, { timeout: "1 second", resetTimeoutOnProgress: true }))
      yield* advance("100 millis", 60)
      expect(yield* Fiber.join(call)).toEqual({ done: true })
    }))

  it.scoped("progress does not reset the timeout otherwise", () =>
    Effect.gen(function*() {
      const left = yield* pair(progressing(5, "800 millis"))
      const call = yield* Effect.fork(left.request("work", {}, { timeout: "1 second", onProgress: () => {} }))
      yield* advance("100 millis", 60)
      const exit = yield* Fiber.await(call)
      expect(Exit.isFailure(exit)).toBe(true)
    }))

  it.scoped("the maximum total applies whatever the progress", () =>
    Effect.gen(function*() {
      const left = yield* pair(progressing(10, "800 millis"))
      const call = yield* Effect.fork(
        left.request("work", {}, { timeout: "1 second", resetTimeoutOnProgress: true, maxTotalTimeout: "3 seconds" })
      )
      yield* advance("100 millis", 40)
      const exit = yield* Fiber.await(call)
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/"timeoutMillis":3000/)
    }))

  it.scoped("each request times out on its own deadline, a shorter one after a longer one included", () =>
    Effect.gen(function*() {
      const left = yield* pair(() => Effect.never)
      const slow = yield* Effect.fork(left.request("slow", {}, { timeout: "10 seconds" }))
      yield* advance("1 second", 1)
      const quick = yield* Effect.fork(left.request("quick", {}, { timeout: "2 seconds" }))
      yield* advance("1 second", 2)
      const quickExit = yield* Fiber.await(quick)
      expect(Exit.isFailure(quickExit) && JSON.stringify(quickExit.cause)).toMatch(/"timeoutMillis":2000/)
      expect(slow.unsafePoll()).toBeNull()
      yield* advance("1 second", 7)
      const slowExit = yield* Fiber.await(slow)
      expect(Exit.isFailure(slowExit) && JSON.stringify(slowExit.cause)).toMatch(/"timeoutMillis":10000/)
    }))

  it.scoped("a timer armed for an answered request neither fails a later one early nor forgets it", () =>
    Effect.gen(function*() {
      const left = yield* pair((request) => request.method === "fast" ? Effect.succeed({ ok: true }) : Effect.never)
      expect(yield* left.request("fast", {}, { timeout: "1 second" })).toEqual({ ok: true })
      yield* advance("900 millis", 1)
      const call = yield* Effect.fork(left.request("slow", {}, { timeout: "1 second" }))
      yield* advance("500 millis", 1)
      expect(call.unsafePoll()).toBeNull()
      yield* advance("500 millis", 1)
      const exit = yield* Fiber.await(call)
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/"method":"slow","timeoutMillis":1000/)
    }))

  it.scoped("pending requests fail when the connection closes", () =>
    Effect.gen(function*() {
      const [a, b] = InMemoryTransport.makePair()
      const left = yield* Peer.make(a, { onRequest: () => undefined })
      const right = yield* Peer.make(b, { onRequest: () => Effect.never })
      yield* Effect.forkScoped(left.run)
      const rightRun = yield* Effect.fork(right.run)
      const call = yield* Effect.fork(left.request("slow", {}, { timeout: "1 hour" }))
      yield* flush
      yield* Fiber.interrupt(rightRun)
      const exit = yield* Fiber.await(call)
      expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toMatch(/ConnectionClosedError/)
    }))

  it.scoped("pending and later requests fail with the reason the transport gives for its end", () =>
    Effect.gen(function*() {
      const [a, b] = InMemoryTransport.makePair()
      const ended = yield* Deferred.make<void>()
      const closing = {
        ...a,
        run: () => Deferred.await(ended),
        closeReason: () => "the server process exited with code 3"
      }
      const left = yield* Peer.make(closing, { onRequest: () => undefined })
      const right = yield* Peer.make(b, { onRequest: () => Effect.never })
      yield* Effect.forkScoped(right.run)
      const run = yield* Effect.fork(left.run)
      const call = yield* Effect.fork(left.request("slow", {}, { timeout: "1 hour" }))
      yield* flush
      yield* Deferred.succeed(ended, undefined)
      yield* Fiber.join(run)
      const reason = { _tag: "ConnectionClosedError", method: "slow", reason: "the server process exited with code 3" }
      expect(yield* Effect.flip(Fiber.join(call))).toMatchObject(reason)
      expect(yield* Effect.flip(left.request("slow", {}))).toMatchObject(reason)
    }))
})

describe("ping", () => {
  it.scoped("works in both directions", () =>
    Effect.gen(function*() {
      const [a, b] = InMemoryTransport.makePair()
      const pingOnly = {
        onRequest: (r: Peer.IncomingRequest) => (r.method === "ping" ? Effect.succeed({}) : undefined)
      }
      const left = yield* Peer.make(a, pingOnly)
      const right = yield* Peer.make(b, pingOnly)
      yield* Effect.forkScoped(left.run)
      yield* Effect.forkScoped(right.run)
      expect(yield* left.request("ping", undefined)).toEqual({})
      expect(yield* right.request("ping", undefined)).toEqual({})
      const client = yield* McpTest.makeClient(TestServer)
      yield* client.ping
    }))
})

describe("results", () => {
  it.scoped("a handler that answers nothing answers the empty result", () =>
    Effect.gen(function*() {
      const left = yield* pair(() => Effect.void)
      expect(yield* left.request("nothing", {})).toEqual({})
    }))
})

describe("handlers that throw", () => {
  it.scoped("answer -32603 for a request, drop a notification, and keep the connection", () =>
    Effect.gen(function*() {
      const [a, b] = InMemoryTransport.makePair()
      const left = yield* Peer.make(a, { onRequest: () => undefined })
      const right = yield* Peer.make(b, {
        onRequest: (r) => {
          if (r.method === "ping") return Effect.succeed({})
          throw new Error("at /home/secret/handler.ts:1")
        },
        onNotification: () => {
          throw new Error("boom")
        }
      })
      yield* Effect.forkScoped(left.run)
      yield* Effect.forkScoped(right.run)
      const error = yield* Effect.flip(left.request("explode", {}))
      expect(error).toMatchObject({ code: -32603, message: "Internal error" })
      left.notify("notifications/explode", {})
      expect(yield* left.request("ping", undefined)).toEqual({})
    }))
})
