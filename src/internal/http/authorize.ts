/**
 * The Streamable HTTP endpoint as a protected resource: each request's bearer
 * token is verified before the endpoint sees it, and the request goes on
 * carrying its principal (`Exchange.auth`, which handlers read as
 * `RequestContext.auth`). Made only when a `ProtectedResource` is provided:
 * without one the endpoint's hot path has nothing of this.
 */
import { Cause, Exit, Option, Runtime } from "effect"
import type * as ProtectedResource from "../../ProtectedResource.js"
import type { Exchange, Handler, Reply } from "../../StreamableHttp.js"
import type { AuthInfo } from "../../Transport.js"
import { authenticate, checkScopes } from "../auth/authenticate.js"
import type { Refusal } from "../auth/challenge.js"
import { principalOf } from "../auth/challenge.js"
import { logThrown } from "../cause.js"
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
  private readonly runFork: ReturnType<typeof Runtime.runFork<never>>

  constructor(
    private readonly resource: ProtectedResource.Service,
    private readonly app: Endpoint,
    runtime: Runtime.Runtime<never>
  ) {
    this.runCallback = Runtime.runCallback(runtime)
    this.runFork = Runtime.runFork(runtime)
  }

  /** Verifies the request's token, then hands the request, with its principal, to `next`. */
  handle(request: Exchange, reply: (reply: Reply) => void, next: Handler): void {
    this.runCallback(authenticate(this.resource, request.header("authorization"), request.url), {
      onExit: (exit) => {
        try {
          if (Exit.isSuccess(exit)) return this.authorized(request, exit.value, reply, next)
          // `authenticate` fails with its refusal only (a dying verifier becomes a 500 there).
          const refusal = Cause.failureOption(exit.cause)
          reply(Option.isSome(refusal) ? toReply(refusal.value) : empty(500))
        } catch (thrown) {
          this.runFork(logThrown("Streamable HTTP request failed", thrown))
          reply(empty(500))
        }
      }
    })
  }

  private authorized(request: Exchange, auth: AuthInfo, reply: (reply: Reply) => void, next: Handler): void {
    // A session answers only the principal that opened it; to anyone else it does not exist.
    const sessionId = request.header("mcp-session-id")
    const session = sessionId === undefined ? undefined : this.app.sessions.get(sessionId)
    if (session !== undefined && session.principal !== principalOf(auth)) return reply(sessionNotFound())
    next(new Authorized(request, auth), reply)
  }

  /**
   * The 403 for a request whose principal lacks what it calls needs (a tool's,
   * a resource's, a prompt's scopes), decided from its body before anything
   * is served or a stream opened; `undefined` when it may go on.
   */
  checkScopes(auth: AuthInfo, method: string, params: Record<string, unknown> | undefined): Reply | undefined {
    const refusal = checkScopes(this.resource, auth, this.app.modern?.server.core.requiredScopes(method, params))
    return refusal === undefined ? undefined : toReply(refusal)
  }
}
