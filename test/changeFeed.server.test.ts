import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, FiberRef, HashSet, Layer, Logger, Queue, Stream, TestClock } from "effect"
import { ChangeFeed, McpServer, McpTest, Prompt, StreamableHttpClient, Tool } from "mcp-effect"
import type { McpClient, McpError, McpSchema } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { flush } from "./helpers.js"

const Notes = McpServer.resource("notes://1", {}, () => Effect.succeed("one")).pipe(
  Layer.merge(McpServer.resource("notes://2", {}, () => Effect.succeed("two"))),
  Layer.merge(McpServer.tool("ping", {}, () => Effect.succeed("pong")))
)

/**
 * One node: its own server, built now on the feed given, for the life of the test's scope. It announces tool list
 * changes even with no tool registered.
 */
const node = (
  feed: ChangeFeed.Service,
  name: string,
  registrations: Layer.Layer<never, McpError.DefinitionError, McpServer.McpServer> = Notes,
  capabilities: McpSchema.ServerCapabilities = { tools: { listChanged: true } }
) =>
  Effect.map(
    Layer.build(
      registrations.pipe(
        Layer.provideMerge(McpServer.layer({ name, version: "1.0.0", capabilities })),
        Layer.provide(Layer.succeed(ChangeFeed.ChangeFeed, feed))
      )
    ),
    (context) => ({ context, server: Context.get(context, McpServer.McpServer) })
  )

/** A test client on a node, and the queue of what it hears from now on. */
const clientOn = (context: Context.Context<McpServer.McpServer>, options?: McpTest.Options) =>
  Effect.gen(function*() {
    const client = yield* McpTest.makeClient(Layer.succeedContext(context), options)
    const heard = yield* client.subscribe
    return { client, heard }
  })

/** The next notification of `method` a client hears, skipping others. */
const next = (heard: Queue.Dequeue<McpClient.Notification>, method: string) =>
  Queue.take(heard).pipe(Effect.repeat({ until: (n) => n.method === method }))

/**
 * The resource updates and prompt list changes a client hears until it hears of `uri`. (Tool and resource list
 * changes are left out: the nodes' own registrations cause some, heard by the other node whenever its feed has them.)
 */
const until = (heard: Queue.Dequeue<McpClient.Notification>, uri: string) =>
  Effect.gen(function*() {
    const seen: Array<McpClient.Notification> = []
    for (;;) {
      const notification = yield* Queue.take(heard)
      if (notification.params?.uri === uri) return seen
      if (
        notification.method === "notifications/resources/updated" ||
        notification.method === "notifications/prompts/list_changed"
      ) seen.push(notification)
    }
  })

/**
 * Moves the TestClock a second at a time until a client hears `method`: however late the server's timer was set,
 * a later step passes it.
 */
const adjustUntil = (heard: Queue.Dequeue<McpClient.Notification>, method: string) =>
  Effect.gen(function*() {
    for (;;) {
      yield* TestClock.adjust("1 second")
      yield* flush
      if (Chunk.some(yield* Queue.takeAll(heard), (n) => n.method === method)) return
    }
  })

/** A memory feed that records what is published to it. */
const spied = Effect.map(ChangeFeed.makeMemory, (memory) => {
  const published: Array<ChangeFeed.Published> = []
  const feed: ChangeFeed.Service = {
    publish: (p) => Effect.zipRight(Effect.sync(() => published.push(p)), memory.publish(p)),
    subscribe: memory.subscribe
  }
  return { memory, feed, published }
})

describe("McpServer with a ChangeFeed", () => {
  it.scoped("tells a node's subscribed clients of a resource another node updated", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.makeMemory
      const a = yield* node(feed, "a")
      const b = yield* node(feed, "b")
      const onB = yield* clientOn(b.context)
      yield* onB.client.subscribeResource("notes://1")
      yield* a.server.notifyResourceUpdated("notes://2")
      yield* a.server.notifyResourceUpdated("notes://1")
      const update = yield* next(onB.heard, "notifications/resources/updated")
      // notes://2 was updated first, but B's client did not subscribe to it.
      expect(update.params).toEqual({ uri: "notes://1" })
    }))

  it.scoped("tells every node's clients of a tool another node added at run time", () =>
    Effect.gen(function*() {
      // Nothing registered when built, so that no list change but this test's is published.
      const feed = yield* ChangeFeed.makeMemory
      const a = yield* node(feed, "a", Layer.empty)
      const b = yield* node(feed, "b", Layer.empty)
      const onB = yield* clientOn(b.context)
      yield* a.server.addTool(Tool.make("grown", {}, () => Effect.succeed("x")))
      expect((yield* next(onB.heard, "notifications/tools/list_changed")).params).toEqual({})
    }))

  it.scoped("reaches a 2026-07-28 client's subscriptions/listen on another node", () =>
    Effect.gen(function*() {
      // Prompts announced, none registered: the only prompt list change is this test's.
      const feed = yield* ChangeFeed.makeMemory
      const a = yield* node(feed, "a", Notes, { prompts: { listChanged: true } })
      const b = yield* node(feed, "b", Notes, { prompts: { listChanged: true } })
      const onB = yield* clientOn(b.context, { protocolVersion: "2026-07-28" })
      expect(onB.client.protocolVersion).toBe("2026-07-28")
      yield* onB.client.subscribeResource("notes://1")
      yield* a.server.notifyResourceUpdated("notes://1")
      expect((yield* next(onB.heard, "notifications/resources/updated")).params).toMatchObject({ uri: "notes://1" })
      yield* a.server.addPrompt(Prompt.make("greet", {}, () => Effect.succeed("Hello")))
      yield* next(onB.heard, "notifications/prompts/list_changed")
    }))

  it.scoped("tells a node's own clients of its change once, publishes it once (no echo), skips lists it lacks", () =>
    Effect.gen(function*() {
      const { feed, memory, published } = yield* spied
      const a = yield* node(feed, "a")
      const b = yield* node(feed, "b")
      const onA = yield* clientOn(a.context)
      const onB = yield* clientOn(b.context)
      yield* onA.client.subscribeResource("notes://1")
      yield* onA.client.subscribeResource("notes://2")
      yield* onB.client.subscribeResource("notes://1")
      yield* onB.client.subscribeResource("notes://2")
      const observed = yield* memory.subscribe
      yield* a.server.notifyResourceUpdated("notes://1")
      // Once A's change is on the feed and B's client heard it, a marker published after it reaches each node after
      // anything the feed would have echoed of it.
      const first = yield* Stream.runHead(Stream.filter(observed, (p) => p.change._tag === "ResourceUpdated")).pipe(
        Effect.flatten
      )
      expect(first.change).toEqual({ _tag: "ResourceUpdated", uri: "notes://1" })
      yield* next(onB.heard, "notifications/resources/updated")
      // A list neither node serves: not theirs to announce.
      yield* memory.publish({
        origin: "other",
        change: { _tag: "ListChanged", method: "notifications/prompts/list_changed" }
      })
      yield* memory.publish({ origin: "marker", change: { _tag: "ResourceUpdated", uri: "notes://2" } })
      expect(yield* until(onA.heard, "notes://2")).toEqual([
        { method: "notifications/resources/updated", params: { uri: "notes://1" } }
      ])
      expect(yield* until(onB.heard, "notes://2")).toEqual([])
      // B heard A's change; it did not publish it again (the registrations' list changes aside).
      expect(published.filter((p) => p.change._tag === "ResourceUpdated").map((p) => p.change)).toEqual([
        { _tag: "ResourceUpdated", uri: "notes://1" }
      ])
    }))

  it.scoped("reaches a client over Streamable HTTP on another node, in either era", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.makeMemory
      const a = yield* node(feed, "a")
      const b = yield* node(feed, "b")
      const { url } = yield* NodeHttp.listen({ port: 0 }).pipe(Effect.provide(b.context))
      const modern = yield* StreamableHttpClient.connect(url, { protocolVersion: "2026-07-28" })
      const handshake = yield* StreamableHttpClient.connect(url, { protocolVersion: "2025-11-25" })
      const heardModern = yield* modern.subscribe
      const heardHandshake = yield* handshake.subscribe
      yield* modern.subscribeResource("notes://1")
      yield* handshake.subscribeResource("notes://1")
      yield* a.server.notifyResourceUpdated("notes://1")
      expect((yield* next(heardModern, "notifications/resources/updated")).params).toMatchObject({ uri: "notes://1" })
      expect((yield* next(heardHandshake, "notifications/resources/updated")).params).toEqual({ uri: "notes://1" })
    }))

  it.scoped("keeps serving when the feed fails, logs it, and listens again after a backoff", () =>
    Effect.gen(function*() {
      const memory = yield* ChangeFeed.makeMemory
      let subscriptions = 0
      const flaky: ChangeFeed.Service = {
        publish: () => Effect.dieMessage("feed down"),
        subscribe: Effect.suspend(() =>
          subscriptions++ === 0 ? Effect.succeed(Stream.dieMessage("feed down")) : memory.subscribe
        )
      }
      const logs = yield* Queue.unbounded<string>()
      const collect = Logger.make(({ message }) => Queue.unsafeOffer(logs, String(message)))
      const b = yield* node(flaky, "b").pipe(Effect.locallyWith(FiberRef.currentLoggers, HashSet.add(collect)))
      const onB = yield* clientOn(b.context)
      yield* Queue.take(logs).pipe(Effect.repeat({ until: (m) => m.includes("The change feed failed") }))
      // Serving, and telling its own clients, while the feed is down; a failed publish fails nothing.
      expect(yield* onB.client.callTool("ping")).toMatchObject({ content: [{ type: "text", text: "pong" }] })
      yield* b.server.addTool(Tool.make("grown", {}, () => Effect.succeed("x")))
      yield* next(onB.heard, "notifications/tools/list_changed")
      yield* Queue.take(logs).pipe(Effect.repeat({ until: (m) => m.includes("Could not publish") }))
      // Listening again after the backoff, it tells its clients that any list may have changed in between.
      yield* adjustUntil(onB.heard, "notifications/resources/list_changed")
      yield* onB.client.subscribeResource("notes://1")
      yield* memory.publish({ origin: "other", change: { _tag: "ResourceUpdated", uri: "notes://1" } })
      expect((yield* next(onB.heard, "notifications/resources/updated")).params).toEqual({ uri: "notes://1" })
    }))

  it.effect("made outside any scope, warns that it cannot listen, and still serves", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.makeMemory
      const logs: Array<string> = []
      const collect = Logger.make(({ message }) => void logs.push(String(message)))
      const server = yield* McpServer.make({ name: "unscoped", version: "1" }).pipe(
        Effect.provideService(ChangeFeed.ChangeFeed, feed),
        Effect.locallyWith(FiberRef.currentLoggers, HashSet.add(collect))
      )
      expect(logs.some((m) => m.includes("found a ChangeFeed but no Scope"))).toBe(true)
      yield* server.addTool(Tool.make("grown", {}, () => Effect.succeed("x")))
      expect(server.capabilities().tools).toEqual({ listChanged: true })
    }))

  it.scoped("without a feed, tells its own clients only, as ever", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Notes.pipe(Layer.provideMerge(McpServer.layer({ name: "x", version: "1" }))))
      const on = yield* clientOn(context)
      yield* on.client.subscribeResource("notes://1")
      yield* Context.get(context, McpServer.McpServer).notifyResourceUpdated("notes://1")
      expect((yield* next(on.heard, "notifications/resources/updated")).params).toEqual({ uri: "notes://1" })
    }))
})
