/**
 * Reading OAuth parameters: from the query (GET) or a form body (POST), each
 * at most once (RFC 6749 §3.1: "Request and response parameters MUST NOT be
 * included more than once"), the body size bounded.
 */
import type { HttpServerRequest } from "@effect/platform"
import { Effect, Option } from "effect"
import { invalidRequest, type OAuthError } from "./errors.js"

/** Largest form or JSON body an OAuth endpoint reads. */
export const MAX_BODY_BYTES = 64 * 1024

/** The parameters of one request: each name once, empty values as absent (RFC 6749 §3.1). */
export interface Params {
  readonly get: (name: string) => Option.Option<string>
}

const fromSearchParams = (search: URLSearchParams): Effect.Effect<Params, OAuthError> => {
  const seen = new Map<string, string>()
  for (const [name, value] of search) {
    if (seen.has(name)) return Effect.fail(invalidRequest(`the ${name} parameter is repeated`))
    seen.set(name, value)
  }
  return Effect.succeed({ get: (name) => Option.filter(Option.fromNullable(seen.get(name)), (v) => v !== "") })
}

/** The request body as text, refused past `MAX_BODY_BYTES`. */
export const readBody = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<string, OAuthError> => {
  const length = Number(request.headers["content-length"] ?? "0")
  if (length > MAX_BODY_BYTES) return Effect.fail(invalidRequest("the request body is too large"))
  return request.text.pipe(
    Effect.mapError(() => invalidRequest("the request body could not be read")),
    Effect.filterOrFail((text) => text.length <= MAX_BODY_BYTES, () => invalidRequest("the request body is too large"))
  )
}

const isForm = (request: HttpServerRequest.HttpServerRequest) =>
  (request.headers["content-type"] ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")

/** The form body of a POST (token, revocation, introspection endpoints). */
export const formParams = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<Params, OAuthError> =>
  isForm(request) ?
    Effect.flatMap(readBody(request), (body) => fromSearchParams(new URLSearchParams(body))) :
    Effect.fail(invalidRequest("the body must be application/x-www-form-urlencoded"))

/** The authorization request's parameters: the query of a GET, the form body of a POST. */
export const authorizationParams = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<Params, OAuthError> =>
  request.method === "POST" ? formParams(request) : fromSearchParams(new URL(request.url, "http://x").searchParams)

/** A required parameter. */
export const required = (params: Params, name: string): Effect.Effect<string, OAuthError> =>
  Option.match(params.get(name), {
    onNone: () => Effect.fail(invalidRequest(`the ${name} parameter is missing`)),
    onSome: Effect.succeed
  })

/** A space-separated scope parameter, as its distinct scopes. */
export const scopesOf = (scope: Option.Option<string>): ReadonlyArray<string> =>
  Option.match(scope, { onNone: () => [], onSome: (s) => [...new Set(s.split(" ").filter((x) => x !== ""))] })
