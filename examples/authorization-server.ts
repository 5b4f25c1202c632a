/**
 * An OAuth 2.1 authorization server beside the MCP endpoint it protects, in
 * one HTTP server. It registers the confidential client `conformance-client`
 * (secret `conformance-secret`, redirect URI http://127.0.0.1:3000/callback)
 * and approves every authorization request itself, as user `demo-user`: a
 * real server asks its user (see the `consent` hook).
 *
 *   npx tsx examples/authorization-server.ts --port 3001
 *   # issuer http://localhost:3001, MCP endpoint http://localhost:3001/mcp
 *
 * Access tokens are signed with the private JWK in OAUTH_SIGNING_KEY, or with
 * a key generated at start (with a warning).
 */
import { FetchHttpClient, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import { McpServer, OAuthProvider, OAuthStore, StreamableHttp } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { createServer } from "node:http"
import { isMain } from "./internal/isMain.js"

const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

export const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "protected", version: "1.0.0" })))

/** The provider's options for an issuer: the conformance client, one resource, and a consent that approves. */
export const providerOptions = (issuer: string, signingKey?: Redacted.Redacted<string>): OAuthProvider.Options => ({
  issuer,
  signingKey,
  resources: [`${issuer}/mcp`],
  scopes: ["mcp"],
  defaultScopes: ["mcp"],
  clients: [{
    clientId: "conformance-client",
    clientSecret: Redacted.make("conformance-secret"),
    redirectUris: ["http://127.0.0.1:3000/callback"]
  }],
  // The conformance suite authenticates without its secret whenever `none` is advertised, so this server, whose
  // client is confidential, advertises only the secret methods (public clients are then refused).
  tokenEndpointAuthMethods: ["client_secret_basic", "client_secret_post"],
  consent: () => Effect.succeed(OAuthProvider.ConsentDecision.Approve({ subject: "demo-user" }))
})

/** The MCP endpoint behind a bearer token check: a token from this provider, for this resource. */
const protect = (provider: OAuthProvider.Provider, resource: string, mcp: HttpApp.Default) => {
  const metadataUrl = `${new URL(resource).origin}/.well-known/oauth-protected-resource${new URL(resource).pathname}`
  const unauthorized = (error?: string) =>
    HttpServerResponse.unsafeJson({ error: error ?? "unauthorized" }, {
      status: 401,
      headers: {
        "www-authenticate": `Bearer resource_metadata="${metadataUrl}"${error ? `, error="${error}"` : ""}`
      }
    })
  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const bearer = /^Bearer (\S+)$/i.exec(request.headers["authorization"] ?? "")
    if (bearer === null) return unauthorized()
    const verified = yield* Effect.either(provider.verifyAccessToken(bearer[1], resource))
    return verified._tag === "Left" ? unauthorized("invalid_token") : yield* mcp
  })
}

/** The authorization server's routes and the protected MCP endpoint, with its protected resource metadata (RFC 9728). */
export const makeRouter = (issuer: string, signingKey?: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const provider = yield* OAuthProvider.make(providerOptions(issuer, signingKey))
    const resource = `${issuer}/mcp`
    const mcp = yield* StreamableHttp.toApp(ServerLive)
    return provider.router.pipe(
      HttpRouter.all("/mcp", protect(provider, resource, mcp)),
      HttpRouter.get(
        "/.well-known/oauth-protected-resource/mcp",
        Effect.succeed(HttpServerResponse.unsafeJson({
          resource,
          authorization_servers: [issuer],
          scopes_supported: ["mcp"],
          bearer_methods_supported: ["header"]
        }))
      )
    )
  })

const App = (port: number) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const issuer = `http://localhost:${port}`
    const signingKey = yield* Config.option(Config.redacted("OAUTH_SIGNING_KEY"))
    yield* HttpServer.serveEffect(yield* makeRouter(issuer, Option.getOrUndefined(signingKey)))
    yield* Effect.logInfo(`Authorization server ${issuer}, MCP endpoint ${issuer}/mcp`)
  }))

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  const port = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 3001
  App(port).pipe(
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port, host: "127.0.0.1" })),
    Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer, NodeStdio.layerStderrLogger]),
    Layer.launch,
    (program) => NodeRuntime.runMain(program, { disablePrettyLogger: true })
  )
}
