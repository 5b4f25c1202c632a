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
import { immediateStores } from "./internal/immediateStore.js"

/** One stored event. */
export interface StoredEvent {
  readonly id: string
  readonly message: unknown
}

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

export class EventStore extends Context.Tag("mcp-effect/EventStore")<EventStore, Service>() {}

/** The event id of the `sequence`-th event of a stream; 0 is the priming event. */
export const eventId = (streamId: string, sequence: number): string => `${streamId}/${sequence}`

/** Splits an event id into its stream and sequence, or `undefined` when it is not one of ours. */
export const parseEventId = (id: string): { readonly streamId: string; readonly sequence: number } | undefined => {
  const slash = id.lastIndexOf("/")
  if (slash <= 0) return undefined
  const sequence = Number(id.slice(slash + 1))
  return Number.isSafeInteger(sequence) && sequence >= 0 ? { streamId: id.slice(0, slash), sequence } : undefined
}

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

/** An in-memory store with per-stream bounds. */
export const makeMemory = (options: MemoryOptions = {}): Service => {
  const maxEvents = options.maxEventsPerStream ?? 1000
  const maxStreams = options.maxStreams ?? 10_000
  // A Map iterates in insertion order: re-inserting on write keeps it ordered by recency.
  const streams = new Map<string, MemoryStream>()
  const unsafeAppend = (streamId: string, message: unknown) => {
    let stream = streams.get(streamId)
    if (stream === undefined) {
      stream = { next: 1, events: [] }
      if (streams.size >= maxStreams) streams.delete(streams.keys().next().value!)
    } else {
      streams.delete(streamId)
    }
    streams.set(streamId, stream)
    const sequence = stream.next++
    stream.events.push({ sequence, message })
    if (stream.events.length > maxEvents) stream.events.shift()
    return eventId(streamId, sequence)
  }
  const unsafeRemove = (streamId: string) => {
    streams.delete(streamId)
  }
  const service: Service = {
    append: (streamId, message) => Effect.sync(() => unsafeAppend(streamId, message)),
    replayAfter: (lastEventId) =>
      Effect.sync(() => {
        const parsed = parseEventId(lastEventId)
        const stream = parsed === undefined ? undefined : streams.get(parsed.streamId)
        if (parsed === undefined || stream === undefined) return Option.none()
        return Option.some({
          streamId: parsed.streamId,
          events: stream.events
            .filter((event) => event.sequence > parsed.sequence)
            .map((event) => ({ id: eventId(parsed.streamId, event.sequence), message: event.message }))
        })
      }),
    remove: (streamId) => Effect.sync(() => unsafeRemove(streamId))
  }
  immediateStores.set(service, { append: unsafeAppend, remove: unsafeRemove })
  return service
}

/** The in-memory store as a layer. */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<EventStore> =>
  Layer.sync(EventStore, () => makeMemory(options))
