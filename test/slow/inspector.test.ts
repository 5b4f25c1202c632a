import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createServer } from "node:net"
import { resolve } from "node:path"
import { start } from "../cliHelpers.js"

/** A port that was free a moment ago (the Inspector needs a fixed one). */
const freePort = Effect.async<number>((resume) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const address = server.address()
    server.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

const reachable = (url: string) => Effect.promise(() => fetch(url).then((response) => response.status, () => undefined))

it.scoped("dev starts the MCP Inspector with a link that connects to the server, and stops it on exit", () =>
  Effect.gen(function*() {
    const inspectorPort = yield* freePort
    const dev = yield* start([
      "dev",
      resolve("examples/demo-server.ts"),
      "--port",
      "0",
      "--inspector-port",
      String(inspectorPort)
    ])
    const [, serverUrl] = yield* dev.next(/serving (http:\/\/\S+)/)
    const [, link] = yield* dev.next(/MCP Inspector on (http:\/\/\S+)/)
    const deepLink = new URL(link!)
    expect(deepLink.port).toBe(String(inspectorPort))
    expect(deepLink.searchParams.get("serverUrl")).toBe(serverUrl)
    expect(deepLink.searchParams.get("transport")).toBe("http")
    expect(deepLink.searchParams.get("autoConnect")).toBe(deepLink.searchParams.get("MCP_INSPECTOR_API_TOKEN"))
    expect(yield* reachable(`http://127.0.0.1:${inspectorPort}/healthz`)).toBe(200)

    // The same Inspector release, in its command-line mode, lists the server's tools.
    const listed = yield* Command.make(
      "npx",
      "--yes",
      "--package",
      "node@22",
      "--package",
      "@modelcontextprotocol/inspector@2.12.0",
      "mcp-inspector",
      "--cli",
      "--transport",
      "http",
      "--server-url",
      serverUrl!,
      "--method",
      "tools/list",
      "--format",
      "json"
    ).pipe(Command.env({ npm_config_loglevel: "error", MCP_INSPECTOR_SECRET_STORE: "memory" }), Command.string)
    expect(JSON.parse(listed).result.tools.map((t: { name: string }) => t.name)).toEqual(["add", "countdown"])

    dev.child.kill("SIGTERM")
    yield* Effect.promise(() => dev.exited)
    expect(yield* reachable(`http://127.0.0.1:${inspectorPort}/healthz`)).toBeUndefined()
  }).pipe(Effect.provide(NodeContext.layer)))
