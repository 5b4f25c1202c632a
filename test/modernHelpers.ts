/** Raw 2026-07-28 requests over the in-memory transport, for the tests of tasks. */
import { Effect } from "effect"
import type { McpTest } from "mcp-effect"

/** A capability set that declares the tasks extension and elicitation. */
export const TASKS = { extensions: { "io.modelcontextprotocol/tasks": {} }, elicitation: {} }

/** A 2026-07-28 request: its `_meta` names the revision and the client's capabilities. */
export const modernMessage = (id: number, method: string, params: object, capabilities: object = TASKS) => ({
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

/**
 * Requests and answers one at a time on a raw connection, and polls a task
 * until it has a status (the task runs in a fiber of its own), running
 * `between` between polls.
 */
export const taskClient = (conn: McpTest.RawConnection, between: Effect.Effect<void> = Effect.yieldNow()) => {
  let id = 1
  const exchange = (method: string, params: object, capabilities?: object) =>
    Effect.zipRight(conn.send(modernMessage(id++, method, params, capabilities)), conn.receive) as Effect.Effect<any>
  const until = (taskId: string, status: string) =>
    exchange("tasks/get", { taskId }).pipe(
      Effect.tap(() => between),
      Effect.repeat({ until: (response) => response.result?.status === status, times: 200 })
    )
  return { exchange, until }
}
