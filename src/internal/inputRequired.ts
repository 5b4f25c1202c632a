/**
 * Multi-round-trip requests (2026-07-28): a modern client gets no requests
 * from the server. A handler that elicits, samples or lists roots is instead
 * answered with an `input_required` result naming what it needs; the client
 * retries with the answers, and the handler runs again from the start. This
 * module keeps what a retry needs in `requestState`, signed with the
 * server's key: the answers received so far, the results of `once` steps,
 * and what request the state belongs to.
 */
import { Clock, Config, Deferred, Effect, Either, Encoding, FiberId, FiberRef, Option, Redacted } from "effect"
import { McpError } from "../McpError.js"
import type * as McpSchema from "../McpSchema.js"
import { INTERNAL } from "./cause.js"
import { isRecord } from "./guards.js"

/**
 * The server's key for `requestState`, and whether it was made up for this
 * process only. Web Crypto, so that the core runs wherever `crypto.subtle`
 * does (Node, Deno, Bun, workers).
 */
export interface StateKey {
  readonly hmac: Effect.Effect<Awaited<ReturnType<typeof crypto.subtle.importKey>>>
  readonly ephemeral: boolean
}

const makeKey = (secret: Uint8Array, ephemeral: boolean): StateKey => ({
  hmac: Effect.cached(
    Effect.promise(() =>
      crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])
    )
  ).pipe(Effect.runSync),
  ephemeral
})

/** A key for one process, for development: a state it signs is refused by any other process. */
export const ephemeralKey = (): StateKey => makeKey(crypto.getRandomValues(new Uint8Array(32)), true)

/**
 * The key from `MCP_REQUEST_STATE_KEY` (every node of a deployment must
 * share it), or an ephemeral one, with a warning the first time a state is
 * signed with it. An empty value is no key (HMAC cannot take one): as unset.
 */
export const configuredKey: Effect.Effect<StateKey> = Config.redacted("MCP_REQUEST_STATE_KEY").pipe(
  Config.option,
  Effect.map(Option.match({
    onNone: ephemeralKey,
    onSome: (secret) => {
      const bytes = new TextEncoder().encode(Redacted.value(secret))
      return bytes.length === 0 ? ephemeralKey() : makeKey(bytes, false)
    }
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

/**
 * Whether a request runs in a round: one of the round methods, from a client
 * that can be asked something (it declares elicitation, sampling or roots,
 * which every question is checked against before it is asked), or that
 * brings a round's answers or state. Any other request runs without one: no
 * race against a round that cannot come, no digest.
 */
export const needsRound = (
  method: string,
  params: Record<string, unknown> | undefined,
  capabilities: McpSchema.ClientCapabilities
): boolean =>
  ROUND_METHODS.has(method) && (
    capabilities.elicitation !== undefined || capabilities.sampling !== undefined ||
    capabilities.roots !== undefined || params?.requestState !== undefined || params?.inputResponses !== undefined
  )

/** How long a `requestState` stays good: a round is a person answering a form, not a day. */
const STATE_TTL_MILLIS = 15 * 60 * 1000

/** What a `requestState` carries between rounds. */
export interface State {
  /** Answers received so far, by input request key. */
  readonly answers: Record<string, unknown>
  /** Results of `once` steps, by their key. */
  readonly once: Record<string, unknown>
}

const EMPTY: State = { answers: {}, once: {} }

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
 * arguments is refused for another. Computed when first needed (a state to
 * verify, or one to sign), then remembered: most requests need neither, and
 * the digest is an asynchronous call.
 */
export const binding = (method: string, params: Record<string, unknown> | undefined): Effect.Effect<string> => {
  let bound: string | undefined
  return Effect.suspend(() => {
    if (bound !== undefined) return Effect.succeed(bound)
    const { _meta: _, inputResponses: __, requestState: ___, ...salient } = params ?? {}
    const text = new TextEncoder().encode(`${method}\n${canonical(salient)}`)
    return Effect.map(
      Effect.promise(() => crypto.subtle.digest("SHA-256", text)),
      (digest) => (bound = Encoding.encodeBase64Url(new Uint8Array(digest)))
    )
  })
}

/** Signs a state for `bound`, good for the state's lifetime from `now`. */
export const sign = (key: StateKey, bound: string, state: State, now: number): Effect.Effect<string> => {
  const payload = Encoding.encodeBase64Url(JSON.stringify({ v: 1, b: bound, e: now + STATE_TTL_MILLIS, ...state }))
  return Effect.flatMap(key.hmac, (hmac) =>
    Effect.map(
      Effect.promise(() => crypto.subtle.sign("HMAC", hmac, new TextEncoder().encode(payload))),
      (signature) => `${payload}.${Encoding.encodeBase64Url(new Uint8Array(signature))}`
    ))
}

const invalid = (why: string) => McpError.invalidParams(`requestState ${why}`)

/**
 * Reads a retry's `requestState`: refused (-32602) when it was not signed
 * with this key, belongs to another request, or has expired.
 */
export const verify = (
  key: StateKey,
  token: unknown,
  bound: Effect.Effect<string>,
  now: number
): Effect.Effect<State, McpError> => {
  if (token === undefined) return Effect.succeed(EMPTY)
  if (typeof token !== "string") return Effect.fail(invalid("must be a string"))
  const [payload, signature, extra] = token.split(".")
  const given = signature === undefined ? undefined : Either.getOrUndefined(Encoding.decodeBase64Url(signature))
  if (payload === undefined || given === undefined || extra !== undefined) return Effect.fail(invalid("is malformed"))
  return Effect.flatMap(key.hmac, (hmac) =>
    Effect.flatMap(
      // Web Crypto's verify compares in constant time.
      Effect.promise(() => crypto.subtle.verify("HMAC", hmac, given, new TextEncoder().encode(payload))),
      (valid) =>
        valid ? Effect.flatMap(bound, (b) => readState(payload, b, now)) : Effect.fail(invalid("was not issued here"))
    ))
}

const readState = (payload: string, bound: string, now: number): Effect.Effect<State, McpError> => {
  const decoded = Either.flatMap(
    Encoding.decodeBase64UrlString(payload),
    (text) => Either.try((): unknown => JSON.parse(text))
  )
  if (Either.isLeft(decoded) || !isRecord(decoded.right)) return Effect.fail(invalid("is malformed"))
  const state = decoded.right
  if (state.b !== bound) return Effect.fail(invalid("belongs to another request"))
  if (typeof state.e !== "number" || state.e < now) {
    return Effect.fail(invalid("has expired; send the request again without it"))
  }
  if (!isRecord(state.answers) || !isRecord(state.once)) return Effect.fail(invalid("is malformed"))
  return Effect.succeed({ answers: state.answers, once: state.once })
}

/**
 * The answers a retry brings, by key. Answers to keys no run asks for are
 * never read (the spec's "ignore unknown keys"); an answer to a question not
 * asked yet is the client's own to give. Not an object of objects: -32602.
 */
export const answersOf = (responses: unknown): Record<string, unknown> | McpError => {
  if (responses === undefined) return {}
  if (!isRecord(responses)) return McpError.invalidParams("inputResponses must be an object")
  for (const [key, answer] of Object.entries(responses)) {
    if (!isRecord(answer)) return McpError.invalidParams(`inputResponses["${key.slice(0, 100)}"] must be an object`)
  }
  return responses
}

/** The key the next input request in this fiber is made under, if the handler named one. */
export const currentInputKey: FiberRef.FiberRef<string | undefined> = FiberRef.unsafeMake<string | undefined>(
  undefined
)

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
    private readonly bound: Effect.Effect<string>,
    state: State,
    answers: Record<string, unknown>
  ) {
    this.answers = { ...state.answers, ...answers }
    this.once = { ...state.once }
  }

  /**
   * The answer to an input request (under the key the handler named, or the
   * next one of its kind), or the end of this run until the client has it.
   */
  ask(method: string, params: Record<string, unknown>): Effect.Effect<unknown> {
    return Effect.flatMap(FiberRef.get(currentInputKey), (named) => {
      const key = named ?? this.nextKey(method)
      if (Object.hasOwn(this.answers, key)) return Effect.succeed(this.answers[key])
      this.pending.set(key, { method, params })
      return Effect.zipRight(this.schedule, Effect.never)
    })
  }

  private nextKey(method: string): string {
    const n = (this.counts.get(method) ?? 0) + 1
    this.counts.set(method, n)
    return inputKey(method, n)
  }

  /** Runs `effect` once across every run of the request: a replay gets the journaled result. */
  step<A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    if (Object.hasOwn(this.once, key)) return Effect.succeed(this.once[key] as A)
    return Effect.tap(effect, (value) => {
      this.once[key] = value
    })
  }

  /** What the rounds so far have journaled: their answers and `once` results. */
  get journal(): State {
    return { answers: { ...this.answers }, once: { ...this.once } }
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
        Effect.flatMap((now) => this.inputRequired(now)),
        Effect.flatMap((result) => Deferred.succeed(this.done, result)),
        Effect.forkDaemon,
        Effect.asVoid
      )
    })
  }

  private inputRequired(now: number): Effect.Effect<Record<string, unknown>> {
    const state: State = { answers: this.answers, once: this.once }
    return Effect.map(Effect.flatMap(this.bound, (bound) => sign(this.key, bound, state, now)), (requestState) => ({
      resultType: "input_required",
      inputRequests: Object.fromEntries(this.pending),
      requestState
    }))
  }
}
