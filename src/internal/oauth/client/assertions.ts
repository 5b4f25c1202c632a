/**
 * The `private_key_jwt` client assertion (RFC 7523 §2.2, RFC 7521 §4.2): a JWT
 * the client signs with its own key to authenticate at a token endpoint.
 */
import { Clock, Effect } from "effect"
import * as Jose from "jose"
import { randomUUID } from "node:crypto"

/** `client_assertion_type` of a JWT client assertion. */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/** How long an assertion is good for: short, since it is signed just before it is sent. */
const LIFETIME_SECONDS = 300

/** Imports a PKCS#8 PEM, or takes a key as it is. */
export const signingKey = (
  key: string | Jose.CryptoKey,
  algorithm: string
): Effect.Effect<Jose.CryptoKey, Error> =>
  typeof key === "string"
    ? Effect.tryPromise({
      try: () => Jose.importPKCS8(key, algorithm),
      // The PEM itself stays out of the message: it is key material.
      catch: () => new Error(`the client's private key is not a PKCS#8 PEM key for ${algorithm}`)
    })
    : Effect.succeed(key)

/**
 * Signs an assertion whose issuer and subject are the client id and whose
 * audience is the authorization server's issuer identifier (RFC 7523bis: not
 * its token endpoint), with a fresh `jti`.
 */
export const clientAssertion = (options: {
  readonly clientId: string
  readonly audience: string
  readonly key: Jose.CryptoKey
  readonly algorithm: string
}): Effect.Effect<string, Error> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const issuedAt = Math.floor(now / 1000)
    return Effect.tryPromise({
      try: () =>
        new Jose.SignJWT({})
          .setProtectedHeader({ alg: options.algorithm, typ: "JWT" })
          .setIssuer(options.clientId)
          .setSubject(options.clientId)
          .setAudience(options.audience)
          .setIssuedAt(issuedAt)
          .setExpirationTime(issuedAt + LIFETIME_SECONDS)
          .setJti(randomUUID())
          .sign(options.key),
      catch: () => new Error(`the client assertion could not be signed with ${options.algorithm}`)
    })
  })
