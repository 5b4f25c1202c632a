/**
 * An MCP server with its own OAuth 2.1 authorization server, in one HTTP
 * server: the provider's endpoints (`/authorize`, `/token`, metadata, …) and
 * the MCP endpoint it protects, `/mcp`, whose Protected Resource Metadata is
 * served at `/.well-known/oauth-protected-resource/mcp`. Every MCP request
 * needs a token this server issued for `/mcp` with the scope `mcp`;
 * `add_note` also needs `notes:write`, and the notes belong to the token's
 * user (`ctx.auth`).
 *
 * It registers the confidential client `conformance-client` (secret
 * `conformance-secret`, redirect URI http://127.0.0.1:3000/callback) and
 * approves every authorization request itself, as user `demo-user`: a real
 * server asks its user (see the `consent` hook).
 *
 *   npx tsx examples/authorization-server.ts --port 3001
 *   # issuer http://localhost:3001, MCP endpoint http://localhost:3001/mcp
 *
 * Access tokens are signed with the private JWK in OAUTH_SIGNING_KEY, or with
 * a key generated at start (with a warning).
 */
import { FetchHttpClient, HttpRouter } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import { McpServer, OAuthProvider, OAuthStore, RequestContext, StreamableHttp } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { createServer } from "node:http"
import { isMain } from "./internal/isMain.js"

const Echo = McpServer.tool("echo", {
  description: "Echo the text back",
  parameters: { text: Schema.String }
}, ({ text }) => Effect.succeed(text))

const WhoAmI = McpServer.tool(
  "whoami",
  { description: "Says who is calling: the access token's principal" },
  () =>
    Effect.map(RequestContext.current, (ctx) =>
      ctx.auth === undefined
        ? "nobody (this transport carries no token)"
        : `${ctx.auth.subject} via ${ctx.auth.clientId}, scopes: ${ctx.auth.scopes.join(" ")}`)
)

/** Each user's notes, by the subject of their tokens. */
const notes = new Map<string, Array<string>>()

const subjectOf = Effect.map(RequestContext.current, (ctx) => ctx.auth?.subject ?? "anonymous")

const AddNote = McpServer.tool("add_note", {
  description: "Adds a note for the calling user (needs notes:write)",
  scopes: ["notes:write"],
  parameters: { text: Schema.String }
}, ({ text }) =>
  Effect.map(subjectOf, (subject) => {
    const mine = notes.get(subject) ?? []
    notes.set(subject, [...mine, text])
    return `${subject} has ${mine.length + 1} note(s)`
  }))

const ListNotes = McpServer.tool(
  "list_notes",
  { description: "Lists the calling user's notes" },
  () => Effect.map(subjectOf, (subject) => (notes.get(subject) ?? []).join("\n"))
)

/** The MCP server, without its protection: what it serves. */
export const ServerLive = Layer.mergeAll(Echo, WhoAmI, AddNote, ListNotes).pipe(
  Layer.provideMerge(McpServer.layer({ name: "protected", version: "1.0.0" }))
)

/** The provider's options for an issuer: the conformance client, one resource, and a consent that approves. */
export const providerOptions = (issuer: string, signingKey?: Redacted.Redacted<string>): OAuthProvider.Options => ({
  issuer,
  signingKey,
  resources: [`${issuer}/mcp`],
  scopes: ["mcp", "notes:write"],
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

/** The one router of the HTTP server. */
export class Routes extends HttpRouter.Tag("examples/authorization-server/Routes")<Routes>() {}

/**
 * The provider's routes and the MCP endpoint at `/mcp`, protected by the provider's own tokens: the protected
 * resource layer verifies them in process (revocation included) and serves the resource's metadata beside `/mcp`.
 */
export const RoutesLive = (issuer: string, signingKey?: Redacted.Redacted<string>) =>
  Layer.mergeAll(
    OAuthProvider.layerRouter(Routes),
    StreamableHttp.layerRouter(Routes, "/mcp").pipe(
      Layer.provide(ServerLive),
      Layer.provide(OAuthProvider.layerProtectedResource({
        resource: `${issuer}/mcp`,
        requiredScopes: ["mcp"],
        resourceName: "Notes, with their own authorization server"
      }))
    )
  ).pipe(Layer.provide(OAuthProvider.layer(providerOptions(issuer, signingKey))))

/** The whole HTTP app for an issuer, given an `HttpServer`, an `OAuthStore` and an `HttpClient`. */
export const AppLive = (issuer: string, signingKey?: Redacted.Redacted<string>) =>
  Routes.serve().pipe(Layer.provide(RoutesLive(issuer, signingKey)), Layer.provide(Routes.Live))

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2)
  const port = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 3001
  const issuer = `http://localhost:${port}`
  Layer.unwrapEffect(Effect.gen(function*() {
    const signingKey = yield* Config.option(Config.redacted("OAUTH_SIGNING_KEY"))
    return AppLive(issuer, Option.getOrUndefined(signingKey))
  })).pipe(
    Layer.tap(() => Effect.logInfo(`Authorization server ${issuer}, MCP endpoint ${issuer}/mcp`)),
    Layer.provide(NodeHttpServer.layer(() => createServer(), { port, host: "127.0.0.1" })),
    Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer, NodeStdio.layerStderrLogger]),
    Layer.launch,
    (program) => NodeRuntime.runMain(program, { disablePrettyLogger: true })
  )
}
