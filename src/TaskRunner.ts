/**
 * Where 2026-07-28 tasks run when they must outlive a process: the seam a
 * durable runner implements (the cluster's, in `mcp-effect/cluster`, runs
 * each task as an `@effect/workflow` execution on `@effect/cluster`). With
 * none in context, a task runs in a fiber of the process that started it,
 * and ends with it.
 *
 * With one, `McpServer.layer` registers the server with it. Starting,
 * answering and cancelling a task go to the runner from whichever node
 * serves the request; the runner runs the task's handler wherever it
 * decides, again on another node when the node that ran it died. A run
 * reads the request back from what was stored (`TaskRequest`), the answers
 * to its questions and the results of its `once` steps from the runner's
 * journal (`Journal`): a run on another node replays the handler, as a
 * 2026-07-28 retry does, with the answers and step results recorded so far.
 * A question waits in the run, which checks the journal again whenever it
 * hears that the task changed (on a `ChangeFeed`, from any node), and every
 * ten seconds besides.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { McpServer, TaskRunner } from "mcp-effect"
 *
 * // A runner that runs each task once, here, and forgets it: the shape of the seam.
 * const Inline = Layer.succeed(TaskRunner.TaskRunner, {
 *   register: (server) =>
 *     Effect.succeedSome({
 *       start: (taskId, request) =>
 *         Effect.forkDaemon(server.run(taskId, request, {
 *           answer: () => Effect.succeedNone,
 *           step: (_key, effect) => effect,
 *           moved: false
 *         })).pipe(Effect.asVoid),
 *       answer: () => Effect.void,
 *       cancel: () => Effect.void
 *     })
 * })
 *
 * const ServerLive = McpServer.layer({ name: "jobs", version: "1.0.0" }).pipe(Layer.provide(Inline))
 * ```
 *
 * @since 0.2.0
 */
import type { Scope } from "effect"
import { Context, Effect, Layer, Option } from "effect"
import type { AuthInfo } from "./Transport.js"

/**
 * A task's request as a runner stores it: JSON, and of its connection only
 * the verified principal (no headers).
 *
 * @since 0.2.0
 * @category models
 */
export interface TaskRequest {
  readonly method: string
  readonly params: Record<string, unknown> | undefined
  readonly auth?: AuthInfo | undefined
  /** For a task started by `continueAsTask`: the answers and `once` results of the rounds before it. */
  readonly journal?: {
    readonly answers: Readonly<Record<string, unknown>>
    readonly once: Readonly<Record<string, unknown>>
  } | undefined
}

/**
 * How one run of a task's handler has its answers and steps: journaled by
 * its runner.
 *
 * @since 0.2.0
 * @category models
 */
export interface Journal {
  /** The client's answer to the question `key`, if it gave one (through any node). */
  readonly answer: (key: string) => Effect.Effect<Option.Option<unknown>>
  /** Runs `effect` once across every run of the task: a later run has its journaled result. */
  readonly step: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Whether this run is in another process than the task's first run (the node that ran it stopped). */
  readonly moved: boolean
}

/**
 * What a server asks of its runner, from whichever node serves the request.
 *
 * @since 0.2.0
 * @category models
 */
export interface Durable {
  /** Runs the task (already stored, `working`) somewhere. */
  readonly start: (taskId: string, request: TaskRequest) => Effect.Effect<void>
  /** Hands the client's answers, by key, to the task's run. */
  readonly answer: (taskId: string, answers: Readonly<Record<string, unknown>>) => Effect.Effect<void>
  /** Interrupts the task's run, wherever it is (the task is already stored as cancelled). */
  readonly cancel: (taskId: string) => Effect.Effect<void>
}

/**
 * A server, as its runner sees it: its name (the same on every node) and one
 * run of a task's handler in this process, which stores the task's progress
 * and end itself.
 *
 * @since 0.2.0
 * @category models
 */
export interface Registration {
  readonly name: string
  readonly run: (taskId: string, request: TaskRequest, journal: Journal) => Effect.Effect<void>
}

/**
 * The runner's operations.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * Takes the server's tasks, for the life of the scope (that of
   * `McpServer.layer`); none: they run in the process that starts them.
   */
  readonly register: (server: Registration) => Effect.Effect<Option.Option<Durable>, never, Scope.Scope>
}

/**
 * The runner service: a server registers with it when `McpServer.layer`
 * builds, for the life of that layer.
 *
 * @since 0.2.0
 * @category tags
 */
export class TaskRunner extends Context.Tag("mcp-effect/TaskRunner")<TaskRunner, Service>() {}

/**
 * The default, made explicit: every task runs in a fiber of the process that
 * starts it, and ends with it.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerInProcess: Layer.Layer<TaskRunner> = Layer.succeed(TaskRunner, {
  register: () => Effect.succeed(Option.none())
})
