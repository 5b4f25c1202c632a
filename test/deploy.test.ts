import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import { McpTest } from "mcp-effect"
import { DeployServer } from "../examples/deploy.js"
import { taskClient } from "./modernHelpers.js"

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
      // The clock moves on between polls: the rollout sleeps.
      const { exchange, until } = taskClient(yield* McpTest.raw(DeployServer), TestClock.adjust("100 millis"))
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
