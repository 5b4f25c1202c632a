/**
 * JWT access tokens checked against an authorization server's JWKS, fetched
 * through `HttpClient` and kept until a token names a key it does not hold:
 * then it is fetched again (at most once per cooldown, so that tokens with
 * made-up key ids cannot make the server hammer the authorization server).
 * `jose` does the cryptography and the registered claims.
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Clock, Duration, Effect, Schema, SynchronizedRef } from "effect"
import type { JSONWebKeySet, JWTVerifyGetKey } from "jose"
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify } from "jose"
import type { JwksOptions } from "../../TokenVerifier.js"
import { InvalidToken, VerifierUnavailable } from "../../TokenVerifier.js"
import type { AuthInfo } from "../../Transport.js"
import { authInfoOf } from "./claims.js"

/** Asymmetric algorithms only: a shared secret has no place in a key set a resource server fetches. */
export const DEFAULT_ALGORITHMS: ReadonlyArray<string> = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519"
]

const KeySetJson = Schema.Struct({ keys: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown })) })

interface Keys {
  readonly getKey: JWTVerifyGetKey | undefined
  /** When the set in hand was fetched: past `maxKeyAge` it is fetched again, so that a withdrawn key stops working. */
  readonly fetchedAt: number
  /** When the set was last fetched, or a fetch last failed: the cooldown counts from either. */
  readonly attemptedAt: number
  /** Bumped on every fetch, so that a fiber that waited on another's fetch does not fetch again. */
  readonly generation: number
}

/**
 * Why a token was refused, as the client may read it: never the token, a key
 * or jose's own wording (which can quote claims).
 */
const refusal = (error: unknown): InvalidToken | "unknown key" => {
  if (error instanceof errors.JWKSNoMatchingKey) return "unknown key"
  if (error instanceof errors.JWTExpired) return new InvalidToken({ message: "The access token has expired" })
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return new InvalidToken({ message: "The access token was not issued for this resource" })
      case "iss":
        return new InvalidToken({ message: "The access token's issuer is not trusted" })
      case "nbf":
        return new InvalidToken({ message: "The access token is not valid yet" })
      case "typ":
        return new InvalidToken({ message: "The token is not an access token (its typ header)" })
      default:
        return new InvalidToken({ message: `The access token's ${error.claim} claim is invalid` })
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidToken({ message: "The access token's signature does not verify" })
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new InvalidToken({ message: "The access token's signing algorithm is not accepted" })
  }
  return new InvalidToken({ message: "The access token is malformed" })
}

/**
 * The authorization server's key set: fetched on first use, and again when
 * `refresh` is asked to (rate-limited by `cooldown`) or it is older than
 * `maxAge`. Concurrent refreshes share one fetch.
 */
const makeKeyStore = (options: JwksOptions) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const cooldown = Duration.toMillis(options.refetchCooldown ?? Duration.seconds(30))
    const maxAge = Duration.toMillis(options.maxKeyAge ?? Duration.hours(1))
    const state = yield* SynchronizedRef.make<Keys>({
      getKey: undefined,
      fetchedAt: -Infinity,
      attemptedAt: -Infinity,
      generation: 0
    })
    const download = client.execute(HttpClientRequest.get(options.jwksUri).pipe(HttpClientRequest.acceptJson)).pipe(
      Effect.flatMap(HttpClientResponse.filterStatusOk),
      Effect.flatMap(HttpClientResponse.schemaBodyJson(KeySetJson)),
      Effect.scoped,
      Effect.timeout(Duration.seconds(10))
    )

    /** Fetches the set again, unless another fiber did since generation `seen`, or the cooldown has not passed. */
    const refresh = (seen: number) =>
      SynchronizedRef.modifyEffect(state, (keys) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          if (keys.generation !== seen || now - keys.attemptedAt < cooldown) return [keys, keys] as const
          const fetched = yield* Effect.either(download)
          if (fetched._tag === "Left") {
            yield* Effect.logWarning("Could not fetch the authorization server's JWKS", fetched.left)
            const failed = { ...keys, attemptedAt: now, generation: keys.generation + 1 }
            return [failed, failed] as const
          }
          // The document's keys as jose reads them; a key it cannot use is skipped at verification.
          const set: JSONWebKeySet = { keys: fetched.right.keys.map((key) => ({ ...key })) }
          const next = {
            getKey: createLocalJWKSet(set),
            fetchedAt: now,
            attemptedAt: now,
            generation: keys.generation + 1
          }
          return [next, next] as const
        }))

    /** The set in hand, fetched first if there is none yet or it is too old. */
    const current = Effect.gen(function*() {
      const keys = yield* SynchronizedRef.get(state)
      const now = yield* Clock.currentTimeMillis
      return keys.getKey === undefined || now - keys.fetchedAt > maxAge ? yield* refresh(keys.generation) : keys
    })
    return { current, refresh }
  })

/** A verifier of JWT access tokens; requires the `HttpClient` that fetches the key set. */
export const makeJwks = (options: JwksOptions) =>
  Effect.gen(function*() {
    const store = yield* makeKeyStore(options)
    const skew = Duration.toSeconds(options.clockSkew ?? Duration.seconds(30))
    const algorithms = [...(options.algorithms ?? DEFAULT_ALGORITHMS)]
    const issuer = typeof options.issuer === "string" ? options.issuer : [...options.issuer]

    const attempt = (getKey: JWTVerifyGetKey, token: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.tryPromise({
          try: () =>
            jwtVerify(token, getKey, {
              issuer,
              audience: options.audience,
              algorithms,
              clockTolerance: skew,
              currentDate: new Date(now),
              ...(options.type !== undefined ? { typ: options.type } : {})
            }),
          catch: refusal
        }))

    /** A token that cannot be one of ours is refused before any key is fetched for it. */
    const precheck = (token: string): InvalidToken | undefined => {
      let alg: unknown
      try {
        alg = decodeProtectedHeader(token).alg
      } catch {
        return new InvalidToken({ message: "The access token is malformed" })
      }
      return typeof alg === "string" && algorithms.includes(alg)
        ? undefined
        : new InvalidToken({ message: "The access token's signing algorithm is not accepted" })
    }

    return (token: string): Effect.Effect<AuthInfo, InvalidToken | VerifierUnavailable> =>
      Effect.gen(function*() {
        const malformed = precheck(token)
        if (malformed !== undefined) return yield* malformed
        let keys = yield* store.current
        for (let round = 0;; round++) {
          const getKey = keys.getKey
          if (getKey === undefined) {
            return yield* new VerifierUnavailable({ message: "The authorization server's keys are unavailable" })
          }
          const verified = yield* Effect.either(attempt(getKey, token))
          if (verified._tag === "Right") return authInfoOf(verified.right.payload)
          if (verified.left !== "unknown key") return yield* verified.left
          // A key id not in the set: the authorization server may have rotated its keys. One fetch, then refuse.
          const before = keys.generation
          if (round > 0 || (keys = yield* store.refresh(before)).generation === before) {
            return yield* new InvalidToken({ message: "The access token is signed with an unknown key" })
          }
        }
      })
  })
