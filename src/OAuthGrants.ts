/**
 * OAuth grants a client makes with no browser and no user at hand: client
 * credentials (RFC 6749 §4.4), the JWT bearer grant of a workload identity
 * (RFC 7523), token exchange (RFC 8693) and enterprise-managed authorization
 * (an ID-JAG from the identity provider, then a JWT bearer grant at the
 * authorization server). Each posts to a token endpoint through
 * `@effect/platform`'s `HttpClient`, authenticating the client by
 * `client_secret_basic`, `client_secret_post`, `private_key_jwt` or not at
 * all, with a DPoP proof when given a `Dpop.Prover`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Redacted } from "effect"
 * import { OAuthGrants } from "mcp-effect"
 *
 * const token = OAuthGrants.clientCredentials({
 *   server: { issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" },
 *   client: { method: "client_secret_basic", clientId: "reporting", clientSecret: Redacted.make("s3cret") },
 *   resource: "https://mcp.example.com/mcp"
 * }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 */
import { HttpClient, HttpClientError } from "@effect/platform"
import { Effect, Option, ParseResult, Schema } from "effect"
import type { Redacted } from "effect"
import type { CryptoKey } from "jose"
import * as Grants from "./internal/oauth/client/grants.js"
import { OAuthClientError } from "./OAuthClient.js"
import type * as OAuthClient from "./OAuthClient.js"

/**
 * The grant type of RFC 7523's JWT bearer grant.
 *
 * @since 0.2.0
 * @category constants
 */
export const JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"

/**
 * The grant type of RFC 8693's token exchange.
 *
 * @since 0.2.0
 * @category constants
 */
export const TOKEN_EXCHANGE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"

/**
 * Token types of RFC 8693 and of enterprise-managed authorization.
 *
 * @since 0.2.0
 * @category constants
 */
export const TokenType = {
  IdToken: "urn:ietf:params:oauth:token-type:id_token",
  IdJag: "urn:ietf:params:oauth:token-type:id-jag",
  AccessToken: "urn:ietf:params:oauth:token-type:access_token",
  Jwt: "urn:ietf:params:oauth:token-type:jwt"
} as const

/**
 * How the client proves who it is at a token endpoint: not at all (a public
 * client, its `client_id` in the form), with a secret in a Basic
 * `Authorization` header or in the form, or with a JWT it signs with its
 * private key (`private_key_jwt`, RFC 7523 §2.2; a PKCS#8 PEM or a
 * `CryptoKey`, ES256 unless `algorithm` says otherwise).
 *
 * @since 0.2.0
 * @category models
 */
export type ClientAuthentication =
  | { readonly method: "none"; readonly clientId: string }
  | {
    readonly method: "client_secret_basic" | "client_secret_post"
    readonly clientId: string
    readonly clientSecret: Redacted.Redacted<string> | string
  }
  | {
    readonly method: "private_key_jwt"
    readonly clientId: string
    readonly privateKey: string | CryptoKey
    readonly algorithm?: string
  }

/**
 * The authorization server as its metadata (RFC 8414) names it: its issuer
 * identifier, the audience of the client's assertions, and its token endpoint.
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthorizationServer {
  readonly issuer: string
  readonly tokenEndpoint: string
}

/**
 * A successful token response (RFC 6749 §5.1; `issuedTokenType` from RFC 8693).
 * `tokenType` is `DPoP` when the token is bound to the client's DPoP key.
 *
 * @since 0.2.0
 * @category models
 */
export class TokenResponse extends Schema.Class<TokenResponse>("TokenResponse")({
  accessToken: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("access_token")),
  tokenType: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("token_type")),
  expiresIn: Schema.optional(Schema.Number).pipe(Schema.fromKey("expires_in")),
  scope: Schema.optional(Schema.String),
  refreshToken: Schema.optional(Schema.String).pipe(Schema.fromKey("refresh_token")),
  issuedTokenType: Schema.optional(Schema.String).pipe(Schema.fromKey("issued_token_type"))
}) {
  /**
   * Whether the token is DPoP-bound and must be presented with `DPoP` proofs.
   *
   * @since 0.2.0
   */
  get isDpop(): boolean {
    return this.tokenType.toLowerCase() === "dpop"
  }
}

/**
 * The token endpoint refused the grant with an OAuth error response
 * (RFC 6749 §5.2): `invalid_client`, `invalid_grant`, `invalid_scope`,
 * `unauthorized_client`, `use_dpop_nonce`…
 *
 * @since 0.2.0
 * @category errors
 */
export class OAuthError extends Schema.TaggedError<OAuthError>()("OAuthError", {
  endpoint: Schema.String,
  status: Schema.Number,
  error: Schema.String,
  description: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    const description = this.description === undefined ? "" : `: ${this.description}`
    return `The token endpoint ${this.endpoint} refused the request (${this.status} ${this.error})${description}`
  }
}

/**
 * A token request that got no token and no OAuth error: the endpoint could not
 * be reached, its answer was not a token response, or the client's assertion
 * or proof could not be signed.
 *
 * @since 0.2.0
 * @category errors
 */
export class TokenRequestError extends Schema.TaggedError<TokenRequestError>()("TokenRequestError", {
  endpoint: Schema.String,
  reason: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    return `No token from ${this.endpoint}: ${this.reason}`
  }
}

const ErrorBody = Schema.Struct({ error: Schema.String, error_description: Schema.optional(Schema.String) })
const decodeToken = Schema.decodeUnknownEither(TokenResponse)
const decodeError = Schema.decodeUnknownOption(ErrorBody)

/** A 2xx answer must be a token response; any other is an OAuth error, or a bare failure when it is not one. */
const judge = (
  endpoint: string,
  answer: Grants.Answer
): Effect.Effect<TokenResponse, OAuthError | TokenRequestError> => {
  if (answer.status >= 200 && answer.status < 300) {
    return decodeToken(answer.body).pipe(
      Effect.mapError((issue) =>
        new TokenRequestError({
          endpoint,
          reason: `the answer is not a token response (${
            ParseResult.ArrayFormatter.formatErrorSync(issue).map((e) => e.path.join(".") || e.message).join(", ")
          })`
        })
      )
    )
  }
  return Option.match(decodeError(answer.body), {
    onNone: () => new TokenRequestError({ endpoint, reason: `HTTP ${answer.status} without an OAuth error` }),
    onSome: (body) =>
      new OAuthError({
        endpoint,
        status: answer.status,
        error: body.error,
        ...(body.error_description === undefined ? {} : { description: body.error_description })
      })
  })
}

/**
 * What every grant may add: the `scope` asked for, the `resource` the token is
 * for (RFC 8707: the MCP server's URL, as MCP asks of clients), and a DPoP
 * prover to bind the token to its key.
 *
 * @since 0.2.0
 * @category models
 */
export interface GrantOptions {
  readonly scope?: string | undefined
  readonly resource?: string | undefined
  readonly dpop?: Grants.Prover | undefined
}

/**
 * Posts any grant's parameters to a token endpoint, authenticating the client
 * when `client` is given, and judges the answer.
 *
 * @since 0.2.0
 * @category constructors
 */
export const requestToken = (options: {
  readonly tokenEndpoint: string
  /** The audience of a `private_key_jwt` assertion: the authorization server's issuer. */
  readonly audience: string
  readonly params: Readonly<Record<string, string | undefined>>
  readonly client?: ClientAuthentication | undefined
  readonly dpop?: Grants.Prover | undefined
}): Effect.Effect<TokenResponse, OAuthError | TokenRequestError, HttpClient.HttpClient> => {
  const params: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.params)) if (value !== undefined) params[name] = value
  return Grants.request({
    tokenEndpoint: options.tokenEndpoint,
    audience: options.audience,
    params,
    client: options.client,
    prover: options.dpop
  }).pipe(
    Effect.mapError((cause) =>
      new TokenRequestError({
        endpoint: options.tokenEndpoint,
        reason: HttpClientError.isHttpClientError(cause) ? `the request failed (${cause.reason})` : cause.message
      })
    ),
    Effect.flatMap((answer) => judge(options.tokenEndpoint, answer))
  )
}

/**
 * The client credentials grant (RFC 6749 §4.4): the client asks for a token of
 * its own, authenticated by its secret or its private key.
 *
 * @example
 * ```ts
 * import { OAuthGrants } from "mcp-effect"
 *
 * // pem: the client's PKCS#8 private key, whose public half the authorization server knows.
 * const token = (pem: string) =>
 *   OAuthGrants.clientCredentials({
 *     server: { issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" },
 *     client: { method: "private_key_jwt", clientId: "reporting", privateKey: pem }
 *   })
 * ```
 *
 * @since 0.2.0
 * @category grants
 */
export const clientCredentials = (
  options: GrantOptions & { readonly server: AuthorizationServer; readonly client: ClientAuthentication }
): Effect.Effect<TokenResponse, OAuthError | TokenRequestError, HttpClient.HttpClient> =>
  requestToken({
    tokenEndpoint: options.server.tokenEndpoint,
    audience: options.server.issuer,
    params: { grant_type: "client_credentials", scope: options.scope, resource: options.resource },
    client: options.client,
    dpop: options.dpop
  })

/**
 * The JWT bearer grant (RFC 7523 §2.1): a JWT someone else issued (a workload
 * identity token, an ID-JAG) traded for an access token. The client is
 * authenticated only when `client` is given. A refusal is reported as it is:
 * the grant is never tried again nor swapped for another.
 *
 * @example
 * ```ts
 * import { OAuthGrants } from "mcp-effect"
 *
 * const token = (workloadJwt: string) =>
 *   OAuthGrants.jwtBearer({
 *     server: { issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" },
 *     assertion: workloadJwt,
 *     client: { method: "none", clientId: "my-workload" }
 *   })
 * ```
 *
 * @since 0.2.0
 * @category grants
 */
export const jwtBearer = (
  options: GrantOptions & {
    readonly server: AuthorizationServer
    readonly assertion: string
    readonly client?: ClientAuthentication | undefined
  }
): Effect.Effect<TokenResponse, OAuthError | TokenRequestError, HttpClient.HttpClient> =>
  requestToken({
    tokenEndpoint: options.server.tokenEndpoint,
    audience: options.server.issuer,
    params: {
      grant_type: JWT_BEARER_GRANT_TYPE,
      assertion: options.assertion,
      scope: options.scope,
      resource: options.resource
    },
    client: options.client,
    dpop: options.dpop
  })

/**
 * Token exchange (RFC 8693 §2.1): a subject token traded for a token of
 * another type, for an audience and a resource.
 *
 * @since 0.2.0
 * @category grants
 */
export const tokenExchange = (options: {
  readonly tokenEndpoint: string
  readonly subjectToken: string
  readonly subjectTokenType: string
  readonly requestedTokenType?: string | undefined
  readonly audience?: string | undefined
  readonly resource?: string | undefined
  readonly scope?: string | undefined
  readonly client?: ClientAuthentication | undefined
}): Effect.Effect<TokenResponse, OAuthError | TokenRequestError, HttpClient.HttpClient> =>
  requestToken({
    tokenEndpoint: options.tokenEndpoint,
    audience: options.tokenEndpoint,
    params: {
      grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
      subject_token: options.subjectToken,
      subject_token_type: options.subjectTokenType,
      requested_token_type: options.requestedTokenType,
      audience: options.audience,
      resource: options.resource,
      scope: options.scope
    },
    client: options.client
  })

/**
 * Enterprise-managed authorization (the identity assertion authorization
 * grant): the user's ID token from the enterprise identity provider is
 * exchanged there for an ID-JAG whose audience is the authorization server
 * and whose resource is the MCP server, then the ID-JAG is traded for an
 * access token at the authorization server by the JWT bearer grant.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { OAuthGrants } from "mcp-effect"
 *
 * const token = (idToken: string) =>
 *   OAuthGrants.enterpriseManaged({
 *     identityProvider: {
 *       tokenEndpoint: "https://idp.example.com/token",
 *       idToken,
 *       client: { method: "none", clientId: "mcp-client-at-idp" }
 *     },
 *     server: { issuer: "https://auth.example.com", tokenEndpoint: "https://auth.example.com/token" },
 *     client: { method: "client_secret_basic", clientId: "mcp-client", clientSecret: Redacted.make("s3cret") },
 *     resource: "https://mcp.example.com/mcp"
 *   })
 * ```
 *
 * @since 0.2.0
 * @category grants
 */
export const enterpriseManaged = (
  options: GrantOptions & {
    readonly identityProvider: {
      readonly tokenEndpoint: string
      readonly idToken: string
      readonly client?: ClientAuthentication | undefined
    }
    readonly server: AuthorizationServer
    readonly client: ClientAuthentication
    readonly resource: string
  }
): Effect.Effect<TokenResponse, OAuthError | TokenRequestError, HttpClient.HttpClient> =>
  tokenExchange({
    tokenEndpoint: options.identityProvider.tokenEndpoint,
    subjectToken: options.identityProvider.idToken,
    subjectTokenType: TokenType.IdToken,
    requestedTokenType: TokenType.IdJag,
    audience: options.server.issuer,
    resource: options.resource,
    scope: options.scope,
    client: options.identityProvider.client
  }).pipe(
    Effect.flatMap((grant) =>
      grant.issuedTokenType === undefined || grant.issuedTokenType === TokenType.IdJag
        ? jwtBearer({ ...options, assertion: grant.accessToken })
        : new TokenRequestError({
          endpoint: options.identityProvider.tokenEndpoint,
          reason: `the identity provider issued a ${grant.issuedTokenType}, not an ID-JAG`
        })
    ),
    Effect.withSpan("OAuthGrants.enterpriseManaged")
  )

const toClientError = (error: OAuthError | TokenRequestError) =>
  new OAuthClientError({ reason: "Token", message: error.message })

const withScope = (params: Record<string, string>, scope: string | undefined) =>
  scope === undefined ? params : { ...params, scope }

/**
 * The client credentials grant as an `OAuthClient` grant: the client signs
 * in as itself, with the credentials `OAuthClient.makeWithGrant` is given
 * (`clientId` and `clientSecret`, or `clientId` and the `privateKeyJwt`
 * authentication), and no user.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OAuthClient, OAuthGrants, StreamableHttpClient } from "mcp-effect"
 *
 * const url = "https://mcp.example.com/mcp"
 * const program = Effect.gen(function*() {
 *   const authorization = yield* OAuthClient.makeWithGrant(url, OAuthGrants.clientCredentialsGrant, {
 *     clientId: "reporting",
 *     clientSecret: "s3cret"
 *   })
 *   const client = yield* StreamableHttpClient.connect(url, { http: { authorization } })
 *   return yield* client.listTools
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category OAuthClient grants
 */
export const clientCredentialsGrant: OAuthClient.Grant = {
  grantTypes: ["client_credentials"],
  clientMetadata: {},
  obtain: (context) => context.requestToken(withScope({ grant_type: "client_credentials" }, context.scope))
}

const assertionOf = (assertion: string | Effect.Effect<string, OAuthClientError>) =>
  typeof assertion === "string" ? Effect.succeed(assertion) : assertion

/**
 * The JWT bearer grant as an `OAuthClient` grant: a workload identity token
 * (or any JWT the authorization server trusts) for an access token. The
 * assertion may be an effect, read afresh at each sign-in (a token file a
 * platform rotates). A refusal fails the sign-in: it is not tried again.
 *
 * @example
 * ```ts
 * import { FileSystem } from "@effect/platform"
 * import { Effect } from "effect"
 * import { OAuthClient, OAuthGrants } from "mcp-effect"
 *
 * const fromFile = Effect.gen(function*() {
 *   const fs = yield* FileSystem.FileSystem
 *   const assertion = Effect.orDie(fs.readFileString("/var/run/secrets/tokens/mcp"))
 *   return yield* OAuthClient.makeWithGrant("https://mcp.example.com/mcp", OAuthGrants.jwtBearerGrant(assertion), {
 *     clientId: "my-workload"
 *   })
 * })
 * ```
 *
 * @since 0.2.0
 * @category OAuthClient grants
 */
export const jwtBearerGrant = (assertion: string | Effect.Effect<string, OAuthClientError>): OAuthClient.Grant => ({
  grantTypes: [JWT_BEARER_GRANT_TYPE],
  clientMetadata: {},
  obtain: (context) =>
    Effect.flatMap(
      assertionOf(assertion),
      (jwt) => context.requestToken(withScope({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: jwt }, context.scope))
    )
})

/**
 * Enterprise-managed authorization as an `OAuthClient` grant: at each
 * sign-in the user's ID token is exchanged at the enterprise identity
 * provider for an ID-JAG naming the discovered authorization server and the
 * MCP server, which the JWT bearer grant then trades for an access token.
 *
 * @example
 * ```ts
 * import { OAuthClient, OAuthGrants } from "mcp-effect"
 *
 * const authorization = (idToken: string) =>
 *   OAuthClient.makeWithGrant(
 *     "https://mcp.example.com/mcp",
 *     OAuthGrants.enterpriseManagedGrant({
 *       tokenEndpoint: "https://idp.example.com/token",
 *       idToken,
 *       client: { method: "none", clientId: "mcp-client-at-idp" }
 *     }),
 *     { clientId: "mcp-client", clientSecret: "s3cret" }
 *   )
 * ```
 *
 * @since 0.2.0
 * @category OAuthClient grants
 */
export const enterpriseManagedGrant = (identityProvider: {
  readonly tokenEndpoint: string
  readonly idToken: string | Effect.Effect<string, OAuthClientError>
  readonly client?: ClientAuthentication | undefined
}): OAuthClient.Grant => ({
  grantTypes: [JWT_BEARER_GRANT_TYPE],
  clientMetadata: {},
  obtain: (context) =>
    Effect.gen(function*() {
      const idToken = yield* assertionOf(identityProvider.idToken)
      const grant = yield* tokenExchange({
        tokenEndpoint: identityProvider.tokenEndpoint,
        subjectToken: idToken,
        subjectTokenType: TokenType.IdToken,
        requestedTokenType: TokenType.IdJag,
        audience: context.metadata.issuer,
        resource: context.resource,
        scope: context.scope,
        client: identityProvider.client
      }).pipe(Effect.provideService(HttpClient.HttpClient, context.http), Effect.mapError(toClientError))
      if (grant.issuedTokenType !== undefined && grant.issuedTokenType !== TokenType.IdJag) {
        return yield* new OAuthClientError({
          reason: "Token",
          message: `The identity provider issued a ${grant.issuedTokenType}, not an ID-JAG`
        })
      }
      return yield* context.requestToken(
        withScope({ grant_type: JWT_BEARER_GRANT_TYPE, assertion: grant.accessToken }, context.scope)
      )
    })
})

/**
 * `private_key_jwt` (RFC 7523 §2.2) as an `OAuthClient` token endpoint
 * authentication: each token request carries a fresh assertion signed with
 * the client's key (a PKCS#8 PEM or a `CryptoKey`, ES256 unless `algorithm`
 * says otherwise), its audience the authorization server's issuer.
 *
 * @example
 * ```ts
 * import { OAuthClient, OAuthGrants } from "mcp-effect"
 *
 * const authorization = (pem: string) =>
 *   OAuthClient.makeWithGrant("https://mcp.example.com/mcp", OAuthGrants.clientCredentialsGrant, {
 *     clientId: "reporting",
 *     clientAuthentications: [OAuthGrants.privateKeyJwt({ privateKey: pem })]
 *   })
 * ```
 *
 * @since 0.2.0
 * @category OAuthClient grants
 */
export const privateKeyJwt = (options: {
  readonly privateKey: string | CryptoKey
  readonly algorithm?: string
}): OAuthClient.ClientAuthentication => ({
  method: "private_key_jwt",
  canUse: () => true,
  apply: ({ body, client, metadata, request }) =>
    Grants.authenticate({
      method: "private_key_jwt",
      clientId: client.client_id,
      privateKey: options.privateKey,
      ...(options.algorithm === undefined ? {} : { algorithm: options.algorithm })
    }, metadata.issuer).pipe(
      Effect.map((credentials) => ({ request, body: { ...body, ...credentials.params } })),
      Effect.mapError((error) => new OAuthClientError({ reason: "Token", message: error.message }))
    )
})
