/**
 * The protected resource's answers to requests it refuses (RFC 6750 §3,
 * RFC 9728 §5.1): a `WWW-Authenticate: Bearer` challenge that points at the
 * metadata, with the scopes to ask for, and an OAuth error body. Shared by
 * Streamable HTTP and the legacy SSE endpoints.
 */
import type { AuthInfo } from "../../Transport.js"

/** What a challenge is built from: the metadata's URL, and the scopes every request needs. */
export interface Challenger {
  readonly metadataUrl: string
  readonly requiredScopes: ReadonlyArray<string>
}

/** A refusal, whatever the HTTP server that sends it. */
export interface Refusal {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** A quoted-string's content: no quote, backslash or control character can break out of it. */
const quoted = (text: string) => `"${text.replace(/[\\"]/g, "").replace(/[^\x20-\x7e]/g, " ")}"`

const refusal = (
  challenger: Challenger,
  status: number,
  fields: { readonly error?: string; readonly description?: string; readonly scopes?: ReadonlyArray<string> }
): Refusal => {
  const params = [
    ...(fields.error !== undefined ? [`error=${quoted(fields.error)}`] : []),
    ...(fields.description !== undefined ? [`error_description=${quoted(fields.description)}`] : []),
    ...(fields.scopes !== undefined && fields.scopes.length > 0 ? [`scope=${quoted(fields.scopes.join(" "))}`] : []),
    `resource_metadata=${quoted(challenger.metadataUrl)}`
  ]
  const body = {
    error: fields.error,
    ...(fields.description !== undefined ? { error_description: fields.description } : {})
  }
  return {
    status,
    headers: { "content-type": "application/json", "www-authenticate": `Bearer ${params.join(", ")}` },
    body: JSON.stringify(body)
  }
}

/**
 * No token: 401, with the scopes every request needs (the client takes the
 * metadata's otherwise). The challenge has no error information (RFC 6750
 * §3.1: the request had no credentials to be wrong); the body says what is
 * missing.
 */
export const unauthorized = (challenger: Challenger): Refusal => ({
  ...refusal(challenger, 401, { scopes: challenger.requiredScopes }),
  body: JSON.stringify({
    error: "unauthorized",
    error_description: "An access token is required (Authorization: Bearer)"
  })
})

/** A token that was refused: 401 `invalid_token`, saying why in words safe to send. */
export const invalidToken = (challenger: Challenger, description: string): Refusal =>
  refusal(challenger, 401, { error: "invalid_token", description, scopes: challenger.requiredScopes })

/** A malformed request (a token in the query string, two tokens): 400 `invalid_request`. */
export const invalidRequest = (challenger: Challenger, description: string): Refusal =>
  refusal(challenger, 400, { error: "invalid_request", description })

/**
 * A valid token without the scopes a request needs: 403
 * `insufficient_scope`, naming every scope the request needs (those the
 * token holds too), so that the client asks for all of them at once
 * (step-up).
 */
export const insufficientScope = (challenger: Challenger, needed: ReadonlyArray<string>): Refusal =>
  refusal(challenger, 403, {
    error: "insufficient_scope",
    description: `This request needs the scope${needed.length === 1 ? "" : "s"} ${needed.join(" ")}`,
    scopes: needed
  })

/** The verifier could not check the token: 503, the cause logged on the server only. */
export const unavailable = (description: string): Refusal => ({
  status: 503,
  headers: { "content-type": "application/json", "retry-after": "5" },
  body: JSON.stringify({ error: "temporarily_unavailable", error_description: description })
})

/** The bearer token of an `Authorization` header; `undefined` without one; `false` when it is malformed. */
export const bearerOf = (header: string | undefined): string | undefined | false => {
  if (header === undefined) return undefined
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  return match === null ? (/^Bearer\b/i.test(header) ? false : undefined) : match[1]!
}

/** Whether a request URL carries an access token in its query (RFC 6750 §2.3, which MCP forbids). */
export const tokenInQuery = (url: string | undefined): boolean => {
  if (url === undefined) return false
  const query = url.indexOf("?")
  return query !== -1 && new URLSearchParams(url.slice(query + 1)).has("access_token")
}

/**
 * Who opened a session, as compared on each of its requests: subject and
 * client together, so that neither another user's token nor another
 * client's (for the same user) can drive it.
 */
export const principalOf = (auth: AuthInfo | undefined): string | undefined =>
  auth === undefined ? undefined : JSON.stringify([auth.subject ?? null, auth.clientId ?? null])

/** Everything `needed` holds that `granted` does not. */
export const missing = (granted: ReadonlyArray<string>, needed: ReadonlyArray<string>): ReadonlyArray<string> =>
  needed.filter((scope) => !granted.includes(scope))
