/**
 * Where 2026-07-28 tasks (`io.modelcontextprotocol/tasks`) are kept: their
 * status, what they wait for, and their outcome, readable by `tasks/get` for
 * as long as their time to live. The default keeps them in memory; a store
 * backed by a database can replace it, so that tasks outlive a process.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { McpServer, TaskStore } from "mcp-effect"
 *
 * // The default, made explicit: tasks kept in this process's memory.
 * const ServerLive = McpServer.layer({ name: "jobs", version: "1.0.0" }).pipe(
 *   Layer.provide(TaskStore.layerMemory)
 * )
 * ```
 *
 * @since 0.2.0
 */
import { Clock, Context, Effect, Layer, Option } from "effect"
import type * as McpSchema from "./McpSchema.js"

/**
 * A task's status: `working`, waiting for the client (`input_required`), or
 * ended (`completed`, `failed`, `cancelled`).
 *
 * @since 0.2.0
 * @category models
 */
export type Status = "working" | "input_required" | "completed" | "failed" | "cancelled"

/**
 * What a task is, as `tasks/get` shows it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Task {
  readonly taskId: string
  readonly status: Status
  readonly statusMessage?: string | undefined
  /** ISO 8601. */
  readonly createdAt: string
  /** ISO 8601. */
  readonly lastUpdatedAt: string
  /** How long the task stays readable after it was created, in ms; `null` for ever. */
  readonly ttlMs: number | null
  readonly pollIntervalMs?: number | undefined
  /** What the task waits for, by key, while `input_required`. */
  readonly inputRequests?: Readonly<Record<string, { readonly method: string; readonly params: unknown }>> | undefined
  /** The tool's result, once `completed` (a tool error is `completed` with `isError`). */
  readonly result?: McpSchema.CallToolResult | undefined
  /** The JSON-RPC error, once `failed`. */
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown } | undefined
}

/**
 * Whether a status is an end.
 *
 * @since 0.2.0
 * @category models
 */
export const isTerminal = (status: Status): boolean =>
  status === "completed" || status === "failed" || status === "cancelled"

/**
 * The store's operations. Every write is a whole task, except that a task
 * that has ended (`isTerminal`) keeps that end: a later write of it is
 * ignored, so that a cancelled task stays cancelled whatever its handler
 * does next, and a handler run again elsewhere cannot change a result the
 * client may have read. `get` of an expired task is none.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** Whether the task was written: `false` when the stored one had ended, and stays as it is. */
  readonly put: (task: Task) => Effect.Effect<boolean>
  readonly get: (taskId: string) => Effect.Effect<Option.Option<Task>>
}

/**
 * The task store service.
 *
 * @since 0.2.0
 * @category tags
 */
export class TaskStore extends Context.Tag("mcp-effect/TaskStore")<TaskStore, Service>() {}

/**
 * A store in this process's memory: a task is forgotten once its time to
 * live has passed since it was created (checked as tasks are written and
 * read, so that nothing runs in the background).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.sync(() => {
  const tasks = new Map<string, Task>()
  const expired = (task: Task, now: number) => task.ttlMs !== null && Date.parse(task.createdAt) + task.ttlMs < now
  const sweep = (now: number) => {
    for (const [id, task] of tasks) if (expired(task, now)) tasks.delete(id)
  }
  return {
    put: (task) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        sweep(now)
        const stored = tasks.get(task.taskId)
        if (stored !== undefined && isTerminal(stored.status)) return false
        tasks.set(task.taskId, task)
        return true
      }),
    get: (taskId) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const task = tasks.get(taskId)
        if (task !== undefined && expired(task, now)) tasks.delete(taskId)
        return Option.fromNullable(tasks.get(taskId))
      })
  }
})

/**
 * {@link makeMemory} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TaskStore> = Layer.effect(TaskStore, makeMemory)
