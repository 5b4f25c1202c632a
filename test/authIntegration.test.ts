/**
 * An MCP server with its own authorization server: tokens issued by our `OAuthProvider` (through its code flow, as
 * plain HTTP requests) used at the MCP endpoint that `OAuthProvider.layerProtectedResource` protects, on loopback.
 */
import { FetchHttpClient, HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Redacted, Schema, TestClock } from "effect"
import { McpServer, OAuthProvider, OAuthStore, RequestContext, StreamableHttp } from "mcp-effect"
import { createHash, randomBytes } from "node:crypto"
import { createServer } from "node:http"
import { AppLive } from "../examples/authorization-server.js"
import { JSON_AND_SSE, promise, raw, sseMessages } from "./httpHelpers.js"

const ISSUER = "https://as.example"
const RESOURCE = "https://mcp.example/mcp"
const OTHER = "https://other.example/mcp"
const REDIRECT = "http://127.0.0.1:3000/callback"
const NOW = Date.parse("2026-01-01T00:00:00Z")
const CLIENT = { id: "confidential", secret: "s3cret" }

const WhoAmI = McpServer.tool("whoami", {}, () =>
  Effect.map(RequestContext.current, (ctx) =>
    JSON.stringify({
      subject: ctx.auth?.subject,
      clientId: ctx.auth?.clientId,
      scopes: ctx.auth?.scopes,
      audience: ctx.auth?.claims?.aud,
      expiresAt: ctx.auth?.expiresAt
    })))
const Write = McpServer.tool(
  "write",
  { scopes: ["write"], parameters: { text: Schema.String } },
  ({ text }) => Effect.succeed(`wrote ${text}`)
)
const Server = Layer.merge(WhoAmI, Write).pipe(Layer.provideMerge(McpServer.layer({ name: "notes", version: "1.0.0" })))

const providerOptions: OAuthProvider.Options = {
  issuer: ISSUER,
  resources: [RESOURCE, OTHER],
  scopes: ["read", "write"],
  defaultScopes: ["read"],
  clients: [{ clientId: CLIENT.id, clientSecret: Redacted.make(CLIENT.secret), redirectUris: [REDIRECT] }],
  consent: () => Effect.succeed(OAuthProvider.ConsentDecision.Approve({ subject: "alice" }))
}

class Routes extends HttpRouter.Tag("test/authIntegration/Routes")<Routes>() {}

/** Serves an app on a free loopback port for the life of the scope; its base URL. */
const serve = <E, R>(app: Layer.Layer<never, E, R | HttpServer.HttpServer>) =>
  Effect.gen(function*() {
    const built = yield* Layer.build(
      app.pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })))
    )
    const address = Context.get(built, HttpServer.HttpServer).address
    return `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
  })

/** The provider's routes and the protected MCP endpoint on one loopback server, the clock at NOW. */
const setup = Effect.gen(function*() {
  yield* TestClock.setTime(NOW)
  return yield* serve(
    Routes.serve().pipe(
      Layer.provide(Layer.mergeAll(
        OAuthProvider.layerRouter(Routes),
        StreamableHttp.layerRouter(Routes, "/mcp").pipe(
          Layer.provide(Server),
          Layer.provide(OAuthProvider.layerProtectedResource({ resource: RESOURCE }))
        )
      )),
      Layer.provide(Routes.Live),
      Layer.provide(OAuthProvider.layer(providerOptions)),
      Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer])
    )
  )
})

const basic = (client: typeof CLIENT) => ({
  authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`
})

const form = (url: string, params: Record<string, string>, client = CLIENT) =>
  promise(() =>
    raw(url, {
      headers: { "content-type": "application/x-www-form-urlencoded", ...basic(client) },
      body: new URLSearchParams(params).toString()
    })
  )

/** An access token through the code flow with PKCE: `/authorize` (approved at once), then `/token`. */
const tokenFor = (
  base: string,
  params: { readonly scope?: string; readonly resource?: string } = {},
  client = CLIENT
) =>
  Effect.gen(function*() {
    const verifier = randomBytes(32).toString("base64url")
    const query = new URLSearchParams({
      response_type: "code",
      client_id: client.id,
      redirect_uri: REDIRECT,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"),
      code_challenge_method: "S256",
      resource: params.resource ?? RESOURCE,
      ...(params.scope === undefined ? {} : { scope: params.scope })
    })
    const redirect = yield* promise(() => raw(`${base}/authorize?${query}`, { method: "GET" }))
    expect(redirect.status).toBe(302)
    const code = new URL(String(redirect.headers.location)).searchParams.get("code")
    const reply = yield* form(`${base}/token`, {
      grant_type: "authorization_code",
      code: code ?? "",
      code_verifier: verifier,
      redirect_uri: REDIRECT
    }, client)
    expect(reply.status).toBe(200)
    return String(JSON.parse(reply.body).access_token)
  })

/** A 2026-07-28 `tools/call` with `token`. */
const callTool = (base: string, token: string | undefined, name: string, args: Record<string, unknown> = {}) =>
  promise(() =>
    raw(`${base}/mcp`, {
      headers: {
        ...JSON_AND_SSE,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": name
      },
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name,
          arguments: args,
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": { name: "test", version: "1" }
          }
        }
      }
    })
  )

/** The text of a tool call's result, from a JSON or SSE body. */
const textOf = (body: string): string => {
  const message = body.startsWith("{") ? JSON.parse(body) : sseMessages(body).at(-1)?.message
  return String(message?.result?.content?.[0]?.text)
}

/** The parameters of a `WWW-Authenticate: Bearer` challenge. */
const challengeOf = (header: unknown): Record<string, string> =>
  Object.fromEntries(Array.from(String(header).matchAll(/(\w+)="([^"]*)"/g), (m) => [m[1]!, m[2]!]))

describe("OAuthProvider in front of its own MCP server", () => {
  it.scoped("its tokens open the endpoint, handlers see the principal, and the metadata names the provider", () =>
    Effect.gen(function*() {
      const base = yield* setup
      const anonymous = yield* callTool(base, undefined, "whoami")
      expect(anonymous.status).toBe(401)
      expect(challengeOf(anonymous.headers["www-authenticate"])).toEqual({
        resource_metadata: "https://mcp.example/.well-known/oauth-protected-resource/mcp"
      })
      const metadata = yield* promise(() => raw(`${base}/.well-known/oauth-protected-resource/mcp`, { method: "GET" }))
      expect(JSON.parse(metadata.body)).toEqual({
        resource: RESOURCE,
        authorization_servers: [ISSUER],
        scopes_supported: ["read", "write"],
        bearer_methods_supported: ["header"]
      })

      const token = yield* tokenFor(base)
      const reply = yield* callTool(base, token, "whoami")
      expect(reply.status).toBe(200)
      expect(JSON.parse(textOf(reply.body))).toEqual({
        subject: "alice",
        clientId: CLIENT.id,
        scopes: ["read"],
        audience: RESOURCE,
        expiresAt: NOW / 1000 + 3600
      })
    }))

  it.scoped("a tool needing a scope the token lacks gets 403 insufficient_scope; a token with it, the tool", () =>
    Effect.gen(function*() {
      const base = yield* setup
      const refused = yield* callTool(base, yield* tokenFor(base), "write", { text: "hi" })
      expect(refused.status).toBe(403)
      const challenge = challengeOf(refused.headers["www-authenticate"])
      expect(challenge.error).toBe("insufficient_scope")
      expect(challenge.scope).toBe("write")
      const allowed = yield* callTool(base, yield* tokenFor(base, { scope: "read write" }), "write", { text: "hi" })
      expect(allowed.status).toBe(200)
      expect(textOf(allowed.body)).toBe("wrote hi")
    }))

  it.scoped("a token the provider issued for another resource gets 401 invalid_token", () =>
    Effect.gen(function*() {
      const base = yield* setup
      const token = yield* tokenFor(base, { resource: OTHER })
      const reply = yield* callTool(base, token, "whoami")
      expect(reply.status).toBe(401)
      const challenge = challengeOf(reply.headers["www-authenticate"])
      expect(challenge.error).toBe("invalid_token")
      expect(JSON.parse(reply.body).error_description).toContain("not issued for this resource")
      expect(reply.body).not.toContain(token)
    }))

  it.scoped("a revoked token is refused at once, and an expired one once the clock passes its exp", () =>
    Effect.gen(function*() {
      const base = yield* setup
      const revoked = yield* tokenFor(base)
      expect((yield* callTool(base, revoked, "whoami")).status).toBe(200)
      expect((yield* form(`${base}/revoke`, { token: revoked })).status).toBe(200)
      const afterRevocation = yield* callTool(base, revoked, "whoami")
      expect(afterRevocation.status).toBe(401)
      expect(JSON.parse(afterRevocation.body).error_description).toContain("revoked")

      const expiring = yield* tokenFor(base)
      expect((yield* callTool(base, expiring, "whoami")).status).toBe(200)
      yield* TestClock.adjust("61 minutes")
      const expired = yield* callTool(base, expiring, "whoami")
      expect(expired.status).toBe(401)
      expect(challengeOf(expired.headers["www-authenticate"]).error).toBe("invalid_token")
      expect(JSON.parse(expired.body).error_description).toContain("expired")
    }))

  it.effect("verifier: a store that fails is VerifierUnavailable (a 503), not a refused token", () =>
    Effect.gen(function*() {
      const provider = yield* OAuthProvider.make(providerOptions)
      const failing = OAuthProvider.verifier(
        {
          ...provider,
          verifyAccessToken: () => Effect.fail(new OAuthStore.OAuthStoreError({ message: "database down" }))
        },
        RESOURCE
      )
      const error = yield* Effect.flip(failing.verify("any"))
      expect(error._tag).toBe("VerifierUnavailable")
      expect(error.message).not.toContain("database")
      const refused = yield* Effect.flip(OAuthProvider.verifier(provider, RESOURCE).verify("not-a-token"))
      expect(refused._tag).toBe("InvalidToken")
      expect(refused.message).toContain("Invalid access token")
    }).pipe(Effect.provide([OAuthStore.layerMemory, FetchHttpClient.layer])))

  it.effect("layerProtectedResource refuses a resource the provider issues no tokens for", () =>
    Effect.gen(function*() {
      const exit = yield* Layer.build(
        OAuthProvider.layerProtectedResource({ resource: "https://elsewhere.example/mcp" })
      )
        .pipe(Effect.provide(OAuthProvider.layer(providerOptions)), Effect.scoped, Effect.exit)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
    }).pipe(Effect.provide([OAuthStore.layerMemory, FetchHttpClient.layer])))

  it.scoped("examples/authorization-server.ts: whoami sees the user; add_note needs notes:write beside mcp", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const issuer = "http://localhost:3001"
      const base = yield* serve(AppLive(issuer).pipe(Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer])))
      const metadata = yield* promise(() => raw(`${base}/.well-known/oauth-protected-resource/mcp`, { method: "GET" }))
      expect(JSON.parse(metadata.body)).toMatchObject({
        resource: `${issuer}/mcp`,
        authorization_servers: [issuer],
        scopes_supported: ["mcp", "notes:write"]
      })
      const client = { id: "conformance-client", secret: "conformance-secret" }
      const resource = `${issuer}/mcp`
      const reader = yield* tokenFor(base, { resource }, client)
      expect(textOf((yield* callTool(base, reader, "whoami")).body)).toBe(
        "demo-user via conformance-client, scopes: mcp"
      )
      const refused = yield* callTool(base, reader, "add_note", { text: "milk" })
      expect(refused.status).toBe(403)
      expect(challengeOf(refused.headers["www-authenticate"]).scope).toBe("mcp notes:write")
      const writer = yield* tokenFor(base, { resource, scope: "mcp notes:write" }, client)
      expect(textOf((yield* callTool(base, writer, "add_note", { text: "milk" })).body)).toBe(
        "demo-user has 1 note(s)"
      )
      expect(textOf((yield* callTool(base, reader, "list_notes")).body)).toBe("milk")
      // Without the server-wide scope, nothing: a token for notes:write alone.
      const narrow = yield* tokenFor(base, { resource, scope: "notes:write" }, client)
      expect((yield* callTool(base, narrow, "list_notes")).status).toBe(403)
    }))
})
