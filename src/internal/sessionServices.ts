/**
 * The services of a server's session layers for one session: built on the
 * first request that runs a handler or middleware of that server, kept in a
 * scope of their own, and released when the session ends, after its handlers
 * were interrupted.
 *
 * Lazily, because an HTTP server holds many idle sessions and a session
 * layer typically opens something costly (a database connection); a session
 * that never calls a tool never pays for it. A build runs in a fiber of its
 * own on the server's runtime, so that cancelling the request that started it
 * does not abort what other requests of the session wait for. A failed build
 * is not kept: the next request tries again.
 */
import {
  Cause,
  Context,
  Deferred,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  FiberId,
  Layer,
  Runtime,
  Scope
} from "effect"
import { McpError } from "../McpError.js"
import { logDefect } from "./cause.js"
import type { Registered } from "./registry.js"

/** A session layer as registered: any layer, with the services it was registered with. */
export type SessionLayer = Registered<Layer.Layer<never, unknown, unknown>>

/** Who holds the session-scoped services of a request: its session, or the request itself when there is none. */
export interface ServicesOwner {
  readonly sessionServices: () => SessionServices
}

/** Builds `layers` in order into `scope`; each sees the services of those before it. */
const build = (
  layers: ReadonlyArray<SessionLayer>,
  scope: Scope.Scope
): Effect.Effect<Context.Context<never>, unknown> =>
  Effect.reduce(layers, Context.empty(), (built, layer) =>
    Layer.buildWithScope(layer.value, scope).pipe(
      // The registration erased what the layer needs; its captured context (and the layers before it) hold it.
      Effect.provide(Context.merge(layer.context, built) as Context.Context<unknown>),
      Effect.map((context) => Context.merge(built, context))
    ))

/** A layer failing with an `McpError` answers with it; anything else is logged here and answered -32603. */
const failed = (cause: Cause.Cause<unknown>): Effect.Effect<never, McpError> => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some" && failure.value instanceof McpError) return Effect.fail(failure.value)
  if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
  return Effect.zipRight(
    logDefect("Session layer failed", cause),
    Effect.fail(McpError.internal("the session's services could not be started"))
  )
}

export class SessionServices implements ServicesOwner {
  private ready: Map<object, Context.Context<never>> | undefined
  private pending:
    | Map<
      object,
      { deferred: Deferred.Deferred<Context.Context<never>, McpError>; fiber: Fiber.RuntimeFiber<unknown, unknown> }
    >
    | undefined
  private scope: Scope.CloseableScope | undefined
  private closed = false

  sessionServices(): SessionServices {
    return this
  }

  /**
   * The services of `layers` (one server's, identified by `key`): at once
   * when built, else an effect that waits for the one build.
   */
  get(
    key: object,
    layers: ReadonlyArray<SessionLayer>,
    runtime: Runtime.Runtime<never>
  ): Context.Context<never> | Effect.Effect<Context.Context<never>, McpError> {
    const ready = this.ready?.get(key)
    if (ready !== undefined) return ready
    return Effect.suspend(() => {
      if (this.closed) return Effect.fail(McpError.internal("the session has ended"))
      // Checked again when run: a build may have ended since this effect was made (an inner middleware's, say).
      const built = this.ready?.get(key)
      if (built !== undefined) return Effect.succeed(built)
      const pending = this.pending?.get(key)
      if (pending !== undefined) return Deferred.await(pending.deferred)
      const deferred = Deferred.unsafeMake<Context.Context<never>, McpError>(FiberId.none)
      // Each attempt builds into a scope of its own, closed if the attempt fails: what the layers before the
      // failing one acquired is released at once rather than kept (and acquired again by the next attempt).
      const run = Effect.flatMap(this.makeScope, (scope) => Scope.fork(scope, ExecutionStrategy.sequential)).pipe(
        Effect.flatMap((attempt) =>
          Effect.onExit(
            build(layers, attempt),
            (exit) => Exit.isFailure(exit) ? Scope.close(attempt, exit) : Effect.void
          )
        ),
        Effect.catchAllCause(failed)
      )
      const fiber = Runtime.runFork(runtime)(run)
      const entry = { deferred, fiber }
      ;(this.pending ??= new Map()).set(key, entry)
      fiber.addObserver((exit) => {
        if (this.pending?.get(key) === entry) this.pending.delete(key)
        if (Exit.isSuccess(exit)) (this.ready ??= new Map()).set(key, exit.value)
        Deferred.unsafeDone(
          deferred,
          Exit.isSuccess(exit) || !Exit.isInterrupted(exit)
            ? exit
            : Exit.fail(McpError.internal("the session has ended"))
        )
      })
      return Deferred.await(deferred)
    })
  }

  private get makeScope(): Effect.Effect<Scope.CloseableScope> {
    return Effect.suspend(() =>
      this.scope !== undefined
        ? Effect.succeed(this.scope)
        : Effect.map(Scope.make(), (scope) => (this.scope ??= scope))
    )
  }

  /** Whether anything was built or is being built: only then is there anything for `close` to do. */
  get holdsAny(): boolean {
    return this.pending !== undefined || this.scope !== undefined
  }

  /** Stops builds under way and releases what was built. */
  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.closed) return Effect.void
      this.closed = true
      // Most requests build nothing: they skip the interruption's effects, on the hot path of a modern request.
      if (!this.holdsAny) return Effect.void
      const fibers = Array.from(this.pending?.values() ?? [], (entry) => entry.fiber)
      this.pending = undefined
      this.ready = undefined
      const scope = this.scope
      return Effect.zipRight(
        Fiber.interruptAll(fibers),
        scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
      )
    })
  }
}
