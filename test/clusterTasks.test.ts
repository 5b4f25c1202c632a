/**
 * 2026-07-28 tasks on the cluster's runner (`McpCluster.layer`), two nodes in
 * this process on one Postgres: a task started through one node is read,
 * answered and cancelled through the other, its `once` steps run once, it
 * runs on when the node running it stops, and nothing of it is left in the
 * database once it has expired.
 */
import * as PgClient from "@effect/sql-pg/PgClient"
import { describe, expect, it } from "@effect/vitest"
import {
  ConfigProvider,
  Deferred,
  Effect,
  ExecutionStrategy,
  Exit,
  Layer,
  Logger,
  LogLevel,
  Schema,
  Scope
} from "effect"
import { McpServer, McpTest, RequestContext } from "mcp-effect"
import { McpCluster } from "mcp-effect/cluster"
import { modernMessage, taskClient } from "./modernHelpers.js"
import * as Pg from "./support/postgres.js"

if (Pg.unavailable !== undefined) console.warn(Pg.unavailable)

const key = "k".repeat(McpCluster.minimumKeyBytes)

/** Shards per group: few, so that two runners share them soon. */
const SHARDS = 16

/** What the handlers did, counted across both nodes (they share this process). */
class Counts {
  runs = 0
  charges = 0
  /** Runs of `wait` and `fragile`, by node. */
  readonly ranOn = { a: 0, b: 0 }
  /** `once` steps of `wait`. */
  starts = 0
  /** Attempts of `pay`'s once step, and the failures its handler caught. */
  payments = 0
  readonly reasons: Array<string> = []
}

describe.skipIf(Pg.unavailable !== undefined)("tasks on the cluster's runner", () => {
  const { server, unique } = Pg.forFile()

  /** The tools of every node: the same code on each, as in a deployment. */
  const tools = (node: "a" | "b", counts: Counts, release: Deferred.Deferred<void>, stopped: Deferred.Deferred<void>) =>
    Layer.mergeAll(
      McpServer.tool(
        "charge",
        { task: "required", parameters: { amount: Schema.Number } },
        ({ amount }) =>
          Effect.gen(function*() {
            counts.runs++
            const receipt = yield* RequestContext.once("charge", Effect.sync(() => `receipt-${++counts.charges}`))
            const answer = yield* RequestContext.elicit(`Send ${amount}?`, Schema.Struct({ ok: Schema.Boolean }))
            return answer.action === "accept" && answer.content.ok ? `sent with ${receipt}` : "kept"
          })
      ),
      McpServer.tool("wait", { task: "required" }, () =>
        Effect.gen(function*() {
          counts.ranOn[node]++
          yield* RequestContext.once("start", Effect.sync(() => counts.starts++))
          yield* Deferred.await(release)
          return "released"
        }).pipe(Effect.onInterrupt(() => Deferred.succeed(stopped, undefined)))),
      McpServer.tool("migrate", { task: "required", taskStart: "explicit" }, () =>
        Effect.gen(function*() {
          counts.runs++
          const answer = yield* RequestContext.elicit("Migrate?", Schema.Struct({ ok: Schema.Boolean }))
          yield* RequestContext.continueAsTask
          yield* RequestContext.once("migrate", Effect.sync(() => ++counts.charges))
          return answer.action === "accept" ? "migrated" : "left alone"
        })),
      McpServer.tool("pay", { task: "required" }, () => {
        // Declined the first time: a failed once step is not journaled, so calling it again runs it again.
        const pay = RequestContext.once(
          "pay",
          Effect.suspend(() => ++counts.payments === 1 ? Effect.fail("declined") : Effect.succeed("paid"))
        )
        return pay.pipe(
          Effect.catchAll((reason) => Effect.zipRight(Effect.sync(() => counts.reasons.push(reason)), pay))
        )
      }),
      McpServer.tool(
        "quit",
        { task: "required" },
        () => Effect.zipRight(Effect.sync(() => counts.runs++), Effect.interrupt)
      ),
      McpServer.tool(
        "fragile",
        { task: "required", taskRecovery: "fail" },
        () => Effect.zipRight(Effect.sync(() => counts.ranOn[node]++), Effect.as(Deferred.await(release), "released"))
      )
    )

  /** A node: the server on its own Postgres client and runner, in a scope of its own (closed: the node stops). */
  const node = (tablePrefix: string, tasks: ReturnType<typeof tools>, scope: Scope.Scope, ttlMs?: number) =>
    Effect.gen(function*() {
      const client = yield* Scope.extend(Pg.client(server()), scope)
      const runner = {
        host: "127.0.0.1",
        port: yield* Pg.freePort,
        sharding: {
          shardsPerGroup: SHARDS,
          entityMessagePollInterval: "100 millis",
          refreshAssignmentsInterval: "100 millis",
          entityTerminationTimeout: "3 seconds"
        } as const
      }
      const live = tasks.pipe(
        Layer.provideMerge(
          McpServer.layer({ name: "cluster", version: "1.0.0", ...(ttlMs !== undefined ? { tasks: { ttlMs } } : {}) })
        ),
        Layer.provide(McpCluster.layer({ tablePrefix, runner, tasks: { purgeInterval: "100 millis" } })),
        Layer.provide(Layer.succeed(PgClient.PgClient, client))
      )
      const conn = yield* Scope.extend(McpTest.raw(live), scope)
      return { ...taskClient(conn, Effect.sleep("50 millis")), conn }
    }).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["MCP_REQUEST_STATE_KEY", key]]))),
      // The runner's own logs (listening, shards) are not what these tests look at.
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )

  /**
   * Until both runners hold half the shards each (Postgres advisory locks, one connection per runner): a task
   * started while the second runner takes its shards over waits for that, up to `entityTerminationTimeout`.
   */
  const settled = Effect.gen(function*() {
    const sql = yield* Pg.client(server())
    const held = sql<{ readonly locks: number; readonly holders: number }>`SELECT count(*)::int AS locks,
      count(DISTINCT pid)::int AS holders FROM pg_locks WHERE locktype = 'advisory' AND granted`
    yield* held.pipe(
      Effect.tap(() => Effect.sleep("50 millis")),
      Effect.repeat({ until: ([row]) => row?.locks === SHARDS && row.holders === 2, times: 400 })
    )
  }).pipe(Effect.scoped, Effect.orDie)

  const setUp = (ttlMs?: number) =>
    Effect.gen(function*() {
      const counts = new Counts()
      const release = yield* Deferred.make<void>()
      const stopped = yield* Deferred.make<void>()
      const tablePrefix = unique()
      const scopeA = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
      const a = yield* node(tablePrefix, tools("a", counts, release, stopped), scopeA, ttlMs)
      const b = yield* node(tablePrefix, tools("b", counts, release, stopped), yield* Effect.scope, ttlMs)
      yield* settled
      /**
       * Starts tasks of `tool` through `via` until one runs on node `on` (each lands on either, by its shard): that
       * one's id, and every id started.
       */
      const startOn = (on: "a" | "b", via: typeof a, tool: string) =>
        Effect.gen(function*() {
          const started: Array<string> = []
          while (true) {
            const before = { ...counts.ranOn }
            started.push((yield* via.exchange("tools/call", { name: tool })).result.taskId)
            yield* Effect.sleep("20 millis").pipe(
              Effect.repeat({ until: () => counts.ranOn.a + counts.ranOn.b > before.a + before.b, times: 250 })
            )
            if (counts.ranOn[on] > before[on]) return { taskId: started.at(-1)!, started }
          }
        })
      return { a, b, counts, release, stopped, tablePrefix, startOn, stopA: Scope.close(scopeA, Exit.void) }
    })

  it.scopedLive("a task started on one node is answered on the other; its once step runs once", () =>
    Effect.gen(function*() {
      const { a, b, counts } = yield* setUp()
      const created = (yield* a.exchange("tools/call", { name: "charge", arguments: { amount: 5 } })).result
      expect(created).toMatchObject({ resultType: "task", status: "working" })
      const asked = (yield* b.until(created.taskId, "input_required")).result
      expect(Object.keys(asked.inputRequests)).toEqual(["elicitation-1"])
      expect(asked.inputRequests["elicitation-1"]).toMatchObject({ method: "elicitation/create" })

      yield* b.exchange("tasks/update", {
        taskId: created.taskId,
        inputResponses: { "elicitation-1": { action: "accept", content: { ok: true } } }
      })
      const done = (yield* a.until(created.taskId, "completed")).result
      expect(done.result.content).toEqual([{ type: "text", text: "sent with receipt-1" }])
      // The handler waited for its answer where it ran: one run, one charge.
      expect(counts.charges).toBe(1)
      expect(counts.runs).toBe(1)
      // An answer to a task that has ended changes nothing.
      yield* b.exchange("tasks/update", {
        taskId: created.taskId,
        inputResponses: { "elicitation-1": { action: "decline" } }
      })
      expect((yield* b.exchange("tasks/get", { taskId: created.taskId })).result.status).toBe("completed")
    }))

  it.scopedLive("a once step that failed is run again when called again, its typed failure caught", () =>
    Effect.gen(function*() {
      const { a, b, counts } = yield* setUp()
      const created = (yield* a.exchange("tools/call", { name: "pay" })).result
      const done = (yield* b.until(created.taskId, "completed")).result
      expect(done.result.content).toEqual([{ type: "text", text: "paid" }])
      expect(counts.payments).toBe(2)
      expect(counts.reasons).toEqual(["declined"])
    }))

  it.scopedLive("a handler that interrupts itself ends its task as cancelled, once", () =>
    Effect.gen(function*() {
      const { a, b, counts } = yield* setUp()
      const created = (yield* a.exchange("tools/call", { name: "quit" })).result
      expect((yield* b.until(created.taskId, "cancelled")).result.status).toBe("cancelled")
      yield* Effect.sleep("500 millis")
      expect(counts.runs).toBe(1)
    }))

  it.scopedLive("a listen on one node hears of a task that another node runs", () =>
    Effect.gen(function*() {
      const { a, b, release, startOn } = yield* setUp()
      const created = yield* startOn("a", a, "wait")
      yield* b.conn.send(modernMessage(900, "subscriptions/listen", { notifications: { taskIds: [created.taskId] } }))
      expect(yield* b.conn.receive).toMatchObject({ method: "notifications/subscriptions/acknowledged" })
      yield* Deferred.succeed(release, undefined)
      const heard: any = yield* b.conn.receive
      expect(heard).toMatchObject({
        method: "notifications/tasks",
        params: {
          taskId: created.taskId,
          status: "completed",
          result: { content: [{ type: "text", text: "released" }] }
        }
      })
    }))

  it.scopedLive("a task started by continueAsTask runs on the cluster with the answers of its rounds", () =>
    Effect.gen(function*() {
      const { a, b, counts } = yield* setUp()
      const asked = (yield* a.exchange("tools/call", { name: "migrate" })).result
      expect(asked.resultType).toBe("input_required")
      const created = (yield* b.exchange("tools/call", {
        name: "migrate",
        inputResponses: { "elicitation-1": { action: "accept", content: { ok: true } } },
        requestState: asked.requestState
      })).result
      expect(created).toMatchObject({ resultType: "task", status: "working" })
      const done = (yield* a.until(created.taskId, "completed")).result
      expect(done.result.content).toEqual([{ type: "text", text: "migrated" }])
      // Two rounds, then the task's run from the start (the answer from the rounds): one migration.
      expect(counts.runs).toBe(3)
      expect(counts.charges).toBe(1)
    }))

  it.scopedLive("a task is cancelled through any node: its handler is interrupted where it runs", () =>
    Effect.gen(function*() {
      const { a, b, startOn, stopped } = yield* setUp()
      const created = yield* startOn("a", a, "wait")
      expect((yield* b.exchange("tasks/cancel", { taskId: created.taskId })).result).toMatchObject({})
      expect((yield* a.exchange("tasks/get", { taskId: created.taskId })).result.status).toBe("cancelled")
      yield* Deferred.await(stopped)
      // It stays cancelled.
      expect((yield* a.until(created.taskId, "cancelled")).result.status).toBe("cancelled")
    }))

  it.scopedLive("a node that stops hands its tasks over: they run on, or fail where the tool says so", () =>
    Effect.gen(function*() {
      const { b, counts, release, startOn, stopA } = yield* setUp()
      // Started through b, on a: stopping a moves them to b.
      const waiting = (yield* startOn("a", b, "wait")).started
      const fragile = (yield* startOn("a", b, "fragile")).taskId
      yield* stopA
      yield* Deferred.succeed(release, undefined)
      // Every task a ran runs again on b; each ran its once step once, and completes once.
      for (const taskId of waiting) {
        expect((yield* b.until(taskId, "completed")).result.result.content).toEqual([{
          type: "text",
          text: "released"
        }])
      }
      expect(counts.starts).toBe(waiting.length)
      // The fragile task a ran fails on b, saying why, rather than run again.
      const failed = (yield* b.until(fragile, "failed")).result
      expect(failed.error.message).toContain("which does not run again")
    }))

  it.scopedLive("nothing of a task is left in the database once it has expired", () =>
    Effect.gen(function*() {
      const { a, b, tablePrefix } = yield* setUp(3000)
      const created = (yield* a.exchange("tools/call", { name: "charge", arguments: { amount: 1 } })).result
      yield* b.until(created.taskId, "input_required")
      yield* b.exchange("tasks/update", {
        taskId: created.taskId,
        inputResponses: { "elicitation-1": { action: "decline" } }
      })
      yield* a.until(created.taskId, "completed")
      const sql = yield* Pg.client(server())
      const rows = Effect.all([
        sql`SELECT 1 FROM ${sql(`${tablePrefix}tasks`)}`,
        sql`SELECT 1 FROM ${sql(`${tablePrefix}cluster_messages`)} WHERE entity_type = 'Workflow/McpTask'`,
        sql`SELECT 1 FROM ${sql(`${tablePrefix}cluster_replies`)} r JOIN ${sql(`${tablePrefix}cluster_messages`)} m
          ON r.request_id = m.request_id WHERE m.entity_type = 'Workflow/McpTask'`
      ]).pipe(Effect.map((tables) => tables.map((found) => found.length)))
      expect((yield* rows)[0]).toBe(1)
      expect((yield* rows)[1]).toBeGreaterThan(0)
      // Expired, then purged (every 100 ms here): the task's row, and its execution's messages and replies.
      const left = yield* rows.pipe(
        Effect.tap(() => Effect.sleep("100 millis")),
        Effect.repeat({ until: (counts) => counts.every((n) => n === 0), times: 100 })
      )
      expect(left).toEqual([0, 0, 0])
      expect((yield* b.exchange("tasks/get", { taskId: created.taskId })).error.code).toBe(-32602)
    }))
})
