import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Queue } from "effect"
import { McpTest } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { MiddlewareServer } from "../examples/middleware.js"
import { MainServer } from "../examples/mount.js"
import { SessionServer } from "../examples/session-lifespan.js"
import { flush } from "./helpers.js"

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

describe("the extension examples", () => {
  it.scoped("middleware: audits, times and rate-limits", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(MiddlewareServer, { clientInfo: { name: "ada", version: "1" } })
      const result = yield* client.callTool("add", { a: 1, b: 2 })
      expect(result.structuredContent).toEqual({ result: 3 })
      expect(typeof result._meta?.["example.com/durationMs"]).toBe("number")
      for (let i = 1; i < 10; i++) yield* client.callTool("add", { a: i, b: i })
      expect(yield* Effect.flip(client.callTool("add", { a: 1, b: 1 }))).toMatchObject({ code: -32000 })
      const log = JSON.parse(
        ((yield* client.readResource("audit://log")).contents[0] as McpSchema.TextResourceContents).text
      )
      expect(log[0]).toBe("ada: tools/call add {\"a\":1,\"b\":2} -> Success")
      expect(log.at(-1)).toBe("ada: tools/call add {\"a\":1,\"b\":1} -> Failure")
    }))

  it.scoped("mount: the notes taken in a mounted server reach the main server's lists", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(MainServer)
      expect((yield* client.listTools).map((t) => t.name).sort()).toEqual(["hello", "notes_take", "weather_forecast"])
      expect((yield* client.listResourceTemplates).map((t) => t.uriTemplate)).toEqual(["weather://weather/{city}"])
      const notifications = yield* client.subscribe
      expect(text(yield* client.callTool("notes_take", { text: "milk" }))).toBe("Saved as note 1")
      yield* flush
      expect(Chunk.toArray(yield* Queue.takeAll(notifications)).map((n) => n.method)).toEqual([
        "notifications/resources/list_changed"
      ])
      expect((yield* client.readResource("note://notes/1")).contents[0]).toMatchObject({
        uri: "note://notes/1",
        text: "milk"
      })
    }))

  it.scoped("session lifespan: one connection per session", () =>
    Effect.gen(function*() {
      const server = Layer.succeedContext(yield* Layer.build(SessionServer))
      const first = yield* McpTest.makeClient(server)
      const second = yield* McpTest.makeClient(server)
      expect(text(yield* first.callTool("query", { sql: "a" }))).toBe("connection 1, query 1: a")
      expect(text(yield* second.callTool("query", { sql: "b" }))).toBe("connection 2, query 1: b")
      expect(text(yield* first.callTool("query", { sql: "c" }))).toBe("connection 1, query 2: c")
    }))
})
