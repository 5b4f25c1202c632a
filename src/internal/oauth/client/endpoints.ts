/**
 * The authorization server's endpoints as a client calls them: dynamic
 * client registration (RFC 7591) and token requests, with the client
 * authenticated by one of the methods the server supports.
 */
import { HttpClientRequest } from "@effect/platform"
import type { HttpClient, HttpClientResponse } from "@effect/platform"
import { Effect, Encoding, Option, Schema } from "effect"
import type { AuthorizationServerMetadata, TokenResponse as TokenResponseType } from "./model.js"
import { ClientInformation, ErrorResponse, OAuthClientError, TokenResponse } from "./model.js"

/** How a client proves itself at the token endpoint (RFC 6749 §2.3, RFC 8414 `token_endpoint_auth_methods_supported`). */
export interface ClientAuthentication {
  readonly method: string
  /** Whether this client has what the method needs (a secret, a key…). */
  readonly canUse: (client: ClientInformation) => boolean
  readonly apply: (input: {
    readonly client: ClientInformation
    readonly metadata: AuthorizationServerMetadata
    readonly request: HttpClientRequest.HttpClientRequest
    readonly body: Readonly<Record<string, string>>
  }) => Effect.Effect<
    { readonly request: HttpClientRequest.HttpClientRequest; readonly body: Readonly<Record<string, string>> },
    OAuthClientError
  >
}

/** RFC 6749 §2.3.1: the id and secret form-encoded, then joined in HTTP Basic. */
export const clientSecretBasic: ClientAuthentication = {
  method: "client_secret_basic",
  canUse: (client) => client.client_secret !== undefined,
  apply: ({ body, client, request }) => {
    const user = `${formEncode(client.client_id)}:${formEncode(client.client_secret ?? "")}`
    return Effect.succeed({
      request: HttpClientRequest.setHeader(request, "authorization", `Basic ${Encoding.encodeBase64(user)}`),
      body
    })
  }
}

/** RFC 6749 §2.3.1: the id and secret in the body. */
export const clientSecretPost: ClientAuthentication = {
  method: "client_secret_post",
  canUse: (client) => client.client_secret !== undefined,
  apply: ({ body, client, request }) =>
    Effect.succeed({
      request,
      body: { ...body, client_id: client.client_id, client_secret: client.client_secret ?? "" }
    })
}

/** A public client: its id in the body and nothing else. */
export const none: ClientAuthentication = {
  method: "none",
  canUse: () => true,
  apply: ({ body, client, request }) => Effect.succeed({ request, body: { ...body, client_id: client.client_id } })
}

const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+")

/**
 * The method to authenticate with: the one the client registered with if
 * this client can use it; else the first of `methods` the client can use and
 * the server supports.
 */
export const selectAuthentication = (
  methods: ReadonlyArray<ClientAuthentication>,
  client: ClientInformation,
  metadata: AuthorizationServerMetadata
): Effect.Effect<ClientAuthentication, OAuthClientError> => {
  const registered = methods.find((m) => m.method === client.token_endpoint_auth_method && m.canUse(client))
  if (registered !== undefined) return Effect.succeed(registered)
  // A server without metadata says nothing: the first method this client can use, then.
  const supported = metadata.token_endpoint_auth_methods_supported
  const usable = methods.find((m) => (supported === undefined || supported.includes(m.method)) && m.canUse(client))
  return usable !== undefined ? Effect.succeed(usable) : new OAuthClientError({
    reason: "Unsupported",
    message: `The authorization server accepts the token endpoint authentication methods ${
      supported?.join(", ")
    }, none of which this client can use`
  })
}

/** The refusal an endpoint answered with, told without echoing more than its OAuth error. */
const refusal = (reason: "Registration" | "Token", what: string, response: HttpClientResponse.HttpClientResponse) =>
  Effect.flatMap(Effect.orElseSucceed(response.json, () => undefined), (json) => {
    const error = Schema.decodeUnknownOption(ErrorResponse)(json)
    const detail = Option.match(error, {
      onNone: () => "",
      onSome: (e) => `: ${e.error}${e.error_description !== undefined ? ` (${e.error_description.slice(0, 200)})` : ""}`
    })
    return new OAuthClientError({ reason, message: `${what} was refused with HTTP ${response.status}${detail}` })
  })

const unreachable = (reason: "Registration" | "Token", what: string) => (error: { readonly message: string }) =>
  new OAuthClientError({ reason, message: `${what} failed: ${error.message}` })

/**
 * POSTs a token request and reads its answer; `prepare` adds the client's
 * authentication and any token binding. A refusal that `retry` accepts (a
 * DPoP nonce asked for, say) is prepared and sent once more.
 */
export const requestToken = (
  http: HttpClient.HttpClient,
  endpoint: string,
  body: Readonly<Record<string, string>>,
  prepare: (
    request: HttpClientRequest.HttpClientRequest,
    body: Readonly<Record<string, string>>
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, OAuthClientError>,
  retry?: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<boolean, OAuthClientError>
): Effect.Effect<TokenResponseType, OAuthClientError> =>
  Effect.gen(function*() {
    const request = yield* prepare(HttpClientRequest.post(endpoint).pipe(HttpClientRequest.acceptJson), body)
    const response = yield* http.execute(request).pipe(Effect.mapError(unreachable("Token", "The token request")))
    if (response.status !== 200) {
      if (retry !== undefined && (yield* retry(response))) return yield* requestToken(http, endpoint, body, prepare)
      return yield* refusal("Token", "The token request", response)
    }
    const json = yield* response.json.pipe(Effect.mapError(unreachable("Token", "Reading the token response")))
    return yield* Schema.decodeUnknown(TokenResponse)(json).pipe(
      Effect.mapError(() =>
        new OAuthClientError({ reason: "Token", message: "The token response has no access_token or token_type" })
      )
    )
  }).pipe(Effect.scoped)

/** Form-encodes a token request's body on the request. */
export const withForm = (request: HttpClientRequest.HttpClientRequest, body: Readonly<Record<string, string>>) =>
  HttpClientRequest.bodyUrlParams(request, body)

/** Registers the client (RFC 7591) with the metadata it describes itself with. */
export const register = (
  http: HttpClient.HttpClient,
  endpoint: string,
  clientMetadata: Readonly<Record<string, unknown>>
): Effect.Effect<ClientInformation, OAuthClientError> =>
  Effect.gen(function*() {
    const request = yield* HttpClientRequest.post(endpoint).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyJson(clientMetadata),
      Effect.mapError(() =>
        new OAuthClientError({ reason: "Registration", message: "The client metadata cannot be encoded as JSON" })
      )
    )
    const response = yield* http.execute(request).pipe(
      Effect.mapError(unreachable("Registration", "Dynamic client registration"))
    )
    if (response.status !== 200 && response.status !== 201) {
      return yield* refusal("Registration", "Dynamic client registration", response)
    }
    const json = yield* response.json.pipe(Effect.mapError(unreachable("Registration", "Reading the registration")))
    return yield* Schema.decodeUnknown(ClientInformation)(json).pipe(
      Effect.mapError(() =>
        new OAuthClientError({ reason: "Registration", message: "The registration response has no client_id" })
      )
    )
  }).pipe(Effect.scoped)

/** PKCE (RFC 7636): a random verifier and its S256 challenge. */
export const pkce = Effect.promise(async () => {
  const verifier = randomString(32)
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))
  return { verifier, challenge: Encoding.encodeBase64Url(new Uint8Array(digest)) }
})

/** `bytes` random bytes, base64url: a PKCE verifier (43 characters for 32) or a state. */
export const randomString = (bytes: number) =>
  Encoding.encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)))
