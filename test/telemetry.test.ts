/**
 * OpenTelemetry (`McpTelemetry`): the span trees of calls through our client
 * and our server, exported by `@effect/opentelemetry` to an in-memory
 * exporter, trace context in `params._meta`, and the duration histograms.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { describe, expect, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Deferred, Effect, Fiber, Layer, Metric, Schema } from "effect"
import { McpClient, McpError, McpServer, McpTelemetry, McpTest, RequestContext } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"

/** A tracer exporting to memory, for one test. */
const tracing = () => {
  const exporter = new InMemorySpanExporter()
  const layer = NodeSdk.layer(() => ({
    resource: { serviceName: "telemetry-test" },
    spanProcessor: new SimpleSpanProcessor(exporter)
  }))
  return { exporter, layer }
}

const Summarize = McpServer.tool(
  "summarize",
  { parameters: { text: Schema.String } },
  ({ text }) =>
    RequestContext.sample(`Summarize: ${text}`, { maxTokens: 5 }).pipe(
      Effect.as("summarized"),
      Effect.withSpan("summarize.work")
    )
)

const Refuse = McpServer.tool("refuse", {}, () => Effect.fail("no"))

const Crash = McpServer.resource("mem://crash", {}, () => Effect.die(new Error("the disk is on fire")))

const Chatty = McpServer.tool("chatty", {}, () => Effect.as(RequestContext.log("info", "working"), "done"))

const Confirm = McpServer.tool("confirm", {}, () =>
  Effect.map(
    RequestContext.elicit("Go ahead?", Schema.Struct({ ok: Schema.Boolean })),
    (answer) => answer.action
  ))

const Secret = McpServer.tool(
  "secret",
  { parameters: { password: Schema.String } },
  () => Effect.succeed("kept")
)

const tools = Layer.mergeAll(Summarize, Refuse, Crash, Chatty, Confirm, Secret)
const Server = tools.pipe(Layer.provideMerge(McpServer.layer({ name: "traced", version: "1.0.0" })))

const sampling = () =>
  Effect.succeed({ role: "assistant" as const, content: { type: "text" as const, text: "short" }, model: "m" })

const find = (spans: ReadonlyArray<ReadableSpan>, name: string, kind?: SpanKind): ReadableSpan => {
  const span = spans.find((span) => span.name === name && (kind === undefined || span.kind === kind))
  if (span === undefined) throw new Error(`no span ${name}: ${spans.map((span) => span.name).join(", ")}`)
  return span
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId

/** Waits, without a clock, until the exporter holds a span matching `predicate` (a server span ends after its answer). */
const until = (exporter: InMemorySpanExporter, predicate: (span: ReadableSpan) => boolean) =>
  Effect.suspend(() => Effect.succeed(exporter.getFinishedSpans().find(predicate))).pipe(
    Effect.tap(() => Effect.yieldNow()),
    Effect.repeat({ until: (span) => span !== undefined, times: 1000 }),
    Effect.map((span) => {
      if (span === undefined) throw new Error("the span never ended")
      return span
    })
  )

describe("McpTelemetry", () => {
  it.scoped("traces a tool call that samples: client, server, the handler's span, and the round trip back", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, { sampling })
      const result = yield* client.callTool("summarize", { text: "a long text" }).pipe(Effect.withSpan("agent"))
      expect(result.isError).toBeFalsy()
      const spans = exporter.getFinishedSpans()
      const agent = find(spans, "agent")
      const call = find(spans, "tools/call summarize", SpanKind.CLIENT)
      const served = find(spans, "tools/call summarize", SpanKind.SERVER)
      const work = find(spans, "summarize.work")
      const asked = find(spans, "sampling/createMessage", SpanKind.CLIENT)
      const answered = find(spans, "sampling/createMessage", SpanKind.SERVER)
      // One trace, each span under the one before it.
      for (const span of [call, served, work, asked, answered]) {
        expect(span.spanContext().traceId).toBe(agent.spanContext().traceId)
      }
      expect(parentOf(call)).toBe(agent.spanContext().spanId)
      expect(parentOf(served)).toBe(call.spanContext().spanId)
      expect(parentOf(work)).toBe(served.spanContext().spanId)
      expect(parentOf(asked)).toBe(work.spanContext().spanId)
      expect(parentOf(answered)).toBe(asked.spanContext().spanId)
      expect(served.attributes).toMatchObject({
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "summarize",
        "gen_ai.operation.name": "execute_tool",
        "mcp.protocol.version": "2025-11-25",
        "jsonrpc.request.id": expect.any(String)
      })
      expect(call.attributes["jsonrpc.request.id"]).toBe(served.attributes["jsonrpc.request.id"])
      expect(served.status.code).toBe(SpanStatusCode.OK)
      // Arguments and results are not recorded unless asked for.
      expect(served.attributes["gen_ai.tool.call.arguments"]).toBeUndefined()
      expect(call.attributes["gen_ai.tool.call.result"]).toBeUndefined()
      // The handshake is traced too, as operations of their own.
      expect(find(spans, "initialize", SpanKind.SERVER).attributes["mcp.method.name"]).toBe("initialize")
      expect(find(spans, "notifications/initialized", SpanKind.SERVER)).toBeDefined()
    }).pipe(Effect.provide(layer))
  })

  it.scoped("records a failed call on both sides: its JSON-RPC code, a tool error, and a defect's real cause", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server)
      const missing = yield* Effect.flip(client.callTool("missing"))
      expect(missing).toBeInstanceOf(McpError.McpError)
      yield* client.callTool("refuse")
      yield* Effect.flip(client.readResource("mem://crash"))
      const spans = exporter.getFinishedSpans()
      for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
        const unknown = find(spans, "tools/call missing", kind)
        expect(unknown.attributes).toMatchObject({ "error.type": "-32602", "rpc.response.status_code": "-32602" })
        expect(unknown.status).toEqual({ code: SpanStatusCode.ERROR, message: (missing as McpError.McpError).message })
        const refused = find(spans, "tools/call refuse", kind)
        expect(refused.attributes["error.type"]).toBe("tool_error")
        expect(refused.status.code).toBe(SpanStatusCode.ERROR)
        expect(find(spans, "resources/read", kind).attributes).toMatchObject({
          "error.type": "-32603",
          "mcp.resource.uri": "mem://crash"
        })
      }
      // The client was told only "Internal error"; the operator's span says what happened.
      const crashed = find(spans, "resources/read", SpanKind.SERVER)
      expect(crashed.status.message).toBe("Internal error")
      expect(crashed.events).toContainEqual(expect.objectContaining({
        name: "exception",
        attributes: expect.objectContaining({ "exception.message": "the disk is on fire" })
      }))
    }).pipe(Effect.provide(layer))
  })

  it.scoped("ends a cancelled call's spans as cancelled, on the client and on the server", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const Wait = McpServer.tool("wait", {}, () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never))
      const client = yield* McpTest.makeClient(
        Wait.pipe(Layer.provideMerge(McpServer.layer({ name: "s", version: "1" })))
      )
      const call = yield* Effect.fork(client.callTool("wait"))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(call)
      const served = yield* until(exporter, (span) => span.name === "tools/call wait" && span.kind === SpanKind.SERVER)
      expect(served.attributes["error.type"]).toBe("cancelled")
      const sent = find(exporter.getFinishedSpans(), "tools/call wait", SpanKind.CLIENT)
      expect(sent.attributes["error.type"]).toBe("cancelled")
      expect(parentOf(served)).toBe(sent.spanContext().spanId)
      // The cancellation is a notification, traced under the call it cancels.
      const cancelled = yield* until(
        exporter,
        (span) => span.name === "notifications/cancelled" && span.kind === SpanKind.SERVER
      )
      expect(cancelled.spanContext().traceId).toBe(sent.spanContext().traceId)
    }).pipe(Effect.provide(layer))
  })

  it.scopedLive("continues one trace from the agent through our client and our server over HTTP, in 2026-07-28", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const { url } = yield* NodeHttp.serve(Server, { port: 0 })
      const client = yield* NodeHttp.connect(url).pipe(
        Effect.provideService(McpClient.Elicitation, {
          elicit: () => Effect.succeed({ action: "accept" as const, content: { ok: true } }),
          url: false
        })
      )
      expect(client.protocolVersion).toBe("2026-07-28")
      const result = yield* client.callTool("confirm").pipe(Effect.withSpan("agent"))
      expect(result.content).toEqual([{ type: "text", text: "accept" }])
      const spans = exporter.getFinishedSpans()
      const agent = find(spans, "agent")
      const trace = spans.filter((span) => span.spanContext().traceId === agent.spanContext().traceId)
      // Two rounds: the first asks, the client answers, the retry completes.
      const calls = trace.filter((span) => span.name === "tools/call confirm" && span.kind === SpanKind.CLIENT)
      const served = trace.filter((span) => span.name === "tools/call confirm" && span.kind === SpanKind.SERVER)
      expect(calls).toHaveLength(2)
      expect(served).toHaveLength(2)
      for (const call of calls) expect(parentOf(call)).toBe(agent.spanContext().spanId)
      const answered = find(trace, "elicitation/create", SpanKind.SERVER)
      // The question carried the context of the server span that asked it.
      expect(served.map((span) => span.spanContext().spanId)).toContain(parentOf(answered))
      for (const span of served) {
        expect(span.attributes).toMatchObject({
          "mcp.protocol.version": "2026-07-28",
          "network.transport": "tcp",
          "network.protocol.name": "http"
        })
        expect(calls.map((call) => call.spanContext().spanId)).toContain(parentOf(span))
      }
      expect(calls[0].attributes).toMatchObject({ "server.address": "127.0.0.1", "server.port": expect.any(Number) })
    }).pipe(Effect.provide(layer))
  })

  it.scopedLive("names the HTTP session on both sides of a handshake-era call", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const { url } = yield* NodeHttp.serve(Server, { port: 0 })
      const client = yield* NodeHttp.connect(url, { protocolVersion: "2025-11-25", http: { openGetStream: false } })
      yield* client.callTool("refuse")
      const spans = exporter.getFinishedSpans()
      const sent = find(spans, "tools/call refuse", SpanKind.CLIENT)
      const served = find(spans, "tools/call refuse", SpanKind.SERVER)
      expect(sent.attributes["mcp.session.id"]).toMatch(/^[0-9a-f-]{16,}$/)
      expect(served.attributes).toMatchObject({
        "mcp.session.id": sent.attributes["mcp.session.id"],
        "mcp.protocol.version": "2025-11-25",
        "network.transport": "tcp",
        "client.address": expect.any(String)
      })
    }).pipe(Effect.provide(layer))
  })

  it.scoped("takes a client's trace context from _meta and hands its trace state on with the server's requests", () => {
    const { exporter, layer } = tracing()
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    return Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.send({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: { sampling: {} },
          clientInfo: { name: "raw", version: "1" }
        }
      })
      yield* conn.receive
      yield* conn.send({ jsonrpc: "2.0", method: "notifications/initialized" })
      yield* conn.send({
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: {
          name: "summarize",
          arguments: { text: "t" },
          _meta: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, tracestate: "rojo=00f067aa0ba902b7" }
        }
      })
      const request = (yield* conn.receive) as { id: number; params: { _meta: Record<string, string> } }
      expect(request.params._meta.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
      expect(request.params._meta.tracestate).toBe("rojo=00f067aa0ba902b7")
      yield* conn.send({ jsonrpc: "2.0", id: request.id, result: yield* sampling() })
      yield* conn.receive
      const served = find(exporter.getFinishedSpans(), "tools/call summarize", SpanKind.SERVER)
      expect(served.spanContext().traceId).toBe(traceId)
      expect(parentOf(served)).toBe("00f067aa0ba902b7")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("ignores a malformed traceparent: the server span starts a trace of its own", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      yield* conn.initialize()
      for (const traceparent of ["garbage", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`, 42]) {
        yield* conn.send({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "refuse", _meta: { traceparent } }
        })
        expect(yield* conn.receive).toMatchObject({ id: 1, result: { isError: true } })
      }
      const served = exporter.getFinishedSpans().filter((span) => span.name === "tools/call refuse")
      expect(served).toHaveLength(3)
      for (const span of served) expect(span.parentSpanContext).toBeUndefined()
    }).pipe(Effect.provide(layer))
  })

  it.scoped("puts trace context in the notifications a handler sends, and none when no tracer is installed", () =>
    Effect.gen(function*() {
      const logOf = (conn: McpTest.RawConnection) =>
        Effect.gen(function*() {
          yield* conn.initialize()
          yield* conn.send({ jsonrpc: "2.0", id: 1, method: "logging/setLevel", params: { level: "debug" } })
          yield* conn.receive
          yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "chatty" } })
          return (yield* conn.receive) as { method: string; params: Record<string, unknown> }
        })
      const plain = yield* logOf(yield* McpTest.raw(Server))
      expect(plain.method).toBe("notifications/message")
      expect(plain.params._meta).toBeUndefined()
      const { exporter, layer } = tracing()
      // Read before the layer ends: the exporter forgets its spans when the tracer shuts down.
      yield* Effect.gen(function*() {
        const traced = yield* logOf(yield* McpTest.raw(Server))
        expect(traced.params._meta).toMatchObject({ traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-/) })
        const served = yield* until(exporter, (span) => span.name === "tools/call chatty")
        const sent = find(exporter.getFinishedSpans(), "notifications/message", SpanKind.CLIENT)
        expect(parentOf(sent)).toBe(served.spanContext().spanId)
      }).pipe(Effect.provide(layer))
    }))

  it.scoped("records tool arguments and results only when asked to", () => {
    const { exporter, layer } = tracing()
    return Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server)
      yield* client.callTool("secret", { password: "hunter2" })
      const served = find(exporter.getFinishedSpans(), "tools/call secret", SpanKind.SERVER)
      expect(JSON.stringify(served.attributes)).not.toContain("hunter2")
      exporter.reset()
      yield* Effect.provide(
        Effect.flatMap(McpTest.makeClient(Server), (client) => client.callTool("secret", { password: "hunter2" })),
        McpTelemetry.layer({ recordArguments: true, recordResults: true })
      )
      const recorded = find(exporter.getFinishedSpans(), "tools/call secret", SpanKind.SERVER)
      expect(JSON.stringify(recorded.attributes["gen_ai.tool.call.arguments"])).toContain("hunter2")
      expect(JSON.stringify(recorded.attributes["gen_ai.tool.call.result"])).toContain("kept")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("records the duration histograms with the conventions' attributes, and metrics alone on request", () =>
    Effect.gen(function*() {
      const histogramOf = (name: string, tags: Record<string, string>) =>
        Effect.map(Metric.snapshot, (pairs) =>
          pairs.filter((pair) =>
            pair.metricKey.name === name &&
            Object.entries(tags).every(([key, value]) =>
              pair.metricKey.tags.some((tag) => tag.key === key && tag.value === value)
            )
          ).reduce((count, pair) => count + ((pair.metricState as { count?: number }).count ?? 0), 0))
      const calls = { "mcp.method.name": "tools/call", "gen_ai.tool.name": "refuse", "error.type": "tool_error" }
      const before = yield* histogramOf("mcp.server.operation.duration", calls)
      const sessionsBefore = yield* histogramOf("mcp.server.session.duration", {})
      // No tracer: metrics only because they are asked for.
      yield* Effect.scoped(
        Effect.flatMap(McpTest.makeClient(Server), (client) => client.callTool("refuse"))
      ).pipe(Effect.provide(McpTelemetry.layer({ metrics: true })))
      expect(yield* histogramOf("mcp.server.operation.duration", calls)).toBe(before + 1)
      expect(yield* histogramOf("mcp.client.operation.duration", calls)).toBeGreaterThan(0)
      expect(yield* histogramOf("mcp.server.session.duration", {})).toBe(sessionsBefore + 1)
      expect(yield* histogramOf("mcp.client.session.duration", { unit: "s" })).toBeGreaterThan(0)
      // Neither asked for nor a tracer: nothing recorded.
      yield* Effect.scoped(Effect.flatMap(McpTest.makeClient(Server), (client) => client.callTool("refuse")))
      expect(yield* histogramOf("mcp.server.operation.duration", calls)).toBe(before + 1)
    }))

  it.scoped("traces under Effect's own tracer too when asked to", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server).pipe(Effect.provide(McpTelemetry.layer({ tracing: true })))
      yield* conn.initialize()
      yield* conn.send({ jsonrpc: "2.0", id: 1, method: "logging/setLevel", params: { level: "debug" } })
      yield* conn.receive
      yield* conn.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "chatty" } })
      const log = (yield* conn.receive) as { params: Record<string, unknown> }
      expect(log.params._meta).toMatchObject({
        traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      })
    }))
})
