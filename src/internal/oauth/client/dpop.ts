/**
 * DPoP (RFC 9449) machinery: the key, proofs, the nonces servers hand out,
 * and how their `use_dpop_nonce` challenges look.
 */
import type { Headers } from "@effect/platform"
import { Clock, Effect } from "effect"
import * as Jose from "jose"
import { createHash, randomUUID } from "node:crypto"

/** A DPoP key: the private half signs proofs, the public half travels in each proof's header. */
export interface Key {
  readonly algorithm: string
  readonly privateKey: Jose.CryptoKey
  readonly publicJwk: Jose.JWK
  /** RFC 7638 SHA-256 thumbprint of the public key: what a bound token's `cnf.jkt` names. */
  readonly thumbprint: string
}

/** Only the members RFC 7638 and RFC 7517 allow in a public key: never `d` or other private parts. */
const publicMembers = ["kty", "crv", "x", "y", "n", "e"] as const

const publicOnly = (jwk: Jose.JWK): Jose.JWK => {
  const result: Record<string, string> = {}
  for (const name of publicMembers) {
    const value = jwk[name]
    if (typeof value === "string") result[name] = value
  }
  return result
}

/** Builds a key from a key pair (its public half is always exportable in WebCrypto). */
export const fromKeyPair = (
  pair: { readonly privateKey: Jose.CryptoKey; readonly publicKey: Jose.CryptoKey },
  algorithm: string
): Effect.Effect<Key, Error> =>
  Effect.tryPromise({
    try: async () => {
      const publicJwk = publicOnly(await Jose.exportJWK(pair.publicKey))
      const thumbprint = await Jose.calculateJwkThumbprint(publicJwk, "sha256")
      return { algorithm, privateKey: pair.privateKey, publicJwk, thumbprint }
    },
    catch: (cause) => new Error(`the DPoP key cannot be used: ${cause instanceof Error ? cause.message : "unknown"}`)
  })

/** A fresh key pair whose private half cannot be exported. */
export const generate = (algorithm: string): Effect.Effect<Key, Error> =>
  Effect.tryPromise({
    try: () => Jose.generateKeyPair(algorithm),
    catch: () => new Error(`no DPoP key can be generated for the algorithm ${algorithm}`)
  }).pipe(Effect.flatMap((pair) => fromKeyPair(pair, algorithm)))

/** `ath`: the base64url SHA-256 of the access token's ASCII (RFC 9449 §4.2). */
export const accessTokenHash = (accessToken: string) =>
  createHash("sha256").update(accessToken, "ascii").digest("base64url")

/** `htu` is the target URI without query and fragment (RFC 9449 §4.2). */
export const targetUri = (url: string | URL) => {
  const target = new URL(url)
  return `${target.origin}${target.pathname}`
}

/** What one proof is for. */
export interface ProofFor {
  readonly method: string
  readonly url: string | URL
  readonly accessToken?: string | undefined
  readonly nonce?: string | undefined
}

/** Signs a proof: a fresh `jti` each time, `iat` from the Effect clock. */
export const proof = (key: Key, target: ProofFor): Effect.Effect<string, Error> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.tryPromise({
      try: () => {
        const claims: Jose.JWTPayload = { htm: target.method.toUpperCase(), htu: targetUri(target.url) }
        if (target.accessToken !== undefined) claims.ath = accessTokenHash(target.accessToken)
        if (target.nonce !== undefined) claims.nonce = target.nonce
        return new Jose.SignJWT(claims)
          .setProtectedHeader({ alg: key.algorithm, typ: "dpop+jwt", jwk: key.publicJwk })
          .setJti(randomUUID())
          .setIssuedAt(Math.floor(now / 1000))
          .sign(key.privateKey)
      },
      catch: () => new Error("the DPoP proof could not be signed")
    }))

/**
 * The latest nonce each endpoint gave (its URI without query): a server may
 * send a new one in any response (RFC 9449 §8.2, §9), and the next proof to
 * it must carry it. Kept by endpoint rather than origin, since an MCP server
 * and its authorization server often share an origin, and a nonce of one
 * means nothing to the other.
 */
export class Nonces {
  private readonly byEndpoint = new Map<string, string>()

  get(url: string | URL): string | undefined {
    return this.byEndpoint.get(targetUri(url))
  }

  /** Keeps the `DPoP-Nonce` of a response, if it has one; says whether it did. */
  remember(url: string | URL, headers: Headers.Headers): boolean {
    const nonce = headers["dpop-nonce"]
    if (nonce === undefined || nonce === "") return false
    this.byEndpoint.set(targetUri(url), nonce)
    return true
  }
}

/** The authorization server's challenge: 400 with `error: "use_dpop_nonce"` (RFC 9449 §8). */
export const isTokenEndpointChallenge = (status: number, body: unknown) =>
  status === 400 && typeof body === "object" && body !== null && "error" in body && body.error === "use_dpop_nonce"

/**
 * The resource server's challenge: 401 with a `DPoP` `WWW-Authenticate`
 * challenge whose `error` is `use_dpop_nonce` (RFC 9449 §9).
 */
export const isResourceChallenge = (status: number, headers: Headers.Headers) => {
  if (status !== 401) return false
  const challenge = headers["www-authenticate"] ?? ""
  return /(^|,)\s*dpop\b/i.test(challenge) && /error\s*=\s*"?use_dpop_nonce"?/i.test(challenge)
}
