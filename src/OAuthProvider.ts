/**
 * An OAuth 2.1 authorization server for MCP, as `HttpRouter` routes to serve
 * beside the MCP endpoint or on their own:
 *
 * - metadata (RFC 8414) at `/.well-known/oauth-authorization-server` (and the
 *   same document at `/.well-known/openid-configuration`), the JWKS at `/jwks`;
 * - `/authorize`: the authorization code flow with PKCE S256 only, exact
 *   redirect URI matching, `state` echoed, `iss` in the response (RFC 9207),
 *   `resource` (RFC 8707), and a consent hook that is yours;
 * - `/token`: `authorization_code` (single-use codes; a reused code revokes
 *   what was issued from it) and `refresh_token` (rotated; a reused refresh
 *   token revokes its family), with `client_secret_basic`,
 *   `client_secret_post` or `none` (public clients);
 * - `/register` (RFC 7591), client ID metadata documents (a `client_id` that
 *   is an https URL), `/revoke` (RFC 7009), `/introspect` (RFC 7662).
 *
 * Access tokens are JWTs (RFC 9068) whose `aud` is the requested resource,
 * signed with your key (a generated one in development). State lives in an
 * `OAuthStore`; time is Effect's `Clock`.
 *
 * In front of an MCP server of the same program, {@link layerProtectedResource}
 * makes the server a `ProtectedResource` of the provider: its tokens are
 * verified in process ({@link verifier}, revocation included), handlers see
 * the principal, and tools can ask for scopes.
 *
 * @example
 * ```ts
 * import { FetchHttpClient, HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { OAuthProvider, OAuthStore } from "mcp-effect"
 *
 * // Served with a platform HttpServer layer (NodeHttpServer.layer) by the program's entry point.
 * const AuthServer = Layer.scopedDiscard(Effect.gen(function*() {
 *   const provider = yield* OAuthProvider.make({
 *     issuer: "http://localhost:3000",
 *     resources: ["http://localhost:3000/mcp"],
 *     consent: () => Effect.succeed(OAuthProvider.ConsentDecision.Approve({ subject: "alice" }))
 *   })
 *   yield* HttpServer.serveEffect(
 *     provider.router.pipe(HttpRouter.get("/health", HttpServerResponse.text("ok")))
 *   )
 * })).pipe(Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer]))
 * ```
 *
 * @since 0.2.0
 */
import { HttpClient, HttpMiddleware, HttpRouter, HttpServerResponse } from "@effect/platform"
import type { HttpApp, HttpServerRequest } from "@effect/platform"
import { Context, Data, Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import type { JWK } from "jose"
import { importJWK } from "jose"
import { authorize } from "./internal/oauth/server/authorize.js"
import { register } from "./internal/oauth/server/clients.js"
import { invalidClientMetadata, jsonResponse, type OAuthError, respond } from "./internal/oauth/server/errors.js"
import { generatePrivateJwk, importSigningKey, sha256 } from "./internal/oauth/server/keys.js"
import type { Endpoints, Settings } from "./internal/oauth/server/settings.js"
import { introspect, revoke, token, verifyAccessToken } from "./internal/oauth/server/token.js"
import { OAuthStore } from "./OAuthStore.js"
import type { OAuthStoreError, TokenEndpointAuthMethod } from "./OAuthStore.js"
import * as ProtectedResource from "./ProtectedResource.js"
import * as TokenVerifier from "./TokenVerifier.js"
import type { AuthInfo } from "./Transport.js"

/**
 * An authorization request that passed every check, put to the consent hook.
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthorizationRequest {
  readonly clientId: string
  readonly clientName?: string | undefined
  readonly redirectUri: string
  /** The scopes asked for (or the defaults), each allowed to the client. */
  readonly scopes: ReadonlyArray<string>
  /** The resource the token will be for (its `aud`). */
  readonly resource: string
  readonly state?: string | undefined
}

/**
 * What the consent hook decides: approve (as `subject`, with the requested
 * scopes or the ones given), deny (`access_denied` is sent to the client), or
 * answer with a response of its own (a login or consent page).
 *
 * @since 0.2.0
 * @category models
 */
export type ConsentDecision = Data.TaggedEnum<{
  Approve: { readonly subject: string; readonly scopes?: ReadonlyArray<string> | undefined }
  Deny: { readonly description?: string | undefined }
  Respond: { readonly response: HttpServerResponse.HttpServerResponse }
}>

/**
 * Constructors of {@link ConsentDecision}.
 *
 * @since 0.2.0
 * @category constructors
 */
export const ConsentDecision = Data.taggedEnum<ConsentDecision>()

/**
 * A client registered by the operator.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientRegistration {
  readonly clientId: string
  /** Its secret: a confidential client. Without one, a public client (PKCE only). */
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  readonly redirectUris: ReadonlyArray<string>
  /** The scopes it may be granted. Default: any the provider supports. */
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly clientName?: string | undefined
}

/**
 * Options of {@link make}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * The issuer identifier: an http(s) URL without query or fragment. The
   * endpoints are served under its path, the metadata at
   * `/.well-known/oauth-authorization-server` followed by that path.
   */
  readonly issuer: string
  /**
   * Decides each authorization request. It runs inside the request, so it may
   * read `HttpServerRequest` (cookies, a submitted form: `/authorize` also
   * accepts POST with the same parameters). Services it needs are captured
   * where the options are built (`const users = yield* Users`).
   */
  readonly consent: (
    request: AuthorizationRequest
  ) => Effect.Effect<ConsentDecision, never, HttpServerRequest.HttpServerRequest>
  /**
   * A private JWK (JSON) that signs access tokens, with `alg` (or the default
   * of its key type: ES256, RS256, EdDSA). Without one a key is generated,
   * with a warning: tokens do not survive a restart.
   */
  readonly signingKey?: Redacted.Redacted<string> | undefined
  /** Clients to register at start. */
  readonly clients?: ReadonlyArray<ClientRegistration> | undefined
  /** The resources tokens may be for; the first is the default. Default: any, and requests must name one. */
  readonly resources?: ReadonlyArray<string> | undefined
  /** The scopes clients may ask for (`scopes_supported`). Default: any. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** The scopes granted when a request asks for none. Default: none. */
  readonly defaultScopes?: ReadonlyArray<string> | undefined
  /**
   * How clients may authenticate at the token endpoint (and the metadata says
   * so). Default all three: `client_secret_basic`, `client_secret_post`, `none`.
   */
  readonly tokenEndpointAuthMethods?: ReadonlyArray<TokenEndpointAuthMethod> | undefined
  /** Serve `/register` (RFC 7591). Default true. */
  readonly dynamicRegistration?: boolean | undefined
  /** Accept client ID metadata documents (a `client_id` that is an https URL). Default true. */
  readonly clientIdMetadataDocuments?: boolean | undefined
  /** Also accept `http://localhost` (and 127.0.0.1, [::1]) client ID URLs: for tests only. Default false. */
  readonly allowHttpLoopbackClientIds?: boolean | undefined
  /** Default 1 hour. */
  readonly accessTokenLifetime?: Duration.DurationInput | undefined
  /** Default 30 days; each refresh issues a new one. */
  readonly refreshTokenLifetime?: Duration.DurationInput | undefined
  /** Default 1 minute. */
  readonly codeLifetime?: Duration.DurationInput | undefined
}

/**
 * The claims of a verified access token.
 *
 * @since 0.2.0
 * @category models
 */
export interface AccessTokenClaims {
  readonly issuer: string
  readonly subject: string
  /** The resource the token is for. */
  readonly audience: string
  readonly clientId: string
  readonly scopes: ReadonlyArray<string>
  /** Epoch seconds. */
  readonly expiresAt: number
  /** Epoch seconds. */
  readonly issuedAt: number
  readonly jti: string
}

/**
 * An access token did not verify: its reason says why, never what it held.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidAccessToken extends Schema.TaggedError<InvalidAccessToken>()("InvalidAccessToken", {
  reason: Schema.String
}) {
  override get message() {
    return `Invalid access token: ${this.reason}`
  }
}

/**
 * The provider's options cannot be used (a bad issuer, signing key or client).
 *
 * @since 0.2.0
 * @category errors
 */
export class OAuthProviderError extends Schema.TaggedError<OAuthProviderError>()("OAuthProviderError", {
  reason: Schema.String
}) {
  override get message() {
    return `OAuth provider: ${this.reason}`
  }
}

/**
 * A running authorization server.
 *
 * @since 0.2.0
 * @category models
 */
export interface Provider {
  readonly issuer: string
  /** The authorization server metadata (RFC 8414). */
  readonly metadata: Readonly<Record<string, unknown>>
  /** The public keys access tokens verify against. */
  readonly jwks: { readonly keys: ReadonlyArray<JWK> }
  /** The resources tokens may be for (the `resources` option); undefined: any. */
  readonly resources?: ReadonlyArray<string> | undefined
  /** Every endpoint, at the paths the metadata names. */
  readonly router: HttpRouter.HttpRouter
  /**
   * Verifies an access token this provider issued (signature, issuer, expiry,
   * revocation), and that it is for `resource` when given.
   */
  readonly verifyAccessToken: (
    token: string,
    resource?: string
  ) => Effect.Effect<AccessTokenClaims, InvalidAccessToken | OAuthStoreError>
  /** Registers (or replaces) a client. */
  readonly registerClient: (client: ClientRegistration) => Effect.Effect<void, OAuthProviderError | OAuthStoreError>
}

/**
 * The provider of {@link layer}.
 *
 * @since 0.2.0
 * @category tags
 */
export class OAuthProvider extends Context.Tag("mcp-effect/OAuthProvider")<OAuthProvider, Provider>() {}

/**
 * A fresh ES256 private key as a JWK (JSON), for `signingKey`: generate it
 * once, keep it as a secret, and pass it with `Config.redacted`.
 *
 * @example
 * ```ts
 * import { Effect, Redacted } from "effect"
 * import { OAuthProvider } from "mcp-effect"
 *
 * const printKey = Effect.map(OAuthProvider.generateSigningKey, Redacted.value)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const generateSigningKey: Effect.Effect<Redacted.Redacted<string>> = Effect.map(
  generatePrivateJwk,
  (jwk) => Redacted.make(JSON.stringify(jwk))
)

/** The issuer without a trailing slash, and the path its endpoints live under. */
const parseIssuer = (issuer: string): Effect.Effect<{ issuer: string; path: string }, OAuthProviderError> => {
  const fail = (reason: string) => Effect.fail(new OAuthProviderError({ reason }))
  if (!URL.canParse(issuer)) return fail("issuer is not a URL")
  const url = new URL(issuer)
  if (url.protocol !== "https:" && url.protocol !== "http:") return fail("issuer must be an http(s) URL")
  if (url.search !== "" || url.hash !== "" || issuer.includes("?") || issuer.includes("#")) {
    return fail("issuer must have no query or fragment")
  }
  const trimmed = issuer.replace(/\/+$/, "")
  return Effect.succeed({ issuer: trimmed, path: url.pathname.replace(/\/+$/, "") })
}

const optionalString = Schema.optionalWith(Schema.String, { exact: true })

/** The members of a private JWK that signing keys use. */
const Jwk = Schema.Struct({
  kty: Schema.String,
  alg: optionalString,
  kid: optionalString,
  crv: optionalString,
  x: optionalString,
  y: optionalString,
  n: optionalString,
  e: optionalString,
  d: optionalString,
  p: optionalString,
  q: optionalString,
  dp: optionalString,
  dq: optionalString,
  qi: optionalString
})

/** The signing key from the options, or a generated one (with a warning: tokens die with the process). */
const signingKeyOf = (signingKey: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function*() {
    let jwk: JWK
    if (signingKey === undefined) {
      yield* Effect.logWarning(
        "OAuthProvider: no signingKey given, so a key was generated: access tokens will not verify after a restart"
      )
      jwk = yield* generatePrivateJwk
    } else {
      jwk = yield* Schema.decodeUnknown(Schema.parseJson(Jwk))(Redacted.value(signingKey)).pipe(
        // The parse error would quote the key: only what is wrong is said.
        Effect.mapError(() => new OAuthProviderError({ reason: "signingKey is not a JSON Web Key" }))
      )
    }
    const key = yield* Effect.mapError(importSigningKey(jwk), (reason) => new OAuthProviderError({ reason }))
    const publicKey = yield* Effect.tryPromise({
      try: () => importJWK(key.publicJwk, key.alg),
      catch: () => new OAuthProviderError({ reason: "the signing key's public half cannot be imported" })
    })
    if (publicKey instanceof Uint8Array) {
      return yield* Effect.fail(new OAuthProviderError({ reason: "the signing key is a symmetric key" }))
    }
    return { key, publicKey }
  })

const ALL_METHODS: ReadonlyArray<TokenEndpointAuthMethod> = ["client_secret_basic", "client_secret_post", "none"]

/** RFC 8414 metadata for the settings. */
const metadataOf = (settings: Settings): Record<string, unknown> => {
  const confidential = settings.authMethods.filter((method) => method !== "none")
  return {
    issuer: settings.issuer,
    authorization_endpoint: settings.endpoints.authorization,
    token_endpoint: settings.endpoints.token,
    jwks_uri: settings.endpoints.jwks,
    ...(settings.dynamicRegistration ? { registration_endpoint: settings.endpoints.registration } : {}),
    revocation_endpoint: settings.endpoints.revocation,
    introspection_endpoint: settings.endpoints.introspection,
    ...(settings.scopes === undefined ? {} : { scopes_supported: settings.scopes }),
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    token_endpoint_auth_methods_supported: settings.authMethods,
    revocation_endpoint_auth_methods_supported: settings.authMethods,
    introspection_endpoint_auth_methods_supported: confidential,
    code_challenge_methods_supported: ["S256"],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: settings.clientIdMetadataDocuments
  }
}

/** Registers one client of the options (its secret stored as a digest). */
const registerWith = (settings: Settings) => (registration: ClientRegistration) =>
  Effect.gen(function*() {
    for (const uri of registration.redirectUris) {
      if (!URL.canParse(uri) || uri.includes("#")) {
        return yield* Effect.fail(
          new OAuthProviderError({ reason: `client ${registration.clientId} has a redirect URI that is not absolute` })
        )
      }
    }
    const secret = registration.clientSecret
    yield* settings.store.saveClient({
      clientId: registration.clientId,
      secretHash: secret === undefined ? undefined : yield* sha256(Redacted.value(secret)),
      redirectUris: registration.redirectUris,
      tokenEndpointAuthMethod: secret === undefined ? "none" : "client_secret_basic",
      grantTypes: ["authorization_code", "refresh_token"],
      scopes: registration.scopes,
      clientName: registration.clientName,
      issuedAt: 0
    })
  })

/** A path for the router (an endpoint URL's path, or a path). */
const at = (pathOrUrl: string): HttpRouter.PathInput => {
  const path = URL.canParse(pathOrUrl) ? new URL(pathOrUrl).pathname : pathOrUrl
  return `/${path.replace(/^\//, "")}`
}

/**
 * Browser-based clients read the metadata and JWKS and call the token, registration and revocation endpoints from
 * another origin (without cookies); `/authorize` is a navigation and gets no CORS headers.
 */
const cors = HttpMiddleware.cors({ allowedMethods: ["GET", "POST"], allowedHeaders: ["authorization", "content-type"] })

/** An endpoint's handler, its OAuth errors answered as such, in a span of its own. */
const traced = <R>(
  name: string,
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, OAuthError | OAuthStoreError, R>
) => respond(handler).pipe(Effect.withSpan(`OAuthProvider.${name}`))

/** Every endpoint at its path. */
const routerOf = (settings: Settings, path: string, metadata: Record<string, unknown>, jwks: unknown) => {
  const metadataResponse = Effect.succeed(jsonResponse(metadata))
  const registration = settings.dynamicRegistration ?
    register(settings) :
    Effect.fail(invalidClientMetadata("dynamic client registration is off"))
  const shared: ReadonlyArray<readonly [method: "GET" | "POST", path: string, HttpApp.Default]> = [
    ["GET", `/.well-known/oauth-authorization-server${path}`, metadataResponse],
    ["GET", `/.well-known/openid-configuration${path}`, metadataResponse],
    ...(path === "" ? [] : [["GET", `${path}/.well-known/openid-configuration`, metadataResponse] as const]),
    ["GET", settings.endpoints.jwks, Effect.succeed(HttpServerResponse.unsafeJson(jwks))],
    ["POST", settings.endpoints.token, traced("token", token(settings))],
    ["POST", settings.endpoints.registration, traced("registration", registration)],
    ["POST", settings.endpoints.revocation, traced("revoke", revoke(settings))],
    ["POST", settings.endpoints.introspection, traced("introspect", introspect(settings))]
  ]
  let router = HttpRouter.empty.pipe(
    HttpRouter.get(at(settings.endpoints.authorization), traced("authorize", authorize(settings))),
    HttpRouter.post(at(settings.endpoints.authorization), traced("authorize", authorize(settings)))
  )
  for (const [method, route, handler] of shared) {
    router = HttpRouter.route(method)(router, at(route), cors(handler))
    // The preflight, which the middleware answers.
    router = HttpRouter.options(router, at(route), cors(Effect.succeed(HttpServerResponse.empty())))
  }
  return router
}

/**
 * Builds an authorization server: registers the clients of the options, and
 * returns its routes, metadata, JWKS, and a verifier of its access tokens.
 *
 * @example
 * ```ts
 * import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 * import { OAuthProvider } from "mcp-effect"
 *
 * // A consent page on GET; the form posts the same parameters back to /authorize with the user's answer.
 * const provider = OAuthProvider.make({
 *   issuer: "https://auth.example.com",
 *   consent: (request) =>
 *     Effect.gen(function*() {
 *       const http = yield* HttpServerRequest.HttpServerRequest
 *       if (http.method === "GET") {
 *         return OAuthProvider.ConsentDecision.Respond({
 *           response: HttpServerResponse.html(`<p>Allow ${request.clientName ?? request.clientId}?</p>`)
 *         })
 *       }
 *       const answer = new URLSearchParams(yield* Effect.orDie(http.text)).get("answer")
 *       return answer === "allow"
 *         ? OAuthProvider.ConsentDecision.Approve({ subject: "alice" })
 *         : OAuthProvider.ConsentDecision.Deny({ description: "the user declined" })
 *     })
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = Effect.fn("OAuthProvider.make")(function*(options: Options) {
  const { issuer, path } = yield* parseIssuer(options.issuer)
  const badResource = options.resources?.find((resource) => !URL.canParse(resource) || resource.includes("#"))
  if (badResource !== undefined) {
    return yield* new OAuthProviderError({ reason: `resource ${badResource} is not an absolute URI without fragment` })
  }
  const { key, publicKey } = yield* signingKeyOf(options.signingKey)
  const endpoints: Endpoints = {
    authorization: `${issuer}/authorize`,
    token: `${issuer}/token`,
    registration: `${issuer}/register`,
    revocation: `${issuer}/revoke`,
    introspection: `${issuer}/introspect`,
    jwks: `${issuer}/jwks`
  }
  const settings: Settings = {
    issuer,
    endpoints,
    store: yield* OAuthStore,
    key,
    publicKey,
    http: yield* HttpClient.HttpClient,
    scopes: options.scopes,
    defaultScopes: options.defaultScopes ?? [],
    resources: options.resources,
    authMethods: options.tokenEndpointAuthMethods ?? ALL_METHODS,
    dynamicRegistration: options.dynamicRegistration ?? true,
    clientIdMetadataDocuments: options.clientIdMetadataDocuments ?? true,
    allowHttpLoopbackClientIds: options.allowHttpLoopbackClientIds ?? false,
    accessTokenMillis: Duration.toMillis(options.accessTokenLifetime ?? Duration.hours(1)),
    refreshTokenMillis: Duration.toMillis(options.refreshTokenLifetime ?? Duration.days(30)),
    codeMillis: Duration.toMillis(options.codeLifetime ?? Duration.minutes(1)),
    consent: options.consent
  }
  const registerClient = registerWith(settings)
  for (const client of options.clients ?? []) yield* registerClient(client)
  const metadata = metadataOf(settings)
  const jwks = { keys: [key.publicJwk] }
  const provider: Provider = {
    issuer,
    metadata,
    jwks,
    resources: options.resources,
    router: routerOf(settings, path, metadata, jwks),
    verifyAccessToken: (accessToken, resource) =>
      verifyAccessToken(settings, accessToken, Option.fromNullable(resource)),
    registerClient
  }
  return provider
})

/**
 * The provider as a layer.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { OAuthProvider, OAuthStore } from "mcp-effect"
 *
 * const ProviderLive = OAuthProvider.layer({
 *   issuer: "https://auth.example.com",
 *   consent: () => Effect.succeed(OAuthProvider.ConsentDecision.Deny({}))
 * }).pipe(Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer]))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<OAuthProvider, OAuthProviderError | OAuthStoreError, OAuthStore | HttpClient.HttpClient> =>
  Layer.effect(OAuthProvider, make(options))

/**
 * Adds the routes of the `OAuthProvider` in context to a router declared with
 * `HttpRouter.Tag`, beside its other routes (the MCP endpoint's, say).
 *
 * @example
 * ```ts
 * import { FetchHttpClient, HttpRouter } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { OAuthProvider, OAuthStore } from "mcp-effect"
 *
 * const Auth = OAuthProvider.layerRouter(HttpRouter.Default).pipe(
 *   Layer.provide(OAuthProvider.layer({
 *     issuer: "https://auth.example.com",
 *     consent: () => Effect.succeed(OAuthProvider.ConsentDecision.Deny({}))
 *   })),
 *   Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer])
 * )
 * // Served by HttpRouter.Default.serve(), with the program's other routes.
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRouter = <Self, Name extends string, E, R>(
  router: HttpRouter.HttpRouter.TagClass<Self, Name, E, R>
): Layer.Layer<never, never, OAuthProvider | Self> =>
  router.use((routes) => Effect.flatMap(OAuthProvider, (provider) => routes.concat(provider.router)))

/** The claims of a verified token as the JWT carried them, for `AuthInfo.claims`. */
const jwtClaimsOf = (claims: AccessTokenClaims): Record<string, unknown> => ({
  iss: claims.issuer,
  sub: claims.subject,
  aud: claims.audience,
  client_id: claims.clientId,
  ...(claims.scopes.length > 0 ? { scope: claims.scopes.join(" ") } : {}),
  exp: claims.expiresAt,
  iat: claims.issuedAt,
  jti: claims.jti
})

/**
 * The provider as the `TokenVerifier` of a `ProtectedResource` served by the
 * same program: a token must be one this provider issued for `resource`
 * (its `aud`: audience binding, RFC 8707), unexpired and not revoked — which
 * a JWKS check elsewhere could not see. The principal is the token's
 * subject, client and scopes, with its claims and expiry. A token that fails
 * is refused with 401 `invalid_token`; a store that fails, with 503 (logged
 * here, never told to the client).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { OAuthProvider, ProtectedResource, TokenVerifier } from "mcp-effect"
 *
 * const resource = "https://mcp.example.com/mcp"
 *
 * // The verifier of a provider made in the same program, for a protected resource built by hand.
 * const AuthLive = Layer.unwrapEffect(Effect.map(OAuthProvider.OAuthProvider, (provider) =>
 *   ProtectedResource.layer({ resource, authorizationServers: [provider.issuer] }).pipe(
 *     Layer.provide(Layer.succeed(TokenVerifier.TokenVerifier, OAuthProvider.verifier(provider, resource)))
 *   )))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const verifier = (provider: Provider, resource: string): TokenVerifier.Service =>
  TokenVerifier.make((token) =>
    provider.verifyAccessToken(token, resource).pipe(
      Effect.map((claims): AuthInfo => ({
        subject: claims.subject,
        clientId: claims.clientId,
        scopes: claims.scopes,
        claims: jwtClaimsOf(claims),
        expiresAt: claims.expiresAt
      })),
      Effect.catchTags({
        InvalidAccessToken: (error) => Effect.fail(new TokenVerifier.InvalidToken({ message: error.message })),
        OAuthStoreError: (error) =>
          Effect.zipRight(
            Effect.logError("OAuthProvider: the store failed while an access token was verified", error),
            Effect.fail(new TokenVerifier.VerifierUnavailable({ message: "The token store is unavailable" }))
          )
      }),
      Effect.withSpan("OAuthProvider.verifier")
    )
  )

/**
 * {@link verifier} for the `OAuthProvider` in context, as a layer.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { OAuthProvider, ProtectedResource } from "mcp-effect"
 *
 * const AuthLive = ProtectedResource.layer({
 *   resource: "https://mcp.example.com/mcp",
 *   authorizationServers: ["https://mcp.example.com"]
 * }).pipe(Layer.provide(OAuthProvider.layerVerifier("https://mcp.example.com/mcp")))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerVerifier = (resource: string): Layer.Layer<TokenVerifier.TokenVerifier, never, OAuthProvider> =>
  Layer.effect(TokenVerifier.TokenVerifier, Effect.map(OAuthProvider, (provider) => verifier(provider, resource)))

/**
 * Options of {@link layerProtectedResource}: those of a protected resource,
 * whose authorization server and scopes default to the provider's.
 *
 * @since 0.2.0
 * @category models
 */
export interface ProtectedResourceOptions extends Omit<ProtectedResource.Options, "authorizationServers"> {
  /** Default: the provider's issuer alone. */
  readonly authorizationServers?: ReadonlyArray<string> | undefined
}

/** The provider's `scopes_supported`, when it names any. */
const scopesOfMetadata = (provider: Provider): ReadonlyArray<string> | undefined => {
  const scopes = provider.metadata.scopes_supported
  return Array.isArray(scopes) ? scopes.filter((scope): scope is string => typeof scope === "string") : undefined
}

/**
 * The MCP server as a protected resource of the `OAuthProvider` in context:
 * `ProtectedResource.layer` with {@link verifier} for `resource`, its
 * metadata naming the provider as the authorization server and listing the
 * provider's scopes (unless the options say otherwise). Provide it where the
 * MCP endpoint is made, beside the provider's routes: the metadata is then
 * served at its well-known paths, handlers see `RequestContext.auth`, and
 * tools can ask for scopes. A `resource` the provider does not issue tokens
 * for (not one of its `resources`) is a defect: configuration, not input.
 *
 * @example
 * ```ts
 * import { FetchHttpClient, HttpRouter } from "@effect/platform"
 * import { Effect, Layer } from "effect"
 * import { McpServer, OAuthProvider, OAuthStore, StreamableHttp } from "mcp-effect"
 *
 * const issuer = "https://mcp.example.com"
 * const ServerLive = McpServer.layer({ name: "notes", version: "1.0.0" })
 *
 * const ProviderLive = OAuthProvider.layer({
 *   issuer,
 *   resources: [`${issuer}/mcp`],
 *   scopes: ["notes:read", "notes:write"],
 *   consent: () => Effect.succeed(OAuthProvider.ConsentDecision.Approve({ subject: "alice" }))
 * }).pipe(Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer]))
 *
 * // The provider's endpoints and the protected MCP endpoint (with its metadata), on one router.
 * const Routes = Layer.mergeAll(
 *   OAuthProvider.layerRouter(HttpRouter.Default),
 *   StreamableHttp.layer("/mcp").pipe(
 *     Layer.provide(ServerLive),
 *     Layer.provide(OAuthProvider.layerProtectedResource({ resource: `${issuer}/mcp` }))
 *   )
 * ).pipe(Layer.provide(ProviderLive))
 * // Served by HttpRouter.Default.serve().
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerProtectedResource = (
  options: ProtectedResourceOptions
): Layer.Layer<ProtectedResource.ProtectedResource, never, OAuthProvider> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const provider = yield* OAuthProvider
    if (provider.resources !== undefined && !provider.resources.includes(options.resource)) {
      // Configuration, not input: every token would be refused as issued for another resource.
      return yield* Effect.dieMessage(
        `OAuthProvider.layerProtectedResource: ${options.resource} is not one of the provider's resources`
      )
    }
    const scopesSupported = options.scopesSupported ?? scopesOfMetadata(provider)
    return ProtectedResource.layer({
      ...options,
      authorizationServers: options.authorizationServers ?? [provider.issuer],
      ...(scopesSupported === undefined ? {} : { scopesSupported })
    }).pipe(Layer.provide(Layer.succeed(TokenVerifier.TokenVerifier, verifier(provider, options.resource))))
  }))
