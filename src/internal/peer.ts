/**
 * The peer's machinery: see `Peer.ts` for what it does. A class whose methods
 * live on the prototype and whose maps are made on first use, so that an idle
 * peer is a handful of fields (servers hold thousands of idle HTTP sessions).
 * The per-message path (validate, dispatch, respond) runs on plain callbacks,
 * without a queue hop or a fiber per message: only a handler gets a fiber.
 * That is where most of the CPU per call went in a stream-based design
 * (docs/benchmarks.md).
 */
import type { Clock, Scope } from "effect"
import { Cause, Context, Duration, Effect, Exit, Fiber, FiberId, FiberRef, Option, Runtime, Tracer } from "effect"
import type { RequestError } from "../McpError.js"
import { ConnectionClosedError, ErrorCode, McpError, RequestTimeoutError } from "../McpError.js"
import type { ProgressNotificationParams, RequestId } from "../McpSchema.js"
import type { Answer, Handlers, IncomingRequest, Peer, RequestOptions } from "../Peer.js"
import type { MessageExtras, Receiver, Transport } from "../Transport.js"
import { logDefect, logThrown } from "./cause.js"
import { isRecord, isRequestId } from "./guards.js"
import * as JsonRpc from "./jsonRpc.js"
import type { Operation, Telemetry } from "./telemetry.js"

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
export const withContext = <R>(
  effect: Effect.Effect<unknown, McpError, R>,
  context: Context.Context<R>
): WithContext => ({
  _tag: "WithContext",
  // The signature ties the effect's requirements to the context it runs with; past it both are erased.
  effect: effect as Effect.Effect<unknown, McpError>,
  context: context as Context.Context<never>
})

/** What the framework's own handlers may answer besides a public {@link Answer}. */
export type InternalAnswer = Answer | WithContext

export interface InternalHandlers extends Omit<Handlers, "onRequest"> {
  readonly onRequest: (request: IncomingRequest) => InternalAnswer
}

/** A peer that its owner shuts down when the connection ends. */
export interface Connection extends Peer {
  readonly shutdown: Effect.Effect<void>
  /**
   * Runs `effect` as part of the call of ours that `related` names, if it
   * still waits: with that caller's services beside `context` (which win
   * where both have one); else with `context` alone.
   */
  readonly runFor: (
    related: RequestId | undefined,
    effect: Effect.Effect<unknown, McpError>,
    context: Context.Context<never>
  ) => Fiber.RuntimeFiber<unknown, McpError>
}

/**
 * Makes a peer whose handlers run on `runtime`, outside any scope: the caller
 * runs `shutdown`. With `telemetry`, every message in and out is traced.
 */
export const make = (
  transport: Transport,
  handlers: InternalHandlers,
  runtime: Runtime.Runtime<never>,
  telemetry?: Telemetry | undefined
): Connection => new PeerImpl(transport, handlers, runtime, telemetry)

/** {@link make} in a scope, which shuts the peer down; `telemetry` is made on the scope's runtime. */
export const scoped = (
  transport: Transport,
  handlers: InternalHandlers,
  telemetry: (runtime: Runtime.Runtime<never>) => Telemetry | undefined
): Effect.Effect<Connection, never, Scope.Scope> =>
  Effect.flatMap(Effect.runtime<never>(), (runtime) => {
    const peer = make(transport, handlers, runtime, telemetry(runtime))
    return Effect.as(Effect.addFinalizer(() => peer.shutdown), peer)
  })

/** `answer`, running under `span`: the handler's own spans nest under it. */
export const underSpan = (answer: Effect.Effect<unknown, McpError> | WithContext, span: Tracer.AnySpan) =>
  Effect.isEffect(answer)
    ? Effect.withParentSpan(answer, span)
    : { ...answer, context: Context.add(answer.context, Tracer.ParentSpan, span) }

interface InFlight {
  fiber: Fiber.RuntimeFiber<unknown, McpError> | undefined
  cancelled: boolean
}

interface Pending {
  readonly method: string
  /** The waiting caller's resumption, once its fiber waits. */
  resume: ((exit: Exit.Exit<unknown, RequestError>) => void) | undefined
  /** The outcome, when it came before the caller waited (a transport that answers synchronously). */
  outcome: Exit.Exit<unknown, RequestError> | undefined
  readonly onProgress: ((progress: ProgressNotificationParams) => void) | undefined
  /** When it times out, in the peer clock's milliseconds (`Infinity`: never, or already failed). */
  deadline: number
  readonly timeoutMillis: number
  readonly start: number
  /** When it times out whatever progress arrives. */
  readonly maxDeadline: number
  readonly resetOnProgress: boolean
  /** The caller's services: a request of the other end's that belongs to this one is handled with them. */
  readonly context: Context.Context<never>
}

/**
 * Ends a pending request: resumes its caller, or keeps the outcome for when
 * it waits. An `Effect.async` per request rather than a `Deferred`: the
 * Deferred's allocation was 4–5% of the client's CPU per call (docs/benchmarks.md).
 */
const settle = (entry: Pending, exit: Exit.Exit<unknown, RequestError>) => {
  if (entry.outcome !== undefined) return
  entry.outcome = exit
  entry.resume?.(exit)
}

/**
 * Receives a request's response, or `undefined` when none is to be sent (it
 * was cancelled), and the handler's exit where a handler ran (for telemetry).
 */
type Respond = (response: object | undefined, exit?: Exit.Exit<unknown, McpError>) => void

const DEFAULT_TIMEOUT = Duration.seconds(60)

const DEFAULT_MAX_BATCH = 100

class PeerImpl implements Connection, Receiver {
  private readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  private inFlight: Map<RequestId, InFlight> | undefined
  private pending: Map<RequestId, Pending> | undefined
  private nextId = 0
  private closed = false
  private readonly clock: Clock.Clock
  /**
   * One timer for every pending request, armed for the earliest deadline. A
   * timer per request (a race against a sleep) cost more than half of the
   * client's CPU per call (docs/benchmarks.md); requests with the same
   * timeout have ever later deadlines, so the armed timer stays.
   */
  private timer: { readonly at: number; readonly fiber: Fiber.RuntimeFiber<void> } | undefined
  constructor(
    private readonly transport: Transport,
    private readonly handlers: InternalHandlers,
    private readonly runtime: Runtime.Runtime<never>,
    private readonly telemetry: Telemetry | undefined
  ) {
    this.runFork = Runtime.runFork(runtime)
    this.clock = Runtime.runSync(runtime)(Effect.clock)
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
        settle(entry, Exit.fail(this.closedError(entry.method)))
      }
      this.pending?.clear()
      this.timer?.fiber.unsafeInterruptAsFork(FiberId.none)
      this.timer = undefined
      const fibers = Array.from(this.inFlight?.values() ?? []).flatMap((entry) => {
        entry.cancelled = true
        return entry.fiber === undefined ? [] : [entry.fiber]
      })
      this.inFlight?.clear()
      this.telemetry?.closed()
      this.handlers.onClose?.()
      return Fiber.interruptAll(fibers)
    })
  }

  isActive(id: RequestId): boolean {
    return this.inFlight?.has(id) ?? false
  }

  notify(method: string, params: unknown, related?: RequestId): void {
    this.sendNotification(method, params, related, undefined)
  }

  /** Sends a notification, traced under `parent` (or the running fiber's span) when telemetry is on. */
  private sendNotification(method: string, params: unknown, related: RequestId | undefined, parent?: Tracer.AnySpan) {
    if (this.telemetry !== undefined) params = this.telemetry.notifying(method, params, parent)
    this.send(params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params }, related)
  }

  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options?: RequestOptions
  ): Effect.Effect<unknown, RequestError> {
    const telemetry = this.telemetry
    if (telemetry === undefined) return this.sendRequest(method, params, options, undefined)
    // Under the caller's span; the request carries the new span's context in its `_meta`.
    return Effect.withFiberRuntime((fiber) => {
      const parent = Context.getOption(fiber.getFiberRef(FiberRef.currentContext), Tracer.ParentSpan)
      const operation = telemetry.outgoing(method, params, parent)
      return this.sendRequest(method, operation.requestParams, options, operation).pipe(
        Effect.onExit((exit) => Effect.sync(() => operation.exited(exit)))
      )
    })
  }

  private sendRequest(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions | undefined,
    operation: Operation | undefined
  ): Effect.Effect<unknown, RequestError> {
    return Effect.withFiberRuntime((fiber) => {
      if (this.closed) return Effect.fail(this.closedError(method))
      const id = this.nextId++
      operation?.attribute("jsonrpc.request.id", String(id))
      const entry = this.pendingEntry(method, options, fiber.currentContext)
      const pending = (this.pending ??= new Map())
      pending.set(id, entry)
      const wantsProgress = options?.onProgress !== undefined || options?.resetTimeoutOnProgress === true
      const withToken = wantsProgress
        ? { ...params, _meta: { ...(isRecord(params?._meta) ? params._meta : {}), progressToken: id } }
        : params
      try {
        this.send(
          withToken === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params: withToken },
          options?.relatedRequestId,
          options?.headers
        )
      } catch (thrown) {
        // Not sent (its params cannot be encoded): nothing will answer it.
        pending.delete(id)
        return Effect.die(thrown)
      }
      if (entry.deadline !== Infinity) this.arm(entry.deadline)
      return Effect.async<unknown, RequestError>((resume) => {
        if (entry.outcome !== undefined) return resume(entry.outcome)
        entry.resume = resume
      }).pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (!pending.has(id)) return
            pending.delete(id)
            // Tell the peer to stop working on what we no longer wait for.
            if (Exit.isFailure(exit) && method !== "initialize") {
              const reason = Cause.isInterruptedOnly(exit.cause) ? "Request was cancelled" : "Request timed out"
              this.sendNotification("notifications/cancelled", { requestId: id, reason }, undefined, operation?.span)
            }
          })
        )
      )
    })
  }

  private pendingEntry(
    method: string,
    options: RequestOptions | undefined,
    context: Context.Context<never>
  ): Pending {
    const timeout = Duration.decode(options?.timeout ?? DEFAULT_TIMEOUT)
    const timeoutMillis = Duration.isFinite(timeout) ? Duration.toMillis(timeout) : Infinity
    const now = timeoutMillis === Infinity ? 0 : this.clock.unsafeCurrentTimeMillis()
    const maxDeadline = options?.maxTotalTimeout === undefined || timeoutMillis === Infinity
      ? Infinity
      : now + Duration.toMillis(options.maxTotalTimeout)
    return {
      method,
      resume: undefined,
      outcome: undefined,
      onProgress: options?.onProgress,
      deadline: Math.min(now + timeoutMillis, maxDeadline),
      timeoutMillis,
      start: now,
      maxDeadline,
      resetOnProgress: options?.resetTimeoutOnProgress ?? false,
      context
    }
  }

  /** Makes sure the timer fires by `deadline`. */
  private arm(deadline: number) {
    if (this.timer !== undefined && this.timer.at <= deadline) return
    this.timer?.fiber.unsafeInterruptAsFork(FiberId.none)
    const fiber = this.runFork(
      Effect.zipRight(
        this.clock.sleep(Duration.millis(Math.max(0, deadline - this.clock.unsafeCurrentTimeMillis()))),
        Effect.sync(() => {
          if (this.timer?.fiber === fiber) this.timer = undefined
          this.expire()
        })
      )
    )
    this.timer = { at: deadline, fiber }
  }

  /** Fails the requests past their deadline (their `onExit` tells the peer), and re-arms for the next. */
  private expire() {
    if (this.pending === undefined || this.closed) return
    const now = this.clock.unsafeCurrentTimeMillis()
    let next = Infinity
    for (const entry of this.pending.values()) {
      if (entry.deadline > now) {
        next = Math.min(next, entry.deadline)
        continue
      }
      const timeoutMillis = entry.deadline === entry.maxDeadline ? entry.maxDeadline - entry.start : entry.timeoutMillis
      entry.deadline = Infinity
      settle(entry, Exit.fail(new RequestTimeoutError({ method: entry.method, timeoutMillis })))
    }
    if (next !== Infinity) this.arm(next)
  }

  /** What a request fails with once the connection has ended: why it ended, where the transport knows. */
  private closedError(method: string): ConnectionClosedError {
    const reason = this.transport.closeReason?.()
    return new ConnectionClosedError(reason === undefined ? { method } : { method, reason })
  }

  private send(message: object, related?: RequestId, headers?: Readonly<Record<string, string>>) {
    if (!this.closed) this.transport.send(message, related, headers === undefined ? undefined : { headers })
  }

  private respondTo(id: RequestId | undefined): Respond {
    return (response) => {
      if (response !== undefined) this.send(response, id)
      // Cancelled: no response will come, and a transport waiting for one can stop.
      else if (id !== undefined && !this.closed) this.transport.abandon?.(id)
    }
  }

  frame(text: string, extras?: MessageExtras): void {
    const message = JsonRpc.parse(text)
    if (message instanceof McpError) return this.send(JsonRpc.errorResponse(null, message))
    this.message(message, extras)
  }

  lost(id: RequestId, reason: string): void {
    const entry = this.pending?.get(id)
    if (entry === undefined) return
    this.pending?.delete(id)
    settle(entry, Exit.fail(new ConnectionClosedError({ method: entry.method, reason })))
  }

  message(message: unknown, extras?: MessageExtras): void {
    if (Array.isArray(message)) return this.dispatchBatch(message, extras)
    this.dispatch(
      message,
      this.respondTo(isRecord(message) && isRequestId(message.id) ? message.id : undefined),
      extras
    )
  }

  /**
   * Starts a handler's fiber. A request that belongs to a call of ours still
   * waiting (a server's question during a client's tool call) runs with that
   * caller's services beside its own (its own win where both have one).
   */
  private start(answer: Effect.Effect<unknown, McpError> | WithContext, related: RequestId | undefined) {
    if (!Effect.isEffect(answer)) return this.runFor(related, answer.effect, answer.context)
    return related === undefined ? this.runFork(answer) : this.runFor(related, answer, this.runtime.context)
  }

  runFor(
    related: RequestId | undefined,
    effect: Effect.Effect<unknown, McpError>,
    context: Context.Context<never>
  ): Fiber.RuntimeFiber<unknown, McpError> {
    const caller = related === undefined ? undefined : this.pending?.get(related)?.context
    const merged = caller === undefined ? context : Context.merge(caller, context)
    return Runtime.runFork(Runtime.make({ ...this.runtime, context: merged }))(effect)
  }

  /** A handler that throws (rather than failing its effect) is a defect: logged here, never thrown at the transport. */
  private defect(cause: unknown) {
    this.runFork(logThrown("Message handler threw", cause))
  }

  private runRequest(request: IncomingRequest, respond: Respond) {
    const operation = this.telemetry?.incoming(request.method, request.params, request.id, request.extras)
    if (operation !== undefined) {
      const untraced = respond
      respond = (response, exit?: Exit.Exit<unknown, McpError>) => {
        operation.responded(response, exit)
        untraced(response)
      }
    }
    let answer: InternalAnswer
    try {
      answer = this.handlers.onRequest(request)
    } catch (cause) {
      this.defect(cause)
      return respond(JsonRpc.errorResponse(request.id, McpError.internal()))
    }
    if (answer === undefined) return respond(JsonRpc.errorResponse(request.id, McpError.methodNotFound(request.method)))
    if (answer instanceof McpError) return respond(JsonRpc.errorResponse(request.id, answer))
    // Registered before the fiber starts: a handler may report progress before its first yield.
    const entry: InFlight = { fiber: undefined, cancelled: false }
    const inFlight = (this.inFlight ??= new Map())
    inFlight.set(request.id, entry)
    if (operation?.span !== undefined) answer = underSpan(answer, operation.span)
    const fiber = this.start(answer, request.extras?.relatedRequestId)
    entry.fiber = fiber
    fiber.addObserver((exit) => {
      if (inFlight.get(request.id) === entry) inFlight.delete(request.id)
      respond(entry.cancelled ? undefined : exitToResponse(request.id, exit, this.runFork), exit)
    })
  }

  private onCancelled(params: JsonRpc.Params) {
    const id = params?.requestId
    if (!isRequestId(id)) return
    const entry = this.inFlight?.get(id)
    // A cancel racing the response is harmless: the entry is already gone.
    if (entry === undefined) return
    entry.cancelled = true
    this.inFlight?.delete(id)
    entry.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  private onProgress(params: JsonRpc.Params) {
    const token = params?.progressToken
    if (!isRequestId(token) || typeof params?.progress !== "number") return
    const entry = this.pending?.get(token)
    if (entry === undefined) return
    if (entry.resetOnProgress && entry.deadline !== Infinity) {
      // Later than the armed timer: it re-arms for this when it fires.
      entry.deadline = Math.min(this.clock.unsafeCurrentTimeMillis() + entry.timeoutMillis, entry.maxDeadline)
    }
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
      settle(
        entry,
        Exit.fail(
          new McpError({
            code: typeof error.code === "number" ? error.code : ErrorCode.InternalError,
            message: typeof error.message === "string" ? error.message : "Unknown error",
            data: error.data
          })
        )
      )
    } else {
      settle(entry, Exit.succeed(message.result))
    }
  }

  private onNotification(method: string, params: JsonRpc.Params, extras: MessageExtras | undefined) {
    this.telemetry?.notified(method, params, extras)
    if (method === "notifications/cancelled") return this.onCancelled(params)
    if (method === "notifications/progress") return this.onProgress(params)
    try {
      this.handlers.onNotification?.(method, params, extras)
    } catch (cause) {
      this.defect(cause)
    }
  }

  /**
   * Validates one message and acts on it. Returns whether `respond` will be
   * called (at once or when a handler ends); notifications and responses
   * never answer.
   */
  private dispatch(message: unknown, respond: Respond, extras: MessageExtras | undefined): boolean {
    const classified = JsonRpc.classify(message)
    switch (classified._tag) {
      case "Invalid":
        if (classified.answer) respond(JsonRpc.errorResponse(classified.id, classified.error))
        return classified.answer
      case "Response":
        this.onResponse(classified.id, classified.message)
        return false
      case "Notification":
        this.onNotification(classified.method, classified.params, extras)
        return false
      case "Request": {
        const { id, method, params } = classified
        if (this.inFlight?.has(id)) {
          respond(JsonRpc.errorResponse(id, JsonRpc.inFlightError(id)))
          return true
        }
        this.runRequest({ id, method, params, progressToken: JsonRpc.progressTokenOf(params), extras }, respond)
        return true
      }
    }
  }

  private dispatchBatch(messages: ReadonlyArray<unknown>, extras: MessageExtras | undefined) {
    if (!(this.handlers.acceptsBatch?.() ?? false) && messages.length > 0) {
      return this.send(
        JsonRpc.errorResponse(null, McpError.invalidRequest("batches are not supported by this protocol version"))
      )
    }
    const checked = JsonRpc.checkBatch(
      messages,
      (id) => this.isActive(id),
      this.handlers.maxBatchEntries ?? DEFAULT_MAX_BATCH
    )
    if (checked instanceof McpError) return this.send(JsonRpc.errorResponse(null, checked))
    // Answer the batch with one array once every request in it has answered.
    const responses: Array<object> = []
    let outstanding = 0
    let dispatching = true
    const flush = () => {
      if (!dispatching && outstanding === 0 && responses.length > 0) this.send(responses)
    }
    messages.forEach((message, index) => {
      const refused = checked.get(index)
      if (refused !== undefined) return void responses.push(refused)
      outstanding++
      const answers = this.dispatch(message, (response) => {
        if (response !== undefined) responses.push(response)
        outstanding--
        flush()
      }, extras)
      if (!answers) outstanding--
    })
    dispatching = false
    flush()
  }
}

/**
 * The response a handler's exit answers with: its result, its failure, or,
 * for a defect (logged on `runFork`), a -32603 that keeps the details on our
 * side. Also used where a request is served without a peer (a modern HTTP POST).
 */
export const exitToResponse = (
  id: RequestId,
  exit: Exit.Exit<unknown, McpError>,
  runFork: <A, E>(effect: Effect.Effect<A, E>) => unknown
): object => {
  // A result must be there: a handler that answered nothing answers the empty result.
  if (Exit.isSuccess(exit)) return { jsonrpc: "2.0", id, result: exit.value === undefined ? {} : exit.value }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure)) return JsonRpc.errorResponse(id, failure.value)
  // Interrupted without a cancel (the handler interrupted itself): the peer still gets an answer.
  if (Cause.isInterruptedOnly(exit.cause)) {
    return JsonRpc.errorResponse(id, McpError.internal("the request was interrupted"))
  }
  runFork(logDefect("Request handler failed", exit.cause))
  return JsonRpc.errorResponse(id, McpError.internal())
}
