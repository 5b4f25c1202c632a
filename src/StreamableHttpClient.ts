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
import { Deferred, Duration, Effect, FiberSet, Option, Stream } from "effect"
import type { Scope } from "effect"
import * as McpClient from "./McpClient.js"
import type { RequestError } from "./McpError.js"
import { ErrorCode } from "./McpError.js"
import type { Receiver, Transport } from "./Transport.js"
import { isRecord } from "./internal/guards.js"
import { encode } from "./internal/encode.js"

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
        const out = state.seen ? [{ event: state.event || "message", id: state.id, data: state.data.join("\n"), retry: state.retry }] : []
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
    const http = yield* HttpClient.HttpClient
    const fibers = yield* FiberSet.make()
    const receiver = yield* Deferred.make<Receiver>()
    let sessionId: string | undefined
    let protocolVersion: string | undefined
    const maxReconnects = options.maxReconnects ?? 5

    const headers = (extra: Record<string, string> = {}) => ({
      ...options.headers,
      ...(sessionId !== undefined ? { "mcp-session-id": sessionId } : {}),
      ...(protocolVersion !== undefined ? { "mcp-protocol-version": protocolVersion } : {}),
      ...extra
    })

    const deliver = (message: unknown) =>
      Effect.map(Deferred.await(receiver), (r) => {
        if (isRecord(message) && isRecord(message.result) && typeof message.result.protocolVersion === "string") {
          // The initialize result: from now on every request names the negotiated version.
          protocolVersion ??= message.result.protocolVersion
        }
        r.message(message)
      })

    /** Answers a request locally when the HTTP exchange failed, so that no caller waits forever. */
    const failRequest = (message: unknown, code: number, text: string) =>
      isRecord(message) && "id" in message && "method" in message
        ? deliver({ jsonrpc: "2.0", id: message.id, error: { code, message: text } })
        : Effect.void

    /**
     * Reads an SSE stream to its end. If it ends before `requestId` was
     * answered and events had ids, resumes with a GET and `Last-Event-ID`.
     */
    const readSse = (
      response: HttpClientResponse.HttpClientResponse,
      requestId: unknown,
      attempt: number
    ): Effect.Effect<void> =>
      Effect.gen(function*() {
        let lastEventId: string | undefined
        let retry = 1000
        let answered = false
        yield* parseSse(response.stream).pipe(
          Stream.runForEach((event) =>
            Effect.gen(function*() {
              if (event.id !== undefined) lastEventId = event.id
              if (event.retry !== undefined && Number.isFinite(event.retry)) retry = event.retry
              if (event.data === "") return
              const message: unknown = JSON.parse(event.data)
              if (isRecord(message) && message.id === requestId && ("result" in message || "error" in message)) {
                answered = true
              }
              yield* deliver(message)
            })
          ),
          Effect.catchAll(() => Effect.void)
        )
        if (answered || requestId === undefined && attempt > 0 || lastEventId === undefined || attempt >= maxReconnects) {
          return
        }
        yield* Effect.sleep(Duration.millis(retry))
        const resumed = yield* http.execute(
          HttpClientRequest.get(url).pipe(
            HttpClientRequest.setHeaders(headers({ accept: "text/event-stream", "last-event-id": lastEventId }))
          )
        ).pipe(Effect.option)
        if (Option.isSome(resumed) && resumed.value.status === 200) {
          yield* readSse(resumed.value, requestId, attempt + 1)
        }
      })

    const openGetStream = Effect.gen(function*() {
      const response = yield* http.execute(
        HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers({ accept: "text/event-stream" })))
      )
      // 405: the server has no GET stream; that is allowed.
      if (response.status === 200) yield* readSse(response, undefined, 0)
    }).pipe(Effect.ignore)

    const post = (message: unknown, encodedMessage: string) =>
      Effect.gen(function*() {
        const response = yield* http.execute(
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.setHeaders(headers({ accept: "application/json, text/event-stream" })),
            HttpClientRequest.bodyText(encodedMessage, "application/json")
          )
        )
        const issued = response.headers["mcp-session-id"]
        if (issued !== undefined) sessionId = issued
        if (response.status === 202) return
        if (response.status === 404 && sessionId !== undefined) {
          return yield* failRequest(message, ErrorCode.ConnectionClosed, "Session not found: the server ended the session")
        }
        const contentType = response.headers["content-type"] ?? ""
        if (contentType.startsWith("text/event-stream")) {
          return yield* readSse(response, isRecord(message) ? message.id : undefined, 0)
        }
        const text = yield* response.text
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          return yield* failRequest(message, ErrorCode.InternalError, `HTTP ${response.status}: ${text.slice(0, 200)}`)
        }
        for (const item of Array.isArray(body) ? body : [body]) yield* deliver(item)
      }).pipe(
        Effect.catchAll((error) => failRequest(message, ErrorCode.ConnectionClosed, `HTTP request failed: ${error.message}`))
      )

    yield* Effect.addFinalizer(() =>
      sessionId === undefined
        ? Effect.void
        : http.execute(HttpClientRequest.del(url).pipe(HttpClientRequest.setHeaders(headers()))).pipe(
          Effect.timeout("2 seconds"),
          Effect.ignore
        )
    )

    const run = FiberSet.runtime(fibers)<never>()
    const fork = yield* run

    return {
      run: (r) => Effect.zipRight(Deferred.succeed(receiver, r), Effect.never),
      send: (message) => {
        const opensStream = isRecord(message) && message.method === "notifications/initialized" &&
          options.openGetStream !== false
        // Encoded here, in the sender's fiber: a message that cannot be encoded fails its sender at once.
        const request = post(message, encode(message))
        fork(opensStream ? Effect.zipRight(request, Effect.sync(() => fork(openGetStream))) : request)
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
