/**
 * A 2026-07-28 POST, served without a session: no `HttpSession`, scope,
 * `ServerSession` or peer is built for it. The call is the modern era's
 * connection for its one request (its own `peer` and `transport`): the
 * handler's fiber runs on the server's runtime, and what it sends comes back
 * here, answered as JSON when the response comes first, or as an SSE stream
 * when a notification (progress, a log message) comes before it.
 *
 * This is the per-request hot path of modern traffic, so it is one small
 * class of plain callbacks, like the session path (`post.ts`): a scope, a
 * session and a peer per request cost more CPU than a call on a live session
 * (docs/benchmarks.md).
 */
import { Effect, FiberId, Runtime } from "effect"
import type { Exit, Fiber } from "effect"
import { ErrorCode, McpError } from "../../McpError.js"
import type { RequestId } from "../../McpSchema.js"
import type { IncomingRequest } from "../../Peer.js"
import type { Reply } from "../../StreamableHttp.js"
import { logThrown } from "../cause.js"
import { encoded } from "../encode.js"
import { isRecord } from "../guards.js"
import * as JsonRpc from "../jsonRpc.js"
import * as Modern from "../modern.js"
import { ModernEra } from "../modernEra.js"
import type { Answer, Connection } from "../modernEra.js"
import type * as Peer from "../peer.js"
import { exitToResponse, underSpan } from "../peer.js"
import type { Server } from "../session.js"
import { statelessOf } from "../session.js"
import type { SessionServices } from "../sessionServices.js"
import * as Telemetry from "../telemetry.js"
import type { Endpoint } from "./endpoint.js"
import { answers, CLOSE_STREAM, EventStream } from "./eventStream.js"
import type { Entry, Outgoing, Store } from "./eventStream.js"
import { full, jsonText, Sink, sseEvent } from "./reply.js"

/** What every modern call on one endpoint shares: the server as its sessions see it, and its runtime. */
export interface ModernHost {
  readonly server: Server
  readonly runtime: Runtime.Runtime<never>
  readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  /** What every call records, if anything: a call has no session, and its version is in its `_meta`. */
  readonly telemetry: Telemetry.Telemetry | undefined
}

const NO_FACTS: Telemetry.Facts = { sessionId: undefined, protocolVersion: undefined }

/** The host of a server made by `McpServer.make` (the only kind there is, short of a hand-written service). */
export const hostOf = (service: object): ModernHost | undefined => {
  const stateless = statelessOf(service)
  return stateless === undefined ? undefined : {
    ...stateless,
    runFork: Runtime.runFork(stateless.runtime),
    telemetry: Telemetry.make(stateless.runtime, "server", Telemetry.HTTP, NO_FACTS)
  }
}

/** A modern stream cannot be resumed (the revision has no GET stream), so its events are not stored. */
const NOT_STORED: Store = {
  append: (_streamId, _message, _text, then) => then(undefined),
  remove: () => {}
}

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" }

/** An error response has the status its code has in the modern era; read from the message, not its text. */
const modernStatus = (response: Outgoing): number => {
  const { message } = response
  const code = isRecord(message) && isRecord(message.error) ? message.error.code : undefined
  return typeof code === "number" ? Modern.httpStatus(code) : 200
}

export class ModernCall implements Connection {
  private fiber: Fiber.RuntimeFiber<unknown, McpError> | undefined = undefined
  /** The handler runs and was not cancelled: the request is active, and the handler's exit is its answer. */
  private running = false
  /** The HTTP answer is given (or the client left): nothing more goes out, and the endpoint no longer counts it. */
  private settled = false
  /** Counted by the endpoint as in flight: only a call still unanswered when `serve` returns. */
  private counted = false
  /** The SSE stream, once something other than the response came first. */
  private stream: EventStream | undefined = undefined
  /** The request's own services, released here once its fiber has ended (see `Connection.watch`). */
  private services: SessionServices | undefined = undefined
  /** What turns the handler's exit into the modern answer, when the era hands that over (`Connection.watch`). */
  private finish: ((exit: Exit.Exit<unknown, McpError>) => Answer) | undefined = undefined
  /** The request's span and duration, until its answer is given. */
  private operation: Telemetry.Operation | undefined = undefined

  constructor(
    private readonly app: Endpoint,
    private readonly host: ModernHost,
    private readonly id: RequestId,
    private readonly prefersSse: boolean,
    private readonly reply: (reply: Reply) => void
  ) {}

  get server(): Server {
    return this.host.server
  }
  get telemetry(): Telemetry.Telemetry | undefined {
    return this.host.telemetry
  }
  get peer(): this {
    return this
  }
  get transport(): this {
    return this
  }

  /**
   * Serves the request. A call still unanswered when this returns is counted
   * by the endpoint (for a graceful shutdown) until its answer is given; one
   * answered at once (most are: a handler fiber starts synchronously) is
   * never in flight, and costs the endpoint nothing.
   */
  serve(request: IncomingRequest, meta: Modern.RequestMeta): void {
    this.start(request, meta)
    if (!this.settled) {
      this.counted = true
      this.app.beginCall(this)
    }
  }

  private start(request: IncomingRequest, meta: Modern.RequestMeta): void {
    this.operation = this.host.telemetry?.incoming(request.method, request.params, this.id, request.extras)
    let answer: Peer.InternalAnswer
    try {
      answer = new ModernEra(this).serve(request, meta)
    } catch (cause) {
      this.host.runFork(logThrown("Message handler threw", cause))
      return this.respond(JsonRpc.errorResponse(this.id, McpError.internal()))
    }
    if (answer === undefined) return this.fail(McpError.methodNotFound(request.method))
    if (answer instanceof McpError) return this.fail(answer)
    // Running before the fiber starts: a handler may report progress before its first yield.
    this.running = true
    if (this.operation?.span !== undefined) answer = underSpan(answer, this.operation.span)
    const fiber = Effect.isEffect(answer)
      ? this.host.runFork(answer)
      : Runtime.runFork(Runtime.make({ ...this.host.runtime, context: answer.context }))(answer.effect)
    this.fiber = fiber
    fiber.addObserver((exit) => this.exited(exit))
  }

  notify(method: string, params: unknown): void {
    if (this.settled) return
    if (this.host.telemetry !== undefined) params = this.host.telemetry.notifying(method, params)
    this.deliver(encoded(params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params }))
  }

  isActive(): boolean {
    return this.running
  }

  watch(services: SessionServices, finish: (exit: Exit.Exit<unknown, McpError>) => Answer): void {
    this.services = services
    this.finish = finish
  }

  closeStream(): void {
    this.deliver(CLOSE_STREAM)
  }

  /**
   * Ends a call still in flight when the server shuts down: the client gets
   * an error as its answer, and the handler's fiber (returned, to be
   * awaited) is interrupted.
   */
  end(): Fiber.RuntimeFiber<unknown, McpError> | undefined {
    if (this.settled) return undefined
    this.running = false
    this.respond(JsonRpc.errorResponse(
      this.id,
      new McpError({ code: ErrorCode.ServerError, message: "The server shut down before this request completed" })
    ))
    this.settle()
    const fiber = this.fiber
    fiber?.unsafeInterruptAsFork(FiberId.none)
    return fiber
  }

  private fail(error: McpError) {
    this.respond(JsonRpc.errorResponse(this.id, error))
  }

  /** Answers the request (the operation ends with it). */
  private respond(response: object, exit?: Exit.Exit<unknown, McpError>) {
    this.operation?.responded(response, exit)
    this.operation = undefined
    this.deliver(encoded(response))
  }

  private exited(exit: Exit.Exit<unknown, McpError>) {
    this.fiber = undefined
    if (this.services?.holdsAny) this.host.runFork(this.services.close)
    // Cancelled (the client left, or the server shut down): answered already, or never to be.
    if (!this.running) {
      this.operation?.responded(undefined, exit)
      this.operation = undefined
      return
    }
    this.running = false
    const answer = this.finish === undefined ? exit : this.finish(exit)
    this.respond(exitToResponse(this.id, answer, this.host.runFork), exit)
  }

  /** Where the request's messages go: the whole answer, or the stream that the first other message opened. */
  private deliver(entry: Entry): void {
    if (this.settled) return
    if (this.stream !== undefined) return this.stream.inbox.offer(entry)
    if (answers(entry, this.id)) return this.answer(entry)
    this.openStream(entry)
  }

  /** The response came first: JSON, or, if the client prefers SSE, one complete SSE body (nothing to resume). */
  private answer(response: Outgoing) {
    this.settle()
    const status = modernStatus(response)
    this.reply(
      this.prefersSse ? full(status, sseEvent(undefined, response.text), SSE_HEADERS) : jsonText(response.text, status)
    )
  }

  private openStream(first: Entry) {
    // The stream id names events in the store, and these are not stored.
    const stream = new EventStream("", this.id)
    const sink = new Sink(this.app.limits.maxBuffered)
    stream.sink = sink
    this.stream = stream
    stream.pump(NOT_STORED, first, () => this.settle())
    this.reply(this.app.sseResponse(stream, sink, {}, () => this.detached()))
  }

  /**
   * The stream's response ended. Before the answer, that is the client
   * closing it (or `closeStream`): the request is cancelled, and its
   * handler interrupted (its finalizers run).
   */
  private detached() {
    if (this.settled) return
    this.running = false
    this.settle()
    this.fiber?.unsafeInterruptAsFork(FiberId.none)
  }

  private settle() {
    if (this.settled) return
    this.settled = true
    if (this.counted) this.app.endCall(this)
  }
}
