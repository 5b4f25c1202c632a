/**
 * Authorization for a server over HTTP: the server as an OAuth 2.1
 * protected resource. Provide `ProtectedResource.layer` (with a
 * `TokenVerifier`) where the HTTP endpoint is made — `NodeHttp`,
 * `StreamableHttp` — and every request must carry an access token in its
 * `Authorization: Bearer` header:
 *
 * - no token: 401 with `WWW-Authenticate: Bearer resource_metadata="…"`, so
 *   that the client finds the authorization server; a refused token: 401
 *   `invalid_token`; a token in the query string: 400;
 * - the verified principal reaches every handler as `RequestContext.auth`,
 *   in both protocol eras;
 * - a request for a tool, resource or prompt whose `scopes` the token lacks
 *   (or without the server-wide `requiredScopes`): 403 `insufficient_scope`
 *   naming the scopes to ask for (step-up); lists show only what the token
 *   may use;
 * - a session is bound to the principal that opened it: another principal's
 *   request on it gets 404, as if it did not exist;
 * - the Protected Resource Metadata (RFC 9728) is served at
 *   `/.well-known/oauth-protected-resource` and at its form suffixed with
 *   the resource's path (`/.well-known/oauth-protected-resource/mcp`).
 *
 * stdio is not affected: there, credentials come from the environment.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { ProtectedResource, TokenVerifier } from "mcp-effect"
 *
 * const AuthLive = ProtectedResource.layer({
 *   resource: "https://mcp.example.com/mcp",
 *   authorizationServers: ["https://auth.example.com"],
 *   scopesSupported: ["files:read", "files:write"]
 * }).pipe(
 *   Layer.provide(TokenVerifier.layerJwks({
 *     jwksUri: "https://auth.example.com/.well-known/jwks.json",
 *     issuer: "https://auth.example.com",
 *     audience: "https://mcp.example.com/mcp"
 *   })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.2.0
 */
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import type { HttpApp } from "@effect/platform"
import { Context, Effect, Layer } from "effect"
import { TokenVerifier } from "./TokenVerifier.js"

/**
 * Options of a protected resource.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * The server's canonical URI: the MCP endpoint's full URL, as clients
   * reach it (`https://mcp.example.com/mcp`). Tokens must be issued for it
   * (their audience), and the metadata's URL derives from it.
   */
  readonly resource: string
  /** The issuers of the authorization servers that issue tokens for this server. */
  readonly authorizationServers: ReadonlyArray<string>
  /** The scopes the metadata lists, which a client asks for when a 401 names none. */
  readonly scopesSupported?: ReadonlyArray<string>
  /** Scopes every request needs, beside those of what it calls. Default none. */
  readonly requiredScopes?: ReadonlyArray<string>
  /**
   * Whether lists (`tools/list`, `resources/list`,
   * `resources/templates/list`, `prompts/list`) show only what the token's
   * scopes allow. Default true.
   */
  readonly filterLists?: boolean
  /** A human-readable name for the metadata's `resource_name`. */
  readonly resourceName?: string
  /** A page of documentation for developers, the metadata's `resource_documentation`. */
  readonly resourceDocumentation?: string
}

/**
 * The Protected Resource Metadata document (RFC 9728 §2).
 *
 * @since 0.2.0
 * @category models
 */
export interface Metadata {
  readonly resource: string
  readonly authorization_servers: ReadonlyArray<string>
  readonly scopes_supported?: ReadonlyArray<string>
  readonly bearer_methods_supported: ReadonlyArray<string>
  readonly resource_name?: string
  readonly resource_documentation?: string
}

/**
 * A protected resource as the HTTP transports use it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  readonly options: Options
  readonly metadata: Metadata
  /** Where clients read the metadata: the well-known URL derived from `resource`, in the 401 challenge. */
  readonly metadataUrl: string
  /** The scopes every request needs (`options.requiredScopes`, or none). */
  readonly requiredScopes: ReadonlyArray<string>
  /** The paths the metadata is served at on this server. */
  readonly metadataPaths: ReadonlyArray<`/${string}`>
  readonly verifier: TokenVerifier["Type"]
}

/**
 * The server's protected resource: when present in the context the HTTP
 * endpoint is made in, it requires and verifies access tokens.
 *
 * @since 0.2.0
 * @category tags
 */
export class ProtectedResource extends Context.Tag("mcp-effect/ProtectedResource")<ProtectedResource, Service>() {}

const WELL_KNOWN = "/.well-known/oauth-protected-resource" as const

/**
 * The metadata document of a protected resource.
 *
 * @example
 * ```ts
 * import { ProtectedResource } from "mcp-effect"
 *
 * const document = ProtectedResource.metadataOf({
 *   resource: "https://mcp.example.com/mcp",
 *   authorizationServers: ["https://auth.example.com"]
 * })
 * // { resource: "https://mcp.example.com/mcp", authorization_servers: [...], bearer_methods_supported: ["header"] }
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const metadataOf = (options: Options): Metadata => ({
  resource: options.resource,
  authorization_servers: options.authorizationServers,
  ...(options.scopesSupported !== undefined ? { scopes_supported: options.scopesSupported } : {}),
  // Tokens are taken from the Authorization header only (MCP forbids the query string; no form bodies).
  bearer_methods_supported: ["header"],
  ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
  ...(options.resourceDocumentation !== undefined ? { resource_documentation: options.resourceDocumentation } : {})
})

/**
 * Makes the protected resource from its options and the `TokenVerifier` in
 * context. A `resource` that is not an absolute http(s) URL without a
 * fragment is a defect: it is configuration, not input.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, TokenVerifier> =>
  Effect.gen(function*() {
    const verifier = yield* TokenVerifier
    const url = yield* Effect.try(() => new URL(options.resource)).pipe(
      Effect.orElse(() => Effect.dieMessage(`ProtectedResource: resource must be an absolute URL`))
    )
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.hash !== "") {
      return yield* Effect.dieMessage("ProtectedResource: resource must be an http(s) URL without a fragment")
    }
    // RFC 9728 §3.1: the well-known segment goes between the host and the resource's path.
    const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "")
    return {
      options,
      metadata: metadataOf(options),
      metadataUrl: `${url.origin}${WELL_KNOWN}${path}`,
      metadataPaths: path === "" ? [WELL_KNOWN] : [WELL_KNOWN, `${WELL_KNOWN}${path}`],
      verifier,
      requiredScopes: options.requiredScopes ?? []
    }
  })

/**
 * {@link make} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ProtectedResource, never, TokenVerifier> =>
  Layer.effect(ProtectedResource, make(options))

/**
 * Serves the metadata document as JSON, readable from any origin (browser
 * clients discover it too). `StreamableHttp.layerRouter` and `NodeHttp`
 * mount it for you; with `StreamableHttp.toApp`, mount it with
 * {@link router}.
 *
 * @since 0.2.0
 * @category constructors
 */
export const metadataApp: HttpApp.Default<never, ProtectedResource> = Effect.map(
  ProtectedResource,
  (service) =>
    HttpServerResponse.unsafeJson(service.metadata, {
      headers: { "access-control-allow-origin": "*", "cache-control": "max-age=3600" }
    })
)

/**
 * A router serving the metadata at its well-known paths, to concatenate
 * with the router that mounts the MCP endpoint.
 *
 * @example
 * ```ts
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 * import { ProtectedResource, StreamableHttp } from "mcp-effect"
 *
 * declare const ServerLive: import("effect").Layer.Layer<import("mcp-effect").McpServer.McpServer>
 *
 * const routes = Effect.gen(function*() {
 *   const mcp = yield* StreamableHttp.toApp(ServerLive)
 *   const metadata = yield* ProtectedResource.router
 *   return HttpRouter.concat(HttpRouter.empty.pipe(HttpRouter.all("/mcp", mcp)), metadata)
 * })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const router: Effect.Effect<HttpRouter.HttpRouter, never, ProtectedResource> = Effect.map(
  ProtectedResource,
  (service) =>
    service.metadataPaths.reduce(
      (routes: HttpRouter.HttpRouter, path) =>
        HttpRouter.get(routes, path, Effect.provideService(metadataApp, ProtectedResource, service)),
      HttpRouter.empty
    )
)
