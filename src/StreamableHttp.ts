/**
 * MCP over Streamable HTTP (protocol 2025-03-26 and later) as an `HttpApp`
 * that mounts at any path of an `@effect/platform` `HttpRouter`.
 *
 * - POST carries one JSON-RPC message. A request is answered with JSON, or
 *   with an SSE stream as soon as its handler emits anything tied to it
 *   (progress, logs, requests to the client), so nothing is dropped.
 * - Sessions: a random `Mcp-Session-Id` is issued once `initialize` has
 *   succeeded; DELETE ends a session; idle sessions expire; their number is
 *   capped.
 * - GET opens the session's stream of server-initiated messages.
 * - SSE streams open with a priming event and a `retry` field (for sessions
 *   at 2025-11-25 and later), send keep-alive comments, keep what they send in
 *   an `EventStore`, and resume on a GET with `Last-Event-ID`. A handler may
 *   close its stream early (`RequestContext.closeStream`) to make the client
 *   poll (SEP-1699).
 * - `Host` and `Origin` are checked against DNS rebinding, bodies are size
 *   limited and requests per session capped.
 * - Stateless mode serves every POST on a fresh context.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 * import { StreamableHttp } from "mcp-effect"
 *
 * declare const ServerLive: import("effect").Layer.Layer<import("mcp-effect").McpServer.McpServer>
 *
 * const router = Effect.gen(function*() {
 *   const mcp = yield* StreamableHttp.toApp(ServerLive)
 *   return HttpRouter.empty.pipe(
 *     HttpRouter.all("/mcp", mcp),
 *     HttpRouter.get("/health", HttpServerResponse.text("ok"))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Duration, Effect, Exit, Layer, Option, Runtime, Schedule, Scope, Stream } from "effect"
import * as EventStore from "./EventStore.js"
import { McpError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import { McpServer } from "./McpServer.js"
import type { Receiver, Transport } from "./Transport.js"
import { isRecord, isRequestId } from "./internal/guards.js"
import { encode, encoded, isResponse } from "./internal/encode.js"
import * as HttpSecurity from "./internal/httpSecurity.js"
import { immediateStores } from "./internal/immediateStore.js"

export interface Options {
  /** Serve every POST on a fresh context, without sessions. GET and DELETE answer 405. */
  readonly stateless?: boolean
  /** DNS-rebinding protection: on by default for local hosts. */
  readonly dnsRebinding?: HttpSecurity.Options
  /** Largest request body, in bytes; larger ones get 413. Default 4 MiB. */
  readonly maxBodyBytes?: number
  /** Most sessions at once; an `initialize` beyond gets 503. Default 10,000. */
  readonly maxSessions?: number
  /** A session with no request for this long is closed. Default 30 minutes. */
  readonly sessionIdleTimeout?: Duration.DurationInput
  /** Most requests in flight per session; more get 429. Default 100. */
  readonly maxRequestsPerSession?: number
  /** The SSE `retry` field, in milliseconds. Default 1,000. */
  readonly retryMillis?: number
  /** Time between SSE keep-alive comments. Default 15 s. */
  readonly keepAliveInterval?: Duration.DurationInput
  /** On shutdown, how long in-flight requests may run before they are interrupted. Default 5 s. */
  readonly shutdownGracePeriod?: Duration.DurationInput
}

// ---------------------------------------------------------------------------
// Streams of events
// ---------------------------------------------------------------------------

/** Where an SSE response's text goes: the HTTP server's response body. */
export interface Writer {
  readonly write: (chunk: string) => void
  readonly end: () => void
}

/**
 * An SSE response's text as it comes: held until the HTTP server attaches a
 * writer, then written straight through. No queue and no fiber per response:
 * what was held goes out as one chunk, with the headers.
 */
export class Sink {
  private held: Array<string> | undefined = []
  private writer: Writer | undefined
  private ended = false
  /** Seen unattached by a keep-alive round: see the app's keep-alive loop. */
  stale = false

  get attached(): boolean {
    return this.writer !== undefined
  }

  write(chunk: string): void {
    if (this.ended) return
    if (this.writer !== undefined) this.writer.write(chunk)
    else this.held?.push(chunk)
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    this.writer?.end()
  }

  /** Writes what was held, then everything that follows; returns whether anything was written at once. */
  attach(writer: Writer): boolean {
    const held = this.held?.join("") ?? ""
    this.held = undefined
    this.writer = writer
    if (held !== "") writer.write(held)
    if (this.ended) writer.end()
    return held !== "" || this.ended
  }
}

/** Put in a request's inbox by `closeStream`: the HTTP response ends there, in order with what came before. */
const CLOSE_STREAM = Symbol("closeStream")

const sseEvent = (id: string | undefined, text: string) =>
  id === undefined ? `event: message\ndata: ${text}\n\n` : `event: message\nid: ${id}\ndata: ${text}\n\n`

/** A message from the session, encoded once as it comes in (a response that cannot be encoded becomes an error). */
type Outgoing = ReturnType<typeof encoded>

/** Put in a request's inbox when it was cancelled: no response will come, and its HTTP response ends. */
const ABANDONED = Symbol("abandoned")

/** What a request's mailbox holds: its messages, `CLOSE_STREAM` and `ABANDONED`. */
type Entry = Outgoing | typeof CLOSE_STREAM | typeof ABANDONED

/** Whether an entry is the response to request `id`. */
const answers = (entry: Entry, id: McpSchema.RequestId | undefined): entry is Outgoing =>
  id !== undefined && typeof entry === "object" && isResponse(entry.message) && entry.message.id === id



/**
 * A one-reader mailbox: cheaper than a `Queue` (no fiber handoff, nothing
 * allocated until used), which matters because every request gets one.
 */
class Mailbox {
  private buffer: Array<Entry> | undefined
  private waiter: ((message: Entry) => void) | undefined
  offer(message: Entry) {
    const waiter = this.waiter
    if (waiter === undefined) (this.buffer ??= []).push(message)
    else {
      this.waiter = undefined
      waiter(message)
    }
  }
  /** Calls `f` with the next message: at once if one is waiting, else when it comes. One reader at a time. */
  next(f: (message: Entry) => void) {
    const message = this.buffer?.shift()
    if (message !== undefined) f(message)
    else this.waiter = f
  }
}

/**
 * One SSE stream's messages: its pump stores each in the event store
 * and writes it to the HTTP response attached now, if any. A stream outlives
 * its HTTP response (disconnect, or polling), and a GET with `Last-Event-ID`
 * attaches a new one.
 */
class EventStream {
  readonly inbox = new Mailbox()
  sink: Sink | undefined
  /** Its request has answered (or was cancelled): nothing more will come. */
  finished = false
  /** Its session has ended: nothing more is stored, and no response attaches again. */
  closed = false
  private busy = false
  private waiting: Array<() => void> | undefined
  constructor(
    readonly streamId: string,
    /** The request whose response ends this stream; none for the standalone GET stream. */
    readonly requestId: McpSchema.RequestId | undefined
  ) {}

  /**
   * Runs `f` when nothing else holds the stream, until it calls `release`:
   * storing-and-forwarding an event and a resumption's replay-and-attach
   * must not interleave (with a store that answers later).
   */
  exclusive(f: () => void) {
    if (this.busy) return void (this.waiting ??= []).push(f)
    this.busy = true
    try {
      f()
    } catch (thrown) {
      this.release()
      throw thrown
    }
  }

  release() {
    const next = this.waiting?.shift()
    if (next !== undefined) next()
    else this.busy = false
  }

  /**
   * Stores and forwards messages until the response to `requestId` has been
   * sent, starting with `first` when given (the message that opened the
   * stream), then calls `onDone` with whether the store keeps the stream (to
   * resume from: it ended while no response was attached). Plain callbacks:
   * no fiber per stream.
   */
  pump(store: Store, first?: Entry, onDone?: (kept: boolean) => void): void {
    // The mailbox calls back at once while it holds messages; past some depth, go on in a microtask instead.
    let depth = 0
    const take = (entry: Entry): void => {
      if (depth > 32) return queueMicrotask(() => take(entry))
      depth++
      try {
        handle(entry)
      } finally {
        depth--
      }
    }
    const handle = (entry: Entry) => {
      if (entry === CLOSE_STREAM) {
        this.detach()
        return this.inbox.next(take)
      }
      if (entry === ABANDONED) {
        // Cancelled: the stream ends without a response, and nobody will resume it.
        this.finished = true
        this.detach()
        store.remove(this.streamId)
        return onDone?.(false)
      }
      this.exclusive(() => {
        // A closed session's streams store nothing more: what is left goes to the response still attached, if any.
        if (this.closed) return forward(entry, undefined)
        store.append(this.streamId, entry.message, (id) => {
          // Stored while the session was closing: forget it again.
          if (this.closed) store.remove(this.streamId)
          forward(entry, id)
        })
      })
    }
    const forward = (entry: Outgoing, id: string | undefined) => {
      const done = answers(entry, this.requestId)
      const sink = this.sink
      try {
        sink?.write(sseEvent(id, entry.text))
        if (done) {
          this.finished = true
          sink?.end()
          this.sink = undefined
          // Delivered to the end on a live response: nothing is left to resume, so the store can forget it.
          if (sink !== undefined) store.remove(this.streamId)
        }
      } finally {
        this.release()
      }
      if (done) onDone?.(sink === undefined && !this.closed)
      else this.inbox.next(take)
    }
    if (first === undefined) this.inbox.next(take)
    else take(first)
  }

  /** Ends the attached HTTP response, if any; what follows is only stored. */
  detach(sink?: Sink) {
    if (sink !== undefined && this.sink !== sink) return
    this.sink?.end()
    this.sink = undefined
  }
}

/** The event store as the streams call it: with callbacks, at once when the store can. */
interface Store {
  /** Stores a message and calls back with its event id, or with none when the store failed. */
  readonly append: (streamId: string, message: unknown, then: (id: string | undefined) => void) => void
  readonly remove: (streamId: string) => void
}

const storeOf = (store: EventStore.Service, runtime: Runtime.Runtime<never>): Store => {
  const immediate = immediateStores.get(store)
  if (immediate !== undefined) {
    return { append: (streamId, message, then) => then(immediate.append(streamId, message)), remove: immediate.remove }
  }
  return {
    // A store that failed still lets the message through, without an event id: it cannot be resumed from.
    append: (streamId, message, then) =>
      Runtime.runCallback(runtime)(Effect.suspend(() => store.append(streamId, message)), {
        onExit: (exit) => then(Exit.isSuccess(exit) ? exit.value : undefined)
      }),
    remove: (streamId) => {
      Runtime.runFork(runtime)(Effect.suspend(() => store.remove(streamId)))
    }
  }
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

/**
 * One session: its state, and the transport its peer writes to. A class, so
 * that the transport's methods live on the prototype and an idle session
 * holds only its fields.
 */
class HttpSession implements Transport {
  receiver: Receiver = NO_RECEIVER
  /** SSE streams by stream id; made on first use and dropped when empty, so idle sessions stay small. */
  streams: Map<string, EventStream> | undefined = undefined
  /** Streams of requests in flight, by request id; likewise. */
  requests: Map<McpSchema.RequestId, EventStream> | undefined = undefined
  /** Streams that ended while detached, whose events the store keeps for a resumption until the session ends. */
  kept: Set<string> | undefined = undefined
  /** The stream of messages not tied to a request; made when first needed. */
  standalone: EventStream | undefined = undefined
  standaloneAttached = false
  active = 0
  lastActive = Date.now()
  counter = 0

  constructor(
    readonly id: string,
    readonly scope: Scope.CloseableScope,
    /** The negotiated version, known once `initialize` has answered. */
    public protocolVersion: string | undefined,
    readonly stateless: boolean,
    private readonly router: { readonly route: (session: HttpSession, message: unknown, related: McpSchema.RequestId | undefined) => void }
  ) {}

  run(): Effect.Effect<void> {
    return Effect.never
  }

  send(message: unknown, related?: McpSchema.RequestId): void {
    this.router.route(this, message, related)
  }

  closeStream(related: McpSchema.RequestId): void {
    this.requests?.get(related)?.inbox.offer(CLOSE_STREAM)
  }

  abandon(related: McpSchema.RequestId): void {
    this.requests?.get(related)?.inbox.offer(ABANDONED)
  }
}

/**
 * One HTTP request as the app needs it, so that the same logic serves
 * `@effect/platform`'s `HttpApp` and a plain `node:http` listener. Plain
 * callbacks rather than effects: the request path of a call on a live
 * session runs no fiber of its own, only the handler's.
 */
export interface Exchange {
  readonly method: string
  /** A header's value by lower-case name, repeated values joined with ", ". */
  header(name: string): string | undefined
  /** Reads the body as text; `undefined` when it is larger than `maxBytes` or cannot be read. */
  body(maxBytes: number, done: (text: string | undefined) => void): void
}

/**
 * The app's request handler: it calls `reply` exactly once. Whoever writes
 * the reply must run a `Stream` reply's `onClose` when it ends, also when the
 * client has already gone by the time the reply comes.
 */
export type Handler = (request: Exchange, reply: (reply: Reply) => void) => void

/** The app's answer: a whole body, or an SSE stream whose text comes through a `Sink`. */
export type Reply =
  | {
    readonly _tag: "Full"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: string
  }
  | {
    readonly _tag: "Stream"
    readonly headers: Readonly<Record<string, string>>
    readonly sink: Sink
    /** Runs once when the response ends, whether it finished or the client went away. */
    readonly onClose: () => void
  }

const full = (status: number, body: string, headers: Readonly<Record<string, string>> = {}): Reply => ({
  _tag: "Full",
  status,
  headers,
  body
})

const jsonText = (text: string, status = 200, headers: Readonly<Record<string, string>> = {}): Reply =>
  full(status, text, { "content-type": "application/json", ...headers })

const empty = (status: number): Reply => full(status, "")

/** A -32600 for one entry of a batch, as JSON text. */
const refusal = (id: McpSchema.RequestId | null, detail: string) => {
  const error = McpError.invalidRequest(detail)
  return JSON.stringify({ jsonrpc: "2.0", id, error: { code: error.code, message: error.message } })
}

const jsonRpcError = (status: number, code: number, message: string, id: McpSchema.RequestId | null = null) =>
  jsonText(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }), status)


interface AcceptInfo {
  readonly json: boolean
  readonly sse: boolean
  /** SSE ranked above JSON, by q-value and then order: `text/event-stream, application/json` asks for SSE first. */
  readonly prefersSse: boolean
}

const parseAccept = (header: string): AcceptInfo => {
  const ranks = header.split(",").map((part, index) => {
    const [type, ...params] = part.split(";").map((p) => p.trim().toLowerCase())
    const q = params.find((p) => p.startsWith("q="))
    return { type, q: q === undefined ? 1 : Number(q.slice(2)), index }
  })
  const wildcard = ranks.some((r) => r.type === "*/*")
  const sse = ranks.find((r) => r.type === "text/event-stream")
  const json = ranks.find((r) => r.type === "application/json")
  return {
    json: wildcard || json !== undefined,
    sse: wildcard || sse !== undefined,
    prefersSse: sse !== undefined && (json === undefined || (sse.q !== json.q ? sse.q > json.q : sse.index < json.index))
  }
}

/** Clients send the same few Accept headers over and over: parse each once. */
const acceptCache = new Map<string, AcceptInfo>()

const acceptOf = (header: string | undefined): AcceptInfo => {
  const key = header ?? ""
  let info = acceptCache.get(key)
  if (info === undefined) {
    info = parseAccept(key)
    if (acceptCache.size >= 64) acceptCache.clear()
    acceptCache.set(key, info)
  }
  return info
}

const forgetRequest = (session: HttpSession, id: McpSchema.RequestId) => {
  session.requests?.delete(id)
  if (session.requests?.size === 0) session.requests = undefined
}

/** Stands in for a session's receiver until its peer exists (never for long: both are made together). */
const NO_RECEIVER: Receiver = { frame: () => {}, message: () => {} }

/** Session ids: 128 random bits, as visible ASCII. */
const newSessionId = () => crypto.randomUUID()

/**
 * Makes the app's request handler for the `McpServer` in context, independent
 * of any HTTP server: `make` wraps it as an `HttpApp`, and `NodeHttp` calls it
 * straight from `node:http`. Sessions live in the scope.
 *
 * Any other HTTP server can drive it too: hand it the request, write the
 * reply it gives back.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { StreamableHttp } from "mcp-effect"
 *
 * declare const request: { method: string; headers: Record<string, string>; text: string }
 * declare const write: (status: number, headers: Record<string, string>, body: string) => void
 *
 * const program = Effect.gen(function*() {
 *   const handle = yield* StreamableHttp.makeHandler({ maxBodyBytes: 1_000_000 })
 *   handle({
 *     method: request.method,
 *     header: (name) => request.headers[name],
 *     body: (maxBytes, done) => done(request.text.length <= maxBytes ? request.text : undefined)
 *   }, (reply) => {
 *     if (reply._tag === "Full") write(reply.status, reply.headers, reply.body)
 *     else reply.onClose() // an SSE stream: `reply.sink.attach(writer)`, and `onClose` once the response ends
 *   })
 * })
 * ```
 */
export const makeHandler = (options: Options = {}): Effect.Effect<Handler, never, McpServer | Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* McpServer
    const store = Option.getOrElse(yield* Effect.serviceOption(EventStore.EventStore), () => EventStore.makeMemory())
    // What runs outside a request's own fiber runs on the runtime the app was made with (its logger, tracer...).
    const runtime = yield* Effect.runtime<never>()
    const runFork = Runtime.runFork(runtime)
    const events = storeOf(store, runtime)
    const appScope = yield* Effect.scope
    const sessions = new Map<string, HttpSession>()
    /** Every open session, stateless ones included, for shutdown. */
    const live = new Set<HttpSession>()
    const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024
    const maxSessions = options.maxSessions ?? 10_000
    const maxActive = options.maxRequestsPerSession ?? 100
    const idleMillis = Duration.toMillis(options.sessionIdleTimeout ?? Duration.minutes(30))
    const retryMillis = options.retryMillis ?? 1000
    const keepAlive = options.keepAliveInterval ?? Duration.seconds(15)
    let closing = false

    const fork = <A>(effect: Effect.Effect<A>, scope: Scope.Scope) => runFork(Effect.forkIn(effect, scope))

    // --- sessions --------------------------------------------------------

    const openSession = (stateless: boolean, protocolVersion?: string) =>
      Effect.gen(function*() {
        const id = newSessionId()
        // Not a child of the app's scope: on shutdown the app drains first, then closes sessions itself.
        const scope = yield* Scope.make()
        const session = new HttpSession(id, scope, protocolVersion, stateless, router)
        live.add(session)
        // No fiber per session: messages go straight into the session's receiver. (`connect` runs the session on
        // the server's runtime and keeps nothing of this request's fiber, which would otherwise live as long as it.)
        const connection = yield* server.connect(session, {
          sessionId: stateless ? undefined : id,
          ...(stateless ? { initialized: { protocolVersion: protocolVersion ?? McpSchema.LATEST_PROTOCOL_VERSION } } : {})
        }).pipe(Scope.extend(scope))
        session.receiver = connection.receiver
        return session
      })

    const closeSession = (session: HttpSession) =>
      Effect.suspend(() => {
        sessions.delete(session.id)
        live.delete(session)
        // From now on the session's streams store nothing, and no response attaches to them again. Requests still
        // waiting get an answer, so that no HTTP response stays open forever: on a stream, it is the last event,
        // after which the stream ends its response.
        if (session.standalone !== undefined) {
          session.standalone.closed = true
          session.standalone.detach()
        }
        for (const [id, stream] of session.requests ?? []) {
          stream.closed = true
          stream.inbox.offer(encoded({
            jsonrpc: "2.0",
            id,
            error: { code: -32000, message: "The session ended before this request completed" }
          }))
        }
        const streamIds = [
          ...(session.streams?.keys() ?? []),
          ...(session.kept ?? []),
          ...(session.standalone ? [session.standalone.streamId] : [])
        ]
        return Scope.close(session.scope, Exit.void).pipe(Effect.zipRight(Effect.forEach(streamIds, store.remove)))
      })

    /** Where a message from the server goes: its request's stream, or the session's standalone stream. */
    const route = (session: HttpSession, message: unknown, related: McpSchema.RequestId | undefined) => {
      if (session.stateless && isRecord(message) && "method" in message && "id" in message) {
        // No session to answer on: a request to the client fails at once instead of hanging.
        queueMicrotask(() =>
          session.receiver.message({
            jsonrpc: "2.0",
            id: message.id,
            error: {
              code: -32601,
              message: `${String(message.method)} is not available in stateless mode: the server cannot send requests to the client`
            }
          })
        )
        return
      }
      const stream = related === undefined ? undefined : session.requests?.get(related)
      // Encoded here, once: what cannot be encoded fails in the sender's fiber, not later in a stream's.
      ;(stream ?? standaloneOf(session)).inbox.offer(encoded(message))
    }

    const router = { route }

    const standaloneOf = (session: HttpSession): EventStream => {
      if (session.standalone !== undefined) return session.standalone
      const stream = new EventStream(`${session.id}-0`, undefined)
      session.standalone = stream
      stream.pump(events)
      return stream
    }

    // One timer keeps every open SSE stream alive, rather than a timer per stream.
    // A reply whose HTTP response never started (the client left before the platform ran its body) is never attached;
    // found unattached by two rounds, it is closed here, or its session would count as busy for ever.
    const openSinks = new Map<Sink, () => void>()
    yield* Effect.forkIn(
      Effect.sync(() => {
        for (const [sink, close] of openSinks) {
          if (sink.attached) sink.write(": keep-alive\n\n")
          else if (sink.stale) close()
          else sink.stale = true
        }
      }).pipe(Effect.delay(keepAlive), Effect.forever),
      appScope
    )

    // Idle sessions are closed; a session with a request in flight or an open GET stream is not idle.
    yield* Effect.forkIn(
      Effect.suspend(() => {
        const now = Date.now()
        const idle = [...sessions.values()].filter(
          (s) => s.active === 0 && !s.standaloneAttached && now - s.lastActive > idleMillis
        )
        return Effect.forEach(idle, closeSession, { discard: true })
      }).pipe(Effect.repeat(Schedule.spaced(Duration.millis(Math.max(1000, Math.min(idleMillis / 2, 60_000)))))),
      appScope
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        closing = true
        // Finalizers are uninterruptible, so the grace period is a deadline the loop checks, not a timeout.
        const deadline = Date.now() + Duration.toMillis(options.shutdownGracePeriod ?? Duration.seconds(5))
        const busy = () => [...live].some((s) => s.active > 0) && Date.now() < deadline
        yield* Effect.sleep("20 millis").pipe(Effect.repeat({ while: busy }))
        yield* Effect.forEach([...live], closeSession, { discard: true })
      })
    )

    // --- SSE responses ---------------------------------------------------

    /** The priming event and retry field, for sessions at 2025-11-25 and later (by the negotiated version). */
    const primer = (session: HttpSession, stream: EventStream) =>
      McpSchema.versionAtLeast(session.protocolVersion ?? McpSchema.LATEST_PROTOCOL_VERSION, "2025-11-25")
        ? `id: ${EventStore.eventId(stream.streamId, 0)}\nretry: ${retryMillis}\ndata: \n\n`
        : ""

    /** An SSE reply fed by `sink`; the stream detaches when the client goes away. */
    const sseResponse = (
      stream: EventStream,
      sink: Sink,
      headers: Record<string, string>,
      onClose: () => void = () => {}
    ): Reply => {
      let closed = false
      const close = () => {
        if (closed) return
        closed = true
        openSinks.delete(sink)
        stream.detach(sink)
        onClose()
      }
      openSinks.set(sink, close)
      return {
        _tag: "Stream",
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers },
        sink,
        onClose: close
      }
    }

    const newSink = (session: HttpSession, stream: EventStream) => {
      const sink = new Sink()
      const priming = primer(session, stream)
      if (priming !== "") sink.write(priming)
      return sink
    }

    // --- POST ------------------------------------------------------------

    const sessionHeaders = (session: HttpSession): Record<string, string> =>
      session.stateless ? {} : { "mcp-session-id": session.id }

    const checkVersionHeader = (session: HttpSession, header: string | undefined) => {
      if (header === undefined) return undefined
      if (!McpSchema.SUPPORTED_PROTOCOL_VERSIONS.includes(header)) {
        return `Unsupported MCP-Protocol-Version ${JSON.stringify(header)}; supported: ${McpSchema.SUPPORTED_PROTOCOL_VERSIONS.join(", ")}`
      }
      if (session.protocolVersion !== undefined && header > session.protocolVersion) {
        return `MCP-Protocol-Version ${header} is newer than the session's negotiated ${session.protocolVersion}`
      }
      return undefined
    }

    /** Runs the rarer paths (initialize, stateless, batches, GET, DELETE) as effects, replying with their result. */
    const replyWith = (effect: Effect.Effect<Reply>, reply: (reply: Reply) => void) => {
      runFork(effect).addObserver((exit) => reply(Exit.isSuccess(exit) ? exit.value : empty(500)))
    }

    /**
     * Sends one request into the session. `onResponse` gets its response, with
     * the stream that would have carried it when the response came first. With
     * `onStream`, anything else that comes first starts a stream: `onStream`
     * gets that entry and the stream, where the request continues. Without it
     * (a client that cannot take SSE), what comes before the response goes to
     * the session's stream.
     */
    const answerRequest = (
      session: HttpSession,
      message: Record<string, unknown>,
      id: McpSchema.RequestId,
      /** Called with no response when the request was cancelled. */
      onResponse: (response: Outgoing | undefined, stream: EventStream | undefined) => void,
      onStream?: (first: Entry, stream: EventStream) => void
    ) => {
      const stream = new EventStream(`${session.id}-${++session.counter}`, id)
      ;(session.requests ??= new Map()).set(id, stream)
      session.active++
      const finish = (response: Outgoing | undefined, first: boolean) => {
        forgetRequest(session, id)
        session.active--
        onResponse(response, first ? stream : undefined)
      }
      // The mailbox calls back at once while it holds messages, so this recurses only as deep as the backlog.
      const drain = (next: Entry): void => {
        if (answers(next, id)) return finish(next, false)
        if (next === ABANDONED) return finish(undefined, false)
        if (next !== CLOSE_STREAM) standaloneOf(session).inbox.offer(next)
        stream.inbox.next(drain)
      }
      stream.inbox.next((first) => {
        if (answers(first, id)) return finish(first, true)
        if (first === ABANDONED) return finish(undefined, false)
        if (onStream !== undefined) return onStream(first, stream)
        drain(first)
      })
      session.receiver.message(message)
    }

    /** The response to a request, whatever came before it; none when it was cancelled. */
    const responseTo = (session: HttpSession, message: Record<string, unknown>, id: McpSchema.RequestId) =>
      Effect.async<Outgoing | undefined>((resume) =>
        answerRequest(session, message, id, (response) => resume(Effect.succeed(response)))
      )

    const handlePost = (request: Exchange, reply: (reply: Reply) => void) => {
      const accept = acceptOf(request.header("accept"))
      if (!accept.json || !accept.sse) {
        return reply(jsonRpcError(406, -32000, "Not Acceptable: the Accept header must list application/json and text/event-stream"))
      }
      const contentType = request.header("content-type") ?? ""
      if (!contentType.toLowerCase().startsWith("application/json")) {
        return reply(jsonRpcError(415, -32000, "Unsupported Media Type: the Content-Type must be application/json"))
      }
      const tooLarge = () => reply(jsonRpcError(413, -32000, `Payload Too Large: the body exceeds ${maxBody} bytes`))
      if (Number(request.header("content-length") ?? "0") > maxBody) return tooLarge()
      // The reader itself stops at maxBody bytes and answers undefined.
      request.body(maxBody, (text) => {
        if (text === undefined) return tooLarge()
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch (e) {
          return reply(jsonRpcError(400, -32700, `Parse error: ${e instanceof Error ? e.message : "invalid JSON"}`))
        }
        handleMessage(request, accept, body, reply)
      })
    }

    const handleMessage = (request: Exchange, accept: AcceptInfo, body: unknown, reply: (reply: Reply) => void) => {
      if (Array.isArray(body)) return replyWith(handleBatch(request, body), reply)
      if (!isRecord(body) || body.jsonrpc !== "2.0") {
        return reply(jsonRpcError(400, -32600, 'Invalid request: expected one JSON-RPC 2.0 message with jsonrpc "2.0"'))
      }
      let requestId: McpSchema.RequestId | undefined
      if (typeof body.method === "string" && "id" in body) {
        if (!isRequestId(body.id)) return reply(jsonRpcError(400, -32600, "Invalid request: id must be a string or an integer"))
        requestId = body.id
      }
      if (options.stateless) return replyWith(handleStateless(request, accept, body, requestId), reply)
      if (body.method === "initialize" && requestId !== undefined) return replyWith(handleInitialize(body, requestId), reply)

      const sessionId = request.header("mcp-session-id")
      if (sessionId === undefined) {
        return reply(jsonRpcError(400, -32000, "Bad Request: the Mcp-Session-Id header is required", requestId ?? null))
      }
      const session = sessions.get(sessionId)
      if (session === undefined) {
        return reply(jsonRpcError(404, -32001, "Session not found: it expired or was ended; initialize a new one", requestId ?? null))
      }
      session.lastActive = Date.now()
      const versionError = checkVersionHeader(session, request.header("mcp-protocol-version"))
      if (versionError !== undefined) return reply(jsonRpcError(400, -32000, `Bad Request: ${versionError}`, requestId ?? null))
      if (requestId === undefined) {
        session.receiver.message(body)
        return reply(empty(202))
      }
      if (session.requests?.has(requestId)) {
        return reply(jsonRpcError(409, -32600, `Invalid request: id ${JSON.stringify(requestId)} is already used by a request in flight`, requestId))
      }
      if (session.active >= maxActive) {
        return reply(jsonRpcError(429, -32000, `Too Many Requests: at most ${maxActive} requests may be in flight per session`, requestId))
      }
      respond(session, body, requestId, accept, reply)
    }

    /**
     * Answers a request with JSON, or with SSE once something else comes
     * first; `onDone` runs when the request is over either way.
     */
    const respond = (
      session: HttpSession,
      body: Record<string, unknown>,
      requestId: McpSchema.RequestId,
      { prefersSse, sse }: AcceptInfo,
      reply: (reply: Reply) => void,
      onDone?: () => void
    ) => {
      const onResponse = (response: Outgoing | undefined, stream: EventStream | undefined) => {
        onDone?.()
        if (response === undefined) return reply(empty(202))
        if (stream === undefined || !prefersSse) return reply(jsonText(response.text, 200, sessionHeaders(session)))
        // SSE asked for and the answer already here: the whole stream is one event, sent as one body. There is
        // nothing to resume, so it is not stored.
        const id = EventStore.eventId(stream.streamId, 1)
        reply(full(200, primer(session, stream) + sseEvent(id, response.text), {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          ...sessionHeaders(session)
        }))
      }
      const onStream = (first: Entry, stream: EventStream) => {
        ;(session.streams ??= new Map()).set(stream.streamId, stream)
        const sink = newSink(session, stream)
        stream.sink = sink
        // Messages tied to the request keep coming to this stream (it stays in `requests`) until its response.
        stream.pump(events, first, (kept) => {
          // Ended while no response was attached: kept for a resumption until the session ends.
          if (kept) (session.kept ??= new Set()).add(stream.streamId)
          session.active--
          forgetRequest(session, requestId)
          session.streams?.delete(stream.streamId)
          if (session.streams?.size === 0) session.streams = undefined
          onDone?.()
        })
        reply(sseResponse(stream, sink, sessionHeaders(session)))
      }
      answerRequest(session, body, requestId, onResponse, sse ? onStream : undefined)
    }

    const handleInitialize = (body: Record<string, unknown>, requestId: McpSchema.RequestId) =>
      Effect.gen(function*() {
        if (closing) return jsonRpcError(503, -32000, "Service Unavailable: the server is shutting down", requestId)
        if (sessions.size >= maxSessions) {
          return jsonRpcError(503, -32000, `Service Unavailable: the server holds its maximum of ${maxSessions} sessions`, requestId)
        }
        const session = yield* openSession(false)
        const answer = yield* responseTo(session, body, requestId)
        const response = answer?.message
        if (answer === undefined || !isRecord(response) || !isRecord(response.result)) {
          // A failed initialize leaves nothing behind.
          yield* closeSession(session)
          return answer === undefined ? empty(202) : jsonText(answer.text, 400)
        }
        const version = response.result.protocolVersion
        session.protocolVersion = typeof version === "string" ? version : McpSchema.LATEST_PROTOCOL_VERSION
        sessions.set(session.id, session)
        return jsonText(answer.text, 200, sessionHeaders(session))
      })

    const handleStateless = (
      request: Exchange,
      accept: AcceptInfo,
      body: Record<string, unknown>,
      requestId: McpSchema.RequestId | undefined
    ) =>
      Effect.gen(function*() {
        const header = request.header("mcp-protocol-version")
        if (header !== undefined && !McpSchema.SUPPORTED_PROTOCOL_VERSIONS.includes(header)) {
          return jsonRpcError(400, -32000, `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(header)}`, requestId ?? null)
        }
        if (requestId === undefined) return empty(202)
        const session = yield* openSession(true, header ?? McpSchema.LATEST_PROTOCOL_VERSION)
        // The fresh context lives as long as its one request.
        return yield* Effect.async<Reply>((resume) =>
          respond(session, body, requestId, accept, (reply) => resume(Effect.succeed(reply)), () => {
            fork(closeSession(session), appScope)
          })
        )
      })

    const handleBatch = (request: Exchange, messages: ReadonlyArray<unknown>) =>
      Effect.gen(function*() {
        const session = sessions.get(request.header("mcp-session-id") ?? "")
        if (session === undefined || session.protocolVersion !== "2025-03-26") {
          return jsonRpcError(400, -32600, "Invalid request: JSON-RPC batches are only accepted under protocol 2025-03-26")
        }
        session.lastActive = Date.now()
        const isCall = (m: unknown): m is Record<string, unknown> & { readonly id: McpSchema.RequestId } =>
          isRecord(m) && typeof m.method === "string" && isRequestId(m.id)
        // Refused here, inline: an id already in flight (its stream must not be taken over), an id twice in the
        // batch, and an entry that is no JSON-RPC message at all.
        const refusals = new Map<unknown, string>()
        const fresh = new Set<McpSchema.RequestId>()
        for (const message of messages) {
          if (isCall(message)) {
            if (session.requests?.has(message.id)) {
              refusals.set(message, refusal(message.id, `id ${JSON.stringify(message.id)} is already used by a request in flight`))
            } else if (fresh.has(message.id)) {
              refusals.set(message, refusal(message.id, `id ${JSON.stringify(message.id)} is used twice in the batch`))
            } else fresh.add(message.id)
          } else if (!isRecord(message) || ("method" in message ? "id" in message : !("id" in message))) {
            const id = isRecord(message) && isRequestId(message.id) ? message.id : null
            refusals.set(message, refusal(id, "expected a JSON-RPC 2.0 request, notification or response"))
          }
        }
        if (session.active + fresh.size > maxActive) {
          return jsonRpcError(429, -32000, `Too Many Requests: at most ${maxActive} requests may be in flight per session`)
        }
        const answers = yield* Effect.forEach(messages, (message) => {
          const refused = refusals.get(message)
          if (refused !== undefined) return Effect.succeed([refused])
          if (!isCall(message)) {
            return Effect.sync(() => {
              session.receiver.message(message)
              return []
            })
          }
          return Effect.map(responseTo(session, message, message.id), (response) => response === undefined ? [] : [response.text])
        }, { concurrency: "unbounded" })
        const responses = answers.flat()
        return responses.length === 0
          ? empty(202)
          : jsonText(`[${responses.join(",")}]`, 200, sessionHeaders(session))
      })

    // --- GET -------------------------------------------------------------

    const handleGet = (request: Exchange) =>
      Effect.gen(function*() {
        if (options.stateless) return jsonRpcError(405, -32000, "Method Not Allowed: a stateless server has no GET stream")
        if (!acceptOf(request.header("accept")).sse) {
          return jsonRpcError(406, -32000, "Not Acceptable: the Accept header must list text/event-stream")
        }
        const sessionId = request.header("mcp-session-id")
        if (sessionId === undefined) return jsonRpcError(400, -32000, "Bad Request: the Mcp-Session-Id header is required")
        const session = sessions.get(sessionId)
        if (session === undefined) return jsonRpcError(404, -32001, "Session not found")
        session.lastActive = Date.now()
        const versionError = checkVersionHeader(session, request.header("mcp-protocol-version"))
        if (versionError !== undefined) return jsonRpcError(400, -32000, `Bad Request: ${versionError}`)
        const lastEventId = request.header("last-event-id")
        if (lastEventId !== undefined) return yield* resume(session, lastEventId)
        if (session.standaloneAttached) {
          return jsonRpcError(409, -32000, "Conflict: this session already has an open GET stream")
        }
        const standalone = standaloneOf(session)
        const sink = newSink(session, standalone)
        standalone.sink = sink
        session.standaloneAttached = true
        return sseResponse(standalone, sink, sessionHeaders(session), () => {
          if (standalone.sink === undefined) session.standaloneAttached = false
        })
      })

    /** Replays what a stream sent after `lastEventId`, then carries on with it if it is still live. */
    /** Runs `effect` holding the stream (see `EventStream.exclusive`). */
    const exclusively = <A>(stream: EventStream, effect: Effect.Effect<A>) =>
      Effect.acquireUseRelease(
        Effect.async<void>((resume) => stream.exclusive(() => resume(Effect.void))),
        () => effect,
        () => Effect.sync(() => stream.release())
      )

    const resume = (session: HttpSession, lastEventId: string) =>
      Effect.gen(function*() {
        const parsed = EventStore.parseEventId(lastEventId)
        if (parsed === undefined || !parsed.streamId.startsWith(session.id)) {
          return jsonRpcError(400, -32000, "Bad Request: Last-Event-ID does not name a stream of this session")
        }
        const live = parsed.streamId === `${session.id}-0`
          ? standaloneOf(session)
          : session.streams?.get(parsed.streamId)
        const sink = new Sink()
        const attach = Effect.gen(function*() {
          const replay = yield* store.replayAfter(lastEventId)
          if (Option.isSome(replay)) {
            for (const event of replay.value.events) sink.write(sseEvent(event.id, encode(event.message)))
          }
          if (live === undefined || live.finished || live.closed) sink.end()
          else {
            live.detach()
            live.sink = sink
            if (live === session.standalone) session.standaloneAttached = true
          }
        })
        yield* live === undefined ? attach : exclusively(live, attach)
        return sseResponse(live ?? new EventStream(parsed.streamId, undefined), sink, sessionHeaders(session), () => {
          if (live !== undefined && live === session.standalone && live.sink === undefined) {
            session.standaloneAttached = false
          }
        })
      })

    // --- DELETE ----------------------------------------------------------

    const handleDelete = (request: Exchange) =>
      Effect.gen(function*() {
        if (options.stateless) return jsonRpcError(405, -32000, "Method Not Allowed: a stateless server has no sessions")
        const sessionId = request.header("mcp-session-id")
        if (sessionId === undefined) return jsonRpcError(400, -32000, "Bad Request: the Mcp-Session-Id header is required")
        const session = sessions.get(sessionId)
        if (session === undefined) return jsonRpcError(404, -32001, "Session not found")
        yield* closeSession(session)
        return empty(200)
      })

    const handle: Handler = (request, reply) => {
      const refused = HttpSecurity.check(request, options.dnsRebinding)
      if (refused !== undefined) return reply(jsonRpcError(403, -32000, `Forbidden: ${refused}`))
      switch (request.method) {
        case "POST":
          return handlePost(request, reply)
        case "GET":
          return replyWith(handleGet(request), reply)
        case "DELETE":
          return replyWith(handleDelete(request), reply)
        default: {
          const refusal = jsonRpcError(405, -32000, `Method Not Allowed: ${request.method}`)
          const allow = options.stateless ? "POST" : "GET, POST, DELETE"
          return reply({ ...refusal, headers: { ...refusal.headers, allow } })
        }
      }
    }
    return handle
  })

/**
 * Makes the Streamable HTTP app for the `McpServer` in context, as an
 * `HttpApp` to mount in an `HttpRouter`. Sessions live in the scope; closing
 * it drains in-flight requests for the grace period, then ends every session.
 */
export const make = (options: Options = {}): Effect.Effect<HttpApp.Default, never, McpServer | Scope.Scope> =>
  Effect.map(makeHandler(options), (handle) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.flatMap(
        Effect.async<Reply>((resume) => {
          let gone = false
          let replied = false
          const reply = (reply: Reply) => {
            if (replied) return
            replied = true
            if (!gone) resume(Effect.succeed(reply))
            else if (reply._tag === "Stream") reply.onClose()
          }
          // What the handler throws becomes this request's defect (a 500), never an exception elsewhere.
          const guard = (f: () => void) => {
            try {
              f()
            } catch (thrown) {
              if (replied) return
              replied = true
              resume(Effect.die(thrown))
            }
          }
          guard(() =>
            handle({
              method: request.method,
              header: (name) => request.headers[name],
              body: (maxBytes, done) =>
                Effect.runCallback(request.text.pipe(HttpServerRequest.withMaxBodySize(Option.some(maxBytes))), {
                  onExit: (exit) => guard(() => done(Exit.isSuccess(exit) ? exit.value : undefined))
                })
            }, reply)
          )
          return Effect.sync(() => {
            gone = true
          })
        }),
        (reply) =>
          // The platform runs each request in a scope that closes once its response is written, or abandoned before
          // its body ever ran: a stream's `onClose` (which runs once) is tied to both.
          reply._tag === "Stream"
            ? Effect.serviceOption(Scope.Scope).pipe(
              Effect.flatMap((scope) =>
                Option.isSome(scope) ? Scope.addFinalizer(scope.value, Effect.sync(reply.onClose)) : Effect.void
              ),
              Effect.as(toResponse(reply))
            )
            : Effect.succeed(toResponse(reply))
      )))

const encoder = new TextEncoder()

/** A reply as an `@effect/platform` response. */
const toResponse = (reply: Reply): HttpServerResponse.HttpServerResponse => {
  if (reply._tag === "Full") {
    const { "content-type": contentType, ...headers } = reply.headers
    return reply.body === "" && contentType === undefined
      ? HttpServerResponse.empty({ status: reply.status, headers })
      : HttpServerResponse.text(reply.body, { status: reply.status, headers, contentType: contentType ?? "text/plain" })
  }
  const { "content-type": contentType, ...headers } = reply.headers
  const body = Stream.async<Uint8Array>((emit) => {
    reply.sink.attach({ write: (text) => emit.single(encoder.encode(text)), end: () => emit.end() })
  }, "unbounded").pipe(Stream.ensuring(Effect.sync(reply.onClose)))
  return HttpServerResponse.stream(body, { contentType: contentType ?? "text/event-stream", headers })
}

/**
 * Builds a server layer in the scope and returns its Streamable HTTP app, to
 * mount with `HttpRouter.all(path, app)`. Several servers can be mounted in
 * one router, each from its own layer.
 */
export const toApp = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  options?: Options
): Effect.Effect<HttpApp.Default, E, Scope.Scope | R> =>
  Effect.flatMap(Layer.build(server), (context) => make(options).pipe(Effect.provide(context)))

export type { HttpSecurity }
