/**
 * The 2026-07-28 era as an adapter over the request core: a request's
 * envelope comes from its `_meta`, its questions become `input_required`
 * rounds (or wait in its task), and the revision's own methods
 * (`server/discover`, `subscriptions/listen`, `tasks/*`) are served here.
 * One per connection that has carried a modern request; it holds no state
 * of its own between requests.
 */
import { Cause, Clock, Deferred, Effect, Exit, Fiber, Option } from "effect"
import type { RequestError } from "../McpError.js"
import { ErrorCode, McpError } from "../McpError.js"
import type { IncomingRequest } from "../Peer.js"
import type { ClientChannel, Envelope } from "../RequestContext.js"
import type * as TaskRunner from "../TaskRunner.js"
import type * as TaskStore from "../TaskStore.js"
import type { AuthInfo, MessageExtras, Transport } from "../Transport.js"
import { controlSignalOf } from "./cause.js"
import * as InputRequired from "./inputRequired.js"
import * as Modern from "./modern.js"
import type * as Peer from "./peer.js"
import type { Server } from "./session.js"
import { SessionServices } from "./sessionServices.js"
import * as Tasks from "./tasks.js"
import * as Telemetry from "./telemetry.js"

/**
 * What the modern era needs of the connection it serves: a session's peer
 * and transport, or one HTTP request's own light channel.
 */
export interface Connection {
  readonly server: Server
  readonly peer: Pick<Peer.Connection, "notify" | "isActive">
  readonly transport: Pick<Transport, "closeStream">
  /** What the connection records of its requests, if anything (see `internal/telemetry`). */
  readonly telemetry?: Telemetry.Telemetry | undefined
  /**
   * Takes over the end of a request whose fiber the connection starts and
   * watches itself (a modern HTTP POST): once that fiber has ended, the
   * connection releases the request's own services and turns its exit into
   * the modern answer with `finish`. The fiber then runs the handler alone:
   * an `Effect.ensuring` and a `matchCauseEffect` around it cost as much as
   * the rest of its fiber (docs/benchmarks.md).
   */
  readonly watch?: (services: SessionServices, finish: (exit: Exit.Exit<unknown, McpError>) => Answer) => void
}

/** A modern request's outcome, as its connection answers it. */
export type Answer = Exit.Exit<unknown, McpError>

/** What every request's envelope reads from the request itself, whichever era fills the rest. */
export abstract class Incoming {
  constructor(protected readonly incoming: IncomingRequest) {}
  get progressToken() {
    return this.incoming.progressToken
  }
  get extras(): MessageExtras | undefined {
    return this.incoming.extras
  }
  get auth(): AuthInfo | undefined {
    return this.incoming.extras?.auth
  }
}

/** Serves the 2026-07-28 requests of one connection. */
export class ModernEra {
  constructor(private readonly connection: Connection) {}

  /**
   * A modern request, served on its own: its envelope comes from its
   * (checked) `_meta`, its session-scoped services are its own.
   */
  serve(request: IncomingRequest, meta: Modern.RequestMeta): Peer.InternalAnswer {
    if (Modern.REMOVED.has(request.method)) return McpError.methodNotFound(request.method)
    if (request.method === "server/discover") {
      return Effect.succeed(this.complete(request.method, this.discover()))
    }
    if (request.method === "subscriptions/listen") return this.listen(request, meta)
    if (TASK_METHODS.has(request.method)) return this.taskMethod(request, meta)
    if (!this.connection.server.core.serves(request.method)) return McpError.methodNotFound(request.method)
    const asTask = request.method === "tools/call" ? this.asTask(request, meta) : false
    if (asTask !== false) return asTask
    if (!InputRequired.needsRound(request.method, request.params, meta.clientCapabilities)) {
      return this.modernAnswer(request, meta, undefined, true, true)
    }
    return this.withRound(
      request,
      (round) => Effect.raceFirst(this.modernRun(request, meta, round), this.roundResult(round, request.method))
    )
  }

  /** Runs `use` with the round of a retry: its `requestState` verified, its answers read. */
  private withRound(
    request: IncomingRequest,
    use: (round: InputRequired.Round) => Effect.Effect<unknown, McpError>
  ): Effect.Effect<unknown, McpError> {
    const { stateKey } = this.connection.server
    return Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const bound = InputRequired.binding(request.method, request.params)
      const state = yield* InputRequired.verify(stateKey, request.params?.requestState, bound, now)
      const answers = InputRequired.answersOf(request.params?.inputResponses)
      if (answers instanceof McpError) return yield* answers
      return yield* use(new InputRequired.Round(stateKey, bound, state, answers))
    })
  }

  /** The round's `input_required` result, once a question has been asked. */
  private roundResult(round: InputRequired.Round, method: string) {
    return round.result.pipe(
      Effect.map((result) => this.complete(method, result)),
      Effect.zipLeft(InputRequired.warnIfEphemeral(this.connection.server.stateKey))
    )
  }

  /**
   * A `tools/call` of a tool that runs as a task: a task for a client that
   * declared the extension, -32021 for one that did not when the tool
   * requires it, else `false` (served at once).
   */
  private asTask(request: IncomingRequest, meta: Modern.RequestMeta): Peer.InternalAnswer | false {
    const name = request.params?.name
    const tool = typeof name === "string" ? this.connection.server.core.tool(name) : undefined
    const support = tool?.definition.execution?.taskSupport
    if (tool === undefined || (support !== "optional" && support !== "required")) return false
    if (!Tasks.declared(meta.clientCapabilities)) {
      return support === "required" ? Tasks.missingExtension(`the tool ${tool.name}`) : false
    }
    const { tasks } = this.connection.server
    const created = (task: TaskStore.Task) => this.complete(request.method, Tasks.created(task))
    if (tool.taskStart === "explicit") return this.withRound(request, (round) => this.taskLater(request, meta, round))
    return Effect.map(
      tasks.start(
        (ask) => this.modernRun(request, meta, { ask, step: (_, effect) => effect }, false),
        taskRequest(request)
      ),
      created
    )
  }

  /**
   * One run of a durable task's handler here, for its `TaskRunner`: the
   * request as it was stored, its answers and steps from the runner's
   * journal (and, for a task started by `continueAsTask`, from the rounds
   * before it). A tool that must not run again fails its task instead of
   * running on a node other than the one that started it.
   */
  runTask(taskId: string, stored: TaskRunner.TaskRequest, journal: TaskRunner.Journal): Effect.Effect<void> {
    const request: IncomingRequest = {
      id: taskId,
      method: stored.method,
      params: stored.params,
      progressToken: undefined,
      extras: stored.auth !== undefined ? { auth: stored.auth } : undefined
    }
    const before = stored.journal ?? { answers: {}, once: {} }
    const step = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Object.hasOwn(before.once, key) ? Effect.succeed(before.once[key] as A) : journal.step(key, effect)
    const handler = (ask: Inputs["ask"]): Effect.Effect<unknown, McpError> => {
      const meta = Modern.readMeta(stored.params)
      if (meta instanceof McpError) return meta
      const name = String(stored.params?.name)
      if (journal.moved && this.connection.server.core.tool(name)?.taskRecovery === "fail") {
        return Effect.fail(McpError.internal(
          `The task's node stopped while it ran the tool ${name}, which does not run again (taskRecovery: "fail")`
        ))
      }
      return this.modernRun(request, meta, { ask, step, continueAsTask: Effect.void }, false)
    }
    return this.connection.server.tasks.runDurable(taskId, handler, {
      ...journal,
      answer: (key) =>
        Object.hasOwn(before.answers, key) ? Effect.succeedSome(before.answers[key]) : journal.answer(key)
    })
  }

  /**
   * A call whose task starts where its handler runs `continueAsTask`: until
   * then it is a request (questions in rounds, a result at once if it ends);
   * from then on the client has the task, and the handler runs on in it.
   */
  private taskLater(
    request: IncomingRequest,
    meta: Modern.RequestMeta,
    round: InputRequired.Round
  ): Effect.Effect<unknown, McpError> {
    const { tasks } = this.connection.server
    return Effect.gen(this, function*() {
      const handoff = yield* Deferred.make<TaskStore.Task>()
      let taskId: string | undefined
      const inputs: Inputs = {
        ask: (method, params) => taskId === undefined ? round.ask(method, params) : tasks.ask(taskId, method, params),
        step: (key, effect) => round.step(key, effect),
        continueAsTask: Effect.suspend(() => {
          if (taskId !== undefined) return Effect.void
          // A durable task runs the handler again from its start, where its runner puts it; this run ends here.
          const durable = tasks.durable !== undefined
          const create = durable ? tasks.startDurable(taskRequest(request, round.journal)) : tasks.create
          return Effect.flatMap(create, (task) => {
            taskId = task.taskId
            return Effect.zipRight(Deferred.succeed(handoff, task), durable ? Effect.never : Effect.void)
          })
        })
      }
      const fiber = yield* Effect.forkDaemon(this.modernRun(request, meta, inputs, false))
      // A handler that ended after its handoff has a task: `handedOff` answers for it.
      const ended = Effect.flatMap(Fiber.await(fiber), (exit) =>
        taskId !== undefined
          ? Effect.never
          : Effect.map(exit, (result) => this.complete(request.method, result)))
      const asked = Effect.tap(this.roundResult(round, request.method), () => Fiber.interrupt(fiber))
      const handedOff = Effect.flatMap(
        Deferred.await(handoff),
        (task) =>
          Effect.as(
            tasks.durable !== undefined ? Fiber.interrupt(fiber) : tasks.adopt(task.taskId, fiber),
            this.complete(request.method, Tasks.created(task))
          )
      )
      return yield* Effect.raceAll([ended, asked, handedOff]).pipe(
        // A request cancelled before its task started takes its handler with it.
        Effect.onInterrupt(() => taskId === undefined ? Fiber.interrupt(fiber) : Effect.void)
      )
    })
  }

  /** `tasks/get`, `tasks/update` and `tasks/cancel`, for a client that declared the extension. */
  private taskMethod(request: IncomingRequest, meta: Modern.RequestMeta): Peer.InternalAnswer {
    if (!Tasks.declared(meta.clientCapabilities)) return Tasks.missingExtension(request.method)
    const taskId = request.params?.taskId
    if (typeof taskId !== "string") return McpError.invalidParams("taskId must be a string")
    const { tasks } = this.connection.server
    const ack = Effect.succeed(this.complete(request.method, {}))
    switch (request.method) {
      case "tasks/get":
        return Effect.map(tasks.get(taskId), (task) => this.complete(request.method, Tasks.detailed(task)))
      case "tasks/update": {
        const answers = InputRequired.answersOf(request.params?.inputResponses ?? {})
        return answers instanceof McpError ? answers : Effect.zipRight(tasks.update(taskId, answers), ack)
      }
      default:
        return Effect.zipRight(tasks.cancel(taskId), ack)
    }
  }

  /**
   * Runs a modern request's handler with services of its own, released when
   * it ends; `complete` shapes its result as a modern one (a task keeps the
   * tool's own result).
   */
  private modernRun(
    request: IncomingRequest,
    meta: Modern.RequestMeta,
    inputs: Inputs | undefined,
    complete = true
  ): Effect.Effect<unknown, McpError> {
    const answer = this.modernAnswer(request, meta, inputs, complete)
    return Effect.isEffect(answer) ? answer : Effect.provide(answer.effect, answer.context)
  }

  /**
   * `modernRun` as an answer that keeps the handler's whole context, for the
   * fiber to start with (`Peer.WithContext`): an `Effect.provide` per request
   * costs more than the rest of a call.
   */
  private modernAnswer(
    request: IncomingRequest,
    meta: Modern.RequestMeta,
    inputs: Inputs | undefined,
    complete = true,
    /** Whether the answer runs as the request's own fiber, which a connection may watch (`watch`). */
    own = false
  ): Effect.Effect<unknown, McpError> | Peer.WithContext {
    const services = new SessionServices()
    const modernRequest = new ModernRequest(this.connection, request, meta, inputs)
    const answer = this.connection.server.core.handle(request, modernRequest, modernRequest, services)
    if (answer === undefined) return Effect.fail(McpError.methodNotFound(request.method))
    if (answer instanceof McpError) return Effect.fail(modernFailure(answer))
    const { method } = request
    // A connection that watches the request's fiber ends the request itself: the fiber runs the handler alone.
    if (own && this.connection.watch !== undefined) {
      this.connection.watch(services, (exit) => this.finish(method, exit, complete))
      return answer
    }
    const finish = (effect: Effect.Effect<unknown, McpError>) =>
      Effect.ensuring(
        Effect.matchCauseEffect(effect, {
          onSuccess: (result) => Effect.succeed(complete ? this.complete(method, result) : result),
          onFailure: (cause) => Effect.failCause(modernCause(cause))
        }),
        services.close
      )
    return Effect.isEffect(answer) ? finish(answer) : { ...answer, effect: finish(answer.effect) }
  }

  /**
   * A handler's exit as a modern answer, outside its fiber: what
   * `modernAnswer`'s `matchCauseEffect` does inside one (a result that
   * cannot be read is a defect there too).
   */
  private finish(method: string, exit: Exit.Exit<unknown, McpError>, complete: boolean): Answer {
    if (Exit.isFailure(exit)) return Exit.failCause(modernCause(exit.cause))
    try {
      return complete ? Exit.succeed(this.complete(method, exit.value)) : exit
    } catch (defect) {
      return Exit.die(defect)
    }
  }

  /**
   * `subscriptions/listen`: acknowledges what it will send, then sends the
   * change notifications asked for, each tagged with the listen's id, until
   * the client cancels it (closes its stream, or sends `notifications/cancelled`).
   */
  private listen(request: IncomingRequest, meta: Modern.RequestMeta): Peer.InternalAnswer {
    const asked = Modern.listenFilter(request.params)
    if (asked instanceof McpError) return asked
    if (asked.taskIds !== undefined && !Tasks.declared(meta.clientCapabilities)) {
      return Tasks.missingExtension("notifications about tasks")
    }
    const { server } = this.connection
    const filter = Modern.honoured(asked, server.capabilities())
    const _meta = Modern.subscriptionMeta(request.id)
    const send = (method: string, params: Record<string, unknown>) =>
      this.connection.peer.notify(method, { ...params, _meta }, request.id)
    const uris = filter.resourceSubscriptions ?? []
    // Counted at once; acknowledged, and heard from, once what runs while its resources have subscribers has started:
    // a wait that a cancelled listen leaves, unlike an uninterruptible acquisition.
    let stop: (() => void) | undefined
    return Effect.acquireUseRelease(
      Effect.sync(() => server.subscribers.unsafeAddAll(uris)),
      (started) =>
        started.pipe(
          Effect.zipRight(Effect.sync(() => {
            send("notifications/subscriptions/acknowledged", { notifications: filter })
            stop = server.listen(filter, send)
          })),
          Effect.zipRight(Effect.never)
        ),
      () =>
        Effect.suspend(() => {
          stop?.()
          return server.subscribers.unsafeRemoveAll(uris)
        })
    )
  }

  /** A complete modern result, with the server's caching hint for its method. */
  private complete(method: string, result: unknown) {
    return Modern.complete(method, result, this.connection.server.info, this.connection.server.cacheHint(method))
  }

  private discover() {
    const { instructions } = this.connection.server
    const capabilities = this.connection.server.capabilities()
    return {
      supportedVersions: Modern.SUPPORTED,
      capabilities: { ...capabilities, extensions: { ...capabilities.extensions, [Tasks.EXTENSION]: {} } },
      ...(instructions !== undefined ? { instructions } : {})
    }
  }
}

/** How a modern handler's questions are answered: from rounds (a request), or by `tasks/update` (a task). */
interface Inputs {
  readonly ask: (method: string, params: Record<string, unknown>) => Effect.Effect<unknown>
  readonly step: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Where a call whose task starts explicitly hands over to its task. */
  readonly continueAsTask?: Effect.Effect<void>
}

/** A task's request as a durable task stores it: its method, params and principal. */
const taskRequest = (request: IncomingRequest, journal?: InputRequired.State): TaskRunner.TaskRequest => ({
  method: request.method,
  params: request.params,
  ...(request.extras?.auth !== undefined ? { auth: request.extras.auth } : {}),
  ...(journal !== undefined ? { journal } : {})
})

const TASK_METHODS: ReadonlySet<string> = new Set(["tasks/get", "tasks/update", "tasks/cancel"])

/**
 * A handler's failure as the modern era answers it: a missing capability is
 * -32021, and the first typed failure goes through {@link modernFailure} (as
 * `Effect.mapError` would map it: the rest of the cause goes with it).
 */
const modernCause = (cause: Cause.Cause<McpError>): Cause.Cause<McpError> => {
  const signal = Option.getOrUndefined(controlSignalOf(cause))
  if (signal instanceof Modern.MissingCapability) return Cause.fail(Modern.missingCapabilityError(signal))
  const failure = Cause.failureOrCause(cause)
  return failure._tag === "Left" ? Cause.fail(modernFailure(failure.left)) : failure.right
}

/** The -32602 a modern client gets for a resource that is not there (-32002 is gone from this era). */
const modernFailure = (error: McpError): McpError =>
  error.code === ErrorCode.ResourceNotFound
    ? new McpError({ code: ErrorCode.InvalidParams, message: error.message, data: error.data })
    : error

/**
 * One modern request: its envelope, read from its `_meta`, and its channel
 * back to the client, on which only notifications related to it travel (a
 * modern server sends the client no requests).
 */
class ModernRequest extends Incoming implements Envelope, ClientChannel {
  constructor(
    private readonly session: Connection,
    incoming: IncomingRequest,
    private readonly meta: Modern.RequestMeta,
    private readonly inputs: Inputs | undefined
  ) {
    super(incoming)
  }
  get protocolVersion() {
    return this.meta.protocolVersion
  }
  get clientCapabilities() {
    return this.meta.clientCapabilities
  }
  get clientInfo() {
    return this.meta.clientInfo
  }
  get logLevel() {
    return this.meta.logLevel
  }
  get sessionId() {
    return undefined
  }
  /** An input request joins the request's next `input_required` round, or has its answer from an earlier one. */
  request(method: string, params: Record<string, unknown>): Effect.Effect<unknown, RequestError> {
    if (this.inputs === undefined || !InputRequired.ASKS.has(method)) {
      return Effect.fail(McpError.invalidRequest(
        `${method} cannot reach a ${Modern.VERSION} client from ${this.incoming.method}: only tools/call, ` +
          "prompts/get and resources/read may ask for input"
      ))
    }
    // The question carries the asking span's context, as a request of the server's would.
    const inputs = this.inputs
    return this.session.telemetry?.tracer === undefined
      ? inputs.ask(method, params)
      : Effect.flatMap(Telemetry.injectCurrent(params), (traced) => inputs.ask(method, traced))
  }
  once<A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return this.inputs === undefined ? effect : this.inputs.step(key, effect)
  }
  get continueAsTask(): Effect.Effect<void> {
    return this.inputs?.continueAsTask ?? Effect.void
  }
  notify(method: string, params: unknown): void {
    // No log message for a request that did not ask for them (a log level in its _meta).
    if (method === "notifications/message" && this.meta.logLevel === undefined) return
    this.session.peer.notify(method, params, this.incoming.id)
  }
  isActive(): boolean {
    return this.session.peer.isActive(this.incoming.id)
  }
  closeStream(): void {
    this.session.transport.closeStream?.(this.incoming.id)
  }
}
