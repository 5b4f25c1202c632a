/**
 * A 2026-07-28 client's resource subscriptions: one `subscriptions/listen`
 * request at a time (two while one replaces the other), asking for every
 * subscribed URI (and the list changes the server announces), replaced
 * whenever the set changes. Its
 * notifications reach the client's notification stream like any other.
 */
import { Duration, Effect, Fiber, PubSub, Queue } from "effect"
import type { Scope } from "effect"
import type { RequestError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"

/** A notification as the client's stream carries it. */
interface Notification {
  readonly method: string
  readonly params: Record<string, unknown> | undefined
}

export interface Listens {
  readonly add: (uri: string) => Effect.Effect<void>
  readonly remove: (uri: string) => Effect.Effect<void>
  /** Starts listening for list changes (once), for a client whose notifications someone reads. */
  readonly listChanges: Effect.Effect<void>
}

/** The filter of a listen: the URIs, and every list change the server says it announces. */
export const filterOf = (capabilities: McpSchema.ServerCapabilities, uris: ReadonlyArray<string>) => ({
  notifications: {
    resourceSubscriptions: uris,
    ...(capabilities.tools?.listChanged ? { toolsListChanged: true } : {}),
    ...(capabilities.prompts?.listChanged ? { promptsListChanged: true } : {}),
    ...(capabilities.resources?.listChanged ? { resourcesListChanged: true } : {})
  }
})

export const make = (
  listen: (params: Record<string, unknown>) => Effect.Effect<unknown, RequestError>,
  capabilities: McpSchema.ServerCapabilities,
  notifications: PubSub.PubSub<Notification>
): Effect.Effect<Listens, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const lock = yield* Effect.makeSemaphore(1)
    let current: Fiber.RuntimeFiber<void> | undefined
    const uris = new Set<string>()
    let listChanges = false
    // Replaces the listen, and returns once the server acknowledged the new one (so that a change right after is
    // heard). The old one ends only then: ended first, the server would stop, then start again, what runs for the
    // subscriptions both hold. One replacement at a time, so that each ends the one before it.
    const relisten = Effect.suspend(() => {
      const previous = current
      current = undefined
      // The old listen ends however this does: a replacement interrupted while it waits must not leave two.
      const replaced = previous === undefined ? Effect.void : Fiber.interrupt(previous)
      if (uris.size === 0 && !listChanges) return replaced
      return Effect.scoped(Effect.gen(function*() {
        const heard = yield* PubSub.subscribe(notifications)
        // Interruptible whatever region this runs in (a subscription made while acquiring a resource, say), so that
        // the next replacement can end it.
        const fiber = yield* Effect.forkIn(
          Effect.interruptible(Effect.ignore(listen(filterOf(capabilities, [...uris])))),
          scope
        )
        current = fiber
        // Until the server acknowledges it, or it ends (refused). Interruptible even where this runs in a finalizer,
        // so that the race can end its loser (the listen's await), which it would otherwise wait for.
        yield* Effect.interruptible(Effect.raceFirst(
          Queue.take(heard).pipe(
            Effect.repeat({ until: (n) => n.method === "notifications/subscriptions/acknowledged" }),
            Effect.timeout(Duration.seconds(10)),
            Effect.ignore
          ),
          Effect.asVoid(Fiber.await(fiber))
        ))
      })).pipe(Effect.ensuring(replaced))
    }).pipe(lock.withPermits(1))
    return {
      add: (uri) => Effect.suspend(() => uris.has(uri) ? Effect.void : (uris.add(uri), relisten)),
      remove: (uri) => Effect.suspend(() => uris.delete(uri) ? relisten : Effect.void),
      listChanges: Effect.suspend(() => listChanges ? Effect.void : (listChanges = true, relisten))
    }
  })
