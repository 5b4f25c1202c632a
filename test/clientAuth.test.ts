import { HttpClientRequest, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { NodeContext, NodeFileSystem } from "@effect/platform-node"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { LegacySse, LegacySseClient, McpServer, OAuthClient, StreamableHttp, StreamableHttpClient } from "mcp-effect"
import { NodeOAuth } from "mcp-effect/node"
import { createHash } from "node:crypto"
import { mkdtempSync, statSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** How the fake authorization server and protected resource behave; each test changes what it tests. */
interface FakeOptions {
  readonly prm?: "path" | "root" | "none"
  readonly prmInHeader?: boolean
  readonly prmResource?: string
  readonly prmScopes?: ReadonlyArray<string>
  readonly issuerPath?: "" | `/${string}`
  readonly metadata?: "oauth" | "openid" | "none"
  readonly metadataIssuer?: string
  readonly authMethods?: ReadonlyArray<string>
  readonly registration?: boolean
  readonly registrationSecret?: boolean
  readonly pkceMethods?: ReadonlyArray<string> | null
  readonly iss?: "correct" | "wrong" | "omit"
  readonly issSupported?: boolean
  readonly asScopes?: ReadonlyArray<string>
  readonly challengeScope?: string
  readonly requiredScope?: string
  readonly grantable?: ReadonlyArray<string>
  readonly refresh?: boolean
  readonly tokenEndpoint?: string
  /** Token requests need `x-nonce: n1` and resource requests `x-nonce: r1`, which refusals name (like DPoP's). */
  readonly nonce?: boolean
}

interface Fake {
  readonly base: string
  readonly url: string
  readonly registrations: Array<Record<string, unknown>>
  readonly authorizations: Array<URLSearchParams>
  readonly tokenRequests: Array<{ readonly params: URLSearchParams; readonly authorization: string | undefined }>
  /** Access tokens the resource accepts, with their scopes; a test may revoke one. */
  readonly tokens: Map<string, ReadonlyArray<string>>
}

const Echo = McpServer.tool("echo", {
  description: "Echo",
  parameters: { text: Schema.String },
  success: Schema.Struct({ text: Schema.String })
}, ({ text }) => Effect.succeed({ text }))

const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "protected", version: "1.0.0" })))

const ClientMetadata = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url")

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })

/** The authorization server's routes. */
const authorizationServer = (fake: Fake, o: FakeOptions, issuer: () => string) => {
  const codes = new Map<string, { scope: string | undefined; challenge: string | null }>()
  const refreshTokens = new Map<string, ReadonlyArray<string>>()
  let n = 0
  const issue = (scopes: ReadonlyArray<string>) => {
    const access = `tok-${++n}`
    fake.tokens.set(access, scopes)
    const refresh = o.refresh === true ? `refresh-${n}` : undefined
    if (refresh !== undefined) refreshTokens.set(refresh, scopes)
    return json({
      access_token: access,
      token_type: "Bearer",
      expires_in: 3600,
      ...(refresh !== undefined ? { refresh_token: refresh } : {}),
      scope: scopes.join(" ")
    })
  }
  const metadata = Effect.sync(() =>
    json({
      issuer: o.metadataIssuer ?? issuer(),
      authorization_endpoint: `${issuer()}/authorize`,
      token_endpoint: o.tokenEndpoint ?? `${issuer()}/token`,
      ...(o.registration !== false ? { registration_endpoint: `${issuer()}/register` } : {}),
      response_types_supported: ["code"],
      ...(o.pkceMethods !== null ? { code_challenge_methods_supported: o.pkceMethods ?? ["S256"] } : {}),
      token_endpoint_auth_methods_supported: o.authMethods ?? ["none"],
      ...(o.asScopes !== undefined ? { scopes_supported: o.asScopes } : {}),
      ...(o.issSupported === true ? { authorization_response_iss_parameter_supported: true } : {})
    })
  )
  const path: "" | `/${string}` = o.issuerPath ?? ""
  const metadataPath: HttpRouter.PathInput = o.metadata === "openid"
    ? `/.well-known/openid-configuration${path}`
    : `/.well-known/oauth-authorization-server${path}`
  const authorize = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = new URL(request.url, fake.base).searchParams
    fake.authorizations.push(params)
    const code = `code-${fake.authorizations.length}`
    codes.set(code, { scope: params.get("scope") ?? undefined, challenge: params.get("code_challenge") })
    const redirect = new URL(params.get("redirect_uri") ?? "")
    redirect.searchParams.set("code", code)
    redirect.searchParams.set("state", params.get("state") ?? "")
    if (o.iss !== "omit") redirect.searchParams.set("iss", o.iss === "wrong" ? "https://evil.example" : issuer())
    return HttpServerResponse.empty({ status: 302, headers: { location: redirect.href } })
  })
  const token = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = new URLSearchParams(yield* request.text)
    fake.tokenRequests.push({ params, authorization: request.headers.authorization })
    if (o.nonce === true && request.headers["x-nonce"] !== "n1") {
      return HttpServerResponse.unsafeJson({ error: "use_nonce" }, { status: 400, headers: { "x-nonce": "n1" } })
    }
    if (params.get("grant_type") === "refresh_token") {
      const scopes = refreshTokens.get(params.get("refresh_token") ?? "")
      if (scopes === undefined) return json({ error: "invalid_grant" }, 400)
      refreshTokens.delete(params.get("refresh_token") ?? "")
      return issue(scopes)
    }
    const grant = codes.get(params.get("code") ?? "")
    if (grant === undefined || grant.challenge !== s256(params.get("code_verifier") ?? "")) {
      return json({ error: "invalid_grant" }, 400)
    }
    const granted = (grant.scope?.split(" ") ?? []).filter((s) => o.grantable === undefined || o.grantable.includes(s))
    return issue(granted)
  })
  const register = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Schema.decodeUnknown(ClientMetadata)(yield* request.json)
    fake.registrations.push(body)
    return json({
      client_id: `client-${fake.registrations.length}`,
      ...(o.registrationSecret === true ? { client_secret: "s3cret" } : {}),
      ...(typeof body.token_endpoint_auth_method === "string"
        ? { token_endpoint_auth_method: body.token_endpoint_auth_method }
        : {})
    }, 201)
  })
  return (router: HttpRouter.HttpRouter<unknown, never>) =>
    router.pipe(
      o.metadata === "none" ? (r) => r : HttpRouter.get(metadataPath, metadata),
      HttpRouter.get(`${path}/authorize`, authorize),
      HttpRouter.post(`${path}/token`, token),
      HttpRouter.post(`${path}/register`, register)
    )
}

/** The protected MCP endpoint: 401 without a known token, 403 without the required scope. */
const guard = (fake: Fake, o: FakeOptions, mcp: HttpApp.Default) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const header = request.headers.authorization ?? ""
    const scopes = header.startsWith("Bearer ") ? fake.tokens.get(header.slice(7)) : undefined
    const prm = o.prm === "root"
      ? `${fake.base}/.well-known/oauth-protected-resource`
      : `${fake.base}/.well-known/oauth-protected-resource/mcp`
    const params = [
      ...(o.prmInHeader !== false && o.prm !== "none" ? [`resource_metadata="${prm}"`] : []),
      ...(o.challengeScope !== undefined ? [`scope="${o.challengeScope}"`] : [])
    ]
    if (scopes !== undefined && o.nonce === true && request.headers["x-nonce"] !== "r1") {
      return HttpServerResponse.empty({ status: 401, headers: { "x-nonce": "r1" } })
    }
    if (scopes === undefined) {
      return HttpServerResponse.empty({
        status: 401,
        headers: { "www-authenticate": `Bearer ${params.join(", ")}`.trim() }
      })
    }
    if (o.requiredScope !== undefined && !scopes.includes(o.requiredScope)) {
      return HttpServerResponse.empty({
        status: 403,
        headers: {
          "www-authenticate":
            `Bearer error="insufficient_scope", scope="${o.requiredScope}", resource_metadata="${prm}"`
        }
      })
    }
    return yield* mcp
  })

/** A fake authorization server and protected MCP server on one loopback port, for the test's scope. */
const serve = (o: FakeOptions = {}) =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const base = `http://127.0.0.1:${port}`
    const fake: Fake = {
      base,
      url: `${base}/mcp`,
      registrations: [],
      authorizations: [],
      tokenRequests: [],
      tokens: new Map()
    }
    const issuer = () => `${base}${o.issuerPath ?? ""}`
    const mcp = yield* StreamableHttp.toApp(ServerLive)
    const prm = Effect.sync(() =>
      json({
        resource: o.prmResource ?? (o.prm === "root" ? base : fake.url),
        authorization_servers: [issuer()],
        ...(o.prmScopes !== undefined ? { scopes_supported: o.prmScopes } : {})
      })
    )
    const prmPath = o.prm === "root"
      ? "/.well-known/oauth-protected-resource"
      : "/.well-known/oauth-protected-resource/mcp"
    const legacy = yield* LegacySse.make().pipe(Effect.provide(yield* Layer.build(ServerLive)))
    const router = HttpRouter.empty.pipe(
      o.prm === "none" ? (r) => r : HttpRouter.get(prmPath, prm),
      authorizationServer(fake, o, issuer),
      HttpRouter.all("/mcp", guard(fake, o, mcp)),
      HttpRouter.get("/sse", guard(fake, o, legacy.sse)),
      HttpRouter.post("/messages", guard(fake, o, legacy.messages))
    )
    yield* server.serve(router)
    return fake
  })

const REDIRECT = "http://127.0.0.1:9/callback"

/** Connects with `authorization` (the handshake era, so no era probing) and calls the echo tool. */
const callEcho = (url: string, authorization: OAuthClient.Authorization) =>
  Effect.gen(function*() {
    const client = yield* StreamableHttpClient.connect(url, {
      protocolVersion: "2025-11-25",
      http: { authorization, openGetStream: false }
    })
    return yield* client.callTool("echo", { text: "hi" })
  }).pipe(Effect.scoped)

/** An authorization with a fresh memory store and the headless handler. */
const authorize = (url: string, options: OAuthClient.Options = {}) =>
  OAuthClient.make(url, options).pipe(
    Effect.provide(OAuthClient.layerHeadlessAuthorization(REDIRECT)),
    Effect.provideService(OAuthClient.TokenStore, OAuthClient.makeMemoryTokenStore())
  )

const signIn = (fake: Fake, options: OAuthClient.Options = {}) =>
  Effect.flatMap(authorize(fake.url, options), (authorization) => callEcho(fake.url, authorization))

const basicUser = (header: string | undefined) =>
  header?.startsWith("Basic ") === true ? Buffer.from(header.slice(6), "base64").toString("utf8") : undefined

describe("OAuthClient", () => {
  it.scopedLive("signs in on a 401: PRM from WWW-Authenticate, DCR, PKCE S256, the resource indicator, and reuses the token", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ challengeScope: "mcp:read" })
      const authorization = yield* authorize(fake.url)
      const result = yield* callEcho(fake.url, authorization)
      expect(result.isError).not.toBe(true)
      yield* callEcho(fake.url, authorization)
      expect(fake.registrations).toHaveLength(1)
      expect(fake.registrations[0]).toMatchObject({ application_type: "native", redirect_uris: [REDIRECT] })
      expect(fake.registrations[0]!.grant_types).toEqual(["authorization_code", "refresh_token"])
      expect(fake.authorizations).toHaveLength(1)
      const params = fake.authorizations[0]!
      expect(params.get("code_challenge_method")).toBe("S256")
      expect(params.get("resource")).toBe(fake.url)
      expect(params.get("scope")).toBe("mcp:read")
      expect(params.get("client_id")).toBe("client-1")
      const exchange = fake.tokenRequests[0]!.params
      expect(exchange.get("grant_type")).toBe("authorization_code")
      expect(exchange.get("resource")).toBe(fake.url)
      expect(Option.isSome(yield* authorization.tokens)).toBe(true)
    }))

  it.scopedLive("discovers a root PRM without a header and an issuer with a path through OpenID Connect discovery", () =>
    Effect.gen(function*() {
      const fake = yield* serve({
        prm: "root",
        prmInHeader: false,
        issuerPath: "/tenant1",
        metadata: "openid",
        prmScopes: ["a", "b"]
      })
      yield* signIn(fake)
      expect(fake.authorizations[0]!.get("scope")).toBe("a b")
      expect(fake.authorizations[0]!.get("resource")).toBe(fake.base)
    }))

  it.scopedLive("falls back to the 2025-03-26 default endpoints when there is no metadata at all", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ prm: "none", metadata: "none", iss: "omit" })
      yield* signIn(fake)
      expect(fake.registrations).toHaveLength(1)
      expect(fake.authorizations[0]!.has("scope")).toBe(false)
      expect(fake.tokenRequests).toHaveLength(1)
    }))

  it.scopedLive("uses pre-registered credentials with client_secret_basic, and registers nothing", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ registration: false, authMethods: ["client_secret_basic"] })
      yield* signIn(fake, { clientId: "pre id", clientSecret: "pre:secret" })
      expect(fake.registrations).toHaveLength(0)
      expect(basicUser(fake.tokenRequests[0]!.authorization)).toBe("pre+id:pre%3Asecret")
      expect(fake.tokenRequests[0]!.params.has("client_secret")).toBe(false)
    }))

  it.scopedLive("authenticates at the token endpoint as the server supports: client_secret_post, none", () =>
    Effect.gen(function*() {
      const post = yield* serve({ authMethods: ["client_secret_post"], registrationSecret: true })
      yield* signIn(post)
      expect(post.registrations[0]!.token_endpoint_auth_method).toBe("client_secret_post")
      expect(post.tokenRequests[0]!.params.get("client_secret")).toBe("s3cret")
      expect(post.tokenRequests[0]!.authorization).toBeUndefined()
      const none = yield* serve({ authMethods: ["none"] })
      yield* signIn(none)
      expect(none.tokenRequests[0]!.params.get("client_id")).toBe("client-1")
      expect(none.tokenRequests[0]!.params.has("client_secret")).toBe(false)
      expect(none.tokenRequests[0]!.authorization).toBeUndefined()
    }))

  it.scopedLive("uses a client ID metadata document URL as client_id where the server supports it", () =>
    Effect.gen(function*() {
      const fake = yield* serve({})
      // The fake advertises no CIMD support: the client registers.
      yield* signIn(fake, { clientMetadataUrl: "https://client.example/metadata.json" })
      expect(fake.registrations).toHaveLength(1)
    }))

  it.scopedLive("steps up on 403 insufficient_scope with the union of scopes", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ challengeScope: "mcp:read", requiredScope: "mcp:write" })
      yield* signIn(fake)
      expect(fake.authorizations.map((p) => p.get("scope"))).toEqual(["mcp:read", "mcp:read mcp:write"])
    }))

  it.scopedLive("gives up stepping up after maxStepUps re-authorizations", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ challengeScope: "mcp:read", requiredScope: "mcp:admin", grantable: ["mcp:read"] })
      const error = yield* Effect.flip(signIn(fake))
      expect(error.message).toContain("403")
      expect(fake.authorizations).toHaveLength(3)
    }))

  it.scopedLive("asks for offline_access when the authorization server offers it", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ prmScopes: ["mcp:basic"], asScopes: ["mcp:basic", "offline_access"] })
      yield* signIn(fake)
      expect(fake.authorizations[0]!.get("scope")).toBe("mcp:basic offline_access")
    }))

  it.scopedLive("refreshes on a 401 (rotating the refresh token) rather than authorizing again", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ refresh: true })
      const authorization = yield* authorize(fake.url)
      yield* callEcho(fake.url, authorization)
      fake.tokens.clear()
      yield* callEcho(fake.url, authorization)
      expect(fake.authorizations).toHaveLength(1)
      expect(fake.tokenRequests.map((r) => r.params.get("grant_type"))).toEqual(["authorization_code", "refresh_token"])
      expect(fake.tokenRequests[1]!.params.get("refresh_token")).toBe("refresh-1")
      const tokens = Option.getOrThrow(yield* authorization.tokens)
      expect(tokens.refreshToken).toBe("refresh-2")
    }))

  it.scoped("refreshes a token about to expire before using it", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ refresh: true })
      const authorization = yield* authorize(fake.url)
      yield* callEcho(fake.url, authorization)
      yield* TestClock.adjust("2 hours")
      yield* callEcho(fake.url, authorization)
      expect(fake.tokenRequests.map((r) => r.params.get("grant_type"))).toEqual(["authorization_code", "refresh_token"])
      expect(fake.authorizations).toHaveLength(1)
    }))

  it.scopedLive("refuses protected resource metadata for another resource, before any authorization", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ prmResource: "https://evil.example/mcp" })
      const error = yield* Effect.flip(signIn(fake))
      expect(error.message).toContain("https://evil.example/mcp")
      expect(fake.authorizations).toHaveLength(0)
    }))

  it.scopedLive("refuses an authorization response from another issuer, and one missing iss when advertised", () =>
    Effect.gen(function*() {
      const wrong = yield* serve({ iss: "wrong" })
      expect((yield* Effect.flip(signIn(wrong))).message).toContain("issuer")
      expect(wrong.authorizations).toHaveLength(1)
      expect(wrong.tokenRequests).toHaveLength(0)
      const missing = yield* serve({ iss: "omit", issSupported: true })
      expect((yield* Effect.flip(signIn(missing))).message).toContain("iss")
      expect(missing.tokenRequests).toHaveLength(0)
    }))

  it.scopedLive("refuses metadata whose issuer is not the one discovered, and one without S256", () =>
    Effect.gen(function*() {
      const mismatch = yield* serve({ metadataIssuer: "https://attacker.example" })
      expect((yield* Effect.flip(signIn(mismatch))).message).toContain("https://attacker.example")
      expect(mismatch.registrations).toHaveLength(0)
      const noPkce = yield* serve({ pkceMethods: null })
      expect((yield* Effect.flip(signIn(noPkce))).message).toContain("S256")
      expect(noPkce.authorizations).toHaveLength(0)
    }))

  it.scopedLive("refuses an authorization server whose endpoints are not https (off loopback)", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ tokenEndpoint: "http://auth.example/token" })
      expect((yield* Effect.flip(signIn(fake))).message).toContain("token_endpoint that is not https")
      expect(fake.registrations).toHaveLength(0)
    }))

  it.scopedLive("lets a token binding present tokens its own way and send refused requests once more", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ nonce: true })
      let nonce: string | undefined
      const remember = (response: { readonly headers: Readonly<Record<string, string | undefined>> }) =>
        Effect.sync(() => {
          nonce = response.headers["x-nonce"]
          return nonce !== undefined
        })
      const withNonce = (request: HttpClientRequest.HttpClientRequest) =>
        nonce === undefined ? request : HttpClientRequest.setHeader(request, "x-nonce", nonce)
      const binding: OAuthClient.TokenBinding = {
        tokenRequest: (request) => Effect.succeed(withNonce(request)),
        resourceRequest: (request, tokens) =>
          Effect.succeed(
            withNonce(HttpClientRequest.setHeader(request, "authorization", `Bearer ${tokens.accessToken}`))
          ),
        retryTokenRequest: remember,
        retryResourceRequest: remember
      }
      yield* signIn(fake, { tokenBinding: binding })
      expect(fake.tokenRequests.map((r) => r.params.get("grant_type"))).toEqual([
        "authorization_code",
        "authorization_code"
      ])
      // The resource's nonce refusal was answered by presenting the same token anew, not by signing in again.
      expect(nonce).toBe("r1")
      expect(fake.authorizations).toHaveLength(1)
      expect(fake.tokenRequests).toHaveLength(2)
    }))

  it.scopedLive("signs in over the legacy HTTP+SSE transport: its event stream's GET and its POSTs", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ prm: "root" })
      const url = `${fake.base}/sse`
      const authorization = yield* authorize(url)
      const client = yield* LegacySseClient.connect(url, { http: { authorization } })
      const result = yield* client.callTool("echo", { text: "hi" })
      expect(result.isError).not.toBe(true)
      expect(fake.authorizations).toHaveLength(1)
      expect(fake.authorizations[0]!.get("resource")).toBe(fake.base)
    }))

  it.scopedLive("keeps tokens in a file only its owner can read, which a later run signs in from", () =>
    Effect.gen(function*() {
      const fake = yield* serve({})
      const path = join(mkdtempSync(join(tmpdir(), "mcp-oauth-")), "tokens.json")
      const withFile = <A, E>(effect: Effect.Effect<A, E, OAuthClient.AuthorizationHandler>) =>
        effect.pipe(
          Effect.provide(OAuthClient.layerHeadlessAuthorization(REDIRECT)),
          Effect.provide(OAuthClient.layerFileTokenStore(path).pipe(Layer.provide(NodeFileSystem.layer)))
        )
      yield* withFile(Effect.flatMap(OAuthClient.make(fake.url), (a) => callEcho(fake.url, a)))
      expect(statSync(path).mode & 0o777).toBe(0o600)
      yield* withFile(Effect.flatMap(OAuthClient.make(fake.url), (a) => callEcho(fake.url, a)))
      expect(fake.authorizations).toHaveLength(1)
    }))
})

describe("NodeOAuth", () => {
  it.scopedLive("signs in ahead of connecting through the loopback redirect listener", () =>
    Effect.gen(function*() {
      const fake = yield* serve({ prmScopes: ["mcp:basic"] })
      const loopback = yield* NodeOAuth.makeLoopbackAuthorization({ openBrowser: false, quiet: true }).pipe(
        Effect.provide(NodeContext.layer)
      )
      // The "browser": follows the authorization URL, whose redirect lands on the listener, once the sign-in waits.
      const browser: OAuthClient.AuthorizationHandlerService = {
        redirectUri: loopback.redirectUri,
        authorize: (url) =>
          Effect.gen(function*() {
            const waiting = yield* Effect.fork(loopback.authorize(url))
            yield* Effect.yieldNow()
            const page = yield* Effect.promise(() => fetch(url).then((r) => r.text()))
            expect(page).toContain("Signed in")
            return yield* Fiber.join(waiting)
          })
      }
      const authorization = yield* OAuthClient.make(fake.url).pipe(
        Effect.provideService(OAuthClient.AuthorizationHandler, browser),
        Effect.provideService(OAuthClient.TokenStore, OAuthClient.makeMemoryTokenStore())
      )
      yield* authorization.signIn
      expect(fake.authorizations[0]!.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
      expect(fake.authorizations[0]!.get("scope")).toBe("mcp:basic")
      yield* callEcho(fake.url, authorization)
      expect(fake.authorizations).toHaveLength(1)
    }))
})
