/**
 * Multi-round-trip requests (2026-07-28): a modern client gets no requests
 * from the server. A handler that elicits, samples or lists roots is instead
 * answered with an `input_required` result naming what it needs; the client
 * retries with the answers, and the handler runs again from the start. This
 * module keeps what a retry needs in `requestState`, signed with the
 * server's key: the answers received so far, the results of `once` steps, the
 * keys asked in the last round, and what request the state belongs to.
 */
import { Clock, Config, Deferred, Effect, Either, FiberId, Option, Redacted } from "effect"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { McpError } from "../McpError.js"
import { INTERNAL } from "./cause.js"
import { isRecord } from "./guards.js"

/** The server's key for `requestState`, and whether it was made up for this process only. */
export interface StateKey {
  readonly secret: Uint8Array
  readonly ephemeral: boolean
}

/** A key for one process, for development: a state it signs is refused by any other process. */
export const ephemeralKey = (): StateKey => ({ secret: randomBytes(32), ephemeral: true })

/**
 * The key from `MCP_REQUEST_STATE_KEY` (every node of a deployment must
 * share it), or an ephemeral one, with a warning the first time a state is
 * signed with it.
 */
export const configuredKey: Effect.Effect<StateKey> = Config.redacted("MCP_REQUEST_STATE_KEY").pipe(
  Config.option,
  Effect.map(Option.match({
    onNone: ephemeralKey,
    onSome: (secret): StateKey => ({ secret: Buffer.from(Redacted.value(secret), "utf8"), ephemeral: false })
  })),
  Effect.orElseSucceed(ephemeralKey)
)

let warned = false

/** Warns once per process that states are signed with an ephemeral key. */
export const warnIfEphemeral = (key: StateKey): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (!key.ephemeral || warned) return Effect.void
    warned = true
    return Effect.logWarning(
      "MCP_REQUEST_STATE_KEY is not set: requestState is signed with a key of this process only, so a retry that " +
        "reaches another process or a restarted one is refused. Set it (the same on every node) in production."
    ).pipe(Effect.annotateLogs(INTERNAL, true))
  })

/** The methods whose requests may return `input_required`, and what may be asked in them. */
export const ROUND_METHODS: ReadonlySet<string> = new Set(["tools/call", "prompts/get", "resources/read"])
export const ASKS: ReadonlySet<string> = new Set(["elicitation/create", "sampling/createMessage", "roots/list"])

/** How long a `requestState` stays good: a round is a person answering a form, not a day. */
const STATE_TTL_MILLIS = 15 * 60 * 1000

/** What a `requestState` carries between rounds. */
export interface State {
  /** Answers received so far, by input request key. */
  readonly answers: Record<string, unknown>
  /** Results of `once` steps, by their key. */
  readonly once: Record<string, unknown>
  /** The keys asked for in the round this state was issued with. */
  readonly asked: ReadonlyArray<string>
}

const EMPTY: State = { answers: {}, once: {}, asked: [] }

/** JSON with sorted keys, so that equal values digest equally. */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (isRecord(value)) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/**
 * What a state is bound to: the method, and its params but for `_meta` and
 * the round's own fields, so that a state minted for one tool or one set of
 * arguments is refused for another.
 */
export const binding = (method: string, params: Record<string, unknown> | undefined): string => {
  const { _meta: _, inputResponses: __, requestState: ___, ...salient } = params ?? {}
  return createHash("sha256").update(`${method}\n${canonical(salient)}`).digest("base64url")
}

const mac = (key: StateKey, payload: string) => createHmac("sha256", key.secret).update(payload).digest()

/** Signs a state for `bound`, good for the state's lifetime from `now`. */
export const sign = (key: StateKey, bound: string, state: State, now: number): string => {
  const payload = Buffer.from(JSON.stringify({ v: 1, b: bound, e: now + STATE_TTL_MILLIS, ...state })).toString(
    "base64url"
  )
  return `${payload}.${mac(key, payload).toString("base64url")}`
}

const invalid = (why: string) => McpError.invalidParams(`requestState ${why}`)

/**
 * Reads a retry's `requestState`: refused (-32602) when it was not signed
 * with this key, belongs to another request, or has expired.
 */
export const verify = (key: StateKey, token: unknown, bound: string, now: number): State | McpError => {
  if (token === undefined) return EMPTY
  if (typeof token !== "string") return invalid("must be a string")
  const [payload, signature, extra] = token.split(".")
  if (payload === undefined || signature === undefined || extra !== undefined) return invalid("is malformed")
  const expected = mac(key, payload)
  const given = Buffer.from(signature, "base64url")
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid("was not issued here")
  const decoded = Either.try(() => JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown)
  if (Either.isLeft(decoded) || !isRecord(decoded.right)) return invalid("is malformed")
  const state = decoded.right
  if (state.b !== bound) return invalid("belongs to another request")
  if (typeof state.e !== "number" || state.e < now) return invalid("has expired; send the request again without it")
  if (!isRecord(state.answers) || !isRecord(state.once) || !Array.isArray(state.asked)) return invalid("is malformed")
  return { answers: state.answers, once: state.once, asked: state.asked.filter((k) => typeof k === "string") }
}

/**
 * The answers a retry brings for the keys its state asked for; unknown keys
 * are ignored, as the spec says. Not an object of objects: -32602.
 */
export const answersOf = (responses: unknown, asked: ReadonlyArray<string>): Record<string, unknown> | McpError => {
  if (responses === undefined) return {}
  if (!isRecord(responses)) return McpError.invalidParams("inputResponses must be an object")
  const answers: Record<string, unknown> = {}
  for (const key of asked) {
    if (!Object.hasOwn(responses, key)) continue
    const answer = responses[key]
    if (!isRecord(answer)) return McpError.invalidParams(`inputResponses["${key}"] must be an object`)
    answers[key] = answer
  }
  return answers
}

/** The key of the `n`th input request of one kind, the same on every replay of a deterministic handler. */
export const inputKey = (method: string, n: number): string => `${method.split("/")[0]}-${n}`

/** Lets concurrently started input requests (`Effect.all`) join the round before it is sent. */
export const settle: Effect.Effect<void> = Effect.repeatN(Effect.yieldNow(), 8)

/** One input request, as an `input_required` result lists it. */
interface InputRequest {
  readonly method: string
  readonly params: Record<string, unknown>
}

/**
 * One run of a handler in a multi-round-trip request: answers what was
 * answered before (from the retry and its state), collects what was not into
 * the next round, and ends the run with that round's `input_required` result.
 */
export class Round {
  private readonly answers: Record<string, unknown>
  private readonly once: Record<string, unknown>
  private readonly counts = new Map<string, number>()
  private readonly pending = new Map<string, InputRequest>()
  private readonly done = Deferred.unsafeMake<Record<string, unknown>>(FiberId.none)
  private scheduled = false

  constructor(
    private readonly key: StateKey,
    private readonly bound: string,
    state: State,
    answers: Record<string, unknown>
  ) {
    this.answers = { ...state.answers, ...answers }
    this.once = { ...state.once }
  }

  /** The answer to the next input request of this kind, or the end of this run until the client has it. */
  ask(method: string, params: Record<string, unknown>): Effect.Effect<unknown> {
    const n = (this.counts.get(method) ?? 0) + 1
    this.counts.set(method, n)
    const key = inputKey(method, n)
    if (Object.hasOwn(this.answers, key)) return Effect.succeed(this.answers[key])
    this.pending.set(key, { method, params })
    return Effect.zipRight(this.schedule, Effect.never)
  }

  /** Runs `effect` once across every run of the request: a replay gets the journaled result. */
  step<A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    if (Object.hasOwn(this.once, key)) return Effect.succeed(this.once[key] as A)
    return Effect.tap(effect, (value) => {
      this.once[key] = value
    })
  }

  /** This run's `input_required` result, once an input request has been made and the others have joined it. */
  get result(): Effect.Effect<Record<string, unknown>> {
    return Deferred.await(this.done)
  }

  private get schedule(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.scheduled) return Effect.void
      this.scheduled = true
      return settle.pipe(
        Effect.zipRight(Clock.currentTimeMillis),
        Effect.flatMap((now) => Deferred.succeed(this.done, this.inputRequired(now))),
        Effect.forkDaemon,
        Effect.asVoid
      )
    })
  }

  private inputRequired(now: number): Record<string, unknown> {
    const state: State = { answers: this.answers, once: this.once, asked: [...this.pending.keys()] }
    return {
      resultType: "input_required",
      inputRequests: Object.fromEntries(this.pending),
      requestState: sign(this.key, this.bound, state, now)
    }
  }
}
