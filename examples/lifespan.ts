/**
 * A typed lifespan: a database connection acquired once when the server
 * starts and released when it stops, used by a tool through its type.
 * (Python's lifespan context dict, made a typed Effect service.)
 *
 *   npx tsx examples/lifespan.ts
 */
import { Context, Effect, Layer, Schema } from "effect"
import { McpServer } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

class Database extends Context.Tag("Database")<Database, {
  readonly query: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>>
}>() {}

// A stand-in for a real pool: acquired with the server, released on shutdown.
const DatabaseLive = Layer.scoped(
  Database,
  Effect.acquireRelease(
    Effect.logInfo("database connected").pipe(
      Effect.as({
        query: (sql: string) => Effect.succeed([{ sql, rows: 1 }])
      })
    ),
    () => Effect.logInfo("database disconnected")
  )
)

const Query = McpServer.tool("query_db", {
  description: "Run a query against the database",
  parameters: { sql: Schema.String },
  success: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}, ({ sql }) => Effect.flatMap(Database, (db) => db.query(sql)))

export const LifespanServer = Query.pipe(
  Layer.provide(DatabaseLive),
  Layer.provideMerge(McpServer.layer({ name: "Lifespan", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/lifespan.ts` serves. */
export default LifespanServer

if (isMain(import.meta.url)) NodeStdio.run(LifespanServer)
