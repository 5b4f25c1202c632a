/**
 * Discovery: what a 401 or 403 says (`WWW-Authenticate`), the protected
 * resource's metadata (RFC 9728) and its authorization server's (RFC 8414,
 * OpenID Connect discovery), fetched at the well-known URLs in the order the
 * MCP authorization spec gives.
 */
import { HttpClientRequest } from "@effect/platform"
import type { HttpClient, HttpClientResponse } from "@effect/platform"
import { Effect, Option, Schema } from "effect"
import { AuthorizationServerMetadata, OAuthClientError, ProtectedResourceMetadata } from "./model.js"

/** A `WWW-Authenticate` challenge's parameters (lower-cased names). */
export interface Challenge {
  readonly scheme: string | undefined
  readonly params: Readonly<Record<string, string>>
}

const PARAM = /([A-Za-z_][\w.-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g

/** The first challenge of a `WWW-Authenticate` header; parameters of later challenges are not told apart. */
export const parseChallenge = (header: string | undefined): Challenge => {
  if (header === undefined) return { scheme: undefined, params: {} }
  const scheme = /^\s*([A-Za-z][\w.-]*)(?:\s|$)/.exec(header)?.[1]
  const params: Record<string, string> = {}
  for (const match of header.matchAll(PARAM)) {
    const name = match[1]!.toLowerCase()
    params[name] ??= match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3]!
  }
  return { scheme, params }
}

/** RFC 8707 canonical URI of a resource: lower-case scheme and host, no fragment, no lone trailing slash. */
export const canonicalResource = (url: string): string => {
  const parsed = new URL(url)
  const path = parsed.pathname === "/" ? "" : parsed.pathname
  return `${parsed.protocol}//${parsed.host}${path}${parsed.search}`
}

/**
 * Whether metadata naming `resource` may speak for `serverUrl`: the same
 * origin, and a path that is the server's or one of its ancestors (a root
 * PRM names the whole origin).
 */
export const resourceCovers = (resource: string, serverUrl: string): boolean => {
  const parsed = URL.canParse(resource) ? new URL(resource) : undefined
  if (parsed === undefined || parsed.hash !== "") return false
  const server = new URL(serverUrl)
  if (parsed.origin !== server.origin) return false
  const base = parsed.pathname.endsWith("/") ? parsed.pathname : `${parsed.pathname}/`
  const path = server.pathname.endsWith("/") ? server.pathname : `${server.pathname}/`
  return path.startsWith(base)
}

/** The body of a 200 answer to a GET, as JSON; `None` for any other answer or a network failure. */
const getJson = (http: HttpClient.HttpClient, url: string): Effect.Effect<Option.Option<unknown>> =>
  http.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.acceptJson)).pipe(
    Effect.flatMap((response: HttpClientResponse.HttpClientResponse) =>
      response.status === 200 ? Effect.map(response.json, Option.some) : Effect.as(response.text, Option.none())
    ),
    Effect.orElseSucceed(() => Option.none()),
    Effect.scoped
  )

const decodeResource = Schema.decodeUnknownOption(ProtectedResourceMetadata)
const decodeServer = Schema.decodeUnknownOption(AuthorizationServerMetadata)

/** The first URL of `urls` that serves a document `decode` accepts. */
const firstDocument = <A>(
  http: HttpClient.HttpClient,
  urls: ReadonlyArray<string>,
  decode: (u: unknown) => Option.Option<A>
): Effect.Effect<Option.Option<readonly [A, string]>> =>
  Effect.reduce(urls, Option.none<readonly [A, string]>(), (found, url) =>
    Option.isSome(found)
      ? Effect.succeed(found)
      : Effect.map(getJson(http, url), (json) => Option.map(Option.flatMap(json, decode), (a) => [a, url] as const)))

/**
 * The well-known URLs of a resource's metadata (RFC 9728 §3.1): the one
 * `WWW-Authenticate` named first, then the path-suffixed one, then the root.
 */
export const resourceMetadataUrls = (serverUrl: string, named: string | undefined): ReadonlyArray<string> => {
  const server = new URL(serverUrl)
  const path = server.pathname === "/" ? "" : server.pathname.replace(/\/$/, "")
  const root = `${server.origin}/.well-known/oauth-protected-resource`
  const urls = [
    ...(named !== undefined && URL.canParse(named) ? [named] : []),
    ...(path ? [`${root}${path}`] : []),
    root
  ]
  return [...new Set(urls)]
}

/** The protected resource's metadata, if it publishes any (a 2025-03-26 server does not). */
export const discoverResource = (
  http: HttpClient.HttpClient,
  serverUrl: string,
  challenge: Challenge
): Effect.Effect<Option.Option<ProtectedResourceMetadata>, OAuthClientError> =>
  firstDocument(http, resourceMetadataUrls(serverUrl, challenge.params.resource_metadata), decodeResource).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed(Option.none()),
      onSome: ([metadata]) =>
        resourceCovers(metadata.resource, serverUrl)
          ? Effect.succeed(Option.some(metadata))
          : new OAuthClientError({
            reason: "ResourceMismatch",
            message: `The protected resource metadata names the resource ${
              JSON.stringify(metadata.resource)
            }, which is not ${canonicalResource(serverUrl)}: refusing to authorize for it`
          })
    }))
  )

/**
 * The well-known URLs of an authorization server's metadata, in the MCP
 * spec's order: for an issuer with a path, RFC 8414's path insertion, then
 * OpenID Connect's with insertion, then OpenID Connect's appended; for one
 * without, RFC 8414's then OpenID Connect's.
 */
export const serverMetadataUrls = (issuer: string): ReadonlyArray<string> => {
  const parsed = new URL(issuer)
  const path = parsed.pathname.replace(/\/$/, "")
  const origin = parsed.origin
  return path === ""
    ? [`${origin}/.well-known/oauth-authorization-server`, `${origin}/.well-known/openid-configuration`]
    : [
      `${origin}/.well-known/oauth-authorization-server${path}`,
      `${origin}/.well-known/openid-configuration${path}`,
      `${origin}${path}/.well-known/openid-configuration`
    ]
}

/**
 * An authorization server's metadata, if it publishes any. Its `issuer`
 * must be the identifier the URL was built from (RFC 8414 §3.3), or
 * another server could redirect the client's tokens.
 */
export const discoverServer = (
  http: HttpClient.HttpClient,
  issuer: string
): Effect.Effect<Option.Option<AuthorizationServerMetadata>, OAuthClientError> =>
  firstDocument(http, serverMetadataUrls(issuer), decodeServer).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed(Option.none()),
      onSome: ([metadata]) =>
        metadata.issuer === issuer
          ? Effect.succeed(Option.some(metadata))
          : new OAuthClientError({
            reason: "IssuerMismatch",
            message: `The authorization server metadata of ${issuer} names the issuer ${
              JSON.stringify(metadata.issuer)
            }: refusing to use it`
          })
    }))
  )

/** The endpoints a 2025-03-26 client assumes at the server's origin when it publishes no metadata. */
export const defaultServerMetadata = (issuer: string): AuthorizationServerMetadata => ({
  issuer,
  authorization_endpoint: new URL("/authorize", issuer).href,
  token_endpoint: new URL("/token", issuer).href,
  registration_endpoint: new URL("/register", issuer).href
})

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"])

/** Whether an endpoint may be sent credentials: https, or http on this machine (RFC 8252 §8.3). */
export const secureEndpoint = (url: string): boolean => {
  if (!URL.canParse(url)) return false
  const parsed = new URL(url)
  return parsed.protocol === "https:" || (parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname))
}

/** The spec has every authorization server endpoint served over https; codes, secrets and tokens cross them. */
export const checkEndpoints = (metadata: AuthorizationServerMetadata): Effect.Effect<void, OAuthClientError> => {
  const endpoints = {
    authorization_endpoint: metadata.authorization_endpoint,
    token_endpoint: metadata.token_endpoint,
    registration_endpoint: metadata.registration_endpoint
  }
  const insecure = Object.entries(endpoints).find(([, url]) => url !== undefined && !secureEndpoint(url))
  return insecure === undefined ? Effect.void : new OAuthClientError({
    reason: "Discovery",
    message: `The authorization server ${metadata.issuer} has an ${insecure[0]} that is not https: refusing to use it`
  })
}
