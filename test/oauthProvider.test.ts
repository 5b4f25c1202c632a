import { FetchHttpClient, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { auth as sdkAuth } from "@modelcontextprotocol/sdk/client/auth.js"
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js"
import type { OAuthClientInformationMixed, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"
import { Context, Effect, Exit, Layer, Redacted, TestClock } from "effect"
import { createLocalJWKSet, decodeJwt, jwtVerify } from "jose"
import { OAuthProvider, OAuthStore } from "mcp-effect"
import { createHash, randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { AppLive } from "../examples/authorization-server.js"
import { servePlatform } from "./httpHelpers.js"

const ISSUER = "https://as.example"
const RESOURCE = "https://mcp.example/mcp"
const REDIRECT = "http://127.0.0.1:3000/callback"
const NOW = Date.parse("2026-01-01T00:00:00Z")

const Deps = Layer.mergeAll(OAuthStore.layerMemory, FetchHttpClient.layer)

const approve = () => Effect.succeed(OAuthProvider.ConsentDecision.Approve({ subject: "alice" }))

const baseOptions: OAuthProvider.Options = {
  issuer: ISSUER,
  resources: [RESOURCE, "https://other.example/mcp"],
  scopes: ["read", "write"],
  defaultScopes: ["read"],
  clients: [
    { clientId: "confidential", clientSecret: Redacted.make("s3cret"), redirectUris: [REDIRECT] },
    { clientId: "public", redirectUris: [REDIRECT, "http://127.0.0.1:3000/other"] }
  ],
  consent: approve
}

/** A provider served on a free loopback port (its issuer stays ISSUER: the routes are paths), the clock at NOW. */
const setup = (options: Partial<OAuthProvider.Options> = {}) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const provider = yield* OAuthProvider.make({ ...baseOptions, ...options })
    const base = yield* servePlatform(provider.router)
    return { base, provider }
  }).pipe(Effect.provide(Deps))

const pkce = () => {
  const verifier = randomBytes(32).toString("base64url")
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") }
}

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: Record<string, unknown>
}

const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async (): Promise<Reply> => {
    const response = await fetch(url, { redirect: "manual", ...init })
    const text = await response.text()
    let json: Record<string, unknown> = {}
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON: the test looks at text
    }
    return { status: response.status, headers: response.headers, text, json }
  })

const form = (base: string, path: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
  call(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(params).toString()
  })

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`
})

/** Sends an authorization request; answers the reply and, for a redirect, its Location. */
const authorize = (base: string, params: Record<string, string>) =>
  Effect.map(call(`${base}/authorize?${new URLSearchParams(params).toString()}`), (reply) => ({
    ...reply,
    location: reply.headers.get("location") === null ? undefined : new URL(reply.headers.get("location")!)
  }))

const authorizeParams = (challenge: string, extra: Record<string, string> = {}) => ({
  response_type: "code",
  client_id: "confidential",
  redirect_uri: REDIRECT,
  code_challenge: challenge,
  code_challenge_method: "S256",
  state: "xyz",
  resource: RESOURCE,
  ...extra
})

/** A code for the client (through `/authorize`), with its verifier. */
const codeFor = (base: string, extra: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const { challenge, verifier } = pkce()
    const reply = yield* authorize(base, authorizeParams(challenge, extra))
    expect(reply.status).toBe(302)
    const code = reply.location?.searchParams.get("code")
    expect(code).toBeTruthy()
    return { code: code!, verifier }
  })

const exchange = (
  base: string,
  code: string,
  verifier: string,
  auth: Record<string, string> = basic("confidential", "s3cret"),
  extra: Record<string, string> = {}
) =>
  form(base, "/token", {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
    ...extra
  }, auth)

const tokensFor = (base: string) =>
  Effect.gen(function*() {
    const { code, verifier } = yield* codeFor(base)
    const reply = yield* exchange(base, code, verifier)
    expect(reply.status).toBe(200)
    return { access: String(reply.json.access_token), refresh: String(reply.json.refresh_token) }
  })

const refreshWith = (base: string, refreshToken: string, extra: Record<string, string> = {}) =>
  form(
    base,
    "/token",
    { grant_type: "refresh_token", refresh_token: refreshToken, ...extra },
    basic("confidential", "s3cret")
  )

const introspect = (base: string, token: string) =>
  Effect.map(form(base, "/introspect", { token }, basic("confidential", "s3cret")), (reply) => reply.json.active)

describe("OAuthProvider", () => {
  it.scoped("serves RFC 8414 metadata (and the OIDC discovery alias)", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const reply = yield* call(`${base}/.well-known/oauth-authorization-server`)
      expect(reply.status).toBe(200)
      expect(reply.headers.get("content-type")).toContain("application/json")
      expect(reply.json).toMatchObject({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
        registration_endpoint: `${ISSUER}/register`,
        revocation_endpoint: `${ISSUER}/revoke`,
        introspection_endpoint: `${ISSUER}/introspect`,
        jwks_uri: `${ISSUER}/jwks`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
        scopes_supported: ["read", "write"]
      })
      const alias = yield* call(`${base}/.well-known/openid-configuration`)
      expect(alias.json).toEqual(reply.json)
      // Browser clients read it, and call the token endpoint, from other origins.
      expect(reply.headers.get("access-control-allow-origin")).toBe("*")
      const preflight = yield* call(`${base}/token`, {
        method: "OPTIONS",
        headers: { origin: "https://app.example", "access-control-request-method": "POST" }
      })
      expect(preflight.status).toBeLessThan(300)
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*")
    }))

  it.scoped("an issuer with a path serves its metadata under the path (RFC 8414 §3)", () =>
    Effect.gen(function*() {
      const { base } = yield* setup({ issuer: "https://as.example/tenant1" })
      const reply = yield* call(`${base}/.well-known/oauth-authorization-server/tenant1`)
      expect(reply.json.issuer).toBe("https://as.example/tenant1")
      expect(reply.json.token_endpoint).toBe("https://as.example/tenant1/token")
      const { challenge } = pkce()
      expect((yield* authorize(base.replace(/$/, "/tenant1"), authorizeParams(challenge))).status).toBe(302)
    }))

  it.scoped("the code flow with PKCE: code, state and iss in the redirect; a JWT for the resource", () =>
    Effect.gen(function*() {
      const { base, provider } = yield* setup()
      const { challenge, verifier } = pkce()
      const redirect = yield* authorize(base, authorizeParams(challenge, { scope: "read write" }))
      expect(redirect.status).toBe(302)
      expect(redirect.headers.get("cache-control")).toBe("no-store")
      const location = redirect.location!
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT)
      expect(location.searchParams.get("state")).toBe("xyz")
      expect(location.searchParams.get("iss")).toBe(ISSUER)
      expect(location.searchParams.getAll("code")).toHaveLength(1)

      const reply = yield* exchange(base, location.searchParams.get("code")!, verifier)
      expect(reply.status).toBe(200)
      expect(reply.headers.get("cache-control")).toBe("no-store")
      expect(reply.headers.get("content-type")).toContain("application/json")
      expect(reply.json).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "read write" })
      expect(typeof reply.json.refresh_token).toBe("string")

      const jwks = yield* call(`${base}/jwks`)
      expect(JSON.stringify(jwks.json)).not.toMatch(/"d"/)
      const accessToken = String(reply.json.access_token)
      const published = jwks.json.keys
      expect(Array.isArray(published)).toBe(true)
      const keySet = createLocalJWKSet({ keys: Array.isArray(published) ? published : [] })
      const { payload, protectedHeader } = yield* Effect.promise(() =>
        jwtVerify(accessToken, keySet, {
          issuer: ISSUER,
          audience: RESOURCE,
          currentDate: new Date(NOW)
        })
      )
      expect(protectedHeader.typ).toBe("at+jwt")
      expect(payload).toMatchObject({ sub: "alice", client_id: "confidential", scope: "read write", iat: NOW / 1000 })
      expect(payload.exp).toBe(NOW / 1000 + 3600)
      expect(typeof payload.jti).toBe("string")

      const claims = yield* provider.verifyAccessToken(accessToken, RESOURCE)
      expect(claims).toMatchObject({ subject: "alice", audience: RESOURCE, scopes: ["read", "write"] })
      const elsewhere = yield* Effect.exit(provider.verifyAccessToken(accessToken, "https://other.example/mcp"))
      expect(Exit.isFailure(elsewhere)).toBe(true)
      expect(yield* introspect(base, accessToken)).toBe(true)
    }))

  it.scoped("the resource parameter becomes aud; without one, the first resource; an unknown one is refused", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const other = yield* codeFor(base, { resource: "https://other.example/mcp" })
      const otherToken = yield* exchange(base, other.code, other.verifier)
      expect(decodeJwt(String(otherToken.json.access_token)).aud).toBe("https://other.example/mcp")

      const { challenge, verifier } = pkce()
      const { resource: _, ...noResource } = authorizeParams(challenge)
      const defaulted = yield* authorize(base, noResource)
      const token = yield* exchange(base, defaulted.location!.searchParams.get("code")!, verifier)
      expect(decodeJwt(String(token.json.access_token)).aud).toBe(RESOURCE)

      const unknown = yield* authorize(base, authorizeParams(challenge, { resource: "https://evil.example/" }))
      expect(unknown.location?.searchParams.get("error")).toBe("invalid_target")
      expect(unknown.location?.searchParams.get("state")).toBe("xyz")

      const switched = yield* codeFor(base)
      const reply = yield* exchange(base, switched.code, switched.verifier, undefined, {
        resource: "https://other.example/mcp"
      })
      expect(reply.json.error).toBe("invalid_target")
    }))

  it.scoped("PKCE is required and S256 only", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const { challenge } = pkce()
      const plain = yield* authorize(base, authorizeParams(challenge, { code_challenge_method: "plain" }))
      expect(plain.status).toBe(302)
      expect(plain.location?.searchParams.get("error")).toBe("invalid_request")
      expect(plain.location?.searchParams.get("code")).toBeNull()
      expect(plain.location?.searchParams.get("iss")).toBe(ISSUER)

      const { code_challenge_method: _, ...noMethod } = authorizeParams(challenge)
      expect((yield* authorize(base, noMethod)).location?.searchParams.get("error")).toBe("invalid_request")
      const { code_challenge: __, ...noChallenge } = authorizeParams(challenge)
      const missing = yield* authorize(base, noChallenge)
      expect(missing.location?.searchParams.get("error")).toBe("invalid_request")
      expect(missing.location?.searchParams.get("error_description")).toContain("code_challenge")
    }))

  it.scoped("a wrong or missing code_verifier gets invalid_grant", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const first = yield* codeFor(base)
      const wrong = yield* exchange(base, first.code, pkce().verifier)
      expect(wrong.status).toBe(400)
      expect(wrong.json.error).toBe("invalid_grant")
      expect(wrong.headers.get("cache-control")).toBe("no-store")
      const second = yield* codeFor(base)
      const missing = yield* form(base, "/token", {
        grant_type: "authorization_code",
        code: second.code,
        redirect_uri: REDIRECT
      }, basic("confidential", "s3cret"))
      expect(missing.json.error).toBe("invalid_request")
    }))

  it.scoped("a code is single-use: reusing it fails and revokes the tokens issued from it", () =>
    Effect.gen(function*() {
      const { base, provider } = yield* setup()
      const { code, verifier } = yield* codeFor(base)
      const first = yield* exchange(base, code, verifier)
      expect(first.status).toBe(200)
      const again = yield* exchange(base, code, verifier)
      expect(again.status).toBe(400)
      expect(again.json.error).toBe("invalid_grant")
      const verified = yield* Effect.exit(provider.verifyAccessToken(String(first.json.access_token)))
      expect(Exit.isFailure(verified)).toBe(true)
      expect(yield* introspect(base, String(first.json.access_token))).toBe(false)
      const refreshed = yield* refreshWith(base, String(first.json.refresh_token))
      expect(refreshed.json.error).toBe("invalid_grant")
    }))

  it.scoped("a code expires (TestClock)", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const { code, verifier } = yield* codeFor(base)
      yield* TestClock.adjust("61 seconds")
      const reply = yield* exchange(base, code, verifier)
      expect(reply.json).toMatchObject({ error: "invalid_grant", error_description: "the code has expired" })
    }))

  it.scoped("refresh tokens rotate; a reused one revokes its whole family", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const tokens = yield* tokensFor(base)
      const rotated = yield* refreshWith(base, tokens.refresh)
      expect(rotated.status).toBe(200)
      expect(rotated.json.refresh_token).not.toBe(tokens.refresh)
      expect(decodeJwt(String(rotated.json.access_token)).aud).toBe(RESOURCE)

      const narrowed = yield* refreshWith(base, String(rotated.json.refresh_token), { scope: "write" })
      expect(narrowed.json.error).toBe("invalid_scope")

      const reused = yield* refreshWith(base, tokens.refresh)
      expect(reused.json.error).toBe("invalid_grant")
      // The family is gone: the token rotated in before the reuse no longer works either.
      const newer = yield* refreshWith(base, String(rotated.json.refresh_token))
      expect(newer.json.error).toBe("invalid_grant")
      expect(yield* introspect(base, String(rotated.json.access_token))).toBe(false)
    }))

  it.scoped("refresh tokens expire (TestClock)", () =>
    Effect.gen(function*() {
      const { base } = yield* setup({ refreshTokenLifetime: "1 hour" })
      const tokens = yield* tokensFor(base)
      yield* TestClock.adjust("2 hours")
      expect((yield* refreshWith(base, tokens.refresh)).json.error).toBe("invalid_grant")
    }))

  it.scoped("client authentication: basic, post and none; wrong secrets are 401 invalid_client", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const viaPost = yield* codeFor(base)
      const post = yield* exchange(base, viaPost.code, viaPost.verifier, {}, {
        client_id: "confidential",
        client_secret: "s3cret"
      })
      expect(post.status).toBe(200)

      const wrongBasic = yield* codeFor(base)
      const badBasic = yield* exchange(base, wrongBasic.code, wrongBasic.verifier, basic("confidential", "nope"))
      expect(badBasic.status).toBe(401)
      expect(badBasic.json.error).toBe("invalid_client")
      expect(badBasic.headers.get("www-authenticate")).toMatch(/^Basic /)
      expect(badBasic.text).not.toContain("nope")

      const badPost = yield* exchange(base, wrongBasic.code, wrongBasic.verifier, {}, {
        client_id: "confidential",
        client_secret: "nope"
      })
      expect(badPost.status).toBe(401)
      expect(badPost.json.error).toBe("invalid_client")

      const noSecret = yield* exchange(base, wrongBasic.code, wrongBasic.verifier, {}, { client_id: "confidential" })
      expect(noSecret.status).toBe(401)

      const { challenge, verifier } = pkce()
      const publicCode = yield* authorize(base, authorizeParams(challenge, { client_id: "public" }))
      const none = yield* exchange(base, publicCode.location!.searchParams.get("code")!, verifier, {}, {
        client_id: "public"
      })
      expect(none.status).toBe(200)
      expect(decodeJwt(String(none.json.access_token)).client_id).toBe("public")

      const unknown = yield* exchange(base, "x", "y", basic("nobody", "s3cret"))
      expect(unknown.status).toBe(401)
    }))

  it.scoped("a client may only use the advertised methods", () =>
    Effect.gen(function*() {
      const { base } = yield* setup({ tokenEndpointAuthMethods: ["client_secret_basic"] })
      const meta = yield* call(`${base}/.well-known/oauth-authorization-server`)
      expect(meta.json.token_endpoint_auth_methods_supported).toEqual(["client_secret_basic"])
      const { code, verifier } = yield* codeFor(base)
      const post = yield* exchange(base, code, verifier, {}, { client_id: "confidential", client_secret: "s3cret" })
      expect(post.status).toBe(401)
      expect(post.json.error).toBe("invalid_client")
    }))

  it.scoped("token endpoint errors: unsupported_grant_type, a wrong redirect_uri, form bodies only", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const grant = yield* form(base, "/token", { grant_type: "password" }, basic("confidential", "s3cret"))
      expect(grant.json.error).toBe("unsupported_grant_type")
      const { code, verifier } = yield* codeFor(base)
      const redirect = yield* exchange(base, code, verifier, undefined, { redirect_uri: "http://127.0.0.1:3000/x" })
      expect(redirect.json.error).toBe("invalid_grant")
      const json = yield* call(`${base}/token`, {
        method: "POST",
        headers: { "content-type": "application/json", ...basic("confidential", "s3cret") },
        body: JSON.stringify({ grant_type: "authorization_code" })
      })
      expect(json.json.error).toBe("invalid_request")
    }))

  it.scoped("an unregistered redirect URI or an unknown client is never redirected to", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const { challenge } = pkce()
      const mismatch = yield* authorize(base, authorizeParams(challenge, { redirect_uri: "https://evil.example/cb" }))
      expect(mismatch.status).toBe(400)
      expect(mismatch.headers.get("location")).toBeNull()
      expect(mismatch.json.error).toBe("invalid_request")
      // Exact matching: a prefix, or another port, is another URI.
      const prefix = yield* authorize(base, authorizeParams(challenge, { redirect_uri: `${REDIRECT}/more` }))
      expect(prefix.status).toBe(400)
      const unknown = yield* authorize(base, authorizeParams(challenge, { client_id: "nobody" }))
      expect(unknown.status).toBe(400)
      expect(unknown.headers.get("location")).toBeNull()
      // Two registered redirect URIs: the request must name one.
      const { redirect_uri: _, ...noRedirect } = authorizeParams(challenge, { client_id: "public" })
      expect((yield* authorize(base, noRedirect)).status).toBe(400)
    }))

  it.scoped("authorization errors: response_type, scope, repeated parameters", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const { challenge } = pkce()
      const token = yield* authorize(base, authorizeParams(challenge, { response_type: "token" }))
      expect(token.location?.searchParams.get("error")).toBe("unsupported_response_type")
      const scope = yield* authorize(base, authorizeParams(challenge, { scope: "admin" }))
      expect(scope.location?.searchParams.get("error")).toBe("invalid_scope")
      const query = `${new URLSearchParams(authorizeParams(challenge)).toString()}&state=again`
      const repeated = yield* call(`${base}/authorize?${query}`)
      expect(repeated.status).toBe(400)
      expect(repeated.json.error).toBe("invalid_request")
    }))

  it.scoped("the consent hook may deny, or answer a page of its own", () =>
    Effect.gen(function*() {
      const { base } = yield* setup({
        consent: (request) =>
          Effect.gen(function*() {
            const http = yield* HttpServerRequest.HttpServerRequest
            if (http.method === "GET") {
              return OAuthProvider.ConsentDecision.Respond({
                response: HttpServerResponse.html(`<form method="post">Allow ${request.clientId}?</form>`)
              })
            }
            const body = new URLSearchParams(yield* Effect.orDie(http.text))
            return body.get("decision") === "allow" ?
              OAuthProvider.ConsentDecision.Approve({ subject: "bob", scopes: ["read"] }) :
              OAuthProvider.ConsentDecision.Deny({ description: "the user said no" })
          })
      })
      const { challenge, verifier } = pkce()
      const page = yield* authorize(base, authorizeParams(challenge))
      expect(page.status).toBe(200)
      expect(page.text).toContain("Allow confidential?")

      const post = (decision: string) =>
        Effect.map(
          form(base, "/authorize", { ...authorizeParams(challenge), decision }),
          (reply) => new URL(reply.headers.get("location")!)
        )
      const denied = yield* post("deny")
      expect(denied.searchParams.get("error")).toBe("access_denied")
      expect(denied.searchParams.get("state")).toBe("xyz")
      const allowed = yield* post("allow")
      const token = yield* exchange(base, allowed.searchParams.get("code")!, verifier)
      expect(decodeJwt(String(token.json.access_token))).toMatchObject({ sub: "bob", scope: "read" })
    }))

  it.scoped("dynamic client registration (RFC 7591)", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const register = (body: unknown) =>
        call(`${base}/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body)
        })
      const confidential = yield* register({ redirect_uris: [REDIRECT], client_name: "App", scope: "read" })
      expect(confidential.status).toBe(201)
      expect(confidential.json).toMatchObject({
        token_endpoint_auth_method: "client_secret_basic",
        redirect_uris: [REDIRECT],
        client_name: "App",
        client_secret_expires_at: 0,
        grant_types: ["authorization_code"]
      })
      const id = String(confidential.json.client_id)
      const secret = String(confidential.json.client_secret)
      const { challenge, verifier } = pkce()
      const code = yield* authorize(base, authorizeParams(challenge, { client_id: id, scope: "read" }))
      const token = yield* exchange(base, code.location!.searchParams.get("code")!, verifier, basic(id, secret))
      expect(token.status).toBe(200)
      // Registered for authorization_code alone: no refresh token.
      expect(token.json.refresh_token).toBeUndefined()
      const wider = yield* authorize(base, authorizeParams(challenge, { client_id: id, scope: "write" }))
      expect(wider.location?.searchParams.get("error")).toBe("invalid_scope")

      const publicClient = yield* register({
        redirect_uris: [REDIRECT],
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"]
      })
      expect(publicClient.status).toBe(201)
      expect(publicClient.json.client_secret).toBeUndefined()

      const http = yield* register({ redirect_uris: ["http://app.example/cb"] })
      expect(http.json.error).toBe("invalid_redirect_uri")
      const script = yield* register({ redirect_uris: ["javascript:alert(1)"] })
      expect(script.json.error).toBe("invalid_redirect_uri")
      const none = yield* register({ client_name: "x" })
      expect(none.status).toBe(400)
      expect(none.json.error).toBe("invalid_client_metadata")
      const notJson = yield* register("{")
      expect(notJson.json.error).toBe("invalid_client_metadata")
    }))

  it.scoped("registration can be turned off", () =>
    Effect.gen(function*() {
      const { base } = yield* setup({ dynamicRegistration: false })
      const meta = yield* call(`${base}/.well-known/oauth-authorization-server`)
      expect(meta.json.registration_endpoint).toBeUndefined()
      const reply = yield* call(`${base}/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ redirect_uris: [REDIRECT] })
      })
      expect(reply.status).toBe(400)
    }))

  it.scoped("client ID metadata documents: fetched, checked, and the client is public", () =>
    Effect.gen(function*() {
      // The document server: /good names itself; /liar names another client_id.
      const documents = HttpRouter.empty.pipe(
        HttpRouter.get(
          "/:name",
          Effect.gen(function*() {
            const request = yield* HttpServerRequest.HttpServerRequest
            const self = `http://${request.headers.host}${request.url}`
            return HttpServerResponse.unsafeJson({
              client_id: request.url === "/liar" ? "https://elsewhere.example/client" : self,
              client_name: "Doc client",
              redirect_uris: [REDIRECT]
            })
          })
        )
      )
      const docs = yield* servePlatform(documents)
      const { base } = yield* setup({ allowHttpLoopbackClientIds: true })
      const { challenge, verifier } = pkce()
      const clientId = `${docs}/good`
      const code = yield* authorize(base, authorizeParams(challenge, { client_id: clientId }))
      expect(code.status).toBe(302)
      const token = yield* exchange(base, code.location!.searchParams.get("code")!, verifier, {}, {
        client_id: clientId
      })
      expect(token.status).toBe(200)
      expect(decodeJwt(String(token.json.access_token)).client_id).toBe(clientId)

      const liar = yield* authorize(base, authorizeParams(challenge, { client_id: `${docs}/liar` }))
      expect(liar.status).toBe(400)
      expect(liar.headers.get("location")).toBeNull()
      const unlisted = yield* authorize(
        base,
        authorizeParams(challenge, {
          client_id: clientId,
          redirect_uri: "http://127.0.0.1:3000/elsewhere"
        })
      )
      expect(unlisted.status).toBe(400)

      // Without the test option, an http client ID is no client at all.
      const strict = yield* setup()
      expect((yield* authorize(strict.base, authorizeParams(challenge, { client_id: clientId }))).status).toBe(400)
    }))

  it.scoped("revocation (RFC 7009): a refresh token ends its grant; an access token itself", () =>
    Effect.gen(function*() {
      const { base, provider } = yield* setup()
      const revoke = (token: string) => form(base, "/revoke", { token }, basic("confidential", "s3cret"))
      const first = yield* tokensFor(base)
      const revoked = yield* revoke(first.refresh)
      expect(revoked.status).toBe(200)
      expect((yield* refreshWith(base, first.refresh)).json.error).toBe("invalid_grant")
      expect(Exit.isFailure(yield* Effect.exit(provider.verifyAccessToken(first.access)))).toBe(true)

      const second = yield* tokensFor(base)
      expect((yield* revoke(second.access)).status).toBe(200)
      expect(yield* introspect(base, second.access)).toBe(false)
      // The refresh token of that grant still works: only the access token was revoked.
      expect((yield* refreshWith(base, second.refresh)).status).toBe(200)

      expect((yield* revoke("not-a-token")).status).toBe(200)
      const unauthenticated = yield* form(base, "/revoke", { token: second.refresh }, basic("confidential", "x"))
      expect(unauthenticated.status).toBe(401)
    }))

  it.scoped("access tokens expire (TestClock), and introspection needs a confidential client", () =>
    Effect.gen(function*() {
      const { base, provider } = yield* setup()
      const tokens = yield* tokensFor(base)
      const publicIntrospection = yield* form(base, "/introspect", { token: tokens.access, client_id: "public" })
      expect(publicIntrospection.status).toBe(401)
      yield* TestClock.adjust("61 minutes")
      expect(yield* introspect(base, tokens.access)).toBe(false)
      const expired = yield* Effect.flip(provider.verifyAccessToken(tokens.access))
      expect(expired.message).not.toContain(tokens.access)
    }))

  it.effect("refuses unusable options", () =>
    Effect.gen(function*() {
      const badIssuer = yield* Effect.flip(OAuthProvider.make({ ...baseOptions, issuer: "https://as.example/?x=1" }))
      expect(badIssuer._tag).toBe("OAuthProviderError")
      const badKey = yield* Effect.flip(OAuthProvider.make({
        ...baseOptions,
        signingKey: Redacted.make(JSON.stringify({ kty: "EC", crv: "P-256", d: "PRIVATEPART" }))
      }))
      expect(badKey._tag).toBe("OAuthProviderError")
      expect(badKey.message).not.toContain("PRIVATEPART")
    }).pipe(Effect.provide(Deps)))

  it.scoped("a configured signing key signs the tokens, and its kid is published", () =>
    Effect.gen(function*() {
      const key = yield* OAuthProvider.generateSigningKey
      const { base, provider } = yield* setup({ signingKey: key })
      const kid = provider.jwks.keys[0].kid
      const tokens = yield* tokensFor(base)
      expect(JSON.parse(Buffer.from(tokens.access.split(".")[0], "base64url").toString()).kid).toBe(kid)
      expect(JSON.stringify(provider.jwks)).not.toContain(JSON.parse(Redacted.value(key)).d)
    }))

  it.scoped("examples/authorization-server.ts: its MCP endpoint takes only its own tokens for it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const issuer = "http://localhost:3001"
      const context = yield* Layer.build(
        AppLive(issuer).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })))
      )
      const address = Context.get(context, HttpServer.HttpServer).address
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      const mcp = (token?: string) =>
        call(`${base}/mcp`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` })
          },
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } }
          })
        })
      const anonymous = yield* mcp()
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get("www-authenticate")).toContain(
        `resource_metadata="${issuer}/.well-known/oauth-protected-resource/mcp"`
      )
      expect((yield* call(`${base}/.well-known/oauth-protected-resource/mcp`)).json.authorization_servers).toEqual([
        issuer
      ])
      expect((yield* mcp("not-a-token")).status).toBe(401)

      const { challenge, verifier } = pkce()
      const code = yield* authorize(base, {
        ...authorizeParams(challenge, { client_id: "conformance-client", resource: `${issuer}/mcp` })
      })
      expect(code.location?.searchParams.get("iss")).toBe(issuer)
      const token = yield* form(base, "/token", {
        grant_type: "authorization_code",
        code: code.location!.searchParams.get("code")!,
        code_verifier: verifier,
        redirect_uri: REDIRECT,
        client_id: "conformance-client",
        client_secret: "conformance-secret"
      })
      expect(token.status).toBe(200)
      const initialized = yield* mcp(String(token.json.access_token))
      expect(initialized.status).toBe(200)
      expect(initialized.text).toContain("protected")
    }).pipe(Effect.provide(Deps)))

  it.scoped("layer and layerRouter: the routes beside others of an HttpRouter.Tag", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      class ApiRouter extends HttpRouter.Tag("ApiRouter")<ApiRouter>() {}
      const Health = ApiRouter.use((router) => router.get("/health", HttpServerResponse.text("ok")))
      const Auth = OAuthProvider.layerRouter(ApiRouter).pipe(
        Layer.provide(OAuthProvider.layer(baseOptions)),
        Layer.provide(Deps)
      )
      const App = ApiRouter.serve().pipe(
        Layer.provide(Layer.mergeAll(Health, Auth)),
        Layer.provide(ApiRouter.Live),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
      const context = yield* Layer.build(App)
      const address = Context.get(context, HttpServer.HttpServer).address
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
      expect((yield* call(`${base}/health`)).text).toBe("ok")
      expect((yield* call(`${base}/.well-known/oauth-authorization-server`)).json.issuer).toBe(ISSUER)
      const tokens = yield* tokensFor(base)
      expect(decodeJwt(tokens.access).sub).toBe("alice")
    }))

  it.scoped("hostile input: oversized bodies are refused, and no reply quotes what it was sent", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const big = yield* form(base, "/token", { grant_type: "refresh_token", refresh_token: "x".repeat(100_000) })
      expect(big.status).toBe(400)
      expect(big.json.error).toBe("invalid_request")
      const secret = "refresh-token-that-must-not-echo"
      const reply = yield* refreshWith(base, secret)
      expect(reply.json.error).toBe("invalid_grant")
      expect(reply.text).not.toContain(secret)
      const code = yield* exchange(base, secret, secret)
      expect(code.text).not.toContain(secret)
      const malformed = yield* form(base, "/token", { grant_type: "authorization_code" }, {
        authorization: "Basic %%%"
      })
      expect(malformed.status).toBe(401)
      expect(malformed.json.error).toBe("invalid_client")
    }))

  it.scoped("the official TypeScript SDK's client OAuth flow: discovery, registration, PKCE, refresh", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const httpServer = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
      const base = `http://127.0.0.1:${httpServer.address._tag === "TcpAddress" ? httpServer.address.port : 0}`
      const resource = `${base}/mcp`
      const provider = yield* OAuthProvider.make({ ...baseOptions, issuer: base, resources: [resource] }).pipe(
        Effect.provide(Deps)
      )
      const router = provider.router.pipe(
        HttpRouter.get(
          "/.well-known/oauth-protected-resource/mcp",
          HttpServerResponse.json({ resource, authorization_servers: [base] })
        )
      )
      yield* HttpServer.serveEffect(router).pipe(Effect.provideService(HttpServer.HttpServer, httpServer))

      let client: OAuthClientInformationMixed | undefined
      let tokens: OAuthTokens | undefined
      let verifier = ""
      let authorizationUrl: URL | undefined
      const sdkProvider: OAuthClientProvider = {
        redirectUrl: REDIRECT,
        clientMetadata: {
          redirect_uris: [REDIRECT],
          client_name: "sdk",
          token_endpoint_auth_method: "none",
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"]
        },
        clientInformation: () => client,
        saveClientInformation: (info) => {
          client = info
        },
        tokens: () => tokens,
        saveTokens: (saved) => {
          tokens = saved
        },
        redirectToAuthorization: (url) => {
          authorizationUrl = url
        },
        saveCodeVerifier: (saved) => {
          verifier = saved
        },
        codeVerifier: () => verifier
      }
      expect(yield* Effect.promise(() => sdkAuth(sdkProvider, { serverUrl: resource }))).toBe("REDIRECT")
      expect(authorizationUrl?.searchParams.get("resource")).toBe(resource)
      const redirect = yield* call(authorizationUrl!.toString())
      const location = new URL(redirect.headers.get("location")!)
      expect(location.searchParams.get("iss")).toBe(base)
      const code = location.searchParams.get("code")!
      expect(yield* Effect.promise(() => sdkAuth(sdkProvider, { serverUrl: resource, authorizationCode: code })))
        .toBe("AUTHORIZED")
      const claims = yield* provider.verifyAccessToken(tokens!.access_token, resource)
      expect(claims).toMatchObject({ subject: "alice", clientId: client!.client_id })

      // With tokens held, auth() refreshes them (rotation: a new refresh token).
      const before = tokens!.refresh_token
      expect(yield* Effect.promise(() => sdkAuth(sdkProvider, { serverUrl: resource }))).toBe("AUTHORIZED")
      expect(tokens!.refresh_token).not.toBe(before)
    }))
})
