/**
 * The MCP Inspector (`@modelcontextprotocol/inspector`), started by `dev`
 * against the server it runs. The Inspector needs Node 22, which `npx`
 * fetches beside it, so that this package stays on Node 20.
 */
import { Command } from "@effect/platform"
import { Console, Effect, Stream } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** The Inspector release `dev` starts: pinned, so that its flags and output are the ones read here. */
export const VERSION = "2.12.0"

/** Where the Inspector's web page listens. */
export interface InspectorOptions {
  readonly port: number
}

/**
 * A link that opens the Inspector connected to `serverUrl`: its deep link,
 * which connects at once when `autoConnect` carries the Inspector's token.
 */
export const deepLink = (port: number, token: string, serverUrl: string): string =>
  `http://127.0.0.1:${port}/?${new URLSearchParams({
    MCP_INSPECTOR_API_TOKEN: token,
    serverUrl,
    transport: "http",
    autoConnect: token
  })}`

/**
 * Runs the Inspector for the life of the scope and prints its link once it
 * is up. Its own catalog file (which a deep link writes to) lives in a
 * temporary folder, removed with the scope.
 */
export const start = Effect.fn("Inspector.start")(function*(serverUrl: string, options: InspectorOptions) {
  const token = randomBytes(32).toString("hex")
  const folder = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "mcp-effect-inspector-"))),
    (folder) => Effect.sync(() => rmSync(folder, { recursive: true, force: true }))
  )
  const catalog = join(folder, "catalog.json")
  writeFileSync(catalog, JSON.stringify({ mcpServers: {} }))
  const command = Command.make(
    "npx",
    "--yes",
    "--package",
    "node@22",
    "--package",
    `@modelcontextprotocol/inspector@${VERSION}`,
    "mcp-inspector",
    "--catalog",
    catalog
  ).pipe(Command.env({
    MCP_INSPECTOR_API_TOKEN: token,
    CLIENT_PORT: String(options.port),
    MCP_AUTO_OPEN_ENABLED: "false",
    MCP_INSPECTOR_SECRET_STORE: "memory",
    MCP_STORAGE_DIR: folder,
    npm_config_loglevel: "error",
    npm_config_update_notifier: "false"
  }))
  yield* Console.error(`mcp-effect dev: starting the MCP Inspector ${VERSION} (its first run downloads it)`)
  // Started in its own process group, which the scope's end stops as a whole (npx runs it through a shell).
  const inspector = yield* Command.start(command)
  const link = deepLink(options.port, token, serverUrl)
  yield* Effect.forkScoped(relay(inspector.stderr, (line) => !line.startsWith("[mcp-inspector] ")))
  yield* inspector.stdout.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.filter((line) => line.startsWith("MCP Inspector Web is up")),
    Stream.runForEach(() => Console.error(`mcp-effect dev: MCP Inspector on ${link}`)),
    Effect.catchAll(() => Effect.void)
  )
  const code = yield* inspector.exitCode.pipe(Effect.orElseSucceed(() => -1))
  yield* Console.error(`mcp-effect dev: the MCP Inspector exited (code ${code})`)
}, Effect.scoped)

/** Copies the lines that `keep` accepts to stderr. */
const relay = <E>(bytes: Stream.Stream<Uint8Array, E>, keep: (line: string) => boolean) =>
  bytes.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.filter(keep),
    Stream.runForEach((line) => Console.error(line)),
    Effect.catchAll(() => Effect.void)
  )
