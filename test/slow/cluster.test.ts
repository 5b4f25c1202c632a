/**
 * Three nodes on one Postgres behind a balancer (issue 14), one of them killed with SIGKILL in each test: a
 * handshake-era session continues on another node, keeping its log level and subscriptions, change notifications
 * crossing nodes before and after; an SSE stream is resumed on another node with `Last-Event-ID`, what was stored
 * replayed and the answer given once; tasks the dead node ran complete on the others, their `once` steps not
 * repeated. Real processes, real HTTP, real Postgres (skipped, saying why, where it is not installed).
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Queue } from "effect"
import { McpClient } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import * as Balancer from "../../examples/internal/balancer.js"
import * as Nodes from "../../examples/internal/nodes.js"
import { openSession, raw, sseMessages } from "../httpHelpers.js"
import * as Postgres from "../support/postgres.js"

/** `steps` with a progress token: it reports its steps as progress notifications on the call's stream. */
const steps = { name: "steps", arguments: {}, _meta: { progressToken: "p" } }

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

/** The next notification of `method`, failing the test if none comes in a minute (a bound, not a race). */
const next = (queue: Queue.Dequeue<{ method: string }>, method: string) =>
  Queue.take(queue).pipe(
    Effect.repeat({ until: (notification) => notification.method === method }),
    Effect.timeoutFail({ duration: Duration.minutes(1), onTimeout: () => new Error(`no ${method} came`) })
  )

describe.skipIf(Postgres.unavailable !== undefined)("three nodes on Postgres", () => {
  it.scopedLive("a session continues on another node after its node is killed, with its level and subscriptions", () =>
    Effect.gen(function*() {
      const pg = yield* Postgres.start
      const databaseUrl = `postgres://${pg.username}@${pg.host}:${pg.port}/${pg.database}`
      const env = {
        DATABASE_URL: databaseUrl,
        MCP_REQUEST_STATE_KEY: "a key every node of this test shares: 32 bytes or more"
      }
      const nodes = yield* Effect.all([Nodes.start(env), Nodes.start(env), Nodes.start(env)])
      // Each node is ready (health: true); McpCluster took the key and the database from the environment.
      for (const node of nodes) {
        const ready = yield* Effect.promise(() => fetch(`http://127.0.0.1:${node.port}/readyz`))
        expect(ready.status).toBe(200)
      }
      const balancer = yield* Balancer.make(nodes.map((node) => node.port))

      const client = yield* NodeHttp.connect(balancer.url, { protocolVersion: "2025-11-25" })
      const notifications = yield* client.subscribe
      yield* client.setLevel("info")
      yield* client.subscribeResource("board://notice")
      const first = text(yield* client.callTool("whoami"))
      const home = nodes.find((node) => String(node.pid) === first)!
      expect(home).toBeDefined()

      // A 2026-07-28 client, round robin: its change reaches the session whichever node made it.
      const modern = yield* NodeHttp.connect(balancer.url)
      expect(modern.protocolVersion).toBe("2026-07-28")
      for (let i = 0; i < 3; i++) yield* modern.callTool("touch", { uri: "board://notice" })
      for (let i = 0; i < 3; i++) yield* next(notifications, "notifications/resources/updated")

      // The session's node dies without a word.
      process.kill(home.pid, "SIGKILL")
      yield* Deferred.await(home.exited)

      const elsewhere = text(yield* client.callTool("whoami"))
      expect(elsewhere).not.toBe(String(home.pid))
      expect(nodes.map((node) => String(node.pid))).toContain(elsewhere)

      // Its log level came along: the steps are logged to it, and its progress reported.
      const progress: Array<number> = []
      const done = yield* client.callTool("chatty", { steps: 3 }, { onProgress: (p) => progress.push(p.progress) })
      expect(text(done)).toMatch(/^done in \d+$/)
      expect(progress).toEqual([1, 2, 3])
      yield* next(notifications, "notifications/message")

      // And its subscription: a change made anywhere reaches it on its new node.
      for (let i = 0; i < 3; i++) yield* modern.callTool("touch", { uri: "board://notice" })
      yield* next(notifications, "notifications/resources/updated")
      expect(balancer.sessions.get([...balancer.sessions.keys()][0]!)).not.toBe(home.port)
    }))

  it.scopedLive(
    "a stream of a node killed with SIGKILL is resumed on another: what was stored is replayed, once",
    () =>
      Effect.gen(function*() {
        const pg = yield* Postgres.start
        const env = {
          DATABASE_URL: `postgres://${pg.username}@${pg.host}:${pg.port}/${pg.database}`,
          MCP_REQUEST_STATE_KEY: "a key every node of this test shares: 32 bytes or more"
        }
        const nodes = yield* Effect.all([Nodes.start(env), Nodes.start(env), Nodes.start(env)])
        const balancer = yield* Balancer.make(nodes.map((node) => node.port))
        const url = balancer.url
        const { headers, sessionId } = yield* Effect.promise(() => openSession(url))
        const home = nodes.find((node) => node.port === balancer.sessions.get(sessionId))!

        // The response ends after step 1; steps 2 and 3 and the answer go to the event store only.
        const first = yield* Effect.promise(() =>
          raw(url, { headers, body: { jsonrpc: "2.0", id: 7, method: "tools/call", params: steps } })
        )
        const seen = sseMessages(first.body)
        expect(seen.map((m) => m.message.params?.message)).toEqual(["step 1"])
        const lastEventId = seen[0]!.id!
        // Stored, the four of them, before the node dies.
        const sql = yield* Postgres.client(pg)
        const stream = lastEventId.split("/")[0]!
        yield* sql<{ readonly n: number }>`SELECT count(*)::int AS n FROM mcp_events WHERE stream_id = ${stream}`.pipe(
          Effect.tap(() => Effect.sleep("50 millis")),
          Effect.repeat({ until: ([row]) => row?.n === 4, times: 600 })
        )
        process.kill(home.pid, "SIGKILL")
        yield* Deferred.await(home.exited)

        // The client polls from its last event: another node replays the rest, and the answer, once.
        const resumed = yield* Effect.promise(() =>
          raw(url, {
            method: "GET",
            headers: { ...headers, accept: "text/event-stream", "last-event-id": lastEventId }
          })
        )
        expect(resumed.status).toBe(200)
        const replayed = sseMessages(resumed.body).map((m) => m.message)
        expect(replayed.map((m) => m.params?.message ?? m.result?.content?.[0]?.text)).toEqual([
          "step 2",
          "step 3",
          `stepped in ${home.pid}`
        ])
        expect([...seen.map((m) => m.message), ...replayed].filter((m) => m.id === 7)).toHaveLength(1)
        expect(balancer.sessions.get(sessionId)).not.toBe(home.port)
      }),
    { timeout: 180_000 }
  )

  it.scopedLive(
    "a task runs on after its node is killed: its once step is not repeated, and it completes once",
    () =>
      Effect.gen(function*() {
        const pg = yield* Postgres.start
        const env = {
          DATABASE_URL: `postgres://${pg.username}@${pg.host}:${pg.port}/${pg.database}`,
          MCP_REQUEST_STATE_KEY: "a key every node of this test shares: 32 bytes or more"
        }
        const nodes = yield* Effect.all([Nodes.start(env), Nodes.start(env), Nodes.start(env)])
        const balancer = yield* Balancer.make(nodes.map((node) => node.port))
        // The client sends its answers; whichever node serves a request, round robin.
        const client = yield* NodeHttp.connect(balancer.url).pipe(
          Effect.provideService(McpClient.Elicitation, {
            elicit: () => Effect.succeed({ action: "accept", content: { send: true } })
          })
        )
        const tasks = yield* Effect.all(
          ["ada", "grace", "edsger"].map((customer) => client.callToolAsTask("invoice", { customer }))
        )
        // Each task issued its invoice (its once step) and asks; the question says which node runs it.
        const asking = yield* Effect.forEach(tasks, (task) =>
          task.get.pipe(
            Effect.tap(() => Effect.sleep("100 millis")),
            Effect.repeat({ until: (state) => state.status === "input_required", times: 600 }),
            Effect.map((state) => Number(/asked by node (\d+)/.exec(JSON.stringify(state.inputRequests))![1]))
          ))
        const doomed = nodes.find((node) => node.pid === asking[0])!
        process.kill(doomed.pid, "SIGKILL")
        yield* Deferred.await(doomed.exited)

        // Answered through the live nodes, every task completes; those of the dead node on another node.
        const results = yield* Effect.forEach(tasks, (task) => Effect.map(task.await, text))
        results.forEach((result, i) => {
          expect(result).toMatch(/^invoice \d+ sent by node \d+$/)
          if (asking[i] === doomed.pid) expect(result).not.toContain(`node ${doomed.pid}`)
        })
        // One invoice per task: the once step of a task run again was not repeated.
        const sql = yield* Postgres.client(pg)
        const invoices = yield* sql<{ readonly customer: string; readonly issued: number }>`SELECT customer,
        count(*)::int AS issued FROM example_invoices GROUP BY customer ORDER BY customer`
        expect(invoices).toEqual([
          { customer: "ada", issued: 1 },
          { customer: "edsger", issued: 1 },
          { customer: "grace", issued: 1 }
        ])
        // Completed once: the stored end stays as the client read it.
        for (const task of tasks) expect((yield* task.get).status).toBe("completed")
      }),
    { timeout: 180_000 }
  )
})
