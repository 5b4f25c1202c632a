/**
 * Checks the access tokens a protected server receives: a `TokenVerifier`
 * turns the token of an `Authorization: Bearer` header into the principal
 * (`AuthInfo`) that handlers read as `RequestContext.auth`, or refuses it.
 *
 * Two verifiers are ready: {@link layerJwks} checks JWT access tokens
 * against the authorization server's published keys (fetched again when a
 * token names a key not yet seen, so keys rotate without a restart), and
 * {@link layerIntrospection} asks the authorization server (RFC 7662). Any
 * other check is a function: {@link layer}. Either way, a token must have
 * been issued for this server (its audience, RFC 8707): a token for another
 * resource is refused.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { TokenVerifier } from "mcp-effect"
 *
 * const VerifierLive = TokenVerifier.layerJwks({
 *   jwksUri: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com",
 *   audience: "https://mcp.example.com/mcp"
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 */
import type { HttpClient } from "@effect/platform"
import type { Duration, Redacted } from "effect"
import { Context, Effect, Layer, Schema } from "effect"
import { makeIntrospection } from "./internal/auth/introspection.js"
import { makeJwks } from "./internal/auth/jwks.js"
import type { AuthInfo } from "./Transport.js"

/**
 * The token was refused: expired, for another resource, from an untrusted
 * issuer, badly signed, malformed or revoked. The message says which, in
 * words safe to send to the client (never the token or its claims); it goes
 * out as the `error_description` of a 401.
 *
 * @since 0.2.0
 * @category errors
 */
export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", {
  message: Schema.String
}) {}

/**
 * The token could not be checked: the authorization server's keys or its
 * introspection endpoint could not be reached. Not the client's fault: the
 * request gets 503, and the cause is logged on the server.
 *
 * @since 0.2.0
 * @category errors
 */
export class VerifierUnavailable extends Schema.TaggedError<VerifierUnavailable>()("VerifierUnavailable", {
  message: Schema.String
}) {}

/**
 * What verifies a token.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly verify: (token: string) => Effect.Effect<AuthInfo, InvalidToken | VerifierUnavailable>
}

/**
 * The token verifier of a protected server (`ProtectedResource.layer` needs
 * one).
 *
 * @since 0.2.0
 * @category tags
 */
export class TokenVerifier extends Context.Tag("mcp-effect/TokenVerifier")<TokenVerifier, Service>() {}

/**
 * A verifier from a function of the token. It must check the token's
 * audience itself: a token issued for another resource must be refused.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TokenVerifier } from "mcp-effect"
 *
 * const tokens = new Map([["dev-token", { subject: "alice", scopes: ["files:read"] }]])
 *
 * const verifier = TokenVerifier.make((token) => {
 *   const auth = tokens.get(token)
 *   return auth === undefined
 *     ? Effect.fail(new TokenVerifier.InvalidToken({ message: "Unknown access token" }))
 *     : Effect.succeed(auth)
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  verify: (token: string) => Effect.Effect<AuthInfo, InvalidToken | VerifierUnavailable>
): Service => ({ verify })

/**
 * {@link make} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  verify: (token: string) => Effect.Effect<AuthInfo, InvalidToken | VerifierUnavailable>
): Layer.Layer<TokenVerifier> => Layer.succeed(TokenVerifier, make(verify))

/**
 * Options of the JWT verifier.
 *
 * @since 0.2.0
 * @category models
 */
export interface JwksOptions {
  /** Where the authorization server publishes its keys (its metadata's `jwks_uri`). */
  readonly jwksUri: string
  /** The trusted issuer(s): the token's `iss` must be one. */
  readonly issuer: string | ReadonlyArray<string>
  /** This server's canonical URI (the protected resource): the token's `aud` must name it. */
  readonly audience: string
  /** The signing algorithms accepted. Default: the asymmetric ones (RS*, PS*, ES*, EdDSA); never `none`. */
  readonly algorithms?: ReadonlyArray<string>
  /**
   * The `typ` header a token must have: `"at+jwt"` for RFC 9068 access
   * tokens, which keeps ID tokens and other JWTs from the same issuer out.
   * Default: not checked, since many authorization servers do not set it.
   */
  readonly type?: string
  /** How far clocks may disagree when `exp` and `nbf` are checked. Default 30 s. */
  readonly clockSkew?: Duration.DurationInput
  /**
   * A token whose key id is not in the key set makes the set be fetched
   * again, at most this often (fetches that failed count too). Default 30 s.
   */
  readonly refetchCooldown?: Duration.DurationInput
  /** The key set is fetched again when older than this, so that a withdrawn key stops working. Default 1 hour. */
  readonly maxKeyAge?: Duration.DurationInput
}

/**
 * A verifier of JWT access tokens (RFC 9068) signed by the authorization
 * server: signature (by the key its `kid` names in the JWKS), `iss`, `aud`,
 * `exp` and `nbf` (with a little clock skew), and the algorithm. The
 * principal is `sub`; the client `client_id` (or `azp`); the scopes `scope`
 * (or `scp`). The key set is fetched through the `HttpClient` on first use,
 * and again when a token names an unknown key (rate-limited), or when it is
 * older than `maxKeyAge`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeJwksVerifier = (options: JwksOptions): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.map(makeJwks(options), make)

/**
 * {@link makeJwksVerifier} as a layer.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { TokenVerifier } from "mcp-effect"
 *
 * const VerifierLive = TokenVerifier.layerJwks({
 *   jwksUri: "https://auth.example.com/.well-known/jwks.json",
 *   issuer: "https://auth.example.com",
 *   audience: "https://mcp.example.com/mcp",
 *   algorithms: ["ES256"]
 * }).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerJwks = (options: JwksOptions): Layer.Layer<TokenVerifier, never, HttpClient.HttpClient> =>
  Layer.effect(TokenVerifier, makeJwksVerifier(options))

/**
 * Options of the introspection verifier.
 *
 * @since 0.2.0
 * @category models
 */
export interface IntrospectionOptions {
  /** The authorization server's introspection endpoint (its metadata's `introspection_endpoint`). */
  readonly endpoint: string
  /** This resource server's client credentials at the authorization server (sent with HTTP Basic). */
  readonly clientId: string
  readonly clientSecret: string | Redacted.Redacted<string>
  /** This server's canonical URI: the response's `aud` must name it. */
  readonly audience: string
  /** How long an active token's answer is kept (never past its `exp`). Default 60 s; 0 for none. */
  readonly cacheTtl?: Duration.DurationInput
  /** Most answers kept at once. Default 10,000. */
  readonly maxCacheEntries?: number
}

/**
 * A verifier that asks the authorization server about each token (RFC 7662),
 * authenticated as a client with `client_secret_basic`: the token must be
 * `active`, its `aud` must name this server, and it must not have expired.
 * Answers for active tokens are cached for `cacheTtl`, so a revoked token
 * may be accepted for that long.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeIntrospectionVerifier = (
  options: IntrospectionOptions
): Effect.Effect<Service, never, HttpClient.HttpClient> => Effect.map(makeIntrospection(options), make)

/**
 * {@link makeIntrospectionVerifier} as a layer.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Config, Effect, Layer } from "effect"
 * import { TokenVerifier } from "mcp-effect"
 *
 * const VerifierLive = Layer.unwrapEffect(Effect.gen(function*() {
 *   const clientSecret = yield* Config.redacted("MCP_INTROSPECTION_SECRET")
 *   return TokenVerifier.layerIntrospection({
 *     endpoint: "https://auth.example.com/oauth/introspect",
 *     clientId: "mcp-server",
 *     clientSecret,
 *     audience: "https://mcp.example.com/mcp"
 *   })
 * })).pipe(Layer.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerIntrospection = (
  options: IntrospectionOptions
): Layer.Layer<TokenVerifier, never, HttpClient.HttpClient> =>
  Layer.effect(TokenVerifier, makeIntrospectionVerifier(options))
