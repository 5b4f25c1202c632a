import { Cause, Effect, Option } from "effect"
import { McpError } from "../McpError.js"

/** Marks a log entry as the server's own diagnostics, which the client logger does not forward. */
export const INTERNAL = "mcp-effect/internal"

/**
 * Turns a handler's failure cause into what the protocol sends: an `McpError`
 * passes through, another typed failure goes through `onFailure`, an
 * interruption stays one, and a defect is logged on our side and answered
 * with `onDefect`, so no stack trace or path reaches the client.
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
  return Effect.logError(`${label} failed`, cause).pipe(
    Effect.annotateLogs(INTERNAL, true),
    Effect.zipRight(onDefect())
  )
}
