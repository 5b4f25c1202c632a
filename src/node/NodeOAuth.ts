/**
 * Signing in from a command-line client on Node: an authorization handler
 * that listens for the authorization redirect on loopback (RFC 8252 §7.3)
 * and opens the user's browser at the authorization URL.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OAuthClient, StreamableHttpClient } from "mcp-effect"
 * import { NodeOAuth } from "mcp-effect/node"
 *
 * const url = "http://127.0.0.1:3000/mcp"
 * const program = Effect.gen(function*() {
 *   const authorization = yield* OAuthClient.make(url, { clientName: "my-cli" })
 *   const client = yield* StreamableHttpClient.connect(url, { http: { authorization } })
 *   return yield* client.listTools
 * }).pipe(Effect.scoped, Effect.provide(NodeOAuth.layerLoopbackAuthorization()))
 * ```
 *
 * @since 0.2.0
 */
import { Command, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { CommandExecutor, HttpServerError } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Deferred, Duration, Effect, Layer } from "effect"
import type { Scope } from "effect"
import { createServer } from "node:http"
import * as OAuthClient from "../OAuthClient.js"

/**
 * Options of the loopback redirect listener.
 *
 * @since 0.2.0
 * @category models
 */
export interface LoopbackOptions {
  /** The port to listen on, on 127.0.0.1. Default 0: one the system picks. */
  readonly port?: number
  /** The redirect's path. Default `/callback`. */
  readonly path?: string
  /** Open the browser at the authorization URL (else only print it to stderr). Default true. */
  readonly openBrowser?: boolean
  /** Print nothing to stderr, even when the browser is not opened (tests). Default false. */
  readonly quiet?: boolean
  /** How long to wait for the user. Default 5 minutes. */
  readonly timeout?: Duration.DurationInput
}

type Pending = Deferred.Deferred<OAuthClient.AuthorizationResponse, OAuthClient.OAuthClientError>

const PAGE = "<!doctype html><title>Signed in</title><p>Signed in. You can close this window.</p>"

/** The redirect handler: hands the redirect to the sign-in waiting for its state. */
const redirectApp = (path: string, pending: Map<string, Pending>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://127.0.0.1")
    if (url.pathname !== path) return HttpServerResponse.text("Not found", { status: 404 })
    const waiting = pending.get(url.searchParams.get("state") ?? "")
    if (waiting === undefined) {
      return HttpServerResponse.text("No sign-in is waiting for this redirect", { status: 400 })
    }
    yield* Deferred.complete(waiting, OAuthClient.parseRedirect(url.href))
    return HttpServerResponse.html(PAGE)
  })

/** The command that opens a URL in the user's browser on this platform. */
const opener = (url: string) =>
  process.platform === "darwin"
    ? Command.make("open", url)
    : process.platform === "win32"
    ? Command.make("rundll32", "url.dll,FileProtocolHandler", url)
    : Command.make("xdg-open", url)

/** Opens the browser; when it cannot, the user is told the URL on stderr. */
const openBrowser = (url: string, options: LoopbackOptions) => {
  const tell = options.quiet === true
    ? Effect.void
    : Effect.sync(() => void process.stderr.write(`Open this URL in your browser to sign in:\n${url}\n`))
  if (options.openBrowser === false) return tell
  return Command.exitCode(opener(url)).pipe(
    Effect.flatMap((code) => code === 0 ? Effect.void : tell),
    Effect.catchAll(() => tell)
  )
}

/**
 * An authorization handler listening on 127.0.0.1 for the redirect, for the
 * life of the scope; each sign-in opens the browser and waits for the
 * redirect that carries its state.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeLoopbackAuthorization = (
  options: LoopbackOptions = {}
): Effect.Effect<
  OAuthClient.AuthorizationHandlerService,
  HttpServerError.ServeError,
  Scope.Scope | CommandExecutor.CommandExecutor
> =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => createServer(), { port: options.port ?? 0, host: "127.0.0.1" })
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const path = options.path ?? "/callback"
    const pending = new Map<string, Pending>()
    yield* server.serve(redirectApp(path, pending))
    const executor = yield* Effect.context<CommandExecutor.CommandExecutor>()
    const timeout = options.timeout ?? Duration.minutes(5)
    return {
      redirectUri: `http://127.0.0.1:${port}${path}`,
      authorize: (url) =>
        Effect.gen(function*() {
          const state = url.searchParams.get("state") ?? ""
          const waiting = yield* Deferred.make<OAuthClient.AuthorizationResponse, OAuthClient.OAuthClientError>()
          pending.set(state, waiting)
          yield* openBrowser(url.href, options).pipe(Effect.provide(executor))
          return yield* Deferred.await(waiting).pipe(
            Effect.timeoutFail({
              duration: timeout,
              onTimeout: () =>
                new OAuthClient.OAuthClientError({
                  reason: "Authorization",
                  message: "No authorization redirect came back in time"
                })
            })
          )
        }).pipe(Effect.ensuring(Effect.sync(() => pending.delete(url.searchParams.get("state") ?? ""))))
    } satisfies OAuthClient.AuthorizationHandlerService
  })

/**
 * The loopback authorization handler as the `OAuthClient.AuthorizationHandler`,
 * with Node's command executor.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerLoopbackAuthorization = (
  options: LoopbackOptions = {}
): Layer.Layer<OAuthClient.AuthorizationHandler, HttpServerError.ServeError> =>
  Layer.scoped(OAuthClient.AuthorizationHandler, makeLoopbackAuthorization(options)).pipe(
    Layer.provide(NodeContext.layer)
  )
