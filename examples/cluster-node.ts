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
import * as SqlClient from "@effect/sql/SqlClient"
import { Context, Effect, Layer, Schema } from "effect"
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

/**
 * Reports a first step, then lets the client poll for the rest (SEP-1699: its SSE response ends, the events go on in
 * the event store), which any node replays to it with `Last-Event-ID`.
 */
const Steps = McpServer.tool(
  "steps",
  { description: "Three steps; the client polls for the last two" },
  () =>
    Effect.gen(function*() {
      yield* RequestContext.progress(1, 3, "step 1")
      yield* RequestContext.closeStream
      yield* RequestContext.progress(2, 3, "step 2")
      yield* RequestContext.progress(3, 3, "step 3")
      return `stepped in ${process.pid}`
    })
)

const Touch = McpServer.tool("touch", {
  description: "Announces that a resource changed",
  parameters: { uri: Schema.String }
}, ({ uri }) => Effect.as(McpServer.notifyResourceUpdated(uri), "touched"))

/**
 * A 2026-07-28 task that issues an invoice once, then asks before sending it. On the cluster its task runs on one
 * node; if that node dies, another runs it again: the invoice (a `once` step, journaled) is not issued twice.
 */
const Invoice = McpServer.tool("invoice", {
  description: "Issues an invoice (once), asks whether to send it, then sends it",
  parameters: { customer: Schema.String },
  task: "optional"
}, ({ customer }) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const id = yield* RequestContext.once(
      "issue",
      sql<{ readonly id: number }>`INSERT INTO example_invoices (customer) VALUES (${customer}) RETURNING id`.pipe(
        Effect.map((rows) => rows[0]!.id),
        Effect.orDie
      )
    )
    const answer = yield* RequestContext.elicit(
      `Send invoice ${id} to ${customer}? (asked by node ${process.pid})`,
      Schema.Struct({ send: Schema.Boolean })
    )
    return answer.action === "accept" && answer.content.send
      ? `invoice ${id} sent by node ${process.pid}`
      : `invoice ${id} kept`
  }))

const Notice = McpServer.resource("board://notice", { description: "The notice board" }, () => Effect.succeed("notice"))

/** The server, the same on every node; what makes it a node of a cluster is the layer below. */
export const ClusterServer = Layer.mergeAll(Whoami, Chatty, Steps, Touch, Invoice, Notice).pipe(
  Layer.provideMerge(McpServer.layer({ name: "cluster-node", version: "1.0.0" }))
)

/**
 * The shared stores and the task runner: `DATABASE_URL`, `MCP_REQUEST_STATE_KEY` and this node's runner address
 * (`MCP_RUNNER_HOST`, `MCP_RUNNER_PORT`) from the environment, as a deployment sets them; and the example's table.
 */
export const Shared = Layer.tap(
  McpCluster.layerConfig({ channel: "mcp_cluster_example" }),
  (context) =>
    Context.get(context, SqlClient.SqlClient)`CREATE TABLE IF NOT EXISTS example_invoices (
      id SERIAL PRIMARY KEY,
      customer TEXT NOT NULL
    )`.pipe(Effect.orDie)
)

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
