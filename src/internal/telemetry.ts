/**
 * Telemetry of one connection (see `McpTelemetry.ts`): spans and durations
 * after the semantic conventions for MCP, and trace context in
 * `params._meta`. A connection resolves its `Telemetry` once, when it opens;
 * with nothing to record it has none, and the per-message path pays one
 * `undefined` check. Spans are made from plain callbacks (a message arrives
 * outside any fiber), so this talks to the `Tracer` directly, as Effect's own
 * `makeSpan` does.
 */
import type { Clock } from "effect"
import {
  Cause,
  Context,
  Effect,
  Exit,
  Fiber,
  FiberRef,
  Metric,
  MetricBoundaries,
  MetricLabel,
  Option,
  Runtime,
  Tracer
} from "effect"
import type { RequestError } from "../McpError.js"
import { McpError } from "../McpError.js"
import type { RequestId } from "../McpSchema.js"
import { Attributes, McpTelemetry, MetricNames } from "../McpTelemetry.js"
import type { Options } from "../McpTelemetry.js"
import type { MessageExtras, TransportTelemetry } from "../Transport.js"
import { isRecord } from "./guards.js"

/** Which end of the protocol a connection is: it names the session histogram. */
export type Role = "server" | "client"

/** What a connection knows of itself when an operation ends. */
export interface Facts {
  readonly sessionId: string | undefined
  readonly protocolVersion: string | undefined
}

/** The conventions' bucket boundaries, in seconds. */
const BOUNDARIES = MetricBoundaries.fromIterable([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300])

const histogram = (name: string, description: string) => Metric.histogram(name, BOUNDARIES, description)

// The `unit` label is how `@effect/opentelemetry` learns an instrument's unit. In every label set, not added with
// `Metric.tagged`: that makes a new array per update, and Effect caches a metric's hook by the array.
const UNIT = MetricLabel.make("unit", "s")

const OPERATION = {
  server: histogram(
    MetricNames.serverOperationDuration,
    "MCP request or notification duration, as seen by its receiver"
  ),
  client: histogram(MetricNames.clientOperationDuration, "MCP request or notification duration, as seen by its sender")
}

const SESSION = {
  server: histogram(MetricNames.serverSessionDuration, "The duration of the MCP session as observed on the MCP server"),
  client: histogram(MetricNames.clientSessionDuration, "The duration of the MCP session as observed on the MCP client")
}

/** Attributes that name an operation's kind, not one instance of it: the histograms' labels. */
const METRIC_KEYS: ReadonlyArray<string> = [
  Attributes.methodName,
  Attributes.toolName,
  Attributes.promptName,
  Attributes.operationName,
  Attributes.errorType,
  Attributes.statusCode,
  Attributes.protocolVersion,
  Attributes.networkTransport,
  Attributes.networkProtocolName,
  Attributes.networkProtocolVersion,
  Attributes.serverAddress,
  Attributes.serverPort
]

/**
 * Label sets made so far, by their values. One array per set, because
 * Effect caches a metric's hook by the identity of the labels it is given:
 * a new array per update made a metric key (and hashed it) each time.
 */
const labelSets = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

/**
 * At most this many label sets. A hostile client names the methods, tools
 * and versions it likes; past the limit, an operation is counted under
 * `mcp.method.name` = `_OTHER` alone, rather than growing the registry.
 */
const MAX_LABEL_SETS = 2000

const OVERFLOW: ReadonlyArray<MetricLabel.MetricLabel> = [MetricLabel.make(Attributes.methodName, "_OTHER"), UNIT]

/** The histogram labels of `attributes`. */
const labelsOf = (attributes: Readonly<Record<string, unknown>>): ReadonlyArray<MetricLabel.MetricLabel> => {
  let key = ""
  for (const name of METRIC_KEYS) {
    const value = attributes[name]
    if (value !== undefined) key += `${name}=${String(value)}\n`
  }
  let labels = labelSets.get(key)
  if (labels === undefined) {
    if (labelSets.size >= MAX_LABEL_SETS) return OVERFLOW
    labels = METRIC_KEYS.flatMap((name) =>
      attributes[name] === undefined ? [] : [MetricLabel.make(name, String(attributes[name]))]
    ).concat(UNIT)
    labelSets.set(key, labels)
  }
  return labels
}

const RESOURCE_METHODS: ReadonlySet<string> = new Set([
  "resources/read",
  "resources/subscribe",
  "resources/unsubscribe",
  "notifications/resources/updated"
])

/** The `_meta` key of a 2026-07-28 request's protocol version (`internal/modern`'s `Meta`). */
const MODERN_VERSION = "io.modelcontextprotocol/protocolVersion"

/** The W3C trace context an incoming message carried beside `traceparent`, handed on unchanged. */
class Propagated extends Context.Tag("mcp-effect/Telemetry/Propagated")<
  Propagated,
  { readonly tracestate: string | undefined; readonly baggage: string | undefined }
>() {}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/** The remote parent a message's `_meta` names, if it names a valid one (W3C Trace Context, level 1). */
const extract = (params: unknown): Tracer.ExternalSpan | undefined => {
  const meta = isRecord(params) && isRecord(params._meta) ? params._meta : undefined
  const header = meta?.traceparent
  if (typeof header !== "string") return undefined
  const match = TRACEPARENT.exec(header.trim())
  if (match === null) return undefined
  const [, version, traceId, spanId, flags, rest] = match
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined
  const tracestate = typeof meta?.tracestate === "string" ? meta.tracestate : undefined
  const baggage = typeof meta?.baggage === "string" ? meta.baggage : undefined
  return Tracer.externalSpan({
    traceId,
    spanId,
    sampled: (parseInt(flags, 16) & 1) === 1,
    context: tracestate === undefined && baggage === undefined
      ? Context.empty()
      : Context.make(Propagated, { tracestate, baggage })
  })
}

/** The trace state and baggage the nearest remote ancestor of `span` brought in. */
const propagatedOf = (span: Tracer.AnySpan) => {
  for (let current: Tracer.AnySpan | undefined = span; current !== undefined;) {
    if (current._tag === "ExternalSpan") return Context.getOption(current.context, Propagated)
    current = Option.getOrUndefined(current.parent)
  }
  return Option.none()
}

/** `params` with `span`'s context in its `_meta`, beside what the `_meta` already holds. */
const inject = (params: unknown, span: Tracer.AnySpan): Record<string, unknown> => {
  const own = isRecord(params) ? params : {}
  const meta: Record<string, unknown> = {
    ...(isRecord(own._meta) ? own._meta : {}),
    traceparent: `00-${span.traceId}-${span.spanId}-${span.sampled ? "01" : "00"}`
  }
  const propagated = propagatedOf(span)
  if (Option.isSome(propagated)) {
    if (propagated.value.tracestate !== undefined) meta.tracestate = propagated.value.tracestate
    if (propagated.value.baggage !== undefined) meta.baggage = propagated.value.baggage
  }
  return { ...own, _meta: meta }
}

/** `params` with the context of the calling fiber's span, if it has one. */
export const injectCurrent = (params: Record<string, unknown>): Effect.Effect<Record<string, unknown>> =>
  Effect.map(
    Effect.serviceOption(Tracer.ParentSpan),
    (span) => Option.isSome(span) ? inject(params, span.value) : params
  )

/** The span of the fiber running now, if a fiber runs and has one (a notification sent from a handler). */
const currentSpan = (): Option.Option<Tracer.AnySpan> => {
  const fiber = Fiber.getCurrentFiber()
  return Option.isSome(fiber)
    ? Context.getOption(fiber.value.getFiberRef(FiberRef.currentContext), Tracer.ParentSpan)
    : Option.none()
}

/** What a failed operation's span records as its exception: the JSON-RPC error's message, with no stack of ours. */
class OperationError extends Error {
  constructor(name: string, message: string) {
    super(message)
    this.name = name
    this.stack = `${name}: ${message}`
  }
}

/** How an operation ended: `undefined` for success. */
interface Failure {
  readonly type: string
  readonly code?: number | undefined
  readonly message: string
}

const CANCELLED: Failure = { type: "cancelled", message: "The request was cancelled" }

/** A response's failure: its JSON-RPC error, or a tool call's `isError` result. */
const responseFailure = (method: string, response: unknown): Failure | undefined => {
  if (!isRecord(response)) return undefined
  if (isRecord(response.error)) {
    const code = typeof response.error.code === "number" ? response.error.code : undefined
    const message = typeof response.error.message === "string" ? response.error.message : "Unknown error"
    return { type: code === undefined ? "_OTHER" : String(code), code, message }
  }
  return resultFailure(method, response.result)
}

const resultFailure = (method: string, result: unknown): Failure | undefined =>
  method === "tools/call" && isRecord(result) && result.isError === true
    ? { type: "tool_error", message: "The tool returned isError: true" }
    : undefined

/** A failed outgoing request: the peer's error, or what happened on our side. */
const requestFailure = (exit: Exit.Exit<unknown, RequestError>): Failure | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
  if (error instanceof McpError) return { type: String(error.code), code: error.code, message: error.message }
  if (error !== undefined) {
    return { type: error._tag === "RequestTimeoutError" ? "timeout" : "connection_closed", message: error.message }
  }
  return Cause.isInterruptedOnly(exit.cause) ? CANCELLED : { type: "_OTHER", message: "The request failed" }
}

let builtIn: Tracer.Tracer | undefined

/** Effect's own tracer, which keeps spans nobody reads: tracing stays off under it unless asked for. */
const isBuiltIn = (tracer: Tracer.Tracer) => tracer === (builtIn ??= Effect.runSync(Effect.tracer))

const resolve = Effect.all([Effect.tracer, FiberRef.get(FiberRef.currentTracerEnabled), Effect.clock])

/** What a runtime asks to record; resolved once per runtime (servers open sessions on one runtime). */
interface Resolved {
  readonly tracer: Tracer.Tracer | undefined
  readonly metrics: boolean
  readonly clock: Clock.Clock
  readonly options: Options
}

const resolvedByRuntime = new WeakMap<Runtime.Runtime<never>, Resolved | null>()

const resolveRuntime = (runtime: Runtime.Runtime<never>): Resolved | null => {
  const options = Context.get(runtime.context, McpTelemetry)
  if (options.tracing === false && options.metrics !== true) return null
  const [tracer, enabled, clock] = Runtime.runSync(runtime)(resolve)
  const tracing = options.tracing === true || (options.tracing !== false && enabled && !isBuiltIn(tracer))
  const metrics = options.metrics === true || (options.metrics !== false && tracing)
  return tracing || metrics ? { tracer: tracing ? tracer : undefined, metrics, clock, options } : null
}

/**
 * The telemetry of a connection on `runtime`, or `undefined` when there is
 * nothing to record (no tracer installed, no metrics asked for).
 */
export const make = (
  runtime: Runtime.Runtime<never>,
  role: Role,
  transport: TransportTelemetry | undefined,
  facts: Facts
): Telemetry | undefined => {
  let resolved = resolvedByRuntime.get(runtime)
  if (resolved === undefined) resolvedByRuntime.set(runtime, resolved = resolveRuntime(runtime))
  return resolved === null ? undefined : new Telemetry(resolved, role, facts, transport, runtime)
}

/** What telemetry records of a Streamable HTTP or HTTP+SSE connection. */
export const HTTP: TransportTelemetry = {
  attributes: { [Attributes.networkTransport]: "tcp", [Attributes.networkProtocolName]: "http" }
}

/** What telemetry records of an HTTP client's connection to `url`. */
export const httpClient = (url: string, sessionId?: () => string | undefined): TransportTelemetry => {
  const attributes: Record<string, string | number> = { ...HTTP.attributes }
  try {
    const parsed = new URL(url)
    attributes[Attributes.serverAddress] = parsed.hostname
    attributes[Attributes.serverPort] = parsed.port !== ""
      ? Number(parsed.port)
      : parsed.protocol === "https:"
      ? 443
      : 80
  } catch {
    // Not a URL: the request fails on its own, with its own message.
  }
  return { attributes, sessionId }
}

/** What telemetry records of a stdio connection. */
export const STDIO: TransportTelemetry = { attributes: { [Attributes.networkTransport]: "pipe" } }

/** The telemetry of one connection: what its operations share. */
export class Telemetry {
  private readonly opened: bigint
  /** The span the connection was opened under, if any: an incoming operation's parent, or its link. */
  private readonly ambient: Option.Option<Tracer.AnySpan>
  readonly tracer: Tracer.Tracer | undefined
  readonly metrics: boolean
  readonly clock: Clock.Clock
  readonly options: Options
  constructor(
    resolved: Resolved,
    private readonly role: Role,
    readonly facts: Facts,
    private readonly transport: TransportTelemetry | undefined,
    runtime: Runtime.Runtime<never>
  ) {
    this.tracer = resolved.tracer
    this.metrics = resolved.metrics
    this.clock = resolved.clock
    this.options = resolved.options
    this.opened = this.clock.unsafeCurrentTimeNanos()
    this.ambient = Context.getOption(runtime.context, Tracer.ParentSpan)
  }

  /** A request or notification the peer sent, being handled here (a span of kind server). */
  incoming(method: string, params: unknown, id: RequestId | undefined, extras?: MessageExtras): Operation {
    const remote = extract(params)
    const parent = remote !== undefined ? Option.some<Tracer.AnySpan>(remote) : this.ambient
    // The conventions: the remote context is the parent; the ambient one, if any, a link.
    const links = remote !== undefined && Option.isSome(this.ambient)
      ? [{ _tag: "SpanLink" as const, span: this.ambient.value, attributes: {} }]
      : []
    const operation = new Operation(this, "server", method, params, parent, links)
    if (id !== undefined) operation.attribute(Attributes.requestId, String(id))
    if (extras?.remoteAddress !== undefined) operation.attribute(Attributes.clientAddress, extras.remoteAddress)
    return operation
  }

  /** A request or notification sent from here (a span of kind client), under `parent`. */
  outgoing(method: string, params: unknown, parent: Option.Option<Tracer.AnySpan>): Operation {
    return new Operation(this, "client", method, params, parent, [])
  }

  /** A notification that arrived: a span of no duration. */
  notified(method: string, params: unknown, extras: MessageExtras | undefined): void {
    this.incoming(method, params, undefined, extras).end(undefined, undefined)
  }

  /** A notification about to be sent (under `parent`, or the running fiber's span): its params, with the trace context. */
  notifying(method: string, params: unknown, parent?: Tracer.AnySpan): unknown {
    const operation = this.outgoing(method, params, parent !== undefined ? Option.some(parent) : currentSpan())
    operation.end(undefined, undefined)
    return operation.params
  }

  /** Ends the connection's session: its duration. */
  closed(): void {
    if (!this.metrics) return
    const labels = labelsOf(this.common({}, this.facts.protocolVersion))
    SESSION[this.role].unsafeUpdate(this.seconds(this.opened), labels)
  }

  /** Adds to `attributes` what every operation on the connection has. */
  common(attributes: Record<string, unknown>, protocolVersion: string | undefined): Record<string, unknown> {
    const transport = this.transport
    if (transport !== undefined) {
      for (const key in transport.attributes) attributes[key] = transport.attributes[key]
    }
    const sessionId = this.facts.sessionId ?? transport?.sessionId?.()
    if (sessionId !== undefined) attributes[Attributes.sessionId] = sessionId
    if (protocolVersion !== undefined) attributes[Attributes.protocolVersion] = protocolVersion
    return attributes
  }

  seconds(since: bigint): number {
    return Number(this.clock.unsafeCurrentTimeNanos() - since) / 1e9
  }
}

/** One request or notification, traced from its start to its end. */
export class Operation {
  /** The span, when tracing is on. */
  readonly span: Tracer.Span | undefined
  /** The message's params, with the trace context added for one being sent. */
  readonly params: unknown
  private readonly attributes: Record<string, unknown>
  private readonly started: bigint

  constructor(
    private readonly telemetry: Telemetry,
    private readonly kind: "server" | "client",
    private readonly method: string,
    params: unknown,
    parent: Option.Option<Tracer.AnySpan>,
    links: ReadonlyArray<Tracer.SpanLink>
  ) {
    this.attributes = describe(method, params, telemetry.options)
    this.started = telemetry.clock.unsafeCurrentTimeNanos()
    const { tracer } = telemetry
    const target = this.attributes[Attributes.toolName] ?? this.attributes[Attributes.promptName]
    this.span = tracer?.span(
      typeof target === "string" ? `${method} ${target}` : method,
      parent,
      Context.empty(),
      links,
      this.started,
      kind
    )
    this.params = this.span !== undefined && kind === "client" ? inject(params, this.span) : params
  }

  /** The params of a request being sent, with the trace context. */
  get requestParams(): Record<string, unknown> | undefined {
    return isRecord(this.params) ? this.params : undefined
  }

  attribute(key: string, value: unknown): void {
    this.attributes[key] = value
  }

  /** Ends an incoming request with the response sent for it (`undefined`: cancelled, none sent). */
  responded(response: object | undefined, exit: Exit.Exit<unknown, unknown> | undefined): void {
    const failure = response === undefined ? CANCELLED : responseFailure(this.method, response)
    if (failure === undefined && this.telemetry.options.recordResults === true && isRecord(response)) {
      this.recordResult(response.result)
    }
    this.end(failure, exit)
  }

  /** Ends an outgoing request with its outcome. */
  exited(exit: Exit.Exit<unknown, RequestError>): void {
    const failure = Exit.isSuccess(exit) ? resultFailure(this.method, exit.value) : requestFailure(exit)
    if (failure === undefined && Exit.isSuccess(exit) && this.telemetry.options.recordResults === true) {
      this.recordResult(exit.value)
    }
    this.end(failure, exit)
  }

  /**
   * Ends the operation. The span's exit is the handler's own where it failed
   * (an operator sees a defect's real cause; the client only got -32603),
   * and otherwise says how the response failed.
   */
  end(failure: Failure | undefined, exit: Exit.Exit<unknown, unknown> | undefined): void {
    const attributes = this.telemetry.common(this.attributes, this.protocolVersion())
    if (failure !== undefined) {
      attributes[Attributes.errorType] = failure.type
      if (failure.code !== undefined) attributes[Attributes.statusCode] = String(failure.code)
    }
    const { span, telemetry } = this
    if (span !== undefined) {
      for (const key in attributes) span.attribute(key, attributes[key])
      span.end(
        telemetry.clock.unsafeCurrentTimeNanos(),
        failure === undefined
          ? Exit.void
          : exit !== undefined && Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause)
          ? exit
          : Exit.fail(new OperationError(failure.code === undefined ? failure.type : "McpError", failure.message))
      )
    }
    if (telemetry.metrics) {
      OPERATION[this.kind].unsafeUpdate(telemetry.seconds(this.started), labelsOf(attributes))
    }
  }

  private protocolVersion(): string | undefined {
    const params = this.params
    const version = isRecord(params) && isRecord(params._meta) ? params._meta[MODERN_VERSION] : undefined
    return typeof version === "string" ? version : this.telemetry.facts.protocolVersion
  }

  private recordResult(result: unknown) {
    if (this.method === "tools/call") this.attributes[Attributes.toolCallResult] = result
  }
}

/** The attributes a message's method and params give. */
const describe = (method: string, params: unknown, options: Options): Record<string, unknown> => {
  const attributes: Record<string, unknown> = { [Attributes.methodName]: method }
  if (!isRecord(params)) return attributes
  if (method === "tools/call" && typeof params.name === "string") {
    attributes[Attributes.toolName] = params.name
    attributes[Attributes.operationName] = "execute_tool"
    if (options.recordArguments === true && params.arguments !== undefined) {
      attributes[Attributes.toolCallArguments] = params.arguments
    }
  } else if (method === "prompts/get" && typeof params.name === "string") {
    attributes[Attributes.promptName] = params.name
  } else if (RESOURCE_METHODS.has(method) && typeof params.uri === "string") {
    attributes[Attributes.resourceUri] = params.uri
  }
  return attributes
}
