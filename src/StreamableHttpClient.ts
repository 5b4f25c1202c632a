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
import { Deferred, Duration, Effect, Exit, Fiber, FiberId, FiberSet, Option, Stream } from "effect"
import type { Scope } from "effect"
import { encode } from "./internal/encode.js"
import { isRecord } from "./internal/guards.js"
import * as Modern from "./internal/modern.js"
import { encodeHeaderValue } from "./internal/modernHeaders.js"
import * as McpClient from "./McpClient.js"
import type { RequestError } from "./McpError.js"
import { ErrorCode } from "./McpError.js"
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
}

/**
 * One server-sent event.
 *
 * @since 0.1.0
 * @category models
 */
export interface SseEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
  readonly retry: number | undefined
}

/**
 * Parses a byte stream of `text/event-stream` into events (comments dropped).
 *
 * @since 0.1.0
 * @category combinators
 */
export const parseSse = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<SseEvent, E, R> =>
  bytes.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.mapAccum(EMPTY_EVENT, (state: SseState, line: string): readonly [SseState, ReadonlyArray<SseEvent>] => {
      if (line === "") {
        const out = state.seen
          ? [{ event: state.event || "message", id: state.id, data: state.data.join("\n"), retry: state.retry }]
          : []
        return [EMPTY_EVENT, out]
      }
      if (line.startsWith(":")) return [state, []]
      const colon = line.indexOf(":")
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
      switch (field) {
        case "event":
          return [{ ...state, event: value, seen: true }, []]
        case "id":
          return [{ ...state, id: value, seen: true }, []]
        case "data":
          return [{ ...state, data: [...state.data, value], seen: true }, []]
        case "retry":
          return [{ ...state, retry: Number(value), seen: true }, []]
        default:
          return [state, []]
      }
    }),
    Stream.flatMap((events) => Stream.fromIterable(events))
  )

interface SseState {
  readonly event: string
  readonly id: string | undefined
  readonly data: ReadonlyArray<string>
  readonly retry: number | undefined
  readonly seen: boolean
}

const EMPTY_EVENT: SseState = { event: "", id: undefined, data: [], retry: undefined, seen: false }

/**
 * One client's connection to a Streamable HTTP endpoint: its session id and
 * negotiated version, and the requests that carry its messages.
 */
class Connection {
  sessionId: string | undefined
  protocolVersion: string | undefined
  /**
   * Done once the session's GET stream answered (or failed): until then
   * requests wait, since a server may send what they cause there (a request
   * to the client unrelated to any POST), and would drop it with no stream.
   */
  getStreamOpened: Deferred.Deferred<void> | undefined

  constructor(
    private readonly http: HttpClient.HttpClient,
    private readonly url: string,
    private readonly options: Options,
    private readonly receiver: Deferred.Deferred<Receiver>
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

  deliver(message: unknown) {
    return Effect.map(Deferred.await(this.receiver), (r) => {
      if (isRecord(message) && isRecord(message.result) && typeof message.result.protocolVersion === "string") {
        // The initialize result: from now on every request names the negotiated version.
        this.protocolVersion ??= message.result.protocolVersion
      }
      r.message(message)
    })
  }

  /** Answers a request locally when the HTTP exchange failed, so that no caller waits forever. */
  failRequest(message: unknown, code: number, text: string) {
    return isRecord(message) && "id" in message && "method" in message
      ? this.deliver({ jsonrpc: "2.0", id: message.id, error: { code, message: text } })
      : Effect.void
  }

  /**
   * Reads an SSE stream to its end. If it ends before `requestId` was
   * answered and events had ids, resumes with a GET and `Last-Event-ID`.
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
          const message: unknown = JSON.parse(event.data)
          if (isRecord(message) && message.id === requestId && ("result" in message || "error" in message)) {
            answered = true
          }
          return this.deliver(message)
        }),
        Effect.catchAll(() => Effect.void)
      )
      const maxReconnects = this.options.maxReconnects ?? 5
      if (answered || requestId === undefined && attempt > 0 || lastEventId === undefined || attempt >= maxReconnects) {
        return
      }
      yield* Effect.sleep(Duration.millis(retry))
      const resumed = yield* this.get({ accept: "text/event-stream", "last-event-id": lastEventId }).pipe(Effect.option)
      if (Option.isSome(resumed) && resumed.value.status === 200) {
        yield* this.readSse(resumed.value, requestId, attempt + 1)
      }
    })
  }

  private get(extra: Record<string, string>) {
    return this.http.execute(HttpClientRequest.get(this.url).pipe(HttpClientRequest.setHeaders(this.headers(extra))))
  }

  get openGetStream(): Effect.Effect<void> {
    const opened = this.getStreamOpened === undefined ? Effect.void : Deferred.done(this.getStreamOpened, Exit.void)
    return this.get({ accept: "text/event-stream" }).pipe(
      Effect.ensuring(opened),
      // 405: the server has no GET stream; that is allowed.
      Effect.flatMap((response) => response.status === 200 ? this.readSse(response, undefined, 0) : Effect.void),
      Effect.ignore
    )
  }

  /** Waits (a while at most) for the GET stream, when one is being opened. */
  get awaitGetStream(): Effect.Effect<void> {
    return this.getStreamOpened === undefined
      ? Effect.void
      : Deferred.await(this.getStreamOpened).pipe(Effect.timeout(GET_STREAM_WAIT), Effect.ignore)
  }

  post(message: unknown, encodedMessage: string, options?: SendOptions): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      yield* this.awaitGetStream
      const response = yield* this.http.execute(
        HttpClientRequest.post(this.url).pipe(
          HttpClientRequest.setHeaders(this.headersOf(message, options)),
          HttpClientRequest.bodyText(encodedMessage, "application/json")
        )
      )
      const issued = response.headers["mcp-session-id"]
      if (issued !== undefined) this.sessionId = issued
      if (response.status === 202) return
      if (response.status === 404 && this.sessionId !== undefined) {
        return yield* this.failRequest(
          message,
          ErrorCode.ConnectionClosed,
          "Session not found: the server ended the session"
        )
      }
      const contentType = response.headers["content-type"] ?? ""
      if (contentType.startsWith("text/event-stream")) {
        return yield* this.readSse(response, isRecord(message) ? message.id : undefined, 0)
      }
      yield* this.deliverBody(message, response.status, yield* response.text)
    }).pipe(
      Effect.catchAll((error) =>
        this.failRequest(message, ErrorCode.ConnectionClosed, `HTTP request failed: ${error.message}`)
      )
    )
  }

  /** A JSON body: one message or a batch; anything else fails the request it answers. */
  private deliverBody(message: unknown, status: number, text: string): Effect.Effect<void> {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return this.failRequest(message, ErrorCode.InternalError, `HTTP ${status}: ${text.slice(0, 200)}`)
    }
    return Effect.forEach(Array.isArray(body) ? body : [body], (item) => this.deliver(item), { discard: true })
  }

  /** Ends the session on the server, if there is one. */
  get close(): Effect.Effect<void> {
    return this.sessionId === undefined
      ? Effect.void
      : this.http.execute(HttpClientRequest.del(this.url).pipe(HttpClientRequest.setHeaders(this.headers()))).pipe(
        Effect.timeout("2 seconds"),
        Effect.ignore
      )
  }
}

/** Where `Mcp-Name` comes from, by method. */
/** How long requests wait for the session's GET stream to answer before they go anyway. */
const GET_STREAM_WAIT = Duration.seconds(5)

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

/**
 * A transport speaking Streamable HTTP to `url`, for the life of the scope.
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
    const connection = new Connection(yield* HttpClient.HttpClient, url, options, receiver)
    yield* Effect.addFinalizer(() => connection.close)
    const fork = yield* FiberSet.runtime(yield* FiberSet.make())<never>()
    // A 2026-07-28 request is its own POST: cancelling it closes that POST rather than sending a notification.
    const modernPosts = new Map<unknown, Fiber.RuntimeFiber<void>>()
    return {
      run: (r) => Effect.zipRight(Deferred.succeed(receiver, r), Effect.never),
      send: (message, _, sendOptions) => {
        const cancelled = cancelledPost(message, modernPosts)
        if (cancelled !== undefined) return void fork(Fiber.interrupt(cancelled))
        const opensStream = isRecord(message) && message.method === "notifications/initialized" &&
          options.openGetStream !== false
        // Encoded here, in the sender's fiber: a message that cannot be encoded fails its sender at once.
        const request = connection.post(message, encode(message), sendOptions)
        if (opensStream) connection.getStreamOpened = Deferred.unsafeMake(FiberId.none)
        const fiber = fork(
          opensStream ? Effect.zipRight(request, Effect.sync(() => fork(connection.openGetStream))) : request
        )
        if (isRecord(message) && "id" in message && modernHeaders(message) !== undefined) {
          modernPosts.set(message.id, fiber)
          fiber.addObserver(() => modernPosts.delete(message.id))
        }
      }
    } satisfies Transport
  })

/**
 * A client connected to a Streamable HTTP server at `url` (with `fetch`), for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  url: string,
  options: McpClient.Options & { readonly http?: Options } = {}
): Effect.Effect<McpClient.Service, RequestError, Scope.Scope> =>
  Effect.flatMap(makeTransport(url, options.http), (transport) => McpClient.make(transport, options)).pipe(
    Effect.provide(FetchHttpClient.layer)
  )
