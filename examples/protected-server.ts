/**
 * A server protected by OAuth: every request needs an access token from the
 * authorization server, checked against its published keys (JWKS), and
 * each tool asks for its own scopes. `whoami` shows the principal a handler
 * sees.
 *
 *   npx tsx examples/protected-server.ts --port 3000 --issuer http://127.0.0.1:9000
 *
 * The authorization server is any OAuth 2.1 server that issues JWT access
 * tokens (RS256 or ES256) with `iss`, `aud` = this server's URL
 * (`http://127.0.0.1:3000/mcp`), `sub`, `client_id`, `scope` and `exp`, and
 * publishes its keys: its `jwks_uri` is read from its metadata
 * (`/.well-known/oauth-authorization-server`), unless `--jwks-uri` names it.
 * `examples/authorization-server.ts` is one. A client that signs in (the MCP
 * Inspector, `McpClient` with OAuth) starts from the 401 this server answers,
 * which points at its metadata (`/.well-known/oauth-protected-resource/mcp`).
 *
 * Then, with a token:
 *
 *   curl -s http://127.0.0.1:3000/mcp -H "Authorization: Bearer $TOKEN" \
 *     -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
 *     -H 'mcp-protocol-version: 2026-07-28' -H 'mcp-method: tools/list' \
 *     -d '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
 */
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, Schema } from "effect"
import { McpServer, ProtectedResource, RequestContext, TokenVerifier } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const WhoAmI = McpServer.tool(
  "whoami",
  { description: "Says who is calling: the token's principal" },
  () =>
    Effect.map(RequestContext.current, (ctx) =>
      ctx.auth === undefined
        ? "nobody (this transport carries no token)"
        : `${ctx.auth.subject ?? "no subject"} via client ${ctx.auth.clientId ?? "unknown"}, scopes: ${
          ctx.auth.scopes.join(" ") || "none"
        }`)
)

const files = new Map([["readme.txt", "Hello from a protected server"]])

const ListFiles = McpServer.tool("list_files", {
  description: "Lists the files (needs files:read)",
  scopes: ["files:read"]
}, () => Effect.succeed([...files.keys()].join("\n")))

const WriteFile = McpServer.tool("write_file", {
  description: "Writes a file (needs files:write)",
  scopes: ["files:write"],
  parameters: { name: Schema.String, text: Schema.String }
}, ({ name, text }) =>
  Effect.sync(() => {
    files.set(name, text)
    return `Wrote ${name}`
  }))

const File = McpServer.resource("file:///{name}", {
  description: "A file's text (needs files:read)",
  scopes: ["files:read"]
}, ({ name }) => Effect.succeed(files.get(name) ?? ""))

/** The server, without its protection: what it serves. */
export const ProtectedServer = Layer.mergeAll(WhoAmI, ListFiles, WriteFile, File).pipe(
  Layer.provideMerge(McpServer.layer({ name: "protected-example", version: "1.0.0" }))
)

/** Where the server is, and whom it trusts. */
export interface AuthOptions {
  /** This server's canonical URL: tokens must be issued for it. */
  readonly resource: string
  /** The authorization server's issuer identifier. */
  readonly issuer: string
  /** Its key set; read from its metadata when not given. */
  readonly jwksUri?: string | undefined
}

/** The authorization server's `jwks_uri`, from its RFC 8414 metadata. */
const discoverJwksUri = (issuer: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const url = new URL(issuer)
    const path = url.pathname === "/" ? "" : url.pathname
    const response = yield* client.get(`${url.origin}/.well-known/oauth-authorization-server${path}`)
    const metadata = yield* HttpClientResponse.schemaBodyJson(Schema.Struct({ jwks_uri: Schema.String }))(response)
    return metadata.jwks_uri
  }).pipe(Effect.scoped, Effect.orDieWith(() => new Error(`Could not read ${issuer}'s metadata for its jwks_uri`)))

/** The protection: JWT access tokens checked against the issuer's keys, and the metadata clients discover. */
export const authLayer = (options: AuthOptions) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const jwksUri = options.jwksUri ?? (yield* discoverJwksUri(options.issuer))
    return ProtectedResource.layer({
      resource: options.resource,
      authorizationServers: [options.issuer],
      scopesSupported: ["files:read", "files:write"],
      resourceName: "Protected example"
    }).pipe(
      Layer.provide(TokenVerifier.layerJwks({ jwksUri, issuer: options.issuer, audience: options.resource }))
    )
  })).pipe(Layer.provide(FetchHttpClient.layer))

const flag = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`)
  return index === -1 ? undefined : process.argv[index + 1]
}

if (isMain(import.meta.url)) {
  const port = Number(flag("port") ?? "3000")
  const issuer = flag("issuer") ?? "http://127.0.0.1:9000"
  const resource = flag("resource") ?? `http://127.0.0.1:${port}/mcp`
  NodeHttp.run(Layer.merge(ProtectedServer, authLayer({ resource, issuer, jwksUri: flag("jwks-uri") })), { port })
}
