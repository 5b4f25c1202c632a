/**
 * A three-node deployment on this machine, started by one script: three `examples/cluster-node.ts` processes on one
 * Postgres (`DATABASE_URL`), behind a small balancer (session affinity by `Mcp-Session-Id`, round robin otherwise) on
 * `--port` (default 3000). Every node gets the same `MCP_REQUEST_STATE_KEY`: yours, or one made up for this run.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx examples/cluster-local.ts --port 3000
 *
 * It prints each node's pid and port: kill one (`kill -9 <pid>`) and its sessions continue on the others. Ctrl-C
 * stops them all.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import * as Balancer from "./internal/balancer.js"
import { isMain } from "./internal/isMain.js"
import * as Nodes from "./internal/nodes.js"

const main = (port: number) =>
  Effect.gen(function*() {
    const databaseUrl = yield* Config.redacted("DATABASE_URL")
    const key = yield* Config.string("MCP_REQUEST_STATE_KEY").pipe(
      Config.withDefault(randomBytes(32).toString("base64"))
    )
    const env = { DATABASE_URL: Redacted.value(databaseUrl), MCP_REQUEST_STATE_KEY: key }
    const nodes = yield* Effect.all([Nodes.start(env), Nodes.start(env), Nodes.start(env)], {
      concurrency: "unbounded"
    })
    const balancer = yield* Balancer.make(nodes.map((node) => node.port), port)
    yield* Effect.logInfo(
      `three nodes (${nodes.map((node) => `pid ${node.pid} on :${node.port}`).join(", ")}) at ${balancer.url}`
    )
    return yield* Effect.never
  })

if (isMain(import.meta.url)) {
  const port = process.argv.includes("--port") ? Number(process.argv[process.argv.indexOf("--port") + 1]) : 3000
  NodeRuntime.runMain(Effect.scoped(main(port)))
}
