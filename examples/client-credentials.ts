/**
 * A client that signs in with no browser and no user at hand: the client
 * credentials grant, authenticated by a secret (`client_secret_basic`) or by a
 * private key (`private_key_jwt`), its tokens DPoP-bound if asked. The server's
 * 401 starts the sign-in: its authorization server is discovered from the
 * server's metadata, and the token asked for that server only.
 *
 *   MCP_CLIENT_ID=reporting MCP_CLIENT_SECRET=s3cret npx tsx examples/client-credentials.ts https://mcp.example.com/mcp
 *   MCP_CLIENT_ID=reporting MCP_CLIENT_KEY=./reporting.pem MCP_DPOP=true npx tsx examples/client-credentials.ts <url>
 *
 * The official conformance suite's client-credentials scenario serves such a server and authorization server:
 *
 *   npx -p node@22 -p @modelcontextprotocol/conformance@0.2.0-alpha.12 conformance client \
 *     --scenario auth/client-credentials-basic --command "env MCP_CLIENT_ID=conformance-test-client \
 *     MCP_CLIENT_SECRET=conformance-test-secret node --import tsx examples/client-credentials.ts"
 */
import { FileSystem } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Config, Console, Effect, Option, Redacted } from "effect"
import { Dpop, OAuthClient, OAuthGrants, StreamableHttpClient } from "mcp-effect"
import { isMain } from "./internal/isMain.js"

/** The client's credentials from the environment: a secret, or the path of a PKCS#8 PEM key. */
const credentials = Effect.gen(function*() {
  const clientId = yield* Config.string("MCP_CLIENT_ID")
  const secret = yield* Config.option(Config.redacted("MCP_CLIENT_SECRET"))
  const keyFile = yield* Config.option(Config.string("MCP_CLIENT_KEY"))
  if (Option.isSome(keyFile)) {
    const privateKey = yield* (yield* FileSystem.FileSystem).readFileString(keyFile.value)
    return { clientId, clientAuthentications: [OAuthGrants.privateKeyJwt({ privateKey })] }
  }
  if (Option.isSome(secret)) return { clientId, clientSecret: Redacted.value(secret.value) }
  return yield* Effect.fail(new Error("Set MCP_CLIENT_SECRET or MCP_CLIENT_KEY"))
})

const main = Effect.gen(function*() {
  const url = process.argv[2] ?? "http://127.0.0.1:3000/mcp"
  const dpop = yield* Config.boolean("MCP_DPOP").pipe(Config.withDefault(false))
  const tokenBinding = dpop ? { tokenBinding: Dpop.tokenBinding(yield* Dpop.make()) } : {}
  const authorization = yield* OAuthClient.makeWithGrant(url, OAuthGrants.clientCredentialsGrant, {
    ...(yield* credentials),
    ...tokenBinding
  })
  const client = yield* StreamableHttpClient.connect(url, {
    clientInfo: { name: "client-credentials", version: "1.0.0" },
    http: { authorization }
  })
  const tools = yield* client.listTools
  yield* Console.log(`Signed in to ${client.serverInfo.name}; tools: ${tools.map((t) => t.name).join(", ")}`)
  const tokens = yield* authorization.tokens
  yield* Console.log(`Token type: ${Option.match(tokens, { onNone: () => "none", onSome: (t) => t.tokenType })}`)
}).pipe(Effect.scoped, Effect.provide(NodeContext.layer))

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
