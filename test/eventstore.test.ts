import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { EventStore, McpServer, RequestContext } from "mcp-effect"
import { TestServer } from "./fixtures.js"
import { openSession, promise, raw, serveHttp, sseMessages } from "./httpHelpers.js"

const replay = (store: EventStore.Service, lastEventId: string) =>
  Effect.runSync(Effect.map(store.replayAfter(lastEventId), Option.map((r) => r.events.map((e) => e.message))))

describe("MemoryEventStore", () => {
  it("drops a session's own streams only, least recently written first", () => {
    const store = new EventStore.MemoryEventStore({ maxStreamsPerSession: 2, maxStreams: 100 })
    store.unsafeAppend("b-1", "b pending")
    for (let n = 1; n <= 50; n++) store.unsafeAppend(`a-${n}`, `a${n}`)
    // Session a keeps its last two streams; session b's stream is untouched.
    expect(replay(store, "b-1/0")).toEqual(Option.some(["b pending"]))
    expect(replay(store, "a-50/0")).toEqual(Option.some(["a50"]))
    expect(replay(store, "a-49/0")).toEqual(Option.some(["a49"]))
    expect(replay(store, "a-48/0")).toEqual(Option.none())
  })

  it("when full, makes room from the writing session's own streams, or stores nothing for it", () => {
    const store = new EventStore.MemoryEventStore({ maxStreamsPerSession: 3, maxStreams: 4 })
    for (let n = 1; n <= 3; n++) store.unsafeAppend(`a-${n}`, `a${n}`)
    expect(store.unsafeAppend("b-1", "b1")).toBe("b-1/1")
    // Full: c has nothing to give up, so its event is not kept (it goes out without an id).
    expect(store.unsafeAppend("c-1", "c1")).toBeUndefined()
    expect(replay(store, "c-1/0")).toEqual(Option.none())
    // b makes room from its own streams, never from a's.
    expect(store.unsafeAppend("b-2", "b2")).toBe("b-2/1")
    expect(replay(store, "b-1/0")).toEqual(Option.none())
    for (let n = 1; n <= 3; n++) expect(replay(store, `a-${n}/0`)).toEqual(Option.some([`a${n}`]))
    // Once a session ends, its room is free for others.
    for (let n = 1; n <= 3; n++) store.unsafeRemove(`a-${n}`)
    expect(store.unsafeAppend("c-1", "c1")).toBe("c-1/1")
  })

  it("bounds a stream by bytes too, dropping its oldest events and always keeping the latest", () => {
    const store = new EventStore.MemoryEventStore({ maxBytesPerStream: 1000 })
    // 30 events of about 100 bytes: only the last nine or so fit in 1,000 bytes.
    for (let n = 1; n <= 30; n++) store.unsafeAppend("s-1", `${n}`.padStart(100, "x"))
    expect(replay(store, "s-1/0")).toEqual(Option.none())
    const kept = replay(store, "s-1/25")
    expect(kept).toEqual(Option.some(["26", "27", "28", "29", "30"].map((n) => n.padStart(100, "x"))))
    // One event larger than the bound is still kept, alone.
    store.unsafeAppend("s-1", "y".repeat(5000))
    expect(replay(store, "s-1/30")).toEqual(Option.some(["y".repeat(5000)]))
    expect(replay(store, "s-1/29")).toEqual(Option.none())
  })

  it("refuses a resumption from before an event it dropped, rather than replaying with a gap", () => {
    const store = new EventStore.MemoryEventStore({ maxEventsPerStream: 2, maxStreamsPerSession: 1 })
    for (let n = 1; n <= 4; n++) store.unsafeAppend("s-1", `m${n}`)
    expect(replay(store, "s-1/1")).toEqual(Option.none())
    expect(replay(store, "s-1/2")).toEqual(Option.some(["m3", "m4"]))
    // A stream dropped while it still runs goes on with its sequence when written again; what was dropped is gone.
    store.unsafeAppend("s-2", "other")
    expect(store.unsafeAppend("s-1", "m5")).toBe("s-1/5")
    expect(replay(store, "s-1/4")).toEqual(Option.some(["m5"]))
    expect(replay(store, "s-1/3")).toEqual(Option.none())
  })

  it("names a stream's session by the part of its id before the last dash, or by sessionOf", () => {
    const store = new EventStore.MemoryEventStore({ maxStreamsPerSession: 1, sessionOf: (id) => id.split(":")[0]! })
    store.unsafeAppend("x:1", "x1")
    store.unsafeAppend("y:1", "y1")
    store.unsafeAppend("x:2", "x2")
    expect(replay(store, "x:1/0")).toEqual(Option.none())
    expect(replay(store, "y:1/0")).toEqual(Option.some(["y1"]))
  })
})

/** Closes its stream at once, then answers: the answer is stored, detached, for a resumption. */
const Detached = McpServer.tool(
  "detached",
  { description: "Closes its stream, then answers" },
  () => Effect.zipRight(RequestContext.closeStream, Effect.succeed("kept result"))
)

const call = (id: number, name: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: {} }
})

describe("Streamable HTTP resumption across sessions", () => {
  it.scopedLive("one session's calls never evict another's pending result; a resumption of lost events is refused", () =>
    Effect.gen(function*() {
      const memory = new EventStore.MemoryEventStore({ maxStreams: 10, maxStreamsPerSession: 3 })
      const server = Layer.provideMerge(
        Layer.provideMerge(Detached, TestServer),
        Layer.succeed(EventStore.EventStore, memory)
      )
      const { url } = yield* serveHttp(server)
      /** Calls `detached` and waits until its answer is in the store; returns its priming event id. */
      const park = (headers: Record<string, string>, id: number) =>
        Effect.gen(function*() {
          const post = yield* promise(() => raw(url, { headers, body: call(id, "detached") }))
          const priming = post.body.match(/^id: (\S+)/)![1]!
          while (Option.isNone(yield* memory.replayAfter(priming))) yield* Effect.sleep("5 millis")
          return priming
        })
      const victim = yield* promise(() => openSession(url))
      const pending = yield* park(victim.headers, 1)
      // The attack, at this store's size: many more calls than the store holds, each leaving a stream behind.
      const attacker = yield* promise(() => openSession(url))
      const parked: Array<string> = []
      for (let id = 1; id <= 30; id++) parked.push(yield* park(attacker.headers, id))
      const get = (headers: Record<string, string>, lastEventId: string) =>
        promise(() =>
          raw(url, {
            method: "GET",
            headers: { ...headers, accept: "text/event-stream", "last-event-id": lastEventId }
          })
        )
      const resumed = yield* get(victim.headers, pending)
      expect(resumed.status).toBe(200)
      expect(sseMessages(resumed.body)[0]!.message.result.content[0].text).toBe("kept result")
      // The attacker's own oldest streams made room: resuming one is refused with an error it can read.
      const lost = yield* get(attacker.headers, parked[0]!)
      expect(lost.status).toBe(409)
      expect(JSON.parse(lost.body).error.message).toMatch(/no longer kept/)
      const latest = yield* get(attacker.headers, parked.at(-1)!)
      expect(sseMessages(latest.body)[0]!.message.result.content[0].text).toBe("kept result")
    }))
})
