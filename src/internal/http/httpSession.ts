/**
 * One Streamable HTTP session: its state, and the transport its peer writes
 * to. A class, so that the transport's methods live on the prototype and an
 * idle session holds only its fields.
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import type { RequestId } from "../../McpSchema.js"
import type { Receiver, Transport, TransportTelemetry } from "../../Transport.js"
import * as Telemetry from "../telemetry.js"
import { ABANDONED, CLOSE_STREAM } from "./eventStream.js"
import type { EventStream } from "./eventStream.js"

/** Where a session's outgoing messages go: the endpoint routes them to a stream. */
export interface Router {
  readonly route: (session: HttpSession, message: unknown, related: RequestId | undefined) => void
}

/** Stands in for a session's receiver until its peer exists (never for long: both are made together). */
const NO_RECEIVER: Receiver = { frame: () => {}, message: () => {} }

export class HttpSession implements Transport {
  receiver: Receiver = NO_RECEIVER
  get telemetry(): TransportTelemetry {
    return Telemetry.HTTP
  }
  /** SSE streams by stream id; made on first use and dropped when empty, so idle sessions stay small. */
  streams: Map<string, EventStream> | undefined = undefined
  /** Streams of requests in flight, by request id; likewise. */
  requests: Map<RequestId, EventStream> | undefined = undefined
  /** Streams that ended while detached, whose events the store keeps for a resumption until the session ends. */
  kept: Set<string> | undefined = undefined
  /** The stream of messages not tied to a request; made when first needed. */
  standalone: EventStream | undefined = undefined
  standaloneAttached = false
  /** Requests in flight. */
  active = 0
  /** When the session was last used; while it is unused (see `used`), when it was opened. */
  lastActive = 0
  /** Whether the session made a request or opened a GET stream since `initialize`: until then it expires early. */
  used = false
  /** The client (remote address) counted against `maxSessionsPerClient`, if any. */
  client: string | undefined = undefined
  /** On a protected endpoint, the principal that opened the session: no other may use it. */
  principal: string | undefined = undefined
  counter = 0

  constructor(
    readonly id: string,
    readonly scope: Scope.CloseableScope,
    /** The negotiated version, known once `initialize` has answered. */
    public protocolVersion: string | undefined,
    readonly stateless: boolean,
    private readonly router: Router,
    /**
     * Comes between the session id and the counter in its stream ids:
     * empty where the session was opened (`<sessionId>-<n>`), fresh in each
     * process that revives it (`<sessionId>-<generation>.<n>`), so that no
     * stream id of a dead process is used again. Neither has a `-` or a `/`:
     * a stream id still names its session up to its last `-`.
     */
    readonly generation: string = ""
  ) {}

  /** The id of the session's standalone (GET) stream. */
  get standaloneId(): string {
    return `${this.id}-${this.generation}0`
  }

  /** Whether `streamId` is a standalone stream of this session, from this process or one that held it before. */
  isStandalone(streamId: string): boolean {
    if (!streamId.startsWith(`${this.id}-`)) return false
    const rest = streamId.slice(this.id.length + 1)
    return rest === "0" || rest.endsWith(".0")
  }

  run(): Effect.Effect<void> {
    return Effect.never
  }

  send(message: unknown, related?: RequestId): void {
    this.router.route(this, message, related)
  }

  closeStream(related: RequestId): void {
    this.requests?.get(related)?.inbox.offer(CLOSE_STREAM)
  }

  abandon(related: RequestId): void {
    this.requests?.get(related)?.inbox.offer(ABANDONED)
  }

  /** The request's stream is no longer the place for its messages. */
  forgetRequest(id: RequestId): void {
    this.requests?.delete(id)
    if (this.requests?.size === 0) this.requests = undefined
  }

  /** Response headers that name the session. */
  get headers(): Record<string, string> {
    return this.stateless ? {} : { "mcp-session-id": this.id }
  }
}
