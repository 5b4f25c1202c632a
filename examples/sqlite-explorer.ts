/**
 * SQLite Explorer: a real SQLite database through `@effect/sql`, its schema as
 * the resource `schema://main` and read-only SQL as the tool `query_data`.
 * The database is a lifespan layer: opened when the server starts, closed when
 * it stops.
 *
 *   npx tsx examples/sqlite-explorer.ts                        # a seeded demo database
 *   SQLITE_DB=path/to/file.db npx tsx examples/sqlite-explorer.ts
 *
 * Without `SQLITE_DB`, a small demo database (customers, products, orders) is
 * created in a fresh temporary directory, which is removed when the server
 * stops. Either way the database is opened read-only, and `query_data` runs
 * one statement starting with SELECT, WITH, VALUES, EXPLAIN or PRAGMA: SQLite
 * itself refuses writes on a read-only connection, and the keyword check also
 * keeps out what a read-only connection still allows (ATTACH, VACUUM INTO,
 * transactions). Queries run synchronously (better-sqlite3), so a query that
 * never ends holds up the server.
 */
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { SqlError } from "@effect/sql/SqlError"
import { Cause, Config, Context, Data, Effect, Layer, Schema } from "effect"
import { Content, McpServer } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isMain } from "./internal/isMain.js"

class DatabaseError extends Data.TaggedError("DatabaseError")<{ readonly message: string }> {}

/** A failed query, sent back to the model as the tool's error result. */
class QueryError extends Data.TaggedError("QueryError")<{ readonly message: string }> {}

/** SQLite's own message ("no such table: x"), rather than the client's "Failed to execute statement". */
const reason = (error: unknown): string => {
  const cause = error instanceof SqlError ? error.cause : error
  return cause instanceof Error ? cause.message : String(cause)
}

// ---------------------------------------------------------------------------
// The database, as a lifespan layer
// ---------------------------------------------------------------------------

const seed = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL)`
  yield* sql`CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL,
    ordered_at TEXT NOT NULL
  )`
  yield* sql`CREATE INDEX orders_by_customer ON orders (customer_id)`
  yield* sql`INSERT INTO customers ${
    sql.insert([
      { id: 1, name: "Ada Lovelace", email: "ada@example.com", country: "UK" },
      { id: 2, name: "Grace Hopper", email: "grace@example.com", country: "US" },
      { id: 3, name: "Linus Torvalds", email: "linus@example.com", country: "FI" }
    ])
  }`
  yield* sql`INSERT INTO products ${
    sql.insert([
      { id: 1, name: "Keyboard", price: 49.5 },
      { id: 2, name: "Mouse", price: 19.25 },
      { id: 3, name: "Monitor", price: 189 }
    ])
  }`
  yield* sql`INSERT INTO orders ${
    sql.insert([
      { id: 1, customer_id: 1, product_id: 1, quantity: 1, ordered_at: "2026-01-05" },
      { id: 2, customer_id: 1, product_id: 2, quantity: 2, ordered_at: "2026-01-05" },
      { id: 3, customer_id: 2, product_id: 3, quantity: 1, ordered_at: "2026-02-11" },
      { id: 4, customer_id: 3, product_id: 1, quantity: 3, ordered_at: "2026-03-20" }
    ])
  }`
})

/** The demo database: seeded over a writable connection closed right after, in a directory removed on release. */
const demoDatabase = Effect.gen(function*() {
  const directory = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "mcp-effect-sqlite-explorer-"))),
    (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
  )
  const filename = join(directory, "demo.db")
  yield* SqlClient.SqlClient.pipe(
    Effect.flatMap((sql) => sql.withTransaction(seed)),
    // In rollback-journal mode, the file is whole once this connection closes: no -wal or -shm files beside it.
    Effect.provide(SqliteClient.layer({ filename, disableWAL: true })),
    Effect.orDie
  )
  return filename
})

/** The database file, opened read-only; a file that cannot be opened, or is no database, fails the server's start. */
const openReadOnly = (filename: string) =>
  // disableWAL: the client would otherwise switch the file to WAL mode, a write a read-only connection refuses.
  SqliteClient.layer({ filename, readonly: true, disableWAL: true }).pipe(
    Layer.tap((context) => Context.get(context, SqliteClient.SqliteClient)`SELECT count(*) FROM sqlite_master`),
    Layer.tap(() => Effect.logInfo(`SQLite explorer: ${filename}, read-only`)),
    // better-sqlite3 throws when it cannot open the file: a defect, made the layer's failure here.
    Layer.catchAllCause((cause) =>
      Layer.fail(
        new DatabaseError({ message: `Cannot open the SQLite database ${filename}: ${reason(Cause.squash(cause))}` })
      )
    )
  )

/**
 * `SQLITE_DB`'s file, or the demo database. Acquired when the server starts
 * and released when it stops: the connection is closed, then the demo's
 * directory removed.
 */
const Database = Layer.unwrapScoped(
  Effect.gen(function*() {
    const configured = yield* Config.withDefault(Config.string("SQLITE_DB"), "")
    const filename = configured !== "" ? configured : yield* demoDatabase
    return openReadOnly(filename)
  })
)

// ---------------------------------------------------------------------------
// The schema resource and the query tool
// ---------------------------------------------------------------------------

const DatabaseSchema = McpServer.resource("schema://main", {
  name: "schema",
  title: "Database schema",
  description: "The CREATE statements of the database's tables, indexes, views and triggers",
  mimeType: "application/sql"
}, () =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ readonly sql: string }>`
      SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid`
    return rows.length === 0 ? "-- The database has no tables." : rows.map((row) => `${row.sql};`).join("\n\n")
  }))

const READ_STATEMENTS = ["SELECT", "WITH", "VALUES", "EXPLAIN", "PRAGMA"]
const MAX_ROWS = 100

/** The statement's first keyword, after whitespace and comments. */
const firstKeyword = (query: string): string =>
  /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/.exec(query)?.[1]?.toUpperCase() ?? ""

/** A value as JSON: a BLOB as a hex literal, a big integer as its digits. */
const toJson = (value: unknown): unknown =>
  value instanceof Uint8Array
    ? `X'${Buffer.from(value).toString("hex").toUpperCase()}'`
    : typeof value === "bigint"
    ? value.toString()
    : value

const cell = (value: unknown): string =>
  value === null ? "NULL" : typeof value === "string" ? value.replace(/\r?\n/g, "\\n") : String(value)

/** The rows as an aligned text table, the way the sqlite3 shell prints them in `.mode table`. */
const table = (columns: ReadonlyArray<string>, rows: ReadonlyArray<Record<string, unknown>>): string => {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])))
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]!.length)))
  const line = (values: ReadonlyArray<string>) =>
    values.map((value, i) => (i < values.length - 1 ? value.padEnd(widths[i]!) : value)).join(" | ")
  return [line(columns), widths.map((width) => "-".repeat(width)).join("-+-"), ...cells.map(line)].join("\n")
}

const toResult = (rows: ReadonlyArray<Record<string, unknown>>): McpSchema.CallToolResult => {
  const shown = rows.slice(0, MAX_ROWS).map((row) =>
    Object.fromEntries(Object.entries(row).map(([column, value]) => [column, toJson(value)]))
  )
  const columns = shown.length > 0 ? Object.keys(shown[0]!) : []
  const truncated = rows.length > shown.length
  const count = rows.length === 1 ? "1 row" : `${rows.length} rows`
  const summary = truncated ? `(${count}, the first ${shown.length} shown)` : `(${count})`
  return {
    content: [Content.text(shown.length > 0 ? `${table(columns, shown)}\n${summary}` : summary)],
    structuredContent: { columns, rows: shown, rowCount: rows.length, truncated }
  }
}

const QueryData = McpServer.tool("query_data", {
  title: "Query data",
  description: `Run one read-only SQL statement (${
    READ_STATEMENTS.join(", ")
  }) against the SQLite database and return its rows, at most ${MAX_ROWS}. Read schema://main for the tables.`,
  parameters: { sql: Schema.String.annotations({ description: "One SQLite statement, e.g. SELECT * FROM customers" }) },
  annotations: { readOnlyHint: true, openWorldHint: false }
}, ({ sql: query }) =>
  Effect.gen(function*() {
    const keyword = firstKeyword(query)
    if (!READ_STATEMENTS.includes(keyword)) {
      return yield* new QueryError({
        message: `Only read-only statements are allowed (${READ_STATEMENTS.join(", ")}), got ${
          keyword === "" ? "no statement" : keyword
        }`
      })
    }
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<Record<string, unknown>>(query).pipe(
      Effect.mapError((error) => new QueryError({ message: `SQLite error: ${reason(error)}` }))
    )
    return toResult(rows)
  }))

export const SqliteExplorerServer = Layer.mergeAll(DatabaseSchema, QueryData).pipe(
  Layer.provide(Database),
  Layer.provideMerge(McpServer.layer({
    name: "SQLite Explorer",
    version: "1.0.0",
    instructions: "Read schema://main for the database's tables, then query them with query_data (read-only SQL)."
  }))
)

export default SqliteExplorerServer

if (isMain(import.meta.url)) NodeStdio.run(SqliteExplorerServer)
