/**
 * The data of a client's OAuth flow: the metadata documents it reads, the
 * answers of the authorization server, what it keeps between runs, and its
 * one error.
 */
import { Schema } from "effect"

/** Where the flow broke; each reason says which party or check refused. */
export const OAuthClientErrorReason = Schema.Literal(
  "Discovery",
  "ResourceMismatch",
  "IssuerMismatch",
  "Unsupported",
  "Registration",
  "Authorization",
  "Token",
  "InsufficientScope",
  "Store"
)

export class OAuthClientError extends Schema.TaggedError<OAuthClientError>()("OAuthClientError", {
  reason: OAuthClientErrorReason,
  message: Schema.String
}) {}

const Strings = Schema.Array(Schema.String)
const Extra = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** RFC 9728 protected resource metadata: the fields the flow reads, others kept. */
export const ProtectedResourceMetadata = Schema.Struct({
  resource: Schema.String,
  authorization_servers: Schema.optional(Strings),
  scopes_supported: Schema.optional(Strings)
}, Extra)
export type ProtectedResourceMetadata = typeof ProtectedResourceMetadata.Type

/** RFC 8414 / OpenID Connect discovery metadata: the fields the flow reads, others kept for extensions. */
export const AuthorizationServerMetadata = Schema.Struct({
  issuer: Schema.String,
  authorization_endpoint: Schema.optional(Schema.String),
  token_endpoint: Schema.String,
  registration_endpoint: Schema.optional(Schema.String),
  scopes_supported: Schema.optional(Strings),
  grant_types_supported: Schema.optional(Strings),
  code_challenge_methods_supported: Schema.optional(Strings),
  token_endpoint_auth_methods_supported: Schema.optional(Strings),
  client_id_metadata_document_supported: Schema.optional(Schema.Boolean),
  authorization_response_iss_parameter_supported: Schema.optional(Schema.Boolean)
}, Extra)
export type AuthorizationServerMetadata = typeof AuthorizationServerMetadata.Type

/** A token endpoint's successful answer (RFC 6749 §5.1). */
export const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.String,
  expires_in: Schema.optional(Schema.Number),
  refresh_token: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String)
}, Extra)
export type TokenResponse = typeof TokenResponse.Type

/** A token endpoint's or registration endpoint's refusal (RFC 6749 §5.2). */
export const ErrorResponse = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})

/** The client as the authorization server knows it: registered, pre-registered or a metadata document URL. */
export const ClientInformation = Schema.Struct({
  client_id: Schema.String,
  client_secret: Schema.optional(Schema.String),
  token_endpoint_auth_method: Schema.optional(Schema.String),
  client_secret_expires_at: Schema.optional(Schema.Number)
})
export type ClientInformation = typeof ClientInformation.Type

/** Tokens as kept: the expiry as an instant (epoch milliseconds) rather than a duration. */
export const StoredTokens = Schema.Struct({
  accessToken: Schema.String,
  tokenType: Schema.String,
  refreshToken: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.Number),
  scope: Schema.optional(Schema.String)
})
export type StoredTokens = typeof StoredTokens.Type

/**
 * What a client keeps for one protected resource: the authorization server
 * it signed in with (its credentials are only good there), its client
 * information, the scope it asked for, and its tokens.
 */
export const StoredAuthorization = Schema.Struct({
  issuer: Schema.String,
  client: ClientInformation,
  scope: Schema.optional(Schema.String),
  tokens: Schema.optional(StoredTokens)
})
export type StoredAuthorization = typeof StoredAuthorization.Type

/** What an authorization redirect carried back (RFC 6749 §4.1.2, RFC 9207). */
export interface AuthorizationResponse {
  readonly code: string
  readonly state: string | undefined
  readonly iss: string | undefined
}
