/**
 * Clients: finding them (the store, or a client ID metadata document),
 * authenticating them at the token, revocation and introspection endpoints,
 * and registering them (RFC 7591).
 */
import { HttpServerRequest } from "@effect/platform"
import type { HttpClientError } from "@effect/platform"
import { Clock, Effect, Either, Encoding, Option, ParseResult, Schema } from "effect"
import type { Client, OAuthStoreError, TokenEndpointAuthMethod } from "../../../OAuthStore.js"
import {
  invalidClient,
  invalidClientMetadata,
  invalidRedirectUri,
  invalidRequest,
  jsonResponse,
  type OAuthError
} from "./errors.js"
import { constantTimeEqual, randomToken, sha256 } from "./keys.js"
import { type Params, readBody } from "./params.js"
import type { Settings } from "./settings.js"

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"])
/** Schemes a redirect URI may never have: they would run or read something in the browser. */
const FORBIDDEN_SCHEMES = new Set(["javascript:", "data:", "file:", "vbscript:", "blob:", "about:"])

/**
 * Whether a redirect URI may be registered (OAuth 2.1 §2.3.1): absolute, no
 * fragment, and https, http on a loopback host, or a native app's own scheme.
 */
export const redirectUriProblem = (uri: string): Option.Option<string> => {
  const url = URL.canParse(uri) ? new URL(uri) : undefined
  if (url === undefined) return Option.some("a redirect URI is not an absolute URI")
  if (url.hash !== "" || uri.includes("#")) return Option.some("a redirect URI has a fragment")
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return Option.some(`a redirect URI has the scheme ${url.protocol}`)
  if (url.protocol === "http:" && !LOOPBACK_HOSTS.has(url.hostname)) {
    return Option.some("a redirect URI uses http on a host other than localhost")
  }
  return Option.none()
}

/** Whether a client ID is a client ID metadata document URL this provider fetches. */
const isMetadataDocumentId = (settings: Settings, clientId: string): boolean => {
  if (!settings.clientIdMetadataDocuments || !URL.canParse(clientId)) return false
  const url = new URL(clientId)
  return url.protocol === "https:" ||
    (settings.allowHttpLoopbackClientIds && url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))
}

const MetadataDocument = Schema.Struct({
  client_id: Schema.String,
  redirect_uris: Schema.NonEmptyArray(Schema.String),
  client_name: Schema.optional(Schema.String),
  token_endpoint_auth_method: Schema.optional(Schema.String),
  grant_types: Schema.optional(Schema.Array(Schema.String)),
  scope: Schema.optional(Schema.String),
  client_secret: Schema.optional(Schema.Unknown)
})

/** Largest client ID metadata document read (the draft suggests 5 KB). */
const MAX_DOCUMENT_BYTES = 5 * 1024

/**
 * The client a client ID metadata document describes (draft-ietf-oauth-client-id-metadata-document): fetched from
 * its URL, which the document's `client_id` must repeat. Such a client is public: it holds no secret.
 */
const fetchMetadataDocument = (settings: Settings, clientId: string): Effect.Effect<Client, OAuthError> => {
  const url = new URL(clientId)
  const unusable = (why: string) => invalidRequest(`the client ID metadata document ${why}`)
  if (url.pathname === "/" || url.hash !== "" || url.username !== "" || url.password !== "") {
    return Effect.fail(invalidRequest("the client_id URL must have a path, and no fragment or credentials"))
  }
  return settings.http.get(clientId, { headers: { accept: "application/json" } }).pipe(
    Effect.flatMap((response): Effect.Effect<string, OAuthError | HttpClientError.ResponseError> =>
      response.status !== 200 ?
        Effect.fail(unusable(`could not be fetched (HTTP ${response.status})`)) :
        Number(response.headers["content-length"] ?? "0") > MAX_DOCUMENT_BYTES ?
        Effect.fail(unusable("is too large")) :
        response.text
    ),
    Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => unusable("could not be fetched in time") }),
    Effect.catchTag("RequestError", "ResponseError", () => Effect.fail(unusable("could not be fetched"))),
    Effect.filterOrFail((text) => text.length <= MAX_DOCUMENT_BYTES, () => unusable("is too large")),
    Effect.flatMap((text) =>
      Schema.decodeUnknown(Schema.parseJson(MetadataDocument))(text).pipe(
        Effect.mapError(() => unusable("is not a JSON object with client_id and redirect_uris"))
      )
    ),
    Effect.filterOrFail((doc) => doc.client_id === clientId, () => unusable("names another client_id")),
    Effect.filterOrFail(
      (doc) =>
        doc.client_secret === undefined &&
        (doc.token_endpoint_auth_method === undefined || doc.token_endpoint_auth_method === "none"),
      () => unusable("asks for a client secret, which a public document cannot hold")
    ),
    Effect.map((doc): Client => ({
      clientId,
      redirectUris: doc.redirect_uris,
      tokenEndpointAuthMethod: "none",
      grantTypes: doc.grant_types ?? ["authorization_code", "refresh_token"],
      clientName: doc.client_name,
      issuedAt: 0
    }))
  )
}

/** The client an authorization request names: registered, or described by its metadata document. */
export const clientForAuthorization = (
  settings: Settings,
  clientId: string
): Effect.Effect<Option.Option<Client>, OAuthError | OAuthStoreError> =>
  Effect.flatMap(
    settings.store.getClient(clientId),
    (stored) =>
      Option.isSome(stored) || !isMetadataDocumentId(settings, clientId) ?
        Effect.succeed(stored) :
        Effect.asSome(fetchMetadataDocument(settings, clientId))
  )

/**
 * The client at the token endpoint, without fetching: a metadata document client is public, and what it may do was
 * checked when it was authorized (its codes and refresh tokens are bound to its client ID).
 */
const clientForToken = (
  settings: Settings,
  clientId: string
): Effect.Effect<Option.Option<Client>, OAuthStoreError> =>
  Effect.map(
    settings.store.getClient(clientId),
    (stored) =>
      Option.isSome(stored) || !isMetadataDocumentId(settings, clientId) ? stored : Option.some({
        clientId,
        redirectUris: [],
        tokenEndpointAuthMethod: "none",
        grantTypes: ["authorization_code", "refresh_token"],
        issuedAt: 0
      })
  )

/** The credentials of a Basic `Authorization` header (RFC 6749 §2.3.1: each part form-urlencoded). */
const basicCredentials = (header: string): Option.Option<{ readonly id: string; readonly secret: string }> => {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim())
  if (match === null) return Option.none()
  return Either.match(Encoding.decodeBase64String(match[1]), {
    onLeft: () => Option.none(),
    onRight: (decoded) => {
      const colon = decoded.indexOf(":")
      if (colon < 0) return Option.none()
      const part = (s: string) => decodeURIComponent(s.replace(/\+/g, " "))
      try {
        return Option.some({ id: part(decoded.slice(0, colon)), secret: part(decoded.slice(colon + 1)) })
      } catch {
        return Option.none()
      }
    }
  })
}

interface Presented {
  readonly id: string
  readonly secret: Option.Option<string>
  readonly method: TokenEndpointAuthMethod
}

/** Who the request says it is, and how it proves it (one method only, RFC 6749 §2.3). */
const presented = (
  request: HttpServerRequest.HttpServerRequest,
  params: Params
): Effect.Effect<Presented, OAuthError> => {
  const header = request.headers["authorization"]
  const bodyId = params.get("client_id")
  const bodySecret = params.get("client_secret")
  if (header !== undefined) {
    if (Option.isSome(bodySecret)) return Effect.fail(invalidRequest("use one client authentication method, not two"))
    return Option.match(basicCredentials(header), {
      onNone: () => Effect.fail(invalidClient("the Authorization header is not valid Basic credentials", true)),
      onSome: ({ id, secret }) =>
        Option.isSome(bodyId) && bodyId.value !== id ?
          Effect.fail(invalidClient("client_id differs from the authenticated client", true)) :
          Effect.succeed({ id, secret: Option.some(secret), method: "client_secret_basic" as const })
    })
  }
  return Option.match(bodyId, {
    onNone: () => Effect.fail(invalidClient("no client authentication, and no client_id", false)),
    onSome: (id) =>
      Effect.succeed({
        id,
        secret: bodySecret,
        method: Option.isSome(bodySecret) ? "client_secret_post" as const : "none" as const
      })
  })
}

/** Authenticates the client of a token, revocation or introspection request. */
export const authenticate = (
  settings: Settings,
  request: HttpServerRequest.HttpServerRequest,
  params: Params
): Effect.Effect<Client, OAuthError | OAuthStoreError> =>
  Effect.gen(function*() {
    const who = yield* presented(request, params)
    const basic = who.method === "client_secret_basic"
    const fail = (description: string) => Effect.fail(invalidClient(description, basic))
    const client = yield* clientForToken(settings, who.id)
    if (Option.isNone(client)) return yield* fail("the client is unknown, or its credentials are wrong")
    if (!settings.authMethods.includes(who.method)) {
      return yield* fail(`client authentication by ${who.method} is not supported`)
    }
    if (client.value.tokenEndpointAuthMethod === "none") {
      return who.method === "none" ? client.value : yield* fail("a public client has no secret to send")
    }
    if (Option.isNone(who.secret) || client.value.secretHash === undefined) {
      return yield* fail("the client must authenticate with its secret")
    }
    const hash = yield* sha256(who.secret.value)
    return constantTimeEqual(hash, client.value.secretHash) ?
      client.value :
      yield* fail("the client is unknown, or its credentials are wrong")
  })

const RegistrationRequest = Schema.Struct({
  redirect_uris: Schema.NonEmptyArray(Schema.String),
  token_endpoint_auth_method: Schema.optional(Schema.Literal("client_secret_basic", "client_secret_post", "none")),
  grant_types: Schema.optional(Schema.Array(Schema.Literal("authorization_code", "refresh_token"))),
  response_types: Schema.optional(Schema.Array(Schema.Literal("code"))),
  client_name: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String)
})

/** What is wrong with a registration request, in one line naming the field. */
const describeIssue = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  const field = issue?.path.length ? issue.path.join(".") : "the body"
  return `${field}: ${issue?.message ?? "invalid"}`.slice(0, 200)
}

/** Dynamic client registration (RFC 7591): validates the metadata, stores the client, answers its credentials. */
export const register = (settings: Settings) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!(request.headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
      return yield* Effect.fail(invalidClientMetadata("the body must be application/json"))
    }
    const text = yield* readBody(request)
    const body = yield* Schema.decodeUnknown(Schema.parseJson(RegistrationRequest))(text).pipe(
      Effect.mapError((error) => invalidClientMetadata(describeIssue(error)))
    )
    for (const uri of body.redirect_uris) {
      const problem = redirectUriProblem(uri)
      if (Option.isSome(problem)) return yield* Effect.fail(invalidRedirectUri(problem.value))
    }
    const method = body.token_endpoint_auth_method ?? "client_secret_basic"
    if (!settings.authMethods.includes(method)) {
      return yield* Effect.fail(invalidClientMetadata(`token_endpoint_auth_method ${method} is not supported`))
    }
    const scopes = body.scope?.split(" ").filter((s) => s !== "")
    const unknown = scopes?.find((scope) => settings.scopes !== undefined && !settings.scopes.includes(scope))
    if (unknown !== undefined) return yield* Effect.fail(invalidClientMetadata(`the scope ${unknown} is not supported`))
    const secret = method === "none" ? undefined : randomToken()
    const client: Client = {
      clientId: randomToken(),
      secretHash: secret === undefined ? undefined : yield* sha256(secret),
      redirectUris: body.redirect_uris,
      tokenEndpointAuthMethod: method,
      grantTypes: body.grant_types ?? ["authorization_code"],
      scopes,
      clientName: body.client_name,
      issuedAt: Math.floor((yield* Clock.currentTimeMillis) / 1000)
    }
    yield* settings.store.saveClient(client)
    return jsonResponse({
      client_id: client.clientId,
      ...(secret === undefined ? {} : { client_secret: secret, client_secret_expires_at: 0 }),
      client_id_issued_at: client.issuedAt,
      redirect_uris: client.redirectUris,
      token_endpoint_auth_method: method,
      grant_types: client.grantTypes,
      response_types: ["code"],
      ...(client.clientName === undefined ? {} : { client_name: client.clientName }),
      ...(body.scope === undefined ? {} : { scope: body.scope })
    }, 201)
  })
