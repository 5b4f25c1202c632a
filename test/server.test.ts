import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { ListToolsResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { Chunk, Context, Effect, Exit, Layer, Queue, Ref, Schema } from "effect"
import { Content, McpError, McpServer, McpTest, RequestContext, Tool } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { TestServer, Throwing, Unencodable } from "./fixtures.js"
import { flush } from "./helpers.js"

const bare = McpServer.layer({ name: "s", version: "1" })
const serverWith = <E, R>(...layers: ReadonlyArray<Layer.Layer<never, E, R>>) =>
  Layer.mergeAll(...(layers as [Layer.Layer<never, E, R>])).pipe(Layer.provideMerge(bare))

describe("tools", () => {
  it.scoped("derive input and output JSON Schemas from their Schemas", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const tools = yield* client.listTools
      const add = tools.find((t) => t.name === "add")!
      expect(add.inputSchema).toEqual({
        type: "object",
        required: ["a", "b"],
        properties: { a: { type: "number" }, b: { type: "number" } },
        additionalProperties: false
      })
      expect(add.outputSchema).toEqual({
        type: "object",
        properties: { result: { type: "number" } },
        required: ["result"]
      })
      expect(add.description).toBe("Add two numbers")
    }))

  it.scoped("return structuredContent with a text rendering for object results", () =>
    Effect.gen(function*() {
      const Weather = McpServer.tool("weather", {
        parameters: { city: Schema.String },
        success: Schema.Struct({ city: Schema.String, celsius: Schema.Number })
      }, ({ city }) => Effect.succeed({ city, celsius: 21 }))
      const client = yield* McpTest.makeClient(serverWith(Weather))
      const [tool] = yield* client.listTools
      expect(tool.outputSchema).toMatchObject({ type: "object", required: ["city", "celsius"] })
      const result = yield* client.callTool("weather", { city: "Oslo" })
      expect(result.structuredContent).toEqual({ city: "Oslo", celsius: 21 })
      expect(JSON.parse((result.content[0] as any).text)).toEqual({ city: "Oslo", celsius: 21 })
    }))

  it.scoped("pass a raw JSON Schema through unchanged", () =>
    Effect.gen(function*() {
      const raw = {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        properties: { q: { type: "string", minLength: 1, "x-custom": [1, { a: null }] } },
        required: ["q"]
      }
      const Search = McpServer.tool("search", { parameters: Tool.jsonSchema(raw) }, (args) =>
        Effect.succeed(`searched ${String(args.q)}`))
      const conn = yield* McpTest.raw(serverWith(Search))
      yield* conn.initialize()
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "tools/list" })
      const response: any = yield* conn.receive
      expect(JSON.stringify(response.result.tools[0].inputSchema)).toBe(JSON.stringify(raw))
    }))

  it.scoped("carry annotations, title, icons and _meta", () =>
    Effect.gen(function*() {
      const T = McpServer.tool("t", {
        title: "The T",
        icons: [{ src: "data:image/png;base64,AA==", mimeType: "image/png" }],
        annotations: { readOnlyHint: true, openWorldHint: false },
        _meta: { "example.com/x": 1 }
      }, () => Effect.succeed("ok"))
      const client = yield* McpTest.makeClient(serverWith(T))
      const [tool] = yield* client.listTools
      expect(tool).toMatchObject({
        name: "t",
        title: "The T",
        icons: [{ src: "data:image/png;base64,AA==", mimeType: "image/png" }],
        annotations: { readOnlyHint: true, openWorldHint: false },
        _meta: { "example.com/x": 1 }
      })
      expect(tool.inputSchema).toEqual({ type: "object", properties: {}, additionalProperties: false })
    }))

  it.scoped("give every input schema type object at the root, as the official client requires (regression)", () =>
    Effect.gen(function*() {
      // Effect writes an empty struct as "an object or an array", and a union of structs as a bare anyOf.
      const Empty = McpServer.tool("empty", { parameters: {} }, () => Effect.succeed("ok"))
      const AnyObject = McpServer.tool("any_object", { parameters: Schema.Object }, () => Effect.succeed("ok"))
      const Either = McpServer.tool("either", {
        parameters: Schema.Union(Schema.Struct({ a: Schema.String }), Schema.Struct({ b: Schema.Number }))
      }, (args) => Effect.succeed("a" in args ? args.a : String(args.b)))
      const client = yield* McpTest.makeClient(serverWith(Empty, AnyObject, Either))
      const tools = yield* client.listTools
      // What the official SDK client checks in listTools: it throws on any tool whose inputSchema is not an object.
      expect(() => ListToolsResultSchema.parse({ tools })).not.toThrow()
      const byName = new Map(tools.map((t) => [t.name, t.inputSchema]))
      expect(byName.get("empty")).toEqual({ type: "object", properties: {} })
      expect(byName.get("any_object")).toMatchObject({ type: "object", properties: {} })
      expect(byName.get("either")).toMatchObject({ type: "object", anyOf: [{ type: "object" }, { type: "object" }] })
      expect((yield* client.callTool("empty", {})).content).toEqual([{ type: "text", text: "ok" }])
      expect((yield* client.callTool("either", { b: 2 })).content).toEqual([{ type: "text", text: "2" }])
    }))

  it.effect("refuse a tool whose arguments are not an object when the layer is built", () =>
    Effect.gen(function*() {
      const refused = [
        McpServer.tool("string", { parameters: Schema.String }, () => Effect.succeed("")),
        McpServer.tool("raw", { parameters: Tool.jsonSchema({ type: "array" }) }, () => Effect.succeed(""))
      ]
      for (const layer of refused) {
        const error = yield* Effect.flip(Layer.build(serverWith(layer)).pipe(Effect.scoped))
        expect(error).toBeInstanceOf(McpError.DefinitionError)
        expect(error.message).toMatch(/input schema must have type "object" at its root/)
      }
    }))

  it.effect("refuse an invalid name when the layer is built", () =>
    Effect.gen(function*() {
      for (const name of ["", "has space", "x".repeat(129), "émoji", "a/b"]) {
        const exit = yield* Effect.exit(
          Layer.build(serverWith(McpServer.tool(name, {}, () => Effect.succeed("")))).pipe(Effect.scoped)
        )
        expect(Exit.isFailure(exit)).toBe(true)
        expect(JSON.stringify(exit)).toMatch(/Invalid tool name/)
      }
      for (const name of ["a", "A-b_c.d", "x".repeat(128)]) {
        yield* Layer.build(serverWith(McpServer.tool(name, {}, () => Effect.succeed("")))).pipe(Effect.scoped)
      }
    }))

  it.scoped("answer invalid arguments and failures with isError results the model can read", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const invalid = yield* client.callTool("add", { a: "one" })
      expect(invalid.isError).toBe(true)
      expect((invalid.content[0] as any).text).toMatch(/Invalid arguments for tool "add"/)
      expect((invalid.content[0] as any).text).toMatch(/b/)
      const failed = yield* client.callTool("fail")
      expect(failed).toEqual({ content: [{ type: "text", text: "boom" }], isError: true })
      const died = yield* client.callTool("die")
      expect(died.isError).toBe(true)
      expect(JSON.stringify(died)).not.toMatch(/secret|etc/)
    }))

  it.scoped("answer a result JSON cannot encode with -32603, and keep serving", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Unencodable.pipe(Layer.provideMerge(TestServer)))
      for (const name of ["bigint", "cycle", "logs-then-bigint"]) {
        const error = yield* Effect.flip(client.callTool(name))
        expect(error).toMatchObject({
          code: -32603,
          message: "Internal error: the response could not be encoded as JSON"
        })
      }
      // A log is best-effort: what JSON cannot encode goes out as near as it can, and the handler carries on.
      expect((yield* client.callTool("logs-bigint")).content).toEqual([{ type: "text", text: "logged" }])
      // A handler that interrupts itself still gets an answer.
      const interrupted = yield* Effect.flip(client.callTool("interrupts"))
      expect(interrupted).toMatchObject({ code: -32603, message: "Internal error: the request was interrupted" })
      expect((yield* client.callTool("add", { a: 1, b: 2 })).structuredContent).toEqual({ result: 3 })
    }))

  it.scoped("treat a handler that throws before returning its effect as a failure, and keep serving", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Throwing.pipe(Layer.provideMerge(TestServer)))
      const tool = yield* client.callTool("throws")
      expect(tool.isError).toBe(true)
      expect(JSON.stringify(tool)).not.toMatch(/JSON|position/)
      const read = yield* Effect.flip(client.readResource("throws://1"))
      expect(read).toMatchObject({ code: -32603 })
      const prompt = yield* Effect.flip(client.getPrompt("throws", { topic: "x" }))
      expect(prompt).toMatchObject({ code: -32603 })
      const completion = yield* Effect.flip(
        client.complete({ type: "ref/prompt", name: "throws" }, { name: "topic", value: "" })
      )
      expect(completion).toMatchObject({ code: -32603 })
      expect((yield* client.callTool("add", { a: 1, b: 2 })).structuredContent).toEqual({ result: 3 })
    }))

  it.scoped("answer an unknown tool with -32602", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const error = yield* Effect.flip(client.callTool("missing"))
      expect(error).toMatchObject({ _tag: "McpError", code: -32602 })
    }))

  it.scoped("accept a call without arguments for a tool that takes none", () =>
    Effect.gen(function*() {
      const Now = McpServer.tool("now", {}, () => Effect.succeed("noon"))
      const conn = yield* McpTest.raw(serverWith(Now))
      yield* conn.initialize()
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "now" } })
      expect(yield* conn.receive).toEqual({
        jsonrpc: "2.0",
        id: 1,
        result: { content: [{ type: "text", text: "noon" }] }
      })
    }))

  it.scoped("return every kind of content block", () =>
    Effect.gen(function*() {
      const png = new Uint8Array([137, 80, 78, 71])
      const Mixed = McpServer.tool("mixed", {}, () =>
        Effect.succeed([
          Content.text("t", { annotations: { audience: ["user"], priority: 0.5 } }),
          Content.image(png, "image/png"),
          Content.audio(png, "audio/wav"),
          Content.resourceLink({ uri: "file:///a.txt", name: "a", mimeType: "text/plain" }),
          Content.embedded("file:///b.txt", "hello", { mimeType: "text/plain" })
        ]))
      const client = yield* McpTest.makeClient(serverWith(Mixed))
      const result = yield* client.callTool("mixed")
      expect(result.content.map((c) => c.type)).toEqual(["text", "image", "audio", "resource_link", "resource"])
      expect(result.content[1]).toEqual({ type: "image", data: "iVBORw==", mimeType: "image/png" })
      expect(result.content[0]).toEqual({ type: "text", text: "t", annotations: { audience: ["user"], priority: 0.5 } })
    }))

  it.scoped("adapt results for older protocol versions", () =>
    Effect.gen(function*() {
      const Link = McpServer.tool("link", { success: Schema.Struct({ n: Schema.Number }), title: "Link" }, () =>
        Effect.succeed({ n: 1 }))
      const client = yield* McpTest.makeClient(serverWith(Link), { protocolVersion: "2024-11-05" })
      expect(client.protocolVersion).toBe("2024-11-05")
      const [tool] = yield* client.listTools
      expect(tool.outputSchema).toBeUndefined()
      expect(tool.title).toBeUndefined()
      const result = yield* client.callTool("link")
      expect(result.structuredContent).toBeUndefined()
      expect(result.content).toEqual([{ type: "text", text: "{\"n\":1}" }])
    }))

  it.scoped("handlers use the user's services, acquired and released with Scope", () =>
    Effect.gen(function*() {
      const log = yield* Ref.make<Array<string>>([])
      class Database
        extends Context.Tag("Database")<Database, { readonly query: (q: string) => Effect.Effect<string> }>()
      {}
      const DatabaseLive = Layer.scoped(
        Database,
        Effect.acquireRelease(
          Ref.update(log, (l) => [...l, "connect"]).pipe(
            Effect.as({ query: (q: string) => Effect.succeed(`rows for ${q}`) })
          ),
          () => Ref.update(log, (l) => [...l, "disconnect"])
        )
      )
      const Query = McpServer.tool("query", { parameters: { sql: Schema.String } }, ({ sql }) =>
        Effect.flatMap(Database, (db) =>
          db.query(sql)))
      const server = Query.pipe(Layer.provide(DatabaseLive), Layer.provideMerge(bare))
      yield* Effect.scoped(Effect.gen(function*() {
        const client = yield* McpTest.makeClient(server)
        const result = yield* client.callTool("query", { sql: "select 1" })
        expect(result.content).toEqual([{ type: "text", text: "rows for select 1" }])
        expect(yield* Ref.get(log)).toEqual(["connect"])
      }))
      expect(yield* Ref.get(log)).toEqual(["connect", "disconnect"])
    }))
})

describe("resources", () => {
  it.scoped("read static resources with text or blob content and their mimeType", () =>
    Effect.gen(function*() {
      const Logo = McpServer.resource("file:///logo.png", { name: "logo", mimeType: "image/png" }, () =>
        Effect.succeed(new Uint8Array([1, 2, 3])))
      const client = yield* McpTest.makeClient(Layer.provideMerge(Logo, TestServer))
      const resources = yield* client.listResources
      expect(resources).toEqual([
        { uri: "file:///readme.md", name: "readme", mimeType: "text/markdown" },
        { uri: "file:///logo.png", name: "logo", mimeType: "image/png" }
      ])
      expect((yield* client.readResource("file:///readme.md")).contents).toEqual([
        { uri: "file:///readme.md", mimeType: "text/markdown", text: "# Readme" }
      ])
      expect((yield* client.readResource("file:///logo.png")).contents).toEqual([
        { uri: "file:///logo.png", mimeType: "image/png", blob: "AQID" }
      ])
    }))

  it.scoped("read templates with decoded variables and RFC 6570 operators", () =>
    Effect.gen(function*() {
      const User = McpServer.resource("users://{id}/posts{?limit}", {
        parameters: { id: Schema.NumberFromString, limit: Schema.NumberFromString }
      }, ({ id, limit }) => Effect.succeed(`user ${id + 1}, limit ${limit ?? "none"}`))
      const Path = McpServer.resource("repo://{owner}{/path}", {}, ({ owner, path }) =>
        Effect.succeed(`${owner}:${path}`))
      const Reserved = McpServer.resource("files://{+path}", {}, ({ path }) =>
        Effect.succeed(path))
      const client = yield* McpTest.makeClient(serverWith(User, Path, Reserved))
      const templates = yield* client.listResourceTemplates
      expect(templates.map((t) =>
        t.uriTemplate
      )).toEqual(["users://{id}/posts{?limit}", "repo://{owner}{/path}", "files://{+path}"])
      const text = (uri: string) =>
        Effect.map(client.readResource(uri), (r) =>
          (r.contents[0] as any).text)
      expect(yield* text("users://41/posts?limit=5")).toBe("user 42, limit 5")
      expect(yield* text("users://41/posts")).toBe("user 42, limit none")
      expect(yield* text("repo://effect/README")).toBe("effect:README")
      expect(yield* text("files://a/b/c.txt")).toBe("a/b/c.txt")
      const bad = yield* Effect.flip(client.readResource("users://abc/posts"))
      expect(bad).toMatchObject({ code: -32602 })
    }))

  it.scoped("type template variables declared as string literals (regression: they did not type-check)", () =>
    Effect.gen(function*() {
      const Size = McpServer.resource("shirts://{size}", {
        parameters: { size: Schema.Literal("s", "m", "l") }
      }, ({ size }) => {
        expectTypeOf(size).toEqualTypeOf<"s" | "m" | "l">()
        return Effect.succeed(`size ${size}`)
      })
      // A variable is a string on the wire: a schema that does not decode from a string is refused by the compiler.
      // @ts-expect-error a number schema cannot decode a template variable
      McpServer.resource("counts://{n}", { parameters: { n: Schema.Number } }, () => Effect.succeed(""))
      const client = yield* McpTest.makeClient(serverWith(Size))
      const read = yield* client.readResource("shirts://m")
      expect((read.contents[0] as McpSchema.TextResourceContents).text).toBe("size m")
      expect(yield* Effect.flip(client.readResource("shirts://xl"))).toMatchObject({ code: -32602 })
    }))

  it.effect("refuse a malformed URI template when the layer is built (regression)", () =>
    Effect.gen(function*() {
      // Each was accepted; the unclosed one silently became a static resource.
      const cases = [
        ["files://{path", /Unclosed expression .*"files:\/\/\{path"/],
        ["files://{a{b}", /Unclosed expression .*"files:\/\/\{a\{b\}"/],
        ["files://{}", /Empty expression .*"files:\/\/\{\}"/],
        ["files://{?}", /Empty expression .*"files:\/\/\{\?\}"/],
        ["files://{a}/{a}", /Variable "a" appears more than once .*"files:\/\/\{a\}\/\{a\}"/],
        ["files://{a}{?b,a}", /Variable "a" appears more than once/],
        ["files://a}", /Unmatched "\}" .*"files:\/\/a\}"/],
        ["files://{a}}", /Unmatched "\}"/]
      ] as const
      for (const [template, message] of cases) {
        const error = yield* Effect.flip(
          Layer.build(serverWith(McpServer.resource(template, {}, () => Effect.succeed("")))).pipe(Effect.scoped)
        )
        expect(error).toBeInstanceOf(McpError.DefinitionError)
        expect(error.message).toMatch(message)
      }
    }))

  it.scoped("answer an unknown resource with -32002", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const error = yield* Effect.flip(client.readResource("nothing://here"))
      expect(error).toMatchObject({ code: -32002, data: { uri: "nothing://here" } })
    }))

  it.scoped("complete template variables", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const completion = yield* client.complete({ type: "ref/resource", uri: "greeting://{name}" }, {
        name: "name",
        value: "b"
      })
      expect(completion).toEqual({ values: ["bob"], total: 1, hasMore: false })
    }))

  it.scoped("send updates to subscribers only, and list_changed on changes", () =>
    Effect.gen(function*() {
      const server = TestServer
      const context = yield* Layer.build(server)
      const mcp = Context.get(context, McpServer.McpServer)
      const client = yield* McpTest.makeClient(Layer.succeedContext(context))
      const notifications = yield* client.subscribe
      yield* client.subscribeResource("file:///readme.md")
      yield* mcp.notifyResourceUpdated("file:///readme.md")
      yield* mcp.notifyResourceUpdated("file:///other.md")
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications))).toEqual(
        [{ method: "notifications/resources/updated", params: { uri: "file:///readme.md" } }]
      )
      yield* client.unsubscribeResource("file:///readme.md")
      yield* mcp.notifyResourceUpdated("file:///readme.md")
      yield* mcp.removeResource("file:///readme.md")
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.method)).toEqual([
        "notifications/resources/list_changed"
      ])
    }))
})

describe("prompts", () => {
  it.scoped("list arguments and return multi-message results", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const [review] = yield* client.listPrompts
      expect(review).toEqual({
        name: "review",
        description: "Review code",
        arguments: [{ name: "code", required: true }, { name: "language", required: false }]
      })
      const result = yield* client.getPrompt("review", { code: "x = 1", language: "python" })
      expect(result).toEqual({
        description: "Review code",
        messages: [
          { role: "user", content: { type: "text", text: "Please review this python:\nx = 1" } },
          { role: "assistant", content: { type: "text", text: "Sure." } }
        ]
      })
    }))

  it.scoped("take string-literal arguments, typed as their union (regression)", () =>
    Effect.gen(function*() {
      const Summary = McpServer.prompt("summary", {
        parameters: {
          length: Schema.Literal("short", "long"),
          tone: Schema.optional(Schema.Union(Schema.Literal("dry"), Schema.Literal("warm"))),
          lines: Schema.NumberFromString
        }
      }, ({ length, lines, tone }) => {
        expectTypeOf(length).toEqualTypeOf<"short" | "long">()
        expectTypeOf(tone).toEqualTypeOf<"dry" | "warm" | undefined>()
        expectTypeOf(lines).toEqualTypeOf<number>()
        return Effect.succeed(`A ${length}, ${tone ?? "plain"} summary in ${lines + 1} lines`)
      })
      // An argument is a string on the wire: one that does not decode from a string is refused by the compiler.
      // @ts-expect-error a number schema cannot be a prompt argument
      McpServer.prompt("count", { parameters: { n: Schema.Number } }, () => Effect.succeed(""))
      const client = yield* McpTest.makeClient(serverWith(Summary))
      const [prompt] = yield* client.listPrompts
      expect(prompt?.arguments).toEqual([
        { name: "length", required: true },
        { name: "tone", required: false },
        { name: "lines", required: true }
      ])
      const result = yield* client.getPrompt("summary", { length: "long", lines: "2" })
      expect(result.messages).toEqual([{
        role: "user",
        content: { type: "text", text: "A long, plain summary in 3 lines" }
      }])
      const refused = yield* Effect.flip(client.getPrompt("summary", { length: "medium", lines: "2" }))
      expect(refused).toMatchObject({ code: -32602 })
    }))

  it.scoped("answer missing arguments and unknown prompts with -32602", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      expect(yield* Effect.flip(client.getPrompt("review", {}))).toMatchObject({ code: -32602 })
      expect(yield* Effect.flip(client.getPrompt("nope"))).toMatchObject({ code: -32602 })
    }))

  it.scoped("carry image, audio and embedded resources", () =>
    Effect.gen(function*() {
      const Rich = McpServer.prompt("rich", {}, () =>
        Effect.succeed([
          { role: "user" as const, content: Content.image("AAAA", "image/png") },
          { role: "user" as const, content: Content.audio("AAAA", "audio/wav") },
          { role: "user" as const, content: Content.embedded("file:///x", "text", { mimeType: "text/plain" }) }
        ]))
      const client = yield* McpTest.makeClient(serverWith(Rich))
      const result = yield* client.getPrompt("rich")
      expect(result.messages.map((m) => m.content.type)).toEqual(["image", "audio", "resource"])
    }))

  it.scoped("complete arguments, capped at 100 values", () =>
    Effect.gen(function*() {
      const Many = McpServer.prompt("many", {
        parameters: { n: Schema.String },
        complete: { n: () => Effect.succeed(Array.from({ length: 150 }, (_, i) => `v${i}`)) }
      }, ({ n }) => Effect.succeed(n))
      const client = yield* McpTest.makeClient(Layer.provideMerge(Many, TestServer))
      const c = yield* client.complete({ type: "ref/prompt", name: "many" }, { name: "n", value: "" })
      expect(c.values).toHaveLength(100)
      expect(c.total).toBe(150)
      expect(c.hasMore).toBe(true)
      const lang = yield* client.complete({ type: "ref/prompt", name: "review" }, { name: "language", value: "py" }, {
        code: "x"
      })
      expect(lang.values).toEqual(["python"])
    }))
})

describe("pagination", () => {
  it.scoped("pages every list with opaque cursors that the client follows", () =>
    Effect.gen(function*() {
      const tools = Array.from({ length: 7 }, (_, i) => McpServer.tool(`t${i}`, {}, () => Effect.succeed("")))
      const server = Layer.mergeAll(...(tools as [typeof tools[0]])).pipe(
        Layer.provideMerge(McpServer.layer({ name: "s", version: "1", pageSize: 3 }))
      )
      const conn = yield* McpTest.raw(server)
      yield* conn.initialize()
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "tools/list" })
      const first: any = yield* conn.receive
      expect(first.result.tools).toHaveLength(3)
      expect(typeof first.result.nextCursor).toBe("string")
      yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { cursor: "garbage" } })
      const bad: any = yield* conn.receive
      expect(bad.error.code).toBe(-32602)
      const client = yield* McpTest.makeClient(server)
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6"])
    }))
})

describe("run-time registration", () => {
  it.scoped("sends list_changed for tools, resources and prompts", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(TestServer)
      const mcp = Context.get(context, McpServer.McpServer)
      const client = yield* McpTest.makeClient(Layer.succeedContext(context))
      const notifications = yield* client.subscribe
      yield* mcp.addTool(Tool.make("late", {}, () => Effect.succeed("late")))
      yield* mcp.removeTool("echo")
      yield* mcp.removePrompt("review")
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.method)).toEqual([
        "notifications/tools/list_changed",
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed"
      ])
      const names = (yield* client.listTools).map((t) => t.name)
      expect(names).toContain("late")
      expect(names).not.toContain("echo")
      expect(yield* client.callTool("late")).toEqual({ content: [{ type: "text", text: "late" }] })
    }))
})

describe("logging", () => {
  it.scoped("Effect.log in a handler reaches the client at or above its level", () =>
    Effect.gen(function*() {
      const Chatty = McpServer.tool("chatty", {}, () =>
        Effect.gen(function*() {
          yield* Effect.logDebug("debug detail")
          yield* Effect.logInfo("info").pipe(Effect.annotateLogs("user", "ada"))
          yield* Effect.logWarning("careful")
          yield* Effect.logError("bad")
          return "ok"
        }))
      const client = yield* McpTest.makeClient(serverWith(Chatty))
      const notifications = yield* client.subscribe
      yield* client.callTool("chatty")
      yield* flush
      const all = Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.params)
      expect(all).toEqual([
        { level: "info", data: { message: "info", user: "ada" } },
        { level: "warning", data: "careful" },
        { level: "error", data: "bad" }
      ])
      yield* client.setLevel("error")
      yield* client.callTool("chatty")
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.params)).toEqual([{
        level: "error",
        data: "bad"
      }])
    }))

  it.scoped("sends log data JSON cannot encode as near as it can, and the handler carries on", () =>
    Effect.gen(function*() {
      const shared = { a: 1 }
      const cycle: Record<string, unknown> = { name: "loop" }
      cycle.self = cycle
      const refusing = {
        toJSON: () => {
          throw new Error("no")
        },
        n: BigInt(2)
      }
      const Logs = McpServer.tool("logs", {}, () =>
        Effect.gen(function*() {
          yield* RequestContext.log("info", { x: shared, y: shared, n: BigInt(1), when: new Date(0) })
          yield* RequestContext.log("info", cycle)
          yield* RequestContext.log("info", refusing)
          return "ok"
        }))
      const client = yield* McpTest.makeClient(serverWith(Logs))
      const notifications = yield* client.subscribe
      expect((yield* client.callTool("logs")).content).toEqual([{ type: "text", text: "ok" }])
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.params?.data)).toEqual([
        { x: { a: 1 }, y: { a: 1 }, n: "1", when: "1970-01-01T00:00:00.000Z" },
        { name: "loop", self: "[Circular]" },
        "[a value JSON cannot encode]"
      ])
    }))

  it.scoped("rejects an unknown level with -32602", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      const error = yield* Effect.flip(client.setLevel("loud" as any))
      expect(error).toMatchObject({ code: -32602 })
    }))
})
