/**
 * A command-line client that signs in to a protected MCP server through the
 * browser: on the server's 401 it discovers the authorization server,
 * registers itself, opens the browser at the authorization URL, takes the
 * redirect on a loopback listener (127.0.0.1, a port of its own), and keeps
 * the tokens in a file only you can read, so the next run signs in without
 * the browser (refreshing the token when it has expired).
 *
 *   npx tsx examples/signin-client.ts https://mcp.example.com/mcp
 *   npx tsx examples/signin-client.ts https://mcp.example.com/mcp --sign-out
 *
 * The tokens file is `~/.mcp-effect-signin.json` (`MCP_SIGNIN_TOKENS` to
 * put it elsewhere).
 */
import { NodeFileSystem, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { OAuthClient, StreamableHttpClient } from "mcp-effect"
import { NodeOAuth } from "mcp-effect/node"
import { homedir } from "node:os"
import { join } from "node:path"
import { isMain } from "./internal/isMain.js"

const tokensFile = process.env.MCP_SIGNIN_TOKENS ?? join(homedir(), ".mcp-effect-signin.json")

/** Where sign-ins go: the browser and a loopback redirect listener, with the tokens in a file. */
export const SignInLive = Layer.mergeAll(
  NodeOAuth.layerLoopbackAuthorization(),
  OAuthClient.layerFileTokenStore(tokensFile).pipe(Layer.provide(NodeFileSystem.layer))
)

const main = Effect.gen(function*() {
  const url = process.argv[2] ?? "http://127.0.0.1:3000/mcp"
  const authorization = yield* OAuthClient.make(url, { clientName: "mcp-effect sign-in example" })
  if (process.argv.includes("--sign-out")) {
    yield* authorization.signOut
    return yield* Console.log(`Signed out of ${url}`)
  }
  // Signing in first: the browser may take the user a while, which the first request's timeout would not allow.
  yield* authorization.signIn
  const client = yield* StreamableHttpClient.connect(url, {
    clientInfo: { name: "signin-client", version: "1.0.0" },
    http: { authorization }
  })
  yield* Console.log(`Signed in to ${client.serverInfo.name} (protocol ${client.protocolVersion})`)
  const tools = yield* client.listTools
  yield* Console.log("Tools:", tools.map((t) => t.name).join(", "))
}).pipe(Effect.scoped, Effect.provide(SignInLive))

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
