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

/** Where a transport delivers what it reads. Call `frame` and `message` as methods: a receiver may rely on `this`. */
export interface Receiver {
  /** One serialized message (a line on stdio); the peer parses it and answers -32700 if it cannot. */
  readonly frame: (text: string) => void
  /** One message the transport already parsed. */
  readonly message: (message: unknown) => void
}

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
   */
  readonly send: (message: unknown, relatedRequestId?: RequestId) => void
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
}
