import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Deferred, Effect, Exit, Fiber, Layer, Option, Queue, Ref, Schema } from "effect"
import {
  InMemoryTransport,
  McpClient,
  McpClients,
  McpError,
  McpProxy,
  McpSchema,
  McpServer,
  McpTest,
  RequestContext,
  Tool
} from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { flush } from "./helpers.js"

/** What a test watches inside an upstream server: a call that started, and its finalizer having run. */
interface Signals {
  readonly started: Deferred.Deferred<void>
  readonly finalized: Deferred.Deferred<void>
  readonly release: Deferred.Deferred<void>
}

const makeSignals = Effect.all({
  started: Deferred.make<void>(),
  finalized: Deferred.make<void>(),
  release: Deferred.make<void>()
})

/** An upstream server with one of everything, and tools that report progress, ask the client, hang and grow. */
const Alpha = (signals: Signals) =>
  Layer.mergeAll(
    McpServer.tool("add", {
      description: "Adds",
      parameters: { a: Schema.Number, b: Schema.Number },
      success: Schema.Number
    }, ({ a, b }) => Effect.succeed(a + b)),
    McpServer.tool("slow", {}, () =>
      Effect.gen(function*() {
        yield* RequestContext.progress(1, 2, "half")
        yield* RequestContext.progress(2, 2, "done")
        return "slow done"
      })),
    McpServer.tool("ask", {}, () =>
      Effect.gen(function*() {
        const answer = yield* RequestContext.elicit("Your name?", Schema.Struct({ name: Schema.String }))
        return answer.action === "accept" ? `Hello, ${answer.content.name}` : answer.action
      })),
    McpServer.tool("think", {}, () =>
      Effect.map(RequestContext.sample("2+2?"), ({ content }) => {
        const [first] = Array.isArray(content) ? content : [content]
        return first?.type === "text" ? first.text : "?"
      })),
    McpServer.tool("roots", {}, () =>
      Effect.map(RequestContext.listRoots, (roots) =>
        roots.map((root) => root.uri).join(","))),
    McpServer.tool("hang", {}, () =>
      Deferred.succeed(signals.started, undefined).pipe(
        Effect.zipRight(Effect.never),
        Effect.onInterrupt(() =>
          Deferred.succeed(signals.finalized, undefined)
        ),
        Effect.as("never")
      )),
    McpServer.tool("chatty", {}, () =>
      Effect.gen(function*() {
        yield* Effect.logInfo("working")
        yield* Deferred.await(signals.release)
        return "said"
      })),
    McpServer.tool("grow", {}, () =>
      Effect.as(
        Effect.orDie(McpServer.addTool(Tool.make("grown", {}, () => Effect.succeed("grown")))),
        "grew"
      )),
    McpServer.resource("data://config", { mimeType: "application/json" }, () => Effect.succeed("{}")),
    McpServer.resource("item://{id}", {
      complete: { id: (value) => Effect.succeed(["one", "two"].filter((v) => v.startsWith(value))) }
    }, ({ id }) => Effect.succeed(`item ${id}`)),
    McpServer.prompt("greet", { parameters: { who: Schema.String } }, ({ who }) => Effect.succeed(`Greet ${who}`))
  ).pipe(Layer.provideMerge(McpServer.layer({ name: "alpha", version: "1" })))

/** A second upstream server, with a tool of the same name as Alpha's and a raw JSON Schema. */
const Beta = Layer.mergeAll(
  McpServer.tool("add", {
    parameters: Tool.jsonSchema({
      type: "object",
      properties: { a: { type: "number", minimum: 0 }, b: { type: "number" } },
      required: ["a"],
      "x-vendor": { kept: true }
    })
  }, (args) => Effect.succeed(`beta adds ${String(args.a)} and ${String(args.b)}`))
).pipe(Layer.provideMerge(McpServer.layer({ name: "beta", version: "1" })))

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

/** The next notification of `method` (from `server`, for merged ones). */
const next = <N extends McpClient.Notification>(
  queue: Queue.Dequeue<N>,
  method: string,
  server?: string
): Effect.Effect<N> =>
  Effect.flatMap(
    queue.take,
    (notification) =>
      notification.method === method &&
        (server === undefined || ("server" in notification && notification.server === server))
        ? Effect.succeed(notification)
        : next(queue, method, server)
  )

/** An upstream served on an in-memory pair whose server fiber the test may interrupt, to see it go away. */
const killable = <E>(
  server: Layer.Layer<McpServer.McpServer, E>,
  fibers: Ref.Ref<ReadonlyArray<Fiber.RuntimeFiber<void, E>>>
) =>
  Effect.gen(function*() {
    const [clientSide, serverSide] = InMemoryTransport.makePair()
    const fiber = yield* Effect.forkDaemon(McpServer.serve(server, serverSide))
    yield* Ref.update(fibers, (all) => [...all, fiber])
    return yield* McpClient.make(clientSide, { protocolVersion: McpSchema.LATEST_PROTOCOL_VERSION })
  })

const upstream = <E, R>(server: Layer.Layer<McpServer.McpServer, E, R>) =>
  McpTest.makeClient(server, { protocolVersion: McpSchema.LATEST_PROTOCOL_VERSION })

describe("McpClients", () => {
  it.scoped("lists every server's tools, resources and prompts under prefixed names", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const clients = yield* McpClients.make({ alpha: upstream(Alpha(signals)), beta: upstream(Beta) })
      expect(clients.servers).toEqual(["alpha", "beta"])
      const tools = yield* clients.listTools
      expect(tools.map((t) => t.name)).toEqual([
        "alpha_add",
        "alpha_slow",
        "alpha_ask",
        "alpha_think",
        "alpha_roots",
        "alpha_hang",
        "alpha_chatty",
        "alpha_grow",
        "beta_add"
      ])
      // Schemas as the server sent them.
      expect(tools.find((t) => t.name === "beta_add")?.inputSchema).toMatchObject({ "x-vendor": { kept: true } })
      expect((yield* clients.listResources).map((r) => r.uri)).toEqual(["data://alpha/config"])
      expect((yield* clients.listResourceTemplates).map((t) => t.uriTemplate)).toEqual(["item://alpha/{id}"])
      expect((yield* clients.listPrompts).map((p) => p.name)).toEqual(["alpha_greet"])
      expect(clients.route("alpha_add")).toEqual(Option.some({ server: "alpha", name: "add" }))
      expect(clients.routeUri("item://alpha/7")).toEqual(Option.some({ server: "alpha", name: "item://7" }))
    }))

  it.scoped("routes calls, reads, prompts and completions to their server", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const clients = yield* McpClients.make({ alpha: upstream(Alpha(signals)), beta: upstream(Beta) })
      expect((yield* clients.callTool("alpha_add", { a: 1, b: 2 })).structuredContent).toEqual({ result: 3 })
      expect(text(yield* clients.callTool("beta_add", { a: 1, b: 2 }))).toBe("beta adds 1 and 2")
      expect((yield* clients.readResource("item://alpha/7")).contents).toEqual([
        { uri: "item://alpha/7", mimeType: "text/plain", text: "item 7" }
      ])
      expect((yield* clients.getPrompt("alpha_greet", { who: "Ada" })).messages[0].content).toEqual({
        type: "text",
        text: "Greet Ada"
      })
      expect(
        (yield* clients.complete({ type: "ref/resource", uri: "item://alpha/{id}" }, { name: "id", value: "t" }))
          .values
      ).toEqual(["two"])
      const unknown = yield* Effect.flip(clients.callTool("gamma_add", {}))
      expect(unknown).toBeInstanceOf(McpError.McpError)
    }))

  it.scoped("isolates a server that fails to connect", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const clients = yield* McpClients.make({
        alpha: upstream(Alpha(signals)),
        broken: Effect.fail(new Error("no such server"))
      })
      const status = (yield* clients.status).get("broken")
      expect(status?._tag).toBe("Failed")
      if (status?._tag === "Failed") expect(Cause.squash(status.cause)).toEqual(new Error("no such server"))
      expect((yield* clients.listTools).every((t) => t.name.startsWith("alpha_"))).toBe(true)
      const error = yield* Effect.flip(clients.callTool("broken_anything"))
      expect(error).toBeInstanceOf(McpError.ConnectionClosedError)
      expect(error.message).toContain(`server "broken" failed to connect: no such server`)
      expect(text(yield* clients.callTool("alpha_slow"))).toBe("slow done")
    }))

  it.scoped("marks a server whose connection ends as closed, keeps the others, and reconnects it", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const fibers = yield* Ref.make<ReadonlyArray<Fiber.RuntimeFiber<void, unknown>>>([])
      const clients = yield* McpClients.make({ alpha: upstream(Alpha(signals)), beta: killable(Beta, fibers) })
      const [first] = yield* Ref.get(fibers)
      yield* Fiber.interrupt(first!)
      const error = yield* Effect.flip(clients.callTool("beta_add", { a: 1 }))
      expect(error).toBeInstanceOf(McpError.ConnectionClosedError)
      expect((yield* clients.status).get("beta")?._tag).toBe("Closed")
      expect((yield* clients.listTools).map((t) => t.name)).not.toContain("beta_add")
      expect((yield* clients.callTool("alpha_add", { a: 1, b: 1 })).structuredContent).toEqual({ result: 2 })
      expect((yield* clients.reconnect("beta"))._tag).toBe("Connected")
      expect(text(yield* clients.callTool("beta_add", { a: 2, b: 3 }))).toBe("beta adds 2 and 3")
    }))

  it.scoped("closes a connection when it is remade: what it held is released", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const closed = yield* Queue.unbounded<number>()
      let opened = 0
      const counted = Effect.zipLeft(
        upstream(Alpha(signals)),
        Effect.suspend(() => {
          const n = ++opened
          return Effect.addFinalizer(() => closed.offer(n))
        })
      )
      const clients = yield* McpClients.make({ alpha: counted })
      expect((yield* clients.reconnect("alpha"))._tag).toBe("Connected")
      expect(Array.from(yield* Queue.takeAll(closed))).toEqual([1])
    }))

  it.scoped("merges notifications, tagged with their server: a list change shows in the next list", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const clients = yield* McpClients.make({ alpha: upstream(Alpha(signals)), beta: upstream(Beta) })
      const queue = yield* clients.subscribe
      expect(text(yield* clients.callTool("alpha_grow"))).toBe("grew")
      yield* next(queue, "notifications/tools/list_changed", "alpha")
      expect((yield* clients.listTools).map((t) => t.name)).toContain("alpha_grown")
      expect(text(yield* clients.callTool("alpha_grown"))).toBe("grown")
    }))

  it.effect("refuses a name that is not a valid prefix", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(McpClients.make({ "not a prefix": upstream(Beta) })))
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

/** The proxy's server over two upstreams (and any others given). */
const ProxyOf = <C extends McpClients.Connections>(connections: C) =>
  McpProxy.layer(connections).pipe(Layer.provideMerge(McpServer.layer({ name: "proxy", version: "1" })))

describe("McpProxy", () => {
  it.scoped("re-exposes the upstream servers' definitions verbatim, and forwards calls", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const direct = yield* upstream(Beta)
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)), beta: upstream(Beta) }))
      const tools = yield* client.listTools
      expect(tools.map((t) => t.name)).toContain("beta_add")
      const [own] = yield* direct.listTools
      expect(tools.find((t) => t.name === "beta_add")).toEqual({ ...own, name: "beta_add" })
      expect(tools.find((t) => t.name === "alpha_add")?.outputSchema).toEqual({
        type: "object",
        properties: { result: { type: "number" } },
        required: ["result"]
      })
      expect((yield* client.callTool("alpha_add", { a: 2, b: 3 })).structuredContent).toEqual({ result: 5 })
      expect(text(yield* client.callTool("beta_add", { a: 1, b: 2 }))).toBe("beta adds 1 and 2")
      expect((yield* client.readResource("data://alpha/config")).contents).toEqual([
        { uri: "data://alpha/config", mimeType: "application/json", text: "{}" }
      ])
      expect((yield* client.readResource("item://alpha/9")).contents[0]).toMatchObject({ text: "item 9" })
      expect((yield* client.getPrompt("alpha_greet", { who: "Bo" })).messages).toHaveLength(1)
      expect(
        (yield* client.complete({ type: "ref/resource", uri: "item://alpha/{id}" }, { name: "id", value: "o" }))
          .values
      ).toEqual(["one"])
    }))

  it.scoped("forwards the upstream call's progress as the downstream request's", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)) }))
      const seen: Array<McpSchema.ProgressNotificationParams> = []
      const result = yield* client.callTool("alpha_slow", {}, { onProgress: (p) => seen.push(p) })
      expect(text(result)).toBe("slow done")
      expect(seen.map(({ message, progress, total }) => ({ progress, total, message }))).toEqual([
        { progress: 1, total: 2, message: "half" },
        { progress: 2, total: 2, message: "done" }
      ])
    }))

  it.scoped("passes on the upstream server's log messages during a call", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)) }))
      const queue = yield* client.subscribe
      const call = yield* Effect.fork(client.callTool("alpha_chatty"))
      const log = yield* next(queue, "notifications/message")
      expect(log.params).toMatchObject({ level: "info", data: "working" })
      yield* Deferred.succeed(signals.release, undefined)
      expect(text(yield* Fiber.join(call))).toBe("said")
    }))

  it.scoped("asks the downstream client the upstream server's questions: elicitation, sampling, roots", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const asked: Array<McpSchema.ElicitRequestParams> = []
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)) }), {
        elicitation: (params) =>
          Effect.sync(() => {
            asked.push(params)
            return { action: "accept", content: { name: "Ada" } }
          }),
        sampling: () => Effect.succeed({ role: "assistant", content: { type: "text", text: "4" }, model: "m" }),
        roots: [{ uri: "file:///work" }]
      })
      expect(text(yield* client.callTool("alpha_ask"))).toBe("Hello, Ada")
      expect(asked[0]).toMatchObject({ message: "Your name?", requestedSchema: { properties: { name: {} } } })
      expect(text(yield* client.callTool("alpha_think"))).toBe("4")
      expect(text(yield* client.callTool("alpha_roots"))).toBe("file:///work")
    }))

  it.scoped.each(
    [
      ["a handshake-era", McpSchema.LATEST_PROTOCOL_VERSION],
      ["a 2026-07-28", "2026-07-28"]
    ] as const
  )(
    "serves a 2026-07-28 client from %s upstream: its questions become input_required rounds",
    ([, era]) =>
      Effect.gen(function*() {
        const signals = yield* makeSignals
        const alpha = McpTest.makeClient(Alpha(signals), { protocolVersion: era })
        const client = yield* McpTest.makeClient(ProxyOf({ alpha }), {
          protocolVersion: "2026-07-28",
          elicitation: () => Effect.succeed({ action: "accept", content: { name: "Ada" } }),
          sampling: () => Effect.succeed({ role: "assistant", content: { type: "text", text: "4" }, model: "m" }),
          roots: [{ uri: "file:///work" }]
        })
        expect(client.protocolVersion).toBe("2026-07-28")
        expect(text(yield* client.callTool("alpha_add", { a: 1, b: 2 }))).toBe(JSON.stringify({ result: 3 }))
        expect(text(yield* client.callTool("alpha_ask"))).toBe("Hello, Ada")
        expect(text(yield* client.callTool("alpha_think"))).toBe("4")
        expect(text(yield* client.callTool("alpha_roots"))).toBe("file:///work")
      })
  )

  it.scoped("refuses a question the downstream client has no capability for, without sending it", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)) }))
      // The upstream handler fails with the proxy's refusal, which reaches the downstream client as it was.
      const error = yield* Effect.flip(client.callTool("alpha_ask"))
      expect(error).toMatchObject({
        code: McpError.ErrorCode.MethodNotFound,
        message: `The client did not declare the "elicitation.form" capability required by elicitation/create`
      })
    }))

  it.scoped("cancels the upstream call when the downstream request is interrupted", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)) }))
      const call = yield* Effect.fork(client.callTool("alpha_hang"))
      yield* Deferred.await(signals.started)
      yield* Fiber.interrupt(call)
      // The upstream handler's finalizer runs: the cancel went all the way.
      yield* Deferred.await(signals.finalized)
    }))

  it.scoped("follows an upstream's list change, and serves despite an upstream that fails", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const client = yield* McpTest.makeClient(
        ProxyOf({ alpha: upstream(Alpha(signals)), broken: Effect.fail("unreachable") })
      )
      const queue = yield* client.subscribe
      expect(text(yield* client.callTool("alpha_grow"))).toBe("grew")
      let names: ReadonlyArray<string> = []
      while (!names.includes("alpha_grown")) {
        yield* next(queue, "notifications/tools/list_changed")
        names = (yield* client.listTools).map((t) => t.name)
      }
      expect(text(yield* client.callTool("alpha_grown"))).toBe("grown")
    }))

  it.scoped("provides the McpClients, whose status tells of each upstream", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const clients = yield* McpClients.McpClients.pipe(
        Effect.provide(ProxyOf({ alpha: upstream(Alpha(signals)), broken: Effect.fail("unreachable") }))
      )
      const status = yield* clients.status
      expect([status.get("alpha")?._tag, status.get("broken")?._tag]).toEqual(["Connected", "Failed"])
    }))
})

/** Who a call is made for: a service its caller provides, which the client's handlers read back. */
class Caller extends Context.Tag("test/Caller")<Caller, string>() {}

/**
 * Answers each elicitation with the name of the caller its call was made for, once `count` questions are waiting:
 * so that every call is in flight at once when it is asked.
 */
const answersPerCaller = (count: number) =>
  Effect.gen(function*() {
    const waiting = yield* Ref.make(0)
    const all = yield* Deferred.make<void>()
    return (_: McpSchema.ElicitRequestParams) =>
      Effect.gen(function*() {
        if ((yield* Ref.updateAndGet(waiting, (n) => n + 1)) === count) yield* Deferred.succeed(all, undefined)
        yield* Deferred.await(all)
        const caller = yield* Effect.serviceOption(Caller)
        return { action: "accept" as const, content: { name: Option.getOrElse(caller, () => "nobody") } }
      })
  })

/** Calls `tool` once per name at once, each for its caller, and answers what each call returned. */
const callEach = (client: McpClient.Service, tool: string, names: ReadonlyArray<string>) =>
  Effect.forEach(
    names,
    (name) => Effect.map(Effect.provideService(client.callTool(tool), Caller, name), text),
    { concurrency: "unbounded" }
  )

describe("questions that belong to a call", () => {
  it.scoped("a server's question during a call is answered with the services of that call (in memory)", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const client = yield* McpTest.makeClient(Alpha(signals), { elicitation: yield* answersPerCaller(2) })
      expect(yield* callEach(client, "ask", ["Ada", "Grace"])).toEqual(["Hello, Ada", "Hello, Grace"])
    }))

  it.scopedLive("over Streamable HTTP, a question on a POST's stream belongs to that POST's call", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const { url } = yield* NodeHttp.serve(Alpha(signals), { port: 0 })
      const client = yield* NodeHttp.connect(url, { protocolVersion: McpSchema.LATEST_PROTOCOL_VERSION }).pipe(
        Effect.provideService(McpClient.Elicitation, { elicit: yield* answersPerCaller(2) })
      )
      expect(yield* callEach(client, "ask", ["Ada", "Grace"])).toEqual(["Hello, Ada", "Hello, Grace"])
    }))

  it.scoped.each(
    [
      ["a handshake-era upstream in memory", upstream],
      [
        "a 2026-07-28 upstream",
        <E, R>(server: Layer.Layer<McpServer.McpServer, E, R>) =>
          McpTest.makeClient(server, { protocolVersion: "2026-07-28" })
      ]
    ] as const
  )(
    "the proxy asks each question of the downstream request it belongs to, several in flight: %s",
    ([, connect]) =>
      Effect.gen(function*() {
        const signals = yield* makeSignals
        const client = yield* McpTest.makeClient(ProxyOf({ alpha: connect(Alpha(signals)) }), {
          elicitation: yield* answersPerCaller(3)
        })
        expect(yield* callEach(client, "alpha_ask", ["Ada", "Grace", "Edsger"])).toEqual([
          "Hello, Ada",
          "Hello, Grace",
          "Hello, Edsger"
        ])
      })
  )

  it.scoped("a reconnection made from one request's handler leaves its request to no later question", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const Proxy = McpServer.tool(
        "reconnect",
        {},
        () => Effect.as(Effect.flatMap(McpClients.McpClients, (clients) => clients.reconnect("alpha")), "done")
      ).pipe(
        Layer.provideMerge(McpProxy.layer({ alpha: upstream(Alpha(signals)) })),
        Layer.provideMerge(McpServer.layer({ name: "proxy", version: "1" }))
      )
      const context = yield* Layer.build(Proxy)
      const answering = (name: string) => () => Effect.succeed({ action: "accept" as const, content: { name } })
      const admin = yield* McpTest.makeClient(Layer.succeedContext(context), { elicitation: answering("admin") })
      const user = yield* McpTest.makeClient(Layer.succeedContext(context), { elicitation: answering("user") })
      const changes = yield* user.subscribe
      expect(text(yield* admin.callTool("reconnect"))).toBe("done")
      // The upstream's tools went away with its connection, and come back with the new one.
      while (!(yield* user.listTools).some((tool) => tool.name === "alpha_ask")) {
        yield* next(changes, "notifications/tools/list_changed")
      }
      expect(text(yield* user.callTool("alpha_ask"))).toBe("Hello, user")
    }))

  it.scoped("an upstream log made during another client's completion never reaches the call in flight", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const Up = Layer.mergeAll(
        McpServer.tool("chatty", {}, () => Effect.as(Deferred.await(release), "said")),
        McpServer.resource("item://{id}", {
          complete: { id: (value) => Effect.as(Effect.logInfo(`secret of B: ${value}`), ["one"]) }
        }, ({ id }) => Effect.succeed(`item ${id}`))
      ).pipe(Layer.provideMerge(McpServer.layer({ name: "alpha", version: "1" })))
      const context = yield* Layer.build(ProxyOf({ alpha: upstream(Up) }))
      const heardA = yield* Queue.unbounded<string>()
      const a = yield* McpTest.makeClient(Layer.succeedContext(context)).pipe(
        Effect.provideService(McpClient.Logging, { message: ({ data }) => heardA.offer(String(data)) })
      )
      const b = yield* McpTest.makeClient(Layer.succeedContext(context))
      yield* a.setLevel("debug")
      const call = yield* Effect.fork(a.callTool("alpha_chatty"))
      yield* flush
      const [template] = yield* b.listResourceTemplates
      yield* b.complete({ type: "ref/resource", uri: template!.uriTemplate }, { name: "id", value: "o" })
      yield* flush
      expect(Array.from(yield* Queue.takeAll(heardA))).toEqual([])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(call)
    }))

  it.scoped("the proxy passes each upstream log message on as one of the downstream request it belongs to", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const heard = yield* Queue.unbounded<string>()
      // The downstream client hears each message with the services of the call it belongs to.
      const client = yield* McpTest.makeClient(ProxyOf({ alpha: upstream(Alpha(signals)) })).pipe(
        Effect.provideService(McpClient.Logging, {
          message: ({ data }) =>
            Effect.flatMap(
              Effect.serviceOption(Caller),
              (caller) => heard.offer(`${Option.getOrElse(caller, () => "nobody")}: ${String(data)}`)
            )
        })
      )
      const calls = yield* Effect.fork(callEach(client, "alpha_chatty", ["Ada", "Grace"]))
      const both = [yield* Queue.take(heard), yield* Queue.take(heard)]
      expect(both.sort()).toEqual(["Ada: working", "Grace: working"])
      yield* Deferred.succeed(signals.release, undefined)
      expect(yield* Fiber.join(calls)).toEqual(["said", "said"])
    }))

  it.scopedLive("the proxy asks each question of its own downstream request, from an upstream over Streamable HTTP", () =>
    Effect.gen(function*() {
      const signals = yield* makeSignals
      const { url } = yield* NodeHttp.serve(Alpha(signals), { port: 0 })
      const alpha = NodeHttp.connect(url, { protocolVersion: McpSchema.LATEST_PROTOCOL_VERSION })
      const client = yield* McpTest.makeClient(ProxyOf({ alpha }), { elicitation: yield* answersPerCaller(2) })
      expect(yield* callEach(client, "alpha_ask", ["Ada", "Grace"])).toEqual(["Hello, Ada", "Hello, Grace"])
    }))
})
