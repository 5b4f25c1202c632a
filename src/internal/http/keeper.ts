/**
 * Sessions that outlive their process: what an endpoint with a
 * `SessionStore` does beyond holding its sessions. It saves each session's
 * state as it changes, touches the sessions in use once per sweep, forgets
 * those the client ended or that expired, and takes up from the store a
 * session it does not hold (another process opened it, and died).
 *
 * Made only when a store is provided: an endpoint without one has nothing of
 * this on any path.
 */
import { Deferred, Effect, Exit, FiberId, Option } from "effect"
import type * as SessionStore from "../../SessionStore.js"
import type { Exchange } from "../../StreamableHttp.js"
import { principalOf } from "../auth/challenge.js"
import { logDefect } from "../cause.js"
import type { Endpoint, Refusal } from "./endpoint.js"
import { HttpSession } from "./httpSession.js"
import { empty, sessionNotFound } from "./reply.js"

/** Touches of the store run this many at a time. */
const TOUCH_CONCURRENCY = 16

export class SessionKeeper {
  /** Revivals under way, by session id: concurrent requests for one unknown session revive it once. */
  private readonly pending = new Map<string, Deferred.Deferred<HttpSession | Refusal>>()
  /** When the sessions in use were last touched. */
  private touchedAt = 0

  constructor(private readonly app: Endpoint, private readonly store: SessionStore.Service) {}

  /** How many revivals are under way: they hold their places against `maxSessions`. */
  get reviving(): number {
    return this.pending.size
  }

  /** Saves a session's state with its principal (its `onStateChange`). */
  saver(session: HttpSession): (state: SessionStore.SessionState) => Effect.Effect<void> {
    return (state) =>
      this.call("save", Effect.suspend(() => this.store.save(session.id, { ...state, principal: session.principal })))
  }

  /** Forgets a session: the client ended it, or it expired. */
  forget(sessionId: string): Effect.Effect<void> {
    return this.call("remove", Effect.suspend(() => this.store.remove(sessionId)))
  }

  /** A store that fails costs a session its survival elsewhere, not its use here: logged, never the request's error. */
  private call(operation: string, effect: Effect.Effect<void>): Effect.Effect<void> {
    return Effect.catchAllCause(effect, (cause) => logDefect(`SessionStore.${operation} failed`, cause))
  }

  /**
   * The session `sessionId`, which the endpoint does not hold, taken up from
   * the store; or why not (404 when the store has no such session, or it
   * belongs to another principal).
   */
  revive(sessionId: string, request: Exchange): Effect.Effect<HttpSession | Refusal> {
    return Effect.suspend(() => {
      const live = this.app.sessions.get(sessionId)
      const found = live !== undefined
        ? Effect.succeed(live)
        : Deferred.await(this.pending.get(sessionId) ?? this.start(sessionId, this.app.clientOf(request)))
      // As for a live session (see `Guard`): to another principal the session does not exist.
      return Effect.map(
        found,
        (session) =>
          session instanceof HttpSession && session.principal !== principalOf(request.auth)
            ? sessionNotFound
            : session
      )
    })
  }

  /** Runs one revival in a fiber of its own: the request that started it may go away, others may wait for it. */
  private start(sessionId: string, client: string | undefined): Deferred.Deferred<HttpSession | Refusal> {
    const deferred = Deferred.unsafeMake<HttpSession | Refusal>(FiberId.none)
    this.pending.set(sessionId, deferred)
    const revival = this.load(sessionId, client).pipe(
      Effect.catchAllCause((cause) => Effect.as(logDefect("Reviving a session failed", cause), () => empty(500))),
      Effect.ensuring(Effect.sync(() => this.pending.delete(sessionId)))
    )
    this.app.runFork(revival).addObserver((exit) => {
      Deferred.unsafeDone(deferred, Exit.isSuccess(exit) ? exit : Exit.succeed(sessionNotFound))
    })
    return deferred
  }

  /** Loads a session's state and opens it here, within the endpoint's limits, like a new one. */
  private load(sessionId: string, client: string | undefined): Effect.Effect<HttpSession | Refusal> {
    const app = this.app
    return Effect.gen(this, function*() {
      const loaded = yield* this.store.load(sessionId)
      if (Option.isNone(loaded)) return sessionNotFound
      const refused = app.admission(client, true)
      if (refused !== undefined) return refused
      const state = loaded.value
      const session = yield* app.openSession(false, state.protocolVersion, client, { id: sessionId, state })
      session.principal = state.principal
      session.used = true
      app.sessions.set(sessionId, session)
      return session
    })
  }

  /**
   * Ends a session the client ended (DELETE) that the endpoint does not
   * hold, without reviving it: a revival under way is awaited and its session
   * ended; else the store forgets the session, if it holds it for this
   * principal. `false` when there is no such session.
   */
  endUnheld(sessionId: string, request: Exchange): Effect.Effect<boolean> {
    return Effect.gen(this, function*() {
      const pending = this.pending.get(sessionId)
      if (pending !== undefined) yield* Deferred.await(pending)
      const principal = principalOf(request.auth)
      const live = this.app.sessions.get(sessionId)
      if (live !== undefined) {
        if (live.principal !== principal) return false
        yield* this.app.closeSession(live, true)
        return true
      }
      const loaded = yield* this.store.load(sessionId)
      if (Option.isNone(loaded) || loaded.value.principal !== principal) return false
      yield* this.forget(sessionId)
      return true
    })
  }

  /**
   * Keeps the sessions in use from expiring in the store: those used since
   * the last round, or holding a request or a GET stream. One touch per
   * session per round (the idle sweep), never one per request.
   */
  get touchInUse(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const since = this.touchedAt
      this.touchedAt = this.app.now()
      const due = [...this.app.sessions.values()].filter((s) =>
        s.lastActive >= since || s.active > 0 || s.standaloneAttached
      )
      return Effect.forEach(due, (s) => this.call("touch", Effect.suspend(() => this.store.touch(s.id))), {
        concurrency: TOUCH_CONCURRENCY,
        discard: true
      })
    })
  }
}
