/**
 * Who is subscribed to which resource, across a server's handshake sessions
 * (`resources/subscribe`) and 2026-07-28 listens (`resourceSubscriptions`):
 * a resource's `subscribe` runs while anyone is, started by the first
 * subscription and its scope closed by the last.
 *
 * Counted at the call, not when an effect runs: a session's set of
 * subscriptions and these counts change together, in one synchronous step,
 * so concurrent subscribe and unsubscribe requests cannot leave them apart.
 * A hook starts and stops on fibers of its own, whatever becomes of the
 * request that caused it; a start waits for the URI's previous stop, so two
 * runs of one hook never overlap.
 */
import { Cause, Effect, Exit, Fiber, Scope } from "effect"

/** What runs while a URI has subscribers; `undefined` when nothing serving it asks to know. */
export type HookOf = (uri: string) => Effect.Effect<void, never, Scope.Scope> | undefined

interface Held {
  count: number
  /** The hook starting, then started; `undefined` while nothing serving the URI has a hook. */
  start: Fiber.RuntimeFiber<void> | undefined
  /** Where what the hook acquires lives, once it runs. */
  scope: Scope.CloseableScope | undefined
}

export class Subscribers {
  private readonly held = new Map<string, Held>()
  /** Each URI's latest stop still running, which a new start waits for. */
  private readonly stopping = new Map<string, Fiber.RuntimeFiber<void>>()

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
    const entry: Held = { count: 1, start: undefined, scope: undefined }
    this.held.set(uri, entry)
    this.begin(uri, entry)
    return awaited(entry.start)
  }

  /**
   * Counts one subscriber of `uri` fewer. The last interrupts its hook if it
   * is still starting (one that never finishes must not hold the leave), then
   * closes its scope; the effect waits for that.
   */
  unsafeRemove(uri: string): Effect.Effect<void> {
    const held = this.held.get(uri)
    if (held === undefined || --held.count > 0) return Effect.void
    this.held.delete(uri)
    const start = held.start
    if (start === undefined) return Effect.void
    // This leave's own part, which its caller waits for: its start ended, its scope closed. Safe before any earlier
    // stop has ended, since its hook ran only after them all.
    const own = this.runFork(Effect.zipRight(
      Fiber.interrupt(start),
      Effect.suspend(() => held.scope === undefined ? Effect.void : Scope.close(held.scope, Exit.void))
    ))
    // What the next start waits for: this stop and every earlier one (a later stop may end first).
    const before = this.stopping.get(uri)
    const all = before === undefined
      ? own
      : this.runFork(Effect.zipRight(Fiber.await(before), Effect.asVoid(Fiber.await(own))))
    this.stopping.set(uri, all)
    all.addObserver(() => {
      if (this.stopping.get(uri) === all) this.stopping.delete(uri)
    })
    return awaited(own)
  }

  /** {@link unsafeAdd} for each of `uris`; the effect waits for them all. */
  unsafeAddAll(uris: Iterable<string>): Effect.Effect<void> {
    return Effect.all(Array.from(uris, (uri) => this.unsafeAdd(uri)), { discard: true })
  }

  /** {@link unsafeRemove} for each of `uris`; the effect waits for them all. */
  unsafeRemoveAll(uris: Iterable<string>): Effect.Effect<void> {
    return Effect.all(Array.from(uris, (uri) => this.unsafeRemove(uri)), { discard: true })
  }

  /** The resources changed: a URI subscribed to while nothing serving it had a hook starts the one it has now. */
  unsafeRefresh(): void {
    for (const [uri, held] of this.held) if (held.start === undefined) this.begin(uri, held)
  }

  private begin(uri: string, held: Held): void {
    const hook = this.hookOf(uri)
    if (hook === undefined) return
    const previous = this.stopping.get(uri)
    const run = Effect.flatMap(Scope.make(), (scope) => {
      held.scope = scope
      return Scope.extend(hook, scope)
    }).pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.void
          : Effect.logWarning(`The subscription to ${uri} failed to start`, cause)
      )
    )
    // Interruptible, so that what the hook forks into its scope can be stopped with it (a fiber forked in an
    // uninterruptible region is uninterruptible).
    held.start = this.runFork(previous === undefined ? run : Effect.zipRight(Fiber.await(previous), run))
  }
}

/**
 * Waits for a fiber's end, however it ended; not at all for one already done (a hook that starts or stops
 * synchronously, the usual case), so that the request it answers is answered at once, as JSON rather than as a
 * stream over HTTP.
 */
const awaited = (fiber: Fiber.RuntimeFiber<void> | undefined): Effect.Effect<void> =>
  fiber === undefined || fiber.unsafePoll() !== null ? Effect.void : Effect.asVoid(Fiber.await(fiber))
