/**
 * Middleware: an audit log around every request, a rate limit and timing
 * around tool calls, and a check on who the client is. Each is a layer, with
 * services of its own (the audit log is a server-wide store that a resource
 * reads back).
 *
 *   npx tsx examples/middleware.ts
 */
import { Clock, Context, Duration, Effect, Layer, Ref, Schema } from "effect"
import { McpError, McpServer, RequestContext } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"

/** Where audit entries go: a server-wide store here; a database or a log shipper in real life. */
class AuditLog extends Context.Tag("AuditLog")<AuditLog, Ref.Ref<ReadonlyArray<string>>>() {}

const AuditLogLive = Layer.effect(AuditLog, Ref.make<ReadonlyArray<string>>([]))

// Outermost (registered first): every request the server answers, with who asked and how it ended.
const Audit = McpServer.middleware((next, info) =>
  Effect.gen(function*() {
    const audit = yield* AuditLog
    const ctx = yield* RequestContext.current
    const who = ctx.auth?.subject ?? ctx.clientInfo?.name ?? "unknown"
    const exit = yield* Effect.exit(next)
    const what = [info.method, info.name, info.arguments && JSON.stringify(info.arguments)].filter(Boolean).join(" ")
    yield* Ref.update(audit, (entries) => [...entries, `${who}: ${what} -> ${exit._tag}`])
    return yield* exit
  })
)

// Refuses clients that do not say who they are.
const KnownClients = McpServer.middleware((next) =>
  Effect.flatMap(RequestContext.current, (ctx) =>
    ctx.clientInfo === undefined && ctx.auth === undefined
      ? Effect.fail(McpError.McpError.invalidRequest("unknown client"))
      : next)
)

// At most 10 tool calls per 10 seconds across the server: a JSON-RPC error beyond that.
const RateLimit = Layer.unwrapEffect(
  Effect.map(
    Ref.make<ReadonlyArray<number>>([]),
    (recent) =>
      McpServer.toolMiddleware((next) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const allowed = yield* Ref.modify(recent, (times) => {
            const window = times.filter((t) => now - t < 10_000)
            return window.length < 10 ? [true, [...window, now]] : [false, window]
          })
          if (!allowed) {
            return yield* new McpError.McpError({ code: -32000, message: "Rate limit exceeded: 10 calls per 10 s" })
          }
          return yield* next
        })
      )
  )
)

// Innermost: how long the tool itself took, in the result's _meta.
const Timing = McpServer.toolMiddleware((next) =>
  Effect.map(Effect.timed(next), ([duration, result]) => ({
    ...result,
    _meta: { ...result._meta, "example.com/durationMs": Duration.toMillis(duration) }
  }))
)

const Add = McpServer.tool("add", {
  description: "Add two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
}, ({ a, b }) => Effect.succeed(a + b))

const Log = McpServer.resource(
  "audit://log",
  { description: "The audit log", mimeType: "application/json" },
  () => Effect.flatMap(AuditLog, (audit) => Effect.map(Ref.get(audit), (entries) => JSON.stringify(entries, null, 2)))
)

export const MiddlewareServer = Layer.mergeAll(Add, Log).pipe(
  // Registration order is nesting order, and a chain of provideMerge builds from the bottom up: Audit is
  // registered first (outermost) and wraps KnownClients, which wraps RateLimit, which wraps Timing.
  Layer.provideMerge(Timing),
  Layer.provideMerge(RateLimit),
  Layer.provideMerge(KnownClients),
  Layer.provideMerge(Audit),
  Layer.provideMerge(McpServer.layer({ name: "Middleware", version: "1.0.0" })),
  Layer.provide(AuditLogLive)
)

if (import.meta.url === `file://${process.argv[1]}`) NodeStdio.run(MiddlewareServer)

/** The server layer, which `npx mcp-effect run examples/middleware.ts` serves. */
export default MiddlewareServer
