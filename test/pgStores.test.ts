import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Stream, TestClock } from "effect"
import type { ChangeFeed, EventStore, SessionStore } from "mcp-effect"
import { PgChangeFeed, PgEventStore, PgSessionStore } from "mcp-effect/cluster"
import * as Pg from "./support/postgres.js"

if (Pg.unavailable !== undefined) console.warn(Pg.unavailable)

describe.skipIf(Pg.unavailable !== undefined)("Postgres stores", () => {
  // One server for the file; each test has tables (a prefix) or a channel of its own.
  const { on, twoNodes, unique } = Pg.forFile()

  const messages = (replayed: Option.Option<{ readonly events: ReadonlyArray<EventStore.StoredEvent> }>) =>
    Option.map(replayed, (r) => r.events.map((e) => e.message))

  describe("PgEventStore", () => {
    it.scoped("replays on one node the events another appended, by event id; forgets a removed stream", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const tablePrefix = unique()
        const storeA = yield* on(a, PgEventStore.make({ tablePrefix }))
        const storeB = yield* on(b, PgEventStore.make({ tablePrefix }))
        const ids: Array<string | undefined> = []
        for (const n of [1, 2, 3]) ids.push(yield* storeA.append("s-1", { n, text: `m${n}` }))
        expect(ids).toEqual(["s-1/1", "s-1/2", "s-1/3"])
        const replayed = yield* storeB.replayAfter("s-1/1")
        expect(replayed).toEqual(Option.some({
          streamId: "s-1",
          events: [{ id: "s-1/2", message: { n: 2, text: "m2" } }, { id: "s-1/3", message: { n: 3, text: "m3" } }]
        }))
        expect(messages(yield* storeB.replayAfter("s-1/0"))).toEqual(
          Option.some([1, 2, 3].map((n) => ({ n, text: `m${n}` })))
        )
        expect(messages(yield* storeB.replayAfter("s-1/3"))).toEqual(Option.some([]))
        expect(yield* storeB.replayAfter("s-2/0")).toEqual(Option.none())
        expect(yield* storeB.replayAfter("not an event id")).toEqual(Option.none())
        yield* storeB.remove("s-1")
        expect(yield* storeA.replayAfter("s-1/0")).toEqual(Option.none())
      }))

    it.scoped("keeps a stream's latest events, and refuses a resumption from before one it dropped", () =>
      Effect.gen(function*() {
        const [a] = yield* twoNodes
        const store = yield* on(a, PgEventStore.make({ tablePrefix: unique(), maxEventsPerStream: 2 }))
        for (const n of [1, 2, 3, 4]) yield* store.append("s-1", `m${n}`)
        expect(yield* store.replayAfter("s-1/1")).toEqual(Option.none())
        expect(messages(yield* store.replayAfter("s-1/2"))).toEqual(Option.some(["m3", "m4"]))
      }))

    it.scoped("drops a session's own streams only, least recently written first", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const tablePrefix = unique()
        const store = yield* on(a, PgEventStore.make({ tablePrefix, maxStreamsPerSession: 2 }))
        const other = yield* on(b, PgEventStore.make({ tablePrefix, maxStreamsPerSession: 2 }))
        yield* other.append("b-1", "b pending")
        for (let n = 1; n <= 6; n++) yield* (n % 2 === 0 ? store : other).append(`a-${n}`, `a${n}`)
        // Session a keeps its last two streams, whichever node wrote them; session b's stream is untouched.
        expect(messages(yield* store.replayAfter("b-1/0"))).toEqual(Option.some(["b pending"]))
        expect(messages(yield* store.replayAfter("a-6/0"))).toEqual(Option.some(["a6"]))
        expect(messages(yield* store.replayAfter("a-5/0"))).toEqual(Option.some(["a5"]))
        expect(yield* store.replayAfter("a-4/0")).toEqual(Option.none())
        // Writing to a stream makes it the most recent: a-5 stays, a-6 goes.
        yield* store.append("a-5", "a5 again")
        yield* store.append("a-7", "a7")
        expect(messages(yield* other.replayAfter("a-5/1"))).toEqual(Option.some(["a5 again"]))
        expect(yield* other.replayAfter("a-6/0")).toEqual(Option.none())
      }))

    it.scoped("goes on with the sequence of a stream dropped while it runs; what was dropped is gone", () =>
      Effect.gen(function*() {
        const [a] = yield* twoNodes
        const store = yield* on(
          a,
          PgEventStore.make({ tablePrefix: unique(), maxEventsPerStream: 2, maxStreamsPerSession: 1 })
        )
        for (const n of [1, 2, 3, 4]) yield* store.append("s-1", `m${n}`)
        yield* store.append("s-2", "other")
        expect(yield* store.replayAfter("s-1/4")).toEqual(Option.none())
        expect(yield* store.append("s-1", "m5")).toBe("s-1/5")
        expect(messages(yield* store.replayAfter("s-1/4"))).toEqual(Option.some(["m5"]))
        expect(yield* store.replayAfter("s-1/3")).toEqual(Option.none())
        expect(yield* store.replayAfter("s-2/0")).toEqual(Option.none())
      }))

    it.scoped("bounds a stream by bytes too, dropping its oldest events and always keeping the latest", () =>
      Effect.gen(function*() {
        const [a] = yield* twoNodes
        const store = yield* on(a, PgEventStore.make({ tablePrefix: unique(), maxBytesPerStream: 1000 }))
        // 30 events of about 100 bytes: only the last nine or so fit in 1,000 bytes.
        for (let n = 1; n <= 30; n++) yield* store.append("s-1", `${n}`.padStart(100, "x"))
        expect(yield* store.replayAfter("s-1/0")).toEqual(Option.none())
        expect(messages(yield* store.replayAfter("s-1/25"))).toEqual(
          Option.some(["26", "27", "28", "29", "30"].map((n) => n.padStart(100, "x")))
        )
        // One event larger than the bound is still kept, alone.
        yield* store.append("s-1", "y".repeat(5000))
        expect(messages(yield* store.replayAfter("s-1/30"))).toEqual(Option.some(["y".repeat(5000)]))
        expect(yield* store.replayAfter("s-1/29")).toEqual(Option.none())
      }))

    it.scoped("takes appends from several nodes at once, to different streams and to one, without losing or reusing an id", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const tablePrefix = unique()
        const stores = [
          yield* on(a, PgEventStore.make({ tablePrefix })),
          yield* on(b, PgEventStore.make({ tablePrefix }))
        ]
        const streams = Array.from({ length: 8 }, (_, i) => `session${i}-1`)
        yield* Effect.forEach(
          streams,
          (stream, i) =>
            Effect.forEach([1, 2, 3, 4], (n) => stores[i % 2]!.append(stream, `${stream}:${n}`), { discard: true }),
          {
            concurrency: "unbounded",
            discard: true
          }
        )
        for (const stream of streams) {
          expect(messages(yield* stores[0]!.replayAfter(`${stream}/0`))).toEqual(
            Option.some([1, 2, 3, 4].map((n) => `${stream}:${n}`))
          )
        }
        // Both nodes appending to one stream at once: every event gets its own id, and all are replayed.
        const ids = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i),
          (i) => stores[i % 2]!.append("shared-1", i),
          { concurrency: "unbounded" }
        )
        expect([...ids].sort((x, y) => Number(x!.split("/")[1]) - Number(y!.split("/")[1]))).toEqual(
          Array.from({ length: 12 }, (_, i) => `shared-1/${i + 1}`)
        )
        // Both nodes opening streams of one session at once, beyond its bound: every event is stored (two appends
        // never wait on each other, so none fails on a deadlock).
        const opened = yield* Effect.forEach(
          Array.from({ length: 12 }, (_, i) => i),
          (i) => stores[i % 2]!.append(`busy-${i}`, i),
          { concurrency: "unbounded" }
        )
        expect(opened).toEqual(Array.from({ length: 12 }, (_, i) => `busy-${i}/1`))
        const replayed = Option.getOrThrow(yield* stores[1]!.replayAfter("shared-1/0")).events
        expect(replayed.map((e) => e.id)).toEqual(Array.from({ length: 12 }, (_, i) => `shared-1/${i + 1}`))
        expect(replayed.map((e) => e.message).sort((x, y) => Number(x) - Number(y))).toEqual(
          Array.from({ length: 12 }, (_, i) => i)
        )
      }))

    it.scoped("expires a stream a time to live after its last event, never reuses its ids, and purges it", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const tablePrefix = unique()
        const store = yield* on(a, PgEventStore.make({ tablePrefix, timeToLive: "10 minutes" }))
        const other = yield* on(b, PgEventStore.make({ tablePrefix, timeToLive: "10 minutes" }))
        yield* store.append("s-1", "m1")
        yield* other.append("t-1", "t1")
        yield* TestClock.adjust("9 minutes")
        yield* store.append("s-1", "m2")
        yield* TestClock.adjust("9 minutes")
        expect(messages(yield* other.replayAfter("s-1/0"))).toEqual(Option.some(["m1", "m2"]))
        expect(yield* other.replayAfter("t-1/0")).toEqual(Option.none())
        yield* TestClock.adjust("2 minutes")
        expect(yield* other.replayAfter("s-1/0")).toEqual(Option.none())
        // Written again after expiring: it goes on with its sequence, and keeps nothing from before.
        expect(yield* store.append("s-1", "m3")).toBe("s-1/3")
        expect(messages(yield* other.replayAfter("s-1/2"))).toEqual(Option.some(["m3"]))
        expect(yield* other.replayAfter("s-1/1")).toEqual(Option.none())
        // Only t-1 has expired now.
        expect(yield* other.purge).toBe(1)
        expect(yield* store.purge).toBe(0)
        expect(messages(yield* store.replayAfter("s-1/2"))).toEqual(Option.some(["m3"]))
      }))
  })

  describe("PgSessionStore", () => {
    const state: SessionStore.SessionState = {
      protocolVersion: "2025-11-25",
      clientCapabilities: { sampling: {}, experimental: { "x-feature": { depth: 2 } } },
      clientInfo: { name: "c", version: "1" },
      logLevel: "info",
      subscriptions: ["file:///a"],
      principal: "alice"
    }

    it.scoped("loads on one node the session another saved; a save replaces it; a removal forgets it everywhere", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const tablePrefix = unique()
        const storeA = yield* on(a, PgSessionStore.make({ tablePrefix }))
        const storeB = yield* on(b, PgSessionStore.make({ tablePrefix }))
        yield* storeA.save("s1", state)
        yield* storeA.save("s2", { ...state, subscriptions: [] })
        expect(yield* storeB.load("s1")).toEqual(Option.some(state))
        yield* storeB.save("s1", { ...state, logLevel: "debug", subscriptions: ["file:///a", "file:///b"] })
        expect(Option.map(yield* storeA.load("s1"), (s) => [s.logLevel, s.subscriptions])).toEqual(
          Option.some(["debug", ["file:///a", "file:///b"]])
        )
        yield* storeB.remove("s1")
        expect(yield* storeA.load("s1")).toEqual(Option.none())
        expect(yield* storeB.load("s1")).toEqual(Option.none())
        expect(Option.map(yield* storeA.load("s2"), (s) => s.subscriptions)).toEqual(Option.some([]))
        expect(yield* storeA.load("never")).toEqual(Option.none())
      }))

    it.scoped("keeps a session until its time to live passes without a save or a touch, then purges it", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const tablePrefix = unique()
        const store = yield* on(a, PgSessionStore.make({ tablePrefix, timeToLive: "10 minutes" }))
        const other = yield* on(b, PgSessionStore.make({ tablePrefix, timeToLive: "10 minutes" }))
        yield* store.save("s1", state)
        yield* store.save("s2", state)
        yield* TestClock.adjust("9 minutes")
        yield* other.touch("s1")
        yield* TestClock.adjust("9 minutes")
        expect(Option.isSome(yield* store.load("s1"))).toBe(true)
        expect(yield* store.load("s2")).toEqual(Option.none())
        yield* TestClock.adjust("2 minutes")
        expect(yield* other.load("s1")).toEqual(Option.none())
        // A touch does not revive what has expired.
        yield* other.touch("s1")
        expect(yield* store.load("s1")).toEqual(Option.none())
        expect(yield* store.purge).toBe(2)
        expect(yield* other.purge).toBe(0)
      }))
  })

  describe("PgChangeFeed", () => {
    const toolsChanged: ChangeFeed.Change = { _tag: "ListChanged", method: "notifications/tools/list_changed" }
    const updated: ChangeFeed.Change = { _tag: "ResourceUpdated", uri: "file:///a" }

    /** Starts hearing `count` changes on `feed`; the listener is established when it returns. */
    const hear = (feed: ChangeFeed.Service, count: number) =>
      Effect.flatMap(feed.subscribe, (changes) => Effect.forkScoped(Stream.runCollect(Stream.take(changes, count))))
    const heard = (fiber: Fiber.Fiber<Chunk.Chunk<ChangeFeed.Published>>) =>
      Effect.map(Fiber.join(fiber), Chunk.toReadonlyArray)

    it.scoped("delivers a change published on one node to every node, its own included, with its origin", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const channel = `${unique()}changes`
        const feedA = yield* on(a, PgChangeFeed.make({ channel }))
        const feedB = yield* on(b, PgChangeFeed.make({ channel }))
        const onA = yield* hear(feedA, 2)
        const onB = yield* hear(feedB, 2)
        // Published as soon as the subscriptions return: they are listening already.
        yield* feedA.publish({ origin: "node-a", change: toolsChanged })
        yield* feedB.publish({ origin: "node-b", change: updated })
        const expected = [{ origin: "node-a", change: toolsChanged }, { origin: "node-b", change: updated }]
        expect(yield* heard(onA)).toEqual(expected)
        expect(yield* heard(onB)).toEqual(expected)
      }))

    it.scopedLive("ignores a payload on its channel that is not a change", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const channel = `${unique()}changes`
        const feed = yield* on(b, PgChangeFeed.make({ channel }))
        const listening = yield* hear(feed, 1)
        for (
          const payload of ["not json", "{\"origin\":1}", "{\"origin\":\"x\",\"change\":{\"_tag\":\"Nope\"}}", "[]"]
        ) {
          yield* a`SELECT pg_notify(${channel}, ${payload})`
        }
        yield* a`SELECT pg_notify(${channel}, ${JSON.stringify({ origin: "node-a", change: updated })})`
        expect(yield* heard(listening)).toEqual([{ origin: "node-a", change: updated }])
      }))

    it.scopedLive("listens again when its LISTEN connection dies: its subscribers' streams end, new ones hear", () =>
      Effect.gen(function*() {
        const [a, b] = yield* twoNodes
        const channel = `${unique()}changes`
        // Short, to find the dead LISTEN soon; not so short that a test process stalled by a loaded machine misses a
        // probe and the feed starts over while the test subscribes (its stream would end with nothing heard).
        const feed = yield* on(b, PgChangeFeed.make({ channel, livenessInterval: "1 second" }))
        // Twice: the second LISTEN is on a connection of the feed's own, which it replaces in turn.
        for (let round = 0; round < 2; round++) {
          const before = yield* hear(feed, 2)
          // The connection that LISTENs (its last statement) is killed: nothing reports it to the feed.
          const killed = yield* a<{ readonly pid: number }>`SELECT pg_terminate_backend(pid), pid
            FROM pg_stat_activity WHERE query = ${`LISTEN "${channel}"`}`
          expect(killed).toHaveLength(1)
          // The subscription in place ends (what was published meanwhile is lost to it): it heard nothing.
          expect(yield* heard(before)).toEqual([])
          // Subscribed again, it hears what is published once the LISTEN is back.
          const after = yield* hear(feed, 1)
          const published = { origin: "node-a", change: updated }
          yield* a`SELECT pg_notify(${channel}, ${JSON.stringify(published)})`.pipe(
            Effect.zipRight(Effect.sleep("100 millis")),
            Effect.repeat({ until: () => after.unsafePoll() !== null, times: 100 })
          )
          expect((yield* heard(after))[0]).toEqual(published)
        }
      }))

    it.scoped("does not hear another channel", () =>
      Effect.gen(function*() {
        const [a] = yield* twoNodes
        const prefix = unique()
        const feed = yield* on(a, PgChangeFeed.make({ channel: `${prefix}mine` }))
        const elsewhere = yield* on(a, PgChangeFeed.make({ channel: `${prefix}theirs` }))
        const listening = yield* hear(feed, 1)
        yield* elsewhere.publish({ origin: "elsewhere", change: toolsChanged })
        yield* feed.publish({ origin: "here", change: updated })
        expect(yield* heard(listening)).toEqual([{ origin: "here", change: updated }])
      }))
  })
})
