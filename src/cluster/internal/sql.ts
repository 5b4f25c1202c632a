/**
 * What the Postgres stores share: their tables' names, creating tables once
 * across nodes, the time to live, the purge loop, and how a failed statement
 * degrades a store whose service cannot fail.
 *
 * @internal
 */
import type { PersistenceError } from "@effect/cluster/ClusterError"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Scope } from "effect"
import { Duration, Effect, Schedule } from "effect"

/** The prefix of the stores' tables when none is given. */
export const defaultTablePrefix = "mcp_"

/** A duration option in milliseconds, with its default. */
export const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput): number =>
  Duration.toMillis(Duration.decode(input ?? fallback))

/**
 * Runs `statements` (each `CREATE … IF NOT EXISTS`) in one transaction under
 * an advisory lock: nodes starting together would otherwise race on
 * Postgres's catalog (`CREATE TABLE IF NOT EXISTS` is not safe concurrently).
 */
export const createTables = (
  sql: SqlClient.SqlClient,
  statements: ReadonlyArray<Effect.Effect<unknown, SqlError>>
): Effect.Effect<void, SqlError> =>
  sql.withTransaction(
    Effect.zipRight(
      sql`SELECT pg_advisory_xact_lock(hashtext('mcp-effect/cluster tables'))`,
      Effect.forEach(statements, (statement) => statement, { discard: true })
    )
  )

/**
 * A store operation whose service cannot fail: when the database fails it,
 * the failure is logged and `fallback` answers (an event sent without an id,
 * a resumption refused, a session not shared).
 */
export const degrade =
  <B>(what: string, fallback: B) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A | B, never, R> =>
    Effect.catchAll(self, (error) => Effect.as(Effect.logWarning(`${what} failed`, error), fallback))

/** Runs `purge` every `interval` for the life of the scope, logging a failure and going on. */
export const purgeEvery = (
  purge: Effect.Effect<unknown, SqlError | PersistenceError>,
  interval: number,
  what: string
): Effect.Effect<void, never, Scope.Scope> =>
  purge.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning(`${what}: purging what expired failed`, cause)),
    Effect.schedule(Schedule.spaced(Duration.millis(interval))),
    Effect.forkScoped,
    Effect.asVoid
  )
