/**
 * Where Streamable HTTP keeps what a handshake-era session negotiated, so
 * that another server process can continue it: behind a load balancer, when
 * the process that opened a session dies, the client's next request (or its
 * `Last-Event-ID` resumption) reaches another process, which finds the
 * session here and serves it as its own.
 *
 * Without a store in context a session lives only in the process that opened
 * it, as before. `layerMemory` shares sessions between the endpoints of one
 * process (and is what tests use); `mcp-effect/cluster` has one on Postgres.
 *
 * @example
 * ```ts
 * import { SessionStore } from "mcp-effect"
 *
 * const Sessions = SessionStore.layerMemory({ timeToLive: "1 hour" })
 * ```
 *
 * @since 0.2.0
 */
import { Context, Duration, Effect, Layer, Option } from "effect"
import type * as McpSchema from "./McpSchema.js"

/**
 * What a session negotiated and chose: enough to serve its next request
 * anywhere.
 *
 * @since 0.2.0
 * @category models
 */
export interface SessionState {
  readonly protocolVersion: string
  readonly clientCapabilities: McpSchema.ClientCapabilities
  readonly clientInfo?: McpSchema.Implementation | undefined
  readonly logLevel?: McpSchema.LoggingLevel | undefined
  /** Subscribed resource URIs. */
  readonly subscriptions: ReadonlyArray<string>
  /** On a protected endpoint, the principal that opened the session: no other may continue it. */
  readonly principal?: string | undefined
}

/**
 * A session store. Every operation is keyed by the `Mcp-Session-Id`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** Records a session's state (after `initialize`, and whenever it changes); it expires after the store's time to live unless saved or touched again. */
  readonly save: (sessionId: string, state: SessionState) => Effect.Effect<void>
  /** A session's state, if the store holds it and it has not expired. */
  readonly load: (sessionId: string) => Effect.Effect<Option.Option<SessionState>>
  /** Keeps a session from expiring (a request arrived for it). */
  readonly touch: (sessionId: string) => Effect.Effect<void>
  /** Forgets a session (the client ended it with DELETE, or it was closed). */
  readonly remove: (sessionId: string) => Effect.Effect<void>
}

/**
 * The session store Streamable HTTP consults for a session it does not hold.
 *
 * @since 0.2.0
 * @category tags
 */
export class SessionStore extends Context.Tag("mcp-effect/SessionStore")<SessionStore, Service>() {}

/**
 * Options of {@link layerMemory}.
 *
 * @since 0.2.0
 * @category models
 */
export interface MemoryOptions {
  /** How long a session neither saved nor touched is kept. Default: one hour. */
  readonly timeToLive?: Duration.DurationInput | undefined
}

/**
 * A store in this process's memory: sessions survive the end of the endpoint
 * that opened them, not of the process.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeMemory = (options: MemoryOptions = {}): Effect.Effect<Service> =>
  Effect.map(Effect.clock, (clock) => {
    const ttl = Duration.toMillis(Duration.decode(options.timeToLive ?? "1 hour"))
    const sessions = new Map<string, { state: SessionState; expiresAt: number }>()
    const alive = (sessionId: string) => {
      const entry = sessions.get(sessionId)
      if (entry === undefined) return undefined
      if (entry.expiresAt > clock.unsafeCurrentTimeMillis()) return entry
      sessions.delete(sessionId)
      return undefined
    }
    return {
      save: (sessionId, state) =>
        Effect.sync(() => {
          sessions.set(sessionId, { state, expiresAt: clock.unsafeCurrentTimeMillis() + ttl })
        }),
      load: (sessionId) => Effect.sync(() => Option.fromNullable(alive(sessionId)?.state)),
      touch: (sessionId) =>
        Effect.sync(() => {
          const entry = alive(sessionId)
          if (entry !== undefined) entry.expiresAt = clock.unsafeCurrentTimeMillis() + ttl
        }),
      remove: (sessionId) =>
        Effect.sync(() => {
          sessions.delete(sessionId)
        })
    }
  })

/**
 * {@link makeMemory} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<SessionStore> =>
  Layer.effect(SessionStore, makeMemory(options))
