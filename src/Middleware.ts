/**
 * Middleware: an Effect around every request the server answers, or around
 * the requests of some methods only (tool calls, say), for timing, rate
 * limits, audit logs and checks on the principal. A middleware receives the
 * request's answer as an effect (`next`) and what the request is about
 * (`info`); it may run `next` and return its result, replace the result, or
 * not run `next` at all and fail with an `McpError`, which the client
 * receives as a JSON-RPC error. `RequestContext` is available inside, as in
 * any handler.
 *
 * `McpServer.middleware` and `McpServer.toolMiddleware` register one as a
 * layer. Middlewares wrap the requests the request core serves (tools,
 * resources, prompts, completion), whatever the era or transport; the
 * handshake's own methods (`initialize`, `ping`, `logging/setLevel`,
 * `resources/subscribe`) and reads made by handlers through
 * `RequestContext.readResource` are not wrapped.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Middleware } from "mcp-effect"
 *
 * const timing = Middleware.make((next, info) =>
 *   Effect.timed(next).pipe(
 *     Effect.tap(([duration]) => Effect.logDebug(`${info.method} ${info.name ?? ""} took ${duration}`)),
 *     Effect.map(([, result]) => result)
 *   ))
 * ```
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { isRecord } from "./internal/guards.js"
import type { McpError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"

/**
 * What a middleware knows about the request it wraps, as the client sent it
 * (nothing is decoded yet). The rest (client info, auth, session) is in
 * `RequestContext`.
 *
 * @example
 * ```ts
 * import type { Middleware } from "mcp-effect"
 *
 * const describe = (info: Middleware.Info) =>
 *   `${info.method} ${info.name ?? ""} ${JSON.stringify(info.arguments ?? {})}`
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Info {
  readonly method: string
  /**
   * What the request is about: the tool or prompt name, the resource URI,
   * or the completion ref's name or URI; `undefined` for lists.
   */
  readonly name: string | undefined
  /** The tool's or prompt's arguments. */
  readonly arguments: Readonly<Record<string, unknown>> | undefined
  /** The request's whole params. */
  readonly params: Readonly<Record<string, unknown>> | undefined
}

/**
 * What a tool middleware knows about the call it wraps.
 *
 * @example
 * ```ts
 * import type { Middleware } from "mcp-effect"
 *
 * const isAdmin = (info: Middleware.ToolCallInfo) => info.name.startsWith("admin_")
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface ToolCallInfo extends Info {
  readonly method: "tools/call"
  readonly name: string
  readonly arguments: Readonly<Record<string, unknown>>
}

/**
 * A middleware ready to register. `R` is what it needs, `RequestContext`
 * included if it reads it: the server provides `RequestContext` per request,
 * and the registering layer requires the rest.
 *
 * @example
 * ```ts
 * import type { Middleware } from "mcp-effect"
 *
 * // Passes every resource read through unchanged.
 * const reads: Middleware.Middleware = { methods: new Set(["resources/read"]), run: (next) => next }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Middleware<R = never> {
  /** The methods it wraps; every method the request core serves when `undefined`. */
  readonly methods: ReadonlySet<string> | undefined
  readonly run: (next: Effect.Effect<unknown, McpError>, info: Info) => Effect.Effect<unknown, McpError, R>
}

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import type { Middleware } from "mcp-effect"
 *
 * const readsOnly: Middleware.Options = { methods: ["resources/read", "resources/templates/list"] }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Wrap only requests of these methods, such as `["tools/call", "resources/read"]`. */
  readonly methods?: ReadonlyArray<string>
}

/**
 * Makes a middleware around every request the core serves, or the requests
 * of `options.methods`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpError, Middleware, RequestContext } from "mcp-effect"
 *
 * // Refuses every request of a client that did not authenticate.
 * const authenticated = Middleware.make((next) =>
 *   Effect.flatMap(RequestContext.current, (ctx) =>
 *     ctx.auth === undefined
 *       ? Effect.fail(McpError.McpError.invalidRequest("authentication required"))
 *       : next))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = <R = never>(
  run: (next: Effect.Effect<unknown, McpError>, info: Info) => Effect.Effect<unknown, McpError, R>,
  options: Options = {}
): Middleware<R> => ({ methods: options.methods === undefined ? undefined : new Set(options.methods), run })

/** The one shape every `tools/call` answer has; a guard rather than a cast, since a middleware may replace results. */
const isCallToolResult = (u: unknown): u is McpSchema.CallToolResult => isRecord(u) && Array.isArray(u.content)

const asCallToolResult = (u: unknown): Effect.Effect<McpSchema.CallToolResult> =>
  isCallToolResult(u)
    ? Effect.succeed(u)
    : Effect.die(new Error("a middleware answered tools/call with something that is not a CallToolResult"))

/**
 * Makes a middleware around tool calls only, with the call's result typed. A
 * call without a tool name (which the server refuses) is not wrapped.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Content, Middleware } from "mcp-effect"
 *
 * // Calls to tools named "admin_*" answer an error result the model can read.
 * const noAdmin = Middleware.tools((next, { name }) =>
 *   name.startsWith("admin_")
 *     ? Effect.succeed({ content: [Content.text(`${name} is disabled`)], isError: true })
 *     : next)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const tools = <R = never>(
  run: (
    next: Effect.Effect<McpSchema.CallToolResult, McpError>,
    info: ToolCallInfo
  ) => Effect.Effect<McpSchema.CallToolResult, McpError, R>
): Middleware<R> =>
  make((next, info) =>
    info.name === undefined
      ? next
      : run(Effect.flatMap(next, asCallToolResult), {
        method: "tools/call",
        name: info.name,
        arguments: info.arguments ?? {},
        params: info.params
      }), { methods: ["tools/call"] })
