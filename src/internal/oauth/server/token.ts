/**
 * The token endpoint (authorization_code with PKCE, refresh_token with
 * rotation), revocation (RFC 7009), introspection (RFC 7662), and access
 * tokens as JWTs (RFC 9068).
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import { errors, jwtVerify, SignJWT } from "jose"
import type { AccessTokenClaims } from "../../../OAuthProvider.js"
import { InvalidAccessToken } from "../../../OAuthProvider.js"
import type { Client, Grant, OAuthStoreError } from "../../../OAuthStore.js"
import { resourceFor } from "./authorize.js"
import { authenticate } from "./clients.js"
import {
  invalidClient,
  invalidGrant,
  invalidScope,
  invalidTarget,
  jsonResponse,
  NO_STORE,
  type OAuthError,
  unauthorizedClient,
  unsupportedGrantType
} from "./errors.js"
import { pkceMatches, randomToken, sha256 } from "./keys.js"
import { formParams, type Params, required, scopesOf } from "./params.js"
import type { Settings } from "./settings.js"

/** Signs an access token for the grant, records its `jti`, and rotates in a refresh token when the client may. */
const issueTokens = (settings: Settings, client: Client, grant: Grant, scopes: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const jti = randomToken()
    const iat = Math.floor(now / 1000)
    const expiresIn = Math.floor(settings.accessTokenMillis / 1000)
    const accessToken = yield* Effect.promise(() =>
      new SignJWT({ client_id: client.clientId, ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {}) })
        .setProtectedHeader({ alg: settings.key.alg, kid: settings.key.kid, typ: "at+jwt" })
        .setIssuer(settings.issuer)
        .setAudience(grant.resource)
        .setSubject(grant.subject)
        .setIssuedAt(iat)
        .setExpirationTime(iat + expiresIn)
        .setJti(jti)
        .sign(settings.key.privateKey)
    )
    yield* settings.store.saveAccessToken({
      jti,
      grantId: grant.id,
      clientId: client.clientId,
      revoked: false,
      expiresAt: now + settings.accessTokenMillis
    })
    let refreshToken: string | undefined
    if (client.grantTypes.includes("refresh_token")) {
      refreshToken = randomToken()
      yield* settings.store.saveRefreshToken({
        hash: yield* sha256(refreshToken),
        grantId: grant.id,
        clientId: client.clientId,
        expiresAt: now + settings.refreshTokenMillis
      })
    }
    return jsonResponse({
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: expiresIn,
      ...(scopes.length > 0 ? { scope: scopes.join(" ") } : {}),
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken })
    })
  })

/** The grant, unless it is gone or revoked. */
const liveGrant = (settings: Settings, id: string): Effect.Effect<Grant, OAuthError | OAuthStoreError> =>
  settings.store.getGrant(id).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(invalidGrant("the grant has expired")),
      onSome: (grant) => grant.revoked ? Effect.fail(invalidGrant("the grant has been revoked")) : Effect.succeed(grant)
    }))
  )

/** A `resource` on the token request must be the grant's (RFC 8707 §2.2: no widening). */
const checkResource = (settings: Settings, params: Params, grant: Grant) =>
  Option.isNone(params.get("resource")) ? Effect.void : Effect.flatMap(
    resourceFor(settings, params.get("resource")),
    (resource) =>
      resource === grant.resource ? Effect.void : Effect.fail(invalidTarget("resource differs from the authorized one"))
  )

const exchangeCode = (settings: Settings, client: Client, params: Params) =>
  Effect.gen(function*() {
    const code = yield* required(params, "code")
    const consumed = yield* settings.store.consumeCode(yield* sha256(code))
    if (Option.isNone(consumed) || consumed.value.record.clientId !== client.clientId) {
      return yield* Effect.fail(invalidGrant("the code is invalid"))
    }
    const { firstUse, record } = consumed.value
    if (!firstUse) {
      // A code used twice leaked: whatever was issued from it is revoked (OAuth 2.1 §4.1.3).
      yield* settings.store.revokeGrant(record.grantId)
      yield* Effect.logWarning("OAuthProvider: an authorization code was used twice; its grant is revoked").pipe(
        Effect.annotateLogs({ clientId: client.clientId })
      )
      return yield* Effect.fail(invalidGrant("the code was already used; the tokens issued from it are revoked"))
    }
    if ((yield* Clock.currentTimeMillis) > record.expiresAt) {
      return yield* Effect.fail(invalidGrant("the code has expired"))
    }
    const redirectUri = params.get("redirect_uri")
    if (
      (record.redirectUriGiven && Option.isNone(redirectUri)) ||
      (Option.isSome(redirectUri) && redirectUri.value !== record.redirectUri)
    ) {
      return yield* Effect.fail(invalidGrant("redirect_uri differs from the authorization request's"))
    }
    const verifier = yield* required(params, "code_verifier")
    if (!(yield* pkceMatches(verifier, record.codeChallenge))) {
      return yield* Effect.fail(invalidGrant("code_verifier does not match the code_challenge"))
    }
    const grant = yield* liveGrant(settings, record.grantId)
    yield* checkResource(settings, params, grant)
    return yield* issueTokens(settings, client, grant, grant.scopes)
  })

const refresh = (settings: Settings, client: Client, params: Params) =>
  Effect.gen(function*() {
    const hash = yield* sha256(yield* required(params, "refresh_token"))
    // Checked before it is used, so that another client presenting it cannot burn the owner's token.
    const known = yield* settings.store.getRefreshToken(hash)
    if (Option.isNone(known) || known.value.clientId !== client.clientId) {
      return yield* Effect.fail(invalidGrant("the refresh token is invalid"))
    }
    const consumed = yield* settings.store.consumeRefreshToken(hash)
    if (Option.isNone(consumed)) return yield* Effect.fail(invalidGrant("the refresh token is invalid"))
    const { firstUse, record } = consumed.value
    if (!firstUse) {
      // Rotation: a refresh token used twice leaked, so its whole family is revoked (OAuth 2.1 §4.3.1).
      yield* settings.store.revokeGrant(record.grantId)
      yield* Effect.logWarning("OAuthProvider: a refresh token was used twice; its grant is revoked").pipe(
        Effect.annotateLogs({ clientId: client.clientId })
      )
      return yield* Effect.fail(invalidGrant("the refresh token was already used; its grant is revoked"))
    }
    const now = yield* Clock.currentTimeMillis
    if (now > record.expiresAt) return yield* Effect.fail(invalidGrant("the refresh token has expired"))
    const grant = yield* liveGrant(settings, record.grantId)
    yield* checkResource(settings, params, grant)
    const asked = scopesOf(params.get("scope"))
    const wider = asked.find((scope) => !grant.scopes.includes(scope))
    if (wider !== undefined) return yield* Effect.fail(invalidScope(`the scope ${wider} was not granted`))
    const extended = { ...grant, expiresAt: now + Math.max(settings.refreshTokenMillis, settings.accessTokenMillis) }
    yield* settings.store.saveGrant(extended)
    return yield* issueTokens(settings, client, extended, asked.length > 0 ? asked : grant.scopes)
  })

/** The token endpoint. */
export const token = (settings: Settings) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* formParams(request)
    const client = yield* authenticate(settings, request, params)
    const grantType = yield* required(params, "grant_type")
    if (grantType !== "authorization_code" && grantType !== "refresh_token") {
      return yield* Effect.fail(unsupportedGrantType("grant_type must be authorization_code or refresh_token"))
    }
    if (!client.grantTypes.includes(grantType)) {
      return yield* Effect.fail(unauthorizedClient(`the client is not registered for ${grantType}`))
    }
    return yield* grantType === "authorization_code" ?
      exchangeCode(settings, client, params) :
      refresh(settings, client, params)
  })

/** Why jose refused a token, in words a client may read (jose's own can quote claims). */
const refusalOf = (error: unknown): InvalidAccessToken => {
  if (error instanceof errors.JWTExpired) return new InvalidAccessToken({ reason: "the token has expired" })
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") {
    return new InvalidAccessToken({ reason: "the token was not issued for this resource" })
  }
  return new InvalidAccessToken({ reason: "the token is not one this server issued, or is malformed" })
}

/** Verifies an access token this provider issued: signature, issuer, expiry, audience, and that it is not revoked. */
export const verifyAccessToken = (
  settings: Settings,
  accessToken: string,
  resource: Option.Option<string>
): Effect.Effect<AccessTokenClaims, InvalidAccessToken | OAuthStoreError> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const { payload } = yield* Effect.tryPromise({
      try: () =>
        jwtVerify(accessToken, settings.publicKey, {
          issuer: settings.issuer,
          algorithms: [settings.key.alg],
          typ: "at+jwt",
          currentDate: new Date(now),
          requiredClaims: ["sub", "aud", "exp", "iat", "jti", "client_id"],
          ...(Option.isSome(resource) ? { audience: resource.value } : {})
        }),
      catch: refusalOf
    })
    const jti = typeof payload.jti === "string" ? payload.jti : ""
    const record = yield* settings.store.getAccessToken(jti)
    const revoked = Option.isNone(record) || record.value.revoked ||
      Option.match(yield* settings.store.getGrant(record.value.grantId), {
        onNone: () => true,
        onSome: (grant) => grant.revoked
      })
    if (revoked) return yield* Effect.fail(new InvalidAccessToken({ reason: "the token has been revoked" }))
    return {
      issuer: settings.issuer,
      subject: String(payload.sub),
      audience: typeof payload.aud === "string" ? payload.aud : (payload.aud ?? []).join(" "),
      clientId: String(payload.client_id),
      scopes: typeof payload.scope === "string" ? payload.scope.split(" ") : [],
      expiresAt: Number(payload.exp),
      issuedAt: Number(payload.iat),
      jti
    }
  })

/** The claims of a live access token, or none for any token that is not one. */
const activeClaims = (settings: Settings, value: string) =>
  Effect.asSome(verifyAccessToken(settings, value, Option.none())).pipe(
    Effect.catchTag("InvalidAccessToken", () => Effect.succeedNone)
  )

/** Revocation (RFC 7009): a refresh token revokes its whole grant; an access token itself. Always 200. */
export const revoke = (settings: Settings) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* formParams(request)
    const client = yield* authenticate(settings, request, params)
    const value = yield* required(params, "token")
    const refreshToken = yield* settings.store.getRefreshToken(yield* sha256(value))
    if (Option.isSome(refreshToken)) {
      if (refreshToken.value.clientId === client.clientId) yield* settings.store.revokeGrant(refreshToken.value.grantId)
    } else {
      const claims = yield* activeClaims(settings, value)
      if (Option.isSome(claims) && claims.value.clientId === client.clientId) {
        yield* settings.store.revokeAccessToken(claims.value.jti)
      }
    }
    // RFC 7009 §2.2: an unknown or already invalid token is answered 200 too, so nothing is learned from the reply.
    return HttpServerResponse.empty({ status: 200, headers: NO_STORE })
  })

/** Introspection (RFC 7662), for confidential clients (resource servers). */
export const introspect = (settings: Settings) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* formParams(request)
    const client = yield* authenticate(settings, request, params)
    if (client.tokenEndpointAuthMethod === "none") {
      return yield* Effect.fail(invalidClient("introspection is for confidential clients", false))
    }
    const value = yield* required(params, "token")
    const claims = yield* activeClaims(settings, value)
    return Option.match(claims, {
      onNone: () => jsonResponse({ active: false }),
      onSome: (c) =>
        jsonResponse({
          active: true,
          token_type: "Bearer",
          iss: c.issuer,
          sub: c.subject,
          aud: c.audience,
          client_id: c.clientId,
          scope: c.scopes.join(" "),
          exp: c.expiresAt,
          iat: c.issuedAt,
          jti: c.jti
        })
    })
  })
