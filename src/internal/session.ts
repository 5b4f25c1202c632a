/**
 * The handshake era as one adapter over the request core: a session's state
 * comes from `initialize` and fills each request's envelope, the channel back
 * to the client is the session's peer, and the lifecycle methods
 * (`initialize`, `ping`, `logging/setLevel`, resource subscriptions) are
 * served here. Everything else goes to the core. A request that claims the
 * 2026-07-28 revision goes to the connection's `ModernEra` instead; a
 * connection of its own (stdio) keeps the era its first message chose.
 *
 * Classes, so that the handlers are prototype methods and an idle session
 * holds only its fields (servers keep thousands of idle HTTP sessions).
 */
import { Effect } from "effect"
import type { Runtime } from "effect"
import type { RequestError } from "../McpError.js"
import { McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type { IncomingRequest, RequestOptions } from "../Peer.js"
import type { ClientChannel, Envelope } from "../RequestContext.js"
import type { SessionState } from "../SessionStore.js"
import type { Transport } from "../Transport.js"
import type { Core } from "./dispatch.js"
import { withParams } from "./dispatch.js"
import type * as InputRequired from "./inputRequired.js"
import * as Modern from "./modern.js"
import { Incoming, ModernEra } from "./modernEra.js"
import * as Peer from "./peer.js"
import * as ProtocolVersion from "./protocolVersion.js"
import type { ServicesOwner } from "./sessionServices.js"
import { SessionServices } from "./sessionServices.js"
import type { Subscribers } from "./subscribers.js"
import type * as Tasks from "./tasks.js"
import * as Telemetry from "./telemetry.js"

/** What a session needs of its server. */
export interface Server {
  readonly core: Core
  readonly info: McpSchema.Implementation
  readonly instructions: string | undefined
  readonly capabilities: () => McpSchema.ServerCapabilities
  /** The caching hint of a cacheable method's 2026-07-28 result. */
  readonly cacheHint: (method: string) => Modern.CacheHint | undefined
  /** The key that signs 2026-07-28 `requestState`. */
  readonly stateKey: InputRequired.StateKey
  /** The server's 2026-07-28 tasks. */
  readonly tasks: Tasks.Tasks
  /** Who is subscribed to which resource, across every session and listen: what runs while anyone is. */
  readonly subscribers: Subscribers
  /** Hears the change notifications `filter` asks for, until the returned function is called. */
  readonly listen: (
    filter: Modern.ListenFilter,
    notify: (method: string, params: Record<string, unknown>) => void
  ) => () => void
}

/**
 * What serves a 2026-07-28 request outside any connection (a modern HTTP
 * POST, which costs no session): the server as its sessions see it, and the
 * runtime its handlers run on.
 */
export interface Stateless {
  readonly server: Server
  readonly runtime: Runtime.Runtime<never>
}

/** Each server's `Stateless`, kept off its public face; set by `McpServer.make`. */
const statelessServers = new WeakMap<object, Stateless>()

export const setStateless = (service: object, stateless: Stateless): void => {
  statelessServers.set(service, stateless)
}

/** The `Stateless` of a server made by `McpServer.make`. */
export const statelessOf = (service: object): Stateless | undefined => statelessServers.get(service)

/** Options of one session. */
export interface SessionOptions {
  /** The transport's session id, if it has sessions. */
  readonly sessionId?: string | undefined
  /**
   * Serves requests without a prior `initialize`, at this version and with no
   * client capabilities: for stateless transports, where every request stands
   * alone. An `initialize` is still answered.
   */
  readonly initialized?: { readonly protocolVersion: string } | undefined
  /**
   * Continues a session another process opened (see `SessionStore`): it
   * starts initialized with this state, as it was last saved.
   *
   * @since 0.2.0
   */
  readonly restored?: SessionState | undefined
  /**
   * Called with the session's state when `initialize` succeeds and whenever
   * the client changes it (`logging/setLevel`, `resources/subscribe`,
   * `resources/unsubscribe`); the request is answered once it is done. Calls
   * of one session run one at a time, each with the state as it is then.
   *
   * @since 0.2.0
   */
  readonly onStateChange?: ((state: SessionState) => Effect.Effect<void>) | undefined
}

const BEFORE_HANDSHAKE = new Set(["initialize", "ping"])

type LifecycleHandler = (params: Record<string, unknown> | undefined, session: ServerSession) => Peer.InternalAnswer

const lifecycle = new Map<string, LifecycleHandler>([
  ["ping", () => Effect.succeed({})],
  ["initialize", withParams(McpSchema.InitializeRequestParams, (params, session) => session.initialize(params))],
  [
    "logging/setLevel",
    withParams(McpSchema.SetLevelRequestParams, (params, session) => {
      session.logLevel = params.level
      return session.changed({})
    })
  ],
  [
    "resources/subscribe",
    withParams(McpSchema.SubscribeRequestParams, (params, session) =>
      Effect.suspend(() => {
        // A subscription that arrives once the session has ended would hold its resource's hook for ever.
        if (session.ended) return Effect.succeed({})
        const subscriptions = (session.subscriptions ??= new Set())
        if (subscriptions.has(params.uri)) return session.changed({})
        subscriptions.add(params.uri)
        // Answered once what runs while the resource has subscribers has started.
        return Effect.zipRight(session.server.subscribers.unsafeAdd(params.uri), session.changed({}))
      }))
  ],
  [
    "resources/unsubscribe",
    withParams(
      McpSchema.SubscribeRequestParams,
      (params, session) =>
        Effect.suspend(() =>
          session.subscriptions?.delete(params.uri) === true
            ? Effect.zipRight(session.server.subscribers.unsafeRemove(params.uri), session.changed({}))
            : session.changed({})
        )
    )
  ]
])

/** One handshake-era session: its state, and the peer's request handler. */
export class ServerSession implements Peer.InternalHandlers, ServicesOwner {
  initialized = false
  protocolVersion: string
  clientInfo: McpSchema.Implementation | undefined = undefined
  clientCapabilities: McpSchema.ClientCapabilities = {}
  logLevel: McpSchema.LoggingLevel | undefined = undefined
  /** Subscribed resource URIs; made on first subscribe. */
  subscriptions: Set<string> | undefined = undefined
  /** The session has been closed: it takes no new subscription. */
  ended = false
  /** The services of the server's session layers; made on first use, so that an idle session holds none. */
  services: SessionServices | undefined = undefined
  readonly id: string | undefined
  readonly peer: Peer.Connection
  readonly telemetry: Telemetry.Telemetry | undefined
  private readonly stateless: boolean
  /** The era this connection speaks, once its first message settled it (a connection of its own only). */
  era: "legacy" | "modern" | undefined = undefined
  /** Whether the connection is the client's own (stdio, in memory), whose first message settles its era. */
  private readonly pinsEra: boolean
  /** What serves this connection's 2026-07-28 requests; made on the first. */
  private modernEra: ModernEra | undefined = undefined
  /** Hears the session's state change (`SessionOptions.onStateChange`). */
  private readonly onStateChange: ((state: SessionState) => Effect.Effect<void>) | undefined
  /** Keeps those calls one at a time; made on the first change. */
  private saving: Effect.Semaphore | undefined = undefined

  constructor(
    readonly transport: Transport,
    options: SessionOptions | undefined,
    runtime: Runtime.Runtime<never>,
    readonly server: Server
  ) {
    this.id = options?.sessionId
    this.stateless = options?.initialized !== undefined
    this.pinsEra = options?.sessionId === undefined && !this.stateless
    this.protocolVersion = options?.initialized?.protocolVersion ?? ProtocolVersion.latest
    this.onStateChange = options?.onStateChange
    if (options?.restored !== undefined) this.restore(options.restored)
    this.telemetry = Telemetry.make(runtime, "server", transport.telemetry, this)
    this.peer = Peer.make(transport, this, runtime, this.telemetry)
  }

  /** The session's id, for telemetry. */
  get sessionId(): string | undefined {
    return this.id
  }

  onRequest(request: IncomingRequest): Peer.InternalAnswer {
    const malformed = Modern.checkMeta(request.params)
    if (malformed !== undefined) return malformed
    if (Modern.claimsModern(request.params)) {
      const meta = Modern.readMeta(request.params)
      if (meta instanceof McpError) return meta
      // A discover probe leaves the connection free to fall back to initialize.
      if (this.pinsEra && this.era === undefined && request.method !== "server/discover") this.era = "modern"
      return (this.modernEra ??= new ModernEra(this)).serve(request, meta)
    }
    if (this.era === "modern") return this.legacyAfterModern(request)
    if (this.pinsEra) this.era = "legacy"
    const own = lifecycle.get(request.method)
    // Before the handshake only initialize and ping are served; an unknown method stays -32601 then too.
    if (!this.initialized && !this.stateless && !BEFORE_HANDSHAKE.has(request.method)) {
      if (own !== undefined || this.server.core.serves(request.method)) {
        return McpError.invalidRequest(`the session is not initialized; send initialize before ${request.method}`)
      }
    }
    if (own !== undefined) return own(request.params, this)
    const envelope = new SessionRequest(this, request)
    return this.server.core.handle(request, envelope, envelope, this)
  }

  /** Takes up a session another process opened, where it left off. */
  private restore(state: SessionState): void {
    this.initialized = true
    this.protocolVersion = state.protocolVersion
    this.clientInfo = state.clientInfo
    this.clientCapabilities = state.clientCapabilities
    this.logLevel = state.logLevel
    if (state.subscriptions.length > 0) this.subscriptions = new Set(state.subscriptions)
  }

  /** The session's state, as a `SessionStore` keeps it. */
  get state(): SessionState {
    return {
      protocolVersion: this.protocolVersion,
      clientCapabilities: this.clientCapabilities,
      clientInfo: this.clientInfo,
      logLevel: this.logLevel,
      subscriptions: this.subscriptions === undefined ? [] : [...this.subscriptions]
    }
  }

  /** Answers `result` once whoever hears the session's state changes has heard this change. */
  changed<A>(result: A): Effect.Effect<A> {
    const onStateChange = this.onStateChange
    if (onStateChange === undefined) return Effect.succeed(result)
    const saving = (this.saving ??= Effect.unsafeMakeSemaphore(1))
    // The state is read when the call runs, under the lock: the last call to finish carries the latest state.
    return Effect.as(saving.withPermits(1)(Effect.suspend(() => onStateChange(this.state))), result)
  }

  sessionServices(): SessionServices {
    return (this.services ??= new SessionServices())
  }

  /** A connection that speaks the modern era refuses a handshake, and a request without `_meta`. */
  private legacyAfterModern(request: IncomingRequest): Peer.InternalAnswer {
    if (request.method === "initialize") {
      const requested = request.params?.protocolVersion
      return Modern.unsupportedVersion(typeof requested === "string" ? requested : "")
    }
    return McpError.invalidParams(
      `this connection speaks ${Modern.VERSION}: every request carries _meta["${Modern.Meta.protocolVersion}"]`
    )
  }

  initialize(params: McpSchema.InitializeRequestParams): Peer.InternalAnswer {
    if (this.initialized) {
      return McpError.invalidRequest("the session is already initialized; initialize may be sent only once")
    }
    this.initialized = true
    this.protocolVersion = ProtocolVersion.negotiate(params.protocolVersion)
    this.clientInfo = params.clientInfo
    this.clientCapabilities = params.capabilities
    const { info, instructions } = this.server
    return this.changed({
      protocolVersion: this.protocolVersion,
      capabilities: this.server.capabilities(),
      serverInfo: ProtocolVersion.described(info, this.protocolVersion),
      ...(instructions !== undefined ? { instructions } : {})
    })
  }

  acceptsBatch(): boolean {
    return this.initialized && ProtocolVersion.hasBatches(this.protocolVersion)
  }
}

/**
 * One request on a session: its envelope, filled from the session's state,
 * and its channel back to the client, which is the session's peer. One
 * object for both, so that a request allocates little.
 */
class SessionRequest extends Incoming implements Envelope, ClientChannel {
  constructor(private readonly session: ServerSession, incoming: IncomingRequest) {
    super(incoming)
  }
  get protocolVersion() {
    return this.session.protocolVersion
  }
  get clientCapabilities() {
    return this.session.clientCapabilities
  }
  get clientInfo() {
    return this.session.clientInfo
  }
  get logLevel() {
    return this.session.logLevel
  }
  get sessionId() {
    return this.session.id
  }
  request(
    method: string,
    params: Record<string, unknown>,
    options?: RequestOptions
  ): Effect.Effect<unknown, RequestError> {
    return this.session.peer.request(method, params, { ...options, relatedRequestId: this.incoming.id })
  }
  notify(method: string, params: unknown): void {
    this.session.peer.notify(method, params, this.incoming.id)
  }
  isActive(): boolean {
    return this.session.peer.isActive(this.incoming.id)
  }
  closeStream(): void {
    this.session.transport.closeStream?.(this.incoming.id)
  }
}
