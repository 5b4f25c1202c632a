import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Schema, Scope } from "effect"
import { McpServer, McpTest, RequestContext, TaskRunner, TaskStore } from "mcp-effect"
import { modernMessage, taskClient } from "./modernHelpers.js"

const Confirm = Schema.Struct({ confirm: Schema.Boolean })

const Delete = McpServer.tool("delete_file", {
  parameters: { filename: Schema.String },
  task: "optional"
}, ({ filename }) =>
  Effect.gen(function*() {
    const answer = yield* RequestContext.elicit(`Delete ${filename}?`, Confirm)
    return answer.action === "accept" && answer.content.confirm ? `deleted ${filename}` : "kept"
  }))

const Forever = McpServer.tool("forever", { task: "required" }, () => Effect.never)
const Broken = McpServer.tool("broken", { task: "optional" }, () => Effect.fail(new Error("disk on fire")))

const Name = Schema.Struct({ name: Schema.String })
const Welcome = McpServer.tool("welcome", {
  parameters: { quick: Schema.optional(Schema.Boolean) },
  task: "required",
  taskStart: "explicit"
}, ({ quick }) =>
  Effect.gen(function*() {
    if (quick) return "no time to ask"
    const answer = yield* RequestContext.elicit("Your name?", Name)
    yield* RequestContext.continueAsTask
    const name = answer.action === "accept" ? answer.content.name : "stranger"
    return `Welcome, ${name}!`
  }))

const Server = Layer.mergeAll(Delete, Forever, Broken, Welcome).pipe(
  Layer.provideMerge(McpServer.layer({ name: "tasks", version: "1.0.0" }))
)

const setup = Effect.map(McpTest.raw(Server), (conn) => taskClient(conn))

describe("tasks (2026-07-28)", () => {
  it.scoped("a call returns a task at once; the task asks, is answered with tasks/update, and completes", () =>
    Effect.gen(function*() {
      const { exchange, until } = yield* setup
      const created = (yield* exchange("tools/call", { name: "delete_file", arguments: { filename: "a.txt" } })).result
      expect(created).toMatchObject({ resultType: "task", status: "working", ttlMs: 3_600_000, pollIntervalMs: 1000 })
      expect(created).not.toHaveProperty("result")
      const waiting = (yield* until(created.taskId, "input_required")).result
      expect(waiting.inputRequests["elicitation-1"]).toMatchObject({
        method: "elicitation/create",
        params: { message: "Delete a.txt?" }
      })
      const ack = (yield* exchange("tasks/update", {
        taskId: created.taskId,
        inputResponses: { "elicitation-1": { action: "accept", content: { confirm: true } } }
      })).result
      expect(ack).toMatchObject({ resultType: "complete" })
      expect(ack).not.toHaveProperty("status")
      const done = (yield* until(created.taskId, "completed")).result
      expect(done).toMatchObject({
        resultType: "complete",
        result: { content: [{ type: "text", text: "deleted a.txt" }] }
      })
      expect(done).not.toHaveProperty("inputRequests")
    }))

  it.scoped("a tool error completes the task with isError; cancel ends a running task", () =>
    Effect.gen(function*() {
      const { exchange, until } = yield* setup
      const broken = (yield* exchange("tools/call", { name: "broken" })).result
      expect((yield* until(broken.taskId, "completed")).result.result.isError).toBe(true)
      const forever = (yield* exchange("tools/call", { name: "forever" })).result
      expect((yield* exchange("tasks/cancel", { taskId: forever.taskId })).result.resultType).toBe("complete")
      yield* until(forever.taskId, "cancelled")
      // Cancelling an ended task is acknowledged all the same.
      expect((yield* exchange("tasks/cancel", { taskId: forever.taskId })).result.resultType).toBe("complete")
    }))

  it.scoped("needs the extension: -32021 without it, -32602 for an unknown task, at once for an optional tool", () =>
    Effect.gen(function*() {
      const { exchange } = yield* setup
      const gate = yield* exchange("tasks/get", { taskId: "gate-test" }, {})
      expect(gate.error).toMatchObject({
        code: -32021,
        data: { requiredCapabilities: { extensions: { "io.modelcontextprotocol/tasks": {} } } }
      })
      expect((yield* exchange("tasks/get", { taskId: "nope" })).error.code).toBe(-32602)
      expect((yield* exchange("tools/call", { name: "forever" }, {})).error.code).toBe(-32021)
      const sync = (yield* exchange("tools/call", { name: "broken" }, {})).result
      expect(sync).toMatchObject({ resultType: "complete", isError: true })
      expect((yield* exchange("tasks/result", { taskId: "x" })).error.code).toBe(-32601)
      const discover = (yield* exchange("server/discover", {})).result
      expect(discover.capabilities.extensions).toEqual({ "io.modelcontextprotocol/tasks": {} })
    }))

  it.scoped("a handshake-era client calls the same tools at once, and is not told about tasks", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(Server, {
        elicitation: () => Effect.succeed({ action: "accept" as const, content: { confirm: true } })
      })
      expect((yield* client.listTools).find((t) => t.name === "delete_file")).not.toHaveProperty("execution")
      const result = yield* client.callTool("delete_file", { filename: "b.txt" })
      expect(result.content).toEqual([{ type: "text", text: "deleted b.txt" }])
    }))

  it.scoped("a task that starts explicitly asks in rounds first, then hands the call over to its task", () =>
    Effect.gen(function*() {
      const { exchange, until } = yield* setup
      const round = (yield* exchange("tools/call", { name: "welcome" })).result
      expect(round).toMatchObject({ resultType: "input_required" })
      expect(round).not.toHaveProperty("taskId")
      const task = (yield* exchange("tools/call", {
        name: "welcome",
        inputResponses: { "elicitation-1": { action: "accept", content: { name: "Alice" } } },
        requestState: round.requestState
      })).result
      expect(task).toMatchObject({ resultType: "task", status: "working" })
      expect(task).not.toHaveProperty("requestState")
      const done = (yield* until(task.taskId, "completed")).result
      expect(done.result.content).toEqual([{ type: "text", text: "Welcome, Alice!" }])
      // A handler that ends before its task starts answers at once.
      const quick = (yield* exchange("tools/call", { name: "welcome", arguments: { quick: true } })).result
      expect(quick).toMatchObject({ resultType: "complete", content: [{ type: "text", text: "no time to ask" }] })
    }))

  it.scoped("sends a task's status changes to a listen that asked for its id, with the extension", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(Server)
      const { exchange, until } = taskClient(conn)
      const task = (yield* exchange("tools/call", { name: "delete_file", arguments: { filename: "c.txt" } })).result
      yield* until(task.taskId, "input_required")
      const refused = yield* Effect.zipRight(
        conn.send(modernMessage(50, "subscriptions/listen", { notifications: { taskIds: [task.taskId] } }, {})),
        conn.receive
      )
      expect((refused as any).error.code).toBe(-32021)
      yield* conn.send(modernMessage(51, "subscriptions/listen", { notifications: { taskIds: [task.taskId] } }))
      expect(yield* conn.receive).toMatchObject({
        method: "notifications/subscriptions/acknowledged",
        params: { notifications: { taskIds: [task.taskId] } }
      })
      yield* conn.send(modernMessage(52, "tasks/update", {
        taskId: task.taskId,
        inputResponses: { "elicitation-1": { action: "accept", content: { confirm: false } } }
      }))
      const seen: Array<any> = []
      while (!seen.some((m) => m.method === "notifications/tasks" && m.params.status === "completed")) {
        seen.push(yield* conn.receive)
      }
      const statuses = seen.filter((m) => m.method === "notifications/tasks").map((m) => m.params.status)
      expect(statuses).toEqual(["working", "completed"])
      expect(seen.find((m) => m.params?.status === "completed").params).toMatchObject({
        taskId: task.taskId,
        result: { content: [{ type: "text", text: "kept" }] },
        _meta: { "io.modelcontextprotocol/subscriptionId": 51 }
      })
    }))
})

describe("a TaskRunner", () => {
  const Job = McpServer.tool("job", { task: "required" }, () => Effect.succeed("done"))

  it.scoped("takes the server's tasks: it runs them (here, at once) with the request as it stored it", () =>
    Effect.gen(function*() {
      const stored: Array<TaskRunner.TaskRequest> = []
      const Inline = Layer.succeed(TaskRunner.TaskRunner, {
        register: (server) =>
          Effect.succeedSome({
            start: (taskId, request) => {
              stored.push(request)
              const journal = {
                answer: () => Effect.succeedNone,
                step: <A, E, R>(_: string, e: Effect.Effect<A, E, R>) => e,
                moved: false
              }
              return Effect.asVoid(Effect.forkDaemon(server.run(taskId, request, journal)))
            },
            answer: () => Effect.void,
            cancel: () => Effect.void
          })
      })
      const server = Job.pipe(
        Layer.provideMerge(McpServer.layer({ name: "tasks", version: "1.0.0" })),
        Layer.provide(Inline)
      )
      const { exchange, until } = taskClient(yield* McpTest.raw(server))
      const created = (yield* exchange("tools/call", { name: "job" })).result
      const done = (yield* until(created.taskId, "completed")).result
      expect(done.result.content).toEqual([{ type: "text", text: "done" }])
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({ method: "tools/call", params: { name: "job" } })
    }))

  it.scoped("a runner that fails to take a task leaves it failed, not working", () =>
    Effect.gen(function*() {
      const memory = yield* TaskStore.makeMemory
      const puts: Array<TaskStore.Task> = []
      const store: TaskStore.Service = { put: (task) => (puts.push(task), memory.put(task)), get: memory.get }
      const Broken = Layer.succeed(TaskRunner.TaskRunner, {
        register: () =>
          Effect.succeedSome({
            start: () => Effect.dieMessage("no cluster"),
            answer: () => Effect.void,
            cancel: () => Effect.void
          })
      })
      const server = Job.pipe(
        Layer.provideMerge(McpServer.layer({ name: "tasks", version: "1.0.0" })),
        Layer.provide(Layer.merge(Broken, Layer.succeed(TaskStore.TaskStore, store)))
      )
      const { exchange } = taskClient(yield* McpTest.raw(server))
      const refused = yield* exchange("tools/call", { name: "job" })
      expect(refused.error.code).toBe(-32603)
      expect(refused.error.message).not.toContain("no cluster")
      const stored = Option.getOrThrow(yield* store.get(puts[0]!.taskId))
      expect(stored).toMatchObject({
        status: "failed",
        error: { code: -32603, message: "The task could not be started" }
      })
    }))
})

describe("task settings and shutdown", () => {
  it.scoped("a server's task settings give each task its time to live and poll interval", () =>
    Effect.gen(function*() {
      const configured = Forever.pipe(
        Layer.provideMerge(
          McpServer.layer({ name: "tasks", version: "1.0.0", tasks: { ttlMs: 5_000, pollIntervalMs: 250 } })
        )
      )
      const { exchange } = taskClient(yield* McpTest.raw(configured))
      const created = (yield* exchange("tools/call", { name: "forever" })).result
      expect(created).toMatchObject({ resultType: "task", ttlMs: 5_000, pollIntervalMs: 250 })
    }))

  it.effect("the memory store keeps a task that ended as it ended", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore.makeMemory
      const task: TaskStore.Task = {
        taskId: "t",
        status: "cancelled",
        createdAt: new Date(0).toISOString(),
        lastUpdatedAt: new Date(0).toISOString(),
        ttlMs: null
      }
      yield* store.put(task)
      yield* store.put({ ...task, status: "completed", result: { content: [] } })
      expect(Option.getOrThrow(yield* store.get("t")).status).toBe("cancelled")
    }))

  it.scoped("releasing the server interrupts its running tasks and stores them as failed, saying why", () =>
    Effect.gen(function*() {
      const store = yield* TaskStore.makeMemory
      let released = false
      const Guarded = McpServer.tool(
        "guarded",
        { task: "required" },
        () => Effect.ensuring(Effect.never, Effect.sync(() => void (released = true)))
      )
      const server = Guarded.pipe(
        Layer.provideMerge(McpServer.layer({ name: "tasks", version: "1.0.0" })),
        Layer.provide(Layer.succeed(TaskStore.TaskStore, store))
      )
      const scope = yield* Scope.make()
      const { exchange, until } = taskClient(yield* McpTest.raw(server).pipe(Scope.extend(scope)))
      const created = (yield* exchange("tools/call", { name: "guarded" })).result
      yield* until(created.taskId, "working")
      yield* Scope.close(scope, Exit.void)
      expect(released).toBe(true)
      const stored = Option.getOrThrow(yield* store.get(created.taskId))
      expect(stored).toMatchObject({
        status: "failed",
        error: { code: -32603, message: "The server shut down before the task ended" }
      })
    }))
})

describe("McpClient.callToolAsTask", () => {
  const Quick = Layer.mergeAll(Delete, Forever, Welcome).pipe(
    Layer.provideMerge(McpServer.layer({ name: "tasks", version: "1.0.0", tasks: { pollIntervalMs: 20 } }))
  )
  const client = (protocolVersion: string) =>
    McpTest.makeClient(Quick, {
      protocolVersion,
      elicitation: (params) =>
        Effect.succeed({
          action: "accept",
          content: params.message.startsWith("Delete") ? { confirm: true } : { name: "Ada" }
        })
    })

  it.scopedLive("follows a task to its result, answering its question with the client's handler", () =>
    Effect.gen(function*() {
      const c = yield* client("2026-07-28")
      const task = yield* c.callToolAsTask("delete_file", { filename: "a.txt" })
      expect(task.taskId).toBeTypeOf("string")
      expect(yield* task.await).toMatchObject({ content: [{ type: "text", text: "deleted a.txt" }] })
      expect((yield* task.get).status).toBe("completed")
      // A call that starts its task explicitly, after a round.
      const welcome = yield* c.callToolAsTask("welcome", {})
      expect(yield* welcome.await).toMatchObject({ content: [{ type: "text", text: "Welcome, Ada!" }] })
      // One that ends before its task would start is answered at once.
      const quick = yield* c.callToolAsTask("welcome", { quick: true })
      expect(quick.taskId).toBeUndefined()
      expect(yield* quick.await).toMatchObject({ content: [{ type: "text", text: "no time to ask" }] })
    }))

  it.scopedLive("cancels a task", () =>
    Effect.gen(function*() {
      const c = yield* client("2026-07-28")
      const task = yield* c.callToolAsTask("forever")
      yield* task.cancel
      const error = yield* Effect.flip(task.await)
      expect(error.message).toContain("was cancelled")
    }))

  it.scoped("is refused by a handshake-era server, which has no tasks", () =>
    Effect.gen(function*() {
      const c = yield* client("2025-11-25")
      const error = yield* Effect.flip(c.callToolAsTask("forever"))
      expect(error.message).toContain("Tasks need protocol 2026-07-28")
    }))
})
