/**
 * The authorization endpoint (OAuth 2.1 §4.1.1): checks the client and its
 * redirect URI before anything else (an error then is shown, never sent to an
 * unchecked URI), then everything else (errors redirected, with `state` and
 * `iss`), asks the consent hook, and answers a single-use code.
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import type { AuthorizationRequest } from "../../../OAuthProvider.js"
import type { Client, OAuthStoreError } from "../../../OAuthStore.js"
import { clientForAuthorization } from "./clients.js"
import { invalidRequest, NO_STORE, OAuthError } from "./errors.js"
import { randomToken, S256_CHALLENGE, sha256 } from "./keys.js"
import { authorizationParams, type Params, required, scopesOf } from "./params.js"
import type { Settings } from "./settings.js"

/** Where errors and codes go once the redirect URI is known good. */
interface Reply {
  readonly redirectUri: string
  readonly state: Option.Option<string>
}

const redirectTo = (settings: Settings, reply: Reply, params: Record<string, string>) => {
  const url = new URL(reply.redirectUri)
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value)
  if (Option.isSome(reply.state)) url.searchParams.append("state", reply.state.value)
  // RFC 9207: the client checks it came from the issuer it sent the user to (mix-up attacks).
  url.searchParams.append("iss", settings.issuer)
  return HttpServerResponse.redirect(url.toString(), { status: 302, headers: NO_STORE })
}

/** The registered redirect URI the request names (exact match), or the only one when it names none. */
const redirectUriOf = (client: Client, params: Params): Effect.Effect<Reply & { given: boolean }, OAuthError> => {
  const state = params.get("state")
  return Option.match(params.get("redirect_uri"), {
    onNone: () =>
      client.redirectUris.length === 1 ?
        Effect.succeed({ redirectUri: client.redirectUris[0], state, given: false }) :
        Effect.fail(invalidRequest("the redirect_uri parameter is missing")),
    onSome: (uri) =>
      client.redirectUris.includes(uri) ?
        Effect.succeed({ redirectUri: uri, state, given: true }) :
        Effect.fail(invalidRequest("redirect_uri is not registered for this client"))
  })
}

/** The requested scopes, each allowed to the client and supported; the defaults when none is asked. */
const scopesFor = (
  settings: Settings,
  client: Client,
  params: Params
): Effect.Effect<ReadonlyArray<string>, OAuthError> => {
  const asked = scopesOf(params.get("scope"))
  const scopes = asked.length > 0 ? asked : settings.defaultScopes
  const refused = scopes.find((scope) =>
    (settings.scopes !== undefined && !settings.scopes.includes(scope)) ||
    (client.scopes !== undefined && !client.scopes.includes(scope))
  )
  return refused === undefined ?
    Effect.succeed(scopes) :
    Effect.fail(
      new OAuthError({ error: "invalid_scope", description: `the scope ${refused} is not allowed`, status: 400 })
    )
}

/** The resource (RFC 8707) the token is for: an absolute URI without fragment, one of `resources` when set. */
export const resourceFor = (settings: Settings, asked: Option.Option<string>): Effect.Effect<string, OAuthError> => {
  const invalid = (description: string) =>
    Effect.fail(new OAuthError({ error: "invalid_target", description, status: 400 }))
  if (Option.isNone(asked)) {
    return settings.resources !== undefined && settings.resources.length > 0 ?
      Effect.succeed(settings.resources[0]) :
      invalid("the resource parameter is missing")
  }
  const uri = asked.value
  if (!URL.canParse(uri) || uri.includes("#")) return invalid("resource must be an absolute URI without a fragment")
  if (settings.resources !== undefined && !settings.resources.includes(uri)) {
    return invalid("resource is not served by this authorization server")
  }
  return Effect.succeed(uri)
}

/** Checks what is left once the redirect URI is trusted; failures are redirected. */
const checkRequest = (settings: Settings, client: Client, params: Params) =>
  Effect.gen(function*() {
    const responseType = yield* required(params, "response_type")
    if (responseType !== "code") {
      return yield* Effect.fail(
        new OAuthError({ error: "unsupported_response_type", description: "response_type must be code", status: 400 })
      )
    }
    const challenge = yield* Effect.mapError(
      required(params, "code_challenge"),
      () => invalidRequest("code_challenge is required (PKCE)")
    )
    if (Option.getOrUndefined(params.get("code_challenge_method")) !== "S256") {
      return yield* Effect.fail(invalidRequest("code_challenge_method must be S256"))
    }
    if (!S256_CHALLENGE.test(challenge)) {
      return yield* Effect.fail(invalidRequest("code_challenge is not an S256 challenge"))
    }
    const scopes = yield* scopesFor(settings, client, params)
    const resource = yield* resourceFor(settings, params.get("resource"))
    return { challenge, scopes, resource }
  })

/** Records an approved grant and its code; answers the code. */
const approve = (
  settings: Settings,
  client: Client,
  reply: Reply & { given: boolean },
  approved: { readonly challenge: string; readonly resource: string; readonly scopes: ReadonlyArray<string> },
  subject: string
) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const grantId = randomToken()
    yield* settings.store.saveGrant({
      id: grantId,
      clientId: client.clientId,
      subject,
      scopes: approved.scopes,
      resource: approved.resource,
      revoked: false,
      expiresAt: now + settings.codeMillis + Math.max(settings.refreshTokenMillis, settings.accessTokenMillis)
    })
    const code = randomToken()
    yield* settings.store.saveCode({
      hash: yield* sha256(code),
      grantId,
      clientId: client.clientId,
      redirectUri: reply.redirectUri,
      redirectUriGiven: reply.given,
      codeChallenge: approved.challenge,
      expiresAt: now + settings.codeMillis
    })
    return redirectTo(settings, reply, { code })
  })

/** The authorization endpoint, GET or POST. */
export const authorize = (settings: Settings): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  OAuthError | OAuthStoreError,
  HttpServerRequest.HttpServerRequest
> =>
  Effect.gen(function*() {
    const params = yield* authorizationParams(yield* HttpServerRequest.HttpServerRequest)
    const clientId = yield* required(params, "client_id")
    const client = yield* clientForAuthorization(settings, clientId)
    if (Option.isNone(client)) return yield* Effect.fail(invalidRequest("the client is unknown"))
    const reply = yield* redirectUriOf(client.value, params)
    const checked = yield* Effect.either(checkRequest(settings, client.value, params))
    if (checked._tag === "Left") {
      return redirectTo(settings, reply, { error: checked.left.error, error_description: checked.left.description })
    }
    const request: AuthorizationRequest = {
      clientId: client.value.clientId,
      clientName: client.value.clientName,
      redirectUri: reply.redirectUri,
      scopes: checked.right.scopes,
      resource: checked.right.resource,
      state: Option.getOrUndefined(reply.state)
    }
    const decision = yield* settings.consent(request)
    switch (decision._tag) {
      case "Approve": {
        const scopes = decision.scopes ?? checked.right.scopes
        return yield* approve(settings, client.value, reply, { ...checked.right, scopes }, decision.subject)
      }
      case "Deny":
        return redirectTo(settings, reply, {
          error: "access_denied",
          error_description: decision.description ?? "the request was denied"
        })
      case "Respond":
        return decision.response
    }
  })
