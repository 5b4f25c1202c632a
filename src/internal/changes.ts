/**
 * A server's changes, and the `ChangeFeed` that carries them to the other
 * servers of a deployment: what the registry tells its own clients is also
 * published, and what the other servers published is told to this server's
 * clients as if it had been made here.
 *
 * Publishing goes through a bounded outbox drained by a fiber of its own, so
 * that a slow or broken feed never blocks nor fails the handler that made the
 * change; hearing runs in another fiber, which outlives the feed's failures
 * (logged, then subscribed again after a backoff). Both live as long as the
 * scope the server was built in.
 */
import { Deferred, Effect, Option, Queue, Schedule, Scope, Stream } from "effect"
import * as ChangeFeed from "../ChangeFeed.js"
import type * as TaskStore from "../TaskStore.js"
import { INTERNAL } from "./cause.js"
import type { ListChanged, Listener } from "./registry.js"

/** Tells this server's own clients of a change: sessions per their subscriptions, listens per their filters. */
export interface Deliver {
  /** Whether the server declares that list's changes now: another server's lists may differ from this one's. */
  readonly announces: (method: ListChanged) => boolean
  readonly listChanged: (method: ListChanged) => void
  readonly resourceUpdated: (uri: string) => void
  /** A task of this server changed here. */
  readonly taskChanged: (task: TaskStore.Task) => void
  /** A task changed on another node (its record is in the store). */
  readonly taskHeard: (taskId: string, status: TaskStore.Status) => Effect.Effect<void>
}

/** The registry's listener, and where the server's tasks tell their changes. */
export interface Own extends Listener {
  readonly taskChanged: (task: TaskStore.Task) => void
}

/** Changes kept for publishing while the feed is slow; past that, the newest are dropped (and counted). */
const OUTBOX_CAPACITY = 4096

/** How long to wait before listening again after the feed failed: doubling from one second, at most 30. */
const RESUBSCRIBE = Schedule.union(Schedule.exponential("1 second"), Schedule.spaced("30 seconds"))

const LISTS: ReadonlyArray<ListChanged> = [
  "notifications/tools/list_changed",
  "notifications/prompts/list_changed",
  "notifications/resources/list_changed"
]

const isListChanged = (method: string): method is ListChanged => (LISTS as ReadonlyArray<string>).includes(method)

/** The server's own diagnostics: on its logger, never forwarded to a client. */
const internal = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.annotateLogs(effect, INTERNAL, true)

/** The registry's listener for a server without a feed: its own clients only, as ever. */
const localOnly = (deliver: Deliver): Own => ({
  listChanged: (method) => Effect.sync(() => deliver.listChanged(method)),
  resourceUpdated: (uri) => Effect.sync(() => deliver.resourceUpdated(uri)),
  taskChanged: (task) => deliver.taskChanged(task)
})

/** Tells this server's clients of a change another server published; a malformed one is ignored. */
const hear = (deliver: Deliver, change: ChangeFeed.Change): Effect.Effect<void> => {
  if (change._tag === "ResourceUpdated") return Effect.sync(() => deliver.resourceUpdated(change.uri))
  if (change._tag === "TaskChanged") return deliver.taskHeard(change.taskId, change.status)
  const method = change.method
  if (!isListChanged(method)) {
    return Effect.logDebug(`Ignoring a change of unknown method ${JSON.stringify(method)} from the change feed`)
  }
  return Effect.sync(() => {
    if (deliver.announces(method)) deliver.listChanged(method)
  })
}

/**
 * The changes waiting to be published, in order. Bounded: past its capacity
 * the newest are dropped and counted. A list change already waiting covers
 * another of the same list, since its hearers have not re-listed yet.
 */
class Outbox {
  private readonly pending = new Set<string>()
  dropped = 0
  constructor(readonly queue: Queue.Queue<ChangeFeed.Change>) {}

  offer(change: ChangeFeed.Change): void {
    const method = change._tag === "ListChanged" ? change.method : undefined
    if (method !== undefined && this.pending.has(method)) return
    if (!Queue.unsafeOffer(this.queue, change)) this.dropped++
    else if (method !== undefined) this.pending.add(method)
  }

  get take(): Effect.Effect<ChangeFeed.Change> {
    return Effect.tap(Queue.take(this.queue), (change) => {
      if (change._tag === "ListChanged") this.pending.delete(change.method)
    })
  }
}

/** Publishes the outbox's changes in order, forever; a failed publish is logged and the next one tried. */
const publishing = (feed: ChangeFeed.Service, origin: string, outbox: Outbox) =>
  Effect.forever(Effect.gen(function*() {
    const change = yield* outbox.take
    yield* Effect.catchAllCause(
      feed.publish({ origin, change }),
      (cause) => Effect.logWarning("Could not publish a change to the change feed", cause)
    )
    if (outbox.dropped > 0) {
      yield* Effect.logWarning(
        `The change feed was too slow: ${outbox.dropped} change(s) were not published to the other servers`
      )
      outbox.dropped = 0
    }
  }))

/**
 * Hears the other servers' changes for as long as it runs. Each subscription
 * that fails or ends is logged and replaced after a backoff; since changes
 * published in between were missed, clients are then told every list may have
 * changed (resource updates missed cannot be recovered).
 */
const hearing = (feed: ChangeFeed.Service, origin: string, deliver: Deliver, subscribed: Deferred.Deferred<void>) => {
  let subscriptions = 0
  const once = Effect.scoped(Effect.gen(function*() {
    const changes = yield* Effect.ensuring(feed.subscribe, Deferred.succeed(subscribed, undefined))
    if (subscriptions++ > 0) { for (const method of LISTS) if (deliver.announces(method)) deliver.listChanged(method) }
    yield* Stream.runForEach(
      changes,
      (published) => published.origin === origin ? Effect.void : hear(deliver, published.change)
    )
  }))
  // This fiber's own interruption (the server's scope closing) is not caught: it ends the loop.
  return once.pipe(
    Effect.zipRight(Effect.logWarning("The change feed ended; listening again shortly")),
    Effect.catchAllCause((cause) => Effect.logWarning("The change feed failed; listening again shortly", cause)),
    Effect.repeat(RESUBSCRIBE)
  )
}

/**
 * The registry's listener for a server built now: its own clients, and with
 * a `ChangeFeed` in context and a scope to live in, the feed too. A feed
 * without a scope cannot be listened to: that is logged, and the server
 * tells its own clients only.
 */
export const connect = (deliver: Deliver): Effect.Effect<Own> =>
  Effect.gen(function*() {
    const found = yield* Effect.serviceOption(ChangeFeed.ChangeFeed)
    if (Option.isNone(found)) return localOnly(deliver)
    const scope = yield* Effect.serviceOption(Scope.Scope)
    if (Option.isNone(scope)) {
      yield* Effect.logWarning(
        "McpServer.make found a ChangeFeed but no Scope to listen in: build the server with McpServer.layer " +
          "(or make it in a scope) for its changes to reach other servers' clients"
      )
      return localOnly(deliver)
    }
    const feed = found.value
    // Unique to this server instance: the feed echoes a server's own changes back to it, to be skipped.
    const origin = crypto.randomUUID()
    const queue = yield* Queue.dropping<ChangeFeed.Change>(OUTBOX_CAPACITY)
    const outbox = new Outbox(queue)
    yield* Scope.addFinalizer(scope.value, Queue.shutdown(queue))
    yield* Effect.forkIn(publishing(feed, origin, outbox), scope.value)
    // Listening before the server serves, so that it hears every change published once it is built.
    const subscribed = yield* Deferred.make<void>()
    yield* Effect.forkIn(hearing(feed, origin, deliver, subscribed), scope.value)
    yield* Deferred.await(subscribed)
    const publish = (change: ChangeFeed.Change) => Effect.sync(() => outbox.offer(change))
    const listener: Own = {
      listChanged: (method) =>
        Effect.zipRight(Effect.sync(() => deliver.listChanged(method)), publish({ _tag: "ListChanged", method })),
      resourceUpdated: (uri) =>
        Effect.zipRight(Effect.sync(() => deliver.resourceUpdated(uri)), publish({ _tag: "ResourceUpdated", uri })),
      taskChanged: (task) => {
        deliver.taskChanged(task)
        outbox.offer({ _tag: "TaskChanged", taskId: task.taskId, status: task.status })
      }
    }
    return listener
  }).pipe(internal)
