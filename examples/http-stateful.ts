/**
 * A stateful Streamable HTTP server: sessions, a tool that streams
 * notifications while it works, and resumability. A client that loses the
 * stream reconnects with `Last-Event-ID` and gets what it missed from the
 * event store. `whoami` shows what a handler sees of the HTTP request.
 *
 *   npx tsx examples/http-stateful.ts          # http://127.0.0.1:3000/mcp
 *   npx @modelcontextprotocol/inspector        # then connect to that URL
 */
import { Effect, Layer, Schema } from "effect"
import { EventStore, McpServer, RequestContext } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

const StartNotificationStream = McpServer.tool("start-notification-stream", {
  description: "Sends a log notification every interval, then answers",
  parameters: {
    interval: Schema.Number.annotations({ description: "Milliseconds between notifications" }),
    count: Schema.Int.annotations({ description: "How many notifications to send" })
  }
}, ({ count, interval }) =>
  Effect.gen(function*() {
    for (let i = 1; i <= count; i++) {
      yield* RequestContext.log("info", `Notification ${i} of ${count}`, "notification-stream")
      yield* RequestContext.progress(i, count)
      yield* Effect.sleep(interval)
    }
    return `Sent ${count} notifications`
  }))

/** What the handler sees of the HTTP request: the transport's extras, and the session. */
const WhoAmI = McpServer.tool(
  "whoami",
  { description: "Says who is calling, as the server sees it" },
  () =>
    Effect.map(RequestContext.current, (ctx) => {
      const agent = ctx.extras?.header?.("user-agent") ?? "an unnamed client"
      return `${agent} from ${ctx.extras?.remoteAddress ?? "somewhere"}, session ${ctx.sessionId ?? "none"}`
    })
)

export const StatefulServer = Layer.merge(StartNotificationStream, WhoAmI).pipe(
  Layer.provideMerge(McpServer.layer({ name: "stateful-example", version: "1.0.0" })),
  // Keep up to 500 events per stream for resumption (in memory; swap in your own EventStore to share it).
  Layer.provideMerge(EventStore.layerMemory({ maxEventsPerStream: 500 }))
)

/** The server layer, which `npx mcp-effect run examples/http-stateful.ts` serves. */
export default StatefulServer

if (isMain(import.meta.url)) {
  const port = process.argv.includes("--port") ? Number(process.argv[process.argv.indexOf("--port") + 1]) : 3000
  NodeHttp.run(StatefulServer, { port, sessionIdleTimeout: "30 minutes", maxSessions: 1000 })
}
