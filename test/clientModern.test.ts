import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Queue, Schema, Stream, TestClock } from "effect"
import {
  InMemoryTransport,
  McpClient,
  McpError,
  McpServer,
  McpTest,
  Peer,
  RequestContext,
  StreamableHttpClient,
  Tool
} from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { serveHttp } from "./httpHelpers.js"

const Name = Schema.Struct({ name: Schema.String })

/** Elicits twice and samples once: three questions, answered over rounds (modern) or live requests (handshake). */
const Interview = McpServer.tool(
  "interview",
  { description: "Asks twice, samples once" },
  () =>
    Effect.gen(function*() {
      const first = yield* RequestContext.elicit("First name?", Name)
      const second = yield* RequestContext.elicit("Last name?", Name)
      const poem = yield* RequestContext.sample("A poem", { maxTokens: 20 })
      const text = (answer: typeof first) => answer.action === "accept" ? answer.content.name : "?"
      const content = Array.isArray(poem.content) ? poem.content[0] : poem.content
      return `${text(first)} ${text(second)}: ${content?.type === "text" ? content.text : ""}`
    })
)

const Headed = McpServer.tool("headed", {
  parameters: { region: Schema.String.pipe(Tool.header("Region")), note: Schema.String }
}, ({ note, region }) => Effect.succeed(`${region}/${note}`))

const Logs = McpServer.tool(
  "logs",
  { parameters: { label: Schema.optional(Schema.String) } },
  ({ label }) => Effect.as(Effect.logInfo(label ?? "working"), "done")
)

const Touch = McpServer.tool(
  "touch",
  { parameters: { uri: Schema.String } },
  ({ uri }) => Effect.as(McpServer.notifyResourceUpdated(uri), "touched")
)

const Notes = McpServer.resource("notes://{id}", {}, ({ id }) => Effect.succeed(`note ${id}`))

const Server = Layer.mergeAll(Interview, Headed, Logs, Touch, Notes).pipe(
  Layer.provideMerge(McpServer.layer({ name: "modern-test", version: "1.0.0", instructions: "Be kind." }))
)

const answers = {
  elicitation: (params: McpSchema.ElicitRequestParams) =>
    Effect.succeed({
      action: "accept" as const,
      content: { name: params.message.startsWith("First") ? "Ada" : "Lovelace" }
    }),
  sampling: () =>
    Effect.succeed({ role: "assistant" as const, content: { type: "text" as const, text: "roses" }, model: "m" })
}

/** A client over an in-memory pair, with the era left to the client to settle. */
const autoClient = (options: McpClient.Options = {}) =>
  Effect.gen(function*() {
    const [clientSide, serverSide] = InMemoryTransport.makePair()
    const context = yield* Layer.build(Server)
    yield* Effect.forkScoped(McpServer.run(serverSide).pipe(Effect.provide(context)))
    return yield* McpClient.make(clientSide, options)
  })

/** A scripted server: answers each request with `answer`, and records what it received. */
const scripted = (answer: (request: Peer.IncomingRequest, seen: ReadonlyArray<Peer.IncomingRequest>) => Peer.Answer) =>
  Effect.gen(function*() {
    const [clientSide, serverSide] = InMemoryTransport.makePair()
    const seen: Array<Peer.IncomingRequest> = []
    const peer = yield* Peer.make(serverSide, {
      onRequest: (request) => {
        seen.push(request)
        return answer(request, seen)
      }
    })
    yield* Effect.forkScoped(peer.run)
    return { clientSide, seen }
  })

const discoverResult = {
  resultType: "complete",
  supportedVersions: ["2026-07-28"],
  capabilities: { tools: {} },
  _meta: { "io.modelcontextprotocol/serverInfo": { name: "scripted", version: "1" } }
}

describe("McpClient, 2026-07-28", () => {
  it.scoped("settles on 2026-07-28 with a server that discovers, and keeps the server's info from discovery", () =>
    Effect.gen(function*() {
      const client = yield* autoClient()
      expect(client.protocolVersion).toBe("2026-07-28")
      expect(client.serverInfo).toEqual({ name: "modern-test", version: "1.0.0" })
      expect(client.instructions).toBe("Be kind.")
      expect(client.serverCapabilities.tools).toBeDefined()
      // Results look as in the handshake era: the server's info is not repeated in each.
      expect(yield* client.callTool("logs")).toEqual({ content: [{ type: "text", text: "done" }] })
    }))

  it.scoped("answers input_required rounds with its handlers: the same result as a handshake-era client", () =>
    Effect.gen(function*() {
      const modern = yield* McpTest.makeClient(Server, { protocolVersion: "2026-07-28", ...answers })
      const legacy = yield* McpTest.makeClient(Server, answers)
      expect(legacy.protocolVersion).toBe("2025-11-25")
      const expected = { content: [{ type: "text", text: "Ada Lovelace: roses" }] }
      expect(yield* modern.callTool("interview")).toEqual(expected)
      expect(yield* legacy.callTool("interview")).toEqual(expected)
    }))

  it.scoped("gives up after maxInputRounds, saying so", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, { protocolVersion: "2026-07-28", maxInputRounds: 1, ...answers })
      const error = yield* Effect.flip(client.callTool("interview"))
      expect(error.message).toContain("still asked for input after 1 rounds")
    }))

  it.scoped("a server's question without a client handler is the server's -32021", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, { protocolVersion: "2026-07-28" })
      const error = yield* Effect.flip(client.callTool("interview"))
      expect(error).toMatchObject({ code: -32021 })
    }))

  it.scoped("sends the log level in each request's _meta once set", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, { protocolVersion: "2026-07-28" })
      const heard = yield* client.subscribe
      yield* client.callTool("logs", { label: "unheard" })
      yield* client.setLevel("info")
      yield* client.callTool("logs", { label: "heard" })
      const message = yield* Queue.take(heard).pipe(
        Effect.repeat({ until: (n) => n.method === "notifications/message" })
      )
      expect(message.params).toMatchObject({ level: "info", data: "heard" })
    }))

  it.scoped("subscribes to a resource through subscriptions/listen, and hears its updates", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, { protocolVersion: "2026-07-28" })
      yield* client.subscribeResource("notes://1")
      const heard = yield* client.subscribe
      yield* client.callTool("touch", { uri: "notes://2" })
      yield* client.callTool("touch", { uri: "notes://1" })
      const update = yield* Queue.take(heard).pipe(
        Effect.repeat({ until: (n) => n.method === "notifications/resources/updated" })
      )
      expect(update.params).toMatchObject({ uri: "notes://1" })
      yield* client.unsubscribeResource("notes://1")
    }))

  it.scoped("hears list changes once someone reads its notifications", () =>
    Effect.gen(function*() {
      const Grow = McpServer.tool("grow", {}, () =>
        Effect.as(
          McpServer.addTool(Tool.make("grown", {}, () => Effect.succeed("x"))),
          "grew"
        ))
      const client = yield* McpTest.makeClient(Layer.merge(Server, Grow.pipe(Layer.provide(Server))), {
        protocolVersion: "2026-07-28"
      })
      const heard = yield* client.subscribe
      yield* client.callTool("grow")
      const changed = yield* Queue.take(heard).pipe(
        Effect.repeat({ until: (n) => n.method === "notifications/tools/list_changed" })
      )
      expect(changed.method).toBe("notifications/tools/list_changed")
    }))

  it.scoped("retries once a request refused -32022 when this version is among the supported ones", () =>
    Effect.gen(function*() {
      const { clientSide, seen } = yield* scripted((request, seen) =>
        seen.length === 1
          ? new McpError.McpError({
            code: -32022,
            message: "Unsupported protocol version",
            data: { supported: ["2026-07-28"], requested: "2026-07-28" }
          })
          : request.method === "server/discover"
          ? Effect.succeed(discoverResult)
          : Effect.succeed({ resultType: "complete", tools: [] })
      )
      const client = yield* McpClient.make(clientSide, { clientInfo: { name: "probe", version: "1" } })
      expect(client.protocolVersion).toBe("2026-07-28")
      expect(yield* client.listTools).toEqual([])
      expect(seen.map((r) => r.method)).toEqual(["server/discover", "server/discover", "tools/list"])
      for (const request of seen) {
        expect(request.params?._meta).toMatchObject({
          "io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": { name: "probe", version: "1" }
        })
      }
    }))

  it.scoped("echoes requestState exactly, omits it when none came, and uses a new id for each retry", () =>
    Effect.gen(function*() {
      const { clientSide, seen } = yield* scripted((request) => {
        if (request.method === "server/discover") return Effect.succeed(discoverResult)
        const asked = {
          resultType: "input_required",
          inputRequests: {
            confirm: {
              method: "elicitation/create",
              params: { message: "Sure?", requestedSchema: { type: "object", properties: {} } }
            }
          }
        }
        const name = request.params?.name
        if (request.params?.inputResponses !== undefined) {
          return Effect.succeed({ content: [{ type: "text", text: `${name} ok` }] })
        }
        return Effect.succeed(name === "stateful" ? { ...asked, requestState: "{\"opaque\": 1}" } : asked)
      })
      const client = yield* McpClient.make(clientSide).pipe(
        Effect.provideService(McpClient.Elicitation, {
          elicit: () => Effect.succeed({ action: "accept", content: {} })
        })
      )
      expect(yield* client.callTool("stateful")).toMatchObject({ content: [{ text: "stateful ok" }] })
      expect(yield* client.callTool("stateless")).toMatchObject({ content: [{ text: "stateless ok" }] })
      const calls = seen.filter((r) => r.method === "tools/call")
      expect(calls.map((r) => r.params?.requestState)).toEqual([undefined, "{\"opaque\": 1}", undefined, undefined])
      expect(calls[3]!.params).not.toHaveProperty("requestState")
      expect(calls[1]!.params?.inputResponses).toEqual({ confirm: { action: "accept", content: {} } })
      expect(new Set(calls.map((r) => r.id)).size).toBe(4)
    }))

  it.scoped("streams list pages as they come, and refuses a cursor handed back twice", () =>
    Effect.gen(function*() {
      const page = (n: number, nextCursor?: string) => ({
        tools: [{ name: `tool${n}`, inputSchema: { type: "object" } }],
        ...(nextCursor !== undefined ? { nextCursor } : {})
      })
      const { clientSide, seen } = yield* scripted((request) => {
        if (request.method === "server/discover") return Effect.succeed(discoverResult)
        const cursor = request.params?.cursor
        return Effect.succeed(cursor === undefined ? page(1, "a") : cursor === "a" ? page(2, "b") : page(3, "a"))
      })
      const client = yield* McpClient.make(clientSide)
      const first = yield* Stream.runCollect(Stream.take(client.streamTools, 1))
      expect(Chunk.toReadonlyArray(first).map((t) => t.name)).toEqual(["tool1"])
      expect(seen.filter((r) => r.method === "tools/list")).toHaveLength(1)
      const error = yield* Effect.flip(client.listTools)
      expect(error.message).toContain("handed back the cursor a again")
    }))

  it.scoped("drops tools whose x-mcp-header annotations are invalid, keeping the rest", () =>
    Effect.gen(function*() {
      const tool = (name: string, property: object) => ({
        name,
        inputSchema: { type: "object", properties: { value: property } }
      })
      const { clientSide } = yield* scripted((request) =>
        request.method === "server/discover" ? Effect.succeed(discoverResult) : Effect.succeed({
          tools: [
            tool("valid_tool", { type: "string", "x-mcp-header": "Region" }),
            tool("invalid_number_header", { type: "number", "x-mcp-header": "Amount" }),
            tool("invalid_space_in_name", { type: "string", "x-mcp-header": "My Region" }),
            tool("invalid_empty_header", { type: "string", "x-mcp-header": "" })
          ]
        })
      )
      const client = yield* McpClient.make(clientSide)
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["valid_tool"])
    }))

  it.effect("falls back to initialize when discovery is refused, or unanswered", () =>
    Effect.gen(function*() {
      const initialized = {
        protocolVersion: "2025-11-25",
        capabilities: {},
        serverInfo: { name: "old", version: "1" }
      }
      const refused = yield* scripted((request) =>
        request.method === "initialize" ? Effect.succeed(initialized) : McpError.McpError.methodNotFound(request.method)
      )
      const old = yield* McpClient.make(refused.clientSide)
      expect(old.protocolVersion).toBe("2025-11-25")
      expect(refused.seen.map((r) => r.method)).toEqual(["server/discover", "initialize"])

      const silent = yield* scripted((request) =>
        request.method === "initialize" ? Effect.succeed(initialized) : Effect.never
      )
      const fiber = yield* Effect.fork(McpClient.make(silent.clientSide, { discoverTimeout: "2 seconds" }))
      yield* TestClock.adjust("3 seconds")
      expect((yield* Fiber.join(fiber)).serverInfo).toEqual({ name: "old", version: "1" })
    }).pipe(Effect.scoped))
})

describe("McpClient, output schemas", () => {
  /** A tool whose results a middleware replaces, breaking its listed output schema unless `honest`. */
  const Liar = McpServer.tool("liar", {
    parameters: { honest: Schema.Boolean },
    success: Schema.Struct({ count: Schema.Number })
  }, () => Effect.succeed({ count: 1 }))
  it.scoped("a listed tool's structured content is checked against its output schema", () =>
    Effect.gen(function*() {
      const server = Liar.pipe(
        Layer.merge(
          McpServer.middleware((next, info) =>
            Effect.map(next, (result) =>
              info.arguments?.honest === true
                ? result
                : { content: [{ type: "text", text: "{}" }], structuredContent: { count: "many" } }), {
            methods: ["tools/call"]
          })
        ),
        Layer.provideMerge(McpServer.layer({ name: "lying", version: "1" }))
      )
      const client = yield* McpTest.makeClient(server)
      // Unlisted: nothing to check against.
      expect((yield* client.callTool("liar", { honest: false })).structuredContent).toEqual({ count: "many" })
      yield* client.listTools
      expect((yield* client.callTool("liar", { honest: true })).structuredContent).toEqual({ count: 1 })
      const error = yield* Effect.flip(client.callTool("liar", { honest: false }))
      expect(error.message).toContain("structuredContent does not match its output schema: /count must be number")
    }))
})

describe("McpClient.callToolEvents", () => {
  const Steps = McpServer.tool("steps", { parameters: { n: Schema.Number } }, ({ n }) =>
    Effect.gen(function*() {
      for (let i = 1; i <= n; i++) yield* RequestContext.progress(i, n, `step ${i}`)
      return `${n} steps`
    }))
  const Stepping = Steps.pipe(Layer.provideMerge(McpServer.layer({ name: "steps", version: "1" })))

  for (const protocolVersion of ["2025-11-25", "2026-07-28"]) {
    it.scoped(`streams a call's progress, then its result (${protocolVersion})`, () =>
      Effect.gen(function*() {
        const client = yield* McpTest.makeClient(Stepping, { protocolVersion })
        const events = Chunk.toReadonlyArray(yield* Stream.runCollect(client.callToolEvents("steps", { n: 2 })))
        expect(events.map((e) => e._tag === "Progress" ? e.progress.message : e.result.content)).toEqual([
          "step 1",
          "step 2",
          [{ type: "text", text: "2 steps" }]
        ])
      }))
  }
})

describe("McpClient, elicitation defaults (SEP-1034)", () => {
  const Form = Schema.Struct({
    name: Schema.String.annotations({ default: "John Doe" }),
    age: Schema.Int.annotations({ default: 30 }),
    verified: Schema.Boolean.annotations({ default: true })
  })
  const Ask = McpServer.tool(
    "ask",
    {},
    () => Effect.map(RequestContext.elicit("Form?", Form), (answer) => JSON.stringify(answer))
  )
  const Asking = Ask.pipe(Layer.provideMerge(McpServer.layer({ name: "asking", version: "1" })))

  for (const protocolVersion of ["2025-11-25", "2026-07-28"]) {
    it.scoped(`fill what an accepted form left out, keeping what the user gave (${protocolVersion})`, () =>
      Effect.gen(function*() {
        const client = yield* McpTest.makeClient(Asking, {
          protocolVersion,
          elicitation: () => Effect.succeed({ action: "accept", content: { age: 41 } })
        })
        const result = yield* client.callTool("ask")
        expect(JSON.parse(result.content[0]?.type === "text" ? result.content[0].text : "")).toEqual({
          action: "accept",
          content: { name: "John Doe", age: 41, verified: true }
        })
      }))
  }
})

describe("McpClient, 2026-07-28 over Streamable HTTP", () => {
  it.scoped("sends the standard headers and mirrors x-mcp-header parameters, which the server checks", () =>
    Effect.gen(function*() {
      const { url } = yield* serveHttp(Server)
      const client = yield* StreamableHttpClient.connect(url)
      expect(client.protocolVersion).toBe("2026-07-28")
      // Without its Mcp-Param-Region header the server would refuse this call with -32020.
      expect(yield* client.callTool("headed", { region: " eu west ", note: "n" })).toMatchObject({
        content: [{ type: "text", text: " eu west /n" }]
      })
      expect(yield* client.callTool("interview").pipe(Effect.flip)).toMatchObject({ code: -32021 })
    }))

  it.scoped("goes through the HttpClient in context, when there is one", () =>
    Effect.gen(function*() {
      const Seen = McpServer.tool("seen", {}, () =>
        Effect.map(RequestContext.current, (ctx) =>
          ctx.extras?.header?.("x-through") ?? "fetch"))
      const { url } = yield* serveHttp(Seen.pipe(Layer.provideMerge(McpServer.layer({ name: "seen", version: "1" }))))
      const custom = yield* HttpClient.HttpClient.pipe(
        Effect.map(HttpClient.mapRequest(HttpClientRequest.setHeader("x-through", "custom"))),
        Effect.provide(FetchHttpClient.layer)
      )
      const client = yield* StreamableHttpClient.connect(url).pipe(
        Effect.provideService(HttpClient.HttpClient, custom)
      )
      expect(yield* client.callTool("seen")).toMatchObject({ content: [{ type: "text", text: "custom" }] })
    }))
})
