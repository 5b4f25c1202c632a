/**
 * One client's authorization for one protected resource: discovery, client
 * registration, the grant, refresh, step-up, and the HTTP client that
 * attaches the token and reacts to 401 and 403.
 */
import { HttpClient, HttpClientError } from "@effect/platform"
import type { HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Clock, Effect, Option } from "effect"
import type { Challenge } from "./discovery.js"
import {
  canonicalResource,
  checkEndpoints,
  defaultServerMetadata,
  discoverResource,
  discoverServer,
  parseChallenge
} from "./discovery.js"
import type { ClientAuthentication } from "./endpoints.js"
import { register, requestToken, selectAuthentication, withForm } from "./endpoints.js"
import type {
  AuthorizationServerMetadata,
  ClientInformation,
  ProtectedResourceMetadata,
  StoredAuthorization,
  StoredTokens,
  TokenResponse
} from "./model.js"
import { OAuthClientError } from "./model.js"

/** What a grant is given to obtain tokens with. */
export interface GrantContext {
  /** The RFC 8707 resource indicator: the protected resource's canonical URI. */
  readonly resource: string
  /** The scope to ask for, if any (already chosen as the spec orders it). */
  readonly scope: string | undefined
  readonly metadata: AuthorizationServerMetadata
  /** False when the server published no metadata and the 2025-03-26 default endpoints are assumed. */
  readonly metadataDiscovered: boolean
  readonly client: ClientInformation
  /** The `HttpClient` for the authorization server (not the authorizing one). */
  readonly http: HttpClient.HttpClient
  /** POSTs to the token endpoint with the client's authentication, the token binding and `resource` added. */
  readonly requestToken: (body: Readonly<Record<string, string>>) => Effect.Effect<TokenResponse, OAuthClientError>
}

/** How a client obtains tokens: the authorization code flow, client credentials, a JWT bearer assertion… */
export interface Grant {
  /** The grant types to register (`refresh_token` is added). */
  readonly grantTypes: ReadonlyArray<string>
  /** More client metadata to register with (`redirect_uris`, `response_types`…). */
  readonly clientMetadata: Readonly<Record<string, unknown>>
  readonly obtain: (context: GrantContext) => Effect.Effect<TokenResponse, OAuthClientError>
}

/** How tokens are presented: a Bearer header by default; DPoP binds them to a key. */
export interface TokenBinding {
  /** Prepares a token request (a DPoP proof, say). */
  readonly tokenRequest: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, OAuthClientError>
  /** Presents the access token on a request to the protected resource. */
  readonly resourceRequest: (
    request: HttpClientRequest.HttpClientRequest,
    tokens: StoredTokens
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, OAuthClientError>
  /**
   * Whether a refused token request is worth sending once more, prepared
   * anew (DPoP: the server asked for a nonce, which the binding keeps now).
   */
  readonly retryTokenRequest?: (
    response: HttpClientResponse.HttpClientResponse
  ) => Effect.Effect<boolean, OAuthClientError>
  /** Whether a 401 from the resource is worth sending once more, presented anew, before signing in (a DPoP nonce). */
  readonly retryResourceRequest?: (
    response: HttpClientResponse.HttpClientResponse
  ) => Effect.Effect<boolean, OAuthClientError>
}

/** Where authorizations are kept, by the protected resource's canonical URI. */
export interface Store {
  readonly get: (resource: string) => Effect.Effect<Option.Option<StoredAuthorization>, OAuthClientError>
  readonly set: (resource: string, authorization: StoredAuthorization) => Effect.Effect<void, OAuthClientError>
  readonly remove: (resource: string) => Effect.Effect<void, OAuthClientError>
}

export interface Config {
  readonly serverUrl: string
  readonly grant: Grant
  readonly binding: TokenBinding
  readonly authentications: ReadonlyArray<ClientAuthentication>
  readonly store: Store
  readonly clientName: string
  readonly applicationType: "native" | "web"
  readonly clientMetadataUrl: string | undefined
  readonly clientId: string | undefined
  readonly clientSecret: string | undefined
  readonly tokenEndpointAuthMethod: string | undefined
  readonly scope: string | undefined
  readonly maxStepUps: number
}

/** What discovery found for the resource. */
interface Discovered {
  readonly resource: Option.Option<ProtectedResourceMetadata>
  readonly metadata: AuthorizationServerMetadata
  readonly metadataDiscovered: boolean
}

/** A token this close to its expiry is refreshed before use. */
const EXPIRY_SKEW_MS = 30_000

const union = (...scopes: ReadonlyArray<string | undefined>): string | undefined => {
  const all = [...new Set(scopes.flatMap((s) => s?.split(" ").filter((x) => x !== "") ?? []))]
  return all.length === 0 ? undefined : all.join(" ")
}

/** A client ID metadata document's URL is its client id: https, with a path (the CIMD draft). */
const isMetadataDocumentUrl = (url: string) =>
  URL.canParse(url) && new URL(url).protocol === "https:" && new URL(url).pathname !== "/"

export class Authorizer {
  private current: StoredAuthorization | undefined
  private loaded = false
  private discovered: Discovered | undefined
  private readonly lock = Effect.unsafeMakeSemaphore(1)
  readonly key: string

  constructor(readonly config: Config, private readonly http: HttpClient.HttpClient) {
    this.key = canonicalResource(config.serverUrl)
  }

  /** The tokens to send now: from the store at first, refreshed when about to expire. */
  get tokens(): Effect.Effect<StoredTokens | undefined, OAuthClientError> {
    return Effect.gen(this, function*() {
      if (!this.loaded) {
        yield* this.lock.withPermits(1)(Effect.gen(this, function*() {
          if (this.loaded) return
          this.current = Option.getOrUndefined(yield* this.config.store.get(this.key))
          this.loaded = true
        }))
      }
      const tokens = this.current?.tokens
      if (tokens?.expiresAt === undefined || tokens.refreshToken === undefined) return tokens
      if ((yield* Clock.currentTimeMillis) < tokens.expiresAt - EXPIRY_SKEW_MS) return tokens
      // Under the lock, and only if no other request refreshed meanwhile; a failed refresh leaves no tokens.
      yield* this.lock.withPermits(1)(Effect.suspend(() =>
        this.current?.tokens === tokens
          ? Effect.ignore(Effect.flatMap(this.discover(undefined), (discovered) => this.refresh(discovered)))
          : Effect.void
      ))
      return this.current?.tokens
    })
  }

  private save(authorization: StoredAuthorization | undefined) {
    this.current = authorization
    return authorization === undefined
      ? this.config.store.remove(this.key)
      : this.config.store.set(this.key, authorization)
  }

  /** Forgets the resource's authorization, here and in the store. */
  get signOut(): Effect.Effect<void, OAuthClientError> {
    return this.lock.withPermits(1)(Effect.suspend(() => {
      this.discovered = undefined
      return this.save(undefined)
    }))
  }

  /** Discovery, reusing the last result when there is no challenge to read. */
  private discover(challenge: Challenge | undefined): Effect.Effect<Discovered, OAuthClientError> {
    if (challenge === undefined && this.discovered !== undefined) return Effect.succeed(this.discovered)
    return Effect.gen(this, function*() {
      const resource = yield* discoverResource(this.http, this.config.serverUrl, challenge ?? parseChallenge(undefined))
      // No PRM (a 2025-03-26 server): the server's origin is its own authorization server.
      const issuer = Option.match(resource, {
        onNone: () => new URL(this.config.serverUrl).origin,
        onSome: (prm) => prm.authorization_servers?.[0]
      })
      if (issuer === undefined) {
        return yield* new OAuthClientError({
          reason: "Discovery",
          message: "The protected resource metadata names no authorization server"
        })
      }
      const found = yield* discoverServer(this.http, issuer)
      if (Option.isNone(found) && Option.isSome(resource)) {
        return yield* new OAuthClientError({
          reason: "Discovery",
          message: `The authorization server ${issuer} publishes no metadata at its well-known URLs`
        })
      }
      const metadata = Option.getOrElse(found, () => defaultServerMetadata(issuer))
      yield* checkEndpoints(metadata)
      this.discovered = { resource, metadata, metadataDiscovered: Option.isSome(found) }
      return this.discovered
    })
  }

  private resourceOf(discovered: Discovered) {
    return canonicalResource(Option.match(discovered.resource, {
      onNone: () => this.config.serverUrl,
      onSome: (prm) => prm.resource
    }))
  }

  private tokenRequester(discovered: Discovered, client: ClientInformation) {
    const { metadata } = discovered
    const resource = this.resourceOf(discovered)
    return (body: Readonly<Record<string, string>>) =>
      requestToken(
        this.http,
        metadata.token_endpoint,
        { ...body, resource },
        (request, fields) =>
          Effect.gen(this, function*() {
            const method = yield* selectAuthentication(this.config.authentications, client, metadata)
            const applied = yield* method.apply({ client, metadata, request, body: fields })
            return yield* this.config.binding.tokenRequest(withForm(applied.request, applied.body))
          }),
        this.config.binding.retryTokenRequest
      )
  }

  private stored(tokens: TokenResponse, previous: StoredTokens | undefined) {
    return Effect.map(Clock.currentTimeMillis, (now): StoredTokens => {
      const refreshToken = tokens.refresh_token ?? previous?.refreshToken
      const scope = tokens.scope ?? previous?.scope
      return {
        accessToken: tokens.access_token,
        tokenType: tokens.token_type,
        ...(refreshToken !== undefined ? { refreshToken } : {}),
        ...(tokens.expires_in !== undefined ? { expiresAt: now + tokens.expires_in * 1000 } : {}),
        ...(scope !== undefined ? { scope } : {})
      }
    })
  }

  /** A refresh (rotating the refresh token when the server sends a new one); fails when there is none or it is refused. */
  private refresh(discovered: Discovered): Effect.Effect<void, OAuthClientError> {
    return Effect.gen(this, function*() {
      const current = this.current
      const refreshToken = current?.tokens?.refreshToken
      if (current === undefined || refreshToken === undefined || current.issuer !== discovered.metadata.issuer) {
        return yield* new OAuthClientError({ reason: "Token", message: "There is no refresh token to use" })
      }
      const answer = yield* this.tokenRequester(discovered, current.client)({
        grant_type: "refresh_token",
        refresh_token: refreshToken
      })
      yield* this.save({ ...current, tokens: yield* this.stored(answer, current.tokens) })
    }).pipe(Effect.tapError(() => this.current?.tokens === undefined ? Effect.void : this.dropTokens))
  }

  private get dropTokens() {
    const current = this.current
    if (current === undefined) return Effect.void
    const { tokens: _, ...rest } = current
    return this.save(rest)
  }

  /**
   * The scope to ask for, in the spec's order: the challenge's, else the
   * resource's `scopes_supported`, else the configured one, else none; on
   * step-up, with what was asked before; with `offline_access` when the
   * server offers it, since the client wants a refresh token.
   */
  private scopeFor(challenge: Challenge, discovered: Discovered, stepUp: boolean) {
    const supported = Option.flatMap(discovered.resource, (prm) => Option.fromNullable(prm.scopes_supported))
    const chosen = challenge.params.scope ??
      Option.getOrUndefined(Option.map(supported, (s) => s.join(" "))) ?? this.config.scope
    const scope = stepUp ? union(this.current?.scope, chosen) : union(chosen)
    const offline = discovered.metadata.scopes_supported?.includes("offline_access") === true
    return scope !== undefined && offline ? union(scope, "offline_access") : scope
  }

  /** The client at this authorization server: pre-registered, a metadata document URL, or registered now. */
  private client(discovered: Discovered): Effect.Effect<ClientInformation, OAuthClientError> {
    const { config } = this
    const { metadata } = discovered
    if (this.current !== undefined) return Effect.succeed(this.current.client)
    if (config.clientId !== undefined) {
      return Effect.succeed({
        client_id: config.clientId,
        ...(config.clientSecret !== undefined ? { client_secret: config.clientSecret } : {}),
        ...(config.tokenEndpointAuthMethod !== undefined
          ? { token_endpoint_auth_method: config.tokenEndpointAuthMethod }
          : {})
      })
    }
    if (config.clientMetadataUrl !== undefined && metadata.client_id_metadata_document_supported === true) {
      return isMetadataDocumentUrl(config.clientMetadataUrl)
        ? Effect.succeed({ client_id: config.clientMetadataUrl, token_endpoint_auth_method: "none" })
        : new OAuthClientError({
          reason: "Registration",
          message: "The client metadata document URL must be an https URL with a path"
        })
    }
    if (metadata.registration_endpoint === undefined) {
      return new OAuthClientError({
        reason: "Registration",
        message: `The authorization server ${metadata.issuer} offers no dynamic client registration, ` +
          "and no client id (nor a client metadata document it accepts) is configured"
      })
    }
    // A public client where the server allows one (no secret to keep on the user's machine); the
    // server's choice when it says nothing.
    const supported = metadata.token_endpoint_auth_methods_supported
    const method = supported === undefined
      ? undefined
      : supported.includes("none")
      ? "none"
      : config.authentications.map((m) => m.method).find((m) => supported.includes(m))
    return register(this.http, metadata.registration_endpoint, {
      ...config.grant.clientMetadata,
      client_name: config.clientName,
      application_type: config.applicationType,
      grant_types: union(...config.grant.grantTypes, "refresh_token")?.split(" "),
      ...(method !== undefined ? { token_endpoint_auth_method: method } : {})
    })
  }

  /** Runs discovery and the grant, keeping the result. */
  private signInFor(challenge: Challenge, stepUp: boolean): Effect.Effect<void, OAuthClientError> {
    return Effect.withSpan(this.signInSteps(challenge, stepUp), "OAuthClient.signIn", {
      attributes: { resource: this.key, stepUp }
    })
  }

  private signInSteps(challenge: Challenge, stepUp: boolean): Effect.Effect<void, OAuthClientError> {
    return Effect.gen(this, function*() {
      const discovered = yield* this.discover(challenge)
      // Credentials belong to the server that issued them: a new authorization server starts afresh.
      if (this.current !== undefined && this.current.issuer !== discovered.metadata.issuer) yield* this.save(undefined)
      if (!stepUp && this.current?.tokens?.refreshToken !== undefined) {
        const refreshed = yield* Effect.either(this.refresh(discovered))
        if (refreshed._tag === "Right") return
      }
      const scope = this.scopeFor(challenge, discovered, stepUp)
      const client = yield* this.client(discovered)
      const answer = yield* this.config.grant.obtain({
        resource: this.resourceOf(discovered),
        scope,
        metadata: discovered.metadata,
        metadataDiscovered: discovered.metadataDiscovered,
        client,
        http: this.http,
        requestToken: this.tokenRequester(discovered, client)
      })
      yield* this.save({
        issuer: discovered.metadata.issuer,
        client,
        ...(scope !== undefined ? { scope } : {}),
        tokens: yield* this.stored(answer, undefined)
      })
    })
  }

  /**
   * Signs in now unless tokens are held, discovering from the well-known URLs
   * since there is no challenge to read.
   */
  get signIn(): Effect.Effect<void, OAuthClientError> {
    return Effect.flatMap(
      this.tokens,
      (tokens) => tokens !== undefined ? Effect.void : this.recover(undefined, parseChallenge(undefined), false)
    )
  }

  /** After a 401 or 403 to a request sent with `used`: signs in, unless another request already did. */
  recover(
    used: StoredTokens | undefined,
    challenge: Challenge,
    stepUp: boolean
  ): Effect.Effect<void, OAuthClientError> {
    return this.lock.withPermits(1)(
      Effect.suspend(() => this.current?.tokens !== used ? Effect.void : this.signInFor(challenge, stepUp))
    )
  }
}

const isInsufficientScope = (response: HttpClientResponse.HttpClientResponse, challenge: Challenge) =>
  response.status === 403 && challenge.params.error === "insufficient_scope"

/** How far one request has come: signed in for it, stepped up, presented anew. */
interface Attempt {
  readonly signedIn: boolean
  readonly stepUps: number
  readonly represented: boolean
}

/**
 * Sends `request` with the token; on a 401 signs in (or refreshes) once and
 * sends it again; on a 403 `insufficient_scope` re-authorizes with the
 * union of scopes, at most `maxStepUps` times. A response that stays 401 or
 * 403 is returned as it is.
 */
const send = (
  authorizer: Authorizer,
  http: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  attempt: Attempt
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | OAuthClientError> =>
  Effect.gen(function*() {
    const { binding, maxStepUps } = authorizer.config
    const tokens = yield* authorizer.tokens
    const sent = tokens === undefined ? request : yield* binding.resourceRequest(request, tokens)
    const response = yield* http.execute(sent)
    if (response.status !== 401 && response.status !== 403) return response
    if (
      response.status === 401 && tokens !== undefined && !attempt.represented &&
      binding.retryResourceRequest !== undefined && (yield* binding.retryResourceRequest(response))
    ) {
      yield* Effect.ignore(response.text)
      return yield* send(authorizer, http, request, { ...attempt, represented: true })
    }
    const challenge = parseChallenge(response.headers["www-authenticate"])
    const stepUp = isInsufficientScope(response, challenge)
    if (response.status === 401 ? attempt.signedIn : !stepUp || attempt.stepUps >= maxStepUps) return response
    yield* Effect.ignore(response.text)
    yield* authorizer.recover(tokens, challenge, stepUp)
    return yield* send(authorizer, http, request, {
      signedIn: true,
      stepUps: stepUp ? attempt.stepUps + 1 : attempt.stepUps,
      represented: false
    })
  })

/** `http` with the authorization: the token on every request, and 401 and 403 handled by signing in. */
export const authorizingClient = (authorizer: Authorizer, http: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.make((request) =>
    send(authorizer, http, request, { signedIn: false, stepUps: 0, represented: false }).pipe(
      Effect.catchTag("OAuthClientError", (error) =>
        Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: error, description: error.message })
        ))
    )
  )
