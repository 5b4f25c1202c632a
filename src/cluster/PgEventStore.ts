/**
 * An `EventStore` on Postgres: the events Streamable HTTP sent on its SSE
 * streams, shared by every node on the database, so that a client whose node
 * died resumes its stream with `Last-Event-ID` on another node and misses
 * nothing.
 *
 * The contract is the memory store's: event ids are `<streamId>/<sequence>`,
 * a stream keeps its latest events within `maxEventsPerStream` and
 * `maxBytesPerStream` (dropping its oldest first, always keeping the latest),
 * and a resumption from before an event no longer kept is refused rather than
 * replayed with a gap. A stream expires a time to live after its last event
 * (time from Effect's `Clock`); the layer purges what expired periodically.
 *
 * Two tables, created at layer build if absent: `<prefix>event_streams` (one
 * row per stream: its next sequence, the last sequence no longer kept, its
 * size and expiry) and `<prefix>events` (one row per kept event, as JSON
 * text, deleted with its stream). Nodes appending to different streams touch
 * different rows; appends to one stream are serialized by its row's lock.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgEventStore } from "mcp-effect/cluster"
 *
 * const Events = PgEventStore.layer({ timeToLive: "30 minutes", maxEventsPerStream: 500 }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Duration } from "effect"
import { Clock, Effect, Layer, Option } from "effect"
import * as EventStore from "../EventStore.js"
import { createTables, defaultTablePrefix, degrade, millis, purgeEvery } from "./internal/sql.js"

/**
 * Options of {@link make} and {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** How long a stream is kept after its last event. Default: one hour. */
  readonly timeToLive?: Duration.DurationInput | undefined
  /** Events kept per stream; older ones are dropped first. Default 1,000. */
  readonly maxEventsPerStream?: number | undefined
  /** Bytes of events (as JSON text) kept per stream; older ones are dropped first, the latest always kept. Default 4 MiB. */
  readonly maxBytesPerStream?: number | undefined
  /** The prefix of the tables' names, `<prefix>event_streams` and `<prefix>events`. Default `mcp_`. */
  readonly tablePrefix?: string | undefined
  /** How often {@link layer} purges expired streams. Default: one minute. */
  readonly purgeInterval?: Duration.DurationInput | undefined
}

/**
 * An event store on Postgres, with a purge of what expired.
 *
 * @since 0.2.0
 * @category models
 */
export interface PgEventStore extends EventStore.Service {
  /** Deletes the expired streams and their events; answers how many streams. */
  readonly purge: Effect.Effect<number, SqlError>
}

/** A message as JSON text, or `undefined` when it has none (it is then sent without an event id). */
const encode = (message: unknown): string | undefined => {
  try {
    return JSON.stringify(message)
  } catch {
    return undefined
  }
}

interface Limits {
  readonly ttl: number
  readonly maxEvents: number
  readonly maxBytes: number
}

/** The tables' names, as identifiers. */
const tableNames = (sql: SqlClient.SqlClient, prefix: string) => ({
  streams: sql(`${prefix}event_streams`),
  events: sql(`${prefix}events`),
  expiresIndex: sql(`${prefix}event_streams_expires_at`)
})
type Tables = ReturnType<typeof tableNames>

const create = (sql: SqlClient.SqlClient, { events, expiresIndex, streams }: Tables) =>
  createTables(sql, [
    sql`CREATE TABLE IF NOT EXISTS ${streams} (
      stream_id TEXT PRIMARY KEY,
      next_sequence BIGINT NOT NULL,
      floor_sequence BIGINT NOT NULL,
      bytes BIGINT NOT NULL,
      expires_at BIGINT NOT NULL
    )`,
    sql`CREATE INDEX IF NOT EXISTS ${expiresIndex} ON ${streams} (expires_at)`,
    sql`CREATE TABLE IF NOT EXISTS ${events} (
      stream_id TEXT NOT NULL REFERENCES ${streams} (stream_id) ON DELETE CASCADE,
      sequence BIGINT NOT NULL,
      message TEXT NOT NULL,
      size INTEGER NOT NULL,
      PRIMARY KEY (stream_id, sequence)
    )`
  ])

/**
 * Appends in one transaction: the stream's row is upserted (taking its lock,
 * so appends to one stream are serialized), the event inserted, then what no
 * longer fits dropped, oldest first. A stream that expired but is not purged
 * yet goes on with its sequence and keeps none of its old events, so that no
 * event id is ever reused.
 */
const makeAppend =
  (sql: SqlClient.SqlClient, { events, streams }: Tables, limits: Limits) =>
  (streamId: string, message: unknown): Effect.Effect<string | undefined> => {
    const text = encode(message)
    if (text === undefined) return Effect.succeed(undefined)
    const size = text.length
    return Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const [row] = yield* sql<{ readonly sequence: number; readonly floor: number; readonly bytes: number }>`
      INSERT INTO ${streams} AS s (stream_id, next_sequence, floor_sequence, bytes, expires_at)
      VALUES (${streamId}, 2, 0, ${size}, ${now + limits.ttl})
      ON CONFLICT (stream_id) DO UPDATE SET
        next_sequence = s.next_sequence + 1,
        floor_sequence = GREATEST(
          CASE WHEN s.expires_at <= ${now} THEN s.next_sequence - 1 ELSE s.floor_sequence END,
          s.next_sequence - ${limits.maxEvents}
        ),
        bytes = s.bytes + ${size},
        expires_at = EXCLUDED.expires_at
      RETURNING (next_sequence - 1)::float8 AS sequence, floor_sequence::float8 AS floor, bytes::float8 AS bytes`
      const { bytes, floor, sequence } = row!
      yield* sql`INSERT INTO ${events} (stream_id, sequence, message, size)
      VALUES (${streamId}, ${sequence}, ${text}, ${size})`
      let dropped = yield* dropThrough(sql, events, streamId, floor)
      let newFloor = floor
      if (bytes - dropped > limits.maxBytes) {
        // The newest events that fit; everything older goes (the latest stays even when it alone is too large).
        const [cut] = yield* sql<{ readonly cutoff: number | null }>`
        SELECT MAX(sequence)::float8 AS cutoff FROM (
          SELECT sequence, SUM(size) OVER (ORDER BY sequence DESC) AS running
          FROM ${events} WHERE stream_id = ${streamId}
        ) r WHERE running > ${limits.maxBytes} AND sequence < ${sequence}`
        if (cut?.cutoff != null) {
          dropped += yield* dropThrough(sql, events, streamId, cut.cutoff)
          newFloor = cut.cutoff
        }
      }
      if (dropped > 0 || newFloor !== floor) {
        yield* sql`UPDATE ${streams} SET bytes = bytes - ${dropped}, floor_sequence = ${newFloor}
        WHERE stream_id = ${streamId}`
      }
      return EventStore.eventId(streamId, sequence)
    }).pipe((effect) => sql.withTransaction(effect), degrade("PgEventStore.append", undefined))
  }

/** Deletes a stream's events up to `sequence`; answers their size. */
const dropThrough = (sql: SqlClient.SqlClient, events: Tables["events"], streamId: string, sequence: number) =>
  Effect.map(
    sql<{ readonly size: number }>`DELETE FROM ${events} WHERE stream_id = ${streamId} AND sequence <= ${sequence}
      RETURNING size`,
    (rows) => rows.reduce((sum, row) => sum + row.size, 0)
  )

/**
 * One statement, so one snapshot: the stream's floor and the events after
 * `lastEventId` are read together, and an append dropping events meanwhile
 * cannot open a gap between them.
 */
const makeReplayAfter = (sql: SqlClient.SqlClient, { events, streams }: Tables) => (lastEventId: string) => {
  const parsed = EventStore.parseEventId(lastEventId)
  if (parsed === undefined) return Effect.succeed(Option.none())
  return Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const rows = yield* sql<
      { readonly floor: number; readonly sequence: number | null; readonly message: string | null }
    >`
      SELECT s.floor_sequence::float8 AS floor, e.sequence::float8 AS sequence, e.message
      FROM ${streams} s LEFT JOIN ${events} e ON e.stream_id = s.stream_id AND e.sequence > ${parsed.sequence}
      WHERE s.stream_id = ${parsed.streamId} AND s.expires_at > ${now}
      ORDER BY e.sequence`
    // Gone, expired, or kept only from after the client's last event: what it missed cannot be replayed.
    if (rows.length === 0 || parsed.sequence < rows[0]!.floor) return Option.none()
    const replayed: Array<EventStore.StoredEvent> = []
    for (const row of rows) {
      if (row.sequence === null || row.message === null) continue
      const message = yield* Effect.try(() => JSON.parse(row.message!) as unknown)
      replayed.push({ id: EventStore.eventId(parsed.streamId, row.sequence), message })
    }
    return Option.some({ streamId: parsed.streamId, events: replayed })
  }).pipe(degrade("PgEventStore.replayAfter", Option.none()))
}

/**
 * An event store on the `SqlClient` in context (Postgres: `PgClient`),
 * creating its tables if absent.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = Effect.fn("PgEventStore.make")(function*(options: Options = {}) {
  const sql = yield* SqlClient.SqlClient
  const tables = tableNames(sql, options.tablePrefix ?? defaultTablePrefix)
  yield* create(sql, tables)
  const limits: Limits = {
    ttl: millis(options.timeToLive, "1 hour"),
    maxEvents: Math.max(1, options.maxEventsPerStream ?? 1000),
    maxBytes: options.maxBytesPerStream ?? 4 * 1024 * 1024
  }
  const store: PgEventStore = {
    append: makeAppend(sql, tables, limits),
    replayAfter: makeReplayAfter(sql, tables),
    remove: (streamId) =>
      sql`DELETE FROM ${tables.streams} WHERE stream_id = ${streamId}`.pipe(
        Effect.asVoid,
        degrade("PgEventStore.remove", undefined)
      ),
    purge: Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        Effect.map(
          sql`DELETE FROM ${tables.streams} WHERE expires_at <= ${now} RETURNING stream_id`,
          (rows) => rows.length
        )
    )
  }
  return store
})

/**
 * The store as the `EventStore` Streamable HTTP uses, purging expired streams
 * every `purgeInterval` for the life of the layer.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgEventStore } from "mcp-effect/cluster"
 *
 * const Events = PgEventStore.layer({ tablePrefix: "myapp_mcp_" }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<EventStore.EventStore, SqlError, SqlClient.SqlClient> =>
  Layer.scoped(
    EventStore.EventStore,
    Effect.tap(
      make(options),
      (store) => purgeEvery(store.purge, millis(options.purgeInterval, "1 minute"), "PgEventStore")
    )
  )
