/**
 * A soak run of the multi-node deployment (issue 14): bounded load on one node, then on three nodes behind the
 * balancer while one node is killed (SIGKILL) and a fresh one started, twice. It prints, per phase: calls per second,
 * failed calls, p50/p99 latency, and each node's resident memory at the end.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/cluster.ts [--seconds 60] [--clients 16]
 *
 * Half the clients keep a handshake-era session (affine to a node), half speak 2026-07-28 (round robin); each makes
 * `tools/call` after `tools/call` (`chatty` with two progress steps and logs). A call in flight on a killed node
 * fails (counted); its session's next call continues on another node. Two more clients run `invoice` tasks back to
 * back (a `once` step that inserts a row, then a question they answer): a task on a killed node runs again on
 * another, and at the end every task must have completed, with one invoice. Not part of `npm run bench`: it needs
 * Postgres.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { Config, Duration, Effect, Fiber, Layer, Redacted } from "effect"
import { McpClient } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { readFileSync } from "node:fs"
import * as Balancer from "../examples/internal/balancer.js"
import * as Nodes from "../examples/internal/nodes.js"
import { flag } from "./common.js"

const SECONDS = flag("seconds", 60)
const CLIENTS = flag("clients", 16)
const TASKERS = flag("taskers", 2)

/** A process's resident memory, in MB. */
const rssMb = (pid: number) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
    return Number(line?.split(/\s+/)[1] ?? 0) / 1024
  } catch {
    return 0
  }
}

interface Tally {
  readonly latencies: Array<number>
  failures: number
}

/** One client calling until `until` (a wall-clock time: this is a soak, not a test). */
const caller = (client: McpClient.Service, until: number, tally: Tally) =>
  Effect.gen(function*() {
    while (Date.now() < until) {
      const began = performance.now()
      const outcome = yield* Effect.either(client.callTool("chatty", { steps: 2 }))
      if (outcome._tag === "Right" && outcome.right.isError !== true) tally.latencies.push(performance.now() - began)
      else tally.failures++
    }
  })

interface Tasks {
  readonly customers: Array<string>
  completed: number
  failed: number
}

/** One client running `invoice` tasks until `until`, each to its end (answering its question). */
const tasker = (client: McpClient.Service, name: string, until: number, tasks: Tasks) =>
  Effect.gen(function*() {
    while (Date.now() < until) {
      const customer = `${name}-${tasks.customers.length}`
      tasks.customers.push(customer)
      const outcome = yield* Effect.either(
        Effect.flatMap(client.callToolAsTask("invoice", { customer }), (task) => task.await)
      )
      if (outcome._tag === "Right" && outcome.right.isError !== true) tasks.completed++
      else tasks.failed++
    }
  })

/** Connects the task clients (2026-07-28), which accept every question. */
const connectTaskers = (url: string) =>
  Effect.all(
    Array.from({ length: TASKERS }, () => NodeHttp.connect(url)),
    { concurrency: 4 }
  ).pipe(Effect.provideService(McpClient.Elicitation, {
    elicit: () => Effect.succeed({ action: "accept", content: { send: true } })
  }))

const report = (name: string, tally: Tally, seconds: number, nodes: ReadonlyArray<Nodes.Node>) => {
  const sorted = [...tally.latencies].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  process.stdout.write(
    `${name.padEnd(40)} ${(tally.latencies.length / seconds).toFixed(0).padStart(7)} calls/s  ${
      String(tally.failures).padStart(5)
    } failed  p50 ${at(0.5).toFixed(1).padStart(6)} ms  p99 ${at(0.99).toFixed(1).padStart(7)} ms  RSS ${
      nodes.map((node) => `${rssMb(node.pid).toFixed(0)} MB`).join(", ")
    }\n`
  )
}

/** Connects half the clients in the handshake era, half in 2026-07-28. */
const connectAll = (url: string) =>
  Effect.all(
    Array.from(
      { length: CLIENTS },
      (_, i) => NodeHttp.connect(url, i % 2 === 0 ? { protocolVersion: "2025-11-25" } : {})
    ),
    { concurrency: 4 }
  )

const phase = (url: string, seconds: number, name: string, tasks: Tasks) =>
  Effect.gen(function*() {
    const clients = yield* connectAll(url)
    const taskers = yield* connectTaskers(url)
    const tally: Tally = { latencies: [], failures: 0 }
    const until = Date.now() + seconds * 1000
    yield* Effect.all([
      ...clients.map((client) => caller(client, until, tally)),
      ...taskers.map((client, i) => tasker(client, `${name}-${i}`, until, tasks))
    ], { concurrency: "unbounded" })
    return tally
  }).pipe(Effect.scoped)

/** The phase's tasks: completed, failed, and invoices issued more than once (a `once` step repeated). */
const reportTasks = (tasks: Tasks, repeated: number) =>
  process.stdout.write(
    `${"  tasks".padEnd(40)} ${String(tasks.completed).padStart(7)} completed ${
      String(tasks.failed).padStart(5)
    } failed  ${repeated} invoices issued twice\n`
  )

/** How many of the customers got more than one invoice. */
const repeatedInvoices = (customers: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const rows = yield* sql<{ readonly customer: string }>`SELECT customer FROM example_invoices
      WHERE customer IN ${sql.in(customers)} GROUP BY customer HAVING count(*) > 1`
    return rows.length
  })

const main = Effect.gen(function*() {
  const databaseUrl = yield* Config.redacted("DATABASE_URL")
  const env = {
    DATABASE_URL: Redacted.value(databaseUrl),
    MCP_REQUEST_STATE_KEY: "the soak run's key, the same on every node"
  }
  process.stdout.write(`soak: ${CLIENTS} clients, ${SECONDS} s per phase\n`)

  const single = yield* Nodes.start(env)
  const aloneTasks: Tasks = { customers: [], completed: 0, failed: 0 }
  const alone = yield* phase(`http://127.0.0.1:${single.port}/mcp`, SECONDS, `one-${Date.now()}`, aloneTasks)
  report("one node", alone, SECONDS, [single])
  reportTasks(aloneTasks, yield* repeatedInvoices(aloneTasks.customers))
  process.kill(single.pid, "SIGKILL")

  const nodes = [...(yield* Effect.all([Nodes.start(env), Nodes.start(env), Nodes.start(env)]))]
  const balancer = yield* Balancer.make(nodes.map((node) => node.port))
  // Twice during the phase: a node holding sessions is killed, and a fresh one joins.
  const restarts = yield* Effect.forkScoped(Effect.gen(function*() {
    for (let round = 1; round <= 2; round++) {
      yield* Effect.sleep(Duration.seconds(SECONDS))
      const counts = new Map<number, number>()
      for (const port of balancer.sessions.values()) counts.set(port, (counts.get(port) ?? 0) + 1)
      const victim = nodes.find((node) => counts.has(node.port)) ?? nodes[0]!
      process.kill(victim.pid, "SIGKILL")
      nodes.splice(nodes.indexOf(victim), 1)
      const fresh = yield* Nodes.start(env)
      nodes.push(fresh)
      balancer.add(fresh.port)
      process.stdout.write(`  killed pid ${victim.pid}, started pid ${fresh.pid}\n`)
    }
  }))
  const threeTasks: Tasks = { customers: [], completed: 0, failed: 0 }
  const three = yield* phase(balancer.url, SECONDS * 3, `three-${Date.now()}`, threeTasks)
  yield* Fiber.join(restarts)
  report("three nodes, one killed and replaced twice", three, SECONDS * 3, nodes)
  reportTasks(threeTasks, yield* repeatedInvoices(threeTasks.customers))
}).pipe(Effect.provide(Layer.unwrapEffect(
  Effect.map(Config.redacted("DATABASE_URL"), (url) => PgClient.layer({ url }))
)))

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error}\n`)
    process.exit(1)
  }
)
