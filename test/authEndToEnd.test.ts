/**
 * The whole authorization code flow between our own three parts on loopback: `OAuthClient` (through
 * `StreamableHttpClient` and through `NodeHttp.connect`) signs in at our `OAuthProvider` and calls the MCP endpoint
 * that `OAuthProvider.layerProtectedResource` protects (examples/authorization-server.ts), stepping up for a tool
 * that needs another scope.
 */
import { FetchHttpClient, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Option } from "effect"
import type { McpSchema } from "mcp-effect"
import { OAuthClient, OAuthStore, StreamableHttpClient } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { createServer } from "node:http"
import { AppLive } from "../examples/authorization-server.js"

/** The example's authorization server and MCP endpoint on a free loopback port: its issuer URL. */
const serveExample = Effect.gen(function*() {
  const server = yield* Layer.build(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  const address = Context.get(server, HttpServer.HttpServer).address
  const issuer = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`
  yield* Layer.build(
    AppLive(issuer).pipe(
      Layer.provide([OAuthStore.layerMemory, FetchHttpClient.layer]),
      Layer.provide(Layer.succeedContext(server))
    )
  )
  return issuer
})

const textOf = (result: McpSchema.CallToolResult) => {
  const first = result.content[0]
  return first?.type === "text" ? first.text : undefined
}

/** The pre-registered client of the example, signing in headlessly (the example approves at once). */
const signIn = (url: string) =>
  OAuthClient.make(url, { clientId: "conformance-client", clientSecret: "conformance-secret" }).pipe(
    Effect.provide(OAuthClient.layerHeadlessAuthorization("http://127.0.0.1:3000/callback"))
  )

describe("our client, our authorization server and our protected server", () => {
  it.scopedLive("sign in on the first 401, call as the signed-in user, and step up for a tool that needs more", () =>
    Effect.gen(function*() {
      const issuer = yield* serveExample
      const url = `${issuer}/mcp`
      const authorization = yield* signIn(url)
      const client = yield* StreamableHttpClient.connect(url, { http: { authorization } })
      expect(textOf(yield* client.callTool("whoami"))).toBe("demo-user via conformance-client, scopes: mcp")
      // add_note needs notes:write: the 403 makes the client ask for both scopes, and the call goes through.
      expect(textOf(yield* client.callTool("add_note", { text: "first" }))).toBe("demo-user has 1 note(s)")
      const tokens = yield* authorization.tokens
      expect(Option.map(tokens, (t) => t.scope?.split(" ").sort())).toEqual(Option.some(["mcp", "notes:write"]))
      expect(textOf(yield* client.callTool("list_notes"))).toBe("first")
    }))

  it.scopedLive("over NodeHttp.connect, the tokens of an earlier sign-in are used without signing in again", () =>
    Effect.gen(function*() {
      const issuer = yield* serveExample
      const url = `${issuer}/mcp`
      const authorization = yield* signIn(url)
      yield* authorization.signIn
      const before = yield* authorization.tokens
      const client = yield* NodeHttp.connect(url, { http: { authorization } })
      expect(textOf(yield* client.callTool("echo", { text: "hi" }))).toBe("hi")
      expect(Option.map(yield* authorization.tokens, (t) => t.accessToken)).toEqual(
        Option.map(before, (t) => t.accessToken)
      )
    }))
})
