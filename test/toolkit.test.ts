import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { McpServer, McpTest, Toolkit } from "mcp-effect"

class DivideByZero extends Schema.TaggedError<DivideByZero>()("DivideByZero", { dividend: Schema.Number }) {
  override get message() {
    return `cannot divide ${this.dividend} by zero`
  }
}

const Math = Toolkit.make(
  Toolkit.tool("add", { parameters: { a: Schema.Number, b: Schema.Number }, success: Schema.Number }),
  Toolkit.tool("divide", {
    parameters: { a: Schema.Number, b: Schema.Number },
    success: Schema.Number,
    failure: DivideByZero
  }),
  Toolkit.tool("when", {
    description: "Dates travel encoded and come back decoded",
    parameters: { at: Schema.DateFromString },
    success: Schema.Struct({ next: Schema.DateFromString })
  }),
  Toolkit.tool("broken", { success: Schema.String })
)

const Server = Math.toLayer({
  add: ({ a, b }) => Effect.succeed(a + b),
  divide: ({ a, b }) => b === 0 ? Effect.fail(new DivideByZero({ dividend: a })) : Effect.succeed(a / b),
  when: ({ at }) => Effect.succeed({ next: new Date(at.getTime() + 86_400_000) }),
  broken: () => Effect.die("the disk is gone")
}).pipe(Layer.provideMerge(McpServer.layer({ name: "math", version: "1.0.0" })))

describe("Toolkit", () => {
  for (const protocolVersion of ["2025-11-25", "2026-07-28"]) {
    it.scoped(`calls tools typed by their definitions, failures decoded (${protocolVersion})`, () =>
      Effect.gen(function*() {
        const math = Math.client(yield* McpTest.makeClient(Server, { protocolVersion }))
        expect(yield* math.add({ a: 2, b: 3 })).toBe(5)
        expect(yield* math.divide({ a: 9, b: 3 })).toBe(3)
        const error = yield* Effect.flip(math.divide({ a: 1, b: 0 }))
        expect(error).toBeInstanceOf(DivideByZero)
        expect(error).toMatchObject({ _tag: "DivideByZero", dividend: 1 })
        const { next } = yield* math.when({ at: new Date("2026-11-29T00:00:00.000Z") })
        expect(next).toEqual(new Date("2026-11-30T00:00:00.000Z"))
        const broken = yield* Effect.flip(math.broken({}))
        expect(broken).toMatchObject({ _tag: "ToolCallError", tool: "broken" })
      }))
  }

  it.scoped("the server lists the tools with their schemas, as any client sees them", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server)
      const tools = yield* client.listTools
      expect(tools.map((t) => t.name)).toEqual(["add", "divide", "when", "broken"])
      expect(tools[0]!.outputSchema).toMatchObject({ type: "object", properties: { result: { type: "number" } } })
      // An untyped client sees the typed failure as an error result with its message.
      const failed = yield* client.callTool("divide", { a: 1, b: 0 })
      expect(failed).toMatchObject({ isError: true, content: [{ type: "text", text: "cannot divide 1 by zero" }] })
    }))

  it.scoped("callToolStructured decodes any tool's structured content with a schema of the caller's", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server)
      const Next = Schema.Struct({ next: Schema.DateFromString })
      const { next } = yield* client.callToolStructured("when", { at: "2026-11-29T00:00:00.000Z" }, Next)
      expect(next).toEqual(new Date("2026-11-30T00:00:00.000Z"))
      const wrong = yield* Effect.flip(client.callToolStructured("add", { a: 1, b: 2 }, Next))
      expect(wrong).toMatchObject({ _tag: "ToolCallError", tool: "add" })
      expect(wrong.message).toContain("does not decode")
      const failed = yield* Effect.flip(client.callToolStructured("divide", { a: 1, b: 0 }, Schema.Unknown))
      expect(failed.message).toBe("cannot divide 1 by zero")
    }))
})
