import { Cause, Effect, Option, Tracer } from "effect"
import { ErrorCode, McpError } from "../McpError.js"

/** The message a model reads when a handler fails: the error's own message, never a stack. */
export const failureMessage = (error: unknown): string => {
  if (typeof error === "string") return error
  if (typeof error === "object" && error !== null) {
    if ("message" in error && typeof error.message === "string" && error.message !== "") return error.message
    if ("_tag" in error && typeof error._tag === "string") return error._tag
  }
  return String(error)
}

/** Marks a log entry as the server's own diagnostics, which the client logger does not forward. */
export const INTERNAL = "mcp-effect/internal"

/** Logs a defect as the server's own diagnostics: on stderr (or wherever logs go), never to the client. */
export const logDefect = (message: string, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Effect.logError(message, cause).pipe(Effect.annotateLogs(INTERNAL, true))

/** Logs something thrown where no fiber could catch it, as the server's own diagnostics. */
export const logThrown = (message: string, thrown: unknown): Effect.Effect<void> =>
  logDefect(message, Cause.die(thrown))

const ControlSignalTypeId: unique symbol = Symbol.for("mcp-effect/ControlSignal")

/**
 * A control signal: raised on purpose, as a defect, to end a handler early
 * with something other than its result (the 2026-07-28 era ends a round with
 * an `input_required` result this way). A defect, so that a handler's own
 * `catchAll` does not swallow it; error recovery lets it through untouched.
 */
export abstract class ControlSignal {
  readonly [ControlSignalTypeId] = ControlSignalTypeId
}

export const isControlSignal = (u: unknown): u is ControlSignal =>
  typeof u === "object" && u !== null && ControlSignalTypeId in u

/** The control signal a cause carries, if it carries one. */
export const controlSignalOf = (cause: Cause.Cause<unknown>): Option.Option<ControlSignal> =>
  Cause.find(
    cause,
    (reason) => Cause.isDieType(reason) && isControlSignal(reason.defect) ? Option.some(reason.defect) : Option.none()
  )

/**
 * Turns a handler's failure cause into what the protocol sends: an `McpError`
 * passes through, another typed failure goes through `onFailure`, an
 * interruption stays one, a control signal passes through untouched, and a
 * defect is logged on our side and answered with `onDefect`, so no stack
 * trace or path reaches the client.
 */
export const recover = <A>(
  label: string,
  onFailure: (error: unknown) => Effect.Effect<A, McpError>,
  onDefect: () => Effect.Effect<A, McpError>
) =>
(cause: Cause.Cause<unknown>): Effect.Effect<A, McpError> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    return failure.value instanceof McpError ? Effect.fail(failure.value) : onFailure(failure.value)
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.interrupt
  const signal = controlSignalOf(cause)
  if (Option.isSome(signal)) return Effect.die(signal.value)
  return logDefect(`${label} failed`, cause).pipe(Effect.zipRight(recordOnSpan(cause)), Effect.zipRight(onDefect()))
}

/**
 * Records a defect on the current span (a request's, when telemetry is on)
 * as the conventions' `exception` event: the client gets a safe -32603 or
 * `isError`, the operator's trace the cause.
 */
const recordOnSpan = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(Tracer.ParentSpan), (span) => {
    if (Option.isNone(span) || span.value._tag !== "Span") return Effect.void
    const target = span.value
    const [error] = Cause.prettyErrors(cause)
    return Effect.clockWith((clock) =>
      Effect.sync(() =>
        target.event("exception", clock.unsafeCurrentTimeNanos(), {
          "exception.type": error?.name ?? "Defect",
          "exception.message": error?.message ?? "",
          "exception.stacktrace": Cause.pretty(cause)
        })
      )
    )
  })

/**
 * For handlers whose failures are JSON-RPC errors (resources, prompts): a
 * typed failure becomes -32603 with `prefix` and its message, a defect a safe
 * "Internal error".
 */
export const recoverAsError = (label: string, prefix: string) =>
  recover<never>(
    label,
    (error) =>
      Effect.fail(new McpError({ code: ErrorCode.InternalError, message: `${prefix}: ${failureMessage(error)}` })),
    () => Effect.fail(McpError.internal())
  )
