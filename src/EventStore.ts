/**
 * Where Streamable HTTP keeps the events it sent on SSE streams, so that a
 * client that lost a stream (or was told to poll, SEP-1699) can resume it
 * with `Last-Event-ID`.
 *
 * Event ids are `<streamId>/<sequence>`: unique, and they name their stream.
 * The default store lives in memory with a bound per stream and on the number
 * of streams; the service is the seam for a shared store (Redis, say) behind
 * several server processes.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { EventStore } from "mcp-effect"
 *
 * const Events = EventStore.layerMemory({ maxEventsPerStream: 500, maxStreams: 5_000 })
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
  /** Stores a message sent on a stream and returns its event id. */
  readonly append: (streamId: string, message: unknown) => Effect.Effect<string>
  /** The events of the stream named by `lastEventId` that came after it. */
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
  /** Events kept per stream; older ones are dropped first. Default 1,000. */
  readonly maxEventsPerStream?: number
  /** Streams kept; the least recently written is dropped first. Default 10,000. */
  readonly maxStreams?: number
}

interface MemoryStream {
  next: number
  readonly events: Array<{ readonly sequence: number; readonly message: unknown }>
}

/**
 * The in-memory store, with per-stream bounds. Its `unsafe` methods answer at
 * once, so that Streamable HTTP stores each event without running an effect
 * (it recognizes this class; a copy or a wrapper goes through the effects).
 *
 * @since 0.2.0
 * @category models
 */
export class MemoryEventStore implements Service {
  private readonly maxEvents: number
  private readonly maxStreams: number
  // A Map iterates in insertion order: re-inserting on write keeps it ordered by recency.
  private readonly streams = new Map<string, MemoryStream>()
  constructor(options: MemoryOptions = {}) {
    this.maxEvents = options.maxEventsPerStream ?? 1000
    this.maxStreams = options.maxStreams ?? 10_000
  }

  /** Stores a message and returns its event id, at once. */
  unsafeAppend(streamId: string, message: unknown): string {
    let stream = this.streams.get(streamId)
    if (stream === undefined) {
      stream = { next: 1, events: [] }
      if (this.streams.size >= this.maxStreams) this.streams.delete(this.streams.keys().next().value!)
    } else {
      this.streams.delete(streamId)
    }
    this.streams.set(streamId, stream)
    const sequence = stream.next++
    stream.events.push({ sequence, message })
    if (stream.events.length > this.maxEvents) stream.events.shift()
    return eventId(streamId, sequence)
  }

  /** Forgets a stream, at once. */
  unsafeRemove(streamId: string): void {
    this.streams.delete(streamId)
  }

  // Own properties rather than methods, so that a copy (`{ ...store, append }`) is still a whole store.
  readonly append = (streamId: string, message: unknown): Effect.Effect<string> =>
    Effect.sync(() => this.unsafeAppend(streamId, message))

  readonly replayAfter = (lastEventId: string) =>
    Effect.sync(() => {
      const parsed = parseEventId(lastEventId)
      const stream = parsed === undefined ? undefined : this.streams.get(parsed.streamId)
      if (parsed === undefined || stream === undefined) return Option.none()
      return Option.some({
        streamId: parsed.streamId,
        events: stream.events
          .filter((event) => event.sequence > parsed.sequence)
          .map((event) => ({ id: eventId(parsed.streamId, event.sequence), message: event.message }))
      })
    })

  readonly remove = (streamId: string): Effect.Effect<void> => Effect.sync(() => this.unsafeRemove(streamId))
}

/**
 * An in-memory store with per-stream bounds.
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
