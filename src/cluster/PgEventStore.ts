/**
 * An `EventStore` on Postgres: the events Streamable HTTP sent on its SSE
 * streams, shared by every node on the database, so that a client whose node
 * died resumes its stream with `Last-Event-ID` on another node and misses
 * nothing.
 *
 * The contract is the memory store's: event ids are `<streamId>/<sequence>`,
 * a stream keeps its latest events within `maxEventsPerStream` and
 * `maxBytesPerStream` (dropping its oldest first, always keeping the latest),
 * a session keeps `maxStreamsPerSession` streams (dropping its own least
 * recently written, never another session's), and a resumption from before
 * an event no longer kept is refused rather than replayed with a gap. There
 * is no bound on streams in all: a stream expires a time to live after its
 * last event (time from Effect's `Clock`), and the layer purges what expired
 * periodically.
 *
 * Two tables, created at layer build if absent: `<prefix>event_streams` (one
 * row per stream: its session, next sequence, the last sequence no longer
 * kept, size, expiry and last write) and `<prefix>events` (one row per kept
 * event, as JSON text, deleted with its stream). Nodes appending to
 * different streams touch different rows; appends to one stream are
 * serialized by its row's lock.
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
  /**
   * Streams kept per session; beyond that the session's least recently
   * written stream is dropped (never another session's). Default 200, as
   * the memory store.
   */
  readonly maxStreamsPerSession?: number | undefined
  /** The session a stream belongs to, from its id. Default: the id up to its last `-`, as the memory store. */
  readonly sessionOf?: ((streamId: string) => string) | undefined
  /**
   * The prefix of the tables' names: `<prefix>event_streams`, `<prefix>events`
   * and the sequence `<prefix>event_writes`. Default `mcp_`.
   */
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
  readonly maxPerSession: number
  readonly sessionOf: (streamId: string) => string
}

/** The session of a Streamable HTTP stream id, `<sessionId>-<n>` (as the memory store reads it). */
const sessionOfStream = (streamId: string): string => {
  const dash = streamId.lastIndexOf("-")
  return dash <= 0 ? streamId : streamId.slice(0, dash)
}

/** The tables' names, as identifiers; the write counter's as `nextval` reads it (quoted, so that case is kept). */
const tableNames = (sql: SqlClient.SqlClient, prefix: string) => ({
  prefix,
  streams: sql(`${prefix}event_streams`),
  events: sql(`${prefix}events`),
  writes: sql(`${prefix}event_writes`),
  writesName: `"${`${prefix}event_writes`.replace(/"/g, "\"\"")}"`,
  expiresIndex: sql(`${prefix}event_streams_expires_at`),
  sessionIndex: sql(`${prefix}event_streams_session`)
})
type Tables = ReturnType<typeof tableNames>

const create = (sql: SqlClient.SqlClient, t: Tables) =>
  createTables(sql, [
    // A stream's row outlives its events when it is dropped to make room (`dropped`): written again, it goes on with
    // its sequence, and a resumption from before is refused.
    sql`CREATE TABLE IF NOT EXISTS ${t.streams} (
      stream_id TEXT PRIMARY KEY,
      session_id TEXT NOT NULL,
      next_sequence BIGINT NOT NULL,
      floor_sequence BIGINT NOT NULL,
      bytes BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      last_write BIGINT NOT NULL,
      dropped BOOLEAN NOT NULL DEFAULT FALSE
    )`,
    sql`CREATE INDEX IF NOT EXISTS ${t.expiresIndex} ON ${t.streams} (expires_at)`,
    sql`CREATE INDEX IF NOT EXISTS ${t.sessionIndex} ON ${t.streams} (session_id, last_write)`,
    sql`CREATE SEQUENCE IF NOT EXISTS ${t.writes}`,
    sql`CREATE TABLE IF NOT EXISTS ${t.events} (
      stream_id TEXT NOT NULL REFERENCES ${t.streams} (stream_id) ON DELETE CASCADE,
      sequence BIGINT NOT NULL,
      message TEXT NOT NULL,
      size INTEGER NOT NULL,
      PRIMARY KEY (stream_id, sequence)
    )`
  ])

interface Upserted {
  readonly sequence: number
  readonly floor: number
  readonly bytes: number
  /** The stream is new, or was dropped: it needs room among its session's streams. */
  readonly opened: boolean
}

/**
 * Takes the stream's next sequence: the row's lock serializes appends to one
 * stream. Whether it reopens is read from the statement's snapshot (a
 * `FOR UPDATE` there would skip the row the upsert itself changes). The floor rises past what no longer fits by count, and past
 * everything when the stream was dropped or expired (it goes on with its
 * sequence, keeping none of its old events, so that no event id is reused).
 */
const upsertStream = (
  sql: SqlClient.SqlClient,
  t: Tables,
  limits: Limits,
  streamId: string,
  size: number,
  now: number
) =>
  Effect.map(
    sql<Upserted>`
      WITH old AS (SELECT dropped OR expires_at <= ${now} AS reopened FROM ${t.streams} WHERE stream_id = ${streamId})
      INSERT INTO ${t.streams} AS s
        (stream_id, session_id, next_sequence, floor_sequence, bytes, expires_at, last_write)
      VALUES (${streamId}, ${limits.sessionOf(streamId)}, 2, 0, ${size}, ${now + limits.ttl}, nextval(${t.writesName}))
      ON CONFLICT (stream_id) DO UPDATE SET
        next_sequence = s.next_sequence + 1,
        floor_sequence = GREATEST(
          CASE WHEN s.dropped OR s.expires_at <= ${now} THEN s.next_sequence - 1 ELSE s.floor_sequence END,
          s.next_sequence - ${limits.maxEvents}
        ),
        bytes = s.bytes + ${size},
        expires_at = EXCLUDED.expires_at,
        last_write = EXCLUDED.last_write,
        dropped = FALSE
      RETURNING (next_sequence - 1)::float8 AS sequence, floor_sequence::float8 AS floor, bytes::float8 AS bytes,
        (xmax = 0 OR COALESCE((SELECT reopened FROM old), FALSE)) AS opened`,
    (rows) => rows[0]!
  )

/**
 * Makes room for a stream just opened: its session keeps `maxPerSession`
 * live streams, dropping its least recently written ones (their events go,
 * their rows stay to keep their sequence), and as many dropped ones. Never
 * another session's. Streams being written meanwhile (locked) are passed
 * over rather than waited for, so that two appends never wait on each other
 * (a deadlock): the bound is then exceeded by those, until the session's
 * next stream opens. A session lock keeps two nodes opening streams of one
 * session from choosing at once.
 */
const makeRoom = (sql: SqlClient.SqlClient, t: Tables, limits: Limits, streamId: string, now: number) => {
  const session = limits.sessionOf(streamId)
  return Effect.all([
    sql`SELECT pg_advisory_xact_lock(hashtext(${`${t.prefix}event_streams:${session}`}))`,
    sql`WITH victims AS (
        UPDATE ${t.streams} SET dropped = TRUE, floor_sequence = next_sequence - 1, bytes = 0
        WHERE stream_id IN (
          SELECT stream_id FROM ${t.streams}
          WHERE session_id = ${session} AND NOT dropped AND expires_at > ${now} AND stream_id <> ${streamId}
          ORDER BY last_write DESC OFFSET ${limits.maxPerSession - 1} FOR UPDATE SKIP LOCKED
        )
        RETURNING stream_id
      )
      DELETE FROM ${t.events} WHERE stream_id IN (SELECT stream_id FROM victims)`,
    sql`DELETE FROM ${t.streams} WHERE stream_id IN (
        SELECT stream_id FROM ${t.streams} WHERE session_id = ${session} AND dropped
        ORDER BY last_write DESC OFFSET ${limits.maxPerSession} FOR UPDATE SKIP LOCKED
      )`
  ], { discard: true })
}

/** Drops the stream's events that no longer fit, oldest first: those up to the floor, then any beyond the bytes. */
const trim = (sql: SqlClient.SqlClient, t: Tables, limits: Limits, streamId: string, upserted: Upserted) =>
  Effect.gen(function*() {
    let dropped = yield* dropThrough(sql, t.events, streamId, upserted.floor)
    let floor = upserted.floor
    if (upserted.bytes - dropped > limits.maxBytes) {
      // The newest events that fit; everything older goes (the latest stays even when it alone is too large).
      const [cut] = yield* sql<{ readonly cutoff: number | null }>`
        SELECT MAX(sequence)::float8 AS cutoff FROM (
          SELECT sequence, SUM(size) OVER (ORDER BY sequence DESC) AS running
          FROM ${t.events} WHERE stream_id = ${streamId}
        ) r WHERE running > ${limits.maxBytes} AND sequence < ${upserted.sequence}`
      if (cut?.cutoff != null) {
        dropped += yield* dropThrough(sql, t.events, streamId, cut.cutoff)
        floor = cut.cutoff
      }
    }
    if (dropped > 0 || floor !== upserted.floor) {
      yield* sql`UPDATE ${t.streams} SET bytes = bytes - ${dropped}, floor_sequence = ${floor}
        WHERE stream_id = ${streamId}`
    }
  })

/** Appends in one transaction: the stream's row, room among its session's streams if it opened, the event, the trim. */
const makeAppend =
  (sql: SqlClient.SqlClient, t: Tables, limits: Limits) =>
  (streamId: string, message: unknown): Effect.Effect<string | undefined> => {
    const text = encode(message)
    if (text === undefined) return Effect.succeed(undefined)
    return Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const upserted = yield* upsertStream(sql, t, limits, streamId, text.length, now)
      if (upserted.opened) yield* makeRoom(sql, t, limits, streamId, now)
      yield* sql`INSERT INTO ${t.events} (stream_id, sequence, message, size)
        VALUES (${streamId}, ${upserted.sequence}, ${text}, ${text.length})`
      yield* trim(sql, t, limits, streamId, upserted)
      return EventStore.eventId(streamId, upserted.sequence)
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
      WHERE s.stream_id = ${parsed.streamId} AND s.expires_at > ${now} AND NOT s.dropped
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
    maxBytes: options.maxBytesPerStream ?? 4 * 1024 * 1024,
    maxPerSession: Math.max(1, options.maxStreamsPerSession ?? 200),
    sessionOf: options.sessionOf ?? sessionOfStream
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
