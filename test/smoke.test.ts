import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { McpTest } from "mcp-effect"
import { TestServer } from "./fixtures.js"

describe("smoke", () => {
  it.scoped("initializes and calls a tool", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(TestServer)
      expect(client.serverInfo.name).toBe("test-server")
      const tools = yield* client.listTools
      expect(tools.map((t) => t.name)).toContain("add")
      const result = yield* client.callTool("add", { a: 1, b: 2 })
      expect(result.structuredContent).toEqual({ result: 3 })
      const read = yield* client.readResource("greeting://bob")
      expect(read.contents[0]).toEqual({ uri: "greeting://bob", mimeType: "text/plain", text: "Hello, bob!" })
      const prompt = yield* client.getPrompt("review", { code: "x = 1" })
      expect(prompt.messages).toHaveLength(2)
    }))
})
