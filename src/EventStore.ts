/**
 * Where Streamable HTTP keeps the events it sent on SSE streams, so that a
 * client that lost a stream (or was told to poll, SEP-1699) can resume it
 * with `Last-Event-ID`.
 *
 * Event ids are `<streamId>/<sequence>`: unique, and they name their stream.
 * The default store lives in memory, bounded per stream, per session (a
 * stream id names its session: `<sessionId>-<n>`) and in all, and never
 * drops one session's events to make room for another's; the service is the
 * seam for a shared store (Redis, say) behind several server processes.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { EventStore } from "mcp-effect"
 *
 * const Events = EventStore.layerMemory({ maxEventsPerStream: 500, maxStreams: 5_000, maxStreamsPerSession: 100 })
 * ```
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Option } from "effect"

/**
 * One stored event.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredEvent {
  readonly id: string
  readonly message: unknown
}

/**
 * An event store.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Stores a message sent on a stream and returns its event id; or
   * `undefined` when the store does not keep it (it is full): the event then
   * goes out without an id, and cannot be resumed from.
   */
  readonly append: (streamId: string, message: unknown) => Effect.Effect<string | undefined>
  /**
   * The events of the stream named by `lastEventId` that came after it;
   * none when the store no longer holds all of them (the stream was never
   * stored, was forgotten, or dropped events since), which the resumption
   * answers with an error rather than a gap.
   */
  readonly replayAfter: (
    lastEventId: string
  ) => Effect.Effect<Option.Option<{ readonly streamId: string; readonly events: ReadonlyArray<StoredEvent> }>>
  /** Forgets a stream (its session ended). */
  readonly remove: (streamId: string) => Effect.Effect<void>
}

/**
 * The event store Streamable HTTP uses; the memory store when none is provided.
 *
 * @since 0.1.0
 * @category tags
 */
export class EventStore extends Context.Tag("mcp-effect/EventStore")<EventStore, Service>() {}

/**
 * The event id of the `sequence`-th event of a stream; 0 is the priming event.
 *
 * @since 0.1.0
 * @category event ids
 */
export const eventId = (streamId: string, sequence: number): string => `${streamId}/${sequence}`

/**
 * Splits an event id into its stream and sequence, or `undefined` when it is
 * not one of ours.
 *
 * @since 0.1.0
 * @category event ids
 */
export const parseEventId = (id: string): { readonly streamId: string; readonly sequence: number } | undefined => {
  const slash = id.lastIndexOf("/")
  if (slash <= 0) return undefined
  const sequence = Number(id.slice(slash + 1))
  return Number.isSafeInteger(sequence) && sequence >= 0 ? { streamId: id.slice(0, slash), sequence } : undefined
}

/**
 * Options of the memory store.
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryOptions {
  /**
   * Events kept per stream; older ones are dropped first, and a resumption
   * from before a dropped event is refused (nothing is replayed with a gap).
   * Default 1,000.
   */
  readonly maxEventsPerStream?: number
  /**
   * Bytes of events (as JSON text) kept per stream; older events are dropped
   * first, as for `maxEventsPerStream`, and the latest is always kept. It
   * bounds what a handler that logs without end costs while its client does
   * not read. Default 4 MiB.
   *
   * @since 0.2.0
   */
  readonly maxBytesPerStream?: number
  /**
   * Streams kept in all. When the store is full, a session makes room only
   * by dropping its own least recently written stream: one session's events
   * are never dropped for another's. A session with no stream to give up
   * has its events sent without an event id (they cannot be resumed from)
   * until room frees up. Default 10,000.
   */
  readonly maxStreams?: number
  /**
   * Streams kept per session; beyond that the session's least recently
   * written stream is dropped. Default 200 (twice Streamable HTTP's default
   * `maxRequestsPerSession`, so that a busy session drops its finished
   * streams before its live ones).
   *
   * @since 0.2.0
   */
  readonly maxStreamsPerSession?: number
  /**
   * The session a stream belongs to, from its id. Default: the id up to its
   * last `-`, which is the session id for Streamable HTTP's stream ids
   * (`<sessionId>-<n>`).
   *
   * @since 0.2.0
   */
  readonly sessionOf?: (streamId: string) => string
}

/** A message's length as JSON text; what cannot be encoded counts as nothing (it is sent as an error anyway). */
const sizeOf = (message: unknown): number => {
  try {
    return JSON.stringify(message)?.length ?? 0
  } catch {
    return 0
  }
}

/** The session of a Streamable HTTP stream id, `<sessionId>-<n>`. */
const sessionOfStream = (streamId: string): string => {
  const dash = streamId.lastIndexOf("-")
  return dash <= 0 ? streamId : streamId.slice(0, dash)
}

interface MemoryStream {
  readonly session: MemorySession
  next: number
  /** The sequence of the last event no longer kept: a resumption from before it would miss events. */
  floor: number
  /** The size of its events, as JSON text. */
  bytes: number
  readonly events: Array<{ readonly sequence: number; readonly message: unknown; readonly size: number }>
}

interface MemorySession {
  readonly id: string
  /** Its streams, least recently written first (a Map iterates in insertion order: a write re-inserts). */
  readonly streams: Map<string, MemoryStream>
  /**
   * Streams dropped to make room, with the sequence each had reached: one
   * written again goes on from there, and refuses resumptions from before.
   * As bounded as the streams.
   */
  dropped: Map<string, number> | undefined
}

/**
 * The in-memory store, bounded per stream, per session and in all. Its
 * `unsafe` methods answer at once, so that Streamable HTTP stores each event
 * without running an effect (it recognizes this class; a copy or a wrapper
 * goes through the effects).
 *
 * @since 0.2.0
 * @category models
 */
export class MemoryEventStore implements Service {
  private readonly maxEvents: number
  private readonly maxBytes: number
  private readonly maxStreams: number
  private readonly maxPerSession: number
  private readonly sessionOf: (streamId: string) => string
  private readonly streams = new Map<string, MemoryStream>()
  private readonly sessions = new Map<string, MemorySession>()
  constructor(options: MemoryOptions = {}) {
    this.maxEvents = Math.max(1, options.maxEventsPerStream ?? 1000)
    this.maxBytes = options.maxBytesPerStream ?? 4 * 1024 * 1024
    this.maxStreams = Math.max(1, options.maxStreams ?? 10_000)
    this.maxPerSession = Math.max(1, options.maxStreamsPerSession ?? 200)
    this.sessionOf = options.sessionOf ?? sessionOfStream
  }

  /**
   * Stores a message and returns its event id, at once; `undefined` when
   * the store is full and the stream's session has no stream of its own to
   * make room with. `size` is the message's length as JSON text, when the
   * caller has it (it is measured otherwise).
   *
   * @since 0.2.0
   */
  unsafeAppend(streamId: string, message: unknown, size: number = sizeOf(message)): string | undefined {
    let stream = this.streams.get(streamId)
    if (stream === undefined) {
      stream = this.open(streamId)
      if (stream === undefined) return undefined
    } else {
      const own = stream.session.streams
      if (own.size > 1) {
        own.delete(streamId)
        own.set(streamId, stream)
      }
    }
    const sequence = stream.next++
    stream.events.push({ sequence, message, size })
    stream.bytes += size
    while (stream.events.length > this.maxEvents || (stream.bytes > this.maxBytes && stream.events.length > 1)) {
      const dropped = stream.events.shift()!
      stream.bytes -= dropped.size
      stream.floor = dropped.sequence
    }
    return eventId(streamId, sequence)
  }

  /**
   * Forgets a stream, at once.
   *
   * @since 0.2.0
   */
  unsafeRemove(streamId: string): void {
    const stream = this.streams.get(streamId)
    if (stream !== undefined) {
      this.streams.delete(streamId)
      stream.session.streams.delete(streamId)
      return this.release(stream.session)
    }
    const session = this.sessions.get(this.sessionOf(streamId))
    if (session?.dropped?.delete(streamId)) this.release(session)
  }

  /**
   * A new stream, with room made for it from its own session's streams; none when there is no room.
   *
   * @internal
   */
  private open(streamId: string): MemoryStream | undefined {
    const sessionId = this.sessionOf(streamId)
    let session = this.sessions.get(sessionId)
    // Read before making room, which may forget the oldest of the dropped.
    const reached = session?.dropped?.get(streamId)
    if (reached !== undefined) session?.dropped?.delete(streamId)
    if (session === undefined) {
      if (this.streams.size >= this.maxStreams) return undefined
      session = { id: sessionId, streams: new Map(), dropped: undefined }
      this.sessions.set(sessionId, session)
    } else if (session.streams.size >= this.maxPerSession || this.streams.size >= this.maxStreams) {
      const oldest = session.streams.entries().next().value
      if (oldest === undefined) {
        if (reached !== undefined) (session.dropped ??= new Map()).set(streamId, reached)
        return undefined
      }
      this.drop(oldest[0], oldest[1])
    }
    const stream: MemoryStream = {
      session,
      next: reached ?? 1,
      floor: reached === undefined ? 0 : reached - 1,
      bytes: 0,
      events: []
    }
    this.streams.set(streamId, stream)
    session.streams.set(streamId, stream)
    return stream
  }

  /**
   * Drops a stream to make room, remembering how far it had gone.
   *
   * @internal
   */
  private drop(streamId: string, stream: MemoryStream): void {
    this.streams.delete(streamId)
    const session = stream.session
    session.streams.delete(streamId)
    const dropped = (session.dropped ??= new Map())
    dropped.set(streamId, stream.next)
    if (dropped.size > this.maxPerSession) dropped.delete(dropped.keys().next().value!)
  }

  /**
   * Forgets a session that holds nothing any more.
   *
   * @internal
   */
  private release(session: MemorySession): void {
    if (session.streams.size === 0 && (session.dropped === undefined || session.dropped.size === 0)) {
      this.sessions.delete(session.id)
    }
  }

  // Own properties rather than methods, so that a copy (`{ ...store, append }`) is still a whole store.
  /**
   * `Service.append`: {@link unsafeAppend} as an effect.
   *
   * @since 0.2.0
   */
  readonly append = (streamId: string, message: unknown): Effect.Effect<string | undefined> =>
    Effect.sync(() => this.unsafeAppend(streamId, message))

  /**
   * `Service.replayAfter`: the events kept after `lastEventId`; none when some
   * of them were dropped or the stream is gone.
   *
   * @since 0.2.0
   */
  readonly replayAfter = (lastEventId: string) =>
    Effect.sync(() => {
      const parsed = parseEventId(lastEventId)
      const stream = parsed === undefined ? undefined : this.streams.get(parsed.streamId)
      // Gone, or kept only from after the client's last event: what it missed cannot be replayed.
      if (parsed === undefined || stream === undefined || parsed.sequence < stream.floor) return Option.none()
      return Option.some({
        streamId: parsed.streamId,
        events: stream.events
          .filter((event) => event.sequence > parsed.sequence)
          .map((event) => ({ id: eventId(parsed.streamId, event.sequence), message: event.message }))
      })
    })

  /**
   * `Service.remove`: {@link unsafeRemove} as an effect.
   *
   * @since 0.2.0
   */
  readonly remove = (streamId: string): Effect.Effect<void> => Effect.sync(() => this.unsafeRemove(streamId))
}

/**
 * An in-memory store, bounded per stream, per session and in all.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options: MemoryOptions = {}): Service => new MemoryEventStore(options)

/**
 * The in-memory store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<EventStore> =>
  Layer.sync(EventStore, () => makeMemory(options))
