/**
 * Sessions that outlive their process: two endpoints ("nodes") share one
 * `SessionStore` and one `EventStore`. A client opens its session on node A
 * and sets its log level; A stops; the balancer in front sends the client to
 * node B, which takes the session up from the store where A left it: same
 * session id, same log level, nothing for the client to do.
 *
 * Here both nodes run in one process over the memory stores; across
 * processes, give every node the same shared stores (Postgres, say).
 *
 *   npx tsx examples/sessions-across-processes.ts
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Exit, Layer, Scope } from "effect"
import { EventStore, McpServer, RequestContext, SessionStore } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

/** What a handler sees of its session: the same on whichever node serves it. */
const Session = McpServer.tool(
  "session",
  { description: "The session as this node sees it" },
  () => Effect.map(RequestContext.current, (ctx) => `session ${ctx.sessionId}, log level ${ctx.logLevel ?? "unset"}`)
)

export const NodeServer = Session.pipe(
  Layer.provideMerge(McpServer.layer({ name: "sessions-across-processes", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/sessions-across-processes.ts` serves (one node). */
export default NodeServer

const main = Effect.gen(function*() {
  // What every node shares. On one node only, they change nothing.
  const sessions = yield* SessionStore.makeMemory({ timeToLive: "1 hour" })
  const events = EventStore.makeMemory()
  const node = NodeHttp.serve(NodeServer, { port: 0 }).pipe(
    Effect.provideService(SessionStore.SessionStore, sessions),
    Effect.provideService(EventStore.EventStore, events)
  )
  const nodeA = yield* Scope.make()
  const a = yield* Scope.extend(node, nodeA)
  const b = yield* node

  // The balancer: the client always speaks to one URL, sent to the node `target` names.
  let target = a.port
  const http = HttpClient.mapRequest(
    yield* HttpClient.HttpClient,
    (request) => HttpClientRequest.setUrl(request, request.url.replace(`:${a.port}/`, `:${target}/`))
  )
  const client = yield* NodeHttp.connect(a.url, { protocolVersion: "2025-11-25" }).pipe(
    Effect.provideService(HttpClient.HttpClient, http)
  )
  yield* client.setLevel("warning")
  const onA = yield* client.callTool("session")
  yield* Effect.logInfo(`on node A: ${JSON.stringify(onA.content)}`)

  // Node A goes away; its sessions stay in the store. The balancer now sends everything to B.
  target = b.port
  yield* Scope.close(nodeA, Exit.void)
  const onB = yield* client.callTool("session")
  yield* Effect.logInfo(`on node B: ${JSON.stringify(onB.content)}`)
}).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer))

if (isMain(import.meta.url)) NodeRuntime.runMain(main)
