import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { McpTest } from "mcp-effect"
import { TestServer } from "./fixtures.js"
import { flush } from "./helpers.js"

const methods = [
  "ping",
  "tools/list",
  "tools/call",
  "resources/read",
  "prompts/get",
  "completion/complete",
  "nope",
  "initialize",
  "logging/setLevel"
]

const jsonRpcShaped = fc.record({
  jsonrpc: fc.oneof(fc.constant("2.0"), fc.constant("1.0"), fc.anything()),
  id: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.double(), fc.anything()),
  method: fc.oneof(fc.constantFrom(...methods), fc.string(), fc.anything()),
  params: fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue()),
    fc.anything(),
    fc.record({
      name: fc.constantFrom("add", "echo", "fail", "die", "x"),
      arguments: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.record({ a: fc.integer(), b: fc.integer() }))
    })
  ),
  result: fc.anything(),
  error: fc.anything()
}, { requiredKeys: [] })

const isWellFormedRequest = (u: unknown): u is { id: string | number } =>
  typeof u === "object" && u !== null && !Array.isArray(u) && "id" in u && "method" in u &&
  (u as any).jsonrpc === "2.0" && typeof (u as any).method === "string" &&
  (typeof (u as any).id === "string" || Number.isInteger((u as any).id)) && (u as any).id !== "sync"

const garbage = fc.oneof(
  fc.string().map((s) => ({ text: s })),
  fc.uint8Array().map((bytes) => ({ text: Buffer.from(bytes).toString("latin1") })),
  fc.jsonValue().map((v) => ({ value: v })),
  jsonRpcShaped.map((v) => ({ value: v })),
  fc.array(jsonRpcShaped, { maxLength: 3 }).map((v) => ({ value: v }))
)

describe("robustness", () => {
  it.scoped(
    "never dies, answers each well-formed request exactly once, and keeps serving",
    () =>
      Effect.gen(function*() {
        const conn = yield* McpTest.raw(TestServer)
        yield* conn.initialize()
        const received: Array<any> = []
        const drain = Effect.gen(function*() {
          yield* flush
          yield* flush
          // Only what has arrived: the connection is still open.
          while (true) {
            const next = yield* Effect.race(conn.receive, Effect.as(flush, undefined))
            if (next === undefined) break
            received.push(next)
          }
        })
        const samples = fc.sample(garbage, { numRuns: 400, seed: 42 })
        let probe = 0
        for (const sample of samples) {
          const sent = "text" in sample ? sample.text : sample.value
          yield* conn.send(sent)
          const wellFormed = isWellFormedRequest(sent) ? sent.id : undefined
          // After each bad input, a well-formed request is answered exactly once.
          probe++
          const id = `probe-${probe}`
          yield* conn.send({
            jsonrpc: "2.0",
            id,
            method: "tools/call",
            params: { name: "add", arguments: { a: probe, b: 1 } }
          })
          yield* drain
          const answers = received.filter((m) => m?.id === id)
          expect(answers).toHaveLength(1)
          expect(answers[0].result.structuredContent).toEqual({ result: probe + 1 })
          if (wellFormed !== undefined) {
            expect(received.filter((m) => m?.id === wellFormed)).toHaveLength(1)
          }
          received.length = 0
        }
        yield* drain
        expect(received).toEqual([])
      }),
    60_000
  )

  it.scoped("answers with exactly one of result or error, never a stack trace", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(TestServer)
      yield* conn.initialize()
      const received: Array<any> = []
      for (const sample of fc.sample(garbage, { numRuns: 300, seed: 7 })) {
        yield* conn.send("text" in sample ? sample.text : sample.value)
        yield* conn.send({ jsonrpc: "2.0", id: "sync", method: "ping" })
        while (true) {
          const next: any = yield* conn.receive
          if (next?.id === "sync") break
          received.push(next)
        }
      }
      for (const message of received.flat()) {
        if (message && "id" in message) {
          expect("result" in message !== "error" in message).toBe(true)
          if ("error" in message) {
            expect(typeof message.error.code).toBe("number")
            expect(message.error.message).not.toMatch(/\n\s+at /)
          }
        }
      }
    }), 60_000)
})
