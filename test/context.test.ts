import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref, Schema } from "effect"
import { McpServer, McpTest, RequestContext } from "mcp-effect"
import type { McpSchema } from "mcp-effect"

const bare = McpServer.layer({ name: "s", version: "1" })

const Booking = Schema.Struct({
  name: Schema.String.annotations({ description: "Your name", default: "Ada" }),
  guests: Schema.Int.annotations({ default: 2 }),
  vegan: Schema.Boolean.annotations({ default: false }),
  seating: Schema.Literal("inside", "outside").annotations({ default: "inside" }),
  extras: Schema.Array(Schema.Literal("wine", "cake")),
  size: Schema.Union(
    Schema.Literal("s").annotations({ title: "Small" }),
    Schema.Literal("l").annotations({ title: "Large" })
  ),
  sizes: Schema.Array(
    Schema.Union(
      Schema.Literal("s").annotations({ title: "Small" }),
      Schema.Literal("l").annotations({ title: "Large" })
    )
  ),
  age: Schema.optional(Schema.Int),
  email: Schema.optional(Schema.String.annotations({ format: "email" } as any))
})

const Book = McpServer.tool("book", {}, () =>
  Effect.gen(function*() {
    const answer = yield* RequestContext.elicit("Book a table?", Booking)
    return answer.action === "accept" ? `booked for ${answer.content.name} (${answer.content.guests})` : answer.action
  }))

const Login = McpServer.tool("login", {}, () =>
  Effect.map(
    RequestContext.elicitUrl({ message: "Sign in", url: "https://example.com/login", elicitationId: "e1" }),
    (r) => r.action
  ))

const Summarize = McpServer.tool(
  "summarize",
  { parameters: { text: Schema.String } },
  ({ text }) =>
    Effect.map(
      RequestContext.sample(`Summarize: ${text}`, { maxTokens: 50 }),
      (r) => Array.isArray(r.content) ? "many" : (r.content as McpSchema.TextContent).text
    )
)

const UseTools = McpServer.tool("use_tools", {}, () =>
  Effect.map(
    RequestContext.sample("weather?", {
      tools: [{ name: "get_weather", inputSchema: { type: "object" } }],
      toolChoice: { mode: "auto" }
    }),
    (r) => r.stopReason ?? "none"
  ))

const Roots = McpServer.tool(
  "roots",
  {},
  () => Effect.map(RequestContext.listRoots, (roots) => roots.map((r) => r.uri).join(","))
)

const ReadOwn = McpServer.tool(
  "read_own",
  {},
  () => Effect.map(RequestContext.readResource("mem://a"), (r) => (r.contents[0] as any).text)
)

const MemA = McpServer.resource("mem://a", {}, () => Effect.succeed("A"))

const Server = Layer.mergeAll(Book, Login, Summarize, UseTools, Roots, ReadOwn, MemA).pipe(Layer.provideMerge(bare))

const text = (r: McpSchema.CallToolResult) => (r.content[0] as McpSchema.TextContent).text

describe("elicitation", () => {
  it.scoped("sends a flat form schema with defaults and enum shapes, and decodes the answer", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<McpSchema.ElicitRequestParams | undefined>(undefined)
      const client = yield* McpTest.makeClient(Server, {
        elicitation: (params) =>
          Ref.set(seen, params).pipe(
            Effect.as({
              action: "accept" as const,
              content: {
                name: "Grace",
                guests: 4,
                vegan: true,
                seating: "outside",
                extras: ["cake"],
                size: "l",
                sizes: ["s"]
              }
            })
          )
      })
      expect(text(yield* client.callTool("book"))).toBe("booked for Grace (4)")
      const params: any = yield* Ref.get(seen)
      expect(params.mode).toBe("form")
      expect(params.message).toBe("Book a table?")
      const props = params.requestedSchema.properties
      expect(params.requestedSchema.type).toBe("object")
      expect(params.requestedSchema.required).toEqual(["name", "guests", "vegan", "seating", "extras", "size", "sizes"])
      expect(props.name).toMatchObject({ type: "string", description: "Your name", default: "Ada" })
      expect(props.guests).toMatchObject({ type: "integer", default: 2 })
      expect(props.vegan).toMatchObject({ type: "boolean", default: false })
      expect(props.seating).toMatchObject({ type: "string", enum: ["inside", "outside"], default: "inside" })
      expect(props.extras).toMatchObject({ type: "array", items: { type: "string", enum: ["wine", "cake"] } })
      expect(props.size).toEqual({
        type: "string",
        oneOf: [{ const: "s", title: "Small" }, { const: "l", title: "Large" }]
      })
      expect(props.sizes).toEqual({
        type: "array",
        items: { anyOf: [{ const: "s", title: "Small" }, { const: "l", title: "Large" }] }
      })
      expect(props.age).toMatchObject({ type: "integer" })
      expect(JSON.stringify(params.requestedSchema)).not.toMatch(/\$ref|\$defs/)
    }))

  it.scoped("reports decline and cancel, and refuses content that does not match", () =>
    Effect.gen(function*() {
      const answers = yield* Ref.make<Array<McpSchema.ElicitResult>>([
        { action: "decline" },
        { action: "cancel" },
        { action: "accept", content: { name: 5 as any } }
      ])
      const client = yield* McpTest.makeClient(Server, {
        elicitation: () => Ref.modify(answers, ([first, ...rest]) => [first!, rest])
      })
      expect(text(yield* client.callTool("book"))).toBe("decline")
      expect(text(yield* client.callTool("book"))).toBe("cancel")
      const bad = yield* Effect.flip(client.callTool("book"))
      expect(bad).toMatchObject({ code: -32602 })
    }))

  it.scoped("URL mode needs the elicitation.url capability", () =>
    Effect.gen(function*() {
      const formOnly = yield* McpTest.makeClient(Server, {
        elicitation: () => Effect.succeed({ action: "accept" as const })
      })
      const refused = yield* formOnly.callTool("login")
      expect(refused.isError).toBe(true)
      expect(text(refused)).toMatch(/elicitation.url/)
      const seen = yield* Ref.make<unknown>(undefined)
      const withUrl = yield* McpTest.makeClient(Server, {
        elicitationUrl: true,
        elicitation: (params) => Ref.set(seen, params).pipe(Effect.as({ action: "accept" as const }))
      })
      expect(text(yield* withUrl.callTool("login"))).toBe("accept")
      expect(yield* Ref.get(seen)).toEqual({
        mode: "url",
        message: "Sign in",
        url: "https://example.com/login",
        elicitationId: "e1"
      })
    }))
})

describe("sampling", () => {
  it.scoped("asks the client's model", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, {
        sampling: (params) =>
          Effect.succeed({
            role: "assistant" as const,
            model: "test-model",
            content: { type: "text" as const, text: `summary of ${(params.messages[0]!.content as any).text}` }
          })
      })
      expect(text(yield* client.callTool("summarize", { text: "war and peace" }))).toBe(
        "summary of Summarize: war and peace"
      )
    }))

  it.scoped("tools and toolChoice need sampling.tools", () =>
    Effect.gen(function*() {
      const answer = (params: McpSchema.CreateMessageRequestParams) =>
        Effect.succeed({
          role: "assistant" as const,
          model: "m",
          stopReason: params.tools ? "toolUse" : "endTurn",
          content: { type: "tool_use" as const, id: "1", name: "get_weather", input: {} }
        })
      const plain = yield* McpTest.makeClient(Server, { sampling: answer })
      const refused = yield* plain.callTool("use_tools")
      expect(refused.isError).toBe(true)
      expect(text(refused)).toMatch(/sampling.tools/)
      const withTools = yield* McpTest.makeClient(Server, { sampling: answer, samplingTools: true })
      expect(text(yield* withTools.callTool("use_tools"))).toBe("toolUse")
    }))
})

describe("roots and capabilities", () => {
  it.scoped("lists the client's roots", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, {
        roots: [{ uri: "file:///a" }, { uri: "file:///b", name: "b" }]
      })
      expect(text(yield* client.callTool("roots"))).toBe("file:///a,file:///b")
    }))

  it.scoped("fails with a typed error and sends nothing when the client lacks the capability", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.initialize()
      for (const [name, capability] of [["roots", "roots"], ["summarize", "sampling"], ["book", "elicitation.form"]]) {
        yield* conn.send({ jsonrpc: "2.0", id: name, method: "tools/call", params: { name, arguments: { text: "x" } } })
        // The next message is the tool's own result: no request went to the client first.
        const response: any = yield* conn.receive
        expect(response.id).toBe(name)
        expect(response.result.isError).toBe(true)
        expect(response.result.content[0].text).toContain(`"${capability}" capability`)
      }
    }))

  it.scoped("reads the server's own resources from a handler", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server)
      expect(text(yield* client.callTool("read_own"))).toBe("A")
    }))

  it.scoped("exposes request id, client info, capabilities and version", () =>
    Effect.gen(function*() {
      const Info = McpServer.tool("info", {}, () =>
        Effect.map(RequestContext.current, (ctx) =>
          JSON.stringify({
            id: typeof ctx.requestId,
            client: ctx.clientInfo?.name,
            version: ctx.protocolVersion,
            roots: ctx.clientCapabilities.roots !== undefined,
            method: ctx.method
          })))
      const client = yield* McpTest.makeClient(Layer.provideMerge(Info, bare), {
        clientInfo: { name: "tester", version: "9" },
        roots: []
      })
      expect(JSON.parse(text(yield* client.callTool("info")))).toEqual({
        id: "number",
        client: "tester",
        version: "2025-11-25",
        roots: true,
        method: "tools/call"
      })
    }))
})
