/**
 * One node of a deployment on several nodes: a server whose sessions, SSE events, change notifications and task
 * records are shared through Postgres (`McpCluster.layerConfig`: `DATABASE_URL` and `MCP_REQUEST_STATE_KEY` from the
 * environment), with health endpoints (`/livez`, `/readyz`). It prints its URL to stderr once it listens.
 *
 *   DATABASE_URL=postgres://… MCP_REQUEST_STATE_KEY=$(openssl rand -base64 32) npx tsx examples/cluster-node.ts --port 3001
 *
 * `examples/cluster-local.ts` starts three of them behind a balancer; test/slow/cluster.test.ts kills one.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { McpCluster } from "mcp-effect/cluster"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const Whoami = McpServer.tool(
  "whoami",
  { description: "This node's process id" },
  () => Effect.succeed(String(process.pid))
)

const Chatty = McpServer.tool("chatty", {
  description: "Reports progress and logs each step, then answers",
  parameters: { steps: Schema.Number }
}, ({ steps }) =>
  Effect.gen(function*() {
    for (let step = 1; step <= steps; step++) {
      yield* RequestContext.progress(step, steps)
      yield* RequestContext.log("info", `step ${step}`)
    }
    return `done in ${process.pid}`
  }))

const Touch = McpServer.tool("touch", {
  description: "Announces that a resource changed",
  parameters: { uri: Schema.String }
}, ({ uri }) => Effect.as(McpServer.notifyResourceUpdated(uri), "touched"))

const Notice = McpServer.resource("board://notice", { description: "The notice board" }, () => Effect.succeed("notice"))

/** The server, the same on every node; what makes it a node of a cluster is the layer below. */
export const ClusterServer = Layer.mergeAll(Whoami, Chatty, Touch, Notice).pipe(
  Layer.provideMerge(McpServer.layer({ name: "cluster-node", version: "1.0.0" }))
)

/** The shared stores: `DATABASE_URL` and `MCP_REQUEST_STATE_KEY` from the environment, as a deployment sets them. */
export const Shared = McpCluster.layerConfig({ channel: "mcp_cluster_example" })

if (isMain(import.meta.url)) {
  const port = process.argv.includes("--port") ? Number(process.argv[process.argv.indexOf("--port") + 1]) : 3001
  NodeRuntime.runMain(
    Effect.scoped(Effect.gen(function*() {
      const served = yield* NodeHttp.serve(ClusterServer.pipe(Layer.provideMerge(Shared)), { port, health: true })
      process.stderr.write(`listening ${served.url}\n`)
      return yield* Effect.never
    }))
  )
}
