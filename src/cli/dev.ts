/**
 * `mcp-effect dev`: serves a server module over HTTP in a child process,
 * restarts it when one of the files it loaded changes, and starts the MCP
 * Inspector against it.
 */
import { Command, FileSystem } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import { Console, Effect, Option, Queue, Schema, Stream } from "effect"
import { basename, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Inspector from "./inspector.js"
import { parseRef } from "./serverModule.js"

/** What `dev` was asked. */
export interface DevOptions {
  readonly module: string
  readonly port: number
  readonly host: string
  readonly path: `/${string}`
  readonly inspector: boolean
  readonly inspectorPort: number
  /** This command line's own entry point, which runs the server. */
  readonly self: string
}

/**
 * The environment variable that makes `run` report to `dev`, on stdout, the
 * files it loads and the URL it listens on, one {@link Report} per line.
 */
export const REPORT_ENV = "MCP_EFFECT_DEV_REPORT"

/** A line `run` writes for `dev`. */
const Report = Schema.Union(
  Schema.Struct({ devImport: Schema.String }),
  Schema.Struct({ devListening: Schema.String })
)
type Report = typeof Report.Type

/** Reports a loaded file, when `dev` asked for reports. */
export const reportImport = (url: string): void => report({ devImport: url })

/** Reports the server's URL, when `dev` asked for reports. */
export const reportListening = (url: string): void => report({ devListening: url })

const report = (line: Report) => {
  if (process.env[REPORT_ENV] === "1") process.stdout.write(JSON.stringify(line) + "\n")
}

const parseReport = Schema.decodeOption(Schema.parseJson(Report))

/** Serves until interrupted, one child process per version of the files. */
export const dev = Effect.fn("cli.dev")(function*(options: DevOptions) {
  const scope = yield* Effect.scope
  const watcher = yield* makeWatcher
  yield* watcher.add(parseRef(options.module).file)
  // A restart keeps the port the first server got (with --port 0, the one it picked), so that clients stay connected.
  let port = options.port
  let inspecting = false
  const onListening = (url: string) =>
    Effect.gen(function*() {
      port = Number(new URL(url).port)
      if (inspecting || !options.inspector) return
      inspecting = true
      yield* Effect.forkIn(Inspector.start(url, { port: options.inspectorPort }), scope)
    })
  for (;;) {
    const changed = yield* Effect.scoped(generation({ ...options, port }, watcher, onListening))
    yield* Console.error(`mcp-effect dev: ${changed} changed, restarting`)
  }
}, Effect.scoped)

/** One child process: runs until a watched file changes, and returns its path. */
const generation = (
  options: DevOptions,
  watcher: Watcher,
  onListening: (url: string) => Effect.Effect<void, never, CommandExecutor.CommandExecutor>
) =>
  Effect.gen(function*() {
    const command = Command.make(
      process.execPath,
      ...process.execArgv,
      options.self,
      "run",
      options.module,
      "--http",
      "--port",
      String(options.port),
      "--host",
      options.host,
      "--path",
      options.path
    ).pipe(Command.env({ [REPORT_ENV]: "1" }), Command.stderr("inherit"))
    const child = yield* Command.start(command)
    yield* child.stdout.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) => {
        const parsed = line.startsWith("{\"dev") ? parseReport(line) : Option.none()
        if (Option.isNone(parsed)) return Console.log(line)
        if ("devImport" in parsed.value) return localFile(parsed.value.devImport, watcher.add)
        const url = parsed.value.devListening
        return Console.error(`mcp-effect dev: serving ${url}`).pipe(Effect.zipRight(onListening(url)))
      }),
      Effect.zipRight(child.exitCode),
      Effect.flatMap((code) =>
        Console.error(`mcp-effect dev: the server exited (code ${code}); waiting for a change to restart it`)
      ),
      Effect.catchAll(() => Effect.void),
      Effect.forkScoped
    )
    return yield* watcher.next
  })

/** Watches files from their loaded URLs, skipping packages. */
const localFile = (url: string, add: (file: string) => Effect.Effect<void>) =>
  url.startsWith("file:") && !url.includes("/node_modules/") ? add(fileURLToPath(url)) : Effect.void

interface Watcher {
  readonly add: (file: string) => Effect.Effect<void>
  /** The next change to a watched file, once changes have settled for a moment (editors save in several steps). */
  readonly next: Effect.Effect<string>
}

/** Watches each folder that holds a watched file (a file replaced by a rename is still seen), for the scope. */
const makeWatcher = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const scope = yield* Effect.scope
  const files = new Set<string>()
  const folders = new Set<string>()
  const changes = yield* Queue.unbounded<string>()
  const watchFolder = (folder: string) =>
    fs.watch(folder).pipe(
      Stream.map((event) => join(folder, basename(event.path))),
      Stream.filter((file) => files.has(file)),
      Stream.runForEach((file) => Queue.offer(changes, file)),
      Effect.catchAll((error) => Effect.logWarning(`cannot watch ${folder}`, error)),
      Effect.forkIn(scope)
    )
  const watcher: Watcher = {
    add: (file) =>
      Effect.suspend(() => {
        files.add(file)
        const folder = dirname(file)
        if (folders.has(folder)) return Effect.void
        folders.add(folder)
        return Effect.asVoid(watchFolder(folder))
      }),
    next: Queue.take(changes).pipe(
      Effect.zipLeft(Effect.sleep("150 millis")),
      Effect.zipLeft(Queue.takeAll(changes))
    )
  }
  return watcher
})
