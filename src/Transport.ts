/**
 * The boundary between bytes and JSON-RPC messages.
 *
 * A transport pushes what it reads into a {@link Receiver} and writes what the
 * peer sends. Both directions are plain callbacks rather than streams: the
 * per-message path then runs without a fiber or a queue hop, which is where
 * most of the CPU per call would otherwise go.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Transport } from "mcp-effect"
 *
 * // A transport that answers nothing and ends at once.
 * const nothing: Transport.Transport = {
 *   run: () => Effect.void,
 *   send: () => {}
 * }
 * ```
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type { RequestId } from "./McpSchema.js"

/**
 * Who made a request, as an authorization layer established it. Handlers read
 * it from the request context.
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthInfo {
  /** The principal: a user, or the client acting for itself. */
  readonly subject?: string | undefined
  readonly clientId?: string | undefined
  readonly scopes: ReadonlyArray<string>
  /** The token's claims, as the verifier read them. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  /** When the credential expires, in seconds since the epoch. */
  readonly expiresAt?: number | undefined
}

/**
 * What a transport hands with each message, beside the message itself: HTTP
 * headers, the remote address, the authenticated principal. Handlers read it
 * from the request context (`RequestContext.extras`); authorization and the
 * 2026-07-28 header rules depend on it.
 *
 * @since 0.2.0
 * @category models
 */
export interface MessageExtras {
  /**
   * A request header by lower-case name, repeated values joined with ", "
   * (HTTP transports). Call it as a method: it may rely on `this`.
   */
  readonly header?: ((name: string) => string | undefined) | undefined
  /** The peer's network address, where the transport knows it. */
  readonly remoteAddress?: string | undefined
  /** The principal an authorization layer verified for this message. */
  readonly auth?: AuthInfo | undefined
  /**
   * The request of this end's that the message belongs to, where the
   * transport knows it: a client's Streamable HTTP transport names the POST
   * whose stream carried the message, the in-memory pair the request its
   * sender named. A request that names one is handled in the context of the
   * call that made it (see `McpClient`: a proxy asks the right client).
   *
   * @since 0.2.0
   */
  readonly relatedRequestId?: RequestId | undefined
}

/**
 * Where a transport delivers what it reads. Call `frame` and `message` as
 * methods: a receiver may rely on `this`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Receiver {
  /** One serialized message (a line on stdio); the peer parses it and answers -32700 if it cannot. */
  readonly frame: (text: string, extras?: MessageExtras) => void
  /** One message the transport already parsed. */
  readonly message: (message: unknown, extras?: MessageExtras) => void
  /**
   * The exchange carrying request `id` ended, and no answer will come (an
   * HTTP server went away mid-call): the request fails at once with a
   * `ConnectionClosedError` giving `reason`, while the connection stays open
   * for the requests that follow. Transports with one exchange per request
   * call it; others end their input instead.
   *
   * @since 0.2.0
   */
  readonly lost?: (id: RequestId, reason: string) => void
}

/**
 * What a sender adds to one outgoing message, for the transports that carry
 * more than the message; others ignore it.
 *
 * @since 0.2.0
 * @category models
 */
export interface SendOptions {
  /** HTTP headers of this message alone (a 2026-07-28 request's `Mcp-Param-*`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * A byte channel as JSON-RPC messages: what it reads goes to a receiver, and
 * `send` writes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transport {
  /**
   * Reads until the input ends, delivering each message to the receiver. The
   * effect completes when the input ends; interrupting it stops reading.
   */
  readonly run: (receiver: Receiver) => Effect.Effect<void>
  /**
   * Writes one message, or a batch. `relatedRequestId` names the incoming
   * request the message belongs to (its response, progress, logs or nested
   * requests), so that a transport with a stream per request can route it.
   * `options` carries what a message needs beyond itself on some transports.
   */
  readonly send: (message: unknown, relatedRequestId?: RequestId, options?: SendOptions) => void
  /**
   * Ends the stream carrying a request's messages before its response, where
   * the transport has one (SSE polling, SEP-1699): the client reconnects and
   * what follows is replayed to it.
   */
  readonly closeStream?: (relatedRequestId: RequestId) => void
  /**
   * The incoming request was cancelled: no response will be sent for it. A
   * transport that holds something open until the response (an HTTP request)
   * can end it.
   */
  readonly abandon?: (relatedRequestId: RequestId) => void
  /**
   * Why the input ended, once `run` has completed, where the transport knows
   * (a spawned server process exited with code 1): the requests still waiting
   * for an answer fail with it.
   *
   * @since 0.2.0
   */
  readonly closeReason?: () => string | undefined
  /**
   * What telemetry records of this connection (`McpTelemetry`): its
   * OpenTelemetry attributes, and its session id where it has one.
   *
   * @since 0.2.0
   */
  readonly telemetry?: TransportTelemetry | undefined
}

/**
 * A transport's facts for telemetry.
 *
 * @since 0.2.0
 * @category models
 */
export interface TransportTelemetry {
  /**
   * Attributes of every span and metric on the connection, by their
   * OpenTelemetry names: `network.transport` (`pipe` for stdio, `tcp` for
   * HTTP), `network.protocol.name`, `server.address`, `server.port`.
   */
  readonly attributes: Readonly<Record<string, string | number>>
  /** The session id the transport carries (`Mcp-Session-Id`), if any yet. */
  readonly sessionId?: (() => string | undefined) | undefined
}
