/**
 * A `SessionStore` on Postgres: what each handshake-era session negotiated,
 * shared by every node on the database, so that a session opened on one node
 * continues on another when its node dies or the balancer sends it elsewhere.
 *
 * One row per session in `<prefix>sessions` (created at layer build if
 * absent): the session id, its state as JSON, and when it expires. A save or
 * a touch pushes the expiry a time to live ahead (time from Effect's `Clock`);
 * an expired session is never loaded, and the layer purges expired rows
 * periodically.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgSessionStore } from "mcp-effect/cluster"
 *
 * const Sessions = PgSessionStore.layer({ timeToLive: "1 hour" }).pipe(
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
import * as SessionStore from "../SessionStore.js"
import { createTables, defaultTablePrefix, degrade, millis, purgeEvery } from "./internal/sql.js"

/**
 * Options of {@link make} and {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** How long a session neither saved nor touched is kept. Default: one hour. */
  readonly timeToLive?: Duration.DurationInput | undefined
  /** The prefix of the table's name, `<prefix>sessions`. Default `mcp_`. */
  readonly tablePrefix?: string | undefined
  /** How often {@link layer} purges expired sessions. Default: one minute. */
  readonly purgeInterval?: Duration.DurationInput | undefined
}

/**
 * A session store on Postgres, with a purge of what expired.
 *
 * @since 0.2.0
 * @category models
 */
export interface PgSessionStore extends SessionStore.Service {
  /** Deletes the expired sessions; answers how many. */
  readonly purge: Effect.Effect<number, SqlError>
}

/** The state as stored: JSON, with capabilities this version does not know kept as they came. */
const StoredState = Schema.parseJson(Schema.Struct({
  protocolVersion: Schema.String,
  clientCapabilities: McpSchema.ClientCapabilities,
  clientInfo: Schema.optional(McpSchema.Implementation),
  logLevel: Schema.optional(McpSchema.LoggingLevel),
  subscriptions: Schema.Array(Schema.String),
  principal: Schema.optional(Schema.String)
}))
const encodeState = Schema.encode(StoredState)
const decodeState = Schema.decodeUnknownOption(StoredState, { onExcessProperty: "preserve" })

/**
 * A session store on the `SqlClient` in context (Postgres: `PgClient`),
 * creating its table if absent.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = Effect.fn("PgSessionStore.make")(function*(options: Options = {}) {
  const sql = yield* SqlClient.SqlClient
  const table = sql(`${options.tablePrefix ?? defaultTablePrefix}sessions`)
  const ttl = millis(options.timeToLive, "1 hour")
  yield* createTables(sql, [
    sql`CREATE TABLE IF NOT EXISTS ${table} (
      session_id TEXT PRIMARY KEY,
      state TEXT NOT NULL,
      expires_at BIGINT NOT NULL
    )`
  ])

  const save = (sessionId: string, state: SessionStore.SessionState) =>
    Effect.gen(function*() {
      const json = yield* encodeState(state)
      const now = yield* Clock.currentTimeMillis
      yield* sql`INSERT INTO ${table} (session_id, state, expires_at) VALUES (${sessionId}, ${json}, ${now + ttl})
        ON CONFLICT (session_id) DO UPDATE SET state = EXCLUDED.state, expires_at = EXCLUDED.expires_at`
    }).pipe(degrade("PgSessionStore.save", undefined))

  const load = (sessionId: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const rows = yield* sql<{ readonly state: string }>`SELECT state FROM ${table}
        WHERE session_id = ${sessionId} AND expires_at > ${now}`
      // A row this version cannot read is as good as no row: the client starts a new session.
      return rows.length === 0 ? Option.none() : decodeState(rows[0]!.state)
    }).pipe(degrade("PgSessionStore.load", Option.none()))

  const touch = (sessionId: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      // What has expired stays expired: a touch never revives it.
      yield* sql`UPDATE ${table} SET expires_at = ${now + ttl} WHERE session_id = ${sessionId} AND expires_at > ${now}`
    }).pipe(degrade("PgSessionStore.touch", undefined))

  const remove = (sessionId: string) =>
    sql`DELETE FROM ${table} WHERE session_id = ${sessionId}`.pipe(
      Effect.asVoid,
      degrade("PgSessionStore.remove", undefined)
    )

  const purge = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const deleted = yield* sql`DELETE FROM ${table} WHERE expires_at <= ${now} RETURNING session_id`
    return deleted.length
  })

  const store: PgSessionStore = { save, load, touch, remove, purge }
  return store
})

/**
 * The store as the `SessionStore` Streamable HTTP uses, purging expired
 * sessions every `purgeInterval` for the life of the layer.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgSessionStore } from "mcp-effect/cluster"
 *
 * const Sessions = PgSessionStore.layer({ tablePrefix: "myapp_mcp_" }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<SessionStore.SessionStore, SqlError, SqlClient.SqlClient> =>
  Layer.scoped(
    SessionStore.SessionStore,
    Effect.tap(
      make(options),
      (store) => purgeEvery(store.purge, millis(options.purgeInterval, "1 minute"), "PgSessionStore")
    )
  )
