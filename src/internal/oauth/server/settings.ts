/**
 * What every endpoint of one provider shares: its resolved options, store,
 * signing key and HTTP client.
 */
import type { HttpClient, HttpServerRequest } from "@effect/platform"
import type { Effect } from "effect"
import type { CryptoKey } from "jose"
import type { AuthorizationRequest, ConsentDecision } from "../../../OAuthProvider.js"
import type { Service as Store, TokenEndpointAuthMethod } from "../../../OAuthStore.js"
import type { SigningKey } from "./keys.js"

export interface Endpoints {
  readonly authorization: string
  readonly token: string
  readonly registration: string
  readonly revocation: string
  readonly introspection: string
  readonly jwks: string
}

export interface Settings {
  readonly issuer: string
  readonly endpoints: Endpoints
  readonly store: Store
  readonly key: SigningKey
  readonly publicKey: CryptoKey
  readonly http: HttpClient.HttpClient
  /** The scopes clients may ask for; none: any. */
  readonly scopes: ReadonlyArray<string> | undefined
  readonly defaultScopes: ReadonlyArray<string>
  /** The resources tokens may be for; none: any absolute URI, and a request must name one. */
  readonly resources: ReadonlyArray<string> | undefined
  readonly authMethods: ReadonlyArray<TokenEndpointAuthMethod>
  readonly dynamicRegistration: boolean
  readonly clientIdMetadataDocuments: boolean
  readonly allowHttpLoopbackClientIds: boolean
  readonly accessTokenMillis: number
  readonly refreshTokenMillis: number
  readonly codeMillis: number
  readonly consent: (
    request: AuthorizationRequest
  ) => Effect.Effect<ConsentDecision, never, HttpServerRequest.HttpServerRequest>
}
