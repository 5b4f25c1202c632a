/**
 * A throwaway PostgreSQL server for a test file: Debian's binaries, a data
 * folder under the OS temp dir, trust authentication, loopback on a free
 * port, stopped and removed when its scope closes.
 *
 * `initdb` and `postgres` refuse to run as root: as root the server commands
 * run as the `postgres` user, in a folder that user owns.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import { PgClient } from "@effect/sql-pg"
import * as SqlClient from "@effect/sql/SqlClient"
import { afterAll, beforeAll } from "@effect/vitest"
import { Effect, Exit, Schedule, Scope } from "effect"
import { execFile } from "node:child_process"
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../../examples/internal/nodes.js"

/** Where the server binaries are: the newest `/usr/lib/postgresql/<version>/bin`, or the folder of `pg_ctl` on PATH. */
const findBinaries = (): string | undefined => {
  const root = "/usr/lib/postgresql"
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((version) => existsSync(join(root, version, "bin", "pg_ctl")))
      .sort((a, b) => Number(b) - Number(a))
    if (versions.length > 0) return join(root, versions[0]!, "bin")
  }
  const onPath = (process.env.PATH ?? "").split(":").find((folder) =>
    folder !== "" && existsSync(join(folder, "pg_ctl"))
  )
  return onPath !== undefined && existsSync(join(onPath, "initdb")) ? onPath : undefined
}

/** The folder holding `initdb`, `pg_ctl` and `postgres`, when this machine has them. */
export const binaries: string | undefined = findBinaries()

/** Why the Postgres tests cannot run here, or `undefined` when they can. */
export const unavailable: string | undefined = binaries === undefined
  ? "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin, no pg_ctl on PATH): the Postgres tests are skipped; " +
    "`apt-get install postgresql` runs them (.ci/run does)"
  : undefined

/** A running server. */
export interface Postgres {
  readonly host: string
  readonly port: number
  readonly username: string
  readonly database: string
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0

/** Runs a server command, as `postgres` when we are root; fails with its output. */
const run = (command: string, args: ReadonlyArray<string>) =>
  Effect.async<void, Error>((resume) => {
    const [file, argv] = isRoot
      ? ["runuser", ["-u", "postgres", "--", join(binaries!, command), ...args]]
      : [join(binaries!, command), [...args]]
    execFile(file, argv, { timeout: 60_000 }, (error, stdout, stderr) => {
      resume(
        error === null ? Effect.void : Effect.fail(new Error(`${command} failed: ${error.message}\n${stdout}${stderr}`))
      )
    })
  })

/** A port free on loopback right now (the node launcher's, shared). */
export { freePort }

/** The `postgres` user's ids, from /etc/passwd (Debian's package creates that user). */
const postgresIds = (): { readonly uid: number; readonly gid: number } => {
  const fields = readFileSync("/etc/passwd", "utf8").split("\n").find((entry) => entry.startsWith("postgres:"))?.split(
    ":"
  )
  if (fields === undefined) throw new Error("there is no postgres user to run the server as (we are root)")
  return { uid: Number(fields[2]), gid: Number(fields[3]) }
}

/** A folder under the OS temp dir that the server's user owns, removed at the end. */
const makeDataFolder = Effect.acquireRelease(
  Effect.try(() => {
    const folder = mkdtempSync(join(tmpdir(), "mcp-effect-pg-"))
    const data = join(folder, "data")
    mkdirSync(data, { mode: 0o700 })
    if (isRoot) {
      const { gid, uid } = postgresIds()
      chownSync(folder, uid, gid)
      chownSync(data, uid, gid)
    }
    return { folder, data }
  }),
  ({ folder }) => Effect.sync(() => rmSync(folder, { recursive: true, force: true }))
)

/** Loopback only, the socket in the data folder (not /var/run), and no syncing: the data is thrown away. */
const serverOptions = (data: string, port: number) =>
  `-c listen_addresses=127.0.0.1 -p ${port} -k ${data} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`

/**
 * Starts a server for the life of the scope: `initdb` (trust, no fsync), `pg_ctl start` on a free loopback port with
 * its socket in the data folder, then connections retried a bounded number of times until one answers. Stopped with
 * `pg_ctl stop -m immediate` and its folder removed when the scope closes.
 */
export const start: Effect.Effect<Postgres, Error, Scope.Scope> = Effect.gen(function*() {
  const { data } = yield* makeDataFolder
  yield* run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
  // The port is free when chosen but could be taken before the server binds it: then a start on another port.
  const port = yield* Effect.retry(
    Effect.flatMap(freePort, (port) =>
      Effect.as(
        Effect.acquireRelease(
          run("pg_ctl", ["start", "-D", data, "-s", "-l", join(data, "server.log"), "-o", serverOptions(data, port)]),
          () => Effect.ignore(run("pg_ctl", ["stop", "-D", data, "-s", "-m", "immediate"]))
        ),
        port
      )),
    { times: 2 }
  )
  const server: Postgres = { host: "127.0.0.1", port, username: "postgres", database: "postgres" }
  // Ready when a connection answers; each attempt waits for its own answer, and the attempts are bounded.
  yield* Effect.scoped(client(server)).pipe(
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 }),
    Effect.mapError((cause) => new Error(`Postgres did not accept connections: ${cause.message}`))
  )
  return server
})

/** A `PgClient` on the server: one "node". */
export const client = (server: Postgres) =>
  PgClient.make({
    host: server.host,
    port: server.port,
    username: server.username,
    database: server.database,
    maxConnections: 4
  }).pipe(Effect.provide(Reactivity.layer))

/**
 * One server for a test file, started before its tests and stopped after them, and what the tests share: a
 * `unique` table prefix (or channel) per test, two clients as two "nodes", and `on` to run a store on a node.
 */
export const forFile = () => {
  let started: Postgres | undefined
  const scope = Effect.runSync(Scope.make())
  beforeAll(async () => {
    started = await Effect.runPromise(Scope.extend(start, scope))
  })
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  const server = (): Postgres => {
    if (started === undefined) throw new Error("the Postgres server of this file has not started")
    return started
  }
  let tests = 0
  return {
    server,
    unique: () => `t${++tests}_`,
    /** Two "nodes": two clients, each with its own pool, on one database. */
    twoNodes: Effect.suspend(() => Effect.all([client(server()), client(server())])),
    on: <A, E, R>(node: PgClient.PgClient, effect: Effect.Effect<A, E, R>) =>
      effect.pipe(Effect.provideService(SqlClient.SqlClient, node), Effect.provideService(PgClient.PgClient, node))
  }
}
