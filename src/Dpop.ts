/**
 * DPoP (RFC 9449): tokens bound to a key the client holds. The client signs a
 * fresh proof for each request (`htm`, `htu`, `iat`, `jti`; `ath` when it
 * carries an access token; the server's `nonce` once one was given), asks for
 * bound tokens by sending a proof with its token requests (`OAuthGrants`'
 * `dpop` option), and presents them as `Authorization: DPoP <token>` with a
 * proof, through an `HttpClient` made by `bindHttpClient`. A server's
 * `use_dpop_nonce` challenge is answered by trying once more with its nonce.
 *
 * @example
 * ```ts
 * import { FetchHttpClient, HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Dpop, StreamableHttpClient } from "mcp-effect"
 *
 * declare const accessToken: string
 * const program = Effect.gen(function*() {
 *   const prover = yield* Dpop.make()
 *   const http = Dpop.bindHttpClient(prover, accessToken)(yield* HttpClient.HttpClient)
 *   const client = yield* StreamableHttpClient.connect("https://mcp.example.com/mcp").pipe(
 *     Effect.provideService(HttpClient.HttpClient, http)
 *   )
 *   return yield* client.listTools
 * }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.2.0
 */
import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import type { HttpClientResponse } from "@effect/platform"
import { Effect, Schema } from "effect"
import type { CryptoKey } from "jose"
import * as Internal from "./internal/oauth/client/dpop.js"
import { OAuthClientError } from "./OAuthClient.js"
import type * as OAuthClient from "./OAuthClient.js"

/**
 * A DPoP key pair could not be made or used.
 *
 * @since 0.2.0
 * @category errors
 */
export class DpopKeyError extends Schema.TaggedError<DpopKeyError>()("DpopKeyError", {
  reason: Schema.String
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    return `DPoP: ${this.reason}`
  }
}

/**
 * A DPoP key: the private key that signs proofs, its public JWK (sent in each
 * proof) and that JWK's RFC 7638 thumbprint (a bound token's `cnf.jkt`).
 *
 * @since 0.2.0
 * @category models
 */
export interface DpopKey extends Internal.Key {}

/**
 * A DPoP key and the nonces its servers gave, by endpoint: what signs the
 * client's proofs. One prover serves the token requests and the MCP requests
 * of a connection, since the token is bound to its key.
 *
 * @since 0.2.0
 * @category models
 */
export interface Prover {
  readonly key: DpopKey
  readonly nonces: Internal.Nonces
}

const keyError = (error: Error) => new DpopKeyError({ reason: error.message })

/**
 * A fresh key pair (ES256 unless another asymmetric JWS algorithm is named);
 * its private key cannot be exported.
 *
 * @since 0.2.0
 * @category constructors
 */
export const generateKey = (algorithm = "ES256"): Effect.Effect<DpopKey, DpopKeyError> =>
  Internal.generate(algorithm).pipe(Effect.mapError(keyError))

/**
 * A key from a key pair of one's own (kept across restarts, say).
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromKeyPair = (
  pair: { readonly privateKey: CryptoKey; readonly publicKey: CryptoKey },
  algorithm = "ES256"
): Effect.Effect<DpopKey, DpopKeyError> => Internal.fromKeyPair(pair, algorithm).pipe(Effect.mapError(keyError))

/**
 * A prover with the given key, or a fresh ES256 one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Dpop } from "mcp-effect"
 *
 * const thumbprint = Dpop.make().pipe(Effect.map((prover) => prover.key.thumbprint))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: { readonly key?: DpopKey } = {}): Effect.Effect<Prover, DpopKeyError> =>
  Effect.map(
    options.key === undefined ? generateKey() : Effect.succeed(options.key),
    (key) => ({ key, nonces: new Internal.Nonces() })
  )

/**
 * A proof for one request, carrying the nonce last given by the URL's endpoint
 * and, with an access token, its hash (`ath`).
 *
 * @since 0.2.0
 * @category combinators
 */
export const proof = (
  prover: Prover,
  target: { readonly method: string; readonly url: string | URL; readonly accessToken?: string | undefined }
): Effect.Effect<string, DpopKeyError> =>
  // Suspended: the nonce is the one known when the proof is signed, not when the effect was made.
  Effect.suspend(() => Internal.proof(prover.key, { ...target, nonce: prover.nonces.get(target.url) })).pipe(
    Effect.mapError(keyError)
  )

/** Sends a request with the token and a fresh proof; keeps any nonce the answer brings. */
const sendBound = (
  client: HttpClient.HttpClient,
  prover: Prover,
  accessToken: string,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  proof(prover, { method: request.method, url: request.url, accessToken }).pipe(
    Effect.mapError((error) =>
      new HttpClientError.RequestError({ request, reason: "Encode", description: error.message })
    ),
    Effect.flatMap((signed) =>
      client.execute(HttpClientRequest.setHeaders(request, { authorization: `DPoP ${accessToken}`, dpop: signed }))
    ),
    Effect.tap((response) => prover.nonces.remember(request.url, response.headers))
  )

/**
 * An `HttpClient` that presents a DPoP-bound access token: each request gets
 * `Authorization: DPoP <token>` and a fresh proof. When the resource server
 * answers 401 with a `use_dpop_nonce` challenge and a `DPoP-Nonce`, the
 * request is sent once more with a proof carrying that nonce, and later
 * requests carry it from the start.
 *
 * @since 0.2.0
 * @category combinators
 */
export const bindHttpClient = (
  prover: Prover,
  accessToken: string | Effect.Effect<string>
) =>
(client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.makeWith(
    (
      prepared: Effect.Effect<HttpClientRequest.HttpClientRequest>
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
      Effect.gen(function*() {
        const request = yield* prepared
        const token = typeof accessToken === "string" ? accessToken : yield* accessToken
        const response = yield* sendBound(client, prover, token, request)
        if (!Internal.isResourceChallenge(response.status, response.headers)) return response
        if (response.headers["dpop-nonce"] === undefined) return response
        // The challenge's body is read and dropped, so that its connection is free for the retry.
        yield* Effect.ignore(response.text)
        return yield* sendBound(client, prover, token, request)
      }),
    Effect.succeed
  )

/** Whether a response is a DPoP nonce challenge: the resource's 401, or the token endpoint's 400 `use_dpop_nonce`. */
const isChallenge = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<boolean> => {
  if (Internal.isResourceChallenge(response.status, response.headers)) return Effect.succeed(true)
  if (response.status !== 400) return Effect.succeed(false)
  // The body is read once and kept by the response: the caller can still read the error from it.
  return Effect.map(
    Effect.orElseSucceed(response.json, () => undefined),
    (body) => Internal.isTokenEndpointChallenge(response.status, body)
  )
}

/** Keeps the nonce a refusal brings, and says whether the refusal asked for it. */
const answerChallenge = (prover: Prover, response: HttpClientResponse.HttpClientResponse) =>
  prover.nonces.remember(response.request.url, response.headers) ? isChallenge(response) : Effect.succeed(false)

const proofOrFail = (prover: Prover, target: Parameters<typeof proof>[1]) =>
  proof(prover, target).pipe(
    Effect.mapError((error) => new OAuthClientError({ reason: "Token", message: error.message }))
  )

/**
 * DPoP as an `OAuthClient` token binding: token requests carry a proof, so
 * the authorization server binds the tokens to the prover's key; requests
 * to the MCP server present a `DPoP` token with a fresh proof (or Bearer,
 * when the server issued a Bearer token after all); a `use_dpop_nonce`
 * challenge from either is answered once with the nonce it gave.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Dpop, OAuthClient, StreamableHttpClient } from "mcp-effect"
 *
 * const url = "https://mcp.example.com/mcp"
 * const program = Effect.gen(function*() {
 *   const prover = yield* Dpop.make()
 *   const authorization = yield* OAuthClient.make(url, { tokenBinding: Dpop.tokenBinding(prover) })
 *   const client = yield* StreamableHttpClient.connect(url, { http: { authorization } })
 *   return yield* client.listTools
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const tokenBinding = (prover: Prover): OAuthClient.TokenBinding => ({
  tokenRequest: (request) =>
    Effect.map(
      proofOrFail(prover, { method: request.method, url: request.url }),
      (signed) => HttpClientRequest.setHeader(request, "dpop", signed)
    ),
  resourceRequest: (request, tokens) =>
    tokens.tokenType.toLowerCase() !== "dpop"
      ? Effect.succeed(HttpClientRequest.bearerToken(request, tokens.accessToken))
      : Effect.map(
        proofOrFail(prover, { method: request.method, url: request.url, accessToken: tokens.accessToken }),
        (signed) => HttpClientRequest.setHeaders(request, { authorization: `DPoP ${tokens.accessToken}`, dpop: signed })
      ),
  retryTokenRequest: (response) => answerChallenge(prover, response),
  retryResourceRequest: (response) => answerChallenge(prover, response)
})
