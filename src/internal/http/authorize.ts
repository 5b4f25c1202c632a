/**
 * The Streamable HTTP endpoint as a protected resource: each request's bearer
 * token is verified before the endpoint sees it, and the request goes on
 * carrying its principal (`Exchange.auth`, which handlers read as
 * `RequestContext.auth`). Made only when a `ProtectedResource` is provided:
 * without one the endpoint's hot path has nothing of this.
 */
import { Cause, Exit, Runtime } from "effect"
import type * as ProtectedResource from "../../ProtectedResource.js"
import type { Exchange, Handler, Reply } from "../../StreamableHttp.js"
import { InvalidToken } from "../../TokenVerifier.js"
import type { AuthInfo } from "../../Transport.js"
import * as Challenge from "../auth/challenge.js"
import type { Refusal } from "../auth/challenge.js"
import { logThrown } from "../cause.js"
import { unfiltered } from "../scopes.js"
import type { Endpoint } from "./endpoint.js"
import { empty, sessionNotFound } from "./reply.js"

const toReply = (refusal: Refusal): Reply => ({ _tag: "Full", ...refusal })

/** A request as the endpoint sees it once its token is verified: the same request, with its principal. */
class Authorized implements Exchange {
  constructor(private readonly request: Exchange, readonly auth: AuthInfo) {}
  get method() {
    return this.request.method
  }
  get remoteAddress() {
    return this.request.remoteAddress
  }
  get url() {
    return this.request.url
  }
  header(name: string): string | undefined {
    return this.request.header(name)
  }
  body(maxBytes: number, done: (text: string | undefined) => void): void {
    this.request.body(maxBytes, done)
  }
}

export class Guard {
  private readonly runCallback: ReturnType<typeof Runtime.runCallback<never>>

  constructor(
    private readonly resource: ProtectedResource.Service,
    private readonly app: Endpoint,
    private readonly runtime: Runtime.Runtime<never>
  ) {
    this.runCallback = Runtime.runCallback(runtime)
  }

  /** Verifies the request's token, then hands the request, with its principal, to `next`. */
  handle(request: Exchange, reply: (reply: Reply) => void, next: Handler): void {
    const resource = this.resource
    if (Challenge.tokenInQuery(request.url)) {
      return reply(toReply(Challenge.invalidRequest(
        resource,
        "Access tokens are accepted only in the Authorization header, never in the query string"
      )))
    }
    const token = Challenge.bearerOf(request.header("authorization"))
    if (token === undefined) return reply(toReply(Challenge.unauthorized(resource)))
    if (token === false) {
      return reply(toReply(Challenge.invalidToken(resource, "The Authorization header is malformed")))
    }
    this.runCallback(resource.verifier.verify(token), {
      onExit: (exit) => {
        try {
          if (Exit.isSuccess(exit)) return this.authorized(request, exit.value, reply, next)
          reply(this.refused(exit.cause))
        } catch (thrown) {
          Runtime.runFork(this.runtime)(logThrown("Streamable HTTP request failed", thrown))
          reply(empty(500))
        }
      }
    })
  }

  private refused(cause: Cause.Cause<unknown>): Reply {
    const failure = Cause.failureOption(cause)
    if (failure._tag === "Some") {
      const error = failure.value
      return error instanceof InvalidToken
        ? toReply(Challenge.invalidToken(this.resource, error.message))
        : toReply(Challenge.unavailable("The access token could not be verified now; try again later"))
    }
    // A verifier that died: logged here, and the client learns nothing of it.
    Runtime.runFork(this.runtime)(logThrown("Token verifier failed", Cause.squash(cause)))
    return empty(500)
  }

  private authorized(request: Exchange, auth: AuthInfo, reply: (reply: Reply) => void, next: Handler): void {
    const resource = this.resource
    const lacking = Challenge.missing(auth.scopes, resource.requiredScopes)
    if (lacking.length > 0) return reply(toReply(Challenge.insufficientScope(resource, resource.requiredScopes)))
    // A session answers only the principal that opened it; to anyone else it does not exist.
    const sessionId = request.header("mcp-session-id")
    const session = sessionId === undefined ? undefined : this.app.sessions.get(sessionId)
    if (session !== undefined && session.principal !== Challenge.principalOf(auth)) return reply(sessionNotFound())
    if (resource.options.filterLists === false) unfiltered.add(auth)
    next(new Authorized(request, auth), reply)
  }

  /**
   * The 403 for a request whose principal lacks what it calls needs (a tool's,
   * a resource's, a prompt's scopes), decided from its body before anything
   * is served or a stream opened; `undefined` when it may go on.
   */
  checkScopes(
    auth: AuthInfo,
    method: string,
    params: Record<string, unknown> | undefined
  ): Reply | undefined {
    const needed = this.app.modern?.server.core.requiredScopes(method, params)
    if (needed === undefined || Challenge.missing(auth.scopes, needed).length === 0) return undefined
    // Every scope the request needs, the server-wide ones included: the client asks for them all at once.
    const all = [...new Set([...this.resource.requiredScopes, ...needed])]
    return toReply(Challenge.insufficientScope(this.resource, all))
  }
}
