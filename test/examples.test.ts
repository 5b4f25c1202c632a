import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { describe, expect, it } from "@effect/vitest"
import { ListToolsResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Layer } from "effect"
import { McpTest } from "mcp-effect"
import type { McpSchema, McpServer } from "mcp-effect"
import { readdirSync } from "node:fs"
import { ServerLive as AuthorizationServer } from "../examples/authorization-server.js"
import { NoticeBoardServer } from "../examples/change-feed.js"
import { ClusterServer } from "../examples/cluster-node.js"
import { DemoServer } from "../examples/demo-server.js"
import { DeployServer } from "../examples/deploy.js"
import { EchoServer } from "../examples/echo.js"
import { InteractiveServer } from "../examples/elicitation-sampling.js"
import { EverythingServer } from "../examples/everything-server.js"
import { EchoServer as MountedEchoServer, MathServer } from "../examples/http-mounted.js"
import { StatefulServer } from "../examples/http-stateful.js"
import { StatelessServer } from "../examples/http-stateless.js"
import { ImageServer } from "../examples/images.js"
import { LayersServer } from "../examples/layers.js"
import { LegacySseServer } from "../examples/legacy-sse.js"
import { LifespanServer } from "../examples/lifespan.js"
import { tools as lowLevelTools } from "../examples/low-level.js"
import { MiddlewareServer } from "../examples/middleware.js"
import { MainServer, NotesServer, WeatherServer } from "../examples/mount.js"
import { ObservedServer } from "../examples/observability.js"
import { ProgressServer } from "../examples/progress-logging.js"
import { ProtectedServer } from "../examples/protected-server.js"
import { proxy } from "../examples/proxy.js"
import { QuickstartServer } from "../examples/quickstart.js"
import { WatchServer } from "../examples/resource-watch.js"
import { SessionServer } from "../examples/session-lifespan.js"
import { NodeServer as SessionsAcrossProcessesServer } from "../examples/sessions-across-processes.js"
import { SkillsServer } from "../examples/skills.js"
import { SqliteExplorerServer } from "../examples/sqlite-explorer.js"

/** A server layer; its start may fail (a definition, or a database that cannot be opened). */
type ServerLayer = Layer.Layer<McpServer.McpServer, unknown>

/** Every example's server layers, by file. */
const servers: Record<string, ReadonlyArray<ServerLayer>> = {
  "authorization-server.ts": [AuthorizationServer],
  "change-feed.ts": [NoticeBoardServer],
  "demo-server.ts": [DemoServer],
  // Its invoice tool writes with the node's SqlClient: an in-memory SQLite one here, where only its tools are listed.
  "cluster-node.ts": [ClusterServer.pipe(Layer.provide(SqliteClient.layer({ filename: ":memory:" })))],
  "deploy.ts": [DeployServer],
  "echo.ts": [EchoServer],
  "elicitation-sampling.ts": [InteractiveServer],
  "everything-server.ts": [EverythingServer],
  "http-mounted.ts": [MathServer, MountedEchoServer],
  "http-stateful.ts": [StatefulServer],
  "http-stateless.ts": [StatelessServer],
  "images.ts": [ImageServer],
  "layers.ts": [LayersServer],
  "legacy-sse.ts": [LegacySseServer],
  "lifespan.ts": [LifespanServer],
  "middleware.ts": [MiddlewareServer],
  "mount.ts": [MainServer, WeatherServer, NotesServer],
  "observability.ts": [ObservedServer],
  "progress-logging.ts": [ProgressServer],
  "protected-server.ts": [ProtectedServer],
  // Its upstream servers in memory here rather than spawned: the same proxy, without two processes to wait for.
  "proxy.ts": [
    proxy({ interactive: McpTest.makeClient(InteractiveServer), progress: McpTest.makeClient(ProgressServer) })
  ],
  "quickstart.ts": [QuickstartServer],
  "resource-watch.ts": [WatchServer],
  "session-lifespan.ts": [SessionServer],
  "sessions-across-processes.ts": [SessionsAcrossProcessesServer],
  "skills.ts": [SkillsServer],
  "sqlite-explorer.ts": [SqliteExplorerServer]
}
/** The examples that serve no McpServer layer: a hand-written router (its tools are checked as listed), clients. */
const others = [
  "aggregator.ts",
  "client-credentials.ts",
  "cluster-local.ts",
  "everything-client.ts",
  "http-client.ts",
  "low-level.ts",
  "signin-client.ts",
  "stdio-client.ts"
]

const expectObjectSchemas = (tools: ReadonlyArray<McpSchema.ToolDefinition>) => {
  for (const tool of tools) {
    expect({ tool: tool.name, type: tool.inputSchema.type }).toEqual({ tool: tool.name, type: "object" })
    if (tool.outputSchema !== undefined) {
      expect({ tool: tool.name, type: tool.outputSchema.type }).toEqual({ tool: tool.name, type: "object" })
    }
  }
  // What the official SDK client checks in listTools.
  expect(() => ListToolsResultSchema.parse({ tools })).not.toThrow()
}

describe("examples", () => {
  it("are all checked here", () => {
    const files = readdirSync("examples").filter((file) => file.endsWith(".ts")).sort()
    expect(files).toEqual([...Object.keys(servers), ...others].sort())
  })

  for (const [file, layers] of Object.entries(servers)) {
    it.scoped(`${file}: every tool's input and output schemas have type object at the root`, () =>
      Effect.gen(function*() {
        for (const layer of layers) {
          const client = yield* McpTest.makeClient(layer)
          const tools = yield* client.listTools
          expect(tools.length).toBeGreaterThan(0)
          expectObjectSchemas(tools)
        }
      }))
  }

  it("low-level.ts: its hand-written tools have type object at the root", () => {
    expectObjectSchemas(lowLevelTools)
  })
})
