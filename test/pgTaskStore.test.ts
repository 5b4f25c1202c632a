import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import type { TaskStore } from "mcp-effect"
import { PgTaskStore } from "mcp-effect/cluster"
import * as Pg from "./support/postgres.js"

if (Pg.unavailable !== undefined) console.warn(Pg.unavailable)

describe.skipIf(Pg.unavailable !== undefined)("PgTaskStore", () => {
  // One server for the file; each test has tables (a prefix) or a channel of its own.
  const { on, twoNodes, unique } = Pg.forFile()

  /** A task created at the TestClock's start (the epoch), readable for ten minutes. */
  const working: TaskStore.Task = {
    taskId: "task-1",
    status: "working",
    createdAt: new Date(0).toISOString(),
    lastUpdatedAt: new Date(0).toISOString(),
    ttlMs: 10 * 60 * 1000,
    pollIntervalMs: 1000
  }

  it.scoped("keeps a task that ended as it ended: a later put of it is ignored", () =>
    Effect.gen(function*() {
      const [a, b] = yield* twoNodes
      const tablePrefix = unique()
      const storeA = yield* on(a, PgTaskStore.make({ tablePrefix }))
      const storeB = yield* on(b, PgTaskStore.make({ tablePrefix }))
      const cancelled: TaskStore.Task = { ...working, status: "cancelled" }
      yield* storeA.put(working)
      yield* storeB.put(cancelled)
      yield* storeA.put({ ...working, status: "completed", result: { content: [] } })
      expect(yield* storeA.get("task-1")).toEqual(Option.some(cancelled))
    }))

  it.scoped("reads on one node the task another wrote; a put replaces it", () =>
    Effect.gen(function*() {
      const [a, b] = yield* twoNodes
      const tablePrefix = unique()
      const storeA = yield* on(a, PgTaskStore.make({ tablePrefix }))
      const storeB = yield* on(b, PgTaskStore.make({ tablePrefix }))
      yield* storeA.put(working)
      expect(yield* storeB.get("task-1")).toEqual(Option.some(working))

      const waiting: TaskStore.Task = {
        ...working,
        status: "input_required",
        statusMessage: "needs a name",
        inputRequests: {
          "elicitation-1": { method: "elicitation/create", params: { message: "Name?", requestedSchema: {} } }
        }
      }
      yield* storeB.put(waiting)
      expect(yield* storeA.get("task-1")).toEqual(Option.some(waiting))

      const completed: TaskStore.Task = {
        ...working,
        status: "completed",
        lastUpdatedAt: new Date(5000).toISOString(),
        result: {
          content: [{ type: "text", text: "done" }],
          structuredContent: { n: 1 },
          _meta: { "x-trace": "abc" }
        }
      }
      yield* storeA.put(completed)
      expect(yield* storeB.get("task-1")).toEqual(Option.some(completed))

      const failed: TaskStore.Task = {
        ...working,
        taskId: "task-2",
        status: "failed",
        error: { code: -32603, message: "boom", data: { retry: false } }
      }
      yield* storeB.put(failed)
      expect(yield* storeA.get("task-2")).toEqual(Option.some(failed))
      expect(yield* storeA.get("never")).toEqual(Option.none())
    }))

  it.scoped("forgets a task once its time to live has passed since it was created, and purges it", () =>
    Effect.gen(function*() {
      const [a, b] = yield* twoNodes
      const tablePrefix = unique()
      const store = yield* on(a, PgTaskStore.make({ tablePrefix }))
      const other = yield* on(b, PgTaskStore.make({ tablePrefix }))
      yield* store.put(working)
      yield* store.put({ ...working, taskId: "task-2", ttlMs: 20 * 60 * 1000 })
      yield* TestClock.adjust("9 minutes")
      // An update does not extend a task's life: it counts from createdAt.
      yield* store.put({ ...working, lastUpdatedAt: new Date(9 * 60 * 1000).toISOString() })
      yield* TestClock.adjust("1 minute")
      // Exactly its time to live: still readable, as in the memory store.
      expect(Option.isSome(yield* other.get("task-1"))).toBe(true)
      expect(yield* other.purge).toEqual([])
      yield* TestClock.adjust("1 second")
      expect(yield* other.get("task-1")).toEqual(Option.none())
      expect(Option.isSome(yield* other.get("task-2"))).toBe(true)
      expect(yield* other.purge).toHaveLength(1)
      expect(yield* store.purge).toEqual([])
      expect(Option.isSome(yield* store.get("task-2"))).toBe(true)
    }))

  it.scoped("keeps a task whose time to live is null", () =>
    Effect.gen(function*() {
      const [a, b] = yield* twoNodes
      const tablePrefix = unique()
      const store = yield* on(a, PgTaskStore.make({ tablePrefix }))
      const other = yield* on(b, PgTaskStore.make({ tablePrefix }))
      const forever: TaskStore.Task = { ...working, ttlMs: null }
      yield* store.put(forever)
      yield* TestClock.adjust("3650 days")
      expect(yield* other.purge).toEqual([])
      expect(yield* other.get("task-1")).toEqual(Option.some(forever))
    }))

  it.scoped("reads a row it cannot read as no task", () =>
    Effect.gen(function*() {
      const [a] = yield* twoNodes
      const tablePrefix = unique()
      const store = yield* on(a, PgTaskStore.make({ tablePrefix }))
      const table = a(`${tablePrefix}tasks`)
      const rows: ReadonlyArray<readonly [string, string]> = [
        ["not-json", "{ this is not json"],
        ["wrong-shape", JSON.stringify({ taskId: "wrong-shape", status: "sleeping" })],
        ["array", "[]"]
      ]
      for (const [id, text] of rows) {
        yield* a`INSERT INTO ${table} (task_id, task, expires_at) VALUES (${id}, ${text}, NULL)`
      }
      for (const [id] of rows) expect(yield* store.get(id)).toEqual(Option.none())
      // The store goes on working beside them.
      yield* store.put(working)
      expect(yield* store.get("task-1")).toEqual(Option.some(working))
    }))

  it.scoped("keeps fields of the task this version does not know", () =>
    Effect.gen(function*() {
      const [a, b] = yield* twoNodes
      const tablePrefix = unique()
      const store = yield* on(a, PgTaskStore.make({ tablePrefix }))
      const other = yield* on(b, PgTaskStore.make({ tablePrefix }))
      const newer = { ...working, futureField: { x: 1 } }
      yield* store.put(newer)
      expect(yield* other.get("task-1")).toEqual(Option.some(newer))
    }))

  it.scoped("creates its table idempotently, on several nodes at once", () =>
    Effect.gen(function*() {
      const [a, b] = yield* twoNodes
      const tablePrefix = unique()
      const stores = yield* Effect.all(
        [a, b, a, b].map((node) => on(node, PgTaskStore.make({ tablePrefix }))),
        { concurrency: "unbounded" }
      )
      yield* stores[0]!.put(working)
      expect(yield* stores[3]!.get("task-1")).toEqual(Option.some(working))
    }))
})
