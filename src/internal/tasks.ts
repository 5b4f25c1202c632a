/**
 * Tasks (`io.modelcontextprotocol/tasks`, 2026-07-28): a tool call that
 * answers at once with a task, while its handler runs on in a fiber of its
 * own. The task's record lives in the `TaskStore` (what `tasks/get` reads);
 * what cannot be stored (the running fiber, the questions it waits on)
 * lives here, in the process that runs it.
 *
 * With a `TaskRunner` in context (the cluster's), a task is durable instead:
 * its handler runs wherever the runner puts it (`runDurable`), again after
 * its node died.
 */
import { Cause, Clock, Deferred, Effect, Exit, Fiber, FiberId, FiberRef, Option, Schema } from "effect"
import { ErrorCode, McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type { Durable, Journal, TaskRequest } from "../TaskRunner.js"
import type * as TaskStore from "../TaskStore.js"
import { isTerminal } from "../TaskStore.js"
import { currentInputKey, inputKey, settle } from "./inputRequired.js"

/** The extension's id, in capabilities. */
export const EXTENSION = "io.modelcontextprotocol/tasks"

/** Whether a request's client declared the tasks extension. */
export const declared = (capabilities: McpSchema.ClientCapabilities): boolean =>
  capabilities.extensions !== undefined && Object.hasOwn(capabilities.extensions, EXTENSION)

/** -32021 for a request that needs the tasks extension and did not declare it. */
export const missingExtension = (what: string): McpError =>
  new McpError({
    code: ErrorCode.MissingRequiredClientCapability,
    message: `Missing required client capability: extensions["${EXTENSION}"] (needed for ${what})`,
    data: { requiredCapabilities: { extensions: { [EXTENSION]: {} } } }
  })

/** How long a task stays readable, and how often clients are asked to poll it. */
export interface Settings {
  /** From its creation; `null`: until the store forgets it. */
  readonly ttlMs: number | null
  readonly pollIntervalMs: number
}

/** How often a durable task's question checks for its answer, besides when the task changes. */
const RECHECK = "10 seconds"

export const DEFAULT_SETTINGS: Settings = { ttlMs: 60 * 60 * 1000, pollIntervalMs: 1000 }

/** How a task ends when its server stops before it does. */
const SHUT_DOWN: Partial<TaskStore.Task> = {
  status: "failed",
  error: { code: ErrorCode.InternalError, message: "The server shut down before the task ended" }
}

/** One task running in this process: its fiber (a local task) and the questions it waits on. */
class Running {
  readonly waiting = new Map<string, { readonly request: InputRequest; readonly answer?: Deferred.Deferred<unknown> }>()
  private readonly counts = new Map<string, number>()
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  /** Writes the task's end once its fiber ends. */
  watcher: Fiber.RuntimeFiber<void> | undefined = undefined
  /** Stops a durable task's run here: it was cancelled (through any node). */
  readonly stop = Deferred.unsafeMake<void>(FiberId.none)
  /** Done when the task changes (a new one each time): a durable task's questions check for answers. */
  poked = Deferred.unsafeMake<void>(FiberId.none)

  poke(): void {
    const poked = this.poked
    this.poked = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(poked, Exit.void)
  }

  constructor(public task: TaskStore.Task, readonly durable = false) {}

  nextKey(method: string): string {
    const n = (this.counts.get(method) ?? 0) + 1
    this.counts.set(method, n)
    return inputKey(method, n)
  }
}

interface InputRequest {
  readonly method: string
  readonly params: unknown
}

const iso = (millis: number) => new Date(millis).toISOString()

/** The tasks of one server. */
export class Tasks {
  private readonly running = new Map<string, Running>()
  private closing = false
  /** Where tasks run durably, once the server has registered with a `TaskRunner`; none: in this process. */
  durable: Durable | undefined = undefined

  constructor(
    private readonly store: TaskStore.Service,
    /** Hears each change of a task this process runs (for `notifications/tasks` on listen streams). */
    private readonly changed: (task: TaskStore.Task) => void = () => {},
    private readonly settings: Settings = DEFAULT_SETTINGS
  ) {}

  /**
   * Creates a task and runs `run` in a fiber of its own; the task is stored
   * (so that `tasks/get` finds it) before it is returned. `run` asks its
   * questions through `ask`. With a durable runner, `request` goes to it
   * instead, and the handler runs wherever it puts it.
   */
  start(
    run: (ask: (method: string, params: Record<string, unknown>) => Effect.Effect<unknown>) => Effect.Effect<
      unknown,
      McpError
    >,
    request: TaskRequest
  ): Effect.Effect<TaskStore.Task> {
    return Effect.gen(this, function*() {
      if (this.durable !== undefined) return yield* this.startDurable(request)
      const task = yield* this.create
      const fiber = yield* Effect.forkDaemon(run((method, params) => this.ask(task.taskId, method, params)))
      yield* this.adopt(task.taskId, fiber)
      return task
    })
  }

  /** Creates and stores a task, for a fiber that `adopt` hands over. */
  get create(): Effect.Effect<TaskStore.Task> {
    return Effect.tap(this.record, (task) => void this.running.set(task.taskId, new Running(task)))
  }

  /**
   * Creates and stores a durable task, and hands its request to the runner;
   * a runner that fails to take it leaves the task failed, not `working`.
   */
  startDurable(request: TaskRequest): Effect.Effect<TaskStore.Task> {
    return Effect.flatMap(this.record, (task) => {
      const durable = this.durable
      if (durable === undefined) return Effect.dieMessage("No task runner")
      const notStarted = {
        ...task,
        status: "failed" as const,
        error: { code: ErrorCode.InternalError, message: "The task could not be started" }
      }
      return durable.start(task.taskId, request).pipe(
        Effect.onError(() => this.save(notStarted)),
        Effect.as(task)
      )
    })
  }

  /** Creates and stores a task. */
  private get record(): Effect.Effect<TaskStore.Task> {
    return Effect.gen(this, function*() {
      const now = yield* Clock.currentTimeMillis
      const task: TaskStore.Task = {
        taskId: crypto.randomUUID(),
        status: "working",
        createdAt: iso(now),
        lastUpdatedAt: iso(now),
        ttlMs: this.settings.ttlMs,
        pollIntervalMs: this.settings.pollIntervalMs
      }
      yield* this.store.put(task)
      return task
    })
  }

  /**
   * One run of a durable task's handler, in this process: its questions
   * wait here for their answers (`awaitAnswer`), and the task ends with the
   * run, unless it was cancelled (`stopDurable`: the handler is interrupted,
   * the task stays cancelled) or its node stops (interrupted: the runner
   * runs it again elsewhere). A task that has ended or expired is not run.
   */
  runDurable(
    taskId: string,
    handler: (ask: (method: string, params: Record<string, unknown>) => Effect.Effect<unknown>) => Effect.Effect<
      unknown,
      McpError
    >,
    journal: Journal
  ): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      // Stored before it was handed to the runner: none is a store that failed to answer (read again), or expired.
      const read = (tries: number): Effect.Effect<Option.Option<TaskStore.Task>> =>
        Effect.flatMap(
          this.store.get(taskId),
          (found) =>
            Option.isSome(found) || tries === 0
              ? Effect.succeed(found)
              : Effect.zipRight(Effect.sleep("1 second"), read(tries - 1))
        )
      const stored = yield* read(10)
      if (Option.isNone(stored) || isTerminal(stored.value.status)) return
      const running = new Running(stored.value, true)
      this.running.set(taskId, running)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          // Another run of the task in this process (its shard moved away and back) keeps its own entry.
          if (this.running.get(taskId) === running) this.running.delete(taskId)
        })
      )
      // Run again after its node stopped while it asked: its questions are asked again, by this run.
      if (running.task.status === "input_required") {
        yield* this.write(running, { status: "working", inputRequests: undefined })
      }
      const ask = (method: string, params: Record<string, unknown>) =>
        Effect.flatMap(FiberRef.get(currentInputKey), (named) => {
          const key = named ?? running.nextKey(method)
          return Effect.flatMap(
            journal.answer(key),
            Option.match({
              onSome: Effect.succeed,
              onNone: () => this.awaitAnswer(running, key, { method, params }, journal.answer(key))
            })
          )
        })
      // A cancelled task's handler is interrupted, its finalizers run, and the run ends: the task is stored cancelled.
      // (A node that stops interrupts this fiber, not only the handler: the run ends here, and runs again elsewhere.
      // A handler that interrupts itself ends its task as cancelled, as in a local task.)
      const exit = yield* Effect.raceFirst(Effect.exit(handler(ask)), Deferred.await(running.stop))
      if (exit === undefined) return
      yield* this.end(running, Exit.isSuccess(exit) ? completed(exit.value) : ended(exit.cause))
    }).pipe(Effect.scoped)
  }

  /** Makes `fiber` the task's: cancelling the task interrupts it, and its end is the task's. */
  adopt(taskId: string, fiber: Fiber.RuntimeFiber<unknown, McpError>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const running = this.running.get(taskId)
      if (running === undefined) return Effect.void
      running.fiber = fiber
      return Fiber.await(fiber).pipe(
        Effect.flatMap(Exit.match({
          onSuccess: (result) => this.end(running, completed(result)),
          onFailure: (cause) => this.end(running, this.closing ? SHUT_DOWN : ended(cause))
        })),
        Effect.forkDaemon,
        Effect.map((watcher) => void (running.watcher = watcher))
      )
    })
  }

  /**
   * Ends every task this process runs, for a server that stops: each
   * handler is interrupted (its finalizers run) and its task is stored as
   * failed, saying why, so that no client polls a task nothing runs.
   */
  get shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closing = true
      // A durable task is its runner's: it runs on elsewhere.
      return Effect.forEach(
        Array.from(this.running.values()).filter((running) => !running.durable),
        (running) =>
          running.fiber === undefined || running.watcher === undefined
            ? this.end(running, SHUT_DOWN)
            : Effect.zipRight(Fiber.interrupt(running.fiber), Fiber.join(running.watcher)),
        {
          concurrency: "unbounded",
          discard: true
        }
      )
    })
  }

  /** `tasks/get`: the task as stored; -32602 for one unknown or expired. */
  get(taskId: string): Effect.Effect<TaskStore.Task, McpError> {
    return Effect.flatMap(
      this.store.get(taskId),
      Option.match({
        onNone: () => Effect.fail(McpError.invalidParams(`Unknown task: ${taskId.slice(0, 100)}`)),
        onSome: Effect.succeed
      })
    )
  }

  /** `tasks/update`: answers some of the task's questions; unknown or answered keys are ignored. */
  update(taskId: string, responses: Record<string, unknown>): Effect.Effect<void, McpError> {
    return Effect.flatMap(this.get(taskId), (task) => {
      const running = this.running.get(taskId)
      if (running === undefined || running.durable) return this.answerDurable(task, responses)
      return Effect.forEach(Object.entries(responses), ([key, answer]) => {
        const waiting = running.waiting.get(key)
        if (waiting?.answer === undefined) return Effect.void
        running.waiting.delete(key)
        return Deferred.succeed(waiting.answer, answer)
      }, { discard: true }).pipe(Effect.zipRight(this.publishWaiting(running)))
    })
  }

  /**
   * A durable task's question, shown to the client (with those asked
   * together: `Effect.all`), until `answered` has its answer: checked when
   * the task changes (`poke`: an answer was stored, through any node), and
   * every ten seconds in case that news was lost. At each check the stored
   * task is read too: one that ended (cancelled, its news lost) or expired
   * stops the run, and one whose questions another node rewrote (an answer
   * written over a newer question) shows this run's questions again.
   */
  private awaitAnswer(
    running: Running,
    key: string,
    request: InputRequest,
    answered: Effect.Effect<Option.Option<unknown>>
  ): Effect.Effect<unknown> {
    return Effect.gen(this, function*() {
      running.waiting.set(key, { request })
      yield* settle
      yield* this.publishWaiting(running)
      while (true) {
        const poked = running.poked
        const answer = yield* answered
        if (Option.isSome(answer)) {
          running.waiting.delete(key)
          yield* this.publishWaiting(running)
          return answer.value
        }
        yield* Effect.race(Deferred.await(poked), Effect.sleep(RECHECK))
        const stored = yield* this.store.get(running.task.taskId)
        if (Option.isNone(stored) || isTerminal(stored.value.status)) {
          this.stopDurable(running.task.taskId)
          return yield* Effect.never
        }
        if (!showsAll(stored.value, running)) yield* this.publishWaiting(running)
      }
    })
  }

  /** Tells a durable task's run here, if any, that the task changed: its questions check for answers. */
  poke(taskId: string): void {
    this.running.get(taskId)?.poke()
  }

  /** Stops the run of a durable task here, if it runs here: it was cancelled. */
  stopDurable(taskId: string): void {
    const running = this.running.get(taskId)
    if (running?.durable === true) Deferred.unsafeDone(running.stop, Exit.void)
  }

  /**
   * A durable task's answers, to its runner: only those to the questions it
   * shows. The task is stored without them, and the change reaches the node
   * that runs it (`poke`), where the questions find their answers.
   */
  private answerDurable(task: TaskStore.Task, responses: Record<string, unknown>): Effect.Effect<void> {
    const asked = task.inputRequests ?? {}
    const answers = Object.entries(responses).filter(([key]) => Object.hasOwn(asked, key))
    if (this.durable === undefined || answers.length === 0) return Effect.void
    const left = Object.fromEntries(Object.entries(asked).filter(([key]) => !Object.hasOwn(responses, key)))
    const status = Object.keys(left).length === 0 ? "working" : "input_required"
    return this.durable.answer(task.taskId, Object.fromEntries(answers)).pipe(
      Effect.zipRight(this.save({ ...task, status, inputRequests: status === "working" ? undefined : left })),
      Effect.zipRight(Effect.sync(() => this.poke(task.taskId)))
    )
  }

  /**
   * `tasks/cancel`: interrupts the task's fiber (a durable task's runner
   * does, wherever it runs, once the task is stored as cancelled); a task
   * that has ended stays as it ended.
   */
  cancel(taskId: string): Effect.Effect<void, McpError> {
    return Effect.flatMap(this.get(taskId), (task) => {
      const running = this.running.get(taskId)
      if (running !== undefined && !running.durable) {
        return running.fiber === undefined ? Effect.void : Fiber.interruptFork(running.fiber)
      }
      if (this.durable === undefined || isTerminal(task.status)) return Effect.void
      // Stored first: a run that ends now cannot end it otherwise. The change reaches the node that runs it.
      return Effect.zipRight(
        this.save({ ...task, status: "cancelled", inputRequests: undefined }),
        Effect.zipRight(Effect.sync(() => this.stopDurable(taskId)), this.durable.cancel(taskId))
      )
    })
  }

  /** A question from the task's handler: the task waits, `input_required`, until `tasks/update` answers it. */
  ask(taskId: string, method: string, params: Record<string, unknown>): Effect.Effect<unknown> {
    return Effect.gen(this, function*() {
      const running = this.running.get(taskId)
      if (running === undefined) return yield* Effect.interrupt
      const key = (yield* FiberRef.get(currentInputKey)) ?? running.nextKey(method)
      const answer = yield* Deferred.make<unknown>()
      running.waiting.set(key, { request: { method, params }, answer })
      yield* this.publishWaiting(running)
      return yield* Deferred.await(answer)
    })
  }

  /** Stores the task's status as its questions stand: `input_required` with them all, or `working` again. */
  private publishWaiting(running: Running): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (isTerminal(running.task.status)) return Effect.void
      const inputRequests = Object.fromEntries([...running.waiting].map(([key, { request }]) => [key, request]))
      return running.waiting.size === 0
        ? this.write(running, { status: "working", inputRequests: undefined })
        : this.write(running, { status: "input_required", inputRequests })
    })
  }

  private end(running: Running, change: Partial<TaskStore.Task>): Effect.Effect<void> {
    return Effect.zipRight(
      this.write(running, { ...change, inputRequests: undefined }),
      Effect.sync(() => this.running.delete(running.task.taskId))
    )
  }

  private write(running: Running, change: Partial<TaskStore.Task>): Effect.Effect<void> {
    return Effect.suspend(() => {
      running.task = { ...running.task, ...change }
      return this.save(running.task)
    })
  }

  /** Stores the task as it now is, and tells the listens, unless the store kept it as it had ended. */
  private save(task: TaskStore.Task): Effect.Effect<void> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const saved = { ...task, lastUpdatedAt: iso(now) }
      return Effect.map(this.store.put(saved), (written) => {
        if (written) this.changed(saved)
      })
    })
  }
}

const decodeResult = Schema.decodeUnknownOption(McpSchema.CallToolResult)

/** Whether the stored task shows every question a run waits on (another node's write may have dropped one). */
const showsAll = (stored: TaskStore.Task, running: Running): boolean =>
  [...running.waiting.keys()].every((key) =>
    stored.inputRequests !== undefined && Object.hasOwn(stored.inputRequests, key)
  )

/** A tool's result, as a completed task has it. */
const completed = (result: unknown): Partial<TaskStore.Task> => ({
  status: "completed",
  result: Option.getOrElse(decodeResult(result), () => ({ content: [] }))
})

/** How a task's fiber ended when it did not succeed: cancelled, or failed with its JSON-RPC error. */
const ended = (cause: Cause.Cause<McpError>): Partial<TaskStore.Task> => {
  if (Cause.isInterruptedOnly(cause)) return { status: "cancelled" }
  const error = Option.getOrElse(Cause.failureOption(cause), () => McpError.internal())
  return {
    status: "failed",
    error: { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) }
  }
}

/**
 * A task as `tasks/get` answers it: `resultType: "complete"`, and only the
 * fields its status has.
 */
export const detailed = (task: TaskStore.Task): Record<string, unknown> => {
  const { error, inputRequests, result, ...rest } = task
  return {
    resultType: "complete",
    ...dropUndefined(rest),
    ...(task.status === "input_required" && inputRequests !== undefined ? { inputRequests } : {}),
    ...(task.status === "completed" && result !== undefined ? { result } : {}),
    ...(task.status === "failed" && error !== undefined ? { error } : {})
  }
}

/** A task as a `tools/call` answers it when it created one (`CreateTaskResult`). */
export const created = (task: TaskStore.Task): Record<string, unknown> => {
  const { error: _, inputRequests: __, result: ___, ...rest } = task
  return { resultType: "task", ...dropUndefined(rest) }
}

const dropUndefined = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined))
