import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Exit, Layer, Queue, Ref, Schema, Scope } from "effect"
import { McpServer, McpTest, RequestContext, Resource, Tool } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { flush } from "./helpers.js"

const server = (name: string) => McpServer.layer({ name, version: "1" })

/** A child server: a tool, a prompt with completion, a static resource, a template with completion. */
const Child = Layer.mergeAll(
  McpServer.tool("forecast", { parameters: { city: Schema.String } }, ({ city }) => Effect.succeed(`sunny in ${city}`)),
  McpServer.prompt("brief", {
    parameters: { city: Schema.String },
    complete: { city: (value) => Effect.succeed(["oslo", "osaka"].filter((c) => c.startsWith(value))) }
  }, ({ city }) => Effect.succeed(`Brief me on ${city}`)),
  McpServer.resource("data://config", { mimeType: "application/json" }, () => Effect.succeed("{}")),
  McpServer.resource("file:///readme.md", {}, () => Effect.succeed("# child")),
  McpServer.resource("city://{name}", {
    complete: { name: (value) => Effect.succeed(["oslo", "osaka"].filter((c) => c.startsWith(value))) }
  }, ({ name }) => Effect.succeed(`city ${name}`)),
  // A child's handler reads the child's own resources by their own URIs, mounted or not.
  McpServer.tool(
    "config",
    {},
    () =>
      Effect.map(
        RequestContext.readResource("data://config"),
        (r) => (r.contents[0] as McpSchema.TextResourceContents).text
      )
  )
).pipe(Layer.provideMerge(server("child")))

const Own = McpServer.tool("hello", {}, () => Effect.succeed("hello"))

const Parent = Layer.mergeAll(Own, McpServer.mount("weather", Child)).pipe(Layer.provideMerge(server("parent")))

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

describe("mount", () => {
  it.scoped("lists the child's tools, prompts, resources and templates under the prefix", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Parent)
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["hello", "weather_forecast", "weather_config"])
      expect((yield* client.listPrompts).map((p) => p.name)).toEqual(["weather_brief"])
      expect((yield* client.listResources).map((r) => r.uri)).toEqual([
        "data://weather/config",
        "file://weather//readme.md"
      ])
      expect((yield* client.listResourceTemplates).map((t) => t.uriTemplate)).toEqual(["city://weather/{name}"])
      expect(client.serverCapabilities).toMatchObject({ tools: {}, prompts: {}, resources: {}, completions: {} })
    }))

  it.scoped("calls, reads, gets and completes through the prefix", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Parent)
      expect(text(yield* client.callTool("weather_forecast", { city: "Oslo" }))).toBe("sunny in Oslo")
      expect(text(yield* client.callTool("weather_config"))).toBe("{}")
      // Contents carry the URI the client asked for.
      expect((yield* client.readResource("data://weather/config")).contents).toEqual([
        { uri: "data://weather/config", mimeType: "application/json", text: "{}" }
      ])
      expect((yield* client.readResource("file://weather//readme.md")).contents[0]).toMatchObject({ text: "# child" })
      expect((yield* client.readResource("city://weather/oslo")).contents).toEqual([
        { uri: "city://weather/oslo", mimeType: "text/plain", text: "city oslo" }
      ])
      expect((yield* client.getPrompt("weather_brief", { city: "Oslo" })).messages[0]!.content).toEqual({
        type: "text",
        text: "Brief me on Oslo"
      })
      expect(yield* client.complete({ type: "ref/prompt", name: "weather_brief" }, { name: "city", value: "os" }))
        .toMatchObject({ values: ["oslo", "osaka"] })
      expect(
        yield* client.complete({ type: "ref/resource", uri: "city://weather/{name}" }, { name: "name", value: "osa" })
      )
        .toMatchObject({ values: ["osaka"] })
      // What is not under the prefix, or not in the child, is unknown as before.
      expect(yield* Effect.flip(client.callTool("forecast", { city: "x" }))).toMatchObject({ code: -32602 })
      expect(yield* Effect.flip(client.callTool("weather_nope"))).toMatchObject({
        code: -32602,
        message: "Invalid params: Unknown tool: weather_nope"
      })
      expect(yield* Effect.flip(client.readResource("data://config"))).toMatchObject({ code: -32002 })
      expect(yield* Effect.flip(client.readResource("data://weather/nope"))).toMatchObject({
        code: -32002,
        data: { uri: "data://weather/nope" }
      })
    }))

  it.scoped("lets the parent's handlers read the child's resources by their prefixed URIs", () =>
    Effect.gen(function*() {
      const Reader = McpServer.tool(
        "read",
        { parameters: { uri: Schema.String } },
        ({ uri }) => Effect.map(RequestContext.readResource(uri), (r) => JSON.stringify(r.contents))
      )
      const client = yield* McpTest.makeClient(Reader.pipe(Layer.provideMerge(Parent)))
      expect(JSON.parse(text(yield* client.callTool("read", { uri: "city://weather/bergen" })))).toEqual([
        { uri: "city://weather/bergen", mimeType: "text/plain", text: "city bergen" }
      ])
      expect(yield* Effect.flip(client.callTool("read", { uri: "city://elsewhere/bergen" }))).toMatchObject({
        code: -32002
      })
    }))

  it.scoped("is a live view: adding or removing in the child reaches the parent's clients as list_changed", () =>
    Effect.gen(function*() {
      const childContext = yield* Layer.build(Child)
      const child = Context.get(childContext, McpServer.McpServer)
      const parentContext = yield* Layer.build(
        McpServer.mount("weather", Layer.succeedContext(childContext)).pipe(Layer.provideMerge(server("parent")))
      )
      const client = yield* McpTest.makeClient(Layer.succeedContext(parentContext))
      const notifications = yield* client.subscribe
      yield* child.addTool(Tool.make("radar", {}, () => Effect.succeed("radar")))
      yield* child.removePrompt("brief")
      yield* child.addResource(Resource.make("data://late", {}, () => Effect.succeed("late")))
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.method)).toEqual([
        "notifications/tools/list_changed",
        "notifications/prompts/list_changed",
        "notifications/resources/list_changed"
      ])
      expect((yield* client.listTools).map((t) => t.name)).toContain("weather_radar")
      expect(text(yield* client.callTool("weather_radar"))).toBe("radar")
      expect(yield* client.listPrompts).toEqual([])
      expect((yield* client.readResource("data://weather/late")).contents[0]).toMatchObject({ text: "late" })
      // A resource the child says changed reaches the parent's subscribers under its prefixed URI.
      yield* client.subscribeResource("data://weather/config")
      yield* child.notifyResourceUpdated("data://config")
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications))).toEqual([
        { method: "notifications/resources/updated", params: { uri: "data://weather/config" } }
      ])
    }))

  it.scoped("unmounts when the mount's scope closes, telling the parent's clients", () =>
    Effect.gen(function*() {
      const parentContext = yield* Layer.build(server("parent"))
      const parent = Context.get(parentContext, McpServer.McpServer)
      const client = yield* McpTest.makeClient(Layer.succeedContext(parentContext))
      const notifications = yield* client.subscribe
      const childContext = yield* Layer.build(Child)
      const scope = yield* Scope.make()
      yield* parent.mount("w", Context.get(childContext, McpServer.McpServer)).pipe(Scope.extend(scope))
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["w_forecast", "w_config"])
      yield* Scope.close(scope, Exit.void)
      expect(yield* client.listTools).toEqual([])
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.method)).toEqual([
        "notifications/tools/list_changed",
        "notifications/resources/list_changed",
        "notifications/prompts/list_changed",
        "notifications/tools/list_changed",
        "notifications/resources/list_changed",
        "notifications/prompts/list_changed"
      ])
    }))

  it.scoped("nests, and the parent's own definitions win over mounted ones of the same name", () =>
    Effect.gen(function*() {
      const Grandchild = McpServer.tool("deep", {}, () => Effect.succeed("deep")).pipe(
        Layer.provideMerge(server("grandchild"))
      )
      const Middle = McpServer.mount("inner", Grandchild).pipe(Layer.provideMerge(server("middle")))
      const Shadow = McpServer.tool("outer_inner_deep", {}, () => Effect.succeed("shadow"))
      const client = yield* McpTest.makeClient(
        Layer.mergeAll(McpServer.mount("outer", Middle), Shadow).pipe(Layer.provideMerge(server("top")))
      )
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["outer_inner_deep"])
      expect(text(yield* client.callTool("outer_inner_deep"))).toBe("shadow")
      const unshadowed = yield* McpTest.makeClient(
        McpServer.mount("outer", Middle).pipe(Layer.provideMerge(server("top")))
      )
      expect(text(yield* unshadowed.callTool("outer_inner_deep"))).toBe("deep")
    }))

  it.scoped("runs the child's middlewares inside the parent's, each seeing its own names", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const record = (label: string) =>
        McpServer.middleware((next, info) =>
          Effect.zipRight(Ref.update(seen, (all) => [...all, `${label} ${info.name}`]), next)
        )
      const Audited = record("child").pipe(Layer.provideMerge(Child))
      const client = yield* McpTest.makeClient(
        McpServer.mount("weather", Audited).pipe(
          Layer.provideMerge(record("parent")),
          Layer.provideMerge(server("parent"))
        )
      )
      yield* client.callTool("weather_forecast", { city: "Oslo" })
      yield* client.readResource("city://weather/oslo")
      expect(yield* Ref.get(seen)).toEqual([
        "parent weather_forecast",
        "child forecast",
        "parent city://weather/oslo",
        "child city://oslo"
      ])
    }))

  it.effect("refuses an invalid or repeated prefix, and a server mounted into itself", () =>
    Effect.gen(function*() {
      const invalid = yield* Effect.flip(
        Layer.build(McpServer.mount("a/b", Child).pipe(Layer.provideMerge(server("p"))))
      )
      expect(invalid.message).toContain("Invalid mount prefix")
      const twice = yield* Effect.flip(Layer.build(
        Layer.mergeAll(McpServer.mount("w", Child), McpServer.mount("w", Child)).pipe(Layer.provideMerge(server("p")))
      ))
      expect(twice.message).toContain("Duplicate mount prefix \"w\"")
      const base = server("self")
      const itself = yield* Effect.flip(Layer.build(McpServer.mount("me", base).pipe(Layer.provideMerge(base))))
      expect(itself.message).toContain("Cannot mount a server into itself")
    }).pipe(Effect.scoped))
})
