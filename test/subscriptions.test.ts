/**
 * A resource's `subscribe`: what runs while any client is subscribed to it, across sessions, listens and mounts, and
 * a proxy subscribing upstream while a downstream client is subscribed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Queue, Scope } from "effect"
import type { McpClient } from "mcp-effect"
import { McpClients, McpProxy, McpServer, McpTest, RequestContext, Resource } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { watchServer } from "../examples/resource-watch.js"
import { flush } from "./helpers.js"

/** Registrations whose `watch://{name}` and `data://fixed` say in `events` when they start and stop being watched. */
const Watched = (events: Queue.Queue<string>) => {
  const watch = (uri: string) => Effect.acquireRelease(events.offer(`start ${uri}`), () => events.offer(`stop ${uri}`))
  return Layer.mergeAll(
    McpServer.resource("watch://{name}", { subscribe: watch }, ({ name }) => Effect.succeed(name)),
    McpServer.resource("data://fixed", { subscribe: watch }, () => Effect.succeed("fixed")),
    McpServer.resource("data://plain", {}, () => Effect.succeed("plain"))
  )
}

const WatchedServer = (events: Queue.Queue<string>) =>
  Layer.provideMerge(Watched(events), McpServer.layer({ name: "watched", version: "1" }))

/** A server built once for the test's scope, and a way to connect clients to it (each a session of its own). */
const serverOf = <E>(server: Layer.Layer<McpServer.McpServer, E>) =>
  Effect.map(Layer.build(server), (context) => ({
    server: Context.get(context, McpServer.McpServer),
    connect: (options?: McpTest.Options) => McpTest.makeClient(Layer.succeedContext(context), options)
  }))

/** The events so far, without waiting. */
const taken = (events: Queue.Queue<string>) => Effect.map(Queue.takeAll(events), (all) => Array.from(all))

const next = (heard: Queue.Dequeue<McpClient.Notification>, method: string) =>
  Queue.take(heard).pipe(Effect.repeat({ until: (n) => n.method === method }))

describe("Resource subscribe", () => {
  it.scoped("starts with a resource's first subscriber and stops with its last, across sessions", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect } = yield* serverOf(WatchedServer(events))
      const a = yield* connect()
      const b = yield* connect()
      // The subscribe request is answered once the hook has started.
      yield* a.subscribeResource("watch://one")
      expect(yield* taken(events)).toEqual(["start watch://one"])
      yield* b.subscribeResource("watch://one")
      yield* a.subscribeResource("watch://one")
      yield* b.subscribeResource("data://plain")
      yield* a.unsubscribeResource("watch://one")
      expect(yield* taken(events)).toEqual([])
      yield* b.unsubscribeResource("watch://one")
      expect(yield* taken(events)).toEqual(["stop watch://one"])
      // Unsubscribing what it never subscribed to is no leave.
      yield* a.unsubscribeResource("data://fixed")
      yield* a.subscribeResource("data://fixed")
      expect(yield* taken(events)).toEqual(["start data://fixed"])
    }))

  it.scoped("stops when the last subscribed session closes", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect } = yield* serverOf(WatchedServer(events))
      const scope = yield* Scope.make()
      const client = yield* Scope.extend(connect(), scope)
      yield* client.subscribeResource("data://fixed")
      yield* client.subscribeResource("watch://two")
      expect(yield* taken(events)).toEqual(["start data://fixed", "start watch://two"])
      yield* Scope.close(scope, Exit.void)
      const stopped = [yield* Queue.take(events), yield* Queue.take(events)]
      expect(stopped.sort()).toEqual(["stop data://fixed", "stop watch://two"])
    }))

  it.scoped("runs while a 2026-07-28 listen names the resource, and stops when the listen ends", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect, server } = yield* serverOf(WatchedServer(events))
      const modern = yield* connect({ protocolVersion: "2026-07-28" })
      const handshake = yield* connect()
      const heard = yield* modern.subscribe
      // The modern client's subscriptions are one listen; its acknowledgement comes once the hook has started.
      yield* modern.subscribeResource("watch://three")
      expect(yield* taken(events)).toEqual(["start watch://three"])
      yield* handshake.subscribeResource("watch://three")
      yield* server.notifyResourceUpdated("watch://three")
      expect((yield* next(heard, "notifications/resources/updated")).params).toMatchObject({ uri: "watch://three" })
      yield* modern.unsubscribeResource("watch://three")
      yield* handshake.unsubscribeResource("watch://three")
      expect(yield* Queue.take(events)).toBe("stop watch://three")
    }))

  it.scoped("a mounted server's resource runs for the parent's subscribers, under its prefixed URI", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const child = yield* Layer.build(WatchedServer(events))
      const { connect } = yield* serverOf(
        Layer.scopedDiscard(
          Effect.flatMap(McpServer.McpServer, (parent) => parent.mount("kid", Context.get(child, McpServer.McpServer)))
        ).pipe(Layer.provideMerge(McpServer.layer({ name: "parent", version: "1" })))
      )
      const client = yield* connect()
      const listed = yield* client.listResources
      const [fixed] = listed.filter((r) => r.uri.includes("fixed"))
      expect(listed.map((r) => r.uri)).toContain(fixed?.uri)
      yield* client.subscribeResource(fixed!.uri)
      // The child's hook hears its own URI.
      expect(yield* taken(events)).toEqual(["start data://fixed"])
      yield* client.unsubscribeResource(fixed!.uri)
      expect(yield* taken(events)).toEqual(["stop data://fixed"])
    }))
})

describe("Resource subscribe, types", () => {
  it("a hook's services are the layer's requirements; RequestContext, which no hook has, is one no one provides", () => {
    const needsRequest = McpServer.resource("data://x", {
      subscribe: () => Effect.asVoid(RequestContext.RequestContext)
    }, () => Effect.succeed("x"))
    // @ts-expect-error RequestContext is left among the layer's requirements: a subscribe hook runs in no request
    const served: Layer.Layer<never, unknown, McpServer.McpServer> = needsRequest
    const plain: Layer.Layer<never, unknown, McpServer.McpServer> = McpServer.resource("data://y", {
      subscribe: (uri) => Effect.asVoid(Effect.acquireRelease(Effect.log(uri), () => Effect.void))
    }, () => Effect.succeed("y"))
    expect([served, plain].length).toBe(2)
  })
})

describe("Resource subscribe, forking", () => {
  it.scoped("what a hook forks into its scope is interrupted when the last subscriber leaves", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect } = yield* serverOf(
        McpServer.resource("tick://clock", {
          subscribe: () =>
            Effect.forkScoped(
              Effect.zipRight(events.offer("running"), Effect.never).pipe(
                Effect.onInterrupt(() => events.offer("interrupted"))
              )
            )
        }, () => Effect.succeed("tick")).pipe(Layer.provideMerge(McpServer.layer({ name: "clock", version: "1" })))
      )
      const client = yield* connect()
      yield* client.subscribeResource("tick://clock")
      expect(yield* Queue.take(events)).toBe("running")
      yield* client.unsubscribeResource("tick://clock")
      expect(yield* taken(events)).toEqual(["interrupted"])
    }))
})

const layerOf = (name: string) => McpServer.layer({ name, version: "1" })

describe("Resource subscribe, edges", () => {
  it.scoped("a new subscriber's start waits for the previous stop of the same URI: two runs never overlap", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const gate = yield* Deferred.make<void>()
      const { connect } = yield* serverOf(
        McpServer.resource("data://slow", {
          subscribe: () =>
            Effect.acquireRelease(
              Effect.zipRight(events.offer("start"), Deferred.await(gate)),
              () => events.offer("stop")
            )
        }, () => Effect.succeed("slow")).pipe(Layer.provideMerge(layerOf("slow")))
      )
      const a = yield* connect()
      const b = yield* connect()
      const subscribing = yield* Effect.fork(a.subscribeResource("data://slow"))
      expect(yield* Queue.take(events)).toBe("start")
      const leaving = yield* Effect.fork(a.unsubscribeResource("data://slow"))
      yield* flush
      const joining = yield* Effect.fork(b.subscribeResource("data://slow"))
      yield* flush
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(subscribing)
      yield* Fiber.join(leaving)
      yield* Fiber.join(joining)
      expect(Array.from(yield* Queue.takeAll(events))).toEqual(["stop", "start"])
      yield* b.unsubscribeResource("data://slow")
      expect(yield* Queue.take(events)).toBe("stop")
    }))

  it.scoped("a resource registered after its first subscription starts for the subscribers it has", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect, server } = yield* serverOf(layerOf("late"))
      const client = yield* connect()
      yield* client.subscribeResource("data://late")
      const late = Resource.make("data://late", {
        subscribe: () => Effect.acquireRelease(events.offer("start"), () => events.offer("stop"))
      }, () => Effect.succeed("late"))
      yield* Effect.orDie(server.addResource(late as Resource.Resource))
      expect(yield* Queue.take(events)).toBe("start")
      yield* client.unsubscribeResource("data://late")
      expect(yield* Queue.take(events)).toBe("stop")
    }))

  it.scoped("a hook that never finishes starting holds neither an unsubscribe nor the session's close", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect } = yield* serverOf(
        McpServer.resource("data://stuck", {
          subscribe: () => Effect.zipRight(events.offer("starting"), Effect.never)
        }, () => Effect.succeed("stuck")).pipe(Layer.provideMerge(layerOf("stuck")))
      )
      const scope = yield* Scope.make()
      const client = yield* Scope.extend(connect(), scope)
      const subscribing = yield* Effect.fork(client.subscribeResource("data://stuck"))
      expect(yield* Queue.take(events)).toBe("starting")
      yield* Fiber.interrupt(subscribing)
      yield* client.unsubscribeResource("data://stuck")
      yield* client.subscribeResource("data://other")
      yield* Effect.fork(client.subscribeResource("data://stuck"))
      expect(yield* Queue.take(events)).toBe("starting")
      yield* Scope.close(scope, Exit.void)
    }))

  it.scoped("a hook that throws is logged; the subscription stands and the rest go on", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect } = yield* serverOf(
        Layer.mergeAll(
          McpServer.resource("data://broken", {
            subscribe: () => {
              throw new Error("no watcher")
            }
          }, () => Effect.succeed("broken")),
          Watched(events)
        ).pipe(Layer.provideMerge(layerOf("broken")))
      )
      const client = yield* connect({ protocolVersion: "2026-07-28" })
      yield* client.subscribeResource("data://broken")
      yield* client.subscribeResource("data://fixed")
      expect(yield* Queue.take(events)).toBe("start data://fixed")
      yield* client.unsubscribeResource("data://fixed")
      expect(yield* Queue.take(events)).toBe("stop data://fixed")
    }))

  it.scoped("a subscription that arrives after its session closed starts nothing", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { server } = yield* serverOf(WatchedServer(events))
      const scope = yield* Scope.make()
      const { receiver } = yield* Scope.extend(server.connect({ run: () => Effect.never, send: () => {} }), scope)
      receiver.message({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "c", version: "1" } }
      })
      yield* flush
      yield* Scope.close(scope, Exit.void)
      receiver.message({ jsonrpc: "2.0", id: 2, method: "resources/subscribe", params: { uri: "data://fixed" } })
      yield* flush
      expect(Array.from(yield* Queue.takeAll(events))).toEqual([])
    }))

  it.scopedLive("a 2026-07-28 client over HTTP adding a subscription keeps what runs for the ones it holds", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { url } = yield* NodeHttp.serve(WatchedServer(events), { port: 0 })
      const scope = yield* Scope.make()
      const client = yield* Scope.extend(NodeHttp.connect(url, { protocolVersion: "2026-07-28" }), scope)
      yield* client.subscribeResource("watch://a")
      yield* client.subscribeResource("watch://b")
      yield* client.subscribeResource("watch://c")
      yield* Scope.close(scope, Exit.void)
      const seen: Array<string> = []
      while (!["a", "b", "c"].every((n) => seen.includes(`stop watch://${n}`))) seen.push(yield* Queue.take(events))
      expect(seen.filter((event) => event.startsWith("start")).sort()).toEqual([
        "start watch://a",
        "start watch://b",
        "start watch://c"
      ])
    }))
})

describe("Resource subscribe, edges found in review", () => {
  it.scoped("a start after two quick stops still waits for the first stop", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const gate = yield* Deferred.make<void>()
      const { connect } = yield* serverOf(
        McpServer.resource("data://slowstop", {
          subscribe: () =>
            Effect.acquireRelease(
              events.offer("start"),
              () => Effect.zipRight(Deferred.await(gate), events.offer("stop"))
            )
        }, () => Effect.succeed("x")).pipe(Layer.provideMerge(layerOf("s")))
      )
      const [a, b, c] = [yield* connect(), yield* connect(), yield* connect()]
      yield* a.subscribeResource("data://slowstop")
      expect(yield* Queue.take(events)).toBe("start")
      // Stop 1 waits on the gate; start 2 waits for it; stop 2 interrupts start 2; start 3 must still wait for stop 1.
      for (
        const step of [
          a.unsubscribeResource("data://slowstop"),
          b.subscribeResource("data://slowstop"),
          b.unsubscribeResource("data://slowstop"),
          c.subscribeResource("data://slowstop")
        ]
      ) {
        yield* Effect.fork(step)
        yield* flush
      }
      expect(Array.from(yield* Queue.takeAll(events))).toEqual([])
      yield* Deferred.succeed(gate, undefined)
      expect([yield* Queue.take(events), yield* Queue.take(events)]).toEqual(["stop", "start"])
    }))

  it.scoped("a hook whose release hangs holds up only its own leave, not a later subscriber's", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { connect } = yield* serverOf(
        McpServer.resource("data://stuck", {
          subscribe: () => Effect.acquireRelease(events.offer("start"), () => Effect.never)
        }, () => Effect.succeed("x")).pipe(Layer.provideMerge(layerOf("stuck-release")))
      )
      const a = yield* connect()
      const scope = yield* Scope.make()
      const b = yield* Scope.extend(connect(), scope)
      yield* a.subscribeResource("data://stuck")
      expect(yield* Queue.take(events)).toBe("start")
      yield* Effect.fork(a.unsubscribeResource("data://stuck"))
      yield* flush
      // B's start waits for A's stop, which never ends; B leaving, and its session closing, must not.
      const joining = yield* Effect.fork(b.subscribeResource("data://stuck"))
      yield* flush
      yield* Fiber.interrupt(joining)
      yield* b.unsubscribeResource("data://stuck")
      yield* Scope.close(scope, Exit.void)
      expect(Array.from(yield* Queue.takeAll(events))).toEqual([])
    }))

  it.scoped("a 2026-07-28 subscription interrupted while it waits leaves one listen, not two", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const gate = yield* Deferred.make<void>()
      const watch = (uri: string) =>
        Effect.acquireRelease(events.offer(`start ${uri}`), () => events.offer(`stop ${uri}`))
      const { connect, server } = yield* serverOf(
        Layer.mergeAll(
          McpServer.resource("data://fixed", { subscribe: watch }, () => Effect.succeed("fixed")),
          McpServer.resource("data://slow", {
            subscribe: (uri) => Effect.zipRight(Deferred.await(gate), watch(uri))
          }, () => Effect.succeed("slow"))
        ).pipe(Layer.provideMerge(layerOf("l")))
      )
      const client = yield* connect({ protocolVersion: "2026-07-28" })
      const heard = yield* client.subscribe
      yield* client.subscribeResource("data://fixed")
      expect(yield* Queue.take(events)).toBe("start data://fixed")
      const adding = yield* Effect.fork(client.subscribeResource("data://slow"))
      yield* flush
      yield* Fiber.interrupt(adding)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Queue.take(events)).toBe("start data://slow")
      yield* flush
      yield* Queue.takeAll(heard)
      yield* server.notifyResourceUpdated("data://fixed")
      yield* next(heard, "notifications/resources/updated")
      yield* client.unsubscribeResource("data://slow")
      yield* client.unsubscribeResource("data://fixed")
      expect([yield* Queue.take(events), yield* Queue.take(events)].sort()).toEqual([
        "stop data://fixed",
        "stop data://slow"
      ])
      // The update was heard once: one listen held it.
      const again = Array.from(yield* Queue.takeAll(heard)).filter((n) =>
        n.method === "notifications/resources/updated"
      )
      expect(again).toEqual([])
    }))
})

describe("McpProxy and subscriptions", () => {
  const ProxyOf = <C extends McpClients.Connections>(connections: C) =>
    McpProxy.layer(connections).pipe(Layer.provideMerge(McpServer.layer({ name: "proxy", version: "1" })))

  it.scoped.each(["2025-11-25", "2026-07-28"] as const)(
    "subscribes upstream (in %s) while a downstream client is subscribed, and passes the updates on",
    (era) =>
      Effect.gen(function*() {
        const events = yield* Queue.unbounded<string>()
        const upstream = yield* serverOf(WatchedServer(events))
        const { connect } = yield* serverOf(ProxyOf({ alpha: upstream.connect({ protocolVersion: era }) }))
        const client = yield* connect()
        const heard = yield* client.subscribe
        const [watched] = (yield* client.listResources).filter((r) => r.uri.includes("fixed"))
        yield* client.subscribeResource(watched!.uri)
        expect(yield* taken(events)).toEqual(["start data://fixed"])
        yield* upstream.server.notifyResourceUpdated("data://fixed")
        expect((yield* next(heard, "notifications/resources/updated")).params).toEqual({ uri: watched!.uri })
        yield* client.unsubscribeResource(watched!.uri)
        expect(yield* Queue.take(events)).toBe("stop data://fixed")
      })
  )

  it.scoped("subscribes again on a remade connection to the upstream", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const upstream = yield* serverOf(WatchedServer(events))
      const proxy = yield* Layer.build(ProxyOf({ alpha: upstream.connect() }))
      const client = yield* McpTest.makeClient(Layer.succeedContext(proxy))
      const heard = yield* client.subscribe
      const [watched] = (yield* client.listResources).filter((r) => r.uri.includes("fixed"))
      yield* client.subscribeResource(watched!.uri)
      expect(yield* Queue.take(events)).toBe("start data://fixed")
      yield* Context.get(proxy, McpClients.McpClients).reconnect("alpha")
      // The old connection's session ends (its subscription with it); the new one subscribes.
      const after = [yield* Queue.take(events), yield* Queue.take(events)]
      expect(after.sort()).toEqual(["start data://fixed", "stop data://fixed"])
      yield* upstream.server.notifyResourceUpdated("data://fixed")
      expect((yield* next(heard, "notifications/resources/updated")).params).toEqual({ uri: watched!.uri })
    }))

  it.scoped("subscribes on the next connection when the first subscription failed (the upstream had gone)", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const upstream = yield* serverOf(WatchedServer(events))
      const firstScope = yield* Scope.make()
      let opened = 0
      const connection = Effect.suspend(() =>
        ++opened === 1 ? Scope.extend(upstream.connect(), firstScope) : upstream.connect()
      )
      const proxy = yield* Layer.build(ProxyOf({ alpha: connection }))
      const client = yield* McpTest.makeClient(Layer.succeedContext(proxy))
      const heard = yield* client.subscribe
      const [watched] = (yield* client.listResources).filter((r) => r.uri.includes("fixed"))
      // The upstream goes away unnoticed: the subscription fails there, and the downstream one stands.
      yield* Scope.close(firstScope, Exit.void)
      yield* client.subscribeResource(watched!.uri)
      expect((yield* Context.get(proxy, McpClients.McpClients).reconnect("alpha"))._tag).toBe("Connected")
      expect(yield* Queue.take(events)).toBe("start data://fixed")
      yield* upstream.server.notifyResourceUpdated("data://fixed")
      expect((yield* next(heard, "notifications/resources/updated")).params).toEqual({ uri: watched!.uri })
    }))

  it.scopedLive("from a template over Streamable HTTP, and for a 2026-07-28 downstream client", () =>
    Effect.gen(function*() {
      const events = yield* Queue.unbounded<string>()
      const { url } = yield* NodeHttp.serve(WatchedServer(events), { port: 0 })
      const alpha = NodeHttp.connect(url, { protocolVersion: "2025-11-25" })
      const { connect } = yield* serverOf(ProxyOf({ alpha }))
      const client = yield* connect({ protocolVersion: "2026-07-28" })
      const [template] = yield* client.listResourceTemplates
      const uri = template!.uriTemplate.replace("{name}", "four")
      yield* client.subscribeResource(uri)
      expect(yield* taken(events)).toEqual(["start watch://four"])
      yield* client.unsubscribeResource(uri)
      expect(yield* Queue.take(events)).toBe("stop watch://four")
    }))
})

describe("examples/resource-watch.ts", () => {
  it.scopedLive("watches its file while a client is subscribed: a note added is heard as an update", () =>
    Effect.gen(function*() {
      const file = join(mkdtempSync(join(tmpdir(), "mcp-watch-")), "notes.txt")
      const client = yield* McpTest.makeClient(watchServer(file))
      const heard = yield* client.subscribe
      yield* client.subscribeResource("notes://current")
      yield* client.callTool("add_note", { text: "hello" })
      expect((yield* next(heard, "notifications/resources/updated")).params).toEqual({ uri: "notes://current" })
      const read = yield* client.readResource("notes://current")
      expect(read.contents[0]).toMatchObject({ text: "hello\n" })
    }))
})
