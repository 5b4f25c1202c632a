/** Server-sent events as the HTTP clients read them. */
import { Stream } from "effect"

/** One server-sent event. */
export interface SseEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
  readonly retry: number | undefined
}

interface SseState {
  readonly event: string
  readonly id: string | undefined
  readonly data: ReadonlyArray<string>
  readonly retry: number | undefined
  readonly seen: boolean
}

const EMPTY_EVENT: SseState = { event: "", id: undefined, data: [], retry: undefined, seen: false }

const step = (state: SseState, line: string): readonly [SseState, ReadonlyArray<SseEvent>] => {
  if (line === "") {
    const out = state.seen
      ? [{ event: state.event || "message", id: state.id, data: state.data.join("\n"), retry: state.retry }]
      : []
    return [EMPTY_EVENT, out]
  }
  if (line.startsWith(":")) return [state, []]
  const colon = line.indexOf(":")
  const field = colon === -1 ? line : line.slice(0, colon)
  const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
  switch (field) {
    case "event":
      return [{ ...state, event: value, seen: true }, []]
    case "id":
      return [{ ...state, id: value, seen: true }, []]
    case "data":
      return [{ ...state, data: [...state.data, value], seen: true }, []]
    case "retry":
      return [{ ...state, retry: Number(value), seen: true }, []]
    default:
      return [state, []]
  }
}

/** Parses a byte stream of `text/event-stream` into events (comments dropped). */
export const parse = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<SseEvent, E, R> =>
  bytes.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.mapAccum(EMPTY_EVENT, step),
    Stream.flatMap((events) => Stream.fromIterable(events))
  )

/** An event's data as JSON, or `undefined` when it is not JSON. */
export const json = (data: string): { readonly value: unknown } | undefined => {
  try {
    return { value: JSON.parse(data) }
  } catch {
    return undefined
  }
}
