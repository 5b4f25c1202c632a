/**
 * OAuth error responses (RFC 6749 §5.2, RFC 7591 §3.2.2, RFC 8707 §2): JSON
 * with `error` and `error_description`, never cached. Descriptions say what
 * was wrong with the request, never quote tokens, secrets or keys.
 */
import { HttpServerResponse } from "@effect/platform"
import { Effect, Schema } from "effect"
import type { OAuthStoreError } from "../../../OAuthStore.js"

export class OAuthError extends Schema.TaggedError<OAuthError>()("OAuthError", {
  error: Schema.String,
  description: Schema.String,
  status: Schema.Number,
  /** The client tried HTTP Basic authentication: a 401 must then carry `WWW-Authenticate: Basic`. */
  basic: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {
  override get message() {
    return `${this.error}: ${this.description}`
  }
}

const oauthError = (error: string, status: number) => (description: string): OAuthError =>
  new OAuthError({ error, description, status })

export const invalidRequest = oauthError("invalid_request", 400)
export const invalidGrant = oauthError("invalid_grant", 400)
export const invalidScope = oauthError("invalid_scope", 400)
export const invalidTarget = oauthError("invalid_target", 400)
export const unauthorizedClient = oauthError("unauthorized_client", 400)
export const unsupportedGrantType = oauthError("unsupported_grant_type", 400)
export const invalidRedirectUri = oauthError("invalid_redirect_uri", 400)
export const invalidClientMetadata = oauthError("invalid_client_metadata", 400)
export const invalidClient = (description: string, basic: boolean): OAuthError =>
  new OAuthError({ error: "invalid_client", description, status: 401, basic })

/** Headers every response carrying tokens or OAuth errors has (RFC 6749 §5.1). */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const

export const jsonResponse = (body: unknown, status = 200): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(body, { status, headers: NO_STORE })

export const errorResponse = (error: OAuthError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson({ error: error.error, error_description: error.description }, {
    status: error.status,
    headers: error.basic ? { ...NO_STORE, "www-authenticate": "Basic realm=\"oauth\"" } : NO_STORE
  })

/** Answers an endpoint's OAuth errors as such, and a store failure as `server_error` (logged, not told). */
export const respond = <R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, OAuthError | OAuthStoreError, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  handler.pipe(
    Effect.catchTags({
      OAuthError: (error) => Effect.succeed(errorResponse(error)),
      OAuthStoreError: (error) =>
        Effect.as(
          Effect.logError("OAuth store failed", error),
          errorResponse(new OAuthError({ error: "server_error", description: "try again later", status: 500 }))
        )
    })
  )
