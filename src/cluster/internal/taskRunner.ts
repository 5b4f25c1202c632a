/**
 * The cluster's `TaskRunner`: each task is an `@effect/workflow` execution
 * of `McpTask` on `@effect/cluster`'s workflow engine, keyed by its task id,
 * its messages persisted in the cluster's `MessageStorage` (Postgres). The
 * cluster runs it on the runner that owns its shard, and again on another
 * one when that runner dies. A `once` step is an `Activity`.
 *
 * The answers to a task's questions are rows of `<prefix>task_answers`,
 * written by `tasks/update` on any node (the first answer to a question
 * wins), not `DurableDeferred`s: a deferred reaches its execution as a
 * message queued behind the execution's run, so a run that waits for one
 * must suspend (end, to be run again from its start), and the engine
 * resumes it only if the answer came after the suspension was stored, which
 * a client that sees the question first can beat. A run waits in its fiber
 * instead, and reads its answers again when `Tasks` hears the task changed.
 * Cancelling is `Tasks`' too (the task stored as cancelled, the change heard
 * where it runs); the execution then ends as the run does.
 */
import type { PersistenceError } from "@effect/cluster/ClusterError"
import * as ClusterSchema from "@effect/cluster/ClusterSchema"
import * as EntityAddress from "@effect/cluster/EntityAddress"
import * as EntityId from "@effect/cluster/EntityId"
import * as EntityType from "@effect/cluster/EntityType"
import * as MessageStorage from "@effect/cluster/MessageStorage"
import * as Sharding from "@effect/cluster/Sharding"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Activity from "@effect/workflow/Activity"
import * as Workflow from "@effect/workflow/Workflow"
import * as WorkflowEngine from "@effect/workflow/WorkflowEngine"
import { Cause, Context, Deferred, Effect, FiberId, Layer, Option, Schema } from "effect"
import * as TaskRunner from "../../TaskRunner.js"
import { createTables, degrade } from "./sql.js"

const Auth = Schema.Struct({
  subject: Schema.optional(Schema.String),
  clientId: Schema.optional(Schema.String),
  scopes: Schema.Array(Schema.String),
  claims: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  expiresAt: Schema.optional(Schema.Number)
})

const Entries = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** `TaskRunner.TaskRequest`, as the execution's payload stores it. */
const TaskRequest = Schema.Struct({
  method: Schema.String,
  params: Schema.UndefinedOr(Entries),
  auth: Schema.optional(Auth),
  journal: Schema.optional(Schema.Struct({ answers: Entries, once: Entries }))
})

/** Every task of every server on the cluster: one workflow, the server named in the payload. */
export const McpTask = Workflow.make({
  name: "McpTask",
  payload: { server: Schema.String, taskId: Schema.String, request: TaskRequest },
  idempotencyKey: ({ taskId }) => taskId
})

/** The entity type the engine gives `McpTask`'s executions (where their messages are kept). */
const entityType = EntityType.EntityType.make(`Workflow/${McpTask.name}`)

/** A `once` step's outcome as journaled: a failure is journaled only as having happened, to be run again. */
const Outcome = Schema.Union(
  Schema.TaggedStruct("Ok", { value: Schema.optional(Schema.Unknown) }),
  Schema.TaggedStruct("Failed", {})
)

/** A task's execution id, which depends on its id only (`idempotencyKey`). */
const executionId = (taskId: string) =>
  McpTask.executionId({ server: "", taskId, request: { method: "", params: undefined } })

/** The journal of one run of a task's execution, in the workflow's own context. */
const journalOf = (
  context: Context.Context<WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance>,
  answer: TaskRunner.Journal["answer"],
  moved: boolean
): TaskRunner.Journal => {
  const step = <A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    // The failure of an attempt made by this call: rethrown here. An attempt journaled as failed by an earlier
    // call (or run) is passed over for the next, which runs the step again.
    let failed: { readonly attempt: number; readonly cause: Cause.Cause<E> } | undefined
    const attempt = (n: number): Effect.Effect<A, E, R> => {
      const activity = Activity.make({
        name: `once/${key}/${n}`,
        success: Outcome,
        execute: Effect.matchCauseEffect(effect, {
          onSuccess: (value) => Effect.succeed(Outcome.members[0].make({ value })),
          onFailure: (cause) =>
            Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.sync(() => {
              failed = { attempt: n, cause }
              return Outcome.members[1].make({})
            })
        })
      })
      return Effect.flatMap(Effect.provide(activity, context), (outcome) => {
        // A journaled step's value is what the handler gave it, as JSON (the rule of `once` in a retry too).
        if (outcome._tag === "Ok") return Effect.succeed(outcome.value as A)
        return failed?.attempt === n ? Effect.failCause(failed.cause) : attempt(n + 1)
      })
    }
    return attempt(0)
  }
  return { answer, step, moved }
}

/**
 * The runner: registers `McpTask` with the engine, and runs each execution
 * with the server it names, once that server has registered here (an
 * execution the cluster hands this node as it starts waits for it).
 */
export const make = Effect.fn("ClusterTaskRunner.make")(function*(options: { readonly tablePrefix: string }) {
  const engine = yield* WorkflowEngine.WorkflowEngine
  const sharding = yield* Sharding.Sharding
  const storage = yield* MessageStorage.MessageStorage
  const sql = yield* SqlClient.SqlClient
  const answers = sql(`${options.tablePrefix}task_answers`)
  yield* createTables(sql, [
    sql`CREATE TABLE IF NOT EXISTS ${answers} (
      task_id TEXT NOT NULL,
      key TEXT NOT NULL,
      answer TEXT NOT NULL,
      PRIMARY KEY (task_id, key)
    )`
  ])
  const servers = new Map<string, Deferred.Deferred<TaskRunner.Registration>>()
  const serverNamed = (name: string) => {
    let server = servers.get(name)
    if (server === undefined) servers.set(name, server = Deferred.unsafeMake(FiberId.none))
    return server
  }
  // Tells this process's runs from those of a process that ran the task before it (and stopped).
  const processId = crypto.randomUUID()

  // The runner's statements are short and uninterruptible: `PgClient` cancels an interrupted query with
  // `pg_cancel_backend`, which Postgres may apply to the next statement on that pooled connection, someone else's.
  const answerOf = (taskId: string) => (key: string) =>
    sql<{ readonly answer: string }>`SELECT answer FROM ${answers} WHERE task_id = ${taskId} AND key = ${key}`.pipe(
      Effect.map((rows) => rows.length === 0 ? Option.none() : Option.some<unknown>(JSON.parse(rows[0]!.answer))),
      Effect.uninterruptible,
      // Read again at the next change of the task, or the next check.
      degrade("ClusterTaskRunner.readAnswer", Option.none())
    )

  yield* engine.register(McpTask, ({ request, server, taskId }) =>
    Effect.gen(function*() {
      const registration = yield* Deferred.await(serverNamed(server))
      const first = yield* Activity.make({
        name: "mcp/first-run",
        success: Schema.String,
        execute: Effect.succeed(processId)
      })
      const context = yield* Effect.context<WorkflowEngine.WorkflowEngine | WorkflowEngine.WorkflowInstance>()
      yield* registration.run(taskId, request, journalOf(context, answerOf(taskId), first !== processId))
    }))

  const withEngine = Effect.provideService(WorkflowEngine.WorkflowEngine, engine)
  const durableFor = (server: string): TaskRunner.Durable => ({
    start: (taskId, request) =>
      withEngine(Effect.asVoid(McpTask.execute({ server, taskId, request }, { discard: true }))),
    // The first answer to a question is the one its run reads, whichever node took it. An answer that could not be
    // written fails the client's tasks/update (-32603): the question stays shown, to be answered again.
    answer: (taskId, given) =>
      Effect.forEach(
        Object.entries(given),
        ([key, answer]) =>
          sql`INSERT INTO ${answers} (task_id, key, answer) VALUES (${taskId}, ${key}, ${
            JSON.stringify(answer ?? null)
          })
          ON CONFLICT DO NOTHING`,
        { discard: true }
      ).pipe(Effect.uninterruptible, Effect.orDie),
    // The run stops where it runs when it hears the task is cancelled; a run that starts later finds it ended.
    cancel: () => Effect.void
  })

  /** Where an execution's messages are kept: its run, its activities and their results. */
  const addressOf = (id: string) => {
    const entityId = EntityId.make(id)
    const group = Context.get(McpTask.annotations, ClusterSchema.ShardGroup)(entityId)
    return new EntityAddress.EntityAddress({ entityType, entityId, shardId: sharding.getShardId(entityId, group) })
  }

  const runner: Runner = {
    register: (server) =>
      Effect.gen(function*() {
        yield* Deferred.succeed(serverNamed(server.name), server)
        yield* Effect.addFinalizer(() => Effect.sync(() => servers.delete(server.name)))
        return Option.some(durableFor(server.name))
      }),
    forget: (taskIds) =>
      Effect.zipRight(
        Effect.forEach(taskIds, (taskId) =>
          Effect.flatMap(executionId(taskId), (id) => storage.clearAddress(addressOf(id))), { discard: true }),
        sql`DELETE FROM ${answers} WHERE task_id IN ${sql.in(taskIds)}`.pipe(Effect.when(() =>
          taskIds.length > 0
        ))
      )
  }
  return runner
})

/** The cluster's runner, and how the task store's purge forgets what the runner kept of the tasks it deleted. */
export interface Runner extends TaskRunner.Service {
  readonly forget: (taskIds: ReadonlyArray<string>) => Effect.Effect<void, PersistenceError | SqlError>
}

/** The runner as itself, for the store's purge. */
export class ClusterTaskRunner
  extends Context.Tag("mcp-effect/cluster/ClusterTaskRunner")<ClusterTaskRunner, Runner>()
{}

/** The runner as a `TaskRunner`, and as itself. */
export const layer = (options: { readonly tablePrefix: string }): Layer.Layer<
  TaskRunner.TaskRunner | ClusterTaskRunner,
  SqlError,
  WorkflowEngine.WorkflowEngine | Sharding.Sharding | MessageStorage.MessageStorage | SqlClient.SqlClient
> =>
  Layer.scopedContext(
    Effect.map(
      make(options),
      (runner) => Context.make(ClusterTaskRunner, runner).pipe(Context.add(TaskRunner.TaskRunner, runner))
    )
  )
