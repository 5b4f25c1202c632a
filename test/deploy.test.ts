import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { McpTest } from "mcp-effect"
import { DeployServer } from "../examples/deploy.js"

const message = (id: number, method: string, params: object, capabilities: object) => ({
  jsonrpc: "2.0",
  id,
  method,
  params: {
    ...params,
    _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientCapabilities": capabilities
    }
  }
})
const TASKS = { extensions: { "io.modelcontextprotocol/tasks": {} }, elicitation: {} }
const ARGS = { name: "deploy", arguments: { service: "api", environment: "staging" } }

describe("examples/deploy.ts: one definition, both eras", () => {
  it.scoped("a handshake-era client confirms through a live elicitation and waits for the result", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(DeployServer, {
        elicitation: () => Effect.succeed({ action: "accept" as const, content: { confirm: true } })
      })
      const call = yield* Effect.fork(client.callTool("deploy", ARGS.arguments))
      // The clock moves on until the call is done, wherever the handler is when it starts to sleep.
      yield* TestClock.adjust("500 millis").pipe(
        Effect.zipRight(Fiber.poll(call)),
        Effect.repeat({ until: Option.isSome, times: 100 })
      )
      const result = yield* Fiber.join(call)
      expect(result.content).toEqual([{ type: "text", text: "Deployed api build #1 to staging" }])
    }))

  it.scoped("a 2026-07-28 client gets a task, answers its question with tasks/update, and reads the result", () =>
    Effect.gen(function*() {
      const conn = yield* McpTest.raw(DeployServer)
      let id = 1
      const exchange = (method: string, params: object, capabilities: object = TASKS) =>
        Effect.zipRight(conn.send(message(id++, method, params, capabilities)), conn.receive) as Effect.Effect<any>
      // Polls tasks/get until the task has `status`, moving the clock on between polls (the rollout sleeps).
      const until = (taskId: string, status: string) =>
        exchange("tasks/get", { taskId }).pipe(
          Effect.tap(() => TestClock.adjust("100 millis")),
          Effect.repeat({ until: (response) => response.result?.status === status, times: 200 })
        )
      expect((yield* exchange("tools/call", ARGS, { elicitation: {} })).error.code).toBe(-32021)
      const task = (yield* exchange("tools/call", ARGS)).result
      expect(task.resultType).toBe("task")
      const waiting = (yield* until(task.taskId, "input_required")).result
      expect(waiting.inputRequests.confirm.params.message).toBe("Deploy api build #1 to staging?")
      yield* exchange("tasks/update", {
        taskId: task.taskId,
        inputResponses: { confirm: { action: "accept", content: { confirm: true } } }
      })
      const done = (yield* until(task.taskId, "completed")).result
      expect(done.result.content).toEqual([{ type: "text", text: "Deployed api build #1 to staging" }])
    }))
})
