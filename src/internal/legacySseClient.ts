/**
 * The client side of the legacy HTTP+SSE transport (2024-11-05): one GET
 * opens the event stream, whose `endpoint` event names where to POST; every
 * answer comes on the stream.
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { Deferred, Effect, FiberId, Stream } from "effect"
import { ErrorCode } from "../McpError.js"
import type { Receiver } from "../Transport.js"
import { isRecord, isRequestId } from "./guards.js"
import * as Sse from "./sse.js"

/** Where a channel puts what it reads, and how it ends the requests that cannot be answered. */
export interface Sink {
  readonly deliver: (message: unknown) => Effect.Effect<void>
  /** Answers a request locally with an error (the server refused it). */
  readonly fail: (message: unknown, code: number, text: string) => Effect.Effect<void>
  /** Ends a request locally with a `ConnectionClosedError` (no answer can come). */
  readonly lose: (message: unknown, reason: string) => Effect.Effect<void>
}

/** `reference` against `base`; `undefined` when it is no URL (`URL.parse` is Node 22). */
const resolve = (reference: string, base: string): URL | undefined => {
  try {
    return new URL(reference, base)
  } catch {
    return undefined
  }
}

/** One HTTP+SSE session: its event stream, and the endpoint its messages go to. */
export class LegacyChannel {
  private readonly endpoint = Deferred.unsafeMake<string, string>(FiberId.none)
  /** Why the event stream ended, once it has. */
  reason: string | undefined

  constructor(
    private readonly http: HttpClient.HttpClient,
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly sink: Sink
  ) {}

  /** Reads the event stream to its end: the endpoint first, then the server's messages. */
  get read(): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const response = yield* this.http.execute(
        HttpClientRequest.get(this.url).pipe(
          HttpClientRequest.setHeaders({ ...this.headers, accept: "text/event-stream" })
        )
      )
      const contentType = response.headers["content-type"] ?? ""
      if (response.status !== 200 || !contentType.startsWith("text/event-stream")) {
        yield* Effect.ignore(response.text)
        return yield* this.end(`GET ${this.url} answered HTTP ${response.status} without an event stream`)
      }
      const ended = yield* Sse.parse(response.stream).pipe(
        Stream.runForEach((event) => this.onEvent(event)),
        Effect.as("the server closed the event stream"),
        Effect.catchAll((error) => Effect.succeed(`the event stream failed: ${error.message}`))
      )
      yield* this.end(ended)
    }).pipe(Effect.catchAll((error) => this.end(`GET ${this.url} failed: ${error.message}`)))
  }

  private end(reason: string): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.reason ??= reason
      return Deferred.fail(this.endpoint, reason)
    })
  }

  private onEvent(event: Sse.SseEvent): Effect.Effect<void> {
    if (event.event === "endpoint") {
      const endpoint = resolve(event.data, this.url)
      // A stream that sends our messages to another origin is not followed (the official SDKs refuse it too).
      if (endpoint === undefined || endpoint.origin !== new URL(this.url).origin) {
        return this.end(`the server named an endpoint on another origin: ${event.data}`)
      }
      return Deferred.succeed(this.endpoint, endpoint.href)
    }
    if (event.event !== "message") return Effect.void
    // Malformed data answers no request we could name: dropped.
    const parsed = Sse.json(event.data)
    return parsed === undefined ? Effect.void : this.sink.deliver(parsed.value)
  }

  /** POSTs one message to the endpoint, once the stream named it; the answer comes on the stream. */
  post(message: unknown, encodedMessage: string): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const endpoint = yield* Deferred.await(this.endpoint)
      const response = yield* this.http.execute(
        HttpClientRequest.post(endpoint).pipe(
          HttpClientRequest.setHeaders(this.headers),
          HttpClientRequest.bodyText(encodedMessage, "application/json")
        )
      )
      const text = yield* Effect.orElseSucceed(response.text, () => "")
      if (response.status >= 300) {
        const code = response.status === 413 ? ErrorCode.InvalidRequest : ErrorCode.InternalError
        yield* this.sink.fail(message, code, `HTTP ${response.status}: ${text.slice(0, 200)}`)
      }
    }).pipe(
      Effect.catchAll((error) =>
        this.sink.lose(message, typeof error === "string" ? error : `HTTP request failed: ${error.message}`)
      )
    )
  }
}

/** A sink that delivers to the receiver a transport's `run` was given. */
export const receiverSink = (receiver: Deferred.Deferred<Receiver>): Sink => {
  const withReceiver = (f: (r: Receiver) => void) => Effect.map(Deferred.await(receiver), f)
  const idOf = (message: unknown) => isRecord(message) && isRequestId(message.id) ? message.id : undefined
  return {
    deliver: (message) => withReceiver((r) => r.message(message)),
    fail: (message, code, text) => {
      const id = idOf(message)
      return id === undefined
        ? Effect.void
        : withReceiver((r) => r.message({ jsonrpc: "2.0", id, error: { code, message: text } }))
    },
    lose: (message, reason) => {
      const id = idOf(message)
      return id === undefined
        ? Effect.void
        : withReceiver((r) =>
          r.lost === undefined
            ? r.message({ jsonrpc: "2.0", id, error: { code: ErrorCode.ConnectionClosed, message: reason } })
            : r.lost(id, reason)
        )
    }
  }
}
