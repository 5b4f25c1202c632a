/**
 * Tasks (`io.modelcontextprotocol/tasks`, 2026-07-28): a tool call that
 * answers at once with a task, while its handler runs on in a fiber of its
 * own. The task's record lives in the `TaskStore` (what `tasks/get` reads);
 * what cannot be stored (the running fiber, the questions it waits on)
 * lives here, in the process that runs it.
 */
import { Cause, Clock, Deferred, Effect, Exit, Fiber, FiberRef, Option, Schema } from "effect"
import { ErrorCode, McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type * as TaskStore from "../TaskStore.js"
import { isTerminal } from "../TaskStore.js"
import { currentInputKey, inputKey } from "./inputRequired.js"

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

export const DEFAULT_SETTINGS: Settings = { ttlMs: 60 * 60 * 1000, pollIntervalMs: 1000 }

/** How a task ends when its server stops before it does. */
const SHUT_DOWN: Partial<TaskStore.Task> = {
  status: "failed",
  error: { code: ErrorCode.InternalError, message: "The server shut down before the task ended" }
}

/** One task running in this process: its fiber and the questions it waits on. */
class Running {
  readonly waiting = new Map<string, { readonly request: InputRequest; readonly answer: Deferred.Deferred<unknown> }>()
  private readonly counts = new Map<string, number>()
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined = undefined
  /** Writes the task's end once its fiber ends. */
  watcher: Fiber.RuntimeFiber<void> | undefined = undefined

  constructor(public task: TaskStore.Task) {}

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

  constructor(
    private readonly store: TaskStore.Service,
    /** Hears each change of a task this process runs (for `notifications/tasks` on listen streams). */
    private readonly changed: (task: TaskStore.Task) => void = () => {},
    private readonly settings: Settings = DEFAULT_SETTINGS
  ) {}

  /**
   * Creates a task and runs `run` in a fiber of its own; the task is stored
   * (so that `tasks/get` finds it) before it is returned. `run` asks its
   * questions through `ask`.
   */
  start(
    run: (ask: (method: string, params: Record<string, unknown>) => Effect.Effect<unknown>) => Effect.Effect<
      unknown,
      McpError
    >
  ): Effect.Effect<TaskStore.Task> {
    return Effect.gen(this, function*() {
      const task = yield* this.create
      const fiber = yield* Effect.forkDaemon(run((method, params) => this.ask(task.taskId, method, params)))
      yield* this.adopt(task.taskId, fiber)
      return task
    })
  }

  /** Creates and stores a task, for a fiber that `adopt` hands over. */
  get create(): Effect.Effect<TaskStore.Task> {
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
      this.running.set(task.taskId, new Running(task))
      yield* this.store.put(task)
      return task
    })
  }

  /** Makes `fiber` the task's: cancelling the task interrupts it, and its end is the task's. */
  adopt(taskId: string, fiber: Fiber.RuntimeFiber<unknown, McpError>): Effect.Effect<void> {
    return Effect.suspend(() => {
      const running = this.running.get(taskId)
      if (running === undefined) return Effect.void
      running.fiber = fiber
      return Fiber.await(fiber).pipe(
        Effect.flatMap(Exit.match({
          onSuccess: (result) => this.end(running, { status: "completed", result: toolResult(result) }),
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
      return Effect.forEach(
        Array.from(this.running.values()),
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
    return Effect.flatMap(this.get(taskId), () => {
      const running = this.running.get(taskId)
      if (running === undefined) return Effect.void
      return Effect.forEach(Object.entries(responses), ([key, answer]) => {
        const waiting = running.waiting.get(key)
        if (waiting === undefined) return Effect.void
        running.waiting.delete(key)
        return Deferred.succeed(waiting.answer, answer)
      }, { discard: true }).pipe(Effect.zipRight(this.publishWaiting(running)))
    })
  }

  /** `tasks/cancel`: interrupts the task's fiber; a task that has ended stays as it ended. */
  cancel(taskId: string): Effect.Effect<void, McpError> {
    return Effect.flatMap(this.get(taskId), () => {
      const fiber = this.running.get(taskId)?.fiber
      return fiber === undefined ? Effect.void : Fiber.interruptFork(fiber)
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
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      running.task = { ...running.task, ...change, lastUpdatedAt: iso(now) }
      return Effect.zipRight(this.store.put(running.task), Effect.sync(() => this.changed(running.task)))
    })
  }
}

const decodeResult = Schema.decodeUnknownOption(McpSchema.CallToolResult)

/** A tool's result, as a task's `result`. */
const toolResult = (result: unknown): McpSchema.CallToolResult =>
  Option.getOrElse(decodeResult(result), () => ({ content: [] }))

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
