/**
 * The authorization code grant with PKCE (OAuth 2.1 §4.1): the authorization
 * URL, the redirect's checks (`state`, and `iss` per RFC 9207), and the code
 * exchanged for tokens.
 */
import { Effect } from "effect"
import { pkce, randomString } from "./endpoints.js"
import type { Grant, GrantContext } from "./flow.js"
import type { AuthorizationResponse } from "./model.js"
import { OAuthClientError } from "./model.js"

/** Sends the user to an authorization URL and returns what the redirect carried back. */
export interface Handler {
  readonly redirectUri: string
  readonly authorize: (url: URL) => Effect.Effect<AuthorizationResponse, OAuthClientError>
}

const fail = (reason: OAuthClientError["reason"], message: string) => new OAuthClientError({ reason, message })

/** The spec requires S256 where the server publishes metadata; without it, PKCE cannot be trusted to hold. */
const checkPkce = (context: GrantContext) =>
  !context.metadataDiscovered || context.metadata.code_challenge_methods_supported?.includes("S256") === true
    ? Effect.void
    : fail(
      "Unsupported",
      `The authorization server ${context.metadata.issuer} does not list S256 in code_challenge_methods_supported`
    )

/**
 * RFC 9207: an `iss` in the redirect must be the issuer, compared as
 * strings; a server that advertises the parameter must send it. Either
 * failure may mean a mix-up attack, so the code is not used.
 */
const checkIssuer = (context: GrantContext, response: AuthorizationResponse) => {
  const { metadata } = context
  if (response.iss === undefined) {
    return metadata.authorization_response_iss_parameter_supported === true
      ? fail("IssuerMismatch", "The authorization response has no iss, which its server says it sends")
      : Effect.void
  }
  return response.iss === metadata.issuer ? Effect.void : fail(
    "IssuerMismatch",
    `The authorization response comes from the issuer ${
      JSON.stringify(response.iss.slice(0, 200))
    }, not ${metadata.issuer}`
  )
}

const authorizationUrl = (
  endpoint: string,
  context: GrantContext,
  handler: Handler,
  challenge: string,
  state: string
) => {
  const url = new URL(endpoint)
  const params = {
    response_type: "code",
    client_id: context.client.client_id,
    redirect_uri: handler.redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    ...(context.scope !== undefined ? { scope: context.scope } : {}),
    resource: context.resource
  }
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  return url
}

/** The authorization code grant, with `handler` taking the user through the authorization URL. */
export const grant = (handler: Handler): Grant => ({
  grantTypes: ["authorization_code"],
  clientMetadata: { redirect_uris: [handler.redirectUri], response_types: ["code"] },
  obtain: Effect.fn("OAuthClient.authorizationCode")(function*(context: GrantContext) {
    yield* checkPkce(context)
    const endpoint = context.metadata.authorization_endpoint
    if (endpoint === undefined) {
      return yield* fail(
        "Discovery",
        `The authorization server ${context.metadata.issuer} has no authorization endpoint`
      )
    }
    const { challenge, verifier } = yield* pkce
    const state = randomString(16)
    const response = yield* handler.authorize(authorizationUrl(endpoint, context, handler, challenge, state))
    if (response.state !== state) {
      return yield* fail("Authorization", "The authorization response's state is not the one sent")
    }
    yield* checkIssuer(context, response)
    return yield* context.requestToken({
      grant_type: "authorization_code",
      code: response.code,
      redirect_uri: handler.redirectUri,
      code_verifier: verifier
    })
  })
})

/**
 * Reads an authorization redirect URL: its code, state and iss, or the
 * error the server sent instead.
 */
export const parseRedirect = (location: string): Effect.Effect<AuthorizationResponse, OAuthClientError> => {
  if (!URL.canParse(location)) return fail("Authorization", "The authorization redirect is not a URL")
  const params = new URL(location).searchParams
  const code = params.get("code")
  const error = params.get("error")
  if (code === null) {
    return fail(
      "Authorization",
      error === null
        ? "The authorization redirect carries no code"
        : `The authorization was refused: ${error.slice(0, 100)}${
          params.has("error_description") ? ` (${params.get("error_description")!.slice(0, 200)})` : ""
        }`
    )
  }
  return Effect.succeed({ code, state: params.get("state") ?? undefined, iss: params.get("iss") ?? undefined })
}
