import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Ref, Schema } from "effect"
import { Content, McpError, McpServer, McpTest, RequestContext } from "mcp-effect"
import type { McpSchema, Middleware } from "mcp-effect"
import { Add, Greeting, Review, TestServer } from "./fixtures.js"
import { advance } from "./helpers.js"

const bare = McpServer.layer({ name: "mw", version: "1" })

/** A server with the fixtures and `middlewares`, registered in the order given. */
const withMiddleware = <R>(...middlewares: ReadonlyArray<Layer.Layer<never, never, R>>) =>
  Layer.mergeAll(Add, Greeting, Review).pipe(
    Layer.provideMerge(Layer.mergeAll(...(middlewares as [Layer.Layer<never, never, R>]))),
    Layer.provideMerge(bare)
  )

/** Tool calls need the scope `tools:<name>`. */
const RequireScope = McpServer.toolMiddleware((next, info) =>
  Effect.flatMap(RequestContext.current, (ctx) =>
    ctx.auth?.scopes.includes(`tools:${info.name}`)
      ? next
      : Effect.fail(McpError.McpError.invalidRequest(`missing scope tools:${info.name}`)))
)

const silentChannel: RequestContext.ClientChannel = {
  request: (method) => Effect.fail(McpError.McpError.methodNotFound(method)),
  notify: () => {},
  isActive: () => true,
  closeStream: () => {}
}

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

describe("middleware", () => {
  it.scoped("sees the method, the name and the arguments of every request the core serves", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<Middleware.Info>>([])
      const Audit = McpServer.middleware((next, info) =>
        Effect.zipRight(Ref.update(seen, (all) => [...all, info]), next)
      )
      const client = yield* McpTest.makeClient(withMiddleware(Audit))
      yield* client.listTools
      yield* client.callTool("add", { a: 1, b: 2 })
      yield* client.readResource("greeting://ada")
      yield* client.getPrompt("review", { code: "x" })
      yield* client.complete({ type: "ref/resource", uri: "greeting://{name}" }, { name: "name", value: "a" })
      // Lifecycle methods (initialize, ping, logging/setLevel) belong to the session and are not wrapped.
      yield* client.ping
      yield* client.setLevel("error")
      const all = yield* Ref.get(seen)
      expect(all.map(({ arguments: args, method, name }) => ({ method, name, args }))).toEqual([
        { method: "tools/list", name: undefined, args: undefined },
        { method: "tools/call", name: "add", args: { a: 1, b: 2 } },
        { method: "resources/read", name: "greeting://ada", args: undefined },
        { method: "prompts/get", name: "review", args: { code: "x" } },
        { method: "completion/complete", name: "greeting://{name}", args: undefined }
      ])
      expect(all[4]!.params).toMatchObject({ argument: { name: "name", value: "a" } })
    }))

  it.scoped("times a request around its handler, and may replace its result", () =>
    Effect.gen(function*() {
      const Slow = McpServer.tool("slow", {}, () => Effect.as(Effect.sleep("3 seconds"), "slow done"))
      const timings = yield* Ref.make<ReadonlyArray<string>>([])
      const Timing = McpServer.toolMiddleware((next, info) =>
        Effect.timed(next).pipe(
          Effect.tap(([duration]) =>
            Ref.update(timings, (all) => [...all, `${info.name}: ${Duration.toMillis(duration)} ms`])
          ),
          Effect.map(([, result]) => ({ ...result, content: [...result.content, Content.text("timed")] }))
        )
      )
      const client = yield* McpTest.makeClient(Slow.pipe(Layer.provideMerge(Timing), Layer.provideMerge(bare)))
      const fiber = yield* Effect.fork(client.callTool("slow"))
      yield* advance("1 second", 3)
      const result = yield* Fiber.join(fiber)
      expect(result.content.map((c) => (c as McpSchema.TextContent).text)).toEqual(["slow done", "timed"])
      expect(yield* Ref.get(timings)).toEqual(["slow: 3000 ms"])
    }))

  it.scoped("short-circuits with an McpError, answered as a JSON-RPC error, without running the handler", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make(0)
      const Counted = McpServer.tool("counted", {}, () => Effect.as(Ref.update(calls, (n) => n + 1), "ok"))
      const RateLimit = Layer.unwrapEffect(
        Effect.map(Ref.make(0), (used) =>
          McpServer.toolMiddleware((next) =>
            Effect.flatMap(
              Ref.getAndUpdate(used, (n) => n + 1),
              (n) => n < 2 ? next : Effect.fail(new McpError.McpError({ code: -32029, message: "Rate limit exceeded" }))
            )
          ))
      )
      const client = yield* McpTest.makeClient(Counted.pipe(Layer.provideMerge(RateLimit), Layer.provideMerge(bare)))
      expect(text(yield* client.callTool("counted"))).toBe("ok")
      expect(text(yield* client.callTool("counted"))).toBe("ok")
      const refused = yield* Effect.flip(client.callTool("counted"))
      expect(refused).toMatchObject({ code: -32029, message: "Rate limit exceeded" })
      expect(yield* Ref.get(calls)).toBe(2)
      // Lists are not tool calls: the limit does not touch them.
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["counted"])
    }))

  it.scoped("around tool calls only does not see lists, reads or prompts", () =>
    Effect.gen(function*() {
      const methods = yield* Ref.make<ReadonlyArray<string>>([])
      const ToolsOnly = McpServer.toolMiddleware((next, info) =>
        Effect.zipRight(Ref.update(methods, (all) => [...all, `${info.method} ${info.name}`]), next)
      )
      const Reads = McpServer.middleware(
        (next, info) => Effect.zipRight(Ref.update(methods, (all) => [...all, `${info.method} ${info.name}`]), next),
        { methods: ["resources/read"] }
      )
      const client = yield* McpTest.makeClient(withMiddleware(ToolsOnly, Reads))
      yield* client.listTools
      yield* client.listResourceTemplates
      yield* client.getPrompt("review", { code: "x" })
      yield* client.callTool("add", { a: 1, b: 1 })
      yield* client.readResource("greeting://bob")
      expect(yield* Ref.get(methods)).toEqual(["tools/call add", "resources/read greeting://bob"])
    }))

  it.scoped("reads the request context: the client's info over a session", () =>
    Effect.gen(function*() {
      const Greet = McpServer.toolMiddleware((next) =>
        Effect.flatMap(RequestContext.current, (ctx) =>
          ctx.clientInfo?.name === "blocked"
            ? Effect.fail(McpError.McpError.invalidRequest(`client ${ctx.clientInfo.name} is not allowed`))
            : next)
      )
      const server = withMiddleware(Greet)
      const allowed = yield* McpTest.makeClient(server, { clientInfo: { name: "fine", version: "1" } })
      expect((yield* allowed.callTool("add", { a: 1, b: 1 })).structuredContent).toEqual({ result: 2 })
      const blocked = yield* McpTest.makeClient(server, { clientInfo: { name: "blocked", version: "1" } })
      expect(yield* Effect.flip(blocked.callTool("add", { a: 1, b: 1 }))).toMatchObject({
        code: -32600,
        message: "Invalid request: client blocked is not allowed"
      })
    }))

  it.effect("checks the principal from the request context, with no session", () =>
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const request = { id: 1, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } }
      const envelope = (scopes: ReadonlyArray<string>): RequestContext.Envelope => ({
        protocolVersion: "2025-11-25",
        clientCapabilities: {},
        clientInfo: undefined,
        logLevel: undefined,
        progressToken: undefined,
        auth: { subject: "ada", scopes },
        extras: undefined,
        sessionId: undefined
      })
      const result = yield* server.handle(request, envelope(["tools:add"]), silentChannel)
      expect((result as McpSchema.CallToolResult).structuredContent).toEqual({ result: 5 })
      const refused = yield* Effect.flip(server.handle(request, envelope(["tools:other"]), silentChannel))
      expect(refused.message).toBe("Invalid request: missing scope tools:add")
    }).pipe(Effect.provide(withMiddleware(RequireScope))))

  it.scoped("composes in registration order, the first registered outermost", () =>
    Effect.gen(function*() {
      const trace = yield* Ref.make<ReadonlyArray<string>>([])
      const record = (entry: string) => Ref.update(trace, (all) => [...all, entry])
      const around = (label: string) =>
        McpServer.middleware((next) =>
          record(`${label} in`).pipe(Effect.zipRight(next), Effect.zipLeft(record(`${label} out`)))
        )
      const Outer = around("outer")
      const Inner = around("inner")
      const Echo = McpServer.tool("echo", {}, () => Effect.as(record("handler"), "ok"))
      const client = yield* McpTest.makeClient(
        Echo.pipe(Layer.provideMerge(Inner), Layer.provideMerge(Outer), Layer.provideMerge(bare))
      )
      yield* client.callTool("echo")
      expect(yield* Ref.get(trace)).toEqual(["outer in", "inner in", "handler", "inner out", "outer out"])
    }))

  it.scoped("keeps the services it was registered with, and sees failures answered before any handler", () =>
    Effect.gen(function*() {
      class AuditLog extends Context.Tag("AuditLog")<AuditLog, Ref.Ref<ReadonlyArray<string>>>() {}
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const Audit = McpServer.middleware((next, info) =>
        Effect.gen(function*() {
          const audit = yield* AuditLog
          const exit = yield* Effect.exit(next)
          yield* Ref.update(audit, (all) => [...all, `${info.method} ${info.name}: ${exit._tag}`])
          return yield* exit
        })
      ).pipe(Layer.provide(Layer.succeed(AuditLog, log)))
      const client = yield* McpTest.makeClient(withMiddleware(Audit))
      yield* client.callTool("add", { a: 1, b: 1 })
      yield* Effect.flip(client.callTool("nope"))
      yield* Effect.flip(client.readResource("nothing://here"))
      expect(yield* Ref.get(log)).toEqual([
        "tools/call add: Success",
        "tools/call nope: Failure",
        "resources/read nothing://here: Failure"
      ])
    }))

  it.scoped("a defect in a middleware answers -32603, and the server keeps serving", () =>
    Effect.gen(function*() {
      const Broken = McpServer.middleware(
        (next, info) => info.name === "boom" ? Effect.die(new Error("secret")) : next,
        {
          methods: ["prompts/get"]
        }
      )
      const Boom = McpServer.prompt("boom", {}, () => Effect.succeed("never"))
      const client = yield* McpTest.makeClient(
        Boom.pipe(Layer.provideMerge(Layer.merge(Broken, Review)), Layer.provideMerge(bare))
      )
      const error = yield* Effect.flip(client.getPrompt("boom"))
      expect(error).toMatchObject({ code: -32603, message: "Internal error" })
      expect((yield* client.getPrompt("review", { code: "x" })).messages).toHaveLength(2)
    }))

  it.scoped("leaves a server without middleware as it was", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      expect((yield* client.callTool("add", { a: 1, b: 2 })).structuredContent).toEqual({ result: 3 })
    }))

  it.scoped("refuses a result that is not a CallToolResult where a tool middleware expects one", () =>
    Effect.gen(function*() {
      const Typed = McpServer.toolMiddleware((next) => next)
      const Wrong = McpServer.middleware(() => Effect.succeed({ not: "a result" }), { methods: ["tools/call"] })
      const client = yield* McpTest.makeClient(
        McpServer.tool("t", { parameters: { x: Schema.String } }, () => Effect.succeed("")).pipe(
          Layer.provideMerge(Wrong),
          Layer.provideMerge(Typed),
          Layer.provideMerge(bare)
        )
      )
      expect(yield* Effect.flip(client.callTool("t", { x: "" }))).toMatchObject({ code: -32603 })
    }))
})
