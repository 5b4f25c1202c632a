/**
 * A `TaskStore` on Postgres: 2026-07-28 tasks shared by every node on the
 * database, so that `tasks/get` on any node reads a task another node wrote.
 *
 * One row per task in `<prefix>tasks` (created at layer build if absent): the
 * task id, the task as JSON, and when it expires. A `put` replaces the
 * task's row. The rule is the memory store's: a task is forgotten once its
 * `ttlMs` has passed since its `createdAt` (`null`: kept). An expired task
 * is never read (time from Effect's `Clock`), and the layer purges expired
 * rows periodically. A row this version cannot read reads as no task.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgTaskStore } from "mcp-effect/cluster"
 *
 * const Tasks = PgTaskStore.layer({ purgeInterval: "5 minutes" }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Duration } from "effect"
import { Clock, Effect, Layer, Option, Schema } from "effect"
import * as McpSchema from "../McpSchema.js"
import * as TaskStore from "../TaskStore.js"
import { createTables, defaultTablePrefix, degrade, millis, purgeEvery } from "./internal/sql.js"

/**
 * Options of {@link make} and {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The prefix of the table's name, `<prefix>tasks`. Default `mcp_`. */
  readonly tablePrefix?: string | undefined
  /** How often {@link layer} purges expired tasks. Default: one minute. */
  readonly purgeInterval?: Duration.DurationInput | undefined
}

/**
 * A task store on Postgres, with a purge of what expired.
 *
 * @since 0.2.0
 * @category models
 */
export interface PgTaskStore extends TaskStore.Service {
  /** Deletes the expired tasks; answers their ids. */
  readonly purge: Effect.Effect<ReadonlyArray<string>, SqlError>
}

/** The task as stored: JSON, with fields this version does not know kept as they came. */
const StoredTask = Schema.parseJson(Schema.Struct({
  taskId: Schema.String,
  status: McpSchema.TaskStatus,
  statusMessage: Schema.optional(Schema.String),
  createdAt: Schema.String,
  lastUpdatedAt: Schema.String,
  ttlMs: Schema.NullOr(Schema.Number),
  pollIntervalMs: Schema.optional(Schema.Number),
  inputRequests: Schema.optional(Schema.Record({
    key: Schema.String,
    value: Schema.Struct({ method: Schema.String, params: Schema.Unknown })
  })),
  result: Schema.optional(McpSchema.CallToolResult),
  error: Schema.optional(
    Schema.Struct({ code: Schema.Number, message: Schema.String, data: Schema.optional(Schema.Unknown) })
  )
}))
const encodeTask = Schema.encode(StoredTask, { onExcessProperty: "preserve" })
const decodeTask = Schema.decodeUnknownOption(StoredTask, { onExcessProperty: "preserve" })

/**
 * When the task expires, in epoch milliseconds, or `null` when it is kept.
 * A `createdAt` that is not a date counts from the write, so that such a
 * task still expires.
 */
const expiresAt = (task: TaskStore.Task, now: number): number | null => {
  if (task.ttlMs === null) return null
  const created = Date.parse(task.createdAt)
  return (Number.isFinite(created) ? created : now) + task.ttlMs
}

/**
 * A task store on the `SqlClient` in context (Postgres: `PgClient`),
 * creating its table if absent.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = Effect.fn("PgTaskStore.make")(function*(options: Options = {}) {
  const sql = yield* SqlClient.SqlClient
  const prefix = options.tablePrefix ?? defaultTablePrefix
  const table = sql(`${prefix}tasks`)
  yield* createTables(sql, [
    sql`CREATE TABLE IF NOT EXISTS ${table} (
      task_id TEXT PRIMARY KEY,
      task TEXT NOT NULL,
      -- An ended task keeps its end (see TaskStore.Service): its status is what a write checks.
      status TEXT,
      expires_at BIGINT
    )`,
    sql`CREATE INDEX IF NOT EXISTS ${sql(`${prefix}tasks_expires_at`)} ON ${table} (expires_at)`
  ])

  const put = (task: TaskStore.Task) =>
    Effect.gen(function*() {
      const json = yield* encodeTask(task)
      const now = yield* Clock.currentTimeMillis
      // A row comes back when the task was written: not when the stored one had ended.
      return yield* sql`INSERT INTO ${table} (task_id, task, expires_at, status) VALUES (${task.taskId}, ${json}, ${
        expiresAt(task, now)
      }, ${task.status})
        ON CONFLICT (task_id) DO UPDATE SET task = EXCLUDED.task, expires_at = EXCLUDED.expires_at, status = EXCLUDED.status
        WHERE COALESCE(${table}.status, '') NOT IN ('completed', 'failed', 'cancelled')
        RETURNING task_id`.pipe(Effect.map((rows) => rows.length === 1))
    }).pipe(degrade("PgTaskStore.put", false))

  const get = (taskId: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // Readable until its time to live has passed, as in the memory store (`createdAt + ttlMs < now` is expired).
      const rows = yield* sql<{ readonly task: string }>`SELECT task FROM ${table}
        WHERE task_id = ${taskId} AND (expires_at IS NULL OR expires_at >= ${now})`
      // A row this version cannot read is as good as no row: `tasks/get` answers that the task is unknown.
      return rows.length === 0 ? Option.none() : decodeTask(rows[0]!.task)
    }).pipe(degrade("PgTaskStore.get", Option.none()))

  const purge = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const deleted = yield* sql<{ readonly task_id: string }>`DELETE FROM ${table} WHERE expires_at < ${now}
      RETURNING task_id`
    return deleted.map((row) => row.task_id)
  })

  const store: PgTaskStore = { put, get, purge }
  return store
})

/**
 * The store as the `TaskStore` servers keep their tasks in, purging expired
 * tasks every `purgeInterval` for the life of the layer.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { PgTaskStore } from "mcp-effect/cluster"
 *
 * const ServerLive = McpServer.layer({ name: "jobs", version: "1.0.0" }).pipe(
 *   Layer.provide(PgTaskStore.layer({ tablePrefix: "myapp_mcp_" })),
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<TaskStore.TaskStore, SqlError, SqlClient.SqlClient> =>
  Layer.scoped(
    TaskStore.TaskStore,
    Effect.tap(
      make(options),
      (store) => purgeEvery(store.purge, millis(options.purgeInterval, "1 minute"), "PgTaskStore")
    )
  )
