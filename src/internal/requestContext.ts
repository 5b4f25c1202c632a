/**
 * The request context as the request core builds it: from the request, its
 * envelope (what the client says about itself) and the channel back to the
 * client. Nothing here knows which era or transport the request came by.
 */
import { Effect } from "effect"
import type { McpError } from "../McpError.js"
import { MessageEncodingError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type { RequestOptions } from "../Peer.js"
import type { ClientChannel, Envelope, Service } from "../RequestContext.js"
import { encodable } from "./encode.js"
import { isRecord } from "./guards.js"
import type * as JsonRpc from "./jsonRpc.js"
import type { ServicesOwner } from "./sessionServices.js"

/** A request as the core serves it: after its JSON-RPC envelope was checked. */
export interface Request {
  readonly id: McpSchema.RequestId
  readonly method: string
  readonly params: JsonRpc.Params
}

/** Reads one of the server's resources for `readResource`, with the context of the request reading it. */
export type ReadResource = (
  uri: string,
  ctx: RequestContextImpl
) => Effect.Effect<McpSchema.ReadResourceResult, McpError>

/** Whether a log at `level` reaches a client that asked for `minimum`. */
export const logPasses = (level: McpSchema.LoggingLevel, minimum: McpSchema.LoggingLevel | undefined): boolean =>
  minimum === undefined || McpSchema.loggingLevelRank[level] >= McpSchema.loggingLevelRank[minimum]

/** Sends a log notification; a log is best-effort, so data JSON cannot encode goes out as near as it can. */
export const sendLog = (
  channel: { readonly notify: (method: string, params: unknown) => void },
  level: McpSchema.LoggingLevel,
  data: unknown,
  logger: string | undefined
): void => {
  const params = (data: unknown) => (logger === undefined ? { level, data } : { level, logger, data })
  try {
    channel.notify("notifications/message", params(data))
  } catch (thrown) {
    if (!(thrown instanceof MessageEncodingError)) throw thrown
    channel.notify("notifications/message", params(encodable(data)))
  }
}

/** A class with getters, so that serving a request allocates one object for its context. */
export class RequestContextImpl implements Service {
  private lastProgress = -Infinity
  constructor(
    readonly incoming: Request,
    readonly envelope: Envelope,
    readonly channel: ClientChannel,
    private readonly read: ReadResource,
    private readonly clientRequests: RequestOptions | undefined,
    /** Where the request's session-scoped services live. */
    readonly owner: ServicesOwner
  ) {}
  get requestId() {
    return this.incoming.id
  }
  get method() {
    return this.incoming.method
  }
  get meta() {
    const meta = this.incoming.params?._meta
    return isRecord(meta) ? meta : undefined
  }
  get progressToken() {
    return this.envelope.progressToken
  }
  get protocolVersion() {
    return this.envelope.protocolVersion
  }
  get clientInfo() {
    return this.envelope.clientInfo
  }
  get clientCapabilities() {
    return this.envelope.clientCapabilities
  }
  get logLevel() {
    return this.envelope.logLevel
  }
  get sessionId() {
    return this.envelope.sessionId
  }
  get auth() {
    return this.envelope.auth
  }
  get extras() {
    return this.envelope.extras
  }
  progress(progress: number, total?: number, message?: string) {
    return Effect.sync(() => {
      const token = this.envelope.progressToken
      // Progress must increase, and stops once the request has answered.
      if (token === undefined || progress <= this.lastProgress || !this.channel.isActive()) return
      this.lastProgress = progress
      this.channel.notify("notifications/progress", {
        progressToken: token,
        progress,
        ...(total !== undefined ? { total } : {}),
        ...(message !== undefined ? { message } : {})
      })
    })
  }
  log(level: McpSchema.LoggingLevel, data: unknown, logger?: string) {
    return Effect.sync(() => {
      if (logPasses(level, this.envelope.logLevel)) sendLog(this.channel, level, data, logger)
    })
  }
  request(method: string, params: Record<string, unknown>, options?: RequestOptions) {
    return this.channel.request(method, params, { ...this.clientRequests, ...options })
  }
  once<A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return this.channel.once === undefined ? effect : this.channel.once(key, effect)
  }
  get continueAsTask(): Effect.Effect<void> {
    return this.channel.continueAsTask ?? Effect.void
  }
  get closeStream() {
    return Effect.sync(() => this.channel.closeStream())
  }
  readResource(uri: string) {
    return this.read(uri, this)
  }
}
