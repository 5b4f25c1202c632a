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
import { Context, Effect, FiberRef, FiberRefs, HashMap, List, Logger, LogLevel, ParseResult, Schema } from "effect"
import type { RequestError } from "./McpError.js"
import { CapabilityNotSupportedError, McpError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import type { RequestOptions } from "./Peer.js"
import { INTERNAL } from "./internal/cause.js"
import { decodeOrInvalid } from "./internal/guards.js"
import { formField, rootJsonSchema } from "./internal/jsonSchema.js"

/** The per-request service every handler may read. */
export interface Service {
  readonly requestId: McpSchema.RequestId
  readonly method: string
  /** The request's `_meta`, as sent. */
  readonly meta: Readonly<Record<string, unknown>> | undefined
  readonly progressToken: McpSchema.ProgressToken | undefined
  readonly protocolVersion: string
  readonly clientInfo: McpSchema.Implementation | undefined
  readonly clientCapabilities: McpSchema.ClientCapabilities
  /** The minimum level the client asked for with `logging/setLevel`, if it did. */
  readonly logLevel: McpSchema.LoggingLevel | undefined
  /** The transport session, if the transport has sessions. */
  readonly sessionId: string | undefined
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
}

export class RequestContext extends Context.Tag("mcp-effect/RequestContext")<RequestContext, Service>() {}

/** The current request's context. */
export const current: Effect.Effect<Service, never, RequestContext> = RequestContext

/** Reports progress on the current request. */
export const progress = (progress: number, total?: number, message?: string) =>
  Effect.flatMap(RequestContext, (ctx) => ctx.progress(progress, total, message))

/** Sends a log message to the client, tied to the current request. */
export const log = (level: McpSchema.LoggingLevel, data: unknown, logger?: string) =>
  Effect.flatMap(RequestContext, (ctx) => ctx.log(level, data, logger))

/** Closes the current request's SSE stream so that the client polls for the rest (SEP-1699). */
export const closeStream: Effect.Effect<void, never, RequestContext> = Effect.flatMap(RequestContext, (ctx) => ctx.closeStream)

/** Reads one of this server's own resources. */
export const readResource = (uri: string) => Effect.flatMap(RequestContext, (ctx) => ctx.readResource(uri))

const decodeResult = <A, I>(schema: Schema.Schema<A, I>, method: string) =>
  decodeOrInvalid(schema, `${method} result from the client`)

const decodeCreateMessage = decodeResult(McpSchema.CreateMessageResult, "sampling/createMessage")
const decodeElicit = decodeResult(McpSchema.ElicitResult, "elicitation/create")
const decodeRoots = decodeResult(McpSchema.ListRootsResult, "roots/list")

const requireCapability = (capability: string, method: string, present: boolean) =>
  present ? Effect.void : Effect.fail(new CapabilityNotSupportedError({ capability, method }))

const requireFormCapability = (ctx: Service) => {
  const elicitation = ctx.clientCapabilities.elicitation
  // An empty `elicitation` object means form mode, as before modes existed.
  const form = elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined)
  return requireCapability("elicitation.form", "elicitation/create", form)
}

/** Options of {@link sample} besides the messages. */
export type SampleOptions = Omit<McpSchema.CreateMessageRequestParams, "messages" | "_meta" | "maxTokens"> & {
  readonly maxTokens?: number
}

/**
 * Asks the client's model for a completion (`sampling/createMessage`). A string
 * is sent as one user message. Using `tools` or `toolChoice` requires the
 * client's `sampling.tools` capability.
 */
export const sample = (
  messages: string | ReadonlyArray<McpSchema.SamplingMessage>,
  options: SampleOptions = {}
): Effect.Effect<
  McpSchema.CreateMessageResult,
  RequestError | CapabilityNotSupportedError,
  RequestContext
> =>
  Effect.gen(function*() {
    const ctx = yield* RequestContext
    const sampling = ctx.clientCapabilities.sampling
    yield* requireCapability("sampling", "sampling/createMessage", sampling !== undefined)
    const usesTools = options.tools !== undefined || options.toolChoice !== undefined
    if (usesTools) {
      yield* requireCapability("sampling.tools", "sampling/createMessage", sampling?.tools !== undefined)
    }
    const params = {
      ...options,
      maxTokens: options.maxTokens ?? 1000,
      messages: typeof messages === "string"
        ? [{ role: "user" as const, content: { type: "text" as const, text: messages } }]
        : messages
    }
    return yield* ctx.request("sampling/createMessage", params).pipe(Effect.flatMap(decodeCreateMessage))
  })

/** The client's roots (`roots/list`). Requires the client's `roots` capability. */
export const listRoots: Effect.Effect<
  ReadonlyArray<McpSchema.Root>,
  RequestError | CapabilityNotSupportedError,
  RequestContext
> = Effect.gen(function*() {
  const ctx = yield* RequestContext
  yield* requireCapability("roots", "roots/list", ctx.clientCapabilities.roots !== undefined)
  const result = yield* ctx.request("roots/list", {}).pipe(Effect.flatMap(decodeRoots))
  return result.roots
})

/** The answer to a form elicitation, with the content decoded by the form's schema. */
export type ElicitResult<A> =
  | { readonly action: "accept"; readonly content: A }
  | { readonly action: "decline" }
  | { readonly action: "cancel" }

/**
 * The JSON Schema a form sends: a flat object of primitives (string, number,
 * integer, boolean, and single or multiple select enums). `default`
 * annotations become defaults (SEP-1034).
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
 */
export const elicit = <A, I extends Record<string, unknown>>(
  message: string,
  schema: Schema.Schema<A, I>
): Effect.Effect<ElicitResult<A>, RequestError | CapabilityNotSupportedError, RequestContext> =>
  Effect.gen(function*() {
    const ctx = yield* RequestContext
    yield* requireFormCapability(ctx)
    const requestedSchema = yield* Effect.try({
      try: () => formSchema(schema),
      catch: (e) => McpError.invalidParams(e instanceof Error ? e.message : String(e))
    })
    const result = yield* ctx.request("elicitation/create", { mode: "form", message, requestedSchema }).pipe(
      Effect.flatMap(decodeElicit)
    )
    if (result.action !== "accept") return { action: result.action }
    const content = yield* Schema.decodeUnknown(schema)(result.content ?? {}).pipe(
      Effect.mapError((error) =>
        McpError.invalidParams(`the elicited content does not match the form: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)
      )
    )
    return { action: "accept", content }
  })

/**
 * Form elicitation with a JSON Schema given as is (for shapes a Schema does
 * not produce, such as legacy `enumNames`); the answer is returned undecoded.
 */
export const elicitJson = (
  message: string,
  requestedSchema: McpSchema.ElicitRequestFormParams["requestedSchema"]
): Effect.Effect<McpSchema.ElicitResult, RequestError | CapabilityNotSupportedError, RequestContext> =>
  Effect.gen(function*() {
    const ctx = yield* RequestContext
    yield* requireFormCapability(ctx)
    return yield* ctx.request("elicitation/create", { mode: "form", message, requestedSchema }).pipe(
      Effect.flatMap(decodeElicit)
    )
  })

/**
 * Sends the user to a URL (URL mode, 2025-11-25) for an interaction that must
 * not pass through the client, such as entering a secret. Requires the
 * client's `elicitation.url` capability.
 */
export const elicitUrl = (options: {
  readonly message: string
  readonly url: string
  readonly elicitationId: string
}): Effect.Effect<McpSchema.ElicitResult, RequestError | CapabilityNotSupportedError, RequestContext> =>
  Effect.gen(function*() {
    const ctx = yield* RequestContext
    yield* requireCapability("elicitation.url", "elicitation/create", ctx.clientCapabilities.elicitation?.url !== undefined)
    return yield* ctx.request("elicitation/create", { mode: "url", ...options }).pipe(Effect.flatMap(decodeElicit))
  })

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
