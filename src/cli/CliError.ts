/**
 * The one error the command line reports: a sentence for the user, printed
 * as one line on stderr with a non-zero exit, never a stack trace.
 */
import { Schema } from "effect"

export class CliError extends Schema.TaggedError<CliError>()("CliError", {
  message: Schema.String
}) {}

/** The first line of an error's message, without its stack. */
export const describe = (cause: unknown): string => {
  const message = cause instanceof Error ? cause.message : String(cause)
  return message.split("\n")[0] ?? message
}
