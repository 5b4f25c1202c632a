/**
 * A `ChangeFeed` on Postgres `LISTEN`/`NOTIFY`: every node on the database
 * hears the changes every other node publishes (its own included, marked
 * with their origin), so `list_changed`, `resources/updated` and 2026-07-28
 * `subscriptions/listen` reach clients connected to any node.
 *
 * A change is one notification on the channel (an option; `pg_notify`), its
 * payload the change as JSON; a payload that is not one is ignored. The feed listens
 * once, on `PgClient`'s listening connection, and shares what it hears with
 * all its subscribers; the layer is built only once that `LISTEN` is
 * established (it hears a probe of its own), so a change published as soon
 * as `subscribe` returns is heard. Notifications are not stored: a node that
 * is down misses what was published meanwhile, which is what a client
 * reconnecting to another node would re-list anyway.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgChangeFeed } from "mcp-effect/cluster"
 *
 * const Feed = PgChangeFeed.layer({ channel: "myapp_mcp_changes" }).pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import type { Duration } from "effect"
import {
  Clock,
  Context,
  Deferred,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  Layer,
  Option,
  PubSub,
  Schedule,
  Schema,
  Scope,
  Stream
} from "effect"
import { randomUUID } from "node:crypto"
import * as ChangeFeed from "../ChangeFeed.js"
import * as McpSchema from "../McpSchema.js"
import { degrade } from "./internal/sql.js"

/**
 * Options of {@link make} and {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The channel changes are notified on; every node of one deployment uses the same. Default `mcp_effect_changes`. */
  readonly channel?: string | undefined
  /**
   * How often the feed checks that its `LISTEN` still hears (a probe of its
   * own must come back within the same time). Default: ten seconds.
   */
  readonly livenessInterval?: Duration.DurationInput | undefined
}

/**
 * The feed's `LISTEN` was not established in time: the layer is not built.
 *
 * @since 0.2.0
 * @category errors
 */
export class ListenError extends Schema.TaggedError<ListenError>()("PgChangeFeed/ListenError", {
  channel: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    return `PgChangeFeed: could not start listening on the Postgres channel "${this.channel}" (is the database reachable?)`
  }
}

const Change = Schema.Union(
  Schema.Struct({ _tag: Schema.Literal("ListChanged"), method: Schema.String }),
  Schema.Struct({ _tag: Schema.Literal("ResourceUpdated"), uri: Schema.String }),
  Schema.Struct({
    _tag: Schema.Literal("TaskChanged"),
    taskId: Schema.String,
    status: McpSchema.TaskStatus
  })
)
const Published = Schema.Struct({ origin: Schema.String, change: Change })
/** The feed's own probe, which tells it that its `LISTEN` is established. */
const Probe = Schema.Struct({ probe: Schema.String })
const decodePayload = Schema.decodeUnknownOption(Schema.parseJson(Schema.Union(Published, Probe)))

/** How long the layer waits for its `LISTEN`; a probe is sent again every `probeInterval` meanwhile. */
const listenTimeout = "30 seconds"
const probeInterval = "100 millis"

/** What ends the subscribers' streams when the `LISTEN` was lost: they missed what was published meanwhile. */
const GAP = Symbol("PgChangeFeed/gap")

/**
 * A feed on the `PgClient` in context, listening for the life of the scope.
 * Build one feed per `PgClient` and channel: `PgClient.listen` shares one
 * connection, on which a second feed's end would end the first's `LISTEN`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = Effect.fn("PgChangeFeed.make")(function*(options: Options = {}) {
  const pg = yield* PgClient.PgClient
  const channel = options.channel ?? "mcp_effect_changes"
  const liveness = options.livenessInterval ?? "10 seconds"
  const changes = yield* Effect.acquireRelease(PubSub.unbounded<ChangeFeed.Published | typeof GAP>(), PubSub.shutdown)
  const token = randomUUID()
  // The probes sent and not yet heard, by their id.
  const probes = new Map<string, Deferred.Deferred<void>>()
  let probeCount = 0
  // `pg_notify` rather than `PgClient.notify`, whose `NOTIFY channel, $1` Postgres refuses (NOTIFY takes no parameters).
  const notify = (payload: string) => Effect.asVoid(pg`SELECT pg_notify(${channel}, ${payload})`)

  const hear = (payload: string) =>
    Option.match(decodePayload(payload), {
      // Not a change: someone else's traffic on the channel, or a node of a newer version. Ignored.
      onNone: () => Effect.void,
      onSome: (decoded) => {
        if (!("probe" in decoded)) return PubSub.publish(changes, decoded)
        const heard = probes.get(decoded.probe)
        return heard === undefined ? Effect.void : Deferred.succeed(heard, undefined)
      }
    })

  /** Whether a probe comes back within `within`, sent again every `probeInterval` until then (a LISTEN starting). */
  const probe = (within: Duration.DurationInput) =>
    Effect.gen(function*() {
      const id = `${token}/${++probeCount}`
      const heard = yield* Deferred.make<void>()
      probes.set(id, heard)
      // Each notify uninterruptible: `PgClient` cancels an interrupted query with `pg_cancel_backend`, which Postgres
      // may apply to whatever statement that pooled connection runs by then (someone else's, which then fails with
      // "canceling statement due to user request").
      const send = notify(JSON.stringify({ probe: id })).pipe(
        Effect.uninterruptible,
        Effect.ignore,
        Effect.zipRight(Effect.sleep(probeInterval)),
        Effect.forever
      )
      // Disconnected: the race ends when the probe is heard, without waiting for the query in flight.
      return yield* Effect.raceFirst(Deferred.await(heard), Effect.disconnect(send)).pipe(
        Effect.timeoutOption(within),
        Effect.map(Option.isSome),
        Effect.ensuring(Effect.sync(() => probes.delete(id)))
      )
    })

  /**
   * The LISTEN, for as long as it hears its probes. The connection's failures
   * are not reported (`PgClient`'s listening connection ignores its errors),
   * so a probe that does not come back ends it: the subscribers' streams end
   * (they missed what was published meanwhile, and subscribe again), and the
   * LISTEN starts again, on a new connection.
   */
  const scope = yield* Effect.scope
  const listenOn = (client: PgClient.PgClient) =>
    client.listen(channel).pipe(
      Stream.runForEach(hear),
      Effect.tapError((error) => Effect.logWarning("PgChangeFeed: listening failed; listening again", error)),
      Effect.retry(Schedule.spaced("1 second")),
      Effect.forkIn(scope)
    )

  /**
   * A LISTEN started again, on a client of its own (one connection, from
   * the same configuration): `PgClient.listen` shares one connection, which
   * stays the dead one while the old LISTEN's `UNLISTEN` hangs on it (a
   * half-open socket). Released, in the background, when it is replaced.
   */
  const listenAgain = Effect.gen(function*() {
    const generation = yield* Scope.fork(scope, ExecutionStrategy.sequential)
    const built = yield* Effect.either(
      Layer.buildWithScope(PgClient.layer({ ...pg.config, maxConnections: 1 }), generation)
    )
    const close = Effect.asVoid(Effect.forkIn(Scope.close(generation, Exit.void), scope))
    if (built._tag === "Left") {
      yield* Effect.logWarning("PgChangeFeed: could not connect to listen again; trying again shortly", built.left)
      return { fiber: yield* Effect.forkIn(Effect.never, scope), close }
    }
    return { fiber: yield* listenOn(Context.get(built.right, PgClient.PgClient)), close }
  })

  const supervise = (first: Fiber.RuntimeFiber<void, unknown>) =>
    Effect.gen(function*() {
      let current: { readonly fiber: Fiber.RuntimeFiber<void, unknown>; readonly close: Effect.Effect<void> } = {
        fiber: first,
        close: Effect.void
      }
      while (true) {
        while (yield* probe(liveness)) yield* Effect.sleep(liveness)
        yield* Effect.logWarning(`PgChangeFeed: the LISTEN on "${channel}" no longer hears; listening again`)
        // Its finalizer's UNLISTEN may hang on a dead connection: not waited for long.
        yield* Effect.ignore(Effect.timeout(Fiber.interrupt(current.fiber), "5 seconds"))
        yield* current.close
        yield* PubSub.publish(changes, GAP)
        current = yield* listenAgain
      }
    })

  // Waiting on the database is real time, whatever clock the program runs on (TestClock included).
  yield* Effect.withClock(
    Effect.gen(function*() {
      const fiber = yield* listenOn(pg)
      // A probe sent before the LISTEN is not heard, so it is sent again until one is.
      if (!(yield* probe(listenTimeout))) return yield* new ListenError({ channel })
      yield* Effect.forkIn(supervise(fiber), scope)
    }),
    Clock.make()
  )

  const feed: ChangeFeed.Service = {
    publish: (published) => notify(JSON.stringify(published)).pipe(degrade("PgChangeFeed.publish", undefined)),
    subscribe: Effect.map(
      PubSub.subscribe(changes),
      (queue) => Stream.fromQueue(queue).pipe(Stream.takeWhile((item) => item !== GAP), Stream.filter(isPublished))
    )
  }
  return feed
})

const isPublished = (item: ChangeFeed.Published | typeof GAP): item is ChangeFeed.Published => item !== GAP

/**
 * The feed as the `ChangeFeed` servers publish to and hear from, built once
 * its `LISTEN` is established.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { PgChangeFeed } from "mcp-effect/cluster"
 *
 * const Feed = PgChangeFeed.layer().pipe(
 *   Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<ChangeFeed.ChangeFeed, ListenError, PgClient.PgClient> =>
  Layer.scoped(ChangeFeed.ChangeFeed, make(options))
