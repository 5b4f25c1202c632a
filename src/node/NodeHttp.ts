/**
 * Serving MCP over HTTP on Node: `serve` binds a Node HTTP server (to
 * 127.0.0.1 by default) with the Streamable HTTP app at `path`, and
 * optionally the legacy HTTP+SSE endpoints for 2024-11-05 clients.
 *
 * For anything more (other routes, several servers, middleware), mount
 * `StreamableHttp.toApp` in your own `HttpRouter` instead.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { NodeHttp } from "mcp-effect/node"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
 * const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })))
 *
 * NodeHttp.run(ServerLive, { port: 3000 }) // http://127.0.0.1:3000/mcp
 * ```
 *
 * @since 0.1.0
 */
import { HttpRouter, HttpServer } from "@effect/platform"
import type { HttpServerError } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import type { Scope } from "effect"
import { createServer } from "node:http"
import * as LegacySse from "../LegacySse.js"
import type { McpServer } from "../McpServer.js"
import * as StreamableHttp from "../StreamableHttp.js"
import { layerStderrLogger } from "./NodeStdio.js"

export interface ServeOptions extends StreamableHttp.Options {
  /** Default 3000; 0 picks a free port. */
  readonly port?: number
  /** Default 127.0.0.1: a local server is not reachable from other machines unless asked. */
  readonly host?: string
  /** Where the Streamable HTTP endpoint is mounted. Default `/mcp`. */
  readonly path?: HttpRouter.PathInput
  /** Also serve the legacy HTTP+SSE transport at `/sse` and `/messages`. Default false. */
  readonly legacySse?: boolean
}

/** Where a served server listens. */
export interface Served {
  readonly url: string
  readonly port: number
}

/**
 * Serves a server layer over HTTP for the life of the scope. Closing the
 * scope drains in-flight requests for the grace period, then ends every
 * session.
 */
export const serve = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  options: ServeOptions = {}
): Effect.Effect<Served, E | HttpServerError.ServeError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const path = options.path ?? "/mcp"
    // The HTTP server first, so that it closes last: on shutdown the app drains and ends its sessions
    // (answering every open request) before the listener waits for connections to finish.
    // No request timeout: SSE streams stay open, kept alive by comments.
    const httpServer = yield* NodeHttpServer.make(() => createServer({ requestTimeout: 0 }), {
      port: options.port ?? 3000,
      host: options.host ?? "127.0.0.1"
    })
    const context = yield* Layer.build(server)
    const mcp = yield* StreamableHttp.make(options).pipe(Effect.provide(context))
    let router = HttpRouter.empty.pipe(HttpRouter.all(path, mcp))
    if (options.legacySse) {
      const legacy = yield* LegacySse.make({ dnsRebinding: options.dnsRebinding }).pipe(Effect.provide(context))
      router = router.pipe(HttpRouter.get("/sse", legacy.sse), HttpRouter.post("/messages", legacy.messages))
    }
    yield* HttpServer.serveEffect(router).pipe(Effect.provideService(HttpServer.HttpServer, httpServer))
    const address = httpServer.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    const host = options.host ?? "127.0.0.1"
    const urlHost = host.includes(":") ? `[${host}]` : host
    return { url: `http://${urlHost}:${port}${path}`, port }
  })

/** Serves a server layer over HTTP as the program's main, printing its URL to stderr. */
export const run = <E>(server: Layer.Layer<McpServer, E, never>, options?: ServeOptions): void =>
  NodeRuntime.runMain(
    Effect.gen(function*() {
      const served = yield* serve(server, options)
      yield* Effect.logInfo(`MCP server listening on ${served.url}`)
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.provide(layerStderrLogger)),
    { disablePrettyLogger: true }
  )
