/**
 * Per-session lifespan: each client session gets a database connection of
 * its own, taken from a server-wide pool on the session's first tool call
 * and given back when the session ends (the client disconnects or sends
 * DELETE, or the session expires idle). Handlers `yield*` the connection by
 * type, as they would a server-wide service.
 *
 *   npx tsx examples/session-lifespan.ts        # http://127.0.0.1:3003/mcp
 */
import { Context, Effect, Layer, Ref, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"

/** Server-wide: a stand-in for a connection pool, built once with the server. */
class Pool extends Context.Tag("Pool")<Pool, {
  readonly take: Effect.Effect<number>
  readonly give: (id: number) => Effect.Effect<void>
}>() {}

const PoolLive = Layer.effect(
  Pool,
  Effect.map(Ref.make(0), (opened) => ({
    take: Effect.tap(Ref.updateAndGet(opened, (n) => n + 1), (id) => Effect.logInfo(`connection ${id} taken`)),
    give: (id: number) => Effect.logInfo(`connection ${id} given back`)
  }))
)

/** Per session: one connection, and how many queries ran on it. */
class Connection extends Context.Tag("Connection")<Connection, {
  readonly id: number
  readonly query: (sql: string) => Effect.Effect<string>
}>() {}

const ConnectionLive = Layer.scoped(
  Connection,
  Effect.gen(function*() {
    const pool = yield* Pool
    const id = yield* Effect.acquireRelease(pool.take, (id) => pool.give(id))
    const queries = yield* Ref.make(0)
    return {
      id,
      query: (sql: string) =>
        Effect.map(Ref.updateAndGet(queries, (n) => n + 1), (n) => `connection ${id}, query ${n}: ${sql}`)
    }
  })
)

const Query = McpServer.tool("query", {
  description: "Run a query on this session's connection",
  parameters: { sql: Schema.String }
}, ({ sql }) => Effect.flatMap(Connection, (connection) => connection.query(sql)))

export const SessionServer = Query.pipe(
  // The session layer meets the tool's need for a Connection; each session gets its own.
  Layer.provide(McpServer.layerSession(ConnectionLive)),
  Layer.provideMerge(McpServer.layer({ name: "SessionLifespan", version: "1.0.0" })),
  // The pool is server-wide: the session layer takes its connections from it.
  Layer.provide(PoolLive)
)

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = process.argv.includes("--port") ? Number(process.argv[process.argv.indexOf("--port") + 1]) : 3003
  NodeHttp.run(SessionServer, { port, sessionIdleTimeout: "5 minutes" })
}

/** The server layer, which `npx mcp-effect run examples/session-lifespan.ts` serves. */
export default SessionServer
