import { FetchHttpClient, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema, TestClock } from "effect"
import { exportJWK, generateKeyPair, SignJWT } from "jose"
import type { GenerateKeyPairResult, JWK } from "jose"
import { McpServer, McpTest, ProtectedResource, RequestContext, StreamableHttp, TokenVerifier } from "mcp-effect"
import { createServer, request as httpRequest } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import { authLayer as exampleAuth, ProtectedServer } from "../examples/protected-server.js"
import { initializeBody, JSON_AND_SSE, promise, raw, serveHttp, servePlatform, sseMessages } from "./httpHelpers.js"

const RESOURCE = "https://mcp.example.com/mcp"
const ISSUER = "https://auth.example.com"

// --- the server under test ------------------------------------------------------------------------------------

const WhoAmI = McpServer.tool(
  "whoami",
  { description: "Who is calling" },
  () =>
    Effect.map(
      RequestContext.RequestContext,
      (ctx) => JSON.stringify({ subject: ctx.auth?.subject, clientId: ctx.auth?.clientId, scopes: ctx.auth?.scopes })
    )
)
const ReadFile = McpServer.tool(
  "read_file",
  { scopes: ["files:read"], parameters: { path: Schema.String } },
  ({ path }) => Effect.succeed(`contents of ${path}`)
)
const WriteFile = McpServer.tool("write_file", { scopes: ["files:write"] }, () => Effect.succeed("written"))
const Secret = McpServer.resource("secret://plans", { scopes: ["secrets:read"] }, () => Effect.succeed("the plans"))
const Notes = McpServer.resource("notes://{id}", { scopes: ["files:read"] }, ({ id }) => Effect.succeed(`note ${id}`))
const Review = McpServer.prompt("review", { scopes: ["files:write"] }, () => Effect.succeed("Review this"))

const Server = Layer.mergeAll(WhoAmI, ReadFile, WriteFile, Secret, Notes, Review).pipe(
  Layer.provideMerge(McpServer.layer({
    name: "protected",
    version: "1.0.0",
    cacheHints: { "tools/list": { ttlMs: 60_000, cacheScope: "public" } }
  }))
)

// --- an authorization server's keys, served as a JWKS by a test HTTP server -----------------------------------

interface SigningKey {
  readonly kid: string
  readonly privateKey: GenerateKeyPairResult["privateKey"]
  readonly jwk: JWK
}

const newKey = (kid: string) =>
  promise(async (): Promise<SigningKey> => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true })
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } }
  })

/** Serves `routes` (path → handler) on a free loopback port for the life of the scope. */
const serveRoutes = (
  routes: Record<string, (request: IncomingMessage, body: string, response: ServerResponse) => void>
) =>
  Effect.acquireRelease(
    Effect.async<{ readonly base: string; readonly close: () => void }>((resume) => {
      const server = createServer((request, response) => {
        let body = ""
        request.setEncoding("utf8")
        request.on("data", (chunk: string) => (body += chunk))
        request.on("end", () => {
          const route = routes[request.url ?? ""]
          if (route === undefined) response.writeHead(404).end()
          else route(request, body, response)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          base: `http://127.0.0.1:${port}`,
          close: () => {
            server.close()
            server.closeAllConnections()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  )

const jwksServer = (initial: ReadonlyArray<SigningKey>) =>
  Effect.gen(function*() {
    const state = { keys: initial, fetches: 0 }
    const { base } = yield* serveRoutes({
      "/jwks": (_, __, response) => {
        state.fetches++
        response.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({ keys: state.keys.map((key) => key.jwk) })
        )
      }
    })
    return { jwksUri: `${base}/jwks`, state }
  })

interface Claims {
  readonly sub?: string
  readonly client_id?: string
  readonly scope?: string
  readonly aud?: string
  readonly iss?: string
  /** Seconds from now (the test clock's) until it expires. */
  readonly expiresIn?: number
  /** The `typ` header. Default `at+jwt`. */
  readonly typ?: string
}

/** A JWT access token signed by `key`, its times from the test clock. */
const tokenOf = (key: SigningKey, claims: Claims = {}) =>
  Effect.gen(function*() {
    const now = Math.floor((yield* TestClock.currentTimeMillis) / 1000)
    const { aud, expiresIn, iss, typ, ...rest } = claims
    return yield* promise(() =>
      new SignJWT({ client_id: "client-1", sub: "alice", scope: "files:read", ...rest })
        .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: typ ?? "at+jwt" })
        .setIssuer(iss ?? ISSUER)
        .setAudience(aud ?? RESOURCE)
        .setIssuedAt(now)
        .setExpirationTime(now + (expiresIn ?? 300))
        .sign(key.privateKey)
    )
  })

const authLayer = (
  verifier: Layer.Layer<TokenVerifier.TokenVerifier>,
  options: Partial<ProtectedResource.Options> = {}
) =>
  ProtectedResource.layer({
    resource: RESOURCE,
    authorizationServers: [ISSUER],
    scopesSupported: ["files:read", "files:write", "secrets:read"],
    ...options
  }).pipe(Layer.provide(verifier))

const jwksVerifier = (jwksUri: string) =>
  TokenVerifier.layerJwks({ jwksUri, issuer: ISSUER, audience: RESOURCE }).pipe(Layer.provide(FetchHttpClient.layer))

/** A protected server on loopback, with its JWKS server and first key. */
const protectedServer = (options: Partial<ProtectedResource.Options> = {}) =>
  Effect.gen(function*() {
    const key = yield* newKey("key-1")
    const jwks = yield* jwksServer([key])
    const { url } = yield* serveHttp(Layer.merge(Server, authLayer(jwksVerifier(jwks.jwksUri), options)))
    return { url, key, jwks }
  })

// --- requests -------------------------------------------------------------------------------------------------

const bearer = (token: string) => ({ ...JSON_AND_SSE, authorization: `Bearer ${token}` })

const json = (body: string): any => JSON.parse(body)

/** The one JSON-RPC response of a JSON or SSE body. */
const responseOf = (body: string): any => body.startsWith("{") ? JSON.parse(body) : sseMessages(body).at(-1)?.message

/** Opens a handshake session with `token`; its id and the headers of its requests. */
const openWith = (url: string, token: string) =>
  Effect.gen(function*() {
    const opened = yield* promise(() => raw(url, { headers: bearer(token), body: initializeBody() }))
    expect(opened.status).toBe(200)
    const sessionId = String(opened.headers["mcp-session-id"])
    const headers = { ...bearer(token), "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }
    yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", method: "notifications/initialized" } }))
    return { sessionId, headers }
  })

/** An `initialize` with `token`, without a session being kept. */
const initWith = (url: string, token: string) =>
  promise(() => raw(url, { headers: bearer(token), body: initializeBody() }))

const call = (url: string, headers: Record<string, string>, method: string, params: object = {}) =>
  promise(() => raw(url, { headers, body: { jsonrpc: "2.0", id: 1, method, params } }))

const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "modern", version: "1" }
}

/** A stateless 2026-07-28 request. */
const modernCall = (url: string, token: string, method: string, params: Record<string, unknown> = {}) => {
  const name = method === "resources/read" ? params.uri : params.name
  return promise(() =>
    raw(url, {
      headers: {
        ...bearer(token),
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": method,
        ...(typeof name === "string" ? { "mcp-name": name } : {})
      },
      body: { jsonrpc: "2.0", id: 7, method, params: { ...params, _meta: MODERN_META } }
    })
  )
}

/** The parameters of a `WWW-Authenticate: Bearer` challenge. */
const challengeOf = (header: unknown): Record<string, string> => {
  expect(typeof header).toBe("string")
  const text = String(header)
  expect(text.startsWith("Bearer ")).toBe(true)
  return Object.fromEntries(Array.from(text.matchAll(/(\w+)="([^"]*)"/g), (m) => [m[1]!, m[2]!]))
}

/** A GET of a legacy SSE stream, read as it comes, until `stop`. */
const openStream = (url: string, headers: Record<string, string>) =>
  Effect.acquireRelease(
    promise(() =>
      new Promise<
        { readonly status: number; readonly waitFor: (text: string) => Promise<string>; readonly stop: () => void }
      >(
        (resolve, reject) => {
          const request = httpRequest(url, { headers }, (response) => {
            let received = ""
            const waiting = new Set<() => void>()
            response.setEncoding("utf8")
            response.on("data", (chunk: string) => {
              received += chunk
              for (const check of waiting) check()
            })
            resolve({
              status: response.statusCode ?? 0,
              waitFor: (text) =>
                new Promise((found) => {
                  const check = () => {
                    if (!received.includes(text)) return
                    waiting.delete(check)
                    found(received)
                  }
                  waiting.add(check)
                  check()
                }),
              stop: () => request.destroy()
            })
          })
          request.on("error", reject)
          request.end()
        }
      )
    ),
    (stream) => Effect.sync(stream.stop)
  )

const METADATA_URL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"

// --- tests ----------------------------------------------------------------------------------------------------

describe("a protected server", () => {
  it.scoped("asks for a token with a 401 that points at its metadata, served at both well-known paths", () =>
    Effect.gen(function*() {
      const { url } = yield* protectedServer({ requiredScopes: ["mcp:use"] })
      const response = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      expect(response.status).toBe(401)
      const challenge = challengeOf(response.headers["www-authenticate"])
      expect(challenge).toEqual({ resource_metadata: METADATA_URL, scope: "mcp:use" })
      expect(json(response.body).error_description).toBe("An access token is required (Authorization: Bearer)")
      const origin = new URL(url).origin
      for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
        const metadata = yield* promise(() => raw(`${origin}${path}`, { method: "GET" }))
        expect(metadata.status).toBe(200)
        expect(metadata.headers["content-type"]).toBe("application/json")
        expect(json(metadata.body)).toEqual({
          resource: RESOURCE,
          authorization_servers: [ISSUER],
          scopes_supported: ["files:read", "files:write", "secrets:read"],
          bearer_methods_supported: ["header"]
        })
      }
    }))

  it.scoped("refuses expired, wrong-audience, wrong-issuer, tampered and unsigned tokens with 401 invalid_token", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const valid = yield* tokenOf(key)
      const [header, payload] = valid.split(".")
      const forged = Buffer.from(
        JSON.stringify({ ...json(Buffer.from(payload!, "base64url").toString()), sub: "root" })
      )
        .toString("base64url")
      const unsigned = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`
      const cases = {
        expired: yield* tokenOf(key, { expiresIn: -120 }),
        "wrong audience": yield* tokenOf(key, { aud: "https://other.example.com/mcp" }),
        "wrong issuer": yield* tokenOf(key, { iss: "https://evil.example.com" }),
        tampered: `${header}.${forged}.${valid.split(".")[2]}`,
        unsigned,
        garbage: "not-a-jwt"
      }
      for (const [name, token] of Object.entries(cases)) {
        const response = yield* promise(() => raw(url, { headers: bearer(token), body: initializeBody() }))
        expect(response.status, name).toBe(401)
        const challenge = challengeOf(response.headers["www-authenticate"])
        expect(challenge.error, name).toBe("invalid_token")
        expect(challenge.resource_metadata).toBe(METADATA_URL)
        // Nothing of the token goes back: neither it, nor its claims, nor a stack.
        expect(response.body).not.toContain(token.slice(0, 20))
        expect(response.body).not.toContain("alice")
        expect(response.body).not.toMatch(/\bat \w|Error:/)
        expect(json(response.body).error).toBe("invalid_token")
      }
      const expired = yield* promise(() => raw(url, { headers: bearer(cases.expired), body: initializeBody() }))
      expect(json(expired.body).error_description).toBe("The access token has expired")
      const audience = yield* promise(() =>
        raw(url, { headers: bearer(cases["wrong audience"]), body: initializeBody() })
      )
      expect(json(audience.body).error_description).toBe("The access token was not issued for this resource")
    }))

  it.scoped("refuses a token in the query string, even beside a valid header", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const token = yield* tokenOf(key)
      const response = yield* promise(() =>
        raw(`${url}?access_token=${token}`, { headers: bearer(token), body: initializeBody() })
      )
      expect(response.status).toBe(400)
      expect(challengeOf(response.headers["www-authenticate"]).error).toBe("invalid_request")
    }))

  it.scoped("hands the principal to handlers, in a handshake session and in a 2026-07-28 request", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const token = yield* tokenOf(key, { sub: "alice", client_id: "app", scope: "files:read files:write" })
      const { headers } = yield* openWith(url, token)
      const handshake = yield* call(url, headers, "tools/call", { name: "whoami" })
      const expected = { subject: "alice", clientId: "app", scopes: ["files:read", "files:write"] }
      expect(json(responseOf(handshake.body).result.content[0].text)).toEqual(expected)
      const modern = yield* modernCall(url, token, "tools/call", { name: "whoami" })
      expect(modern.status).toBe(200)
      expect(json(responseOf(modern.body).result.content[0].text)).toEqual(expected)
    }))

  it.scoped("refuses a call without its tool's, resource's or prompt's scopes with 403 insufficient_scope", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const token = yield* tokenOf(key, { scope: "files:read" })
      const { headers } = yield* openWith(url, token)
      const refusals = [
        ["tools/call", { name: "write_file" }, "files:write"],
        ["resources/read", { uri: "secret://plans" }, "secrets:read"],
        ["prompts/get", { name: "review" }, "files:write"]
      ] as const
      for (const [method, params, scope] of refusals) {
        for (
          const response of [yield* call(url, headers, method, params), yield* modernCall(url, token, method, params)]
        ) {
          expect(response.status, method).toBe(403)
          expect(challengeOf(response.headers["www-authenticate"])).toMatchObject({
            error: "insufficient_scope",
            scope,
            resource_metadata: METADATA_URL
          })
        }
      }
      // What the token's scopes cover is served.
      const read = yield* call(url, headers, "tools/call", { name: "read_file", arguments: { path: "a.txt" } })
      expect(responseOf(read.body).result.content[0].text).toBe("contents of a.txt")
      const note = yield* modernCall(url, token, "resources/read", { uri: "notes://42" })
      expect(responseOf(note.body).result.contents[0].text).toBe("note 42")
    }))

  it.scoped("asks for the server-wide scopes with those of the call", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer({ requiredScopes: ["mcp:use"] })
      const without = yield* tokenOf(key, { scope: "files:read" })
      const refused = yield* promise(() => raw(url, { headers: bearer(without), body: initializeBody() }))
      expect(refused.status).toBe(403)
      expect(challengeOf(refused.headers["www-authenticate"]).scope).toBe("mcp:use")
      const token = yield* tokenOf(key, { scope: "mcp:use files:read" })
      const response = yield* modernCall(url, token, "tools/call", { name: "write_file" })
      expect(response.status).toBe(403)
      expect(challengeOf(response.headers["www-authenticate"]).scope).toBe("mcp:use files:write")
    }))

  it.scoped("lists only what the token's scopes allow, in both eras, unless told not to filter", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const token = yield* tokenOf(key, { scope: "files:read" })
      const { headers } = yield* openWith(url, token)
      const names = (body: string, list: string, field: string) =>
        (responseOf(body).result[list] as Array<Record<string, string>>).map((item) => item[field])
      const tools = yield* call(url, headers, "tools/list")
      expect(names(tools.body, "tools", "name")).toEqual(["whoami", "read_file"])
      const modernTools = yield* modernCall(url, token, "tools/list")
      expect(names(modernTools.body, "tools", "name")).toEqual(["whoami", "read_file"])
      // Even where the server lets shared caches keep its lists, one filtered by the token is private.
      expect(responseOf(modernTools.body).result.cacheScope).toBe("private")
      expect(names((yield* call(url, headers, "resources/list")).body, "resources", "uri")).toEqual([])
      expect(names((yield* call(url, headers, "resources/templates/list")).body, "resourceTemplates", "uriTemplate"))
        .toEqual(["notes://{id}"])
      expect(names((yield* modernCall(url, token, "prompts/list")).body, "prompts", "name")).toEqual([])

      const unfiltered = yield* protectedServer({ filterLists: false })
      const all = yield* modernCall(unfiltered.url, yield* tokenOf(unfiltered.key, { scope: "" }), "tools/list")
      expect(names(all.body, "tools", "name")).toEqual(["whoami", "read_file", "write_file"])
    }))

  it.scoped("binds a session to the principal that opened it: another's token gets 404 on it", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const alice = yield* tokenOf(key, { sub: "alice" })
      const { headers, sessionId } = yield* openWith(url, alice)
      for (const claims of [{ sub: "mallory" }, { sub: "alice", client_id: "other-client" }]) {
        const other = yield* tokenOf(key, claims)
        const hijack = { ...headers, authorization: `Bearer ${other}` }
        const response = yield* call(url, hijack, "tools/call", { name: "whoami" })
        expect(response.status).toBe(404)
        const stream = yield* promise(() =>
          raw(url, { method: "GET", headers: { ...hijack, accept: "text/event-stream" }, readFor: 200 })
        )
        expect(stream.status).toBe(404)
        const ended = yield* promise(() => raw(url, { method: "DELETE", headers: hijack }))
        expect(ended.status).toBe(404)
      }
      // Its owner still uses it, with a fresh token of the same principal too.
      const fresh = { ...headers, authorization: `Bearer ${yield* tokenOf(key, { sub: "alice", expiresIn: 600 })}` }
      const response = yield* call(url, fresh, "tools/call", { name: "whoami" })
      expect(response.status).toBe(200)
      expect(response.headers["mcp-session-id"]).toBe(sessionId)
    }))

  it.scoped("takes a rotated key without a restart, fetching the key set again at most once per cooldown", () =>
    Effect.gen(function*() {
      const { jwks, key, url } = yield* protectedServer()
      const first = yield* initWith(url, yield* tokenOf(key))
      expect(first.status).toBe(200)
      expect(jwks.state.fetches).toBe(1)
      const rotated = yield* newKey("key-2")
      jwks.state.keys = [rotated]
      const token = yield* tokenOf(rotated)
      // Within the cooldown of the first fetch, an unknown key is refused without a fetch.
      const early = yield* promise(() => raw(url, { headers: bearer(token), body: initializeBody() }))
      expect(early.status).toBe(401)
      expect(jwks.state.fetches).toBe(1)
      yield* TestClock.adjust("31 seconds")
      const later = yield* initWith(url, yield* tokenOf(rotated))
      expect(later.status).toBe(200)
      expect(jwks.state.fetches).toBe(2)
      // Made-up key ids do not make it fetch again within the cooldown.
      const unknown = yield* newKey("made-up")
      for (let i = 0; i < 3; i++) {
        const response = yield* initWith(url, yield* tokenOf(unknown))
        expect(response.status).toBe(401)
      }
      expect(jwks.state.fetches).toBe(2)
    }))

  it.scoped("verifies opaque tokens by introspection, authenticated, checking active and audience, cached", () =>
    Effect.gen(function*() {
      const seen: Array<{ readonly authorization: string | undefined; readonly body: string }> = []
      const now = Math.floor((yield* TestClock.currentTimeMillis) / 1000)
      const answers: Record<string, object> = {
        good: { active: true, sub: "bob", client_id: "cli", scope: "files:read", aud: RESOURCE, exp: now + 600 },
        other: { active: true, sub: "bob", scope: "files:read", aud: "https://other.example.com" },
        revoked: { active: false }
      }
      const { base } = yield* serveRoutes({
        "/introspect": (request, body, response) => {
          seen.push({ authorization: request.headers.authorization, body })
          const token = new URLSearchParams(body).get("token") ?? ""
          response.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify(answers[token] ?? { active: false })
          )
        }
      })
      const verifier = TokenVerifier.layerIntrospection({
        endpoint: `${base}/introspect`,
        clientId: "mcp server",
        clientSecret: "s3cret",
        audience: RESOURCE
      }).pipe(Layer.provide(FetchHttpClient.layer))
      const { url } = yield* serveHttp(Layer.merge(Server, authLayer(verifier)))
      const first = yield* modernCall(url, "good", "tools/call", { name: "whoami" })
      expect(json(responseOf(first.body).result.content[0].text)).toEqual({
        subject: "bob",
        clientId: "cli",
        scopes: ["files:read"]
      })
      expect(seen).toEqual([{
        authorization: `Basic ${Buffer.from("mcp+server:s3cret").toString("base64")}`,
        body: "token=good&token_type_hint=access_token"
      }])
      yield* modernCall(url, "good", "tools/call", { name: "whoami" })
      expect(seen).toHaveLength(1)
      for (const token of ["other", "revoked"]) {
        const response = yield* modernCall(url, token, "tools/list")
        expect(response.status).toBe(401)
        expect(challengeOf(response.headers["www-authenticate"]).error).toBe("invalid_token")
      }
      // Past the cache's life it is asked again.
      yield* TestClock.adjust("61 seconds")
      yield* modernCall(url, "good", "tools/list")
      expect(seen).toHaveLength(4)
    }))

  it.scoped("takes a verifier of your own, and answers 503 when the verifier cannot check", () =>
    Effect.gen(function*() {
      const verifier = TokenVerifier.layer((token) =>
        token === "dev"
          ? Effect.succeed({ subject: "dev", scopes: ["files:read", "files:write"] })
          : token === "down"
          ? Effect.fail(new TokenVerifier.VerifierUnavailable({ message: "down" }))
          : Effect.fail(new TokenVerifier.InvalidToken({ message: "Unknown access token" }))
      )
      const { url } = yield* serveHttp(Layer.merge(Server, authLayer(verifier)))
      const ok = yield* modernCall(url, "dev", "tools/call", { name: "write_file" })
      expect(responseOf(ok.body).result.content[0].text).toBe("written")
      const unknown = yield* modernCall(url, "nope", "tools/list")
      expect(unknown.status).toBe(401)
      expect(json(unknown.body).error_description).toBe("Unknown access token")
      const down = yield* modernCall(url, "down", "tools/list")
      expect(down.status).toBe(503)
    }))

  it.effect("leaves a transport without a principal alone: scopes are not checked over stdio", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server)
      const result = yield* client.callTool("write_file")
      expect(result.content).toEqual([{ type: "text", text: "written" }])
      const tools = yield* client.listTools
      expect(tools.map((t) => t.name)).toEqual(["whoami", "read_file", "write_file"])
    }).pipe(Effect.scoped))

  it.scoped("protects the legacy SSE endpoints alike", () =>
    Effect.gen(function*() {
      const key = yield* newKey("key-1")
      const jwks = yield* jwksServer([key])
      const { url } = yield* serveHttp(Layer.merge(Server, authLayer(jwksVerifier(jwks.jwksUri))), { legacySse: true })
      const origin = new URL(url).origin
      const refused = yield* promise(() => raw(`${origin}/sse`, { method: "GET", readFor: 200 }))
      expect(refused.status).toBe(401)
      expect(challengeOf(refused.headers["www-authenticate"]).resource_metadata).toBe(METADATA_URL)

      const token = yield* tokenOf(key, { sub: "carol", scope: "files:read" })
      const stream = yield* openStream(`${origin}/sse`, {
        authorization: `Bearer ${token}`,
        accept: "text/event-stream"
      })
      expect(stream.status).toBe(200)
      const opened = yield* promise(() => stream.waitFor("sessionId="))
      const endpoint = /data: (\/messages\?sessionId=[\w-]+)/.exec(opened)![1]!
      const post = (bearerToken: string, body: object) =>
        promise(() =>
          raw(`${origin}${endpoint}`, {
            headers: { "content-type": "application/json", authorization: `Bearer ${bearerToken}` },
            body
          })
        )
      yield* post(token, initializeBody("2024-11-05"))
      yield* post(token, { jsonrpc: "2.0", method: "notifications/initialized" })
      const accepted = yield* post(token, { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "whoami" } })
      expect(accepted.status).toBe(202)
      const events = yield* promise(() => stream.waitFor("carol"))
      expect(events).toContain(`\\"subject\\":\\"carol\\"`)

      const forbidden = yield* post(token, {
        jsonrpc: "2.0",
        id: 6,
        method: "tools/call",
        params: { name: "write_file" }
      })
      expect(forbidden.status).toBe(403)
      expect(challengeOf(forbidden.headers["www-authenticate"]).scope).toBe("files:write")
      const other = yield* tokenOf(key, { sub: "mallory" })
      const hijack = yield* post(other, { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "whoami" } })
      expect(hijack.status).toBe(404)
      const anonymous = yield* promise(() =>
        raw(`${origin}${endpoint}`, {
          headers: { "content-type": "application/json" },
          body: { jsonrpc: "2.0", method: "x" }
        })
      )
      expect(anonymous.status).toBe(401)
    }))

  it.scoped("protects the platform HttpApp alike, with the metadata router beside it", () =>
    Effect.gen(function*() {
      const key = yield* newKey("key-1")
      const jwks = yield* jwksServer([key])
      const origin = yield* Effect.gen(function*() {
        const mcp = yield* StreamableHttp.toApp(Server)
        const metadata = yield* ProtectedResource.router
        return yield* servePlatform(HttpRouter.concat(HttpRouter.empty.pipe(HttpRouter.all("/mcp", mcp)), metadata))
      }).pipe(Effect.provide(authLayer(jwksVerifier(jwks.jwksUri))))
      const url = `${origin}/mcp`
      const refused = yield* promise(() => raw(url, { headers: JSON_AND_SSE, body: initializeBody() }))
      expect(refused.status).toBe(401)
      expect(challengeOf(refused.headers["www-authenticate"]).resource_metadata).toBe(METADATA_URL)
      const metadata = yield* promise(() =>
        raw(`${origin}/.well-known/oauth-protected-resource/mcp`, { method: "GET" })
      )
      expect(json(metadata.body).resource).toBe(RESOURCE)
      const token = yield* tokenOf(key, { sub: "dave", client_id: "web" })
      const inQuery = yield* promise(() =>
        raw(`${url}?access_token=${token}`, { headers: bearer(token), body: initializeBody() })
      )
      expect(inQuery.status).toBe(400)
      const { headers } = yield* openWith(url, token)
      const whoami = yield* call(url, headers, "tools/call", { name: "whoami" })
      expect(json(responseOf(whoami.body).result.content[0].text)).toMatchObject({ subject: "dave", clientId: "web" })
      const forbidden = yield* call(url, headers, "tools/call", { name: "write_file" })
      expect(forbidden.status).toBe(403)
    }))

  it.scoped("the example finds the issuer's keys from its metadata, and checks each tool's scopes", () =>
    Effect.gen(function*() {
      const key = yield* newKey("as-key")
      const issuer = { base: "" }
      const { base } = yield* serveRoutes({
        "/.well-known/oauth-authorization-server": (_, __, response) => {
          response.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({ issuer: issuer.base, jwks_uri: `${issuer.base}/keys` })
          )
        },
        "/keys": (_, __, response) => {
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.jwk] }))
        }
      })
      issuer.base = base
      const { url } = yield* serveHttp(Layer.merge(ProtectedServer, exampleAuth({ resource: RESOURCE, issuer: base })))
      const token = yield* tokenOf(key, { iss: base, sub: "erin", scope: "files:read" })
      const whoami = yield* modernCall(url, token, "tools/call", { name: "whoami" })
      expect(responseOf(whoami.body).result.content[0].text).toBe("erin via client client-1, scopes: files:read")
      const list = yield* modernCall(url, token, "tools/call", { name: "list_files" })
      expect(responseOf(list.body).result.content[0].text).toBe("readme.txt")
      const write = yield* modernCall(url, token, "tools/call", {
        name: "write_file",
        arguments: { name: "a", text: "b" }
      })
      expect(write.status).toBe(403)
      expect(challengeOf(write.headers["www-authenticate"]).scope).toBe("files:write")
    }))

  it.scoped("checks the typ header when asked, keeping ID tokens of the same issuer out", () =>
    Effect.gen(function*() {
      const key = yield* newKey("key-1")
      const jwks = yield* jwksServer([key])
      const verifier = TokenVerifier.layerJwks({
        jwksUri: jwks.jwksUri,
        issuer: ISSUER,
        audience: RESOURCE,
        type: "at+jwt"
      })
        .pipe(Layer.provide(FetchHttpClient.layer))
      const { url } = yield* serveHttp(Layer.merge(Server, authLayer(verifier)))
      const accepted = yield* modernCall(url, yield* tokenOf(key), "tools/list")
      expect(accepted.status).toBe(200)
      const idToken = yield* modernCall(url, yield* tokenOf(key, { typ: "JWT" }), "tools/list")
      expect(idToken.status).toBe(401)
      expect(json(idToken.body).error_description).toBe("The token is not an access token (its typ header)")
    }))

  it.scoped("StreamableHttp.layerRouter serves the metadata beside the protected endpoint", () =>
    Effect.gen(function*() {
      const key = yield* newKey("key-1")
      const jwks = yield* jwksServer([key])
      class ApiRouter extends HttpRouter.Tag("ApiRouter")<ApiRouter>() {}
      const Mcp = StreamableHttp.layerRouter(ApiRouter, "/mcp").pipe(
        Layer.provide(Layer.merge(Server, authLayer(jwksVerifier(jwks.jwksUri))))
      )
      const Served = ApiRouter.serve().pipe(
        Layer.provide(Mcp),
        Layer.provide(ApiRouter.Live),
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
      )
      const address = Context.get(yield* Layer.build(Served), HttpServer.HttpServer).address
      const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
      for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
        const metadata = yield* promise(() => raw(`${base}${path}`, { method: "GET" }))
        expect(metadata.status).toBe(200)
        expect(metadata.headers["access-control-allow-origin"]).toBe("*")
        expect(json(metadata.body).authorization_servers).toEqual([ISSUER])
      }
      const refused = yield* promise(() => raw(`${base}/mcp`, { headers: JSON_AND_SSE, body: initializeBody() }))
      expect(refused.status).toBe(401)
      const accepted = yield* modernCall(`${base}/mcp`, yield* tokenOf(key), "tools/call", {
        name: "read_file",
        arguments: { path: "x" }
      })
      expect(responseOf(accepted.body).result.content[0].text).toBe("contents of x")
    }))

  it.scoped("refuses a batch entry without its scopes with a JSON-RPC error, serving the others", () =>
    Effect.gen(function*() {
      const { key, url } = yield* protectedServer()
      const token = yield* tokenOf(key, { scope: "files:read" })
      const opened = yield* promise(() => raw(url, { headers: bearer(token), body: initializeBody("2025-03-26") }))
      const headers = {
        ...bearer(token),
        "mcp-session-id": String(opened.headers["mcp-session-id"]),
        "mcp-protocol-version": "2025-03-26"
      }
      yield* promise(() => raw(url, { headers, body: { jsonrpc: "2.0", method: "notifications/initialized" } }))
      const batch = yield* promise(() =>
        raw(url, {
          headers,
          body: [
            { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_file" } },
            { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "read_file", arguments: { path: "p" } } }
          ]
        })
      )
      const answers = json(batch.body) as Array<any>
      expect(answers.find((a) => a.id === 1).error).toMatchObject({
        code: -32000,
        data: { error: "insufficient_scope", scopes: ["files:write"] }
      })
      expect(answers.find((a) => a.id === 2).result.content[0].text).toBe("contents of p")
    }))
})
