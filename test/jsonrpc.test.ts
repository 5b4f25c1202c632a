import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer } from "effect"
import { McpServer, McpTest, RequestContext } from "mcp-effect"
import { TestServer } from "./fixtures.js"

const Crash = McpServer.resource("crash://{id}", {}, () => Effect.die(new Error("at /home/secret/file.ts:12")))

const Server = Layer.mergeAll(TestServer, Crash.pipe(Layer.provide(TestServer)))

const connect = Effect.gen(function*() {
  const conn = yield* McpTest.raw(Server)
  yield* conn.initialize()
  return conn
})

describe("JSON-RPC engine", () => {
  it.scoped("answers malformed JSON with -32700 and keeps serving", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      yield* conn.send("{not json")
      const error: any = yield* conn.receive
      expect(error.id).toBeNull()
      expect(error.error.code).toBe(-32700)
      expect(error.error.message).toMatch(/Parse error/)
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "ping" })
      expect(yield* conn.receive).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
    }))

  it.scoped("answers invalid requests with -32600", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      const cases: Array<[unknown, unknown]> = [
        [42, null],
        [{ jsonrpc: "1.0", id: 1, method: "ping" }, 1],
        [{ jsonrpc: "2.0", id: { x: 1 }, method: "ping" }, null],
        [{ jsonrpc: "2.0", id: 1.5, method: "ping" }, null],
        [{ jsonrpc: "2.0", id: null, method: "ping" }, null],
        [{ jsonrpc: "2.0", id: 2, method: 7 }, 2],
        [{ jsonrpc: "2.0", id: 3, method: "ping", params: [1] }, 3],
        [{ jsonrpc: "2.0", id: 4 }, 4]
      ]
      for (const [message, id] of cases) {
        yield* conn.send(message)
        const response: any = yield* conn.receive
        expect(response.id).toEqual(id)
        expect(response.error.code).toBe(-32600)
        expect(response.error.message).toMatch(/Invalid request: .+/)
      }
      yield* conn.send({ jsonrpc: "2.0", id: 9, method: "ping" })
      expect(yield* conn.receive).toEqual({ jsonrpc: "2.0", id: 9, result: {} })
    }))

  it.scoped("answers an unknown method with -32601 and ignores unknown notifications", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      yield* conn.send({ jsonrpc: "2.0", method: "notifications/whatever" })
      yield* conn.send({ jsonrpc: "2.0", id: "x", method: "no/such" })
      expect(yield* conn.receive).toEqual({
        jsonrpc: "2.0",
        id: "x",
        error: { code: -32601, message: "Method not found: no/such" }
      })
    }))

  it.scoped("answers bad params with -32602 saying what was wrong", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: 5 } })
      const response: any = yield* conn.receive
      expect(response.error.code).toBe(-32602)
      expect(response.error.message).toMatch(/uri/)
      for (const params of [{ name: 5 }, { name: "add", arguments: "a=1" }, {}]) {
        yield* conn.send({ jsonrpc: "2.0", id: "bad", method: "tools/call", params })
        const bad: any = yield* conn.receive
        expect(bad.error.code).toBe(-32602)
        expect(bad.error.message).toMatch(/name|arguments/)
      }
      yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "nope" } })
      const unknown: any = yield* conn.receive
      expect(unknown.error).toEqual({ code: -32602, message: "Invalid params: Unknown tool: nope" })
    }))

  it.scoped("answers a defect with -32603 and a safe message", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: "crash://1" } })
      const response: any = yield* conn.receive
      expect(response.error).toEqual({ code: -32603, message: "Internal error" })
      expect(JSON.stringify(response)).not.toMatch(/secret|\.ts|at /)
    }))

  it.scoped("keeps ids exactly as sent", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      for (const id of ["1", 1, "", 0, -5, "a-long-id-é"]) {
        yield* conn.send({ jsonrpc: "2.0", id, method: "ping" })
        const response: any = yield* conn.receive
        expect(response.id).toStrictEqual(id)
      }
    }))

  it.scoped("refuses a request reusing an in-flight id without disturbing the running one", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const Wait = McpServer.tool("wait", {}, () => Effect.as(Deferred.await(release), "released"))
      const conn = yield* McpTest.raw(Layer.provideMerge(Wait, TestServer))
      yield* conn.initialize()
      yield* conn.send({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "wait" } })
      yield* conn.send({ jsonrpc: "2.0", id: 7, method: "ping" })
      const duplicate: any = yield* conn.receive
      expect(duplicate.id).toBe(7)
      expect(duplicate.error.code).toBe(-32600)
      expect(duplicate.error.message).toMatch(/already used/)
      // The string id "7" is a different id.
      yield* conn.send({ jsonrpc: "2.0", id: "7", method: "ping" })
      expect(yield* conn.receive).toEqual({ jsonrpc: "2.0", id: "7", result: {} })
      yield* Deferred.succeed(release, undefined)
      const original: any = yield* conn.receive
      expect(original.id).toBe(7)
      expect(original.result.content[0].text).toBe("released")
    }))
})

describe("lifecycle", () => {
  it.scoped("allows only ping before initialize", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(TestServer)
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "ping" })
      expect(yield* conn.receive).toEqual({ jsonrpc: "2.0", id: 1, result: {} })
      yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/list" })
      const refused: any = yield* conn.receive
      expect(refused.error.code).toBe(-32600)
      expect(refused.error.message).toMatch(/not initialized/)
    }))

  it.scoped("negotiates the version: echoes a supported one, else offers the latest", () =>
    Effect.gen(function*() {
      for (
        const [asked, expected] of [
          ["2024-11-05", "2024-11-05"],
          ["2025-03-26", "2025-03-26"],
          ["2025-06-18", "2025-06-18"],
          ["2025-11-25", "2025-11-25"],
          ["1999-01-01", "2025-11-25"]
        ]
      ) {
        const conn = yield* McpTest.raw(TestServer)
        const response: any = yield* conn.initialize(asked)
        expect(response.result.protocolVersion).toBe(expected)
      }
    }))

  it.scoped("sends instructions, title, icons and websiteUrl in the initialize result", () =>
    Effect.gen(function*() {
      const server = McpServer.layer({
        name: "n",
        version: "1",
        title: "Title",
        icons: [{ src: "https://example.com/i.png", mimeType: "image/png", sizes: ["48x48"] }],
        websiteUrl: "https://example.com",
        instructions: "Be nice"
      })
      const conn = yield* McpTest.raw(server)
      const response: any = yield* conn.initialize()
      expect(response.result).toEqual({
        protocolVersion: "2025-11-25",
        capabilities: { logging: {} },
        serverInfo: {
          name: "n",
          version: "1",
          title: "Title",
          icons: [{ src: "https://example.com/i.png", mimeType: "image/png", sizes: ["48x48"] }],
          websiteUrl: "https://example.com"
        },
        instructions: "Be nice"
      })
    }))

  it.scoped("refuses a second initialize and keeps the first client info", () =>
    Effect.gen(function*() {
      const WhoAmI = McpServer.tool("whoami", {}, () =>
        Effect.map(RequestContext.current, (ctx) =>
          ctx.clientInfo?.name ?? "none"))
      const conn = yield* McpTest.raw(Layer.provideMerge(WhoAmI, McpServer.layer({ name: "s", version: "1" })))
      yield* conn.initialize()
      yield* conn.send({
        jsonrpc: "2.0",
        id: 2,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "intruder", version: "1" } }
      })
      const refused: any = yield* conn.receive
      expect(refused.error.code).toBe(-32600)
      yield* conn.send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "whoami" } })
      const who: any = yield* conn.receive
      expect(who.result.content[0].text).toBe("raw")
    }))

  it.scoped("computes capabilities from what is registered", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(TestServer)
      const response: any = yield* conn.initialize()
      expect(response.result.capabilities).toEqual({
        logging: {},
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        completions: {}
      })
      const toolsOnly = yield* McpTest.raw(
        Layer.provideMerge(
          McpServer.tool("t", {}, () => Effect.succeed("")),
          McpServer.layer({ name: "s", version: "1" })
        )
      )
      const r2: any = yield* toolsOnly.initialize()
      expect(r2.result.capabilities).toEqual({ logging: {}, tools: { listChanged: true } })
    }))
})

describe("batches", () => {
  it.scoped("are rejected outside 2025-03-26", () =>
    Effect.gen(function*() {
      const conn = yield* connect
      yield* conn.send([{ jsonrpc: "2.0", id: 1, method: "ping" }])
      const response: any = yield* conn.receive
      expect(response.error.code).toBe(-32600)
      expect(response.error.message).toMatch(/batch/)
    }))

  it.scoped("are answered as one array under 2025-03-26", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.initialize("2025-03-26")
      yield* conn.send([
        { jsonrpc: "2.0", id: 1, method: "ping" },
        { jsonrpc: "2.0", method: "notifications/whatever" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } },
        { jsonrpc: "2.0", id: 3, method: "nope" }
      ])
      const response: any = yield* conn.receive
      expect(Array.isArray(response)).toBe(true)
      const byId = new Map(response.map((r: any) => [r.id, r]))
      expect(byId.size).toBe(3)
      expect((byId.get(1) as any).result).toEqual({})
      // 2025-03-26 has no structuredContent; the text rendering remains.
      expect((byId.get(2) as any).result).toEqual({ content: [{ type: "text", text: "{\"result\":5}" }] })
      expect((byId.get(3) as any).error.code).toBe(-32601)
      // An id twice in one batch is refused, even though its first request answered at once.
      yield* conn.send([{ jsonrpc: "2.0", id: 7, method: "ping" }, { jsonrpc: "2.0", id: 7, method: "ping" }])
      const twice: any = yield* conn.receive
      expect(twice).toHaveLength(2)
      expect(twice.map((r: any) => r.result ?? r.error.message)).toEqual([
        {},
        "Invalid request: id 7 is used twice in the batch"
      ])
      yield* conn.send([])
      const empty: any = yield* conn.receive
      expect(empty.error.code).toBe(-32600)
    }))
})
