/**
 * The symmetric JSON-RPC 2.0 engine that both `McpServer` and `McpClient` run
 * on a transport.
 *
 * - Incoming requests run each in its own fiber, keyed by their id exactly as
 *   sent. A request reusing an in-flight id is refused and the running one is
 *   left alone.
 * - `notifications/cancelled` interrupts the handler's fiber (its finalizers
 *   run) and suppresses its response.
 * - Outgoing requests correlate responses through a `Deferred`, with a
 *   per-request timeout that progress may reset and a maximum total that
 *   always applies.
 * - Bad input is answered with the matching JSON-RPC error and never ends the
 *   connection.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { InMemoryTransport, Peer } from "mcp-effect"
 *
 * const program = Effect.gen(function*() {
 *   const [a, b] = InMemoryTransport.makePair()
 *   const left = yield* Peer.make(a, { onRequest: () => undefined })
 *   const right = yield* Peer.make(b, { onRequest: () => undefined })
 *   yield* Effect.forkScoped(left.run)
 *   yield* Effect.forkScoped(right.run)
 *   return yield* left.request("ping", {})
 * })
 * ```
 *
 * @since 0.1.0
 */
import type { Duration, Effect, Scope } from "effect"
import * as internal from "./internal/peer.js"
import type { McpError, RequestError } from "./McpError.js"
import type { ProgressNotificationParams, ProgressToken, RequestId } from "./McpSchema.js"
import type { MessageExtras, Receiver, Transport } from "./Transport.js"

/**
 * An incoming request after its envelope was validated.
 *
 * @since 0.1.0
 * @category models
 */
export interface IncomingRequest {
  readonly id: RequestId
  readonly method: string
  readonly params: Record<string, unknown> | undefined
  readonly progressToken: ProgressToken | undefined
  /** What the transport handed with the message (HTTP headers, the remote address, the authenticated principal). */
  readonly extras: MessageExtras | undefined
}

/**
 * What a request handler answers: the effect that answers, an `McpError` to
 * answer at once, or `undefined` for an unknown method.
 *
 * @since 0.1.0
 * @category models
 */
export type Answer = Effect.Effect<unknown, McpError> | McpError | undefined

/**
 * What the peer does with incoming messages.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handlers {
  readonly onRequest: (request: IncomingRequest) => Answer
  readonly onNotification?: (
    method: string,
    params: Record<string, unknown> | undefined,
    extras: MessageExtras | undefined
  ) => void
  /** Whether a JSON-RPC batch is accepted now (only protocol 2025-03-26 has batches). */
  readonly acceptsBatch?: () => boolean
  /** The most entries a batch may hold; a longer one is answered with one -32600. Default 100. */
  readonly maxBatchEntries?: number
  /** Called once when the transport's input has ended. */
  readonly onClose?: () => void
}

/**
 * Options of an outgoing request.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions {
  /** Time allowed without an answer (or, with `resetTimeoutOnProgress`, without progress). Default 60 s. */
  readonly timeout?: Duration.DurationInput
  /** Time allowed in total, whatever progress arrives. Default: no limit beyond `timeout`. */
  readonly maxTotalTimeout?: Duration.DurationInput
  /** Whether a progress notification restarts the `timeout`. */
  readonly resetTimeoutOnProgress?: boolean
  /** Called for each progress notification the peer sends for this request. */
  readonly onProgress?: (progress: ProgressNotificationParams) => void
  /** The incoming request this one is made on behalf of, for transports that route per request. */
  readonly relatedRequestId?: RequestId
  /**
   * HTTP headers of this request alone, for transports that send headers.
   *
   * @since 0.2.0
   */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A JSON-RPC connection: requests both ways, notifications, and the receiver
 * its transport delivers into.
 *
 * @since 0.1.0
 * @category models
 */
export interface Peer {
  /** Reads the transport until its input ends, then interrupts in-flight handlers and fails pending requests. */
  readonly run: Effect.Effect<void>
  /** Sends a request and waits for its result. Interrupting it sends `notifications/cancelled`. */
  readonly request: (
    method: string,
    params: Record<string, unknown> | undefined,
    options?: RequestOptions
  ) => Effect.Effect<unknown, RequestError>
  /** Sends a notification. */
  readonly notify: (method: string, params: unknown, relatedRequestId?: RequestId) => void
  /** Whether an incoming request is still being handled (progress stops once it is not). */
  readonly isActive: (id: RequestId) => boolean
  /** Delivers an incoming message, for transports that push parsed messages themselves. */
  readonly receiver: Receiver
}

/**
 * Creates a peer on a transport. Nothing is read until `run` is forked; the
 * scope's closing interrupts every handler still running.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (transport: Transport, handlers: Handlers): Effect.Effect<Peer, never, Scope.Scope> =>
  internal.scoped(transport, handlers, () => undefined)
