/**
 * One request's authentication on a protected resource, whatever serves it:
 * its bearer token verified into a principal, or the refusal to send.
 */
import { Effect } from "effect"
import type * as ProtectedResource from "../../ProtectedResource.js"
import type { AuthInfo } from "../../Transport.js"
import { logThrown } from "../cause.js"
import { unfiltered } from "../scopes.js"
import * as Challenge from "./challenge.js"
import type { Refusal } from "./challenge.js"

const serverError: Refusal = { status: 500, headers: {}, body: "" }

/**
 * Verifies the token of a request (its `Authorization` header and target),
 * and checks the scopes every request needs.
 */
export const authenticate = (
  resource: ProtectedResource.Service,
  authorization: string | undefined,
  url: string | undefined
): Effect.Effect<AuthInfo, Refusal> => {
  if (Challenge.tokenInQuery(url)) {
    return Effect.fail(Challenge.invalidRequest(
      resource,
      "Access tokens are accepted only in the Authorization header, never in the query string"
    ))
  }
  const token = Challenge.bearerOf(authorization)
  if (token === undefined) return Effect.fail(Challenge.unauthorized(resource))
  if (token === false) return Effect.fail(Challenge.invalidToken(resource, "The Authorization header is malformed"))
  return resource.verifier.verify(token).pipe(
    Effect.catchTags({
      InvalidToken: (error) => Effect.fail(Challenge.invalidToken(resource, error.message)),
      VerifierUnavailable: () =>
        Effect.fail(Challenge.unavailable("The access token could not be verified now; try again later"))
    }),
    // A verifier that died: logged here, and the client learns nothing of it.
    Effect.catchAllDefect((defect) =>
      Effect.zipRight(logThrown("Token verifier failed", defect), Effect.fail(serverError))
    ),
    Effect.flatMap((auth) => {
      if (Challenge.missing(auth.scopes, resource.requiredScopes).length > 0) {
        return Effect.fail(Challenge.insufficientScope(resource, resource.requiredScopes))
      }
      if (resource.options.filterLists === false) unfiltered.add(auth)
      return Effect.succeed(auth)
    })
  )
}

/**
 * The 403 for a request whose principal lacks the scopes of what it calls
 * (with the server-wide ones, so that the client asks for all at once);
 * `undefined` when it may go on.
 */
export const checkScopes = (
  resource: ProtectedResource.Service,
  auth: AuthInfo,
  needed: ReadonlyArray<string> | undefined
): Refusal | undefined => {
  if (needed === undefined || Challenge.missing(auth.scopes, needed).length === 0) return undefined
  return Challenge.insufficientScope(resource, [...new Set([...resource.requiredScopes, ...needed])])
}
