import {
  FetchHttpClient,
  Headers,
  HttpClient,
  HttpClientRequest,
  HttpRouter,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Jose from "jose"
import { Dpop, OAuthClient, OAuthGrants } from "mcp-effect"
import { createHash } from "node:crypto"
import { servePlatform } from "./httpHelpers.js"

/** One request a fake endpoint received: its headers (lower-case names) and its form. */
interface Seen {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly form: Readonly<Record<string, string>>
}

interface Answer {
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string>
}

type Reply = (seen: Seen, index: number) => Answer | Promise<Answer>

const isPath = (path: string): path is `/${string}` => path.startsWith("/")

/**
 * Serves fake endpoints on a free loopback port: each POST is recorded and answered by its route's reply, and each
 * GET of a document path by that document, made from the base URL.
 */
const fakeEndpoints = (
  routes: Record<string, Reply>,
  documents: (base: string) => Record<string, unknown> = () => ({})
) =>
  Effect.gen(function*() {
    const seen: Record<string, Array<Seen>> = {}
    let base = ""
    let router = HttpRouter.empty
    for (const path of Object.keys(documents(""))) {
      if (!isPath(path)) continue
      router = router.pipe(
        HttpRouter.get(path, Effect.sync(() => HttpServerResponse.unsafeJson(documents(base)[path])))
      )
    }
    for (const [path, reply] of Object.entries(routes)) {
      if (!isPath(path)) continue
      const received: Array<Seen> = (seen[path] = [])
      router = router.pipe(HttpRouter.post(
        path,
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const params = yield* Effect.orElseSucceed(request.urlParamsBody, () => [])
          const headers: Record<string, string> = {}
          for (const [name, value] of Object.entries(request.headers)) headers[name] = value
          const entry: Seen = { url: `${base}${path}`, headers, form: Object.fromEntries(params) }
          received.push(entry)
          const answer = yield* Effect.promise(async () => reply(entry, received.length - 1))
          return HttpServerResponse.unsafeJson(answer.body, {
            status: answer.status,
            ...(answer.headers === undefined ? {} : { headers: answer.headers })
          })
        })
      ))
    }
    base = yield* servePlatform(router)
    return { base, seen }
  })

const token = (accessToken: string, tokenType = "Bearer"): Answer => ({
  status: 200,
  body: { access_token: accessToken, token_type: tokenType, expires_in: 3600 }
})

const basicCredentials = (header: string | undefined) =>
  header?.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString("utf8") : undefined

/** Checks a DPoP proof as the conformance suite's judges do, and returns its claims and key thumbprint. */
const verifyProof = async (proof: string | undefined) => {
  if (proof === undefined) throw new Error("no DPoP proof")
  const header = Jose.decodeProtectedHeader(proof)
  expect(header.typ).toBe("dpop+jwt")
  expect(header.alg).toBe("ES256")
  const jwk = header.jwk
  if (jwk === undefined) throw new Error("no jwk in the proof")
  expect("d" in jwk).toBe(false)
  const { payload } = await Jose.jwtVerify(proof, await Jose.importJWK(jwk, "ES256"))
  expect(typeof payload.jti).toBe("string")
  expect(Math.abs(Math.floor(Date.now() / 1000) - (payload.iat ?? 0))).toBeLessThan(300)
  return { claims: payload, thumbprint: await Jose.calculateJwkThumbprint(jwk, "sha256") }
}

const server = (base: string): OAuthGrants.AuthorizationServer => ({ issuer: base, tokenEndpoint: `${base}/token` })

describe("client credentials", () => {
  it.scopedLive("client_secret_basic: the grant with the id and secret in a Basic header, form-encoded", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({ "/token": () => token("cc-token") })
      const response = yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: {
          method: "client_secret_basic",
          clientId: "conformance-test-client",
          clientSecret: Redacted.make("a b:c")
        },
        scope: "read write",
        resource: `${base}/mcp`
      })
      expect(response.accessToken).toBe("cc-token")
      expect(response.expiresIn).toBe(3600)
      const [request] = seen["/token"]!
      expect(request!.form).toEqual({ grant_type: "client_credentials", scope: "read write", resource: `${base}/mcp` })
      expect(basicCredentials(request!.headers.authorization)).toBe("conformance-test-client:a+b%3Ac")
      expect(request!.headers["content-type"]).toContain("application/x-www-form-urlencoded")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("client_secret_post: the id and secret in the form", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({ "/token": () => token("cc-token") })
      yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: { method: "client_secret_post", clientId: "client", clientSecret: "secret" }
      })
      expect(seen["/token"]![0]!.form).toEqual({
        grant_type: "client_credentials",
        client_id: "client",
        client_secret: "secret"
      })
      expect(seen["/token"]![0]!.headers.authorization).toBeUndefined()
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("private_key_jwt: a signed assertion with iss and sub the client id, aud the issuer, and a fresh jti", () =>
    Effect.gen(function*() {
      const { privateKey, publicKey } = yield* Effect.promise(() =>
        Jose.generateKeyPair("ES256", { extractable: true })
      )
      const pem = yield* Effect.promise(() => Jose.exportPKCS8(privateKey))
      const { base, seen } = yield* fakeEndpoints({ "/token": () => token("cc-token") })
      const client = { method: "private_key_jwt", clientId: "conformance-test-client", privateKey: pem } as const
      yield* OAuthGrants.clientCredentials({ server: server(base), client })
      yield* OAuthGrants.clientCredentials({ server: server(base), client })
      const [first, second] = seen["/token"]!
      expect(first!.form.grant_type).toBe("client_credentials")
      expect(first!.form.client_assertion_type).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      const verified = yield* Effect.promise(() =>
        Jose.jwtVerify(first!.form.client_assertion!, publicKey, { audience: base })
      )
      expect(verified.payload.iss).toBe("conformance-test-client")
      expect(verified.payload.sub).toBe("conformance-test-client")
      expect(verified.payload.exp! - verified.payload.iat!).toBeLessThanOrEqual(300)
      expect(Jose.decodeJwt(second!.form.client_assertion!).jti).not.toBe(verified.payload.jti)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a key that is not a PKCS#8 PEM fails without showing the key", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({ "/token": () => token("cc-token") })
      const error = yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: { method: "private_key_jwt", clientId: "c", privateKey: "-----BEGIN PRIVATE KEY-----\nSECRETSTUFF" }
      }).pipe(Effect.flip)
      expect(error._tag).toBe("TokenRequestError")
      expect(error.message).toContain("not a PKCS#8 PEM key for ES256")
      expect(error.message).not.toContain("SECRETSTUFF")
      expect(seen["/token"]).toHaveLength(0)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("an OAuth error is an OAuthError with its code and description", () =>
    Effect.gen(function*() {
      const { base } = yield* fakeEndpoints({
        "/token": () => ({ status: 401, body: { error: "invalid_client", error_description: "bad secret" } })
      })
      const error = yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: { method: "client_secret_basic", clientId: "c", clientSecret: "wrong" }
      }).pipe(Effect.flip)
      expect(error).toBeInstanceOf(OAuthGrants.OAuthError)
      if (error._tag !== "OAuthError") return
      expect([error.status, error.error, error.description]).toEqual([401, "invalid_client", "bad secret"])
      expect(error.message).toContain("invalid_client")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a 200 that is not a token response is a TokenRequestError naming what is missing", () =>
    Effect.gen(function*() {
      const { base } = yield* fakeEndpoints({ "/token": () => ({ status: 200, body: { token_type: "Bearer" } }) })
      const error = yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: { method: "none", clientId: "c" }
      }).pipe(Effect.flip)
      expect(error._tag).toBe("TokenRequestError")
      expect(error.message).toContain("access_token")
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("workload identity: the JWT bearer grant", () => {
  it.scopedLive("sends the workload JWT as the assertion, and reports a refusal without trying again", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/token": (request) =>
          request.form.scope === "wif.rejected"
            ? { status: 400, body: { error: "invalid_scope" } }
            : token("test-token")
      })
      const options = {
        server: server(base),
        assertion: "workload.jwt.value",
        client: { method: "none", clientId: "conformance-wif-workload" },
        resource: `${base}/mcp`
      } as const
      const response = yield* OAuthGrants.jwtBearer(options)
      expect(response.accessToken).toBe("test-token")
      expect(seen["/token"]![0]!.form).toEqual({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: "workload.jwt.value",
        resource: `${base}/mcp`,
        client_id: "conformance-wif-workload"
      })
      const error = yield* OAuthGrants.jwtBearer({ ...options, scope: "wif.rejected" }).pipe(Effect.flip)
      expect(error._tag === "OAuthError" && error.error).toBe("invalid_scope")
      expect(seen["/token"]).toHaveLength(2)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("enterprise-managed authorization", () => {
  it.scopedLive("exchanges the ID token for an ID-JAG at the IdP, then the ID-JAG for a token at the AS", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/idp/token": () => ({
          status: 200,
          body: {
            access_token: "the.id.jag",
            issued_token_type: "urn:ietf:params:oauth:token-type:id-jag",
            token_type: "N_A"
          }
        }),
        "/token": () => token("test-token")
      })
      const response = yield* OAuthGrants.enterpriseManaged({
        identityProvider: {
          tokenEndpoint: `${base}/idp/token`,
          idToken: "the.id.token",
          client: { method: "none", clientId: "conformance-test-idp-client" }
        },
        server: server(base),
        client: {
          method: "client_secret_basic",
          clientId: "conformance-test-xaa-client",
          clientSecret: "conformance-test-xaa-secret"
        },
        resource: `${base}/mcp`
      })
      expect(response.accessToken).toBe("test-token")
      expect(seen["/idp/token"]![0]!.form).toEqual({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: "the.id.token",
        subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
        requested_token_type: "urn:ietf:params:oauth:token-type:id-jag",
        audience: base,
        resource: `${base}/mcp`,
        client_id: "conformance-test-idp-client"
      })
      const grant = seen["/token"]![0]!
      expect(grant.form).toEqual({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: "the.id.jag",
        resource: `${base}/mcp`
      })
      expect(basicCredentials(grant.headers.authorization)).toBe(
        "conformance-test-xaa-client:conformance-test-xaa-secret"
      )
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("stops when the IdP issues something other than an ID-JAG", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/idp/token": () => ({
          status: 200,
          body: {
            access_token: "x",
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
            token_type: "Bearer"
          }
        }),
        "/token": () => token("test-token")
      })
      const error = yield* OAuthGrants.enterpriseManaged({
        identityProvider: { tokenEndpoint: `${base}/idp/token`, idToken: "t" },
        server: server(base),
        client: { method: "none", clientId: "c" },
        resource: `${base}/mcp`
      }).pipe(Effect.flip)
      expect(error.message).toContain("not an ID-JAG")
      expect(seen["/token"]).toHaveLength(0)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("DPoP", () => {
  it.scopedLive("a token request carries a proof for POST at the token endpoint; a use_dpop_nonce challenge is answered once with the nonce", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/token": async (request) => {
          const { claims } = await verifyProof(request.headers.dpop)
          if (claims.nonce !== "as-nonce") {
            return { status: 400, body: { error: "use_dpop_nonce" }, headers: { "DPoP-Nonce": "as-nonce" } }
          }
          return token("bound", "DPoP")
        }
      })
      const prover = yield* Dpop.make()
      const response = yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: { method: "client_secret_basic", clientId: "c", clientSecret: "s" },
        dpop: prover
      })
      expect(response.isDpop).toBe(true)
      const [first, second] = seen["/token"]!
      const proofs = yield* Effect.promise(() =>
        Promise.all([verifyProof(first!.headers.dpop), verifyProof(second!.headers.dpop)])
      )
      for (const { claims, thumbprint } of proofs) {
        expect(claims.htm).toBe("POST")
        expect(claims.htu).toBe(`${base}/token`)
        expect(claims.ath).toBeUndefined()
        expect(thumbprint).toBe(prover.key.thumbprint)
      }
      expect(proofs[0]!.claims.nonce).toBeUndefined()
      expect(proofs[1]!.claims.jti).not.toBe(proofs[0]!.claims.jti)
      // Both tries are authenticated.
      expect(second!.headers.authorization).toBe(first!.headers.authorization)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a second use_dpop_nonce challenge is reported, not chased", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/token": () => ({ status: 400, body: { error: "use_dpop_nonce" }, headers: { "DPoP-Nonce": "n" } })
      })
      const error = yield* OAuthGrants.clientCredentials({
        server: server(base),
        client: { method: "none", clientId: "c" },
        dpop: yield* Dpop.make()
      }).pipe(Effect.flip)
      expect(error._tag === "OAuthError" && error.error).toBe("use_dpop_nonce")
      expect(seen["/token"]).toHaveLength(2)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("resource requests: DPoP scheme, a fresh proof with ath each time, and the server's nonce after its challenge", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/mcp": async (request): Promise<Answer> => {
          const { claims } = await verifyProof(request.headers.dpop)
          if (claims.nonce !== "rs-nonce") {
            return {
              status: 401,
              body: { error: "use_dpop_nonce" },
              headers: {
                "WWW-Authenticate": `DPoP error="use_dpop_nonce", resource_metadata="${base}/prm"`,
                "DPoP-Nonce": "rs-nonce"
              }
            }
          }
          return { status: 200, body: { ok: true } }
        }
      })
      const prover = yield* Dpop.make()
      const http = Dpop.bindHttpClient(prover, "access.token.value")(yield* HttpClient.HttpClient)
      const post = HttpClientRequest.post(`${base}/mcp?x=1`).pipe(HttpClientRequest.bodyUnsafeJson({ n: 1 }))
      expect((yield* http.execute(post)).status).toBe(200)
      expect((yield* http.execute(post)).status).toBe(200)
      const requests = seen["/mcp"]!
      expect(requests).toHaveLength(3)
      const proofs = yield* Effect.promise(() => Promise.all(requests.map((r) => verifyProof(r.headers.dpop))))
      const ath = createHash("sha256").update("access.token.value").digest("base64url")
      for (const [i, request] of requests.entries()) {
        expect(request.headers.authorization).toBe("DPoP access.token.value")
        expect(proofs[i]!.claims).toMatchObject({ htm: "POST", htu: `${base}/mcp`, ath })
      }
      expect(proofs.map((p) => p.claims.nonce)).toEqual([undefined, "rs-nonce", "rs-nonce"])
      expect(new Set(proofs.map((p) => p.claims.jti)).size).toBe(3)
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.effect("a proof carries the nonce known when it is signed, not when its effect was made", () =>
    Effect.gen(function*() {
      const prover = yield* Dpop.make()
      const signed = Dpop.proof(prover, { method: "GET", url: "https://mcp.example.com/mcp?q=1#f" })
      prover.nonces.remember("https://mcp.example.com/mcp?other", Headers.fromInput({ "dpop-nonce": "fresh" }))
      const claims = Jose.decodeJwt(yield* signed)
      expect(claims).toMatchObject({ htm: "GET", htu: "https://mcp.example.com/mcp", nonce: "fresh" })
      // Another endpoint of the same origin (its authorization server, say) has nonces of its own.
      expect(Jose.decodeJwt(yield* Dpop.proof(prover, { method: "POST", url: "https://mcp.example.com/token" })).nonce)
        .toBeUndefined()
    }))

  it.scopedLive("a 401 that is not a nonce challenge is passed on as it is", () =>
    Effect.gen(function*() {
      const { base, seen } = yield* fakeEndpoints({
        "/mcp": () => ({
          status: 401,
          body: { error: "invalid_token" },
          headers: { "WWW-Authenticate": `DPoP error="invalid_token"`, "DPoP-Nonce": "n" }
        })
      })
      const http = Dpop.bindHttpClient(yield* Dpop.make(), "t")(yield* HttpClient.HttpClient)
      expect((yield* http.execute(HttpClientRequest.post(`${base}/mcp`))).status).toBe(401)
      expect(seen["/mcp"]).toHaveLength(1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

/** A protected resource at `<base>/mcp` and its authorization server at `<base>`, as documents. */
const protectedResource = (metadata: Record<string, unknown>) => (base: string) => ({
  "/.well-known/oauth-protected-resource/mcp": { resource: `${base}/mcp`, authorization_servers: [base] },
  "/.well-known/oauth-authorization-server": { issuer: base, token_endpoint: `${base}/token`, ...metadata }
})

/** The resource's answer: 200 with the right token, else 401 pointing to its metadata. */
const resource = (base: () => string, accepts: (authorization: string | undefined) => boolean): Reply => (request) =>
  accepts(request.headers.authorization)
    ? { status: 200, body: { ok: true } }
    : {
      status: 401,
      body: { error: "invalid_token" },
      headers: {
        "WWW-Authenticate": `Bearer resource_metadata="${base()}/.well-known/oauth-protected-resource/mcp"`
      }
    }

describe("as OAuthClient grants", () => {
  it.scopedLive("client credentials with private_key_jwt: signs in on the 401, then sends the request again", () =>
    Effect.gen(function*() {
      const { privateKey, publicKey } = yield* Effect.promise(() =>
        Jose.generateKeyPair("ES256", { extractable: true })
      )
      const pem = yield* Effect.promise(() => Jose.exportPKCS8(privateKey))
      let base = ""
      const endpoints = yield* fakeEndpoints(
        {
          "/token": () => token("cc-token"),
          "/mcp": resource(() => base, (authorization) => authorization === "Bearer cc-token")
        },
        protectedResource({ token_endpoint_auth_methods_supported: ["private_key_jwt"] })
      )
      base = endpoints.base
      const authorization = yield* OAuthClient.makeWithGrant(`${base}/mcp`, OAuthGrants.clientCredentialsGrant, {
        clientId: "reporting",
        clientAuthentications: [OAuthGrants.privateKeyJwt({ privateKey: pem })]
      })
      const http = authorization.wrap(yield* HttpClient.HttpClient)
      expect((yield* http.execute(HttpClientRequest.post(`${base}/mcp`))).status).toBe(200)
      const [request] = endpoints.seen["/token"]!
      expect(request!.form).toMatchObject({ grant_type: "client_credentials", resource: `${base}/mcp` })
      const verified = yield* Effect.promise(() =>
        Jose.jwtVerify(request!.form.client_assertion!, publicKey, { audience: base })
      )
      expect([verified.payload.iss, verified.payload.sub]).toEqual(["reporting", "reporting"])
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("a workload's JWT bearer grant refused is one token request and a failed request", () =>
    Effect.gen(function*() {
      let base = ""
      const endpoints = yield* fakeEndpoints(
        {
          "/token": () => ({ status: 400, body: { error: "invalid_grant" } }),
          "/mcp": resource(() => base, () => false)
        },
        protectedResource({ token_endpoint_auth_methods_supported: ["none"] })
      )
      base = endpoints.base
      const authorization = yield* OAuthClient.makeWithGrant(
        `${base}/mcp`,
        OAuthGrants.jwtBearerGrant("workload.jwt"),
        { clientId: "workload" }
      )
      const http = authorization.wrap(yield* HttpClient.HttpClient)
      const error = yield* Effect.flip(http.execute(HttpClientRequest.post(`${base}/mcp`)))
      expect(error.message).toContain("invalid_grant")
      expect(endpoints.seen["/token"]).toHaveLength(1)
      expect(endpoints.seen["/token"]![0]!.form).toMatchObject({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: "workload.jwt",
        client_id: "workload"
      })
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("enterprise-managed: the ID-JAG is asked for the discovered issuer and resource", () =>
    Effect.gen(function*() {
      let base = ""
      const endpoints = yield* fakeEndpoints(
        {
          "/idp/token": () => ({
            status: 200,
            body: {
              access_token: "id.jag",
              issued_token_type: "urn:ietf:params:oauth:token-type:id-jag",
              token_type: "N_A"
            }
          }),
          "/token": () => token("test-token"),
          "/mcp": resource(() => base, (authorization) => authorization === "Bearer test-token")
        },
        protectedResource({ token_endpoint_auth_methods_supported: ["client_secret_basic"] })
      )
      base = endpoints.base
      const authorization = yield* OAuthClient.makeWithGrant(
        `${base}/mcp`,
        OAuthGrants.enterpriseManagedGrant({ tokenEndpoint: `${base}/idp/token`, idToken: "id.token" }),
        { clientId: "xaa", clientSecret: "secret" }
      )
      const http = authorization.wrap(yield* HttpClient.HttpClient)
      expect((yield* http.execute(HttpClientRequest.post(`${base}/mcp`))).status).toBe(200)
      expect(endpoints.seen["/idp/token"]![0]!.form).toMatchObject({ audience: base, resource: `${base}/mcp` })
      const grant = endpoints.seen["/token"]![0]!
      expect(grant.form).toMatchObject({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: "id.jag"
      })
      expect(basicCredentials(grant.headers.authorization)).toBe("xaa:secret")
    }).pipe(Effect.provide(FetchHttpClient.layer)))

  it.scopedLive("the DPoP token binding: bound tokens, and each server's nonce challenge answered once, not by signing in again", () =>
    Effect.gen(function*() {
      let base = ""
      const endpoints = yield* fakeEndpoints(
        {
          "/token": async (request): Promise<Answer> => {
            const { claims } = await verifyProof(request.headers.dpop)
            return claims.nonce === "as-nonce"
              ? token("bound-token", "DPoP")
              : { status: 400, body: { error: "use_dpop_nonce" }, headers: { "DPoP-Nonce": "as-nonce" } }
          },
          "/mcp": async (request): Promise<Answer> => {
            if (request.headers.authorization === undefined) return resource(() => base, () => false)(request, 0)
            const { claims } = await verifyProof(request.headers.dpop)
            return claims.nonce === "rs-nonce"
              ? { status: 200, body: { ok: true } }
              : {
                status: 401,
                body: { error: "use_dpop_nonce" },
                headers: { "WWW-Authenticate": `DPoP error="use_dpop_nonce"`, "DPoP-Nonce": "rs-nonce" }
              }
          }
        },
        protectedResource({ token_endpoint_auth_methods_supported: ["client_secret_basic"] })
      )
      base = endpoints.base
      const prover = yield* Dpop.make()
      const authorization = yield* OAuthClient.makeWithGrant(`${base}/mcp`, OAuthGrants.clientCredentialsGrant, {
        clientId: "c",
        clientSecret: "s",
        tokenBinding: Dpop.tokenBinding(prover)
      })
      const http = authorization.wrap(yield* HttpClient.HttpClient)
      expect((yield* http.execute(HttpClientRequest.post(`${base}/mcp`))).status).toBe(200)
      expect((yield* http.execute(HttpClientRequest.post(`${base}/mcp`))).status).toBe(200)
      expect(endpoints.seen["/token"]).toHaveLength(2)
      const calls = endpoints.seen["/mcp"]!
      expect(calls.map((c) => c.headers.authorization)).toEqual([
        undefined,
        "DPoP bound-token",
        "DPoP bound-token",
        "DPoP bound-token"
      ])
      const proofs = yield* Effect.promise(() => Promise.all(calls.slice(1).map((c) => verifyProof(c.headers.dpop))))
      expect(proofs.map((p) => p.claims.nonce)).toEqual([undefined, "rs-nonce", "rs-nonce"])
      expect(proofs.every((p) => p.thumbprint === prover.key.thumbprint)).toBe(true)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})
