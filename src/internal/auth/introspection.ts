/**
 * Opaque (or any) access tokens checked by the authorization server's
 * introspection endpoint (RFC 7662), with the resource server's own client
 * credentials; what comes back active is kept for a short while, so that a
 * client's burst of calls costs one round trip.
 */
import { HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { Clock, Duration, Effect, Encoding, Redacted, Schema } from "effect"
import type { IntrospectionOptions } from "../../TokenVerifier.js"
import { InvalidToken, VerifierUnavailable } from "../../TokenVerifier.js"
import type { AuthInfo } from "../../Transport.js"
import { audiencesOf, authInfoOf } from "./claims.js"

const IntrospectionResponse = Schema.Record({ key: Schema.String, value: Schema.Unknown })

interface Cached {
  readonly auth: AuthInfo
  readonly until: number
}

/** RFC 6749 §2.3.1: the credentials are form-encoded before they are joined for Basic authentication. */
const basic = (clientId: string, secret: string) =>
  `Basic ${
    Encoding.encodeBase64(
      `${encodeURIComponent(clientId).replace(/%20/g, "+")}:${encodeURIComponent(secret).replace(/%20/g, "+")}`
    )
  }`

export const makeIntrospection = (options: IntrospectionOptions) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const ttl = Duration.toMillis(options.cacheTtl ?? Duration.seconds(60))
    const maxEntries = options.maxCacheEntries ?? 10_000
    const secret = options.clientSecret
    const authorization = basic(options.clientId, typeof secret === "string" ? secret : Redacted.value(secret))
    const cache = new Map<string, Cached>()

    const introspect = (token: string) =>
      client.execute(
        HttpClientRequest.post(options.endpoint).pipe(
          HttpClientRequest.setHeader("authorization", authorization),
          HttpClientRequest.acceptJson,
          HttpClientRequest.bodyUrlParams({ token, token_type_hint: "access_token" })
        )
      ).pipe(
        Effect.flatMap(HttpClientResponse.filterStatusOk),
        Effect.flatMap(HttpClientResponse.schemaBodyJson(IntrospectionResponse)),
        Effect.scoped,
        Effect.timeout(Duration.seconds(10)),
        Effect.tapError((cause) => Effect.logWarning("Token introspection failed", cause)),
        Effect.mapError(() => new VerifierUnavailable({ message: "The authorization server could not be reached" }))
      )

    /** What the response says of the token, checked as a JWT's claims would be. */
    const judge = (claims: Readonly<Record<string, unknown>>, now: number): AuthInfo | InvalidToken => {
      if (claims.active !== true) return new InvalidToken({ message: "The access token is not active" })
      if (!audiencesOf(claims).includes(options.audience)) {
        return new InvalidToken({ message: "The access token was not issued for this resource" })
      }
      const auth = authInfoOf(claims)
      if (auth.expiresAt !== undefined && auth.expiresAt * 1000 <= now) {
        return new InvalidToken({ message: "The access token has expired" })
      }
      return auth
    }

    const remember = (token: string, auth: AuthInfo, now: number) => {
      const until = Math.min(now + ttl, auth.expiresAt === undefined ? Infinity : auth.expiresAt * 1000)
      if (cache.size >= maxEntries) {
        // Expired entries go first; a cache still full then loses its oldest entry.
        for (const [key, entry] of cache) if (entry.until <= now) cache.delete(key)
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
      }
      cache.set(token, { auth, until })
    }

    return (token: string): Effect.Effect<AuthInfo, InvalidToken | VerifierUnavailable> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const cached = cache.get(token)
        if (cached !== undefined && cached.until > now) return cached.auth
        cache.delete(token)
        const verdict = judge(yield* introspect(token), now)
        if (verdict instanceof InvalidToken) return yield* verdict
        if (ttl > 0) remember(token, verdict, now)
        return verdict
      })
  })
