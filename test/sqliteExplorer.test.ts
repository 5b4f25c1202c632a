import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, expect, it, vi } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Scope } from "effect"
import { McpTest } from "mcp-effect"
import type { McpSchema } from "mcp-effect"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import SqliteExplorerDefault, { SqliteExplorerServer } from "../examples/sqlite-explorer.js"

/** What these tests look at of a better-sqlite3 connection (the package ships no types of its own). */
interface Connection {
  readonly name: string
  readonly open: boolean
  readonly readonly: boolean
}

/** better-sqlite3's Database class: the one `@effect/sql-sqlite-node` opens its connections with. */
const Database = createRequire(import.meta.url)("better-sqlite3") as {
  readonly prototype: { prepare(this: Connection, source: string): unknown }
}

/** Runs with exactly these environment variables, whatever the process's are. */
const withEnv = (env: Record<string, string>) => Effect.withConfigProvider(ConfigProvider.fromJson(env))

const text = (result: McpSchema.CallToolResult) => (result.content[0] as McpSchema.TextContent).text

/** The read-only connections opened while `effect` runs, found by watching better-sqlite3's `prepare`. */
const watchConnections = <A, E, R>(effect: (connections: () => Array<Connection>) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => vi.spyOn(Database.prototype, "prepare")),
    (prepare) => effect(() => [...new Set(prepare.mock.contexts)].filter((connection) => connection.readonly)),
    (prepare) => Effect.sync(() => prepare.mockRestore())
  )

describe("examples/sqlite-explorer.ts", () => {
  it("exports its server layer by name and as the default export", () => {
    expect(SqliteExplorerDefault).toBe(SqliteExplorerServer)
  })

  it.scoped("serves the demo database's schema as schema://main", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(SqliteExplorerServer)
      expect((yield* client.listResources).map((r) => r.uri)).toEqual(["schema://main"])
      const contents = (yield* client.readResource("schema://main")).contents
      expect(contents).toHaveLength(1)
      const schema = contents[0] as McpSchema.TextResourceContents
      expect(schema.mimeType).toBe("application/sql")
      expect(schema.text).toMatch(/^CREATE TABLE customers \(/)
      expect(schema.text).toContain("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL")
      expect(schema.text).toContain("CREATE INDEX orders_by_customer ON orders (customer_id);")
    }).pipe(withEnv({})))

  it.scoped("query_data returns the rows as structured content and as a text table", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(SqliteExplorerServer)
      const result = yield* client.callTool("query_data", {
        sql: "SELECT c.name, sum(o.quantity) AS items FROM customers c JOIN orders o ON o.customer_id = c.id " +
          "GROUP BY c.id ORDER BY c.id"
      })
      expect(result.isError).toBeUndefined()
      expect(result.structuredContent).toEqual({
        columns: ["name", "items"],
        rows: [
          { name: "Ada Lovelace", items: 3 },
          { name: "Grace Hopper", items: 1 },
          { name: "Linus Torvalds", items: 3 }
        ],
        rowCount: 3,
        truncated: false
      })
      expect(text(result)).toBe(
        [
          "name           | items",
          "---------------+------",
          "Ada Lovelace   | 3",
          "Grace Hopper   | 1",
          "Linus Torvalds | 3",
          "(3 rows)"
        ].join("\n")
      )
      const empty = yield* client.callTool("query_data", { sql: "SELECT * FROM orders WHERE quantity > 10" })
      expect(empty.structuredContent).toEqual({ columns: [], rows: [], rowCount: 0, truncated: false })
      expect(text(empty)).toBe("(0 rows)")
      const special = yield* client.callTool("query_data", {
        sql: "SELECT x'00ff' AS bytes, NULL AS none, 'a\nb' AS two"
      })
      expect(special.structuredContent).toMatchObject({ rows: [{ bytes: "X'00FF'", none: null, two: "a\nb" }] })
      expect(text(special)).toBe("bytes   | none | two\n--------+------+-----\nX'00FF' | NULL | a\\nb\n(1 row)")
    }).pipe(withEnv({})))

  it.scoped("query_data returns at most 100 rows, and says how many there were", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(SqliteExplorerServer)
      const result = yield* client.callTool("query_data", {
        sql: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150) SELECT x FROM n"
      })
      expect(result.structuredContent).toMatchObject({ rowCount: 150, truncated: true })
      expect(result.structuredContent!.rows as Array<unknown>).toHaveLength(100)
      expect(text(result)).toMatch(/\n100\n\(150 rows, the first 100 shown\)$/)
    }).pipe(withEnv({})))

  it.scoped("bad SQL is a tool error with SQLite's message, and the server goes on", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(SqliteExplorerServer)
      const missing = yield* client.callTool("query_data", { sql: "SELECT * FROM nope" })
      expect(missing).toEqual({
        content: [{ type: "text", text: "SQLite error: no such table: nope" }],
        isError: true
      })
      const syntax = yield* client.callTool("query_data", { sql: "SELECT FROM WHERE" })
      expect(syntax.isError).toBe(true)
      expect(text(syntax)).toMatch(/^SQLite error: .*syntax error/)
      const two = yield* client.callTool("query_data", { sql: "SELECT 1; SELECT 2" })
      expect(text(two)).toBe("SQLite error: The supplied SQL string contains more than one statement")
      const ok = yield* client.callTool("query_data", { sql: "SELECT count(*) AS n FROM customers" })
      expect(ok.structuredContent).toMatchObject({ rows: [{ n: 3 }] })
    }).pipe(withEnv({})))

  it.scoped("query_data is read-only", () =>
    Effect.gen(function*() {
      const client = yield* McpTest.makeClient(SqliteExplorerServer)
      for (const sql of ["DELETE FROM orders", "/* tidy up */ DROP TABLE orders", "VACUUM INTO 'copy.db'", ""]) {
        const result = yield* client.callTool("query_data", { sql })
        expect(result.isError).toBe(true)
        expect(text(result)).toMatch(/^Only read-only statements are allowed \(SELECT, WITH, VALUES, EXPLAIN, PRAGMA\)/)
      }
      // Past the keyword check, SQLite itself refuses: the connection is read-only.
      const sneaky = yield* client.callTool("query_data", {
        sql: "WITH doomed AS (SELECT id FROM orders) DELETE FROM orders WHERE id IN doomed"
      })
      expect(text(sneaky)).toBe("SQLite error: attempt to write a readonly database")
      const count = yield* client.callTool("query_data", { sql: "-- still there?\nSELECT count(*) AS n FROM orders" })
      expect(count.structuredContent).toMatchObject({ rows: [{ n: 4 }] })
    }).pipe(withEnv({})))

  it.effect("the demo database is closed and removed when the server's scope closes", () =>
    watchConnections((connections) =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const client = yield* McpTest.makeClient(SqliteExplorerServer).pipe(Scope.extend(scope))
        yield* client.callTool("query_data", { sql: "SELECT 1" })
        const [connection, ...others] = connections()
        expect(others).toEqual([])
        expect(connection).toMatchObject({ open: true, readonly: true })
        expect(connection!.name).toMatch(/mcp-effect-sqlite-explorer-[^/\\]+[/\\]demo\.db$/)
        expect(existsSync(connection!.name)).toBe(true)

        yield* Scope.close(scope, Exit.void)
        expect(connection!.open).toBe(false)
        expect(existsSync(dirname(connection!.name))).toBe(false)
      })
    ).pipe(withEnv({})))

  it.effect("SQLITE_DB names the database: opened read-only, closed (and kept) when the server's scope closes", () =>
    Effect.gen(function*() {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "sqlite-explorer-test-"))),
        (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
      )
      const filename = join(directory, "notes.db")
      yield* SqlClient.SqlClient.pipe(
        Effect.flatMap((sql) =>
          Effect.zipRight(
            sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`,
            sql`INSERT INTO notes ${sql.insert([{ id: 1, body: "milk" }, { id: 2, body: "eggs" }])}`
          )
        ),
        Effect.provide(SqliteClient.layer({ filename }))
      )

      yield* watchConnections((connections) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const client = yield* McpTest.makeClient(SqliteExplorerServer).pipe(Scope.extend(scope))
          const schema = (yield* client.readResource("schema://main")).contents[0] as McpSchema.TextResourceContents
          expect(schema.text).toBe("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")
          const result = yield* client.callTool("query_data", { sql: "SELECT body FROM notes ORDER BY id" })
          expect(result.structuredContent).toMatchObject({ rows: [{ body: "milk" }, { body: "eggs" }] })
          const write = yield* client.callTool("query_data", {
            sql: "WITH n AS (SELECT 3) INSERT INTO notes (id, body) SELECT 3, 'bread'"
          })
          expect(text(write)).toBe("SQLite error: attempt to write a readonly database")
          const [connection, ...others] = connections()
          expect(others).toEqual([])
          expect(connection).toMatchObject({ name: filename, open: true, readonly: true })

          yield* Scope.close(scope, Exit.void)
          expect(connection!.open).toBe(false)
          expect(existsSync(filename)).toBe(true)
        })
      ).pipe(withEnv({ SQLITE_DB: filename }))
    }).pipe(Effect.scoped))

  it.scoped("a database that cannot be opened fails the server's start with a clear message", () =>
    Effect.gen(function*() {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "sqlite-explorer-test-"))),
        (directory) => Effect.sync(() => rmSync(directory, { recursive: true, force: true }))
      )
      const start = (filename: string) =>
        Effect.flip(McpTest.makeClient(SqliteExplorerServer).pipe(withEnv({ SQLITE_DB: filename })))
      // Opened read-only, a missing file is not created.
      const missing = join(directory, "missing.db")
      expect(yield* start(missing)).toMatchObject({
        _tag: "DatabaseError",
        message: `Cannot open the SQLite database ${missing}: unable to open database file`
      })
      expect(existsSync(missing)).toBe(false)
      const notADatabase = join(directory, "notes.txt")
      writeFileSync(notADatabase, "Not a database, but long enough to have a header. ".repeat(4))
      expect(yield* start(notADatabase)).toMatchObject({
        _tag: "DatabaseError",
        message: `Cannot open the SQLite database ${notADatabase}: file is not a database`
      })
    }))
})
