/**
 * Where an `OAuthProvider` keeps its state: registered clients, grants (one per
 * approved authorization, the family its codes and tokens belong to),
 * authorization codes, refresh tokens and issued access tokens.
 *
 * The provider never hands the store a usable secret: codes, refresh tokens
 * and client secrets are stored as SHA-256 digests, so a leaked store cannot be
 * replayed. Expiry is decided by the provider with `Clock`; the store only
 * keeps records and answers the two questions that must be atomic (was this
 * code, was this refresh token, used before?).
 *
 * `layerMemory` keeps everything in memory (lost on restart). A SQL store
 * (`@effect/sql`) replaces it by implementing {@link Service}: one table per
 * record type keyed by its `hash` (or `id`, `jti`, `clientId`), with
 * `consumeCode` and `consumeRefreshToken` in one transaction: the conditional
 * `UPDATE ... SET used = true WHERE hash = ? AND NOT used` says whether this
 * use was the first (a row changed), then the record is read; two concurrent
 * uses can then not both be first.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { OAuthStore } from "mcp-effect"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* OAuthStore.OAuthStore
 *   const client = yield* store.getClient("conformance-client")
 *   return Option.isSome(client)
 * }).pipe(Effect.provide(OAuthStore.layerMemory))
 * ```
 *
 * @since 0.2.0
 */
import { Clock, Context, Effect, Layer, Option, Schema } from "effect"

/**
 * How a client authenticates at the token endpoint: with its secret in a
 * Basic `Authorization` header, with its secret in the form body, or not at
 * all (a public client, bound by PKCE alone).
 *
 * @since 0.2.0
 * @category models
 */
export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post" | "none"

/**
 * A registered client (pre-registered by the operator, or by dynamic client
 * registration). Clients identified by a client ID metadata document are not
 * stored: their document is fetched when they come.
 *
 * @since 0.2.0
 * @category models
 */
export interface Client {
  readonly clientId: string
  /** SHA-256 of the secret, base64url; absent for a public client. */
  readonly secretHash?: string | undefined
  readonly redirectUris: ReadonlyArray<string>
  readonly tokenEndpointAuthMethod: TokenEndpointAuthMethod
  /** The grant types it may use (`authorization_code`, `refresh_token`). */
  readonly grantTypes: ReadonlyArray<string>
  /** The scopes it may be granted; absent for any scope the provider supports. */
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly clientName?: string | undefined
  /** Epoch seconds. */
  readonly issuedAt: number
}

/**
 * An approved authorization: who approved what for which client and resource.
 * Every code, refresh token and access token issued from it names it, so that
 * revoking the grant (on code or refresh token reuse, or revocation) ends them
 * all.
 *
 * @since 0.2.0
 * @category models
 */
export interface Grant {
  readonly id: string
  readonly clientId: string
  readonly subject: string
  readonly scopes: ReadonlyArray<string>
  /** The resource (RFC 8707) the grant's access tokens are for: their `aud`. */
  readonly resource: string
  readonly revoked: boolean
  /** Epoch millis after which nothing issued from it is valid; moved on by each refresh. */
  readonly expiresAt: number
}

/**
 * An authorization code, by the SHA-256 of its value.
 *
 * @since 0.2.0
 * @category models
 */
export interface AuthorizationCode {
  readonly hash: string
  readonly grantId: string
  readonly clientId: string
  readonly redirectUri: string
  /** Whether the authorization request carried `redirect_uri` (then the token request must repeat it). */
  readonly redirectUriGiven: boolean
  /** The PKCE S256 challenge. */
  readonly codeChallenge: string
  /** Epoch millis. */
  readonly expiresAt: number
}

/**
 * A refresh token, by the SHA-256 of its value.
 *
 * @since 0.2.0
 * @category models
 */
export interface RefreshToken {
  readonly hash: string
  readonly grantId: string
  readonly clientId: string
  /** Epoch millis. */
  readonly expiresAt: number
}

/**
 * An issued access token (a JWT), by its `jti`.
 *
 * @since 0.2.0
 * @category models
 */
export interface AccessToken {
  readonly jti: string
  readonly grantId: string
  readonly clientId: string
  readonly revoked: boolean
  /** Epoch millis. */
  readonly expiresAt: number
}

/**
 * A record taken for use, and whether this was its first use: a second use of
 * a code or refresh token means it leaked.
 *
 * @since 0.2.0
 * @category models
 */
export interface Consumed<A> {
  readonly record: A
  readonly firstUse: boolean
}

/**
 * A store failed (a database error). The provider answers `server_error`
 * and logs it; the client is not told more.
 *
 * @since 0.2.0
 * @category errors
 */
export class OAuthStoreError extends Schema.TaggedError<OAuthStoreError>()("OAuthStoreError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

/**
 * What a store does. Every method is one atomic step.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly getClient: (clientId: string) => Effect.Effect<Option.Option<Client>, OAuthStoreError>
  /** Inserts or replaces. */
  readonly saveClient: (client: Client) => Effect.Effect<void, OAuthStoreError>
  readonly getGrant: (id: string) => Effect.Effect<Option.Option<Grant>, OAuthStoreError>
  /** Inserts or replaces. */
  readonly saveGrant: (grant: Grant) => Effect.Effect<void, OAuthStoreError>
  /** Marks the grant revoked (a no-op for an unknown one). */
  readonly revokeGrant: (id: string) => Effect.Effect<void, OAuthStoreError>
  readonly saveCode: (code: AuthorizationCode) => Effect.Effect<void, OAuthStoreError>
  /** Marks the code used and returns it, with whether it was unused before. Used codes stay, to detect reuse. */
  readonly consumeCode: (
    hash: string
  ) => Effect.Effect<Option.Option<Consumed<AuthorizationCode>>, OAuthStoreError>
  readonly saveRefreshToken: (token: RefreshToken) => Effect.Effect<void, OAuthStoreError>
  /** Looks a refresh token up without using it (for revocation and introspection). */
  readonly getRefreshToken: (hash: string) => Effect.Effect<Option.Option<RefreshToken>, OAuthStoreError>
  /** Marks the refresh token used and returns it, with whether it was unused before (rotation). */
  readonly consumeRefreshToken: (
    hash: string
  ) => Effect.Effect<Option.Option<Consumed<RefreshToken>>, OAuthStoreError>
  readonly saveAccessToken: (token: AccessToken) => Effect.Effect<void, OAuthStoreError>
  readonly getAccessToken: (jti: string) => Effect.Effect<Option.Option<AccessToken>, OAuthStoreError>
  readonly revokeAccessToken: (jti: string) => Effect.Effect<void, OAuthStoreError>
}

/**
 * The store an `OAuthProvider` uses.
 *
 * @since 0.2.0
 * @category tags
 */
export class OAuthStore extends Context.Tag("mcp-effect/OAuthStore")<OAuthStore, Service>() {}

/** How long used codes are kept past their expiry, so that a late replay is still seen as reuse. */
const USED_CODE_RETENTION_MILLIS = 60 * 60 * 1000
/** Expired records are swept at most this often, on a write. */
const SWEEP_INTERVAL_MILLIS = 60 * 1000

interface Entry<A> {
  readonly record: A
  used: boolean
}

/**
 * A store in memory, lost on restart.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = Effect.sync(() => {
  const clients = new Map<string, Client>()
  const grants = new Map<string, Grant>()
  const codes = new Map<string, Entry<AuthorizationCode>>()
  const refreshTokens = new Map<string, Entry<RefreshToken>>()
  const accessTokens = new Map<string, AccessToken>()
  let lastSweep = 0
  const sweep = Effect.map(Clock.currentTimeMillis, (now) => {
    if (now - lastSweep < SWEEP_INTERVAL_MILLIS) return
    lastSweep = now
    for (const [id, grant] of grants) if (grant.expiresAt < now) grants.delete(id)
    for (const [hash, { record }] of codes) {
      if (record.expiresAt + USED_CODE_RETENTION_MILLIS < now) codes.delete(hash)
    }
    for (const [hash, { record }] of refreshTokens) if (record.expiresAt < now) refreshTokens.delete(hash)
    for (const [jti, token] of accessTokens) if (token.expiresAt < now) accessTokens.delete(jti)
  })
  const write = (f: () => void) => Effect.zipRight(sweep, Effect.sync(f))
  const consume = <A>(map: Map<string, Entry<A>>, key: string) =>
    Effect.sync((): Option.Option<Consumed<A>> => {
      const entry = map.get(key)
      if (entry === undefined) return Option.none()
      const firstUse = !entry.used
      entry.used = true
      return Option.some({ record: entry.record, firstUse })
    })
  return {
    getClient: (clientId) => Effect.sync(() => Option.fromNullable(clients.get(clientId))),
    saveClient: (client) => write(() => clients.set(client.clientId, client)),
    getGrant: (id) => Effect.sync(() => Option.fromNullable(grants.get(id))),
    saveGrant: (grant) => write(() => grants.set(grant.id, grant)),
    revokeGrant: (id) =>
      Effect.sync(() => {
        const grant = grants.get(id)
        if (grant !== undefined) grants.set(id, { ...grant, revoked: true })
      }),
    saveCode: (code) => write(() => codes.set(code.hash, { record: code, used: false })),
    consumeCode: (hash) => consume(codes, hash),
    saveRefreshToken: (token) => write(() => refreshTokens.set(token.hash, { record: token, used: false })),
    getRefreshToken: (hash) => Effect.sync(() => Option.fromNullable(refreshTokens.get(hash)?.record)),
    consumeRefreshToken: (hash) => consume(refreshTokens, hash),
    saveAccessToken: (token) => write(() => accessTokens.set(token.jti, token)),
    getAccessToken: (jti) => Effect.sync(() => Option.fromNullable(accessTokens.get(jti))),
    revokeAccessToken: (jti) =>
      Effect.sync(() => {
        const token = accessTokens.get(jti)
        if (token !== undefined) accessTokens.set(jti, { ...token, revoked: true })
      })
  }
})

/**
 * The in-memory store as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory: Layer.Layer<OAuthStore> = Layer.effect(OAuthStore, makeMemory)
