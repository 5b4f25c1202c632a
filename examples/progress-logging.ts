/**
 * Progress and logging: a long task reports progress and logs with plain
 * `Effect.log`, which reaches the client as `notifications/message`.
 *
 *   npx tsx examples/progress-logging.ts
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer, RequestContext } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const LongTask = McpServer.tool("long_task", {
  description: "Process some files, reporting progress",
  parameters: { files: Schema.Array(Schema.String) }
}, ({ files }) =>
  Effect.gen(function*() {
    yield* Effect.logInfo(`Processing ${files.length} files`)
    for (const [i, file] of files.entries()) {
      yield* Effect.logDebug("processing").pipe(Effect.annotateLogs("file", file))
      yield* Effect.sleep("200 millis")
      yield* RequestContext.progress(i + 1, files.length, `Processed ${file}`)
    }
    yield* RequestContext.log("notice", { processed: files.length }, "long_task")
    return `Processed ${files.length} files`
  }).pipe(Effect.withLogSpan("long_task")))

export const ProgressServer = LongTask.pipe(
  Layer.provideMerge(McpServer.layer({ name: "Progress", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/progress-logging.ts` serves. */
export default ProgressServer

if (isMain(import.meta.url)) NodeStdio.run(ProgressServer)
