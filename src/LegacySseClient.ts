/**
 * The client side of the legacy HTTP+SSE transport (protocol 2024-11-05), for
 * servers that predate Streamable HTTP: a GET opens the session's event
 * stream, whose first event (`endpoint`) names the URL to POST messages to;
 * every answer comes on the stream, and the session ends with it.
 * `StreamableHttpClient.connect` falls back to it by itself when a server
 * answers `initialize` with 404 or 405.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LegacySseClient } from "mcp-effect"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* LegacySseClient.connect("http://127.0.0.1:3003/sse")
 *   return yield* client.listTools
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Deferred, Effect, FiberSet } from "effect"
import type { Scope } from "effect"
import { encode } from "./internal/encode.js"
import { LegacyChannel, receiverSink } from "./internal/legacySseClient.js"
import * as Telemetry from "./internal/telemetry.js"
import * as McpClient from "./McpClient.js"
import type { RequestError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import type { Authorization } from "./OAuthClient.js"
import type { Receiver, Transport } from "./Transport.js"

/**
 * Options of the HTTP+SSE client transport.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Extra headers on the GET and every POST (authorization, say). */
  readonly headers?: Record<string, string>
  /**
   * Signs in to a protected server (see `OAuthClient.make`): the token on the
   * GET and every POST, and the OAuth flow on a 401 or 403.
   *
   * @since 0.2.0
   */
  readonly authorization?: Authorization
}

/**
 * A transport speaking HTTP+SSE to the event stream at `url`, for the life of
 * the scope. Its input ends with the stream; requests still waiting then fail
 * with a `ConnectionClosedError` that says why (`closeReason`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeTransport = (
  url: string,
  options: Options = {}
): Effect.Effect<Transport, never, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const receiver = yield* Deferred.make<Receiver>()
    const base = yield* HttpClient.HttpClient
    const http = options.authorization === undefined ? base : options.authorization.wrap(base)
    const channel = new LegacyChannel(http, url, options.headers ?? {}, receiverSink(receiver))
    const fork = yield* FiberSet.runtime(yield* FiberSet.make())<never>()
    return {
      run: (r) => Effect.zipRight(Deferred.succeed(receiver, r), channel.read),
      closeReason: () => channel.reason,
      telemetry: Telemetry.httpClient(url),
      // Encoded here, in the sender's fiber: a message that cannot be encoded fails its sender at once.
      send: (message) => void fork(channel.post(message, encode(message)))
    } satisfies Transport
  })

/**
 * A client connected over HTTP+SSE to the event stream at `url` (with
 * `fetch`), for the life of the scope. The transport belongs to the handshake
 * era: `initialize` is sent at the latest handshake-era version unless
 * `protocolVersion` says otherwise.
 *
 * @since 0.2.0
 * @category constructors
 */
export const connect = (
  url: string,
  options: McpClient.Options & { readonly http?: Options } = {}
): Effect.Effect<McpClient.Service, RequestError, Scope.Scope> =>
  Effect.flatMap(
    makeTransport(url, options.http),
    (transport) =>
      McpClient.make(transport, {
        ...options,
        protocolVersion: options.protocolVersion ?? McpSchema.LATEST_PROTOCOL_VERSION
      })
  ).pipe(Effect.provide(FetchHttpClient.layer))
