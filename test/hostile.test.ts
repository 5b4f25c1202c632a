import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Schema } from "effect"
import { McpServer, McpTest } from "mcp-effect"
import { TestServer } from "./fixtures.js"

/** Names every object inherits: a lookup that is not own-key finds something for each. */
const INHERITED = [
  "constructor",
  "__proto__",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__defineGetter__",
  "__lookupGetter__"
]

/** A definition whose own names collide with inherited ones: its tables must still be read by own key. */
const Collide = Layer.mergeAll(
  McpServer.prompt("collide", {
    parameters: { constructor: Schema.String },
    complete: { constructor: (value) => Effect.succeed([`${value}-done`]) }
  }, (args) => Effect.succeed(`got ${args.constructor}`)),
  McpServer.resource("collide://{valueOf}", {
    description: "A variable named valueOf",
    complete: { valueOf: (value) => Effect.succeed([`${value}1`]) }
  }, (params) => Effect.succeed(`read ${params.valueOf}`))
)

/** The server with a logger that keeps what the framework logs, to show that no defect was logged. */
const recording = () => {
  const logged: Array<string> = []
  const logger = Logger.make(({ message }) => void logged.push(String(message)))
  const server = Layer.provideMerge(Collide, TestServer).pipe(
    Layer.provide(Logger.replace(Logger.defaultLogger, logger))
  )
  return { logged, server }
}

const request = (conn: McpTest.RawConnection) => {
  let id = 0
  return (method: string, params: unknown) =>
    Effect.gen(function*() {
      const sent = ++id
      yield* conn.send({ jsonrpc: "2.0", id: sent, method, params })
      const answer: any = yield* conn.receive
      expect(answer.id).toBe(sent)
      return answer
    })
}

describe("client-supplied names select by own key only", () => {
  it.scoped("answers -32602 or an empty completion for every inherited name, never -32603", () =>
    Effect.gen(function*() {
      const { logged, server } = recording()
      const conn = yield* McpTest.raw(server)
      yield* conn.initialize()
      const ask = request(conn)
      const empty = { completion: { values: [], total: 0, hasMore: false } }
      for (const name of INHERITED) {
        const cases: Array<[string, unknown]> = [
          ["completion/complete", { ref: { type: "ref/prompt", name: "review" }, argument: { name, value: "" } }],
          ["completion/complete", {
            ref: { type: "ref/resource", uri: "greeting://{name}" },
            argument: { name, value: "" }
          }],
          ["completion/complete", {
            ref: { type: "ref/resource", uri: "collide://{valueOf}" },
            argument: { name: name === "valueOf" ? "x" : name, value: "" }
          }],
          ["completion/complete", { ref: { type: "ref/prompt", name }, argument: { name: "code", value: "" } }],
          ["completion/complete", { ref: { type: "ref/resource", uri: name }, argument: { name: "x", value: "" } }],
          ["prompts/get", { name }],
          ["prompts/get", { name: "review", arguments: { code: "x", [name]: "y" } }],
          ["tools/call", { name, arguments: {} }],
          ["tools/call", { name: "add", arguments: { a: 1, b: 2, [name]: 3 } }],
          ["resources/read", { uri: name }],
          ["resources/subscribe", { uri: name }],
          [name, {}]
        ]
        for (const [method, params] of cases) {
          const answer = yield* ask(method, params)
          const label = `${method} ${JSON.stringify(params)}: ${JSON.stringify(answer)}`
          if ("error" in answer) {
            expect(answer.error.code, label).not.toBe(-32603)
            expect([-32602, -32601, -32002], label).toContain(answer.error.code)
          } else if (method === "completion/complete") {
            expect(answer.result, label).toEqual(empty)
          }
        }
      }
      expect(logged).toEqual([])
    }))

  it.scoped("reads a definition's own tables by own key, also where its names collide with inherited ones", () =>
    Effect.gen(function*() {
      const { logged, server } = recording()
      const conn = yield* McpTest.raw(server)
      yield* conn.initialize()
      const ask = request(conn)
      const prompts = yield* ask("prompts/list", {})
      const collide = prompts.result.prompts.find((p: any) => p.name === "collide")
      // No description given for `constructor`: it gets none, rather than Object's constructor.
      expect(collide.arguments).toEqual([{ name: "constructor", required: true }])
      const completed = yield* ask("completion/complete", {
        ref: { type: "ref/prompt", name: "collide" },
        argument: { name: "constructor", value: "a" }
      })
      expect(completed.result.completion.values).toEqual(["a-done"])
      const noCompleter = yield* ask("completion/complete", {
        ref: { type: "ref/prompt", name: "collide" },
        argument: { name: "toString", value: "a" }
      })
      expect(noCompleter.result).toEqual({ completion: { values: [], total: 0, hasMore: false } })
      const variable = yield* ask("completion/complete", {
        ref: { type: "ref/resource", uri: "collide://{valueOf}" },
        argument: { name: "valueOf", value: "v" }
      })
      expect(variable.result.completion.values).toEqual(["v1"])
      const got = yield* ask("prompts/get", { name: "collide", arguments: { constructor: "c" } })
      expect(got.result.messages[0].content.text).toBe("got c")
      // A required argument named like an inherited member is missing when the client leaves it out.
      const missing = yield* ask("prompts/get", { name: "collide", arguments: {} })
      expect(missing.error.code).toBe(-32602)
      const read = yield* ask("resources/read", { uri: "collide://x" })
      expect(read.result.contents[0].text).toBe("read x")
      expect(logged).toEqual([])
    }))
})

/** JSON text of `[[[…]]]`, `depth` deep: JSON.parse reads it, JSON.stringify of the parsed value overflows the stack. */
const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const deepObject = (depth: number) => "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)

describe("deeply nested values", () => {
  it.scoped("answer -32602 with a short message, never -32603, and the server keeps serving", () =>
    Effect.gen(function*() {
      const { logged, server } = recording()
      const conn = yield* McpTest.raw(server)
      yield* conn.initialize()
      const depth = 100_000
      const cases: Array<[string, string]> = [
        ["prompts/get", `{"name":"review","arguments":{"code":${deepArray(depth)}}}`],
        ["prompts/get", `{"name":"review","arguments":${deepObject(depth)}}`],
        ["resources/unsubscribe", `{"uri":${deepArray(depth)}}`],
        ["resources/subscribe", `{"uri":${deepObject(depth)}}`],
        ["tools/list", `{"cursor":${deepArray(depth)}}`],
        ["resources/read", `{"uri":${deepArray(depth)}}`],
        ["logging/setLevel", `{"level":${deepObject(depth)}}`],
        ["completion/complete", `{"ref":${deepArray(depth)},"argument":{"name":"x","value":""}}`],
        [
          "completion/complete",
          `{"ref":{"type":"ref/prompt","name":"review"},"argument":{"name":"language","value":"p"},"context":{"arguments":${
            deepObject(depth)
          }}}`
        ]
      ]
      let id = 0
      for (const [method, params] of cases) {
        yield* conn.send(`{"jsonrpc":"2.0","id":${++id},"method":"${method}","params":${params}}`)
        const answer: any = yield* conn.receive
        expect(answer.id).toBe(id)
        expect(answer.error?.code, `${method}: ${JSON.stringify(answer).slice(0, 200)}`).toBe(-32602)
        expect(answer.error.message.length).toBeLessThan(300)
      }
      // A tool's arguments are the tool's to refuse: an error result the model can read.
      yield* conn.send(
        `{"jsonrpc":"2.0","id":"tool","method":"tools/call","params":{"name":"add","arguments":{"a":${
          deepArray(depth)
        },"b":1}}}`
      )
      const tool: any = yield* conn.receive
      expect(tool.result.isError).toBe(true)
      expect(tool.result.content[0].text).toMatch(/nests deeper than/)
      yield* conn.send({
        jsonrpc: "2.0",
        id: "after",
        method: "tools/call",
        params: { name: "add", arguments: { a: 1, b: 2 } }
      })
      expect(yield* conn.receive).toMatchObject({ id: "after", result: { structuredContent: { result: 3 } } })
      expect(logged).toEqual([])
    }))

  it.scoped("bound what an error message echoes of a wide value", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(TestServer)
      yield* conn.initialize()
      // Not deep, but large: a 200,000-element array where a string belongs.
      yield* conn.send(
        `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":[${Array(200_000).fill("1").join(",")}]}}`
      )
      const answer: any = yield* conn.receive
      expect(answer.error.code).toBe(-32602)
      expect(answer.error.message.length).toBeLessThanOrEqual(2100)
    }))
})
