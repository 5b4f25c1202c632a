/**
 * POST: one JSON-RPC message (or, under 2025-03-26, a batch) into a session,
 * answered with JSON, or with SSE as soon as anything else comes first.
 *
 * A call on a live session runs on plain callbacks, without a fiber of its
 * own: the handler's fiber is the only one (a fiber per request cost more than
 * everything else on this path; docs/architecture.md). The rarer paths
 * (initialize, stateless, batches) run as effects.
 */
import { Effect, Exit } from "effect"
import * as EventStore from "../../EventStore.js"
import { ErrorCode, McpError } from "../../McpError.js"
import type * as McpSchema from "../../McpSchema.js"
import type { Exchange, Reply } from "../../StreamableHttp.js"
import { principalOf } from "../auth/challenge.js"
import { logThrown } from "../cause.js"
import { isRecord } from "../guards.js"
import * as JsonRpc from "../jsonRpc.js"
import * as Modern from "../modern.js"
import { checkStandardHeaders } from "../modernHeaders.js"
import * as ProtocolVersion from "../protocolVersion.js"
import type { AcceptInfo } from "./accept.js"
import { acceptOf, isJson } from "./accept.js"
import type { Endpoint } from "./endpoint.js"
import type { Entry, EventStream, Outgoing } from "./eventStream.js"
import { HttpSession } from "./httpSession.js"
import { ModernCall } from "./modernCall.js"
import { empty, full, httpError, jsonText, refuse, sessionNotFound, sseEvent } from "./reply.js"

export const handlePost = (app: Endpoint, request: Exchange, reply: (reply: Reply) => void): void => {
  const accept = acceptOf(request.header("accept"))
  if (!accept.json || !accept.sse) {
    return reply(httpError(406, "Not Acceptable: the Accept header must list application/json and text/event-stream"))
  }
  if (!isJson(request.header("content-type"))) {
    return reply(httpError(415, "Unsupported Media Type: the Content-Type must be application/json"))
  }
  const { maxBody } = app.limits
  const tooLarge = () => reply(httpError(413, `Payload Too Large: the body exceeds ${maxBody} bytes`))
  if (Number(request.header("content-length") ?? "0") > maxBody) return tooLarge()
  // The reader itself stops at maxBody bytes and answers undefined.
  request.body(maxBody, (text) => {
    if (text === undefined) return tooLarge()
    const body = JsonRpc.parse(text)
    if (body instanceof McpError) return reply(refuse(400, body))
    if (Array.isArray(body)) return app.replyWith(handleBatch(app, request, body), reply)
    handleMessage(app, request, accept, body, reply)
  })
}

/** Returned by `sessionOf` for a session this endpoint does not hold, when a session store may. */
const UNHELD = Symbol("unheld")

/**
 * The session a request names, or the reply that refuses it; `UNHELD` when
 * the session store may hold it (see `SessionKeeper.revive`). `use`: the
 * message is a request (or a batch holding one), which uses the session; a
 * notification alone does not, and leaves an unused session's clock alone.
 */
const sessionOf = (
  app: Endpoint,
  request: Exchange,
  id: McpSchema.RequestId | null,
  use: boolean
): HttpSession | Reply | typeof UNHELD => {
  const sessionId = request.header("mcp-session-id")
  if (sessionId === undefined) return httpError(400, "Bad Request: the Mcp-Session-Id header is required", id)
  const session = app.sessions.get(sessionId)
  if (session === undefined) return app.keeper === undefined ? sessionNotFound(id) : UNHELD
  return admit(app, session, request, id, use)
}

/** A request on a session it found: it uses the session, and must name its protocol version. */
const admit = (
  app: Endpoint,
  session: HttpSession,
  request: Exchange,
  id: McpSchema.RequestId | null,
  use: boolean
): HttpSession | Reply => {
  if (use) session.used = true
  if (session.used) session.lastActive = app.now()
  const versionError = ProtocolVersion.checkHeader(request.header("mcp-protocol-version"), session.protocolVersion)
  return versionError === undefined ? session : httpError(400, `Bad Request: ${versionError}`, id)
}

/** `sessionOf`, taking up from the session store a session this endpoint does not hold. */
const sessionOrRevived = (
  app: Endpoint,
  request: Exchange,
  id: McpSchema.RequestId | null,
  use: boolean
): Effect.Effect<HttpSession | Reply> =>
  Effect.suspend(() => {
    const session = sessionOf(app, request, id, use)
    if (session !== UNHELD) return Effect.succeed(session)
    return Effect.map(
      app.keeper!.revive(request.header("mcp-session-id")!, request),
      (revived) => revived instanceof HttpSession ? admit(app, revived, request, id, use) : revived(id)
    )
  })

const handleMessage = (
  app: Endpoint,
  request: Exchange,
  accept: AcceptInfo,
  body: unknown,
  reply: (reply: Reply) => void
) => {
  const message = JsonRpc.classify(body)
  // Over HTTP every POST is answered: an invalid message gets its error even where stdio would stay silent.
  if (message._tag === "Invalid") return reply(refuse(400, message.error, message.id))
  const id = message._tag === "Request" ? message.id : null
  const era = eraOf(request, body, id)
  if (era !== "legacy" && "_tag" in era) return reply(era)
  if (request.auth !== undefined && message._tag === "Request") {
    // Decided here, from the body, before anything runs or a stream opens: the 403 can still be sent.
    const refused = app.authorization?.checkScopes(request.auth, message.method, message.params)
    if (refused !== undefined) return reply(refused)
  }
  if (era !== "legacy") return handleModern(app, request, accept, message, era, reply)
  if (app.options.stateless) return app.replyWith(handleStateless(app, request, accept, body, id), reply)
  // An initialize without a session opens one; with one, the session itself refuses a second handshake.
  if (message._tag === "Request" && message.method === "initialize" && request.header("mcp-session-id") === undefined) {
    return app.replyWith(handleInitialize(app, request, body, message.id), reply)
  }
  const session = sessionOf(app, request, id, message._tag === "Request")
  if (session === UNHELD) {
    // Off the hot path: only with a session store, for a session another process opened.
    return app.runFork(sessionOrRevived(app, request, id, message._tag === "Request")).addObserver((exit) => {
      if (Exit.isFailure(exit)) return reply(empty(500))
      if (!(exit.value instanceof HttpSession)) return reply(exit.value)
      // Outside the caller's try (this runs later): what throws here is this request's 500, not the fiber's.
      try {
        serveOn(app, request, accept, message, body, exit.value, reply)
      } catch (thrown) {
        app.runFork(logThrown("Streamable HTTP request failed", thrown))
        reply(empty(500))
      }
    })
  }
  if (!(session instanceof HttpSession)) return reply(session)
  serveOn(app, request, accept, message, body, session, reply)
}

/** A message on the session it names. */
const serveOn = (
  app: Endpoint,
  request: Exchange,
  accept: AcceptInfo,
  message: JsonRpc.Message,
  body: unknown,
  session: HttpSession,
  reply: (reply: Reply) => void
) => {
  if (message._tag !== "Request") {
    session.receiver.message(body, request)
    return reply(empty(202))
  }
  if (session.requests?.has(message.id)) return reply(refuse(409, JsonRpc.inFlightError(message.id), message.id))
  if (session.active >= app.limits.maxActive) return reply(tooManyRequests(app, message.id))
  respond(app, session, body, message.id, accept, reply, request)
}

const tooManyRequests = (app: Endpoint, id: McpSchema.RequestId | null = null) =>
  httpError(429, `Too Many Requests: at most ${app.limits.maxActive} requests may be in flight per session`, id)

/**
 * Answers a request with JSON, or with SSE once something else comes
 * first.
 */
const respond = (
  app: Endpoint,
  session: HttpSession,
  body: unknown,
  requestId: McpSchema.RequestId,
  { prefersSse, sse }: AcceptInfo,
  reply: (reply: Reply) => void,
  request: Exchange,
  /** Runs when the request is over, answered or not. */
  onDone?: () => void
) => {
  const onResponse = (response: Outgoing | undefined, stream: EventStream | undefined) => {
    onDone?.()
    if (response === undefined) return reply(empty(202))
    if (stream === undefined || !prefersSse) return reply(jsonText(response.text, 200, session.headers))
    // SSE asked for and the answer already here: the whole stream is one event, sent as one body. There is
    // nothing to resume, so it is not stored.
    const id = EventStore.eventId(stream.streamId, 1)
    reply(full(200, app.primer(session, stream) + sseEvent(id, response.text), {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      ...session.headers
    }))
  }
  const onStream = (first: Entry, stream: EventStream) => {
    ;(session.streams ??= new Map()).set(stream.streamId, stream)
    const sink = app.newSink(session, stream)
    stream.sink = sink
    // Messages tied to the request keep coming to this stream (it stays in `requests`) until its response.
    stream.pump(app.events, first, (kept) => {
      // Ended while no response was attached: kept for a resumption until the session ends.
      if (kept) app.keep(session, stream.streamId)
      app.end(session)
      session.forgetRequest(requestId)
      session.streams?.delete(stream.streamId)
      if (session.streams?.size === 0) session.streams = undefined
      onDone?.()
    })
    reply(app.sseResponse(stream, sink, session.headers))
  }
  app.answerRequest(session, body, requestId, onResponse, sse ? onStream : undefined, request)
}

const handleInitialize = (
  app: Endpoint,
  request: Exchange,
  body: unknown,
  requestId: McpSchema.RequestId
) =>
  Effect.gen(function*() {
    const client = app.clientOf(request)
    const refused = app.admission(client)
    if (refused !== undefined) return refused(requestId)
    const session = yield* app.openSession(false, undefined, client)
    session.principal = principalOf(request.auth)
    const answer = yield* app.responseTo(session, body, requestId, request)
    const response = answer?.message
    if (answer === undefined || !isRecord(response) || !isRecord(response.result)) {
      // A failed initialize leaves nothing behind.
      yield* app.closeSession(session, true)
      return answer === undefined ? empty(202) : jsonText(answer.text, 400)
    }
    const version = response.result.protocolVersion
    session.protocolVersion = typeof version === "string" ? version : ProtocolVersion.latest
    app.sessions.set(session.id, session)
    return jsonText(answer.text, 200, session.headers)
  })

const handleStateless = (
  app: Endpoint,
  request: Exchange,
  accept: AcceptInfo,
  body: unknown,
  requestId: McpSchema.RequestId | null
) =>
  Effect.gen(function*() {
    const header = request.header("mcp-protocol-version")
    if (header !== undefined && !ProtocolVersion.isSupported(header)) {
      return httpError(400, `Bad Request: unsupported MCP-Protocol-Version ${JSON.stringify(header)}`, requestId)
    }
    if (requestId === null) return empty(202)
    const session = yield* app.openSession(true, header ?? ProtocolVersion.latest)
    // The fresh context lives as long as its one request.
    return yield* Effect.async<Reply>((resume) =>
      respond(app, session, body, requestId, accept, (reply) => resume(Effect.succeed(reply)), request, () => {
        app.runFork(app.closeSession(session))
      })
    )
  })

/**
 * Which era a message is served in, by the spec's ladder: a body that claims
 * 2026-07-28 in its `_meta` is modern; a modern `MCP-Protocol-Version` header
 * on a body that makes no claim is refused (400, -32602); anything else is
 * the handshake era. A modern body's `_meta` is checked here, before any
 * session or handler, so that a malformed one gets its 400.
 */
const eraOf = (
  request: Exchange,
  body: unknown,
  id: McpSchema.RequestId | null
): "legacy" | Modern.RequestMeta | Reply => {
  const params = isRecord(body) && isRecord(body.params) ? body.params : undefined
  if (!Modern.claimsModern(params)) {
    const malformed = Modern.checkMeta(params)
    if (malformed !== undefined) return refuse(400, malformed, id)
    const header = request.header("mcp-protocol-version")?.trim()
    if (header === undefined || !Modern.SUPPORTED.includes(header)) return "legacy"
    return refuse(
      400,
      McpError.invalidParams(`MCP-Protocol-Version is ${header}, but params._meta names no protocol version`),
      id
    )
  }
  const method = isRecord(body) && typeof body.method === "string" ? body.method : ""
  // The revision defines its headers for requests; a notification (`notifications/cancelled`) is not held to them.
  const mismatch = id === null ? undefined : checkModernHeaders(request, method, params)
  if (mismatch !== undefined) return refuse(400, mismatch, id)
  const meta = Modern.readMeta(params)
  return meta instanceof McpError ? refuse(400, meta, id) : meta
}

/** The standard headers of a modern request (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) against its body. */
const checkModernHeaders = (request: Exchange, method: string, params: Record<string, unknown> | undefined) => {
  const problem = checkStandardHeaders((name) => request.header(name), { method, params })
  return problem === undefined
    ? undefined
    : new McpError({ code: ErrorCode.HeaderMismatch, message: `Header mismatch: ${problem.message}` })
}

/**
 * A modern request: served on its own, without a session (`ModernCall`), and
 * answered on this response only (JSON, or SSE when notifications come
 * first). Its errors carry their HTTP status: 404 for an unknown method, 400
 * for the revision's own errors. A notification (`notifications/cancelled`)
 * has no request to reach: each modern request stands alone, and the client
 * cancels one by closing its stream.
 */
const handleModern = (
  app: Endpoint,
  request: Exchange,
  accept: AcceptInfo,
  message: JsonRpc.Message,
  meta: Modern.RequestMeta,
  reply: (reply: Reply) => void
) => {
  if (message._tag !== "Request") return reply(empty(202))
  if (app.modern === undefined) {
    return reply(httpError(501, `Not Implemented: this server cannot serve ${Modern.VERSION} requests`, message.id))
  }
  const { id, method, params } = message
  new ModernCall(app, app.modern, id, accept.prefersSse, reply).serve(
    { id, method, params, progressToken: JsonRpc.progressTokenOf(params), extras: request },
    meta
  )
}

/**
 * A batch (2025-03-26 only): every entry is checked before any runs, each
 * request counts against the session's limit, and the answers go back as one
 * array.
 */
const handleBatch = (app: Endpoint, request: Exchange, messages: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const session = yield* sessionOrRevived(
      app,
      request,
      null,
      messages.some((m) => isRecord(m) && "method" in m && "id" in m)
    )
    if (!(session instanceof HttpSession)) return session
    if (!ProtocolVersion.hasBatches(session.protocolVersion)) {
      return refuse(400, McpError.invalidRequest("JSON-RPC batches are only accepted under protocol 2025-03-26"))
    }
    const checked = JsonRpc.checkBatch(messages, (id) => session.requests?.has(id) ?? false, app.limits.maxBatch)
    if (checked instanceof McpError) return refuse(400, checked)
    const classified = messages.map(JsonRpc.classify)
    const calls = classified.filter((m, index) => m._tag === "Request" && !checked.has(index)).length
    if (session.active + calls > app.limits.maxActive) return tooManyRequests(app)
    const answers = yield* Effect.forEach(classified, (message, index) => {
      const refused = checked.get(index)
      if (refused !== undefined) return Effect.succeed([JSON.stringify(refused)])
      switch (message._tag) {
        case "Invalid":
          return Effect.succeed(message.answer ? [JsonRpc.errorText(message.id, message.error)] : [])
        case "Request":
          return Effect.map(
            app.responseTo(session, messages[index], message.id, request),
            (response) => response === undefined ? [] : [response.text]
          )
        default:
          return Effect.sync(() => {
            session.receiver.message(messages[index], request)
            return []
          })
      }
    }, { concurrency: "unbounded" })
    const responses = answers.flat()
    return responses.length === 0 ? empty(202) : jsonText(`[${responses.join(",")}]`, 200, session.headers)
  })
