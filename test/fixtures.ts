import { Effect, Layer, Schema } from "effect"
import { Content, McpServer, Prompt, RequestContext, Tool } from "mcp-effect"

export const Add = McpServer.tool("add", {
  description: "Add two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
}, ({ a, b }) => Effect.succeed(a + b))

export const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

export const Fail = McpServer.tool("fail", { description: "Always fails" }, () => Effect.fail(new Error("boom")))

export const Die = McpServer.tool("die", { description: "Dies" }, () => Effect.die(new Error("secret /etc/path")))

export const Greeting = McpServer.resource("greeting://{name}", {
  description: "A personalized greeting",
  complete: { name: (value) => Effect.succeed(["alice", "bob", "carol"].filter((n) => n.startsWith(value))) }
}, ({ name }) => Effect.succeed(`Hello, ${name}!`))

export const Readme = McpServer.resource(
  "file:///readme.md",
  { name: "readme", mimeType: "text/markdown" },
  () => Effect.succeed("# Readme")
)

export const Review = McpServer.prompt("review", {
  description: "Review code",
  parameters: { code: Schema.String, language: Schema.optional(Schema.String) },
  complete: { language: (value) => Effect.succeed(["python", "typescript"].filter((l) => l.startsWith(value))) }
}, ({ code, language }) =>
  Effect.succeed([
    Prompt.user(`Please review this ${language ?? "code"}:\n${code}`),
    Prompt.assistant(Content.text("Sure."))
  ]))

export const Progress = McpServer.tool("progress", {
  description: "Reports progress every minute for ten minutes",
  parameters: { steps: Schema.Number }
}, ({ steps }) =>
  Effect.gen(function*() {
    for (let i = 1; i <= steps; i++) {
      yield* Effect.sleep("1 minute")
      yield* RequestContext.progress(i, steps, `step ${i}`)
    }
    yield* Effect.log("finished")
    return `done after ${steps} steps`
  }))

export const TestServer = Layer.mergeAll(Add, Echo, Fail, Die, Greeting, Readme, Review, Progress).pipe(
  Layer.provideMerge(McpServer.layer({ name: "test-server", version: "1.0.0", instructions: "Use add to add." }))
)

/** Tools whose output JSON cannot encode (a BigInt or a cycle in a result, a BigInt in a log), and one that interrupts itself. */
export const Unencodable = Layer.mergeAll(
  McpServer.tool("bigint", {}, () => Effect.succeed({ content: [Content.text("x")], _meta: { n: BigInt(1) } })),
  McpServer.tool("cycle", {}, () => {
    const meta: Record<string, unknown> = {}
    meta.self = meta
    return Effect.succeed({ content: [Content.text("x")], _meta: meta })
  }),
  McpServer.tool("logs-bigint", {}, () => Effect.as(RequestContext.log("info", { n: BigInt(1) }), "logged")),
  McpServer.tool("interrupts", {}, () => Effect.interrupt),
  McpServer.tool(
    "logs-then-bigint",
    {},
    () => Effect.as(RequestContext.log("info", "working"), { content: [Content.text("x")], _meta: { n: BigInt(1) } })
  )
)

/** Handlers that throw before they return an effect, as `Effect.succeed(JSON.parse(text))` does on bad text. */
export const Throwing = Layer.mergeAll(
  McpServer.tool("throws", {}, () => Effect.succeed(JSON.parse("{not json"))),
  McpServer.resource("throws://{id}", { name: "throws" }, () => Effect.succeed(JSON.parse("{not json"))),
  McpServer.prompt("throws", {
    parameters: { topic: Schema.String },
    complete: { topic: () => Effect.succeed(JSON.parse("{")) }
  }, () => Effect.succeed(JSON.parse("{not json")))
)

/** Registers another tool while it runs: clients are told the tool list changed. */
export const Grow = McpServer.tool(
  "grow",
  { description: "Registers another tool" },
  () =>
    McpServer.addTool(Tool.make("grown", { description: "late" }, () => Effect.succeed("grown"))).pipe(
      Effect.as("grew"),
      Effect.orDie
    )
)
