import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Ref, Schema } from "effect"
import { McpServer, McpTest, RequestContext } from "mcp-effect"

const Answer = Schema.Struct({ value: Schema.String })

/**
 * Elicits twice and samples once, with a side effect before each question that must happen once however many
 * times the handler replays.
 */
const makeServer = (runs: Ref.Ref<number>, effects: Ref.Ref<number>) => {
  const Interview = McpServer.tool(
    "interview",
    { parameters: { topic: Schema.String } },
    ({ topic }) =>
      Effect.gen(function*() {
        yield* Ref.update(runs, (n) => n + 1)
        const ticket = yield* RequestContext.once("ticket", Ref.updateAndGet(effects, (n) => n + 1))
        const first = yield* RequestContext.elicit(`First, about ${topic}?`, Answer)
        const second = yield* RequestContext.elicit("Second?", Answer)
        const sampled = yield* RequestContext.sample("Summarize", { maxTokens: 10 })
        const block = Array.isArray(sampled.content) ? sampled.content[0] : sampled.content
        const summary = block?.type === "text" ? block.text : "?"
        const a = first.action === "accept" ? first.content.value : first.action
        const b = second.action === "accept" ? second.content.value : second.action
        return `#${ticket}: ${a}, ${b}, ${summary}`
      })
  )
  const Both = McpServer.tool("both", {}, () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([
        RequestContext.elicit("A?", Answer),
        RequestContext.listRoots
      ], { concurrency: "unbounded" })
      return `${a.action} ${b.length}`
    }))
  const NeedsSampling = McpServer.tool(
    "needs_sampling",
    {},
    () => Effect.map(RequestContext.sample("hi", { maxTokens: 5 }), () => "sampled")
  )
  return Layer.mergeAll(Interview, Both, NeedsSampling).pipe(
    Layer.provideMerge(McpServer.layer({ name: "rounds", version: "1.0.0" }))
  )
}

const CAPABILITIES = { elicitation: { form: {} }, sampling: {}, roots: {} }
const meta = (capabilities: object = CAPABILITIES) => ({
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": capabilities
})

const call = (id: number, name: string, args: object, extra: object = {}, capabilities?: object) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args, ...extra, _meta: meta(capabilities) }
})

const setup = Effect.gen(function*() {
  const runs = yield* Ref.make(0)
  const effects = yield* Ref.make(0)
  const conn = yield* McpTest.raw(makeServer(runs, effects))
  const exchange = (message: unknown) => Effect.zipRight(conn.send(message), conn.receive) as Effect.Effect<any>
  return { runs, effects, exchange }
})

const accept = (value: string) => ({ action: "accept", content: { value } })
const SAMPLED = { role: "assistant", content: { type: "text", text: "short" }, model: "m", stopReason: "endTurn" }

describe("multi-round-trip requests (2026-07-28)", () => {
  it.scoped("an empty MCP_REQUEST_STATE_KEY is as unset: rounds are signed with a key of this process", () =>
    Effect.gen(function*() {
      const { exchange } = yield* setup
      const first = (yield* exchange(call(1, "interview", { topic: "tea" }))).result
      expect(first.resultType).toBe("input_required")
      const second = (yield* exchange(call(2, "interview", { topic: "tea" }, {
        inputResponses: { "elicitation-1": accept("green") },
        requestState: first.requestState
      }))).result
      expect(Object.keys(second.inputRequests)).toEqual(["elicitation-2"])
    }).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["MCP_REQUEST_STATE_KEY", ""]])))))

  it.scoped("turn elicitation and sampling into rounds, replaying the handler with the answers so far", () =>
    Effect.gen(function*() {
      const { effects, exchange, runs } = yield* setup
      const first = (yield* exchange(call(1, "interview", { topic: "tea" }))).result
      expect(first.resultType).toBe("input_required")
      // Like every modern result it names the server; an interim result has no caching hint.
      expect(first._meta).toEqual({ "io.modelcontextprotocol/serverInfo": { name: "rounds", version: "1.0.0" } })
      expect(first).not.toHaveProperty("ttlMs")
      expect(Object.keys(first.inputRequests)).toEqual(["elicitation-1"])
      expect(first.inputRequests["elicitation-1"]).toMatchObject({
        method: "elicitation/create",
        params: { mode: "form", message: "First, about tea?" }
      })
      const second = (yield* exchange(call(2, "interview", { topic: "tea" }, {
        inputResponses: { "elicitation-1": accept("green") },
        requestState: first.requestState
      }))).result
      expect(Object.keys(second.inputRequests)).toEqual(["elicitation-2"])
      const third = (yield* exchange(call(3, "interview", { topic: "tea" }, {
        inputResponses: { "elicitation-2": accept("hot") },
        requestState: second.requestState
      }))).result
      expect(third.inputRequests["sampling-1"]).toMatchObject({ method: "sampling/createMessage" })
      const done = (yield* exchange(call(4, "interview", { topic: "tea" }, {
        inputResponses: { "sampling-1": SAMPLED },
        requestState: third.requestState
      }))).result
      expect(done).toMatchObject({ resultType: "complete", content: [{ type: "text", text: "#1: green, hot, short" }] })
      expect(yield* Ref.get(runs)).toBe(4)
      // The step in `once` ran on the first run only.
      expect(yield* Ref.get(effects)).toBe(1)
    }))

  it.scoped("asks again for an answer a retry left out, and never completes without it", () =>
    Effect.gen(function*() {
      const { exchange } = yield* setup
      const first = (yield* exchange(call(1, "interview", { topic: "x" }))).result
      const again = (yield* exchange(call(2, "interview", { topic: "x" }, {
        inputResponses: { "unrelated": accept("?") },
        requestState: first.requestState
      }))).result
      expect(again.resultType).toBe("input_required")
      expect(Object.keys(again.inputRequests)).toEqual(["elicitation-1"])
    }))

  it.scoped("sends input requests started together in one round", () =>
    Effect.gen(function*() {
      const { exchange } = yield* setup
      const round = (yield* exchange(call(1, "both", {}))).result
      expect(Object.keys(round.inputRequests).sort()).toEqual(["elicitation-1", "roots-1"])
      const done = (yield* exchange(call(2, "both", {}, {
        inputResponses: { "elicitation-1": { action: "decline" }, "roots-1": { roots: [{ uri: "file:///a" }] } },
        requestState: round.requestState
      }))).result
      expect(done.content[0].text).toBe("decline 1")
    }))

  it.scoped("refuses a tampered state, and a state minted for other arguments or another tool, with -32602", () =>
    Effect.gen(function*() {
      const { exchange } = yield* setup
      const { requestState } = (yield* exchange(call(1, "interview", { topic: "a" }))).result
      const [payload, signature] = requestState.split(".")
      const forged = `${Buffer.from(JSON.stringify({ b: "x" })).toString("base64url")}.${signature}`
      const cases = [
        call(2, "interview", { topic: "a" }, { requestState: `${payload}.${signature.slice(1)}x` }),
        call(3, "interview", { topic: "a" }, { requestState: forged }),
        call(4, "interview", { topic: "b" }, { requestState }),
        call(5, "both", {}, { requestState }),
        call(6, "interview", { topic: "a" }, { requestState: 42 }),
        call(7, "interview", { topic: "a" }, { requestState, inputResponses: { "elicitation-1": "yes" } })
      ]
      for (const message of cases) {
        const response = yield* exchange(message)
        expect(response.error?.code).toBe(-32602)
      }
    }))

  it.scoped("answers -32021 with the capability to declare when the request lacks it, before asking anything", () =>
    Effect.gen(function*() {
      const { exchange } = yield* setup
      const response = yield* exchange(call(1, "needs_sampling", {}, {}, {}))
      expect(response.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } })
    }))

  it.scoped("serves the same handler to a handshake-era client with live requests, running it once", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const effects = yield* Ref.make(0)
      const answers = ["green", "hot"]
      const client = yield* McpTest.makeClient(makeServer(runs, effects), {
        elicitation: () => Effect.succeed(accept(answers.shift()!) as { action: "accept"; content: { value: string } }),
        sampling: () => Effect.succeed(SAMPLED as any)
      })
      const result = yield* client.callTool("interview", { topic: "tea" })
      expect(result.content).toEqual([{ type: "text", text: "#1: green, hot, short" }])
      expect(yield* Ref.get(runs)).toBe(1)
    }))
})
