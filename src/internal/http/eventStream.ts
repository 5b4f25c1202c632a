/**
 * SSE streams: a request's (or a session's standalone) messages, stored in
 * the event store and written to whichever HTTP response is attached now.
 *
 * This is the per-event hot path of a streamed response, so it runs on plain
 * callbacks: no fiber, queue or semaphore per stream or per event (an effect
 * per event cost more than the rest of the path; docs/benchmarks.md).
 */
import { Effect, Exit, Runtime } from "effect"
import * as EventStore from "../../EventStore.js"
import type { RequestId } from "../../McpSchema.js"
import type { encoded } from "../encode.js"
import { isResponse } from "../encode.js"
import type { Sink } from "./reply.js"
import { sseEvent } from "./reply.js"

/** A message from the session, encoded once as it comes in (a response that cannot be encoded becomes an error). */
export type Outgoing = ReturnType<typeof encoded>

/** Put in a request's inbox by `closeStream`: the HTTP response ends there, in order with what came before. */
export const CLOSE_STREAM = Symbol("closeStream")

/** Put in a request's inbox when it was cancelled: no response will come, and its HTTP response ends. */
export const ABANDONED = Symbol("abandoned")

/** What a request's mailbox holds: its messages, `CLOSE_STREAM` and `ABANDONED`. */
export type Entry = Outgoing | typeof CLOSE_STREAM | typeof ABANDONED

/** Notifications a client that does not keep up can lose without harm: logs and progress. */
const DROPPABLE = new Set(["notifications/message", "notifications/progress"])

/** Whether a message may be dropped on its way to a client that is not reading (it stays in the event store). */
export const droppable = (message: unknown): boolean =>
  typeof message === "object" && message !== null && "method" in message && !("id" in message) &&
  typeof message.method === "string" && DROPPABLE.has(message.method)

/** Whether an entry is the response to request `id`. */
export const answers = (entry: Entry, id: RequestId | undefined): entry is Outgoing =>
  id !== undefined && typeof entry === "object" && isResponse(entry.message) && entry.message.id === id

/**
 * A one-reader mailbox: cheaper than a `Queue` (no fiber handoff, nothing
 * allocated until used), which matters because every request gets one.
 */
export class Mailbox {
  private buffer: Array<Entry> | undefined
  private waiter: ((message: Entry) => void) | undefined
  offer(message: Entry) {
    const waiter = this.waiter
    if (waiter === undefined) (this.buffer ??= []).push(message)
    else {
      this.waiter = undefined
      waiter(message)
    }
  }
  /** Calls `f` with the next message: at once if one is waiting, else when it comes. One reader at a time. */
  next(f: (message: Entry) => void) {
    const message = this.buffer?.shift()
    if (message !== undefined) f(message)
    else this.waiter = f
  }
}

/** The event store as the streams call it: with callbacks, at once when the store can. */
export interface Store {
  /** Stores a message (`text` is its JSON) and calls back with its event id, or with none when not stored. */
  readonly append: (streamId: string, message: unknown, text: string, then: (id: string | undefined) => void) => void
  readonly remove: (streamId: string) => void
}

/** The memory store is called directly; any other store through its effects, on `runtime`. */
export const storeOf = (store: EventStore.Service, runtime: Runtime.Runtime<never>): Store => {
  if (store instanceof EventStore.MemoryEventStore) {
    return {
      append: (streamId, message, text, then) => then(store.unsafeAppend(streamId, message, text.length)),
      remove: (streamId) => store.unsafeRemove(streamId)
    }
  }
  return {
    // A store that failed still lets the message through, without an event id: it cannot be resumed from.
    append: (streamId, message, _text, then) =>
      Runtime.runCallback(runtime)(Effect.suspend(() => store.append(streamId, message)), {
        onExit: (exit) => then(Exit.isSuccess(exit) ? exit.value : undefined)
      }),
    remove: (streamId) => {
      Runtime.runFork(runtime)(Effect.suspend(() => store.remove(streamId)))
    }
  }
}

/**
 * One SSE stream's messages: its pump stores each in the event store and
 * writes it to the HTTP response attached now, if any. A stream outlives its
 * HTTP response (disconnect, or polling), and a GET with `Last-Event-ID`
 * attaches a new one.
 */
export class EventStream {
  readonly inbox = new Mailbox()
  sink: Sink | undefined
  /** Its request has answered (or was cancelled): nothing more will come. */
  finished = false
  /** Its session has ended: nothing more is stored, and no response attaches again. */
  closed = false
  /** Its session ended but is left for another process (shutdown with a `SessionStore`): its events stay stored. */
  keepEvents = false
  private busy = false
  private waiting: Array<() => void> | undefined
  constructor(
    readonly streamId: string,
    /** The request whose response ends this stream; none for the standalone GET stream. */
    readonly requestId: RequestId | undefined
  ) {}

  /**
   * Runs `f` when nothing else holds the stream, until it calls `release`:
   * storing-and-forwarding an event and a resumption's replay-and-attach
   * must not interleave (with a store that answers later). A callback lock
   * rather than a `Semaphore`, since the pump takes it for every event.
   */
  exclusive(f: () => void) {
    if (this.busy) return void (this.waiting ??= []).push(f)
    this.busy = true
    try {
      f()
    } catch (thrown) {
      this.release()
      throw thrown
    }
  }

  release() {
    const next = this.waiting?.shift()
    if (next !== undefined) next()
    else this.busy = false
  }

  /** Holds the stream for the length of `effect` (a resumption's replay-and-attach). */
  exclusively<A>(effect: Effect.Effect<A>): Effect.Effect<A> {
    return Effect.acquireUseRelease(
      Effect.async<void>((resume) => this.exclusive(() => resume(Effect.void))),
      () => effect,
      () => Effect.sync(() => this.release())
    )
  }

  /**
   * Stores and forwards messages until the response to `requestId` has been
   * sent, starting with `first` when given (the message that opened the
   * stream), then calls `onDone` with whether the store keeps the stream (to
   * resume from: it ended while no response was attached).
   */
  pump(store: Store, first?: Entry, onDone?: (kept: boolean) => void): void {
    // The mailbox calls back at once while it holds messages; past some depth, go on in a microtask instead.
    let depth = 0
    const take = (entry: Entry): void => {
      if (depth > 32) return queueMicrotask(() => take(entry))
      depth++
      try {
        handle(entry)
      } finally {
        depth--
      }
    }
    const handle = (entry: Entry) => {
      if (entry === CLOSE_STREAM) {
        this.detach()
        return this.inbox.next(take)
      }
      if (entry === ABANDONED) {
        // Cancelled: the stream ends without a response, and nobody will resume it; unless its session was closed
        // for another process to continue (a shutdown ends its requests too), whose client may resume it there.
        this.finished = true
        this.detach()
        if (!(this.closed && this.keepEvents)) store.remove(this.streamId)
        return onDone?.(false)
      }
      this.exclusive(() => {
        // A closed session's streams store nothing more: what is left goes to the response still attached, if any.
        // But one left for another process stores its request's last word, for a resumption there to end with.
        if (this.closed && !(this.keepEvents && answers(entry, this.requestId))) return forward(entry, undefined)
        store.append(this.streamId, entry.message, entry.text, (id) => {
          // Stored while the session was closing: forget it again, unless another process may resume it.
          if (this.closed && !this.keepEvents) store.remove(this.streamId)
          forward(entry, id)
        })
      })
    }
    const forward = (entry: Outgoing, id: string | undefined) => {
      const done = answers(entry, this.requestId)
      // A response that ended on its own (its backlog overflowed) is no longer where the stream goes.
      if (this.sink?.isEnded) this.sink = undefined
      const sink = this.sink
      let delivered = false
      try {
        sink?.write(sseEvent(id, entry.text), droppable(entry.message))
        if (done) {
          // A response dropped by that very write (its backlog too large) did not deliver it.
          delivered = sink !== undefined && !sink.isEnded
          this.finished = true
          sink?.end()
          this.sink = undefined
          // Delivered to the end on a live response: nothing is left to resume, so the store can forget it. Not in a
          // shutdown that leaves the session to another process: a response written while connections close may
          // never arrive (the client may have left before the server noticed), and the client resumes elsewhere.
          if (delivered && !(this.closed && this.keepEvents)) store.remove(this.streamId)
        }
      } finally {
        this.release()
      }
      if (done) onDone?.(!delivered && !this.closed)
      else this.inbox.next(take)
    }
    if (first === undefined) this.inbox.next(take)
    else take(first)
  }

  /** Ends the attached HTTP response, if any; what follows is only stored. */
  detach(sink?: Sink) {
    if (sink !== undefined && this.sink !== sink) return
    this.sink?.end()
    this.sink = undefined
  }
}
