import { Effect, Either, ParseResult, Schema } from "effect"
import { McpError } from "../McpError.js"
import type { RequestId } from "../McpSchema.js"

/** A JSON object: not null, not an array. */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A JSON-RPC id: a string or an integer. */
export const isRequestId = (u: unknown): u is RequestId => typeof u === "string" || Number.isInteger(u)

/**
 * A decoder compiled once for a message from the peer: a mismatch fails with
 * -32602, saying what was malformed and where.
 */
export const decodeOrInvalid = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (u: unknown): Effect.Effect<A, McpError> =>
    Either.match(decode(u), {
      onLeft: (error) =>
        Effect.fail(McpError.invalidParams(`malformed ${what}: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)),
      onRight: Effect.succeed
    })
}
