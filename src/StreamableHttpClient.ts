/**
 * The client side of Streamable HTTP, on `@effect/platform`'s `HttpClient`:
 * one POST per message, JSON or SSE responses, the session's GET stream,
 * resumption with `Last-Event-ID` when a stream ends early, session id
 * handling, and DELETE when the scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StreamableHttpClient } from "mcp-effect"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* StreamableHttpClient.connect("http://127.0.0.1:3000/mcp")
 *   return yield* client.listTools
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import type { HttpClientResponse } from "@effect/platform"
import {
  Context,
  Deferred,
  Duration,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  FiberId,
  FiberSet,
  Layer,
  Option,
  Scope,
  Stream
} from "effect"
import { encode } from "./internal/encode.js"
import { isRecord, isRequestId } from "./internal/guards.js"
import { LegacyChannel } from "./internal/legacySseClient.js"
import type { Sink } from "./internal/legacySseClient.js"
import * as Modern from "./internal/modern.js"
import { encodeHeaderValue } from "./internal/modernHeaders.js"
import * as Sse from "./internal/sse.js"
import * as Telemetry from "./internal/telemetry.js"
import * as McpClient from "./McpClient.js"
import type { RequestError } from "./McpError.js"
import { ErrorCode, McpError } from "./McpError.js"
import type { RequestId } from "./McpSchema.js"
import type { Authorization } from "./OAuthClient.js"
import type { Receiver, SendOptions, Transport } from "./Transport.js"

/**
 * Options of the Streamable HTTP client transport.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Extra headers on every request (authorization, say). */
  readonly headers?: Record<string, string>
  /** Open the session's GET stream after initialize. Default true. */
  readonly openGetStream?: boolean
  /** Most reconnections of one stream. Default 5. */
  readonly maxReconnects?: number
  /**
   * When `initialize` is answered 404 or 405 (a server of the 2024-11-05
   * revision), GET the URL and speak the legacy HTTP+SSE transport to the
   * `endpoint` its event stream names. Default true.
   *
   * @since 0.2.0
   */
  readonly legacySseFallback?: boolean
  /**
   * When the server answers 404 to a request of its session (it forgot the
   * session: restarted, or timed it out), repeat the handshake on a new
   * session and send the request once more. Default true.
   *
   * @since 0.2.0
   */
  readonly reinitialize?: boolean
  /**
   * Signs in to a protected server: every request carries the access token,
   * and a 401 or a 403 `insufficient_scope` runs the OAuth flow (see
   * `OAuthClient.make`) before the request is sent again.
   *
   * @since 0.2.0
   */
  readonly authorization?: Authorization
}

/**
 * One server-sent event.
 *
 * @since 0.1.0
 * @category models
 */
export interface SseEvent extends Sse.SseEvent {}

/**
 * Parses a byte stream of `text/event-stream` into events (comments dropped).
 *
 * @since 0.1.0
 * @category combinators
 */
export const parseSse: <E, R>(bytes: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<SseEvent, E, R> = Sse.parse

const requestIdOf = (message: unknown): RequestId | undefined =>
  isRecord(message) && typeof message.method === "string" && isRequestId(message.id) ? message.id : undefined

const isResponseTo = (item: unknown, id: RequestId) =>
  isRecord(item) && item.id === id && ("result" in item || "error" in item)

const isInitialize = (message: unknown) => isRecord(message) && message.method === "initialize"
const isInitialized = (message: unknown) => isRecord(message) && message.method === "notifications/initialized"

/** The JSON-RPC code of a refusal without one of its own. */
const codeOfStatus = (status: number) => status < 500 ? ErrorCode.InvalidRequest : ErrorCode.InternalError

/**
 * One client's connection to a Streamable HTTP endpoint: its session id and
 * negotiated version, and the requests that carry its messages. After a
 * fallback it carries them over the legacy HTTP+SSE transport instead.
 */
class Connection implements Sink {
  sessionId: string | undefined
  protocolVersion: string | undefined
  /**
   * Done once the session's GET stream answered (or failed): until then
   * requests wait, since a server may send what they cause there (a request
   * to the client unrelated to any POST), and would drop it with no stream.
   */
  getStreamOpened: Deferred.Deferred<void> | undefined
  /** The client's `initialize`, repeated when the server forgets the session. */
  initializeMessage: unknown
  /** Set once the server turned out to speak HTTP+SSE (2024-11-05). */
  legacy: LegacyChannel | undefined
  /** Done when the connection's input ends: only the legacy event stream ends it. */
  readonly ended = Deferred.unsafeMake<void>(FiberId.none)
  private readonly reinitializing = Effect.unsafeMakeSemaphore(1)
  private handshakes = 0

  constructor(
    private readonly http: HttpClient.HttpClient,
    private readonly url: string,
    private readonly options: Options,
    private readonly receiver: Deferred.Deferred<Receiver>,
    private readonly fork: (effect: Effect.Effect<void>) => Fiber.RuntimeFiber<void>
  ) {}

  headers(extra: Readonly<Record<string, string>> = {}) {
    return {
      ...this.options.headers,
      ...(this.sessionId !== undefined ? { "mcp-session-id": this.sessionId } : {}),
      ...(this.protocolVersion !== undefined ? { "mcp-protocol-version": this.protocolVersion } : {}),
      ...extra
    }
  }

  /**
   * The headers of a message: a 2026-07-28 request's own (its version, method
   * and name, then the sender's `Mcp-Param-*`), with no session; else the
   * session's.
   */
  headersOf(message: unknown, options: SendOptions | undefined): Record<string, string> {
    const accept = { accept: "application/json, text/event-stream" }
    const modern = modernHeaders(message)
    return modern === undefined
      ? this.headers({ ...options?.headers, ...accept })
      : { ...this.options.headers, ...options?.headers, ...modern, ...accept }
  }

  /** Hands a message to the peer; one from a POST's stream names that POST's request as the one it belongs to. */
  deliver(message: unknown, related?: RequestId) {
    return Effect.map(Deferred.await(this.receiver), (r) => {
      if (isRecord(message) && isRecord(message.result) && typeof message.result.protocolVersion === "string") {
        // The initialize result: from now on every request names the negotiated version.
        this.protocolVersion ??= message.result.protocolVersion
      }
      r.message(message, related === undefined ? undefined : { relatedRequestId: related })
    })
  }

  /** Answers a request locally with an error, when the server refused it without answering it. */
  fail(message: unknown, code: number, text: string) {
    const id = requestIdOf(message)
    return id === undefined ? Effect.void : this.failId(id, code, text)
  }

  private failId(id: RequestId, code: number, text: string) {
    return Effect.map(
      Deferred.await(this.receiver),
      (r) => r.message({ jsonrpc: "2.0", id, error: { code, message: text } })
    )
  }

  /** Ends a request locally when its exchange ended and no answer can come (the server went away). */
  lose(message: unknown, reason: string) {
    const id = requestIdOf(message)
    return id === undefined ? Effect.void : this.loseId(id, reason)
  }

  private loseId(id: RequestId, reason: string) {
    return Effect.map(Deferred.await(this.receiver), (r) =>
      r.lost === undefined
        ? r.message({ jsonrpc: "2.0", id, error: { code: ErrorCode.ConnectionClosed, message: reason } })
        : r.lost(id, reason))
  }

  /**
   * Reads an SSE stream to its end. If it ends before `requestId` was
   * answered and events had ids, resumes with a GET and `Last-Event-ID`;
   * when it cannot, the request is lost.
   */
  readSse(response: HttpClientResponse.HttpClientResponse, requestId: unknown, attempt: number): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      let lastEventId: string | undefined
      let retry = 1000
      let answered = false
      yield* parseSse(response.stream).pipe(
        Stream.runForEach((event) => {
          if (event.id !== undefined) lastEventId = event.id
          if (event.retry !== undefined && Number.isFinite(event.retry)) retry = event.retry
          if (event.data === "") return Effect.void
          const parsed = Sse.json(event.data)
          if (parsed === undefined) {
            // On a request's own stream, malformed data can only be (part of) its answer.
            if (!isRequestId(requestId) || answered) return Effect.void
            answered = true
            return this.failId(
              requestId,
              ErrorCode.ParseError,
              `The server sent malformed JSON: ${event.data.slice(0, 200)}`
            )
          }
          if (!isRequestId(requestId)) return this.deliver(parsed.value)
          if (isResponseTo(parsed.value, requestId)) answered = true
          return this.deliver(parsed.value, requestId)
        }),
        Effect.catchAll(() => Effect.void)
      )
      if (answered) return
      const maxReconnects = this.options.maxReconnects ?? 5
      const resumable = lastEventId !== undefined && attempt < maxReconnects &&
        !(requestId === undefined && attempt > 0)
      if (resumable) {
        yield* Effect.sleep(Duration.millis(retry))
        const resumed = yield* this.get({ accept: "text/event-stream", "last-event-id": lastEventId! }).pipe(
          Effect.option
        )
        if (Option.isSome(resumed) && resumed.value.status === 200) {
          return yield* this.readSse(resumed.value, requestId, attempt + 1)
        }
      }
      if (isRequestId(requestId)) {
        yield* this.loseId(requestId, "the server's event stream ended before the answer, and could not be resumed")
      }
    })
  }

  private get(extra: Record<string, string>) {
    return this.http.execute(HttpClientRequest.get(this.url).pipe(HttpClientRequest.setHeaders(this.headers(extra))))
  }

  get openGetStream(): Effect.Effect<void> {
    const deferred = this.getStreamOpened
    // Once it answered, requests stop waiting on it (a timed wait per request cost a race of two fibers).
    const opened = deferred === undefined ? Effect.void : Effect.suspend(() => {
      if (this.getStreamOpened === deferred) this.getStreamOpened = undefined
      return Deferred.done(deferred, Exit.void)
    })
    if (this.legacy !== undefined) return opened
    return this.get({ accept: "text/event-stream" }).pipe(
      Effect.ensuring(opened),
      // 405: the server has no GET stream; that is allowed.
      Effect.flatMap((response) => response.status === 200 ? this.readSse(response, undefined, 0) : Effect.void),
      Effect.ignore
    )
  }

  /**
   * From now on requests wait for the GET stream, which opens once the handshake's last message is through: set when
   * `notifications/initialized` is sent, so that a request sent before its answer came does not go first (a server
   * may send what it asks then on the GET stream only, and drop it while there is none).
   */
  expectGetStream() {
    this.getStreamOpened ??= Deferred.unsafeMake(FiberId.none)
  }

  /** Opens the session's GET stream in the background; requests wait for it to answer. */
  startGetStream() {
    this.expectGetStream()
    this.fork(this.openGetStream)
  }

  /** Waits (a while at most) for the GET stream, when one is being opened. */
  get awaitGetStream(): Effect.Effect<void> {
    return this.getStreamOpened === undefined
      ? Effect.void
      : Deferred.await(this.getStreamOpened).pipe(Effect.timeout(GET_STREAM_WAIT), Effect.ignore)
  }

  private execute(message: unknown, encodedMessage: string, options?: SendOptions) {
    return this.http.execute(
      HttpClientRequest.post(this.url).pipe(
        HttpClientRequest.setHeaders(this.headersOf(message, options)),
        HttpClientRequest.bodyText(encodedMessage, "application/json")
      )
    )
  }

  post(message: unknown, encodedMessage: string, options?: SendOptions, retried = false): Effect.Effect<void> {
    if (this.legacy !== undefined) return this.legacy.post(message, encodedMessage)
    return Effect.gen(this, function*() {
      // The handshake's last message is what the GET stream waits for.
      if (!isInitialized(message)) yield* this.awaitGetStream
      const session = this.sessionId
      const response = yield* this.execute(message, encodedMessage, options)
      const issued = response.headers["mcp-session-id"]
      if (issued !== undefined) this.sessionId = issued
      if (response.status === 202) return
      if (
        session === undefined && isInitialize(message) && this.options.legacySseFallback !== false &&
        (response.status === 404 || response.status === 405)
      ) {
        yield* Effect.ignore(response.text)
        return yield* this.fallBackToLegacy(message, encodedMessage)
      }
      if (response.status === 404 && session !== undefined) {
        yield* Effect.ignore(response.text)
        if (!retried && !isInitialize(message) && (yield* this.reinitialize(session))) {
          return yield* this.post(message, encodedMessage, options, true)
        }
        return yield* this.fail(message, ErrorCode.ConnectionClosed, "Session not found: the server ended the session")
      }
      const contentType = response.headers["content-type"] ?? ""
      if (contentType.startsWith("text/event-stream")) {
        return yield* this.readSse(response, requestIdOf(message), 0)
      }
      yield* this.deliverBody(message, response.status, yield* response.text)
    }).pipe(Effect.catchAll((error) => this.lose(message, `HTTP request failed: ${error.message}`)))
  }

  /**
   * A JSON body: one message or a batch. A request it does not answer fails:
   * with the error it holds (a 400's, addressed to `id: null`), or for want
   * of an answer.
   */
  private deliverBody(message: unknown, status: number, text: string): Effect.Effect<void> {
    const parsed = Sse.json(text)
    if (parsed === undefined) {
      return status >= 400
        ? this.fail(message, codeOfStatus(status), `HTTP ${status}: ${text.slice(0, 200)}`)
        : this.fail(message, ErrorCode.ParseError, `The server sent malformed JSON: ${text.slice(0, 200)}`)
    }
    const items: ReadonlyArray<unknown> = Array.isArray(parsed.value) ? parsed.value : [parsed.value]
    const id = requestIdOf(message)
    if (id === undefined || items.some((item) => isResponseTo(item, id))) {
      return Effect.forEach(items, (item) => this.deliver(item), { discard: true })
    }
    const error = items.find((item) => isRecord(item) && isRecord(item.error))
    const others = items.filter((item) => item !== error)
    const answer = isRecord(error) && isRecord(error.error)
      ? this.failId(
        id,
        typeof error.error.code === "number" ? error.error.code : codeOfStatus(status),
        typeof error.error.message === "string" ? error.error.message : `HTTP ${status}`
      )
      : this.failId(id, ErrorCode.InternalError, `HTTP ${status}: the response does not answer the request`)
    return Effect.zipRight(Effect.forEach(others, (item) => this.deliver(item), { discard: true }), answer)
  }

  /**
   * The server speaks the 2024-11-05 HTTP+SSE transport: GET the URL for its
   * event stream, and send `initialize` (and all that follows) to the
   * endpoint it names. The connection ends with that stream.
   */
  private fallBackToLegacy(message: unknown, encodedMessage: string): Effect.Effect<void> {
    const channel = new LegacyChannel(this.http, this.url, this.options.headers ?? {}, this)
    this.legacy = channel
    this.fork(Effect.ensuring(channel.read, Deferred.done(this.ended, Exit.void)))
    return channel.post(message, encodedMessage)
  }

  /**
   * A new session in place of `stale`, which the server forgot: the client's
   * `initialize` again, then `notifications/initialized` and the GET stream.
   * Requests that find the same stale session wait for one handshake; whether
   * there is a session to retry on.
   */
  private reinitialize(stale: string): Effect.Effect<boolean> {
    return this.reinitializing.withPermits(1)(Effect.suspend(() => {
      if (this.sessionId !== stale) return Effect.succeed(this.sessionId !== undefined)
      this.sessionId = undefined
      const initialize = this.initializeMessage
      if (this.options.reinitialize === false || !isRecord(initialize)) return Effect.succeed(false)
      return Effect.gen(this, function*() {
        const request = { ...initialize, id: `mcp-effect-reinitialize-${++this.handshakes}` }
        const answer = yield* this.exchange(request)
        if (!isResponseTo(answer, request.id) || !isRecord(answer) || !isRecord(answer.result)) return false
        const initialized = { jsonrpc: "2.0", method: "notifications/initialized" }
        yield* Effect.ignore(this.execute(initialized, encode(initialized)))
        if (this.options.openGetStream !== false) this.startGetStream()
        return true
      }).pipe(Effect.orElseSucceed(() => false))
    }))
  }

  /** POSTs a request of the transport's own and reads its answer (from JSON or SSE), taking the session it opens. */
  private exchange(request: { readonly id: RequestId }) {
    return Effect.gen(this, function*() {
      const response = yield* this.execute(request, encode(request))
      const issued = response.headers["mcp-session-id"]
      if (issued !== undefined) this.sessionId = issued
      if (!(response.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        return Sse.json(yield* response.text)?.value
      }
      const answer = yield* parseSse(response.stream).pipe(
        Stream.map((event) => Sse.json(event.data)?.value),
        Stream.filter((message) => isResponseTo(message, request.id)),
        Stream.runHead
      )
      return Option.getOrUndefined(answer)
    })
  }

  /** Ends the session on the server, if there is one. */
  get close(): Effect.Effect<void> {
    return this.sessionId === undefined || this.legacy !== undefined
      ? Effect.void
      : this.http.execute(HttpClientRequest.del(this.url).pipe(HttpClientRequest.setHeaders(this.headers()))).pipe(
        Effect.timeout("2 seconds"),
        Effect.ignore
      )
  }
}

/** How long requests wait for the session's GET stream to answer before they go anyway. */
const GET_STREAM_WAIT = Duration.seconds(5)

/** Where `Mcp-Name` comes from, by method. */
const NAME_PARAM: Readonly<Record<string, string>> = {
  "tools/call": "name",
  "prompts/get": "name",
  "resources/read": "uri",
  "tasks/get": "taskId",
  "tasks/update": "taskId",
  "tasks/cancel": "taskId"
}

/**
 * The standard headers of a 2026-07-28 request (one whose `_meta` names its
 * protocol version): the version, the method, and the name it is about;
 * `undefined` for any other message.
 */
const modernHeaders = (message: unknown): Record<string, string> | undefined => {
  if (!isRecord(message) || typeof message.method !== "string" || !isRecord(message.params)) return undefined
  const meta = message.params._meta
  const version = isRecord(meta) ? meta[Modern.Meta.protocolVersion] : undefined
  if (typeof version !== "string") return undefined
  const nameParam = Object.hasOwn(NAME_PARAM, message.method) ? NAME_PARAM[message.method] : undefined
  const name = nameParam === undefined ? undefined : message.params[nameParam]
  return {
    "mcp-protocol-version": version,
    "mcp-method": message.method,
    ...(typeof name === "string" ? { "mcp-name": encodeHeaderValue(name) } : {})
  }
}

/** The POST of a 2026-07-28 request that `message` (a `notifications/cancelled`) cancels, if one is in flight. */
const cancelledPost = (message: unknown, posts: ReadonlyMap<unknown, Fiber.RuntimeFiber<void>>) =>
  isRecord(message) && message.method === "notifications/cancelled" && isRecord(message.params)
    ? posts.get(message.params.requestId)
    : undefined

/** The client with the options' authorization, if they have one. */
const authorized = (http: HttpClient.HttpClient, options: Options) =>
  options.authorization === undefined ? http : options.authorization.wrap(http)

/**
 * A transport speaking Streamable HTTP to `url`, for the life of the scope.
 * A server that answers `initialize` with 404 or 405 is spoken to over the
 * legacy HTTP+SSE transport instead (see `Options.legacySseFallback`), and
 * the transport's input ends with that server's event stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTransport = (
  url: string,
  options: Options = {}
): Effect.Effect<Transport, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const receiver = yield* Deferred.make<Receiver>()
    const fork = yield* FiberSet.runtime(yield* FiberSet.make())<never>()
    const connection = new Connection(authorized(yield* HttpClient.HttpClient, options), url, options, receiver, fork)
    yield* Effect.addFinalizer(() => connection.close)
    // A 2026-07-28 request is its own POST: cancelling it closes that POST rather than sending a notification.
    const modernPosts = new Map<unknown, Fiber.RuntimeFiber<void>>()
    return {
      run: (r) => Effect.zipRight(Deferred.succeed(receiver, r), Deferred.await(connection.ended)),
      closeReason: () => connection.legacy?.reason,
      telemetry: Telemetry.httpClient(url, () => connection.sessionId),
      send: (message, _, sendOptions) => {
        const cancelled = cancelledPost(message, modernPosts)
        if (cancelled !== undefined) return void fork(Fiber.interrupt(cancelled))
        if (isInitialize(message)) connection.initializeMessage = message
        const opensStream = isInitialized(message) && options.openGetStream !== false
        if (opensStream) connection.expectGetStream()
        // Encoded here, in the sender's fiber: a message that cannot be encoded fails its sender at once.
        const request = connection.post(message, encode(message), sendOptions)
        const fiber = fork(
          opensStream ? Effect.zipRight(request, Effect.sync(() => connection.startGetStream())) : request
        )
        if (isRecord(message) && "id" in message && modernHeaders(message) !== undefined) {
          modernPosts.set(message.id, fiber)
          fiber.addObserver(() => modernPosts.delete(message.id))
        }
      }
    } satisfies Transport
  })

/**
 * The protocol versions clients settled on, by origin (`https://host:port`),
 * so that a later connection to the same origin skips the detection: a
 * handshake-era version is pinned (no `server/discover` probe), and
 * `2026-07-28` is pinned (no fallback). Process-wide by default; provide
 * another (`EraCache.make()`, or one of your own that persists) to scope it.
 *
 * @since 0.2.0
 * @category models
 */
export interface EraCacheService {
  readonly get: (origin: string) => string | undefined
  readonly set: (origin: string, protocolVersion: string) => void
  readonly delete: (origin: string) => void
}

/**
 * An empty in-memory era cache.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeEraCache = (): EraCacheService => {
  const eras = new Map<string, string>()
  return {
    get: (origin) => eras.get(origin),
    set: (origin, protocolVersion) => void eras.set(origin, protocolVersion),
    delete: (origin) => void eras.delete(origin)
  }
}

/**
 * The era cache `connect` reads and fills; one shared by the whole process
 * unless provided.
 *
 * @since 0.2.0
 * @category tags
 */
export class EraCache extends Context.Reference<EraCache>()("mcp-effect/StreamableHttpClient/EraCache", {
  defaultValue: makeEraCache
}) {}

/** A connection attempt in a scope of its own inside the caller's: a failed one leaves nothing open. */
const attempt = (
  url: string,
  options: McpClient.Options & { readonly http?: Options }
): Effect.Effect<McpClient.Service, RequestError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.flatMap(
    Effect.scope,
    (outer) =>
      Effect.flatMap(Scope.fork(outer, ExecutionStrategy.sequential), (scope) =>
        Effect.flatMap(makeTransport(url, options.http), (transport) =>
          McpClient.make(transport, options)).pipe(
            Scope.extend(scope),
            Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
          ))
  )

/**
 * A client connected to a Streamable HTTP server at `url`, for the life of
 * the scope, through the `HttpClient` in context (one with retries, a proxy,
 * tracing…) or else `fetch`. Without `protocolVersion`, the era the last
 * connection to the same origin settled on is pinned (see `EraCache`); if the
 * server refuses it now (an `McpError`), the connection is made once more with
 * detection, and the cache updated.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  url: string,
  options: McpClient.Options & { readonly http?: Options } = {}
): Effect.Effect<McpClient.Service, RequestError, Scope.Scope> =>
  Effect.gen(function*() {
    if (options.protocolVersion !== undefined) return yield* attempt(url, options)
    const cache = yield* EraCache
    const origin = new URL(url).origin
    const remembered = cache.get(origin)
    const detect = attempt(url, options)
    const client = remembered === undefined
      ? yield* detect
      : yield* attempt(url, { ...options, protocolVersion: remembered }).pipe(
        Effect.catchIf((error) => error instanceof McpError, () => detect)
      )
    cache.set(origin, client.protocolVersion)
    return client
  }).pipe(withHttpClient)

/**
 * `fetch` without the platform's span and `traceparent` header per request:
 * work on every call that nobody asked for. A user who traces provides an
 * `HttpClient` of their own, which is used as it is.
 */
const FetchUntraced = Layer.effect(
  HttpClient.HttpClient,
  Effect.map(
    HttpClient.HttpClient,
    (client) => client.pipe(HttpClient.withTracerDisabledWhen(() => true), HttpClient.withTracerPropagation(false))
  )
).pipe(Layer.provide(FetchHttpClient.layer))

/** The `HttpClient` in context (one with retries, a proxy or custom TLS, say), else `fetch`. */
const withHttpClient = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, HttpClient.HttpClient>> =>
  Effect.flatMap(
    Effect.serviceOption(HttpClient.HttpClient),
    Option.match({
      onNone: () => Effect.provide(effect, FetchUntraced),
      onSome: (client) => Effect.provideService(effect, HttpClient.HttpClient, client)
    })
  )
