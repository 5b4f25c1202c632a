/**
 * One request to a token endpoint: the grant's parameters as a form, the
 * client's authentication, a DPoP proof when the client holds a DPoP key, and
 * one more try when the authorization server asks for a DPoP nonce.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { Headers } from "@effect/platform"
import { Effect, Encoding, Redacted } from "effect"
import type { ClientAuthentication } from "../../../OAuthGrants.js"
import * as Assertions from "./assertions.js"
import * as Dpop from "./dpop.js"

/** A DPoP key with the nonces its servers gave. */
export interface Prover {
  readonly key: Dpop.Key
  readonly nonces: Dpop.Nonces
}

/** What the token endpoint answered, before its body is judged. */
export interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  /** The body as JSON, or undefined when it is not JSON. */
  readonly body: unknown
}

/** `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 asks of Basic credentials. */
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+")

const secretOf = (secret: Redacted.Redacted<string> | string) =>
  typeof secret === "string" ? secret : Redacted.value(secret)

/** The headers and form parameters that authenticate the client (RFC 6749 §2.3, RFC 7523 §2.2). */
export const authenticate = (
  client: ClientAuthentication,
  audience: string
): Effect.Effect<{ readonly headers: Record<string, string>; readonly params: Record<string, string> }, Error> => {
  switch (client.method) {
    case "none":
      return Effect.succeed({ headers: {}, params: { client_id: client.clientId } })
    case "client_secret_post":
      return Effect.succeed({
        headers: {},
        params: { client_id: client.clientId, client_secret: secretOf(client.clientSecret) }
      })
    case "client_secret_basic": {
      const credentials = `${formEncode(client.clientId)}:${formEncode(secretOf(client.clientSecret))}`
      return Effect.succeed({
        headers: { authorization: `Basic ${Encoding.encodeBase64(credentials)}` },
        params: {}
      })
    }
    case "private_key_jwt": {
      const algorithm = client.algorithm ?? "ES256"
      return Assertions.signingKey(client.privateKey, algorithm).pipe(
        Effect.flatMap((key) => Assertions.clientAssertion({ clientId: client.clientId, audience, key, algorithm })),
        Effect.map((assertion) => ({
          headers: {},
          // client_id too, though RFC 7521 §4.2 makes it optional: some servers look the client up by it first.
          params: {
            client_id: client.clientId,
            client_assertion_type: Assertions.JWT_BEARER_ASSERTION_TYPE,
            client_assertion: assertion
          }
        }))
      )
    }
  }
}

/** Reads a body as JSON, or undefined: an error page is not a reason to lose the status. */
const jsonOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** One POST of the form, with a fresh proof carrying the nonce the endpoint gave last. */
const post = (
  tokenEndpoint: string,
  form: Record<string, string>,
  headers: Record<string, string>,
  prover: Prover | undefined
) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const proof = prover === undefined ? undefined : yield* Dpop.proof(prover.key, {
      method: "POST",
      url: tokenEndpoint,
      nonce: prover.nonces.get(tokenEndpoint)
    })
    const request = HttpClientRequest.post(tokenEndpoint).pipe(
      HttpClientRequest.setHeaders(proof === undefined ? headers : { ...headers, dpop: proof }),
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams(form)
    )
    const response = yield* http.execute(request)
    const text = yield* response.text
    prover?.nonces.remember(tokenEndpoint, response.headers)
    return { status: response.status, headers: response.headers, body: jsonOrUndefined(text) } satisfies Answer
  })

/**
 * Posts a grant to a token endpoint. Only a `use_dpop_nonce` challenge that
 * came with a nonce is tried again, once: any other refusal is the caller's
 * to report, since repeating a refused grant only repeats the refusal.
 */
export const request = Effect.fn("OAuth.tokenRequest")(function*(options: {
  readonly tokenEndpoint: string
  readonly audience: string
  readonly params: Record<string, string>
  readonly client: ClientAuthentication | undefined
  readonly prover: Prover | undefined
}) {
  // Authenticated afresh on each try: a private_key_jwt assertion's `jti` must not be used twice.
  const attempt = Effect.gen(function*() {
    const credentials = options.client === undefined
      ? { headers: {}, params: {} }
      : yield* authenticate(options.client, options.audience)
    return yield* post(
      options.tokenEndpoint,
      { ...options.params, ...credentials.params },
      credentials.headers,
      options.prover
    )
  })
  const first = yield* attempt
  const challenged = options.prover !== undefined && Dpop.isTokenEndpointChallenge(first.status, first.body) &&
    first.headers["dpop-nonce"] !== undefined
  return challenged ? yield* attempt : first
})
