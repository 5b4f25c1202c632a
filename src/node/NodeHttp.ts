/**
 * Serving MCP over HTTP on Node: `serve` binds a Node HTTP server (to
 * 127.0.0.1 by default) with the Streamable HTTP app at `path`, and
 * optionally the legacy HTTP+SSE endpoints for 2024-11-05 clients.
 *
 * With a `ProtectedResource` in the server layer's context, every endpoint
 * (legacy ones included) requires an access token, and the Protected
 * Resource Metadata is served at its well-known paths (docs/authorization.md).
 *
 * For anything more (other routes, several servers, middleware), mount
 * `StreamableHttp.toApp` in your own `HttpRouter` instead.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { NodeHttp } from "mcp-effect/node"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
 * const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })))
 *
 * // Called by the program's entry point: serves http://127.0.0.1:3000/mcp until interrupted.
 * const main = () => NodeHttp.run(ServerLive, { port: 3000 })
 * ```
 *
 * @since 0.1.0
 */
import { HttpClient, HttpRouter, HttpServerError } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Context, Duration, Effect, Layer, Option, Runtime } from "effect"
import type { Scope } from "effect"
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import { logThrown } from "../internal/cause.js"
import { DEFAULT_MAX_BUFFERED, droppedComment } from "../internal/http/backlog.js"
import * as LegacySse from "../LegacySse.js"
import * as McpClient from "../McpClient.js"
import { ErrorCode } from "../McpError.js"
import type { RequestError } from "../McpError.js"
import type { McpServer } from "../McpServer.js"
import * as ProtectedResource from "../ProtectedResource.js"
import * as StreamableHttp from "../StreamableHttp.js"
import * as StreamableHttpClient from "../StreamableHttpClient.js"
import * as NodeHttpClient from "./internal/httpClient.js"
import { layerStderrLogger } from "./NodeStdio.js"

/**
 * Options of the Node HTTP server: where it listens, and the Streamable HTTP endpoint's own options.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions extends StreamableHttp.Options {
  /** Default 3000; 0 picks a free port. */
  readonly port?: number
  /** Default 127.0.0.1: a local server is not reachable from other machines unless asked. */
  readonly host?: string
  /** Where the Streamable HTTP endpoint is mounted. Default `/mcp`. */
  readonly path?: HttpRouter.PathInput
  /** Also serve the legacy HTTP+SSE transport at `/sse` and `/messages`. Default false. */
  readonly legacySse?: boolean
  /**
   * Health endpoints for a load balancer or an orchestrator: `GET /livez`
   * answers 200 while the process serves; `GET /readyz` answers 200 while it
   * takes new work and 503 from the moment it starts shutting down (a
   * SIGTERM under `NodeRuntime.runMain`), while it drains the requests in
   * flight. `true` for those paths, or paths of your own. Default: none.
   *
   * @since 0.2.0
   */
  readonly health?: boolean | { readonly live?: string; readonly ready?: string } | undefined
  /**
   * What an SSE response may hold for a client that does not read: past this
   * many bytes of backlog, log and progress notifications are dropped at once
   * (and counted, in an SSE comment sent once the client reads again); a
   * backlog of other messages that stays above it for `streamStallTimeout`
   * ends the response, and one above four times it ends the response at once
   * (so at most that much is ever held for one response). Either way the
   * stream's events stay in the `EventStore`, so the client can resume.
   * Default 8 MiB (so 32 MiB at once).
   */
  readonly maxStreamBufferBytes?: number
  /** See `maxStreamBufferBytes`. Default 30 s. */
  readonly streamStallTimeout?: Duration.DurationInput
  /**
   * The longest a client may take to send a request's headers, counted from
   * its first byte (or from the connection, for its first request); past it
   * the connection gets 408 and is closed. Default 30 s. Set on the server
   * that `serve`, `listen` and `layer` create; with `makeListener`, set your
   * own server's `headersTimeout`.
   *
   * @since 0.2.0
   */
  readonly headersTimeout?: Duration.DurationInput
  /**
   * The longest pause between two parts of a request body on the MCP
   * endpoint; past it the request gets 408 with a JSON-RPC error body, its
   * connection is closed and what was read of the body is let go. Also
   * bounds how long the rest of a refused body (413) is waited for. An SSE
   * response is not subject to it: its request was read in full before it
   * started. Default 30 s.
   *
   * @since 0.2.0
   */
  readonly bodyTimeout?: Duration.DurationInput
  /**
   * The longest a whole request (headers and body) may take to arrive, so
   * that a body trickled in a byte at a time cannot hold its memory for
   * ever; past it the connection gets 408 and is closed. An SSE response is
   * not subject to it: its request has arrived by the time it starts.
   * Default 5 minutes; 0 for no limit. Set on the server that `serve`,
   * `listen` and `layer` create, like `headersTimeout`.
   *
   * @since 0.2.0
   */
  readonly requestTimeout?: Duration.DurationInput
}

/**
 * Where a served server listens.
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  readonly url: string
  readonly port: number
}

/**
 * Where the server of {@link layer} listens.
 *
 * @since 0.2.0
 * @category tags
 */
export class Address extends Context.Tag("mcp-effect/NodeHttp/Address")<Address, Served>() {}

/**
 * Serves a server layer over HTTP for the life of the scope. Closing the
 * scope drains in-flight requests for the grace period, then ends every
 * session.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  options: ServeOptions = {}
): Effect.Effect<Served, E | HttpServerError.ServeError, Scope.Scope | R> =>
  Effect.flatMap(Layer.build(server), (context) => listen(options).pipe(Effect.provide(context)))

/**
 * Serves the `McpServer` in context over HTTP for the life of the scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const listen = (
  options: ServeOptions = {}
): Effect.Effect<Served, HttpServerError.ServeError, McpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const path = options.path ?? "/mcp"
    const host = options.host ?? "127.0.0.1"
    // Requests are routed here once the app exists; the listener comes first so that it closes last: on shutdown
    // the app drains and ends its sessions (answering every open request) before the listener waits for connections.
    let route: (request: IncomingMessage, response: ServerResponse) => void = (_, response) => {
      response.writeHead(503).end()
    }
    // Node's request timeout ends at the request's last byte, so SSE responses are not subject to it (nor to the
    // headers timeout). Node's default headers timeout would be none with no request timeout; it is checked every
    // `connectionsCheckingInterval`, made short enough for the timeouts to mean what they say.
    const requestTimeout = Duration.toMillis(options.requestTimeout ?? Duration.minutes(5))
    const headersTimeout = Math.min(
      Duration.toMillis(options.headersTimeout ?? Duration.seconds(30)),
      requestTimeout > 0 ? requestTimeout : Infinity
    )
    const nodeServer = createServer({
      requestTimeout,
      headersTimeout,
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(30_000, Math.floor(Math.min(headersTimeout, requestTimeout || Infinity) / 2))
      )
    }, (request, response) => route(request, response))
    yield* Effect.acquireRelease(
      Effect.async<void, HttpServerError.ServeError>((resume) => {
        nodeServer.once("error", (cause) => resume(Effect.fail(new HttpServerError.ServeError({ cause }))))
        nodeServer.listen(options.port ?? 3000, host, () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          nodeServer.close(() => resume(Effect.void))
          // By now the app has drained and answered every request: what is left are idle keep-alive connections.
          nodeServer.closeAllConnections()
        })
    )
    route = yield* listenerFor(options)
    const address = nodeServer.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    const urlHost = host.includes(":") ? `[${host}]` : host
    return { url: `http://${urlHost}:${port}${path}`, port }
  })

/**
 * Serves the `McpServer` in context over HTTP for the life of the layer, and
 * logs its URL: the transport as a layer, composed beside the program's other
 * layers.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { NodeHttp } from "mcp-effect/node"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
 * const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })))
 *
 * // Called by the program's entry point: serves http://127.0.0.1:3000/mcp until interrupted.
 * const main = () => NodeHttp.layer({ port: 3000 }).pipe(Layer.provide(ServerLive), Layer.launch, NodeRuntime.runMain)
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: ServeOptions = {}): Layer.Layer<Address, HttpServerError.ServeError, McpServer> =>
  Layer.scoped(
    Address,
    Effect.tap(listen(options), (served) => Effect.logInfo(`MCP server listening on ${served.url}`))
  )

/**
 * A `node:http` request listener serving the MCP endpoint at `path` (and, with
 * `legacySse`, `/sse` and `/messages`), for the life of the scope: use it with
 * your own Node HTTP server. Other paths get 404.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeHttp } from "mcp-effect/node"
 * import { createServer } from "node:http"
 *
 * declare const ServerLive: import("effect").Layer.Layer<import("mcp-effect").McpServer.McpServer>
 *
 * const program = Effect.gen(function*() {
 *   const listener = yield* NodeHttp.makeListener(ServerLive, { path: "/mcp" })
 *   createServer(listener).listen(3000, "127.0.0.1")
 *   return yield* Effect.never
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeListener = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  options: Omit<ServeOptions, "port" | "host"> = {}
): Effect.Effect<(request: IncomingMessage, response: ServerResponse) => void, E, Scope.Scope | R> =>
  Effect.flatMap(Layer.build(server), (context) => listenerFor(options).pipe(Effect.provide(context)))

/** The listener for the `McpServer` in context. */
const listenerFor = (options: Omit<ServeOptions, "port" | "host">) =>
  Effect.gen(function*() {
    const path = options.path ?? "/mcp"
    const handle = yield* StreamableHttp.makeHandler(options)
    let fallback: (request: IncomingMessage, response: ServerResponse) => void = (_, response) => {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not Found")
    }
    if (options.legacySse) {
      const legacy = yield* LegacySse.make({
        dnsRebinding: options.dnsRebinding,
        ...(options.maxStreamBufferBytes !== undefined ? { maxStreamBufferBytes: options.maxStreamBufferBytes } : {})
      })
      fallback = yield* NodeHttpServer.makeHandler(
        HttpRouter.empty.pipe(HttpRouter.get("/sse", legacy.sse), HttpRouter.post("/messages", legacy.messages))
      )
    }
    const serveMetadata = yield* metadataServer
    const serveHealth = yield* healthServer(options.health)
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const bodyTimeout = Duration.decode(options.bodyTimeout ?? Duration.seconds(30))
    const shared: ExchangeContext = {
      onThrown: (thrown) => {
        runFork(logThrown("Streamable HTTP request failed", thrown))
      },
      maxBuffered: options.maxStreamBufferBytes ?? DEFAULT_MAX_BUFFERED,
      stallMillis: Duration.toMillis(options.streamStallTimeout ?? Duration.seconds(30)),
      reading: new Set(),
      bodyTimeout: Duration.format(bodyTimeout)
    }
    // One timer watches every body being read, rather than a timer per request: a body that made no progress for
    // two rounds of half the timeout has been idle for between the timeout and one and a half times it.
    yield* Effect.forkScoped(
      Effect.sync(() => {
        for (const exchange of shared.reading) exchange.idleRound()
      }).pipe(Effect.delay(Duration.millis(Math.max(5, Duration.toMillis(bodyTimeout) / 2))), Effect.forever)
    )
    return (request: IncomingMessage, response: ServerResponse) => {
      const url = request.url ?? "/"
      const query = url.indexOf("?")
      const target = query === -1 ? url : url.slice(0, query)
      if (target !== path) {
        return (serveMetadata !== undefined && serveMetadata(target, request, response)) ||
            (serveHealth !== undefined && serveHealth(target, request, response))
          ? undefined
          : fallback(request, response)
      }
      // The MCP endpoint is served straight from node:http: no router, no per-request platform machinery.
      const exchange = new NodeExchange(request, response, shared)
      exchange.guard(() => handle(exchange, (reply) => exchange.reply(reply)))
    }
  })

/**
 * What answers the health paths (returning whether `target` was one), when
 * asked for. Readiness turns 503 when the scope starts closing: its finalizer
 * is added after the handler's, so it runs before the endpoint drains.
 */
const healthServer = (health: ServeOptions["health"]) =>
  Effect.gen(function*() {
    if (health === undefined || health === false) return undefined
    const paths = health === true ? {} : health
    const live = paths.live ?? "/livez"
    const ready = paths.ready ?? "/readyz"
    let draining = false
    yield* Effect.addFinalizer(() => Effect.sync(() => void (draining = true)))
    return (target: string, request: IncomingMessage, response: ServerResponse): boolean => {
      if (target !== live && target !== ready) return false
      const method = request.method ?? "GET"
      if (method !== "GET" && method !== "HEAD") {
        response.writeHead(405, { allow: "GET, HEAD" }).end()
        return true
      }
      const status = target === ready && draining ? 503 : 200
      const body = JSON.stringify({ status: status === 200 ? "ok" : "draining" })
      response.writeHead(status, {
        "content-type": "application/json",
        "cache-control": "no-store",
        "content-length": Buffer.byteLength(body)
      }).end(method === "HEAD" ? undefined : body)
      return true
    }
  })

/**
 * On a protected server, what answers the Protected Resource Metadata's
 * paths (returning whether `target` was one of them); none otherwise.
 */
const metadataServer = Effect.map(
  Effect.serviceOption(ProtectedResource.ProtectedResource),
  Option.match({
    onNone: () => undefined,
    onSome: (resource) => {
      const paths = new Set<string>(resource.metadataPaths)
      const body = JSON.stringify(resource.metadata)
      return (target: string, request: IncomingMessage, response: ServerResponse): boolean => {
        if (!paths.has(target)) return false
        const method = request.method ?? "GET"
        // Browser clients read it too: from any origin, with a preflight answered.
        const cors = { "access-control-allow-origin": "*", "access-control-allow-methods": "GET, OPTIONS" }
        if (method === "OPTIONS") response.writeHead(204, cors).end()
        else if (method !== "GET" && method !== "HEAD") {
          response.writeHead(405, { ...cors, allow: "GET, OPTIONS" }).end()
        } else {
          response.writeHead(200, {
            ...cors,
            "content-type": "application/json",
            "cache-control": "max-age=3600",
            "content-length": Buffer.byteLength(body)
          }).end(method === "HEAD" ? undefined : body)
        }
        return true
      }
    }
  })
)

/** What every exchange of one listener shares. */
interface ExchangeContext {
  readonly onThrown: (thrown: unknown) => void
  readonly maxBuffered: number
  readonly stallMillis: number
  /** Exchanges reading (or discarding) a request body, watched for idleness by one timer. */
  readonly reading: Set<NodeExchange>
  /** The body timeout, as said in a 408. */
  readonly bodyTimeout: string
}

/**
 * How much of a refused body is read and thrown away, so that the client,
 * still sending, receives the refusal: closing a socket with unread data
 * resets the connection, and the client may lose the response with it.
 */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024

/**
 * A node:http request as the app reads it, and where its reply goes, once. A
 * class, so that its methods are not closures made per request. Nothing
 * thrown reaches node's event emitters: it is logged and answered with 500.
 */
class NodeExchange implements StreamableHttp.Exchange {
  private replied = false
  /** Body bytes received, and as many as the last idle round saw (-1: none yet, so the first round counts). */
  private received = 0
  private seen = -1
  private idleRounds = 0
  /** What ends the body's reading when it stays idle. */
  private onIdle: (() => void) | undefined = undefined
  constructor(
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
    private readonly context: ExchangeContext
  ) {}

  get method() {
    return this.request.method ?? "GET"
  }

  get remoteAddress() {
    return this.request.socket.remoteAddress
  }

  get url() {
    return this.request.url
  }

  header(name: string): string | undefined {
    const value = this.request.headers[name]
    return Array.isArray(value) ? value.join(", ") : value
  }

  body(maxBytes: number, done: (text: string | undefined) => void): void {
    const request = this.request
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      this.context.reading.delete(this)
      request.off("data", onData).off("end", onEnd).off("error", onError)
    }
    const finish = (text: string | undefined) => {
      stop()
      this.guard(() => done(text))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      this.received = size
      if (size > maxBytes) finish(undefined)
      else chunks.push(chunk)
    }
    const onEnd = () =>
      finish(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"))
    const onError = () => finish(undefined)
    request.on("data", onData).on("end", onEnd).on("error", onError)
    // Left idle, the body is let go and the request answered 408; its handler never hears of it.
    this.onIdle = () => {
      stop()
      if (this.replied) return
      this.replied = true
      this.refuseAndClose(408, `Request Timeout: no part of the request body came for ${this.context.bodyTimeout}`)
    }
    this.context.reading.add(this)
  }

  /** One round of the idle watch: a body that made no progress for two rounds has been idle too long. */
  idleRound(): void {
    if (this.received !== this.seen) {
      this.seen = this.received
      this.idleRounds = 0
    } else if (++this.idleRounds >= 2) {
      this.context.reading.delete(this)
      this.onIdle?.()
    }
  }

  reply(reply: StreamableHttp.Reply): void {
    if (this.replied) return
    this.replied = true
    try {
      if (reply._tag === "Full" && this.bodyUnread()) this.answerThenDiscard(reply)
      else writeReply(this.response, reply, this.context)
    } catch (thrown) {
      this.context.onThrown(thrown)
      this.response.destroy()
      if (reply._tag === "Stream") reply.onClose()
    }
  }

  /** Whether the request has a body that has not all arrived (a refusal before, or while, it was read). */
  private bodyUnread(): boolean {
    const request = this.request
    if (request.complete) return false
    const length = request.headers["content-length"]
    return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0")
  }

  /**
   * Sends a whole reply to a request whose body is still coming (a 413, say),
   * and closes the connection after it. The rest of the body is read and
   * thrown away first, up to `MAX_DISCARDED_BYTES` and while it keeps coming
   * (the body timeout): ending at once would close the socket on unread data,
   * which resets the connection, and a client still writing its body would
   * get EPIPE and never see the answer.
   */
  private answerThenDiscard(reply: Extract<StreamableHttp.Reply, { readonly _tag: "Full" }>): void {
    const { request, response } = this
    response.writeHead(reply.status, {
      ...reply.headers,
      "content-length": Buffer.byteLength(reply.body),
      connection: "close"
    })
    response.write(reply.body)
    let discarded = 0
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      this.context.reading.delete(this)
      request.off("data", onData).off("end", end).off("error", end).off("close", end)
      response.end()
    }
    const onData = (chunk: Buffer) => {
      this.received += chunk.length
      if ((discarded += chunk.length) > MAX_DISCARDED_BYTES) end()
    }
    request.on("data", onData).on("end", end).on("error", end).on("close", end)
    request.resume()
    this.onIdle = end
    this.context.reading.add(this)
  }

  /** Answers with a JSON-RPC error body and closes the connection, whatever is left of the request. */
  private refuseAndClose(status: number, message: string): void {
    const response = this.response
    if (response.headersSent || response.destroyed) return void response.destroy()
    const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: ErrorCode.ServerError, message } })
    response.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      connection: "close"
    })
    response.end(body)
  }

  /** Runs `f`; what it throws is logged and, unless a reply went out already, answered with 500. */
  guard(f: () => void): void {
    try {
      f()
    } catch (thrown) {
      this.context.onThrown(thrown)
      if (this.replied) return
      this.replied = true
      if (this.response.headersSent) this.response.destroy()
      else this.response.writeHead(500).end()
    }
  }
}

/**
 * Writes a reply: a whole body at once, or an SSE stream as its text comes,
 * until it ends or the client leaves (also when it left before the reply
 * came), or its backlog stays too large for too long, or grows far too large.
 */
const writeReply = (response: ServerResponse, reply: StreamableHttp.Reply, limits: ExchangeContext) => {
  if (reply._tag === "Full") {
    response.writeHead(reply.status, { ...reply.headers, "content-length": Buffer.byteLength(reply.body) })
    response.end(reply.body)
    return
  }
  if (response.destroyed) return reply.onClose()
  response.writeHead(200, reply.headers)
  // Over the limit, droppable notifications (logs, progress) are dropped and counted at once: a client that does not
  // keep up loses them rather than the server holding them. What cannot be dropped must drain within the stall timeout,
  // or the client is taken to have stopped reading; a backlog above four times the limit is dropped at once, so that
  // no race with the timer lets it grow further.
  const hardLimit = limits.maxBuffered * 4
  let stall: NodeJS.Timeout | undefined
  let dropped = 0
  // Dropped here and now, not when 'close' comes later: until its stream knows, what it writes (its result too) would
  // be taken as delivered, and forgotten by the store instead of kept for a resumption.
  const drop = () => {
    response.destroy()
    reply.onClose()
  }
  const write = (chunk: string, droppable?: boolean) => {
    if (response.destroyed) return reply.onClose()
    if (droppable === true && response.writableLength > limits.maxBuffered) {
      dropped++
      return
    }
    if (dropped > 0) {
      // An SSE comment, which clients ignore: the count is there for whoever reads the stream.
      response.write(droppedComment(dropped))
      dropped = 0
    }
    if (response.write(chunk)) return
    const backlog = response.writableLength
    if (backlog > hardLimit) return drop()
    if (stall !== undefined || backlog <= limits.maxBuffered) return
    stall = setTimeout(drop, limits.stallMillis).unref()
    response.once("drain", () => {
      clearTimeout(stall)
      stall = undefined
    })
  }
  // 'close' comes once the response has ended, or when the client has gone.
  response.once("close", () => {
    clearTimeout(stall)
    reply.onClose()
  })
  // What the stream already holds goes out with the headers; otherwise the headers go at once.
  if (!reply.attach({ write, end: () => response.end() })) response.flushHeaders()
}

/**
 * Serves a server layer over HTTP as the program's main, printing its URL to stderr.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = <E>(server: Layer.Layer<McpServer, E, never>, options?: ServeOptions): void =>
  NodeRuntime.runMain(
    Effect.gen(function*() {
      const served = yield* serve(server, options)
      yield* Effect.logInfo(`MCP server listening on ${served.url}`)
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.provide(layerStderrLogger)),
    { disablePrettyLogger: true }
  )

// ---------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------

/**
 * An `HttpClient` on `node:http` and `node:https` with keep-alive agents (for
 * the life of the layer), made for MCP clients: it costs about half of what
 * `fetch` does per call (docs/benchmarks.md). It sends no spans or trace
 * headers of its own. {@link connect} uses it; provide it to
 * `StreamableHttpClient` or `LegacySseClient` to do the same.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StreamableHttpClient } from "mcp-effect"
 * import { NodeHttp } from "mcp-effect/node"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* StreamableHttpClient.connect("http://127.0.0.1:3000/mcp")
 *   return yield* client.listTools
 * }).pipe(Effect.scoped, Effect.provide(NodeHttp.layerHttpClient))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  NodeHttpClient.make
)

/**
 * A client connected to a Streamable HTTP server at `url`, for the life of
 * the scope: `StreamableHttpClient.connect` over {@link layerHttpClient}
 * (unless an `HttpClient` is in context, which it uses).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeHttp } from "mcp-effect/node"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* NodeHttp.connect("http://127.0.0.1:3000/mcp")
 *   return yield* client.callTool("echo", { text: "hi" })
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const connect = (
  url: string,
  options?: McpClient.Options & { readonly http?: StreamableHttpClient.Options }
): Effect.Effect<McpClient.Service, RequestError, Scope.Scope> =>
  Effect.flatMap(
    Effect.serviceOption(HttpClient.HttpClient),
    Option.match({
      onNone: () =>
        Effect.flatMap(NodeHttpClient.make, (http) =>
          Effect.provideService(StreamableHttpClient.connect(url, options), HttpClient.HttpClient, http)),
      onSome: () =>
        StreamableHttpClient.connect(url, options)
    })
  )

/**
 * {@link connect} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerClient = (
  url: string,
  options?: McpClient.Options & { readonly http?: StreamableHttpClient.Options }
): Layer.Layer<McpClient.McpClient, RequestError> => Layer.scoped(McpClient.McpClient, connect(url, options))
