import * as PgClient from "@effect/sql-pg/PgClient"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Context, Deferred, Effect, Layer, Option, Schema, Stream } from "effect"
import {
  ChangeFeed,
  EventStore,
  McpServer,
  McpTest,
  RequestContext,
  SessionStore,
  TaskRunner,
  TaskStore
} from "mcp-effect"
import { McpCluster, PgEventStore, PgSessionStore, PgTaskStore } from "mcp-effect/cluster"
import { modernMessage } from "./modernHelpers.js"
import * as Pg from "./support/postgres.js"

if (Pg.unavailable !== undefined) console.warn(Pg.unavailable)

/** A key as long as cluster mode asks for, and one byte shorter. */
const goodKey = "k".repeat(McpCluster.minimumKeyBytes)
const shortKey = "s".repeat(McpCluster.minimumKeyBytes - 1)

const environment = (entries: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(entries))))

describe("McpCluster.requireStateKey", () => {
  it.effect("accepts a key of the minimum length, and measures it in UTF-8 bytes", () =>
    Effect.gen(function*() {
      yield* McpCluster.requireStateKey.pipe(environment({ MCP_REQUEST_STATE_KEY: goodKey }))
      // 16 two-byte characters: 32 bytes.
      yield* McpCluster.requireStateKey.pipe(environment({ MCP_REQUEST_STATE_KEY: "é".repeat(16) }))
      const error = yield* Effect.flip(
        McpCluster.requireStateKey.pipe(environment({ MCP_REQUEST_STATE_KEY: "é".repeat(15) }))
      )
      expect(error.reason).toBe("tooShort")
    }))

  it.effect("refuses a missing key, saying what to set and why", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(McpCluster.requireStateKey.pipe(environment({})))
      expect(error).toBeInstanceOf(McpCluster.StateKeyError)
      expect(error.reason).toBe("missing")
      expect(error.message).toContain("MCP_REQUEST_STATE_KEY is not set")
      expect(error.message).toContain("the same on every node")
    }))

  it.effect("refuses a short key without showing it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        McpCluster.requireStateKey.pipe(environment({ MCP_REQUEST_STATE_KEY: shortKey }))
      )
      expect(error.reason).toBe("tooShort")
      expect(error.message).toContain(`shorter than ${McpCluster.minimumKeyBytes} bytes`)
      expect(error.message).not.toContain(shortKey)
    }))

  it.scoped("layerConfig checks the key before it reads the database's configuration", () =>
    Effect.gen(function*() {
      const noKey = yield* Effect.flip(Layer.build(McpCluster.layerConfig()).pipe(environment({})))
      expect(noKey).toEqual(new McpCluster.StateKeyError({ reason: "missing" }))
      const noDatabase = yield* Effect.flip(
        Layer.build(McpCluster.layerConfig()).pipe(environment({ MCP_REQUEST_STATE_KEY: goodKey }))
      )
      expect(noDatabase._tag).not.toBe("McpCluster/StateKeyError")
      expect(String(noDatabase)).toContain("DATABASE_URL")
    }))
})

describe.skipIf(Pg.unavailable !== undefined)("McpCluster layers", () => {
  // One server for the file; each test has tables (a prefix) or a channel of its own.
  const { on, server, unique } = Pg.forFile()

  /** Whether a table exists (`to_regclass` is null when it does not). */
  const tableExists = (node: PgClient.PgClient, name: string) =>
    Effect.map(
      node<{ readonly found: string | null }>`SELECT to_regclass(${name})::text AS found`,
      (rows) => rows[0]?.found != null
    )

  it.scoped("provides the Postgres stores, which another node reads", () =>
    Effect.gen(function*() {
      const a = yield* Pg.client(server())
      const b = yield* Pg.client(server())
      const tablePrefix = unique()
      const context = yield* Layer.build(
        McpCluster.layer({ tablePrefix, channel: `${tablePrefix}changes`, runner: false }).pipe(
          Layer.provide(Layer.succeed(PgClient.PgClient, a))
        )
      ).pipe(environment({ MCP_REQUEST_STATE_KEY: goodKey }))

      yield* Context.get(context, SessionStore.SessionStore).save("s1", {
        protocolVersion: "2025-11-25",
        clientCapabilities: {},
        subscriptions: []
      })
      const sessions = yield* on(b, PgSessionStore.make({ tablePrefix }))
      expect(Option.map(yield* sessions.load("s1"), (state) => state.protocolVersion)).toEqual(
        Option.some("2025-11-25")
      )

      const eventId = yield* Context.get(context, EventStore.EventStore).append("s1-1", { n: 1 })
      expect(eventId).toBe("s1-1/1")
      const events = yield* on(b, PgEventStore.make({ tablePrefix }))
      expect(Option.map(yield* events.replayAfter("s1-1/0"), (r) => r.events.map((e) => e.message))).toEqual(
        Option.some([{ n: 1 }])
      )

      const task: TaskStore.Task = {
        taskId: "task-1",
        status: "working",
        createdAt: new Date(0).toISOString(),
        lastUpdatedAt: new Date(0).toISOString(),
        ttlMs: null
      }
      yield* Context.get(context, TaskStore.TaskStore).put(task)
      const tasks = yield* on(b, PgTaskStore.make({ tablePrefix }))
      expect(yield* tasks.get("task-1")).toEqual(Option.some(task))

      // The feed is listening on the channel: a change published on it is heard, as every node's would be.
      const feed = Context.get(context, ChangeFeed.ChangeFeed)
      const heard = yield* feed.subscribe
      yield* b`SELECT pg_notify(${`${tablePrefix}changes`}, ${
        JSON.stringify({ origin: "node-b", change: { _tag: "ResourceUpdated", uri: "file:///a" } })
      })`
      yield* feed.publish({
        origin: "node-a",
        change: { _tag: "ListChanged", method: "notifications/tools/list_changed" }
      })
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(heard, 2)))).toEqual([
        { origin: "node-b", change: { _tag: "ResourceUpdated", uri: "file:///a" } },
        { origin: "node-a", change: { _tag: "ListChanged", method: "notifications/tools/list_changed" } }
      ])
    }))

  it.scopedLive("two servers on it share tasks and accept each other's requestState, with no change to tool code", () =>
    Effect.gen(function*() {
      const tablePrefix = unique()
      const release = yield* Deferred.make<void>()
      const Slow = McpServer.tool("slow", { task: "required" }, () => Effect.as(Deferred.await(release), "done"))
      const Ask = McpServer.tool("ask", {}, () =>
        Effect.map(
          RequestContext.elicit("Name?", Schema.Struct({ name: Schema.String })),
          (answer) => answer.action === "accept" ? `hello ${answer.content.name}` : answer.action
        ))
      const node = Effect.gen(function*() {
        const client = yield* Pg.client(server())
        const runner = {
          host: "127.0.0.1",
          port: yield* Pg.freePort,
          // A task started while the second runner takes its shards over waits for that, up to this long.
          sharding: { entityTerminationTimeout: "2 seconds", refreshAssignmentsInterval: "200 millis" } as const
        }
        const live = Layer.mergeAll(Slow, Ask).pipe(
          Layer.provideMerge(McpServer.layer({ name: "cluster", version: "1.0.0" })),
          Layer.provide(McpCluster.layer({ tablePrefix, channel: `${tablePrefix}changes`, runner })),
          Layer.provide(Layer.succeed(PgClient.PgClient, client))
        )
        const conn = yield* McpTest.raw(live)
        let id = 0
        return (method: string, params: object, capabilities?: object) =>
          Effect.zipRight(conn.send(modernMessage(++id, method, params, capabilities)), conn.receive) as Effect.Effect<
            any
          >
      }).pipe(environment({ MCP_REQUEST_STATE_KEY: goodKey }))
      const a = yield* node
      const b = yield* node

      const created = (yield* a("tools/call", { name: "slow" })).result
      expect(created).toMatchObject({ resultType: "task", status: "working" })
      expect((yield* b("tasks/get", { taskId: created.taskId })).result).toMatchObject({ status: "working" })
      yield* Deferred.succeed(release, undefined)
      // The task ends on a's fiber; its end is written to the database, where b reads it.
      const done = yield* b("tasks/get", { taskId: created.taskId }).pipe(
        Effect.tap(() => Effect.sleep("20 millis")),
        Effect.repeat({ until: (response) => response.result?.status === "completed", times: 1000 })
      )
      expect(done.result.result).toMatchObject({ content: [{ type: "text", text: "done" }] })

      // A round signed on a is answered on b: both read the same key.
      const elicitation = { elicitation: { form: {} } }
      const asked = (yield* a("tools/call", { name: "ask" }, elicitation)).result
      expect(asked.resultType).toBe("input_required")
      const answered = (yield* b("tools/call", {
        name: "ask",
        inputResponses: { "elicitation-1": { action: "accept", content: { name: "Ada" } } },
        requestState: asked.requestState
      }, elicitation)).result
      expect(answered).toMatchObject({ resultType: "complete", content: [{ type: "text", text: "hello Ada" }] })
    }))

  it.scoped("refuses to start without the key, before touching the database", () =>
    Effect.gen(function*() {
      const a = yield* Pg.client(server())
      const tablePrefix = unique()
      const cluster = McpCluster.layer({ tablePrefix, runner: false }).pipe(
        Layer.provide(Layer.succeed(PgClient.PgClient, a))
      )
      const missing = yield* Effect.flip(Layer.build(cluster).pipe(environment({})))
      expect(missing).toEqual(new McpCluster.StateKeyError({ reason: "missing" }))
      const short = yield* Effect.flip(Layer.build(cluster).pipe(environment({ MCP_REQUEST_STATE_KEY: shortKey })))
      expect(short).toEqual(new McpCluster.StateKeyError({ reason: "tooShort" }))
      expect(yield* tableExists(a, `${tablePrefix}sessions`)).toBe(false)
      expect(yield* tableExists(a, `${tablePrefix}tasks`)).toBe(false)
    }))

  it.scoped("layerConfig connects to DATABASE_URL, and provides the PgClient too", () =>
    Effect.gen(function*() {
      const tablePrefix = unique()
      const url = `postgres://${server().username}@${server().host}:${server().port}/${server().database}`
      const runnerPort = yield* Pg.freePort
      const context = yield* Layer.build(McpCluster.layerConfig({ tablePrefix, channel: `${tablePrefix}changes` }))
        .pipe(environment({
          MCP_REQUEST_STATE_KEY: goodKey,
          DATABASE_URL: url,
          MCP_RUNNER_HOST: "127.0.0.1",
          MCP_RUNNER_PORT: String(runnerPort)
        }))
      const sql = Context.get(context, PgClient.PgClient)
      expect(yield* tableExists(sql, `${tablePrefix}tasks`)).toBe(true)
      // The runner, at the address the environment gave it.
      expect(Option.isSome(Context.getOption(context, TaskRunner.TaskRunner))).toBe(true)
      const runners = yield* sql<{ readonly address: string }>`SELECT address FROM ${
        sql(`${tablePrefix}cluster_runners`)
      }`
      expect(runners.map((row) => row.address)).toEqual([`127.0.0.1:${runnerPort}`])
      yield* Context.get(context, TaskStore.TaskStore).put({
        taskId: "task-1",
        status: "working",
        createdAt: new Date(0).toISOString(),
        lastUpdatedAt: new Date(0).toISOString(),
        ttlMs: null
      })
      const rows = yield* sql<{ readonly task_id: string }>`SELECT task_id FROM ${sql(`${tablePrefix}tasks`)}`
      expect(rows.map((row) => row.task_id)).toEqual(["task-1"])
    }))
})
