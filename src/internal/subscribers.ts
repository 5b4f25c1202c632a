/**
 * Who is subscribed to which resource, across a server's handshake sessions
 * (`resources/subscribe`) and 2026-07-28 listens (`resourceSubscriptions`):
 * a resource's `subscribe` runs while anyone is, started by the first
 * subscription and its scope closed by the last.
 *
 * Counted at the call, not when an effect runs: a session's set of
 * subscriptions and these counts change together, in one synchronous step,
 * so concurrent subscribe and unsubscribe requests cannot leave them apart.
 * A hook starts and stops on a fiber of its own, whatever becomes of the
 * request that caused it.
 */
import { Effect, Exit, Fiber, Scope } from "effect"

/** What runs while a URI has subscribers; `undefined` when nothing serving it asks to know. */
export type HookOf = (uri: string) => Effect.Effect<void, never, Scope.Scope> | undefined

interface Held {
  count: number
  /** The hook starting, then started: its scope, where what it acquired lives. */
  readonly start: Fiber.RuntimeFiber<Scope.CloseableScope> | undefined
}

export class Subscribers {
  private readonly held = new Map<string, Held>()

  constructor(
    private readonly hookOf: HookOf,
    private readonly runFork: <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>
  ) {}

  /** Counts one more subscriber of `uri` (the first starts its hook); the effect waits until the hook has started. */
  unsafeAdd(uri: string): Effect.Effect<void> {
    const held = this.held.get(uri)
    if (held !== undefined) {
      held.count++
      return awaited(held.start)
    }
    const hook = this.hookOf(uri)
    const start = hook === undefined ? undefined : this.runFork(started(uri, hook))
    this.held.set(uri, { count: 1, start })
    return awaited(start)
  }

  /** Counts one subscriber of `uri` fewer (the last closes its hook's scope); the effect waits for that. */
  unsafeRemove(uri: string): Effect.Effect<void> {
    const held = this.held.get(uri)
    if (held === undefined || --held.count > 0) return Effect.void
    this.held.delete(uri)
    if (held.start === undefined) return Effect.void
    return awaited(this.runFork(Effect.flatMap(Fiber.join(held.start), (scope) => Scope.close(scope, Exit.void))))
  }

  /** {@link unsafeAdd} for each of `uris`, waiting for them all. */
  unsafeAddAll(uris: Iterable<string>): Effect.Effect<void> {
    return Effect.all(Array.from(uris, (uri) => this.unsafeAdd(uri)), { discard: true })
  }

  /** {@link unsafeRemove} for each of `uris`, waiting for them all. */
  unsafeRemoveAll(uris: Iterable<string>): Effect.Effect<void> {
    return Effect.all(Array.from(uris, (uri) => this.unsafeRemove(uri)), { discard: true })
  }
}

/**
 * Waits for a fiber; not at all for one already done (a hook that starts or stops synchronously, the usual case), so
 * that the request it answers is answered at once, as JSON rather than as a stream over HTTP.
 */
const awaited = <A>(fiber: Fiber.RuntimeFiber<A> | undefined): Effect.Effect<void> =>
  fiber === undefined || fiber.unsafePoll() !== null ? Effect.void : Effect.asVoid(Fiber.join(fiber))

/**
 * Runs a hook into a scope of its own, answered once it has started; a hook that dies is logged, its scope kept.
 * On a fiber of its own that nothing interrupts, and interruptible, so that what the hook forks into its scope can
 * be interrupted when the scope closes (a fiber forked from an uninterruptible region is uninterruptible).
 */
const started = (uri: string, hook: Effect.Effect<void, never, Scope.Scope>) =>
  Effect.flatMap(Scope.make(), (scope) =>
    Scope.extend(hook, scope).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning(`The subscription to ${uri} failed to start`, cause)),
      Effect.as(scope)
    ))
