/**
 * `mcp-effect run`: serves a server module over stdio or Streamable HTTP.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Layer } from "effect"
import * as McpServer from "../McpServer.js"
import * as NodeHttp from "../node/NodeHttp.js"
import * as NodeStdio from "../node/NodeStdio.js"
import { CliError, describe } from "./CliError.js"
import * as Dev from "./dev.js"
import * as ServerModule from "./serverModule.js"

/** How to serve: stdio unless `http` is set. */
export interface RunOptions {
  readonly module: string
  readonly http: boolean
  readonly port: number
  readonly host: string
  readonly path: `/${string}`
}

/** Serves until stdin ends (stdio) or the process is interrupted (HTTP). */
export const run = (options: RunOptions) => options.http ? runHttp(options) : runStdio(options)

const runStdio = Effect.fn("cli.runStdio")(function*(options: RunOptions) {
  // The transport takes stdout first; then the guard sends every other write (the module's own, as it loads) to stderr.
  const transport = NodeStdio.makeTransport()
  yield* NodeStdio.guardStdout
  const server = yield* ServerModule.load(ServerModule.parseRef(options.module))
  yield* McpServer.serve(provided(server), transport).pipe(Effect.mapError(buildFailed), explainMissingService)
}, Effect.scoped)

const runHttp = Effect.fn("cli.runHttp")(function*(options: RunOptions) {
  const server = yield* ServerModule.load(ServerModule.parseRef(options.module), Dev.reportImport)
  const served = yield* NodeHttp.serve(provided(server), {
    port: options.port,
    host: options.host,
    path: options.path
  }).pipe(Effect.mapError(buildFailed), explainMissingService)
  yield* Effect.logInfo(`MCP server listening on ${served.url}`)
  Dev.reportListening(served.url)
  return yield* Effect.never
}, Effect.scoped)

/** The platform's services (file system, paths, commands) are there for a server layer that needs them. */
const provided = <E>(server: Layer.Layer<McpServer.McpServer, E>) => Layer.provide(server, NodeContext.layer)

const buildFailed = (cause: unknown) => new CliError({ message: `the server failed: ${describe(cause)}` })

/** A layer that needs a service nobody provides dies with "Service not found": say what to do instead. */
const explainMissingService = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchAllDefect(effect, (defect) => {
    const tag = /^Service not found: (\S+)/.exec(describe(defect))?.[1]
    if (tag === undefined) return Effect.die(defect)
    return Effect.fail(
      new CliError({
        message: tag === McpServer.McpServer.key
          ? "the layer does not provide McpServer: merge its tools into the server with " +
            "Layer.provideMerge(McpServer.layer({ name, version }))"
          : `the server layer needs the service ${tag}, which nothing provides: provide its layer in the module`
      })
    )
  })
