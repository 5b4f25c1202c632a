/**
 * What every request to one Streamable HTTP endpoint shares: the server, the
 * sessions, the event store, the limits, and the plumbing between a session's
 * messages and the SSE streams and HTTP responses that carry them. The HTTP
 * methods are served in `post.ts` and `get.ts` over this.
 */
import { Clock, Deferred, Duration, Effect, Exit, Fiber, FiberId, Runtime, Scope } from "effect"
import * as EventStore from "../../EventStore.js"
import { ErrorCode, McpError } from "../../McpError.js"
import type * as McpSchema from "../../McpSchema.js"
import type { McpServer } from "../../McpServer.js"
import type * as SessionStore from "../../SessionStore.js"
import type { Exchange, Options, Reply } from "../../StreamableHttp.js"
import type { MessageExtras } from "../../Transport.js"
import { encoded } from "../encode.js"
import { isRecord, isRequestId } from "../guards.js"
import * as JsonRpc from "../jsonRpc.js"
import * as ProtocolVersion from "../protocolVersion.js"
import type { Guard } from "./authorize.js"
import { DEFAULT_MAX_BUFFERED } from "./backlog.js"
import { ABANDONED, answers, CLOSE_STREAM, EventStream, storeOf } from "./eventStream.js"
import type { Entry, Outgoing, Store } from "./eventStream.js"
import { HttpSession } from "./httpSession.js"
import type { SessionKeeper } from "./keeper.js"
import type { ModernCall, ModernHost } from "./modernCall.js"
import { hostOf } from "./modernCall.js"
import { empty, httpError, Sink } from "./reply.js"

/** The options with their defaults applied. */
export interface Limits {
  readonly maxBody: number
  readonly maxSessions: number
  readonly maxPerClient: number
  readonly maxActive: number
  readonly maxBatch: number
  readonly maxBuffered: number
  readonly idleMillis: number
  readonly unusedMillis: number
  readonly retryMillis: number
  readonly keepAlive: Duration.Duration
  readonly grace: Duration.Duration
}

export const limitsOf = (options: Options): Limits => ({
  maxBody: options.maxBodyBytes ?? 4 * 1024 * 1024,
  maxSessions: options.maxSessions ?? 10_000,
  maxPerClient: options.maxSessionsPerClient ?? Infinity,
  maxActive: options.maxRequestsPerSession ?? 100,
  maxBatch: options.maxBatchEntries ?? 100,
  maxBuffered: options.maxStreamBufferBytes ?? DEFAULT_MAX_BUFFERED,
  idleMillis: Duration.toMillis(options.sessionIdleTimeout ?? Duration.minutes(30)),
  unusedMillis: Duration.toMillis(options.unusedSessionTimeout ?? Duration.seconds(60)),
  retryMillis: options.retryMillis ?? 1000,
  keepAlive: Duration.decode(options.keepAliveInterval ?? Duration.seconds(15)),
  grace: Duration.decode(options.shutdownGracePeriod ?? Duration.seconds(5))
})

/** Most streams a session keeps for a resumption (see `Endpoint.keep`). */
const MAX_KEPT = 1000

/** Session ids: 128 random bits, as visible ASCII. */
const newSessionId = () => crypto.randomUUID()

/** A revived session's stream id generation: 48 random bits, without `-` or `/` (see `HttpSession.generation`). */
const newGeneration = () => `${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}.`

/** Why a session cannot be served, as the reply to the request (with its id) that asked for it. */
export type Refusal = (id: McpSchema.RequestId | null) => Reply

/** A session another process opened, taken up here. */
export interface Revived {
  readonly id: string
  readonly state: SessionStore.SessionState
}

export class Endpoint {
  readonly sessions = new Map<string, HttpSession>()
  /** Every open session, stateless ones included, for shutdown. */
  readonly live = new Set<HttpSession>()
  /** 2026-07-28 requests in flight (each served without a session), for shutdown. */
  readonly calls = new Set<ModernCall>()
  /** What serves those; none for a server not made by `McpServer.make`. */
  readonly modern: ModernHost | undefined
  /** Open SSE replies, for the keep-alive round, with what closes each. */
  readonly openSinks = new Map<Sink, () => void>()
  /** Sessions open per client (remote address), when `maxSessionsPerClient` is set. */
  readonly clients = new Map<string, number>()
  readonly events: Store
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  readonly limits: Limits
  closing = false
  /** The endpoint's authorization, when it is a protected resource. */
  authorization: Guard | undefined = undefined
  /** Keeps sessions in the `SessionStore` for other processes to continue, when one is provided. */
  keeper: SessionKeeper | undefined = undefined
  /** Requests in flight across every session; `drained` completes when it reaches 0 while closing. */
  private inFlight = 0
  private readonly drained = Deferred.unsafeMake<void>(FiberId.none)

  constructor(
    readonly server: McpServer["Type"],
    readonly store: EventStore.Service,
    /** What runs outside a request's own fiber runs on the runtime the app was made with (its logger, tracer...). */
    readonly runtime: Runtime.Runtime<never>,
    readonly options: Options,
    /** Session timestamps come from the app's clock (the `TestClock` in tests), read without an effect. */
    private readonly clock: Clock.Clock = Clock.make()
  ) {
    this.events = storeOf(store, runtime)
    this.runFork = Runtime.runFork(runtime)
    this.limits = limitsOf(options)
    this.modern = hostOf(server)
  }

  now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  // --- sessions ------------------------------------------------------------

  /**
   * Opens a session, or takes up a `revived` one; `client` is counted
   * against `maxSessionsPerClient` until it closes.
   */
  openSession(
    stateless: boolean,
    protocolVersion?: string,
    client?: string,
    revived?: Revived
  ): Effect.Effect<HttpSession> {
    return Effect.gen(this, function*() {
      const id = revived?.id ?? newSessionId()
      // Not a child of the app's scope: on shutdown the app drains first, then closes sessions itself.
      const scope = yield* Scope.make()
      const session = new HttpSession(
        id,
        scope,
        protocolVersion,
        stateless,
        this,
        revived === undefined ? "" : newGeneration()
      )
      session.lastActive = this.now()
      if (client !== undefined) {
        session.client = client
        this.clients.set(client, (this.clients.get(client) ?? 0) + 1)
      }
      this.live.add(session)
      // No fiber per session: messages go straight into the session's receiver. (`connect` runs the session on
      // the server's runtime and keeps nothing of this request's fiber, which would otherwise live as long as it.)
      const connection = yield* this.server.connect(session, {
        sessionId: stateless ? undefined : id,
        ...(stateless ? { initialized: { protocolVersion: protocolVersion ?? ProtocolVersion.latest } } : {}),
        ...(revived !== undefined ? { restored: revived.state } : {}),
        ...(this.keeper !== undefined && !stateless ? { onStateChange: this.keeper.saver(session) } : {})
      }).pipe(Scope.extend(scope))
      session.receiver = connection.receiver
      return session
    })
  }

  /**
   * Why a new session cannot be taken now (shutting down, or a limit
   * reached); `undefined` when it can. Revivals under way hold their places
   * against `maxSessions`; `revival` when asking for one of them.
   */
  admission(client: string | undefined, revival = false): Refusal | undefined {
    if (this.closing) return (id) => httpError(503, "Service Unavailable: the server is shutting down", id)
    const { maxPerClient, maxSessions } = this.limits
    const reviving = (this.keeper?.reviving ?? 0) - (revival ? 1 : 0)
    if (this.sessions.size + reviving >= maxSessions) {
      return (id) => httpError(503, `Service Unavailable: the server holds its maximum of ${maxSessions} sessions`, id)
    }
    if (client !== undefined && (this.clients.get(client) ?? 0) >= maxPerClient) {
      return (id) =>
        httpError(
          429,
          `Too Many Requests: this client already holds its maximum of ${maxPerClient} sessions; ` +
            "end one (DELETE) or wait for one to expire",
          id
        )
    }
    return undefined
  }

  /** The client a session is counted against: its remote address, when sessions per client are limited. */
  clientOf(request: Exchange): string | undefined {
    const address = request.remoteAddress
    if (address === undefined || this.limits.maxPerClient === Infinity) return undefined
    // An IPv4 client of a dual-stack listener is the same client as over IPv4.
    return address.startsWith("::ffff:") ? address.slice(7) : address
  }

  /**
   * Ends a session. From then on its streams store nothing, and no response
   * attaches to them again. Requests still waiting get an answer, so that no
   * HTTP response stays open forever: on a stream, it is the last event,
   * after which the stream ends its response. With `forget` (the client ended
   * it, or it expired), the session store forgets it too; without (shutdown),
   * another process may continue it.
   */
  closeSession(session: HttpSession, forget = false): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.sessions.delete(session.id)
      if (this.live.delete(session) && session.client !== undefined) {
        const left = (this.clients.get(session.client) ?? 1) - 1
        if (left > 0) this.clients.set(session.client, left)
        else this.clients.delete(session.client)
      }
      // A session left for another process keeps its events, for the client to resume there.
      const kept = this.keeper !== undefined && !session.stateless
      const keepEvents = kept && !forget
      if (session.standalone !== undefined) {
        session.standalone.closed = true
        session.standalone.keepEvents = keepEvents
        session.standalone.detach()
      }
      const message = keepEvents
        ? "The server shut down before this request completed; the session goes on, so send the request again"
        : "The session ended before this request completed"
      for (const [id, stream] of session.requests ?? []) {
        stream.closed = true
        stream.keepEvents = keepEvents
        stream.inbox.offer(encoded({ jsonrpc: "2.0", id, error: { code: ErrorCode.ServerError, message } }))
      }
      const streamIds = [
        ...(session.streams?.keys() ?? []),
        ...(session.kept ?? []),
        ...(session.standalone ? [session.standalone.streamId] : [])
      ]
      return Scope.close(session.scope, Exit.void).pipe(
        Effect.zipRight(keepEvents ? Effect.void : Effect.forEach(streamIds, (id) => this.store.remove(id))),
        Effect.zipRight(kept && forget ? this.keeper!.forget(session.id) : Effect.void)
      )
    })
  }

  /**
   * Keeps a stream that ended while detached, for a resumption, until the
   * session ends; past `MAX_KEPT` per session the oldest is forgotten, so
   * that a long-lived session's bookkeeping stays bounded.
   */
  keep(session: HttpSession, streamId: string): void {
    const kept = (session.kept ??= new Set())
    kept.add(streamId)
    if (kept.size <= MAX_KEPT) return
    const oldest = kept.values().next().value!
    kept.delete(oldest)
    this.events.remove(oldest)
  }

  /** A request starts on a session: it holds one of the session's slots until it ends. */
  begin(session: HttpSession): void {
    session.active++
    this.inFlight++
  }

  end(session: HttpSession): void {
    session.active--
    this.ended()
  }

  /** A modern request starts: no session holds it, but shutdown waits for it like any other. */
  beginCall(call: ModernCall): void {
    this.calls.add(call)
    this.inFlight++
  }

  endCall(call: ModernCall): void {
    this.calls.delete(call)
    this.ended()
  }

  private ended(): void {
    if (--this.inFlight === 0 && this.closing) Deferred.unsafeDone(this.drained, Exit.void)
  }

  /**
   * Stops taking sessions, waits up to the grace period for requests in
   * flight, then ends every session and every modern request still running
   * (their handlers interrupted, and awaited).
   */
  get shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closing = true
      if (this.inFlight === 0) Deferred.unsafeDone(this.drained, Exit.void)
      // Finalizers are uninterruptible: only an interruptible wait can be cut short by the timeout.
      return Deferred.await(this.drained).pipe(Effect.interruptible, Effect.timeout(this.limits.grace), Effect.ignore)
    }).pipe(
      Effect.zipRight(
        Effect.suspend(() => Effect.forEach([...this.live], (s) => this.closeSession(s), { discard: true }))
      ),
      Effect.zipRight(Effect.suspend(() => Fiber.interruptAll(this.endCalls())))
    )
  }

  /** Ends every modern request in flight; their handlers' fibers, to await. */
  private endCalls(): Array<Fiber.RuntimeFiber<unknown, McpError>> {
    const fibers: Array<Fiber.RuntimeFiber<unknown, McpError>> = []
    for (const call of [...this.calls]) {
      const fiber = call.end()
      if (fiber !== undefined) fibers.push(fiber)
    }
    return fibers
  }

  /**
   * Closes the sessions idle for longer than the idle timeout (no request in
   * flight and no open GET stream), and those left unused since `initialize`
   * for longer than the unused timeout.
   */
  get sweepIdle(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const now = this.now()
      const { idleMillis } = this.limits
      // The unused timeout only ever shortens a session's life.
      const unusedMillis = Math.min(idleMillis, this.limits.unusedMillis)
      const idle = [...this.sessions.values()].filter(
        (s) => s.active === 0 && !s.standaloneAttached && now - s.lastActive > (s.used ? idleMillis : unusedMillis)
      )
      return Effect.forEach(idle, (s) => this.closeSession(s, true), { discard: true })
    }).pipe(Effect.zipRight(Effect.suspend(() => this.keeper?.touchInUse ?? Effect.void)))
  }

  /**
   * One keep-alive round for every open SSE stream, rather than a timer per
   * stream. A reply whose HTTP response never started (the client left before
   * the platform ran its body) is never attached; found unattached by two
   * rounds, it is closed here, or its session would count as busy for ever.
   */
  keepAliveRound(): void {
    for (const [sink, close] of this.openSinks) {
      if (sink.attached) sink.write(": keep-alive\n\n")
      else if (sink.stale) close()
      else sink.stale = true
    }
  }

  // --- routing ---------------------------------------------------------------

  /** Where a message from the server goes: its request's stream, or the session's standalone stream. */
  route(session: HttpSession, message: unknown, related: McpSchema.RequestId | undefined): void {
    if (session.stateless && isRecord(message) && "method" in message && "id" in message) {
      // No session to answer on: a request to the client fails at once instead of hanging.
      const error = new McpError({
        code: ErrorCode.MethodNotFound,
        message: `${
          String(message.method)
        } is not available in stateless mode: the server cannot send requests to the client`
      })
      return queueMicrotask(() =>
        session.receiver.message(JsonRpc.errorResponse(isRequestId(message.id) ? message.id : null, error))
      )
    }
    const stream = related === undefined ? undefined : session.requests?.get(related) // Encoded here, once: what cannot be encoded fails in the sender's fiber, not later in a stream's.
    ;(stream ?? this.standaloneOf(session)).inbox.offer(encoded(message))
  }

  standaloneOf(session: HttpSession): EventStream {
    if (session.standalone !== undefined) return session.standalone
    const stream = new EventStream(session.standaloneId, undefined)
    session.standalone = stream
    stream.pump(this.events)
    return stream
  }

  /**
   * Sends one request into the session. `onResponse` gets its response, with
   * the stream that would have carried it when the response came first. With
   * `onStream`, anything else that comes first starts a stream: `onStream`
   * gets that entry and the stream, where the request continues. Without it
   * (a client that cannot take SSE), what comes before the response goes to
   * the session's stream.
   */
  answerRequest(
    session: HttpSession,
    message: unknown,
    id: McpSchema.RequestId,
    /** Called with no response when the request was cancelled. */
    onResponse: (response: Outgoing | undefined, stream: EventStream | undefined) => void,
    onStream?: (first: Entry, stream: EventStream) => void,
    extras?: MessageExtras
  ): void {
    const stream = new EventStream(`${session.id}-${session.generation}${++session.counter}`, id)
    ;(session.requests ??= new Map()).set(id, stream)
    this.begin(session)
    const finish = (response: Outgoing | undefined, first: boolean) => {
      session.forgetRequest(id)
      this.end(session)
      onResponse(response, first ? stream : undefined)
    }
    // The mailbox calls back at once while it holds messages, so this recurses only as deep as the backlog.
    const drain = (next: Entry): void => {
      if (answers(next, id)) return finish(next, false)
      if (next === ABANDONED) return finish(undefined, false)
      if (next !== CLOSE_STREAM) this.standaloneOf(session).inbox.offer(next)
      stream.inbox.next(drain)
    }
    stream.inbox.next((first) => {
      if (answers(first, id)) return finish(first, true)
      if (first === ABANDONED) return finish(undefined, false)
      if (onStream !== undefined) return onStream(first, stream)
      drain(first)
    })
    session.receiver.message(message, extras)
  }

  /** The response to a request, whatever came before it; none when it was cancelled. */
  responseTo(session: HttpSession, message: unknown, id: McpSchema.RequestId, extras?: MessageExtras) {
    return Effect.async<Outgoing | undefined>((resume) =>
      this.answerRequest(session, message, id, (response) => resume(Effect.succeed(response)), undefined, extras)
    )
  }

  // --- SSE responses -------------------------------------------------------

  /** The priming event and retry field, for sessions at 2025-11-25 and later (by the negotiated version). */
  primer(session: HttpSession, stream: EventStream): string {
    return ProtocolVersion.primesStreams(session.protocolVersion ?? ProtocolVersion.latest)
      ? `id: ${EventStore.eventId(stream.streamId, 0)}\nretry: ${this.limits.retryMillis}\ndata: \n\n`
      : ""
  }

  newSink(session: HttpSession, stream: EventStream): Sink {
    const sink = new Sink(this.limits.maxBuffered)
    const priming = this.primer(session, stream)
    if (priming !== "") sink.write(priming)
    return sink
  }

  /** An SSE reply fed by `sink`; the stream detaches when the client goes away. */
  sseResponse(stream: EventStream, sink: Sink, headers: Record<string, string>, onClose: () => void = () => {}): Reply {
    let closed = false
    const close = () => {
      if (closed) return
      closed = true
      this.openSinks.delete(sink)
      stream.detach(sink)
      onClose()
    }
    this.openSinks.set(sink, close)
    return {
      _tag: "Stream",
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers },
      attach: (writer) => sink.attach(writer),
      onClose: close
    }
  }

  /** Runs the rarer paths (initialize, stateless, batches, GET, DELETE) as effects, replying with their result. */
  replyWith(effect: Effect.Effect<Reply>, reply: (reply: Reply) => void): void {
    this.runFork(effect).addObserver((exit) => reply(Exit.isSuccess(exit) ? exit.value : empty(500)))
  }
}
