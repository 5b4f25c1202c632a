/**
 * MCP over Streamable HTTP (protocol 2025-03-26 and later) as an `HttpApp`
 * that mounts at any path of an `@effect/platform` `HttpRouter`.
 *
 * - POST carries one JSON-RPC message. A request is answered with JSON, or
 *   with an SSE stream as soon as its handler emits anything tied to it
 *   (progress, logs, requests to the client), so nothing is dropped.
 * - Sessions: a random `Mcp-Session-Id` is issued once `initialize` has
 *   succeeded; DELETE ends a session; idle sessions expire; their number is
 *   capped.
 * - GET opens the session's stream of server-initiated messages.
 * - SSE streams open with a priming event and a `retry` field (for sessions
 *   at 2025-11-25 and later), send keep-alive comments, keep what they send in
 *   an `EventStore`, and resume on a GET with `Last-Event-ID`. A handler may
 *   close its stream early (`RequestContext.closeStream`) to make the client
 *   poll (SEP-1699).
 * - `Host` and `Origin` are checked against DNS rebinding, bodies are size
 *   limited and requests per session capped.
 * - Stateless mode serves every POST on a fresh context.
 * - Sessions that outlive their process: with a `SessionStore` in the context
 *   the app is made in, a session's state is saved there, and a request for a
 *   session another process opened (which died) continues it here
 *   (docs/http.md).
 * - Authorization: with a `ProtectedResource` in the context the app is made
 *   in, every request needs a verified bearer token, sessions belong to the
 *   principal that opened them, and `layerRouter` also serves the Protected
 *   Resource Metadata (docs/authorization.md).
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 * import { StreamableHttp } from "mcp-effect"
 *
 * declare const ServerLive: import("effect").Layer.Layer<import("mcp-effect").McpServer.McpServer>
 *
 * const router = Effect.gen(function*() {
 *   const mcp = yield* StreamableHttp.toApp(ServerLive)
 *   return HttpRouter.empty.pipe(
 *     HttpRouter.all("/mcp", mcp),
 *     HttpRouter.get("/health", HttpServerResponse.text("ok"))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 */
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import type { Duration } from "effect"
import { Effect, Exit, Layer, Option, Schedule, Scope, Stream } from "effect"
import * as EventStore from "./EventStore.js"
import { Guard } from "./internal/http/authorize.js"
import { Backlog, DEFAULT_MAX_BUFFERED } from "./internal/http/backlog.js"
import { Endpoint } from "./internal/http/endpoint.js"
import { handleDelete, handleGet } from "./internal/http/get.js"
import { SessionKeeper } from "./internal/http/keeper.js"
import { handlePost } from "./internal/http/post.js"
import { httpError } from "./internal/http/reply.js"
import * as HttpSecurity from "./internal/httpSecurity.js"
import { McpServer } from "./McpServer.js"
import * as ProtectedResource from "./ProtectedResource.js"
import * as SessionStore from "./SessionStore.js"
import type { MessageExtras } from "./Transport.js"

/**
 * Options of the Streamable HTTP endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Serve every POST on a fresh context, without sessions. GET and DELETE answer 405. */
  readonly stateless?: boolean
  /** DNS-rebinding protection: on by default for local hosts. */
  readonly dnsRebinding?: HttpSecurity.Options
  /** Largest request body, in bytes; larger ones get 413. Default 4 MiB. */
  readonly maxBodyBytes?: number
  /** Most sessions at once; an `initialize` beyond gets 503. Default 10,000. */
  readonly maxSessions?: number
  /**
   * Most sessions one client holds at once, by remote address
   * (`Exchange.remoteAddress`); an `initialize` beyond gets 429, so that one
   * client cannot take all of `maxSessions`. Off by default: behind a proxy
   * every client has the proxy's address. Requests without a remote address
   * are not counted.
   *
   * @since 0.2.0
   */
  readonly maxSessionsPerClient?: number
  /** A session with no request for this long is closed. Default 30 minutes. */
  readonly sessionIdleTimeout?: Duration.DurationInput
  /**
   * A session that has not been used since `initialize` (no request, no GET
   * stream; notifications do not count) is closed this long after it was
   * opened, rather than after `sessionIdleTimeout` (when that is longer):
   * sessions opened and left unused do not hold their place for long.
   * Default 60 s.
   *
   * @since 0.2.0
   */
  readonly unusedSessionTimeout?: Duration.DurationInput
  /** Most requests in flight per session (a batch's entries count each); more get 429. Default 100. */
  readonly maxRequestsPerSession?: number
  /** Most entries in one JSON-RPC batch (2025-03-26); a longer batch is answered with one -32600. Default 100. */
  readonly maxBatchEntries?: number
  /** The SSE `retry` field, in milliseconds. Default 1,000. */
  readonly retryMillis?: number
  /** Time between SSE keep-alive comments. Default 15 s. */
  readonly keepAliveInterval?: Duration.DurationInput
  /** On shutdown, how long in-flight requests may run before they are interrupted. Default 5 s. */
  readonly shutdownGracePeriod?: Duration.DurationInput
  /**
   * What an SSE response may hold for a client that does not read: past this
   * many bytes waiting, log and progress notifications are dropped and
   * counted (in an SSE comment); past four times it, the response ends (its
   * events stay in the `EventStore`, for a resumption). Default 8 MiB.
   */
  readonly maxStreamBufferBytes?: number
}

/**
 * Where an SSE response's text goes: the HTTP server's response body.
 *
 * @since 0.1.0
 * @category models
 */
export interface Writer {
  /**
   * Writes a chunk. A `droppable` one (a log or progress notification) may be
   * dropped by a writer whose client is not keeping up, rather than held.
   */
  readonly write: (chunk: string, droppable?: boolean) => void
  readonly end: () => void
}

/**
 * One HTTP request as the app needs it, so that the same logic serves
 * `@effect/platform`'s `HttpApp`, a plain `node:http` listener or any other
 * server. Plain callbacks rather than effects: the request path of a call on
 * a live session runs no fiber of its own, only the handler's. It is also
 * what handlers see as the request's transport extras (`header`,
 * `remoteAddress`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Exchange extends MessageExtras {
  readonly method: string
  /**
   * The request's target (path and query), where the server knows it: a
   * protected endpoint refuses an access token in the query string.
   *
   * @since 0.2.0
   */
  readonly url?: string | undefined
  /** A header's value by lower-case name, repeated values joined with ", ". */
  header(name: string): string | undefined
  /** Reads the body as text; `undefined` when it is larger than `maxBytes` or cannot be read. */
  body(maxBytes: number, done: (text: string | undefined) => void): void
}

/**
 * The app's request handler: it calls `reply` exactly once. Whoever writes
 * the reply must run a `Stream` reply's `onClose` when it ends, also when the
 * client has already gone by the time the reply comes.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler = (request: Exchange, reply: (reply: Reply) => void) => void

/**
 * The app's answer: a whole body, or an SSE stream written through a
 * `Writer` once the HTTP server attaches one.
 *
 * @since 0.1.0
 * @category models
 */
export type Reply =
  | {
    readonly _tag: "Full"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: string
  }
  | {
    readonly _tag: "Stream"
    readonly headers: Readonly<Record<string, string>>
    /**
     * Writes what the stream holds so far, then everything that follows, to
     * `writer`; returns whether anything was written at once.
     */
    readonly attach: (writer: Writer) => boolean
    /** Runs once when the response ends, whether it finished or the client went away. */
    readonly onClose: () => void
  }

/**
 * Makes the app's request handler for the `McpServer` in context, independent
 * of any HTTP server: `make` wraps it as an `HttpApp`, and `NodeHttp` calls it
 * straight from `node:http`. Sessions live in the scope; closing it drains
 * in-flight requests for the grace period, then ends every session.
 *
 * Any other HTTP server can drive it too: hand it the request, write the
 * reply it gives back.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StreamableHttp } from "mcp-effect"
 *
 * declare const request: { method: string; headers: Record<string, string>; text: string }
 * declare const write: (status: number, headers: Record<string, string>, body: string) => void
 *
 * const program = Effect.gen(function*() {
 *   const handle = yield* StreamableHttp.makeHandler({ maxBodyBytes: 1_000_000 })
 *   handle({
 *     method: request.method,
 *     header: (name) => request.headers[name],
 *     body: (maxBytes, done) => done(request.text.length <= maxBytes ? request.text : undefined)
 *   }, (reply) => {
 *     if (reply._tag === "Full") write(reply.status, reply.headers, reply.body)
 *     else reply.onClose() // an SSE stream: `reply.attach(writer)`, and `onClose` once the response ends
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHandler = (options: Options = {}): Effect.Effect<Handler, never, McpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* McpServer
    const store = Option.getOrElse(yield* Effect.serviceOption(EventStore.EventStore), () => EventStore.makeMemory())
    const app = new Endpoint(server, store, yield* Effect.runtime<never>(), options, yield* Effect.clock)
    // With a session store, sessions outlive this process: another one continues them (docs/http.md).
    const sessionStore = yield* Effect.serviceOption(SessionStore.SessionStore)
    if (Option.isSome(sessionStore)) app.keeper = new SessionKeeper(app, sessionStore.value)
    const { idleMillis, keepAlive, unusedMillis } = app.limits
    yield* Effect.forkScoped(Effect.sync(() => app.keepAliveRound()).pipe(Effect.delay(keepAlive), Effect.forever))
    // Often enough that a session outlives its timeout by at most half of it.
    yield* Effect.forkScoped(
      app.sweepIdle.pipe(
        Effect.repeat(Schedule.spaced(Math.max(100, Math.min(idleMillis / 2, unusedMillis / 2, 60_000))))
      )
    )
    yield* Effect.addFinalizer(() => app.shutdown)
    const allow = options.stateless ? "POST" : "GET, POST, DELETE"
    const serve: Handler = (request, reply) => {
      switch (request.method) {
        case "POST":
          return handlePost(app, request, reply)
        case "GET":
          return app.replyWith(handleGet(app, request), reply)
        case "DELETE":
          return app.replyWith(handleDelete(app, request), reply)
        default: {
          const refusal = httpError(405, `Method Not Allowed: ${request.method}`)
          return reply({ ...refusal, headers: { ...refusal.headers, allow } })
        }
      }
    }
    // A protected endpoint verifies each request's token first; an unprotected one costs nothing more.
    const resource = yield* Effect.serviceOption(ProtectedResource.ProtectedResource)
    const guard = Option.isNone(resource) ? undefined : new Guard(resource.value, app, yield* Effect.runtime<never>())
    app.authorization = guard
    return (request, reply) => {
      // Rebinding protection comes first: a page on another origin learns nothing, not even that a token is needed.
      const refused = HttpSecurity.check(request, options.dnsRebinding)
      if (refused !== undefined) return reply(httpError(403, `Forbidden: ${refused}`))
      if (guard === undefined) serve(request, reply)
      else guard.handle(request, reply, serve)
    }
  })

/**
 * Makes the Streamable HTTP app for the `McpServer` in context, as an
 * `HttpApp` to mount in an `HttpRouter`. Sessions live in the scope; closing
 * it drains in-flight requests for the grace period, then ends every session.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<HttpApp.Default, never, McpServer | Scope.Scope> => {
  const maxBuffered = options.maxStreamBufferBytes ?? DEFAULT_MAX_BUFFERED
  return Effect.map(
    makeHandler(options),
    (handle) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        Effect.flatMap(
          Effect.async<Reply>((resume) => {
            let gone = false
            let replied = false
            const reply = (reply: Reply) => {
              if (replied) return
              replied = true
              if (!gone) resume(Effect.succeed(reply))
              else if (reply._tag === "Stream") reply.onClose()
            }
            // What the handler throws becomes this request's defect (a 500), never an exception elsewhere.
            const guard = (f: () => void) => {
              try {
                f()
              } catch (thrown) {
                if (replied) return
                replied = true
                resume(Effect.die(thrown))
              }
            }
            guard(() =>
              handle({
                method: request.method,
                url: request.url,
                header: (name) => request.headers[name],
                remoteAddress: Option.getOrUndefined(request.remoteAddress),
                body: (maxBytes, done) =>
                  Effect.runCallback(request.text.pipe(HttpServerRequest.withMaxBodySize(Option.some(maxBytes))), {
                    onExit: (exit) => guard(() => done(Exit.isSuccess(exit) ? exit.value : undefined))
                  })
              }, reply)
            )
            return Effect.sync(() => {
              gone = true
            })
          }),
          (reply) =>
            // The platform runs each request in a scope that closes once its response is written, or abandoned before
            // its body ever ran: a stream's `onClose` (which runs once) is tied to both.
            reply._tag === "Stream"
              ? Effect.serviceOption(Scope.Scope).pipe(
                Effect.flatMap((scope) =>
                  Option.isSome(scope) ? Scope.addFinalizer(scope.value, Effect.sync(reply.onClose)) : Effect.void
                ),
                Effect.as(toResponse(reply, maxBuffered))
              )
              : Effect.succeed(toResponse(reply, maxBuffered))
        ))
  )
}

const encoder = new TextEncoder()

/** A reply as an `@effect/platform` response. */
const toResponse = (reply: Reply, maxBuffered: number): HttpServerResponse.HttpServerResponse => {
  if (reply._tag === "Full") {
    const { "content-type": contentType, ...headers } = reply.headers
    return reply.body === "" && contentType === undefined
      ? HttpServerResponse.empty({ status: reply.status, headers })
      : HttpServerResponse.text(reply.body, { status: reply.status, headers, contentType: contentType ?? "text/plain" })
  }
  const { "content-type": contentType, ...headers } = reply.headers
  let backlog: Backlog | undefined
  const body = Stream.async<string>((emit) => {
    // An overflow ends the response at once for its stream too, so that nothing after it is taken as delivered.
    const bounded = new Backlog(maxBuffered, (text) => emit.single(text), () => {
      emit.end()
      reply.onClose()
    })
    backlog = bounded
    reply.attach({ write: (text, droppable) => bounded.offer(text, droppable === true), end: () => emit.end() })
  }, "unbounded").pipe(
    Stream.map((text) => {
      backlog?.taken(text)
      return encoder.encode(text)
    }),
    Stream.ensuring(Effect.sync(reply.onClose))
  )
  return HttpServerResponse.stream(body, { contentType: contentType ?? "text/event-stream", headers })
}

/**
 * Builds a server layer in the scope and returns its Streamable HTTP app, to
 * mount with `HttpRouter.all(path, app)`. Several servers can be mounted in
 * one router, each from its own layer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toApp = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  options?: Options
): Effect.Effect<HttpApp.Default, E, Scope.Scope | R> =>
  Effect.flatMap(Layer.build(server), (context) => make(options).pipe(Effect.provide(context)))

/**
 * Mounts the Streamable HTTP app for the `McpServer` in context at `path` of
 * a router declared with `HttpRouter.Tag`, for the life of the layer: the
 * transport as a layer beside the router's other routes.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Layer } from "effect"
 * import { McpServer, StreamableHttp } from "mcp-effect"
 *
 * const ServerLive = McpServer.layer({ name: "api", version: "1.0.0" })
 *
 * class ApiRouter extends HttpRouter.Tag("ApiRouter")<ApiRouter>() {}
 *
 * const Health = ApiRouter.use((router) => router.get("/health", HttpServerResponse.text("ok")))
 * const Mcp = StreamableHttp.layerRouter(ApiRouter, "/mcp").pipe(Layer.provide(ServerLive))
 * const Routes = Layer.mergeAll(Health, Mcp)
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRouter = <Self, Name extends string, E, R>(
  router: HttpRouter.HttpRouter.TagClass<Self, Name, E, R>,
  path: HttpRouter.PathInput,
  options?: Options
): Layer.Layer<never, never, McpServer | Self> =>
  router.use((routes) =>
    Effect.gen(function*() {
      yield* routes.all(path, yield* make(options))
      // A protected server serves its metadata beside it.
      const resource = yield* Effect.serviceOption(ProtectedResource.ProtectedResource)
      if (Option.isNone(resource)) return
      for (const metadataPath of resource.value.metadataPaths) {
        yield* routes.get(
          metadataPath,
          Effect.provideService(ProtectedResource.metadataApp, ProtectedResource.ProtectedResource, resource.value)
        )
      }
    })
  )

/**
 * {@link layerRouter} on the platform's default router, `HttpRouter.Default`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  path: HttpRouter.PathInput,
  options?: Options
): Layer.Layer<never, never, McpServer | HttpRouter.Default> => layerRouter(HttpRouter.Default, path, options)

export type {
  /**
   * The types of the DNS-rebinding protection, re-exported (types only):
   * `HttpSecurity.Options` is the type of the `dnsRebinding` option.
   *
   * @since 0.1.0
   * @category models
   */
  HttpSecurity
}
