/**
 * GET (the session's stream of server-initiated messages, and resumption with
 * `Last-Event-ID`) and DELETE (ending a session).
 */
import { Effect, Option } from "effect"
import * as EventStore from "../../EventStore.js"
import { ErrorCode, McpError } from "../../McpError.js"
import type { Exchange, Reply } from "../../StreamableHttp.js"
import { encode } from "../encode.js"
import * as Modern from "../modern.js"
import * as ProtocolVersion from "../protocolVersion.js"
import { acceptOf } from "./accept.js"
import type { Endpoint } from "./endpoint.js"
import { EventStream } from "./eventStream.js"
import { HttpSession } from "./httpSession.js"
import { empty, httpError, refuse, sessionNotFound, Sink, sseEvent } from "./reply.js"

/**
 * The session named by the request's header, or the reply that refuses it;
 * with a session store, one this endpoint does not hold is taken up from it.
 */
const namedSession = (app: Endpoint, request: Exchange): Effect.Effect<HttpSession | Reply> => {
  const sessionId = request.header("mcp-session-id")
  if (sessionId === undefined) {
    return Effect.succeed(httpError(400, "Bad Request: the Mcp-Session-Id header is required"))
  }
  const session = app.sessions.get(sessionId)
  if (session !== undefined) return Effect.succeed(session)
  if (app.keeper === undefined) return Effect.succeed(sessionNotFound())
  return Effect.map(
    app.keeper.revive(sessionId, request),
    (revived) => revived instanceof HttpSession ? revived : revived(null)
  )
}

/** A GET or DELETE that names a modern revision: that revision has neither. */
const isModern = (request: Exchange): boolean => {
  const header = request.header("mcp-protocol-version")?.trim()
  return header !== undefined && Modern.SUPPORTED.includes(header)
}

export const handleGet = (app: Endpoint, request: Exchange): Effect.Effect<Reply> =>
  Effect.gen(function*() {
    if (app.options.stateless) {
      return httpError(405, "Method Not Allowed: a stateless server has no GET stream")
    }
    if (isModern(request)) {
      return httpError(405, `Method Not Allowed: ${Modern.VERSION} has no GET stream; use subscriptions/listen`)
    }
    if (!acceptOf(request.header("accept")).sse) {
      return httpError(406, "Not Acceptable: the Accept header must list text/event-stream")
    }
    const session = yield* namedSession(app, request)
    if (!(session instanceof HttpSession)) return session
    session.used = true
    session.lastActive = app.now()
    const versionError = ProtocolVersion.checkHeader(request.header("mcp-protocol-version"), session.protocolVersion)
    if (versionError !== undefined) return httpError(400, `Bad Request: ${versionError}`)
    const lastEventId = request.header("last-event-id")
    if (lastEventId !== undefined) return yield* resume(app, session, lastEventId)
    if (session.standaloneAttached) return httpError(409, "Conflict: this session already has an open GET stream")
    const standalone = app.standaloneOf(session)
    const sink = app.newSink(session, standalone)
    standalone.sink = sink
    session.standaloneAttached = true
    return app.sseResponse(standalone, sink, session.headers, () => {
      if (standalone.sink === undefined) session.standaloneAttached = false
    })
  })

/**
 * Replays what a stream sent after `lastEventId`, then carries on with it if
 * it is still live. The standalone stream of a process that held the session
 * before carries on as this process's: the session's messages now come here.
 */
const resume = (app: Endpoint, session: HttpSession, lastEventId: string) =>
  Effect.gen(function*() {
    const parsed = EventStore.parseEventId(lastEventId)
    if (parsed === undefined || !parsed.streamId.startsWith(`${session.id}-`)) {
      return httpError(400, "Bad Request: Last-Event-ID does not name a stream of this session")
    }
    const live = session.isStandalone(parsed.streamId)
      ? app.standaloneOf(session)
      : session.streams?.get(parsed.streamId)
    // A stream of the process that held the session before: forgotten with the session, like this process's own.
    if (session.generation !== "" && !parsed.streamId.startsWith(`${session.id}-${session.generation}`)) {
      app.keep(session, parsed.streamId)
    }
    const sink = new Sink(app.limits.maxBuffered)
    /** Replays and attaches; false when the store no longer holds what came after `lastEventId`. */
    const attach = Effect.gen(function*() {
      const replay = yield* app.store.replayAfter(lastEventId)
      const running = live !== undefined && !live.finished && !live.closed
      // Nothing stored is no loss only for a live stream whose client saw nothing but its priming event.
      if (Option.isNone(replay) && !(running && parsed.sequence === 0)) return false
      write(sink, replay)
      if (running && live.streamId !== parsed.streamId) {
        // An earlier process's GET stream carries on as this one's, none of whose events the client has seen yet.
        write(sink, yield* app.store.replayAfter(EventStore.eventId(live.streamId, 0)))
      }
      if (!running) sink.end()
      else {
        live.detach()
        live.sink = sink
        if (live === session.standalone) session.standaloneAttached = true
      }
      return true
    })
    const attached = yield* live === undefined ? attach : live.exclusively(attach)
    if (!attached) return eventsGone(lastEventId)
    return app.sseResponse(live ?? new EventStream(parsed.streamId, undefined), sink, session.headers, () => {
      if (live !== undefined && live === session.standalone && live.sink === undefined) {
        session.standaloneAttached = false
      }
    })
  })

/** Writes replayed events, if any, to a resumption's response. */
const write = (sink: Sink, replay: Option.Option<{ readonly events: ReadonlyArray<EventStore.StoredEvent> }>) => {
  if (Option.isSome(replay)) {
    for (const event of replay.value.events) sink.write(sseEvent(event.id, encode(event.message)))
  }
}

/**
 * A resumption whose events the store no longer holds (the stream ended and
 * was forgotten, or its events were dropped to keep the store within its
 * bounds): an error the client can see, rather than an empty stream.
 */
const eventsGone = (lastEventId: string): Reply =>
  refuse(
    409,
    new McpError({
      code: ErrorCode.ServerError,
      message:
        `Conflict: the events after Last-Event-ID ${JSON.stringify(lastEventId.slice(0, 200))} are no longer kept; ` +
        "send the request again, or open the GET stream without Last-Event-ID"
    })
  )

export const handleDelete = (app: Endpoint, request: Exchange): Effect.Effect<Reply> =>
  Effect.suspend(() => {
    if (app.options.stateless || isModern(request)) {
      return Effect.succeed(httpError(405, "Method Not Allowed: a stateless request has no session to end"))
    }
    const sessionId = request.header("mcp-session-id")
    if (sessionId === undefined) {
      return Effect.succeed(httpError(400, "Bad Request: the Mcp-Session-Id header is required"))
    }
    const session = app.sessions.get(sessionId)
    if (session !== undefined) return Effect.as(app.closeSession(session, true), empty(200))
    if (app.keeper === undefined) return Effect.succeed(sessionNotFound())
    // Not held here: ended without reviving it, so that the session store forgets it for every process.
    return Effect.map(app.keeper.endUnheld(sessionId, request), (ended) => ended ? empty(200) : sessionNotFound())
  })
