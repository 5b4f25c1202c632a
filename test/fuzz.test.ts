/**
 * Fuzzing the two surfaces a client reaches, with a fixed seed and a bounded
 * number of runs: the HTTP front door (methods, headers, bodies, batches,
 * nesting, wrong types) on a real `NodeHttp` server, and the JSON-RPC core
 * over the in-memory connection (hostile params for each method). Whatever
 * comes in, nothing answers 5xx or -32603, no answer carries a stack trace
 * or a file path, and the server still answers a ping afterwards.
 * (test/property.test.ts covers the envelope: each request answered once,
 * with exactly one of result or error.)
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { McpTest } from "mcp-effect"
import { TestServer } from "./fixtures.js"
import { initializeBody, JSON_AND_SSE, openSession, promise, raw, serveHttp } from "./httpHelpers.js"

/** What must never be in an answer: a stack frame, a source path, a file of this project. */
const LEAKS = [/\n\s*at /, /\bat \S+ \(/, /\/work\//, /\.ts:\d/, /node_modules/, /node:internal/]

/** What the fuzzer itself must not send, so that an echo of it is not taken for a leak. */
const MARKERS = ["/work/", ".ts:", " at ", "\nat ", "node_modules", "node:internal", "at \t"]
const clean = (text: string) => !MARKERS.some((marker) => text.includes(marker))

const expectNoLeak = (text: string, label: string) => {
  for (const leak of LEAKS) expect(text, label).not.toMatch(leak)
}

/** Names every object inherits, and the server's own. */
const names = fc.oneof(
  fc.constantFrom(
    "constructor",
    "__proto__",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "add",
    "echo",
    "fail",
    "die",
    "review"
  ),
  fc.constantFrom("greeting://{name}", "greeting://bob", "file:///readme.md", "language", "code", "name"),
  fc.string({ maxLength: 20 })
)

/** A value nested `depth` deep, as JSON text: it is spliced into a frame where a placeholder stands. */
const NESTED = "\u0000nested\u0000"
const nestedText = fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean()).map(([depth, array]) =>
  array ? "[".repeat(depth) + "]".repeat(depth) : "{\"k\":".repeat(depth) + "0" + "}".repeat(depth)
)

/** Values of the wrong type, or right: anything a field may receive. */
const values: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: names },
  { weight: 1, arbitrary: fc.constant(NESTED) },
  { weight: 1, arbitrary: fc.dictionary(names, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) }
)

const methods = [
  "ping",
  "initialize",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "notifications/cancelled",
  "notifications/initialized",
  "constructor",
  "__proto__"
]

/** Params shaped like each method's, with hostile values in every field. */
const params = fc.record({
  name: values,
  arguments: fc.oneof(values, fc.dictionary(names, values, { maxKeys: 4 })),
  uri: values,
  cursor: values,
  level: fc.oneof(fc.constantFrom("debug", "info", "emergency"), values),
  ref: fc.oneof(
    fc.record({ type: fc.constantFrom("ref/prompt", "ref/resource", "ref/other"), name: names, uri: names }),
    values
  ),
  argument: fc.oneof(fc.record({ name: names, value: fc.oneof(fc.string({ maxLength: 10 }), values) }), values),
  context: fc.oneof(fc.record({ arguments: fc.oneof(fc.dictionary(names, values, { maxKeys: 3 }), values) }), values),
  _meta: fc.oneof(fc.record({ progressToken: values }), values),
  requestId: values,
  protocolVersion: fc.oneof(fc.constantFrom("2025-11-25", "2025-03-26", "1999-01-01"), values)
}, { requiredKeys: [] })

let ids = 0
/** One message as JSON text: a request or notification, with the nested placeholder spliced where it fell. */
const message = fc.tuple(
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...methods) }, { weight: 1, arbitrary: names }),
  fc.oneof({ weight: 6, arbitrary: params }, { weight: 1, arbitrary: values }),
  fc.boolean(),
  nestedText
).map(([method, p, notification, nested]) => {
  const body = notification ? { jsonrpc: "2.0", method, params: p } : { jsonrpc: "2.0", id: ++ids, method, params: p }
  return JSON.stringify(body).replaceAll(JSON.stringify(NESTED), nested)
})

/** A whole frame: a message, a batch of them, or something that is no message at all. */
const frame = fc.oneof(
  { weight: 6, arbitrary: message },
  { weight: 1, arbitrary: fc.array(message, { minLength: 0, maxLength: 12 }).map((ms) => `[${ms.join(",")}]`) },
  { weight: 1, arbitrary: nestedText },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }
).filter(clean)

/** Reads answers up to the one with `id`, which it returns, checking each on the way. */
const receiveUntil = (conn: McpTest.RawConnection, id: string, sent: string) =>
  Effect.gen(function*() {
    while (true) {
      const answer: any = yield* conn.receive
      const label = `${sent.slice(0, 300)} => ${JSON.stringify(answer).slice(0, 300)}`
      for (const one of Array.isArray(answer) ? answer : [answer]) {
        expect(one?.error?.code, label).not.toBe(-32603)
        expectNoLeak(JSON.stringify(one), label)
      }
      if (answer?.id === id) return answer
    }
  })

describe("fuzz: the JSON-RPC core over the in-memory connection", () => {
  it.scoped("never answers -32603 or with a stack or a path, and still answers a ping", () =>
    Effect.gen(function*() {
      // One connection at 2025-11-25, one at 2025-03-26, where batches are served.
      const connections = [yield* McpTest.raw(TestServer), yield* McpTest.raw(TestServer)]
      yield* connections[0]!.initialize("2025-11-25")
      yield* connections[1]!.initialize("2025-03-26")
      const samples = fc.sample(frame, { numRuns: 600, seed: 8_2026 })
      for (const [index, text] of samples.entries()) {
        const conn = connections[index % 2]!
        yield* conn.send(text)
        // A ping after each frame, read up to its answer. What the frame caused mostly comes before it; what comes
        // later (a batch waiting on its slowest entry) is checked with the next frame's answers.
        yield* conn.send({ jsonrpc: "2.0", id: `sync-${index}`, method: "ping" })
        yield* receiveUntil(conn, `sync-${index}`, text)
      }
      for (const conn of connections) {
        yield* conn.send({
          jsonrpc: "2.0",
          id: "last",
          method: "tools/call",
          params: { name: "add", arguments: { a: 1, b: 2 } }
        })
        expect(yield* receiveUntil(conn, "last", "the last call")).toMatchObject({
          result: { content: [{ type: "text", text: "{\"result\":3}" }] }
        })
      }
    }), 30_000)
})

/** Header values: valid, wrong, empty, or random printable text (what node:http lets a client send). */
const headerText = fc.string({
  maxLength: 30,
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c))
})

/** Mostly `usual`, sometimes one of `odd`, now and then random text: so that most requests get past the checks. */
const sometimes = <A, B>(usual: fc.Arbitrary<A>, odd: fc.Arbitrary<B>, text: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 8, arbitrary: usual }, { weight: 1, arbitrary: odd }, { weight: 1, arbitrary: text })

describe("fuzz: the HTTP front door on node:http", () => {
  it.scopedLive(
    "never answers 5xx, never with a stack or a path, and still serves a new session",
    () =>
      Effect.gen(function*() {
        const { url } = yield* serveHttp(TestServer, {
          maxBodyBytes: 64 * 1024,
          maxBatchEntries: 8,
          maxRequestsPerSession: 20,
          shutdownGracePeriod: "0 millis"
        })
        // Sessions a DELETE among the samples ends are opened again, at the same place.
        const versions = ["2025-11-25", "2025-03-26"] as const
        const sessions = yield* promise(() => Promise.all(versions.map((version) => openSession(url, version))))
        const modern = sessions[0]!
        const request = fc.record({
          method: fc.oneof(
            { weight: 12, arbitrary: fc.constant("POST") },
            { weight: 2, arbitrary: fc.constant("GET") },
            { weight: 1, arbitrary: fc.constantFrom("DELETE", "PUT", "PATCH", "OPTIONS", "HEAD") }
          ),
          session: fc.oneof(
            { weight: 8, arbitrary: fc.constantFrom(0, 1) },
            { weight: 1, arbitrary: fc.constantFrom(undefined, "", "nope", `${modern.sessionId}x`) }
          ),
          accept: sometimes(
            fc.constant(JSON_AND_SSE.accept),
            fc.constantFrom("application/json", "text/event-stream", "*/*", ""),
            headerText
          ),
          contentType: sometimes(
            fc.constant("application/json"),
            fc.constantFrom("application/json; charset=utf-8", "text/plain"),
            headerText
          ),
          version: sometimes(fc.constant(null), fc.constantFrom("2025-11-25", "2025-03-26", "2024-11-05"), headerText),
          lastEventId: sometimes(
            fc.constant(null),
            fc.constantFrom(`${modern.sessionId}-0/0`, `${modern.sessionId}-9/3`),
            headerText
          ),
          origin: sometimes(
            fc.constant(null),
            fc.constantFrom("http://127.0.0.1", "http://evil.example", "null"),
            headerText
          ),
          body: fc.oneof({ weight: 8, arbitrary: frame }, { weight: 1, arbitrary: fc.constant("x".repeat(70 * 1024)) })
        })
        const samples = fc.sample(request, { numRuns: 250, seed: 8_2026 })
        for (const sample of samples) {
          const headers: Record<string, string> = { accept: sample.accept, "content-type": sample.contentType }
          const session = typeof sample.session === "number" ? sessions[sample.session]!.sessionId : sample.session
          if (session !== undefined) headers["mcp-session-id"] = session
          if (sample.version !== null) headers["mcp-protocol-version"] = sample.version
          if (sample.lastEventId !== null) headers["last-event-id"] = sample.lastEventId
          if (sample.origin !== null) headers.origin = sample.origin
          const body = sample.method === "GET" || sample.method === "HEAD" ? undefined : sample.body
          // SSE responses stay open: the read stops after a moment, which decides nothing but when to move on.
          const response = yield* promise(() =>
            raw(url, { method: sample.method, headers, ...(body === undefined ? {} : { body }), readFor: 100 })
          )
          const label = `${sample.method} ${JSON.stringify(headers)} ${
            String(body).slice(0, 200)
          } => ${response.status} ${response.body.slice(0, 300)}`
          expect(response.status, label).toBeLessThan(500)
          expect(response.status, label).toBeGreaterThanOrEqual(200)
          expectNoLeak(response.body, label)
          expect(response.body, label).not.toMatch(/"code":-32603/)
          if (sample.method === "DELETE" && typeof sample.session === "number" && response.status === 200) {
            sessions[sample.session] = yield* promise(() => openSession(url, versions[sample.session as 0 | 1]))
          }
        }
        const fresh = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
        expect(fresh.status).toBe(200)
        const headers = { ...JSON_AND_SSE, "mcp-session-id": String(fresh.headers["mcp-session-id"]) }
        const ping = yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: "ping", method: "ping" } }))
        expect(JSON.parse(ping.body)).toEqual({ jsonrpc: "2.0", id: "ping", result: {} })
      }),
    30_000
  )
})
