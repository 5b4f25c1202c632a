/**
 * Signing in to protected MCP servers: the client side of the MCP
 * authorization spec. An `Authorization` for a server URL, given to
 * `StreamableHttpClient.connect` (or `LegacySseClient.connect`), attaches the
 * access token to every request; on a 401 it discovers the server's
 * authorization server (`WWW-Authenticate`, RFC 9728 protected resource
 * metadata, RFC 8414 / OpenID Connect metadata, or the 2025-03-26
 * fallbacks), registers the client (pre-registered, a client ID metadata
 * document, or RFC 7591), runs the grant (the authorization code flow with
 * PKCE by default), and sends the request again; it refreshes tokens, steps
 * up on a 403 `insufficient_scope`, and keeps what it got in a `TokenStore`.
 *
 * The pieces are open: the grant (`Grant`), how the client authenticates at
 * the token endpoint (`ClientAuthentication`), and how tokens are presented
 * (`TokenBinding`: Bearer by default).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OAuthClient, StreamableHttpClient } from "mcp-effect"
 *
 * const url = "http://127.0.0.1:3000/mcp"
 * const program = Effect.gen(function*() {
 *   const authorization = yield* OAuthClient.make(url, { clientName: "my-client" })
 *   const client = yield* StreamableHttpClient.connect(url, { http: { authorization } })
 *   return yield* client.listTools
 * }).pipe(
 *   Effect.scoped,
 *   // Follows the authorization URL without a browser: for servers that approve at once (tests).
 *   Effect.provide(OAuthClient.layerHeadlessAuthorization("http://127.0.0.1:8976/callback"))
 * )
 * ```
 *
 * @since 0.2.0
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import type { FileSystem } from "@effect/platform"
import { Context, Effect, Layer, Option } from "effect"
import * as AuthorizationCode from "./internal/oauth/client/authorizationCode.js"
import * as Endpoints from "./internal/oauth/client/endpoints.js"
import * as Flow from "./internal/oauth/client/flow.js"
import * as Model from "./internal/oauth/client/model.js"
import * as Stores from "./internal/oauth/client/store.js"

/**
 * Why signing in failed: `reason` names the step or the check that refused
 * (`ResourceMismatch`, `IssuerMismatch`, `InsufficientScope`…), and the
 * message says what was wrong, without tokens or secrets.
 *
 * @since 0.2.0
 * @category errors
 */
export const OAuthClientError: typeof Model.OAuthClientError = Model.OAuthClientError

/**
 * @since 0.2.0
 * @category errors
 */
export type OAuthClientError = Model.OAuthClientError

/**
 * RFC 9728 protected resource metadata (the fields the flow reads; others kept).
 *
 * @since 0.2.0
 * @category schemas
 */
export const ProtectedResourceMetadata = Model.ProtectedResourceMetadata

/**
 * @since 0.2.0
 * @category schemas
 */
export type ProtectedResourceMetadata = Model.ProtectedResourceMetadata

/**
 * RFC 8414 / OpenID Connect authorization server metadata (the fields the
 * flow reads; others kept, for extensions).
 *
 * @since 0.2.0
 * @category schemas
 */
export const AuthorizationServerMetadata = Model.AuthorizationServerMetadata

/**
 * @since 0.2.0
 * @category schemas
 */
export type AuthorizationServerMetadata = Model.AuthorizationServerMetadata

/**
 * A token endpoint's successful answer.
 *
 * @since 0.2.0
 * @category schemas
 */
export const TokenResponse = Model.TokenResponse

/**
 * @since 0.2.0
 * @category schemas
 */
export type TokenResponse = Model.TokenResponse

/**
 * The client as an authorization server knows it.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ClientInformation = Model.ClientInformation

/**
 * @since 0.2.0
 * @category schemas
 */
export type ClientInformation = Model.ClientInformation

/**
 * Tokens as kept: the expiry an instant in epoch milliseconds.
 *
 * @since 0.2.0
 * @category schemas
 */
export const StoredTokens = Model.StoredTokens

/**
 * @since 0.2.0
 * @category schemas
 */
export type StoredTokens = Model.StoredTokens

/**
 * What a `TokenStore` keeps for one protected resource: the issuer signed in
 * with (credentials are only good there), the client, the scope asked for,
 * and the tokens.
 *
 * @since 0.2.0
 * @category schemas
 */
export const StoredAuthorization = Model.StoredAuthorization

/**
 * @since 0.2.0
 * @category schemas
 */
export type StoredAuthorization = Model.StoredAuthorization

/**
 * What an authorization redirect carried back.
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthorizationResponse extends Model.AuthorizationResponse {}

/**
 * How a client obtains tokens. The default is the authorization code grant
 * (`authorizationCode`); others (client credentials, JWT bearer…) implement
 * `obtain` with `GrantContext.requestToken`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Grant extends Flow.Grant {}

/**
 * What a grant is given: the resource indicator, the chosen scope, the
 * authorization server's metadata, the client, and a token request function
 * that adds the client's authentication and the token binding.
 *
 * @since 0.2.0
 * @category models
 */
export interface GrantContext extends Flow.GrantContext {}

/**
 * How tokens are presented to the protected resource and how token requests
 * are prepared; `bearer` by default, DPoP binds them to a key.
 *
 * @since 0.2.0
 * @category models
 */
export interface TokenBinding extends Flow.TokenBinding {}

/**
 * A token endpoint authentication method; the flow picks the registered one,
 * else the first the client can use that the server lists in
 * `token_endpoint_auth_methods_supported`.
 *
 * @since 0.2.0
 * @category models
 */
export interface ClientAuthentication extends Endpoints.ClientAuthentication {}

/**
 * `client_secret_basic`: id and secret in an HTTP Basic header.
 *
 * @since 0.2.0
 * @category client authentication
 */
export const clientSecretBasic: ClientAuthentication = Endpoints.clientSecretBasic

/**
 * `client_secret_post`: id and secret in the request body.
 *
 * @since 0.2.0
 * @category client authentication
 */
export const clientSecretPost: ClientAuthentication = Endpoints.clientSecretPost

/**
 * `none`: a public client, its id in the body.
 *
 * @since 0.2.0
 * @category client authentication
 */
export const none: ClientAuthentication = Endpoints.none

/**
 * Bearer tokens (RFC 6750): `Authorization: Bearer <token>`.
 *
 * @since 0.2.0
 * @category token binding
 */
export const bearer: TokenBinding = {
  tokenRequest: Effect.succeed,
  resourceRequest: (request, tokens) => Effect.succeed(HttpClientRequest.bearerToken(request, tokens.accessToken))
}

/**
 * Where authorizations are kept, by the protected resource's canonical URI.
 *
 * @since 0.2.0
 * @category models
 */
export interface TokenStoreService extends Flow.Store {}

/**
 * An empty in-memory token store.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeMemoryTokenStore: () => TokenStoreService = Stores.memory

/**
 * A token store in a JSON file, written with mode 0600 (only its owner can
 * read it): for command-line clients that sign in once.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeFileTokenStore: (path: string) => Effect.Effect<TokenStoreService, never, FileSystem.FileSystem> =
  Stores.file

/**
 * The token store `make` keeps authorizations in: one in memory, shared by
 * the process, unless provided.
 *
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { OAuthClient } from "mcp-effect"
 *
 * const tokens = OAuthClient.layerFileTokenStore("/home/me/.config/my-client/tokens.json").pipe(
 *   Layer.provide(NodeFileSystem.layer)
 * )
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class TokenStore extends Context.Reference<TokenStore>()("mcp-effect/OAuthClient/TokenStore", {
  defaultValue: makeMemoryTokenStore
}) {}

/**
 * The token store in a file (see `makeFileTokenStore`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFileTokenStore = (path: string): Layer.Layer<TokenStore, never, FileSystem.FileSystem> =>
  Layer.effect(TokenStore, makeFileTokenStore(path))

/**
 * Takes the user through an authorization URL: opens it (a browser, say),
 * and returns the code, state and iss its redirect to `redirectUri` carried.
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthorizationHandlerService extends AuthorizationCode.Handler {}

/**
 * The authorization handler of the authorization code grant.
 *
 * @since 0.2.0
 * @category tags
 */
export class AuthorizationHandler extends Context.Tag("mcp-effect/OAuthClient/AuthorizationHandler")<
  AuthorizationHandler,
  AuthorizationHandlerService
>() {}

/**
 * Reads an authorization redirect URL: its code, state and iss, or the error
 * it carries instead.
 *
 * @since 0.2.0
 * @category combinators
 */
export const parseRedirect: (location: string) => Effect.Effect<AuthorizationResponse, OAuthClientError> =
  AuthorizationCode.parseRedirect

/**
 * An authorization handler that GETs the authorization URL without following
 * its redirect and reads `Location`: for authorization servers that approve
 * at once (tests, the conformance suite), never a user's.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeHeadlessAuthorization = (redirectUri: string): Effect.Effect<AuthorizationHandlerService> =>
  Effect.map(httpClient, (http) => ({
    redirectUri,
    authorize: (url) =>
      http.execute(HttpClientRequest.get(url)).pipe(
        Effect.provideService(FetchHttpClient.RequestInit, { redirect: "manual" }),
        Effect.mapError(() =>
          new OAuthClientError({ reason: "Authorization", message: "The authorization URL could not be fetched" })
        ),
        Effect.flatMap((response) => {
          const location = response.headers.location
          return location === undefined
            ? new OAuthClientError({
              reason: "Authorization",
              message: `The authorization endpoint answered HTTP ${response.status} without a redirect`
            })
            : AuthorizationCode.parseRedirect(new URL(location, url).href)
        }),
        Effect.scoped
      )
  }))

/**
 * The headless authorization handler (see `makeHeadlessAuthorization`).
 *
 * @since 0.2.0
 * @category layers
 */
export const layerHeadlessAuthorization = (redirectUri: string): Layer.Layer<AuthorizationHandler> =>
  Layer.effect(AuthorizationHandler, makeHeadlessAuthorization(redirectUri))

/**
 * The authorization code grant with PKCE S256, through the
 * `AuthorizationHandler`: it checks the redirect's `state` and (RFC 9207)
 * `iss`, and refuses an authorization server whose metadata does not list
 * S256.
 *
 * @since 0.2.0
 * @category grants
 */
export const authorizationCode: Effect.Effect<Grant, never, AuthorizationHandler> = Effect.map(
  AuthorizationHandler,
  AuthorizationCode.grant
)

/**
 * How a client signs in.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The `client_name` to register with. Default `"mcp-effect client"`. */
  readonly clientName?: string
  /** SEP-837 `application_type`: `"native"` (the default: it runs on the user's machine) or `"web"`. */
  readonly applicationType?: "native" | "web"
  /** An https URL of the client's ID metadata document, used as `client_id` where the server supports it. */
  readonly clientMetadataUrl?: string
  /** A pre-registered client id (and secret): no registration then. */
  readonly clientId?: string
  readonly clientSecret?: string
  /** The pre-registered client's token endpoint authentication method, when it has one. */
  readonly tokenEndpointAuthMethod?: string
  /** The scope to ask for when neither the challenge nor the resource's metadata names one. */
  readonly scope?: string
  /** Most re-authorizations on 403 `insufficient_scope` for one request. Default 2. */
  readonly maxStepUps?: number
  /** Token endpoint authentication methods, by preference. Default basic, post, none. */
  readonly clientAuthentications?: ReadonlyArray<ClientAuthentication>
  /** How tokens are presented. Default `bearer`. */
  readonly tokenBinding?: TokenBinding
}

/**
 * A client's authorization for one server URL: give it to a transport (its
 * `http.authorization` option), which then sends every request through
 * `wrap`. One authorization may serve many connections to the same server.
 *
 * @since 0.2.0
 * @category models
 */
export interface Authorization {
  readonly serverUrl: string
  /** `http` with the token on every request, and 401 and 403 handled by signing in (authorization server calls use the authorization's own client). */
  readonly wrap: (http: HttpClient.HttpClient) => HttpClient.HttpClient
  /**
   * Signs in now, unless tokens are held: ahead of connecting, so that a slow
   * sign-in (a user in a browser) does not count against the first request's
   * timeout. Without it, the first request's 401 signs in.
   */
  readonly signIn: Effect.Effect<void, OAuthClientError>
  /** The tokens it holds now, if any. */
  readonly tokens: Effect.Effect<Option.Option<StoredTokens>, OAuthClientError>
  /** Forgets the server's authorization, in the store too. */
  readonly signOut: Effect.Effect<void, OAuthClientError>
}

/** The `HttpClient` in context, else `fetch`. */
const httpClient: Effect.Effect<HttpClient.HttpClient> = Effect.flatMap(
  Effect.serviceOption(HttpClient.HttpClient),
  Option.match({
    onNone: () => Effect.provide(HttpClient.HttpClient, FetchHttpClient.layer),
    onSome: Effect.succeed
  })
)

/**
 * An authorization for `serverUrl` obtained with `grant` (any grant: see
 * `Grant`). Authorization server requests go through the `HttpClient` in
 * context, else `fetch`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeWithGrant = (serverUrl: string, grant: Grant, options: Options = {}): Effect.Effect<Authorization> =>
  Effect.gen(function*() {
    const authorizer = new Flow.Authorizer({
      serverUrl,
      grant,
      binding: options.tokenBinding ?? bearer,
      authentications: options.clientAuthentications ?? [clientSecretBasic, clientSecretPost, none],
      store: yield* TokenStore,
      clientName: options.clientName ?? "mcp-effect client",
      applicationType: options.applicationType ?? "native",
      clientMetadataUrl: options.clientMetadataUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      tokenEndpointAuthMethod: options.tokenEndpointAuthMethod,
      scope: options.scope,
      maxStepUps: options.maxStepUps ?? 2
    }, yield* httpClient)
    return {
      serverUrl,
      wrap: (http) => Flow.authorizingClient(authorizer, http),
      signIn: authorizer.signIn,
      tokens: Effect.map(authorizer.tokens, Option.fromNullable),
      signOut: authorizer.signOut
    }
  })

/**
 * An authorization for `serverUrl` with the authorization code grant through
 * the `AuthorizationHandler` (a browser and a loopback redirect listener:
 * `NodeOAuth.layerLoopbackAuthorization`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  serverUrl: string,
  options: Options = {}
): Effect.Effect<Authorization, never, AuthorizationHandler> =>
  Effect.flatMap(authorizationCode, (grant) => makeWithGrant(serverUrl, grant, options))
