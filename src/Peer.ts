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
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, Fiber, FiberId, Option, Runtime } from "effect"
import type { Scope } from "effect"
import type { RequestError } from "./McpError.js"
import { ConnectionClosedError, ErrorCode, McpError, RequestTimeoutError } from "./McpError.js"
import type { ProgressNotificationParams, ProgressToken, RequestId } from "./McpSchema.js"
import type { Receiver, Transport } from "./Transport.js"
import { logDefect, logThrown } from "./internal/cause.js"
import { isRecord, isRequestId } from "./internal/guards.js"

/** An incoming request after its envelope was validated. */
export interface IncomingRequest {
  readonly id: RequestId
  readonly method: string
  readonly params: Record<string, unknown> | undefined
  readonly progressToken: ProgressToken | undefined
}

/**
 * An answer that needs services: its effect runs with exactly `context` (in
 * place of the peer's own), so that context must hold everything it needs.
 *
 * Starting the handler's fiber with its whole context at once is much cheaper
 * than `Effect.provide` inside it, which compares and restores contexts on
 * every request.
 */
export interface WithContext {
  readonly _tag: "WithContext"
  readonly effect: Effect.Effect<unknown, McpError>
  readonly context: Context.Context<never>
}

/** Runs `effect` with `context` as its whole context (see {@link WithContext}). */
export const withContext = <R>(effect: Effect.Effect<unknown, McpError, R>, context: Context.Context<R>): WithContext => ({
  _tag: "WithContext",
  // The signature ties the effect's requirements to the context it runs with; past it both are erased.
  effect: effect as Effect.Effect<unknown, McpError>,
  context: context as Context.Context<never>
})

/**
 * What a request handler answers: the effect that answers, an effect with its
 * context, an `McpError` to answer at once, or `undefined` for an unknown
 * method.
 */
export type Answer = Effect.Effect<unknown, McpError> | WithContext | McpError | undefined

/** What the peer does with incoming messages. */
export interface Handlers {
  readonly onRequest: (request: IncomingRequest) => Answer
  readonly onNotification?: (method: string, params: Record<string, unknown> | undefined) => void
  /** Whether a JSON-RPC batch is accepted now (only protocol 2025-03-26 has batches). */
  readonly acceptsBatch?: () => boolean
  /** Called once when the transport's input has ended. */
  readonly onClose?: () => void
}

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
}

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

interface InFlight {
  fiber: Fiber.RuntimeFiber<unknown, McpError> | undefined
  cancelled: boolean
}

interface Pending {
  readonly method: string
  readonly deferred: Deferred.Deferred<unknown, McpError | ConnectionClosedError>
  readonly onProgress: ((progress: ProgressNotificationParams) => void) | undefined
  /** Completed and replaced on each progress notification, to wake the timeout loop. */
  progressed: Deferred.Deferred<void>
}

/** Receives a request's response, or `undefined` when none is to be sent (it was cancelled). */
type Respond = (response: object | undefined) => void

const DEFAULT_TIMEOUT = Duration.seconds(60)

const errorResponse = (id: RequestId | null, error: McpError) => ({
  jsonrpc: "2.0" as const,
  id,
  error: error.data === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, data: error.data }
})

const progressTokenOf = (params: Record<string, unknown> | undefined): ProgressToken | undefined => {
  const meta = params?._meta
  if (!isRecord(meta)) return undefined
  const token = meta.progressToken
  return typeof token === "string" || typeof token === "number" ? token : undefined
}

/**
 * Creates a peer on a transport. Nothing is read until `run` is forked; the
 * scope's closing interrupts every handler still running.
 */
export const make = (transport: Transport, handlers: Handlers): Effect.Effect<Peer, never, Scope.Scope> =>
  Effect.flatMap(Effect.runtime<never>(), (runtime) => {
    const peer = unsafeMake(transport, handlers, runtime)
    return Effect.as(Effect.addFinalizer(() => peer.shutdown), peer)
  })

/**
 * Makes a peer whose handlers run on `runtime`, outside any scope: the caller
 * runs `shutdown` when the connection ends.
 */
export const unsafeMake = (
  transport: Transport,
  handlers: Handlers,
  runtime: Runtime.Runtime<never>
): Peer & { readonly shutdown: Effect.Effect<void> } => new PeerImpl(transport, handlers, runtime)

/**
 * The peer as a class: its methods live on the prototype and its maps are
 * made on first use, so an idle peer is a handful of fields (servers hold
 * thousands of idle HTTP sessions).
 */
class PeerImpl implements Peer, Receiver {
  private readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  private inFlight: Map<RequestId, InFlight> | undefined
  private pending: Map<RequestId, Pending> | undefined
  private nextId = 0
  private closed = false
  constructor(
    private readonly transport: Transport,
    private readonly handlers: Handlers,
    private readonly runtime: Runtime.Runtime<never>
  ) {
    this.runFork = Runtime.runFork(runtime)
  }

  /** The peer is its own receiver: call `frame` and `message` on it as methods. */
  get receiver(): Receiver {
    return this
  }

  get run(): Effect.Effect<void> {
    return this.transport.run(this.receiver).pipe(Effect.ensuring(this.shutdown))
  }

  get shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.void
      this.closed = true
      for (const entry of this.pending?.values() ?? []) {
        Deferred.unsafeDone(entry.deferred, Exit.fail(new ConnectionClosedError({ method: entry.method })))
      }
      this.pending?.clear()
      const fibers = Array.from(this.inFlight?.values() ?? []).flatMap((entry) => {
        entry.cancelled = true
        return entry.fiber === undefined ? [] : [entry.fiber]
      })
      this.inFlight?.clear()
      this.handlers.onClose?.()
      return Fiber.interruptAll(fibers)
    })
  }

  isActive(id: RequestId): boolean {
    return this.inFlight?.has(id) ?? false
  }

  notify(method: string, params: unknown, related?: RequestId): void {
    this.send(params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params }, related)
  }

  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options?: RequestOptions
  ): Effect.Effect<unknown, RequestError> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(new ConnectionClosedError({ method }))
      const id = this.nextId++
      const entry: Pending = {
        method,
        deferred: Deferred.unsafeMake(FiberId.none),
        onProgress: options?.onProgress,
        progressed: Deferred.unsafeMake(FiberId.none)
      }
      const pending = (this.pending ??= new Map())
      pending.set(id, entry)
      const wantsProgress = options?.onProgress !== undefined || options?.resetTimeoutOnProgress === true
      const withToken = wantsProgress
        ? { ...params, _meta: { ...(isRecord(params?._meta) ? params._meta : {}), progressToken: id } }
        : params
      try {
        this.send(
          withToken === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params: withToken },
          options?.relatedRequestId
        )
      } catch (thrown) {
        // Not sent (its params cannot be encoded): nothing will answer it.
        pending.delete(id)
        return Effect.die(thrown)
      }
      return awaitAnswer(entry, options).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (!pending.has(id)) return
            pending.delete(id)
            // Tell the peer to stop working on what we no longer wait for.
            if (Exit.isFailure(exit) && method !== "initialize") {
              const reason = Cause.isInterruptedOnly(exit.cause) ? "Request was cancelled" : "Request timed out"
              this.send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason } })
            }
          })
        )
      )
    })
  }

  private send(message: object, related?: RequestId) {
    if (!this.closed) this.transport.send(message, related)
  }

  private respondTo(id: RequestId | undefined): Respond {
    return (response) => {
      if (response !== undefined) this.send(response, id)
      // Cancelled: no response will come, and a transport waiting for one can stop.
      else if (id !== undefined && !this.closed) this.transport.abandon?.(id)
    }
  }

  frame(text: string): void {
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch (e) {
      return this.send(errorResponse(null, McpError.parseError(e instanceof Error ? e.message : "invalid JSON")))
    }
    this.message(message)
  }

  message(message: unknown): void {
    if (Array.isArray(message)) return this.dispatchBatch(message)
    this.dispatch(message, this.respondTo(isRecord(message) && isRequestId(message.id) ? message.id : undefined))
  }

  private exitToResponse(id: RequestId, exit: Exit.Exit<unknown, McpError>): object | undefined {
    // A result must be there: a handler that answered nothing answers the empty result.
    if (Exit.isSuccess(exit)) return { jsonrpc: "2.0", id, result: exit.value === undefined ? {} : exit.value }
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) return errorResponse(id, failure.value)
    // Interrupted without a cancel (the handler interrupted itself): the peer still gets an answer.
    if (Cause.isInterruptedOnly(exit.cause)) {
      return errorResponse(id, McpError.internal("the request was interrupted"))
    }
    // A defect: keep its details on our side, give the peer a safe message.
    this.runFork(logDefect("Request handler failed", exit.cause))
    return errorResponse(id, McpError.internal())
  }

  /** A handler that throws (rather than failing its effect) is a defect: logged here, never thrown at the transport. */
  private defect(cause: unknown) {
    this.runFork(logThrown("Message handler threw", cause))
  }

  private runRequest(request: IncomingRequest, respond: Respond) {
    let answer: Answer
    try {
      answer = this.handlers.onRequest(request)
    } catch (cause) {
      this.defect(cause)
      return respond(errorResponse(request.id, McpError.internal()))
    }
    if (answer === undefined) return respond(errorResponse(request.id, McpError.methodNotFound(request.method)))
    if (answer instanceof McpError) return respond(errorResponse(request.id, answer))
    // Registered before the fiber starts: a handler may report progress before its first yield.
    const entry: InFlight = { fiber: undefined, cancelled: false }
    const inFlight = (this.inFlight ??= new Map())
    inFlight.set(request.id, entry)
    const fiber = Effect.isEffect(answer)
      ? this.runFork(answer)
      : Runtime.runFork(Runtime.make({ ...this.runtime, context: answer.context }))(answer.effect)
    entry.fiber = fiber
    fiber.addObserver((exit) => {
      if (inFlight.get(request.id) === entry) inFlight.delete(request.id)
      respond(entry.cancelled ? undefined : this.exitToResponse(request.id, exit))
    })
  }

  private onCancelled(params: Record<string, unknown> | undefined) {
    const id = params?.requestId
    if (!isRequestId(id)) return
    const entry = this.inFlight?.get(id)
    // A cancel racing the response is harmless: the entry is already gone.
    if (entry === undefined) return
    entry.cancelled = true
    this.inFlight?.delete(id)
    entry.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  private onProgress(params: Record<string, unknown> | undefined) {
    const token = params?.progressToken
    if (!isRequestId(token) || typeof params?.progress !== "number") return
    const entry = this.pending?.get(token)
    if (entry === undefined) return
    const previous = entry.progressed
    entry.progressed = Deferred.unsafeMake(FiberId.none)
    Deferred.unsafeDone(previous, Exit.void)
    if (entry.onProgress) {
      entry.onProgress({
        progressToken: token,
        progress: params.progress,
        ...(typeof params.total === "number" ? { total: params.total } : {}),
        ...(typeof params.message === "string" ? { message: params.message } : {})
      })
    }
  }

  private onResponse(id: RequestId, message: Record<string, unknown>) {
    const entry = this.pending?.get(id)
    if (entry === undefined) return
    this.pending?.delete(id)
    if ("error" in message) {
      const error = isRecord(message.error) ? message.error : {}
      Deferred.unsafeDone(
        entry.deferred,
        Exit.fail(
          new McpError({
            code: typeof error.code === "number" ? error.code : ErrorCode.InternalError,
            message: typeof error.message === "string" ? error.message : "Unknown error",
            data: error.data
          })
        )
      )
    } else {
      Deferred.unsafeDone(entry.deferred, Exit.succeed(message.result))
    }
  }

  /**
   * Validates one message and acts on it. Returns whether `respond` will be
   * called (at once or when a handler ends); notifications and responses
   * never answer.
   */
  private dispatch(message: unknown, respond: Respond): boolean {
    const reply = (id: RequestId | null, error: McpError) => {
      respond(errorResponse(id, error))
      return true
    }
    if (!isRecord(message)) return reply(null, McpError.invalidRequest("a message must be a JSON object"))
    const id = message.id
    const hasId = "id" in message
    if (hasId && !isRequestId(id)) return reply(null, McpError.invalidRequest("id must be a string or an integer"))
    const replyId = isRequestId(id) ? id : null
    const isCall = "method" in message
    if (message.jsonrpc !== "2.0") {
      return hasId || !isCall ? reply(replyId, McpError.invalidRequest('jsonrpc must be "2.0"')) : false
    }
    if (!isCall) {
      if (replyId !== null && ("result" in message || "error" in message)) {
        this.onResponse(replyId, message)
        return false
      }
      return reply(replyId, McpError.invalidRequest("expected a method, or a result or error"))
    }
    const method = message.method
    const params = message.params
    if (typeof method !== "string") {
      return replyId !== null ? reply(replyId, McpError.invalidRequest("method must be a string")) : false
    }
    if (params !== undefined && !isRecord(params)) {
      return replyId !== null ? reply(replyId, McpError.invalidRequest("params must be an object")) : false
    }
    if (replyId === null) {
      if (method === "notifications/cancelled") this.onCancelled(params)
      else if (method === "notifications/progress") this.onProgress(params)
      else {
        try {
          this.handlers.onNotification?.(method, params)
        } catch (cause) {
          this.defect(cause)
        }
      }
      return false
    }
    if (this.inFlight?.has(replyId)) {
      return reply(replyId, McpError.invalidRequest(`id ${JSON.stringify(replyId)} is already used by a request in flight`))
    }
    this.runRequest({ id: replyId, method, params, progressToken: progressTokenOf(params) }, respond)
    return true
  }

  private dispatchBatch(messages: ReadonlyArray<unknown>) {
    if (messages.length === 0) {
      return this.send(errorResponse(null, McpError.invalidRequest("a batch must not be empty")))
    }
    if (!(this.handlers.acceptsBatch?.() ?? false)) {
      return this.send(errorResponse(null, McpError.invalidRequest("batches are not supported by this protocol version")))
    }
    // Answer the batch with one array once every request in it has answered.
    const responses: Array<object> = []
    let outstanding = 0
    let dispatching = true
    const flush = () => {
      if (!dispatching && outstanding === 0 && responses.length > 0) this.send(responses)
    }
    const ids = new Set<RequestId>()
    for (const message of messages) {
      outstanding++
      // An id twice in one batch is refused, even when its first request has already answered.
      if (isRecord(message) && "method" in message && isRequestId(message.id)) {
        if (ids.has(message.id)) {
          responses.push(errorResponse(message.id, McpError.invalidRequest(`id ${JSON.stringify(message.id)} is used twice in the batch`)))
          outstanding--
          continue
        }
        ids.add(message.id)
      }
      const answers = this.dispatch(message, (response) => {
        if (response !== undefined) responses.push(response)
        outstanding--
        flush()
      })
      if (!answers) outstanding--
    }
    dispatching = false
    flush()
  }
}

/** Waits for a request's answer, within its timeout (restarted by progress if asked) and its maximum total. */
const awaitAnswer = (entry: Pending, options: RequestOptions | undefined) => {
  const answer = Deferred.await(entry.deferred)
  const timeout = Duration.decode(options?.timeout ?? DEFAULT_TIMEOUT)
  if (!Duration.isFinite(timeout)) return answer
  const timeoutMillis = Duration.toMillis(timeout)
  const maxTotal = options?.maxTotalTimeout === undefined ? Infinity : Duration.toMillis(options.maxTotalTimeout)
  const reset = options?.resetTimeoutOnProgress ?? false
  const timer = Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    let last = start
    while (true) {
      const now = yield* Clock.currentTimeMillis
      const deadline = Math.min(last + timeoutMillis, start + maxTotal)
      if (now >= deadline) {
        return yield* new RequestTimeoutError({
          method: entry.method,
          timeoutMillis: deadline === start + maxTotal ? maxTotal : timeoutMillis
        })
      }
      const progressed = yield* Deferred.await(entry.progressed).pipe(
        Effect.timeoutTo({ duration: deadline - now, onSuccess: () => true, onTimeout: () => false })
      )
      if (progressed && reset) last = yield* Clock.currentTimeMillis
    }
  })
  return Effect.raceFirst(answer, timer)
}
