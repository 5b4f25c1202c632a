/**
 * An `HttpClient` on `node:http`/`node:https` with a keep-alive agent, for
 * the MCP client: one POST per message makes the HTTP stack most of what a
 * client call costs. Measured against `fetch` (undici, web streams, an abort
 * signal and a body reader per request) and `@effect/platform-node`'s
 * `NodeHttpClient` (a `Stream` per body), it halves our client's CPU per call
 * (bench/client.ts). A body is read with plain listeners; only `stream`
 * (SSE) goes through `NodeStream`.
 */
import {
  Cookies,
  Headers,
  HttpClient,
  HttpClientError,
  HttpClientResponse,
  HttpIncomingMessage,
  UrlParams
} from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Effect, Either, Inspectable, Option } from "effect"
import type { Scope, Stream } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"

type Failure = HttpClientError.ResponseError

class NodeResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly status: number
  readonly headers: Headers.Headers
  constructor(readonly request: HttpClientRequest.HttpClientRequest, private readonly source: Http.IncomingMessage) {
    super()
    this.status = source.statusCode ?? 0
    this.headers = Headers.fromInput(source.headers)
  }

  get cookies(): Cookies.Cookies {
    const setCookie = this.source.headers["set-cookie"]
    return setCookie === undefined ? Cookies.empty : Cookies.fromSetCookie(setCookie)
  }

  get remoteAddress(): Option.Option<string> {
    return Option.fromNullable(this.source.socket.remoteAddress)
  }

  private fail(reason: Failure["reason"], cause: unknown, description?: string) {
    const fields = { request: this.request, response: this, reason, cause }
    return new HttpClientError.ResponseError(description === undefined ? fields : { ...fields, description })
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, Failure> {
    return Effect.map(this.bytes, (bytes) => {
      const copy = new Uint8Array(bytes.byteLength)
      copy.set(bytes)
      return copy.buffer
    })
  }

  get text(): Effect.Effect<string, Failure> {
    return Effect.map(this.bytes, (bytes) => bytes.toString("utf8"))
  }

  get json(): Effect.Effect<unknown, Failure> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => text === "" ? null : JSON.parse(text) as unknown,
        catch: (cause) => this.fail("Decode", cause)
      }))
  }

  get urlParamsBody(): Effect.Effect<never, Failure> {
    return Effect.fail(this.fail("Decode", undefined, "this client reads no URL-encoded bodies"))
  }

  get formData(): Effect.Effect<never, Failure> {
    return Effect.fail(this.fail("Decode", undefined, "this client reads no form data"))
  }

  get stream(): Stream.Stream<Uint8Array, Failure> {
    return NodeStream.fromReadable(() => this.source, (cause) => this.fail("Decode", cause))
  }

  /** The whole body, collected by listeners (the body of an MCP answer usually comes in one chunk). */
  private get bytes(): Effect.Effect<Buffer, Failure> {
    return Effect.async<Buffer, Failure>((resume) => {
      const source = this.source
      const chunks: Array<Buffer> = []
      const onData = (chunk: Buffer) => void chunks.push(chunk)
      const onEnd = () => resume(Effect.succeed(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
      const onError = (cause: Error) => resume(Effect.fail(this.fail("Decode", cause)))
      const onClose = () => {
        if (!source.complete) resume(Effect.fail(this.fail("Decode", undefined, "the connection closed mid-body")))
      }
      source.on("data", onData).once("end", onEnd).once("error", onError).once("close", onClose)
      return Effect.sync(() => {
        source.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose)
        source.destroy()
      })
    })
  }

  toJSON(): unknown {
    return { _id: "@effect/platform/HttpClientResponse", request: this.request.toJSON(), status: this.status }
  }
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Uint8Array | string | undefined | null => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return undefined
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array ? body.body : null
    default:
      return null
  }
}

/** Where a request goes, as `http.request` takes it: parsed once per URL (a client posts to one endpoint). */
interface Target {
  readonly secure: boolean
  readonly options: Http.RequestOptions
}

const MAX_TARGETS = 64

/** The target of `request`, or the reason its URL is not one. */
const targetOf = (
  targets: Map<string, Target>,
  request: HttpClientRequest.HttpClientRequest
): Target | HttpClientError.RequestError => {
  const plain = request.urlParams.length === 0 && Option.isNone(request.hash)
  const cached = plain ? targets.get(request.url) : undefined
  if (cached !== undefined) return cached
  const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
  if (Either.isLeft(url)) return new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left })
  const target: Target = {
    secure: url.right.protocol === "https:",
    options: {
      protocol: url.right.protocol,
      hostname: url.right.hostname.startsWith("[") ? url.right.hostname.slice(1, -1) : url.right.hostname,
      port: url.right.port,
      path: url.right.pathname + url.right.search,
      ...(url.right.username !== ""
        ? { auth: `${decodeURIComponent(url.right.username)}:${decodeURIComponent(url.right.password)}` }
        : {})
    }
  }
  if (plain) {
    if (targets.size >= MAX_TARGETS) targets.clear()
    targets.set(request.url, target)
  }
  return target
}

/**
 * Sends one request; the response's body is read by whoever reads it.
 * Interrupting it before the response destroys the request: no
 * `AbortController` (and no `HttpClient.make` wrapper, which adds one, a URL
 * parse and a finalization registration per request).
 */
const send = (agents: { readonly http: Http.Agent; readonly https: Https.Agent }, targets: Map<string, Target>) =>
(
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> =>
  Effect.async((resume) => {
    const body = bodyOf(request)
    if (body === null) {
      const description = `this client sends no ${request.body._tag} bodies`
      return resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Encode", description })))
    }
    const target = targetOf(targets, request)
    if (target instanceof HttpClientError.RequestError) return resume(Effect.fail(target))
    const options = {
      ...target.options,
      method: request.method,
      headers: request.headers,
      agent: target.secure ? agents.https : agents.http
    }
    const outgoing = target.secure ? Https.request(options) : Http.request(options)
    outgoing.once("response", (incoming) => resume(Effect.succeed(new NodeResponse(request, incoming))))
    outgoing.once("error", (cause) =>
      resume(Effect.fail(
        new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.message })
      )))
    outgoing.end(body)
    return Effect.sync(() => void outgoing.destroy())
  })

/**
 * The client, with keep-alive agents for the life of the scope. No spans or
 * trace headers per request (a user who traces provides an `HttpClient`).
 */
export const make: Effect.Effect<HttpClient.HttpClient, never, Scope.Scope> = Effect.map(
  Effect.acquireRelease(
    Effect.sync(() => ({ http: new Http.Agent({ keepAlive: true }), https: new Https.Agent({ keepAlive: true }) })),
    (agents) =>
      Effect.sync(() => {
        agents.http.destroy()
        agents.https.destroy()
      })
  ),
  (agents) => {
    const sendTo = send(agents, new Map())
    return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
      (request) => Effect.flatMap(request, sendTo),
      Effect.succeed
    )
  }
)
