/**
 * What a handler knows about the request it serves, and how it talks back to
 * the client: progress, logging, elicitation, sampling and roots.
 *
 * In the handshake era these values come from the session's `initialize`; in
 * the stateless 2026-07-28 revision they come from each request's `_meta`.
 * Handlers read them here either way, so one handler serves both eras.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer, RequestContext } from "mcp-effect"
 *
 * const Slow = McpServer.tool("slow", { description: "Counts to three" }, () =>
 *   Effect.gen(function*() {
 *     for (let i = 1; i <= 3; i++) {
 *       yield* Effect.sleep("1 second")
 *       yield* RequestContext.progress(i, 3, `step ${i}`)
 *     }
 *     return "done"
 *   }))
 * ```
 *
 * @since 0.1.0
 */
import type { LogLevel } from "effect"
import { Context, Effect, FiberRef, FiberRefs, HashMap, List, Logger, Schema } from "effect"
import { INTERNAL } from "./internal/cause.js"
import { decodeOrInvalid, describeParseError } from "./internal/guards.js"
import { currentInputKey } from "./internal/inputRequired.js"
import { formField, rootJsonSchema } from "./internal/jsonSchema.js"
import { isModern, MissingCapability } from "./internal/modern.js"
import type { RequestError } from "./McpError.js"
import { CapabilityNotSupportedError, McpError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import type { RequestOptions } from "./Peer.js"
import type { AuthInfo, MessageExtras } from "./Transport.js"

/**
 * What the client says about itself for one request: in the handshake era the
 * session fills it from `initialize`; in the 2026-07-28 revision the
 * request's `_meta` does. The request core serves a request given its
 * envelope, and never asks whether there is a session.
 *
 * @since 0.2.0
 * @category models
 */
export interface Envelope {
  readonly protocolVersion: string
  readonly clientCapabilities: McpSchema.ClientCapabilities
  readonly clientInfo: McpSchema.Implementation | undefined
  /** The minimum level of `notifications/message` the client wants; none means every level. */
  readonly logLevel: McpSchema.LoggingLevel | undefined
  readonly progressToken: McpSchema.ProgressToken | undefined
  /** The principal an authorization layer verified, if any. */
  readonly auth: AuthInfo | undefined
  /** What the transport handed with the message: HTTP headers, the remote address. */
  readonly extras: MessageExtras | undefined
  /** The transport session, where the era and the transport have one. */
  readonly sessionId: string | undefined
}

/**
 * The one way back to the client from a request being served: requests
 * (elicitation, sampling, roots), notifications tied to the request, and its
 * stream. Today a live request fulfils it; in the 2026-07-28 revision an
 * `input_required` round will.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientChannel {
  /** Sends a request to the client on behalf of the request being served. */
  readonly request: (
    method: string,
    params: Record<string, unknown>,
    options?: RequestOptions
  ) => Effect.Effect<unknown, RequestError>
  /** Sends a notification tied to the request being served. */
  readonly notify: (method: string, params: unknown) => void
  /** Whether the request is still being served: progress stops once it has answered. */
  readonly isActive: () => boolean
  /** Ends the request's stream before its result (SEP-1699), where the transport has one. */
  readonly closeStream: () => void
  /**
   * Runs a step once across the runs of a multi-round-trip request (see
   * {@link once}); a channel without rounds runs it every time.
   */
  readonly once?: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Starts the call's task here, for a tool whose task starts explicitly (see {@link continueAsTask}). */
  readonly continueAsTask?: Effect.Effect<void>
}

/**
 * The per-request service every handler may read.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly requestId: McpSchema.RequestId
  readonly method: string
  /** The request's `_meta`, as sent. */
  readonly meta: Readonly<Record<string, unknown>> | undefined
  readonly progressToken: McpSchema.ProgressToken | undefined
  readonly protocolVersion: string
  readonly clientInfo: McpSchema.Implementation | undefined
  readonly clientCapabilities: McpSchema.ClientCapabilities
  /** The minimum level the client asked for, if it did. */
  readonly logLevel: McpSchema.LoggingLevel | undefined
  /** The transport session, if the transport has sessions. */
  readonly sessionId: string | undefined
  /** The principal an authorization layer verified for this request, if any. */
  readonly auth: AuthInfo | undefined
  /** What the transport handed with the request: HTTP headers (`extras.header?.(name)`), the remote address. */
  readonly extras: MessageExtras | undefined
  /** Sends `notifications/progress` for this request; a no-op without a progress token or once it has answered. */
  readonly progress: (progress: number, total?: number, message?: string) => Effect.Effect<void>
  /** Sends `notifications/message` if `level` is at or above the client's level. */
  readonly log: (level: McpSchema.LoggingLevel, data: unknown, logger?: string) => Effect.Effect<void>
  /** Sends a request to the client on behalf of this request. */
  readonly request: (
    method: string,
    params: Record<string, unknown>,
    options?: RequestOptions
  ) => Effect.Effect<unknown, RequestError>
  /** Reads one of this server's resources. */
  readonly readResource: (uri: string) => Effect.Effect<McpSchema.ReadResourceResult, McpError>
  /**
   * Closes the SSE stream of this request before its result (polling,
   * SEP-1699): the client reconnects and the rest is replayed. A no-op on
   * transports without per-request streams.
   */
  readonly closeStream: Effect.Effect<void>
  /** Runs `effect` once across the runs of a multi-round-trip request; see {@link once}. */
  readonly once: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Hands the call over to its task here; see {@link continueAsTask}. */
  readonly continueAsTask: Effect.Effect<void>
}

/**
 * The current request's context, provided to every handler.
 *
 * @since 0.1.0
 * @category tags
 */
export class RequestContext extends Context.Tag("mcp-effect/RequestContext")<RequestContext, Service>() {}

/**
 * The current request's context.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const current: Effect.Effect<Service, never, RequestContext> = RequestContext

/**
 * Reports progress on the current request.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const progress = (progress: number, total?: number, message?: string) =>
  Effect.flatMap(RequestContext, (ctx) => ctx.progress(progress, total, message))

/**
 * Sends a log message to the client, tied to the current request.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const log = (level: McpSchema.LoggingLevel, data: unknown, logger?: string) =>
  Effect.flatMap(RequestContext, (ctx) => ctx.log(level, data, logger))

/**
 * Closes the current request's SSE stream so that the client polls for the rest (SEP-1699).
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const closeStream: Effect.Effect<void, never, RequestContext> = Effect.flatMap(
  RequestContext,
  (ctx) => ctx.closeStream
)

/**
 * Runs a side effect once, however many times the handler runs.
 *
 * A 2026-07-28 client gets no requests from the server: when a handler
 * elicits, samples or lists roots, the request is answered `input_required`
 * and the client retries it with the answers, so the handler runs again from
 * the start, and every step before the answered question runs again too.
 * `once` journals its step's result in the request's signed `requestState`:
 * on a replay the step is not run, and its recorded result is returned.
 * The result travels as JSON, so it must be a JSON value. Keys must be unique
 * within a handler. In the handshake era, where the handler runs once, it
 * simply runs the step.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer, RequestContext } from "mcp-effect"
 *
 * const Deploy = McpServer.tool("deploy", { parameters: { service: Schema.String } }, ({ service }) =>
 *   Effect.gen(function*() {
 *     // Runs on the first run only; a replay after the confirmation gets the same id.
 *     const id = yield* RequestContext.once("reserve", Effect.sync(() => crypto.randomUUID()))
 *     const answer = yield* RequestContext.elicit(`Deploy ${service} (${id})?`, Schema.Struct({ ok: Schema.Boolean }))
 *     return answer.action === "accept" && answer.content.ok ? `deployed ${id}` : "cancelled"
 *   }))
 * ```
 *
 * @since 0.2.0
 * @category talking to the client
 */
export const once = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | RequestContext> =>
  Effect.flatMap(RequestContext, (ctx) => ctx.once(key, effect))

/**
 * Where a tool declared with `taskStart: "explicit"` starts its task: the
 * client gets the task here, and the rest of the handler runs on in it (its
 * questions then wait for `tasks/update`). Before this point the call is a
 * request like any other: its questions are answered in rounds, and a
 * handler that ends first answers the call at once. Anywhere else (a client
 * without the tasks extension, the handshake era, a tool whose task starts
 * with the call) it does nothing.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer, RequestContext } from "mcp-effect"
 *
 * const Migrate = McpServer.tool("migrate", { task: "required", taskStart: "explicit" }, () =>
 *   Effect.gen(function*() {
 *     const answer = yield* RequestContext.elicit("Migrate now?", Schema.Struct({ ok: Schema.Boolean }))
 *     if (answer.action !== "accept" || !answer.content.ok) return "not migrated"
 *     yield* RequestContext.continueAsTask // the client polls the task from here
 *     yield* Effect.sleep("1 minute")
 *     return "migrated"
 *   }))
 * ```
 *
 * @since 0.2.0
 * @category talking to the client
 */
export const continueAsTask: Effect.Effect<void, never, RequestContext> = Effect.flatMap(
  RequestContext,
  (ctx) => ctx.continueAsTask
)

/**
 * Names the input request `effect` makes (an elicitation, a sampling or a
 * roots request), for 2026-07-28 clients: the key it has in an
 * `input_required` round's `inputRequests`, and under which the client
 * answers it. Unnamed requests get `elicitation-1`, `elicitation-2`,
 * `sampling-1`… in the order the handler makes them, which is stable as long
 * as the handler asks the same questions in the same order on every run. In
 * the handshake era the key is not sent.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer, RequestContext } from "mcp-effect"
 *
 * const Greet = McpServer.tool("greet", {}, () =>
 *   Effect.gen(function*() {
 *     const answer = yield* RequestContext.elicit("Your name?", Schema.Struct({ name: Schema.String })).pipe(
 *       RequestContext.inputKey("user_name")
 *     )
 *     return answer.action === "accept" ? `Hello, ${answer.content.name}!` : "Hello!"
 *   }))
 * ```
 *
 * @since 0.2.0
 * @category talking to the client
 */
export const inputKey = (key: string) => <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.locally(effect, currentInputKey, key)

/**
 * Reads one of this server's own resources.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const readResource = (uri: string) => Effect.flatMap(RequestContext, (ctx) => ctx.readResource(uri))

const decodeResult = <A, I>(schema: Schema.Schema<A, I>, method: string) =>
  decodeOrInvalid(schema, `${method} result from the client`)

const decodeCreateMessage = decodeResult(McpSchema.CreateMessageResult, "sampling/createMessage")
const decodeElicit = decodeResult(McpSchema.ElicitResult, "elicitation/create")
const decodeRoots = decodeResult(McpSchema.ListRootsResult, "roots/list")

/**
 * The one place a handler asks the client for something (elicitation,
 * sampling, roots): the capability the request needs is checked first, and
 * nothing is sent without it; then the request goes through the request's
 * channel and its answer is decoded. `missing` names the capability the
 * client did not declare, if any.
 */
const ask = <A>(
  method: string,
  params: Record<string, unknown>,
  missing: (capabilities: McpSchema.ClientCapabilities) => string | undefined,
  decode: (u: unknown) => Effect.Effect<A, McpError>
): Effect.Effect<A, RequestError | CapabilityNotSupportedError, RequestContext> =>
  Effect.flatMap(RequestContext, (ctx): Effect.Effect<A, RequestError | CapabilityNotSupportedError> => {
    const capability = missing(ctx.clientCapabilities)
    if (capability !== undefined) {
      // A 2026-07-28 request is answered -32021 instead: its client is told what to declare and retry with.
      return isModern(ctx.protocolVersion)
        ? Effect.die(new MissingCapability(capability, method))
        : Effect.fail(new CapabilityNotSupportedError({ capability, method }))
    }
    return Effect.flatMap(ctx.request(method, params), decode)
  })

/** Form mode: an empty `elicitation` object means form mode, as before modes existed. */
const missingForm = ({ elicitation }: McpSchema.ClientCapabilities) =>
  elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined)
    ? undefined
    : "elicitation.form"

/**
 * Options of {@link sample} besides the messages.
 *
 * @since 0.1.0
 * @category models
 */
export type SampleOptions = Omit<McpSchema.CreateMessageRequestParams, "messages" | "_meta" | "maxTokens"> & {
  readonly maxTokens?: number
}

/**
 * Asks the client's model for a completion (`sampling/createMessage`). A string
 * is sent as one user message. Using `tools` or `toolChoice` requires the
 * client's `sampling.tools` capability.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const sample = (
  messages: string | ReadonlyArray<McpSchema.SamplingMessage>,
  options: SampleOptions = {}
): Effect.Effect<
  McpSchema.CreateMessageResult,
  RequestError | CapabilityNotSupportedError,
  RequestContext
> =>
  ask(
    "sampling/createMessage",
    {
      ...options,
      maxTokens: options.maxTokens ?? 1000,
      messages: typeof messages === "string"
        ? [{ role: "user" as const, content: { type: "text" as const, text: messages } }]
        : messages
    },
    ({ sampling }) =>
      sampling === undefined
        ? "sampling"
        : (options.tools !== undefined || options.toolChoice !== undefined) && sampling.tools === undefined
        ? "sampling.tools"
        : undefined,
    decodeCreateMessage
  )

/**
 * The client's roots (`roots/list`). Requires the client's `roots` capability.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const listRoots: Effect.Effect<
  ReadonlyArray<McpSchema.Root>,
  RequestError | CapabilityNotSupportedError,
  RequestContext
> = ask("roots/list", {}, ({ roots }) => roots === undefined ? "roots" : undefined, decodeRoots).pipe(
  Effect.map((result) => result.roots)
)

/**
 * The answer to a form elicitation, with the content decoded by the form's schema.
 *
 * @since 0.1.0
 * @category models
 */
export type ElicitResult<A> =
  | { readonly action: "accept"; readonly content: A }
  | { readonly action: "decline" }
  | { readonly action: "cancel" }

/**
 * The JSON Schema a form sends: a flat object of primitives (string, number,
 * integer, boolean, and single or multiple select enums). `default`
 * annotations become defaults (SEP-1034).
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const formSchema = (schema: Schema.Schema.Any): McpSchema.ElicitRequestFormParams["requestedSchema"] => {
  const json = rootJsonSchema(schema)
  const properties = json.properties
  if (json.type !== "object" || typeof properties !== "object" || properties === null) {
    throw new Error("An elicitation form schema must be a struct of primitive fields")
  }
  const required = Array.isArray(json.required) ? json.required.filter((r): r is string => typeof r === "string") : []
  return {
    type: "object",
    properties: Object.fromEntries(Object.entries(properties).map(([name, field]) => [name, formField(field)])),
    ...(required.length > 0 ? { required } : {})
  }
}

/**
 * Asks the user for structured input through the client (form mode). The
 * accepted content is decoded with `schema`; content that does not match fails
 * with -32602. Requires the client's `elicitation` capability.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const elicit = <A, I extends Record<string, unknown>>(
  message: string,
  schema: Schema.Schema<A, I>
): Effect.Effect<ElicitResult<A>, RequestError | CapabilityNotSupportedError, RequestContext> =>
  Effect.gen(function*() {
    const requestedSchema = yield* Effect.try({
      try: () => formSchema(schema),
      catch: (e) => McpError.invalidParams(e instanceof Error ? e.message : String(e))
    })
    const result = yield* elicitJson(message, requestedSchema)
    if (result.action !== "accept") return { action: result.action }
    const input = result.content ?? {}
    const content = yield* Schema.decodeUnknown(schema)(input).pipe(
      Effect.mapError((error) =>
        McpError.invalidParams(`the elicited content does not match the form: ${describeParseError(error, input)}`)
      )
    )
    return { action: "accept", content }
  })

/**
 * Form elicitation with a JSON Schema given as is (for shapes a Schema does
 * not produce, such as legacy `enumNames`); the answer is returned undecoded.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const elicitJson = (
  message: string,
  requestedSchema: McpSchema.ElicitRequestFormParams["requestedSchema"]
): Effect.Effect<McpSchema.ElicitResult, RequestError | CapabilityNotSupportedError, RequestContext> =>
  ask("elicitation/create", { mode: "form", message, requestedSchema }, missingForm, decodeElicit)

/**
 * Sends the user to a URL (URL mode, 2025-11-25) for an interaction that must
 * not pass through the client, such as entering a secret. Requires the
 * client's `elicitation.url` capability.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const elicitUrl = (options: {
  readonly message: string
  readonly url: string
  readonly elicitationId: string
}): Effect.Effect<McpSchema.ElicitResult, RequestError | CapabilityNotSupportedError, RequestContext> =>
  ask(
    "elicitation/create",
    { mode: "url", ...options },
    ({ elicitation }) => elicitation?.url === undefined ? "elicitation.url" : undefined,
    decodeElicit
  )

// ---------------------------------------------------------------------------
// Logger bridge
// ---------------------------------------------------------------------------

const toMcpLevel = (level: LogLevel.LogLevel): McpSchema.LoggingLevel => {
  switch (level._tag) {
    case "Fatal":
      return "critical"
    case "Error":
      return "error"
    case "Warning":
      return "warning"
    case "Info":
      return "info"
    default:
      return "debug"
  }
}

const renderMessage = (message: unknown): unknown => {
  if (Array.isArray(message)) return message.length === 1 ? message[0] : message
  return message
}

/**
 * A logger that forwards `Effect.log*` calls made inside a handler to the
 * client as `notifications/message`, tied to the handler's request. Outside a
 * request it does nothing. Annotations travel as fields of `data`.
 *
 * @since 0.1.0
 * @category talking to the client
 */
export const clientLogger: Logger.Logger<unknown, void> = Logger.make(({ annotations, context, logLevel, message }) => {
  const ctx = Context.getOption(FiberRefs.getOrDefault(context, FiberRef.currentContext), RequestContext)
  if (ctx._tag === "None" || HashMap.has(annotations, INTERNAL)) return
  const rendered = renderMessage(message)
  const data = HashMap.size(annotations) === 0
    ? rendered
    : { message: rendered, ...Object.fromEntries(annotations) }
  const spans = FiberRefs.getOrDefault(context, FiberRef.currentLogSpan)
  const logger = List.isCons(spans) ? spans.head.label : undefined
  Effect.runSync(ctx.value.log(toMcpLevel(logLevel), data, logger))
})
