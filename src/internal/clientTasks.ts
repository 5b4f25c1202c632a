/**
 * The client's side of 2026-07-28 tasks: a tool call that declares the tasks
 * extension for itself, and the task it may become, followed with
 * `tasks/get` at the server's poll interval, its questions answered with
 * `tasks/update` by the client's own handlers.
 */
import { Duration, Effect, Schema } from "effect"
import type { TaskHandle } from "../McpClient.js"
import type { RequestError } from "../McpError.js"
import { ErrorCode, McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type { ModernClient } from "./clientModern.js"
import { decodeOrInvalid, isRecord } from "./guards.js"

export const EXTENSION = "io.modelcontextprotocol/tasks"
const DECLARED = { [EXTENSION]: {} }
const DEFAULT_POLL = Duration.seconds(1)

/** What the client reads of a task. */
export const TaskState = Schema.Struct({
  taskId: Schema.String,
  status: Schema.Literal("working", "input_required", "completed", "failed", "cancelled"),
  statusMessage: Schema.optional(Schema.String),
  pollIntervalMs: Schema.optional(Schema.Number),
  inputRequests: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  result: Schema.optional(McpSchema.CallToolResult),
  error: Schema.optional(
    Schema.Struct({ code: Schema.Number, message: Schema.String, data: Schema.optional(Schema.Unknown) })
  )
})

const decodeState = decodeOrInvalid(TaskState, "task")

/** Starts `tools/call` as a task, for a tool that supports one; a call the server answered at once is already done. */
export const start = (
  modern: ModernClient,
  params: Record<string, unknown>
): Effect.Effect<TaskHandle, RequestError> =>
  Effect.map(modern.request("tools/call", params, undefined, DECLARED), (answer): TaskHandle => {
    if (!isRecord(answer) || answer.resultType !== "task" || typeof answer.taskId !== "string") {
      const done = Effect.flatMap(
        Effect.succeed(answer),
        decodeOrInvalid(McpSchema.CallToolResult, "tools/call result")
      )
      return {
        taskId: undefined,
        get: Effect.die("no task: the call was answered at once"),
        await: done,
        cancel: Effect.void
      }
    }
    return handle(modern, answer.taskId)
  })

const handle = (modern: ModernClient, taskId: string): TaskHandle => {
  const get = Effect.flatMap(modern.request("tasks/get", { taskId }, undefined, DECLARED), decodeState)
  const follow: Effect.Effect<McpSchema.CallToolResult, RequestError> = Effect.flatMap(get, (task) => {
    switch (task.status) {
      case "completed":
        return task.result === undefined ? Effect.succeed({ content: [] }) : Effect.succeed(task.result)
      case "failed":
        return Effect.fail(new McpError(task.error ?? { code: ErrorCode.InternalError, message: "The task failed" }))
      case "cancelled":
        return Effect.fail(new McpError({ code: ErrorCode.InternalError, message: `Task ${taskId} was cancelled` }))
      case "input_required":
        return modern.answerInputs(task.inputRequests ?? {}).pipe(
          Effect.flatMap((inputResponses) =>
            modern.request("tasks/update", { taskId, inputResponses }, undefined, DECLARED)
          ),
          Effect.zipRight(Effect.suspend(() => follow))
        )
      default:
        return Effect.zipRight(
          Effect.sleep(task.pollIntervalMs === undefined ? DEFAULT_POLL : Duration.millis(task.pollIntervalMs)),
          Effect.suspend(() => follow)
        )
    }
  })
  return {
    taskId,
    get,
    await: follow,
    cancel: Effect.asVoid(modern.request("tasks/cancel", { taskId }, undefined, DECLARED))
  }
}
