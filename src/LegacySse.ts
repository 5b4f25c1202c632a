/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05), so that older clients
 * can connect: `GET /sse` opens a session's event stream, whose first event
 * (`endpoint`) names the URL to POST messages to; responses and notifications
 * all travel on that stream.
 *
 * `Host` and `Origin` are validated as in Streamable HTTP.
 *
 * @example
 * ```ts
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 * import { LegacySse } from "mcp-effect"
 *
 * const router = Effect.map(LegacySse.make(), (legacy) =>
 *   HttpRouter.empty.pipe(HttpRouter.get("/sse", legacy.sse), HttpRouter.post("/messages", legacy.messages)))
 * ```
 *
 * @since 0.1.0
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Duration, Effect, ExecutionStrategy, Exit, Option, Queue, Scope, Stream } from "effect"
import { authenticate, checkScopes } from "./internal/auth/authenticate.js"
import type { Refusal } from "./internal/auth/challenge.js"
import { principalOf } from "./internal/auth/challenge.js"
import { encode } from "./internal/encode.js"
import { isRecord } from "./internal/guards.js"
import { Backlog, DEFAULT_MAX_BUFFERED } from "./internal/http/backlog.js"
import { droppable } from "./internal/http/eventStream.js"
import * as HttpSecurity from "./internal/httpSecurity.js"
import { statelessOf } from "./internal/session.js"
import * as Telemetry from "./internal/telemetry.js"
import { McpServer } from "./McpServer.js"
import * as ProtectedResource from "./ProtectedResource.js"
import type { AuthInfo, Receiver } from "./Transport.js"

/**
 * Options of the legacy HTTP+SSE endpoints.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly dnsRebinding?: HttpSecurity.Options | undefined
  /** The path clients POST to, announced in the `endpoint` event. Default `/messages`. */
  readonly messagesPath?: string
  /** Largest POST body in bytes. Default 4 MiB. */
  readonly maxBodyBytes?: number
  /** Time between keep-alive comments. Default 15 s. */
  readonly keepAliveInterval?: Duration.DurationInput
  /**
   * What a session's stream may hold for a client that does not read: past
   * this many bytes waiting, log and progress notifications are dropped and
   * counted (in an SSE comment); past four times it, the stream ends, and the
   * session with it. Default 8 MiB.
   */
  readonly maxStreamBufferBytes?: number
}

/**
 * The two endpoints of the legacy transport, to mount in a router.
 *
 * @since 0.1.0
 * @category models
 */
export interface LegacyApps {
  /** `GET`: opens a session and its event stream. */
  readonly sse: HttpApp.Default
  /** `POST ?sessionId=…`: one message from the client; 202 on acceptance. */
  readonly messages: HttpApp.Default
}

interface LegacySession {
  readonly receiver: Receiver
  readonly outbox: Outbox
  /** On a protected server, the principal that opened the session: no other may post to it. */
  readonly principal: string | undefined
}

/** A session's SSE text on its way to the client, bounded (see `maxStreamBufferBytes`). */
class Outbox {
  readonly backlog: Backlog
  constructor(readonly queue: Queue.Queue<string>, max: number) {
    // Nothing is read: the stream ends, and the session with it, rather than holding more.
    this.backlog = new Backlog(max, (text) => queue.unsafeOffer(text), () => Effect.runFork(Queue.shutdown(queue)))
  }

  /** The stream of what waits, counted out as the response takes it. */
  get stream(): Stream.Stream<string> {
    return Stream.fromQueue(this.queue).pipe(Stream.tap((text) => Effect.sync(() => this.backlog.taken(text))))
  }
}

const refuse = (status: number, message: string) => HttpServerResponse.text(message, { status })

const refusalResponse = (refusal: Refusal) => {
  const { "content-type": contentType, ...headers } = refusal.headers
  return refusal.body === ""
    ? HttpServerResponse.empty({ status: refusal.status, headers })
    : HttpServerResponse.text(refusal.body, {
      status: refusal.status,
      headers,
      contentType: contentType ?? "text/plain"
    })
}

/** The principal of a request to a protected server (none when it is not protected), or the response refusing it. */
const authenticateRequest = (
  resource: Option.Option<ProtectedResource.Service>,
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<AuthInfo | undefined, HttpServerResponse.HttpServerResponse> =>
  Option.isNone(resource)
    ? Effect.succeed(undefined)
    : Effect.mapError(
      authenticate(resource.value, request.headers["authorization"], request.url),
      refusalResponse
    )

/**
 * On a protected server, the 403 for a message whose principal lacks the
 * scopes of what it calls: read from the body before it goes in, so that the
 * POST itself can carry the step-up challenge (its answer goes on the stream).
 */
const scopeRefusal = (
  resource: ProtectedResource.Service,
  server: McpServer["Type"],
  auth: AuthInfo,
  text: string
): HttpServerResponse.HttpServerResponse | undefined => {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return undefined // Answered on the stream, as -32700.
  }
  if (!isRecord(message) || typeof message.method !== "string" || !("id" in message)) return undefined
  const params = isRecord(message.params) ? message.params : undefined
  const refusal = checkScopes(resource, auth, statelessOf(server)?.server.core.requiredScopes(message.method, params))
  return refusal === undefined ? undefined : refusalResponse(refusal)
}

/**
 * Makes the two endpoints for the `McpServer` in context; sessions live in the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<LegacyApps, never, McpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* McpServer
    const resource = yield* Effect.serviceOption(ProtectedResource.ProtectedResource)
    const appScope = yield* Effect.scope
    const sessions = new Map<string, LegacySession>()
    const messagesPath = options.messagesPath ?? "/messages"
    const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024
    const maxBuffered = options.maxStreamBufferBytes ?? DEFAULT_MAX_BUFFERED
    const encoder = new TextEncoder()

    // On shutdown the streams end, so that the listener is not left waiting for their connections.
    yield* Effect.addFinalizer(() =>
      Effect.forEach([...sessions.values()], (session) => Queue.shutdown(session.outbox.queue))
    )

    // One timer keeps every open stream alive, rather than a timer per stream.
    yield* Effect.forkIn(
      Effect.sync(() => {
        for (const session of sessions.values()) session.outbox.backlog.offer(": keep-alive\n\n", true)
      }).pipe(Effect.delay(options.keepAliveInterval ?? Duration.seconds(15)), Effect.forever),
      appScope
    )

    const guard = <E, R>(
      handle: (
        request: HttpServerRequest.HttpServerRequest
      ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
    ) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const refused = HttpSecurity.check({ header: (name) => request.headers[name] }, options.dnsRebinding)
        return refused === undefined
          ? Effect.merge(handle(request))
          : Effect.succeed(refuse(403, `Forbidden: ${refused}`))
      })

    const sse: HttpApp.Default = guard((request) =>
      Effect.gen(function*() {
        const auth = yield* authenticateRequest(resource, request)
        const id = crypto.randomUUID()
        const scope = yield* Scope.fork(appScope, ExecutionStrategy.sequential)
        const outbox = new Outbox(yield* Queue.unbounded<string>(), maxBuffered)
        const connection = yield* server.connect({
          run: () => Effect.never,
          telemetry: Telemetry.HTTP,
          send: (message) => outbox.backlog.offer(`event: message\ndata: ${encode(message)}\n\n`, droppable(message))
        }).pipe(Scope.extend(scope))
        sessions.set(id, { receiver: connection.receiver, outbox, principal: principalOf(auth) })
        const close = Effect.suspend(() => {
          sessions.delete(id)
          return Scope.close(scope, Exit.void)
        })
        const body = Stream.make(`event: endpoint\ndata: ${messagesPath}?sessionId=${id}\n\n`).pipe(
          Stream.concat(outbox.stream),
          Stream.map((text) => encoder.encode(text)),
          // The stream is the session: when the client goes away, the session ends.
          Stream.ensuring(close)
        )
        return HttpServerResponse.stream(body, {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-cache", "connection": "keep-alive" }
        })
      })
    )

    const messages: HttpApp.Default = guard((request) =>
      Effect.gen(function*() {
        const url = new URL(request.url, "http://localhost")
        const auth = yield* authenticateRequest(resource, request)
        const session = sessions.get(url.searchParams.get("sessionId") ?? "")
        // A session answers only the principal that opened it; to anyone else it does not exist.
        if (session === undefined || session.principal !== principalOf(auth)) return refuse(404, "Session not found")
        const text = yield* request.text.pipe(HttpServerRequest.withMaxBodySize(Option.some(maxBody)), Effect.option)
        if (Option.isNone(text)) return refuse(413, `Payload Too Large: the body exceeds ${maxBody} bytes`)
        if (auth !== undefined && Option.isSome(resource)) {
          const refused = scopeRefusal(resource.value, server, auth, text.value)
          if (refused !== undefined) return refused
        }
        // Parse errors are answered on the event stream, as JSON-RPC -32700.
        session.receiver.frame(text.value, auth === undefined ? undefined : { auth })
        return HttpServerResponse.text("Accepted", { status: 202 })
      })
    )

    return { sse, messages }
  })
