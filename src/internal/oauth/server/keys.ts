/**
 * The provider's secrets machinery: random values, digests, PKCE, and the key
 * that signs access tokens.
 */
import { Effect, Encoding, Option } from "effect"
import type { CryptoKey, JWK } from "jose"
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from "jose"

/** 32 random bytes, base64url: codes, refresh tokens, secrets, ids. */
export const randomToken = (): string => base64url(crypto.getRandomValues(new Uint8Array(32)))

export const base64url = (bytes: Uint8Array): string => Encoding.encodeBase64Url(bytes)

/** SHA-256 of a string, base64url: how codes, refresh tokens and secrets are stored and compared. */
export const sha256 = (value: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(value))).pipe(
    Effect.map((digest) => base64url(new Uint8Array(digest)))
  )

/** Compares two strings in time that does not depend on where they differ. */
export const constantTimeEqual = (a: string, b: string): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** RFC 7636 §4.1: 43 to 128 unreserved characters; S256 challenges are 43 base64url characters. */
export const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
export const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/

/** Whether `verifier` hashes (S256) to `challenge`. */
export const pkceMatches = (verifier: string, challenge: string): Effect.Effect<boolean> =>
  VERIFIER.test(verifier) ?
    Effect.map(sha256(verifier), (hash) => constantTimeEqual(hash, challenge)) :
    Effect.succeed(false)

/** The key access tokens are signed with, and its public half as published in the JWKS. */
export interface SigningKey {
  readonly alg: string
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

/** The JWS algorithm a private JWK is used with, when it does not say. */
const algorithmOf = (jwk: JWK): Option.Option<string> => {
  if (typeof jwk.alg === "string") return Option.some(jwk.alg)
  if (jwk.kty === "RSA") return Option.some("RS256")
  if (jwk.kty === "EC" && jwk.crv === "P-256") return Option.some("ES256")
  if (jwk.kty === "EC" && jwk.crv === "P-384") return Option.some("ES384")
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return Option.some("EdDSA")
  return Option.none()
}

/** The public members of a JWK: what may be published. */
const publicPart = (jwk: JWK): JWK => {
  const { d: _d, dp: _dp, dq: _dq, k: _k, oth: _oth, p: _p, q: _q, qi: _qi, ...rest } = jwk
  return rest
}

/** Imports a private JWK; fails with a message that never quotes the key. */
export const importSigningKey = (jwk: JWK): Effect.Effect<SigningKey, string> =>
  Effect.gen(function*() {
    const alg = yield* Option.match(algorithmOf(jwk), {
      onNone: () => Effect.fail("the signing key names no alg, and its kty/crv has no default"),
      onSome: Effect.succeed
    })
    if (typeof jwk.d !== "string") return yield* Effect.fail("the signing key is not a private key")
    const privateKey = yield* Effect.tryPromise({
      try: () => importJWK(jwk, alg),
      catch: () => `the signing key cannot be imported for ${alg}`
    })
    if (privateKey instanceof Uint8Array) return yield* Effect.fail("the signing key is a symmetric key")
    const pub = publicPart(jwk)
    const kid = typeof jwk.kid === "string" ? jwk.kid : yield* Effect.promise(() => calculateJwkThumbprint(pub))
    return { alg, kid, privateKey, publicJwk: { ...pub, alg, kid, use: "sig" } }
  })

/** A fresh ES256 key pair, exported as a private JWK. */
export const generatePrivateJwk: Effect.Effect<JWK> = Effect.promise(async () => {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true })
  return { ...(await exportJWK(privateKey)), alg: "ES256" }
})
