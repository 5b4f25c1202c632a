/**
 * Reading a verified token's claims (a JWT's payload, an introspection
 * response) into the `AuthInfo` handlers see.
 */
import type { AuthInfo } from "../../Transport.js"

const stringOf = (value: unknown): string | undefined => typeof value === "string" ? value : undefined

/**
 * The scopes granted: `scope` (RFC 9068 and RFC 7662: one space-separated
 * string) or `scp` (a list, or a string, as some servers send it).
 */
export const scopesOf = (claims: Readonly<Record<string, unknown>>): ReadonlyArray<string> => {
  const value = claims.scope ?? claims.scp
  if (typeof value === "string") return value.split(" ").filter((scope) => scope.length > 0)
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === "string")
  return []
}

/** The audiences a token names (`aud`: one string or a list). */
export const audiencesOf = (claims: Readonly<Record<string, unknown>>): ReadonlyArray<string> => {
  const aud = claims.aud
  if (typeof aud === "string") return [aud]
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : []
}

/** The principal of verified claims: `sub`; the client from `client_id` (RFC 9068) or else `azp` (OIDC). */
export const authInfoOf = (claims: Readonly<Record<string, unknown>>): AuthInfo => {
  const exp = claims.exp
  return {
    subject: stringOf(claims.sub),
    clientId: stringOf(claims.client_id) ?? stringOf(claims.azp),
    scopes: scopesOf(claims),
    claims,
    expiresAt: typeof exp === "number" && Number.isFinite(exp) ? exp : undefined
  }
}
