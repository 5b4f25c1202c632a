import { Effect, Either, ParseResult, Schema } from "effect"
import type { SchemaAST } from "effect"
import { McpError } from "../McpError.js"
import type { RequestId } from "../McpSchema.js"

/** A JSON object: not null, not an array. */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** A JSON-RPC id: a string or an integer. */
export const isRequestId = (u: unknown): u is RequestId => typeof u === "string" || Number.isInteger(u)

/** How deep a value may nest and still be shown in an error message. */
export const MAX_DESCRIBED_DEPTH = 64

/** The longest description of a malformed value sent back to the peer, in characters. */
export const MAX_DESCRIPTION = 2000

/**
 * Whether `u` nests arrays and objects deeper than `max` levels. Walked
 * without recursion, so that no depth overflows the stack (JSON.parse itself
 * reads a 100,000-deep array, which Schema's error formatter then could not
 * describe).
 */
export const nestsDeeperThan = (u: unknown, max: number): boolean => {
  if (typeof u !== "object" || u === null) return false
  const values: Array<unknown> = [u]
  const depths: Array<number> = [1]
  while (values.length > 0) {
    const value = values.pop()
    const depth = depths.pop()!
    if (depth > max) return true
    if (typeof value !== "object" || value === null) continue
    for (const item of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof item === "object" && item !== null) {
        values.push(item)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/**
 * A Schema decode failure as a message safe to send back: at most
 * `MAX_DESCRIPTION` characters, and a value nested deeper than
 * `MAX_DESCRIBED_DEPTH` is described rather than shown (formatting it could
 * overflow the stack, and its text would be as deep as the value).
 */
export const describeParseError = (error: ParseResult.ParseError, input: unknown): string => {
  if (nestsDeeperThan(input, MAX_DESCRIBED_DEPTH)) return `the value nests deeper than ${MAX_DESCRIBED_DEPTH} levels`
  let text: string
  try {
    text = ParseResult.TreeFormatter.formatErrorSync(error)
  } catch {
    return "the value does not match its schema"
  }
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION)}… (truncated)` : text
}

/**
 * A decoder compiled once for a value from the peer: the decoded value, or a
 * short description of what is wrong with it (see {@link describeParseError}).
 * A schema that recurses into a value nested deeply enough overflows the
 * stack: that too is a malformed value, never a defect.
 */
export const safeDecoder = <A, I>(schema: Schema.Schema<A, I>, options?: SchemaAST.ParseOptions) => {
  const decode = Schema.decodeUnknownEither(schema, options)
  return (u: unknown): Either.Either<A, string> => {
    let decoded: Either.Either<A, ParseResult.ParseError>
    try {
      decoded = decode(u)
    } catch (thrown) {
      if (thrown instanceof RangeError) return Either.left("the value is nested too deeply to decode")
      throw thrown
    }
    return Either.mapLeft(decoded, (error) => describeParseError(error, u))
  }
}

/**
 * A decoder compiled once for a message from the peer: a mismatch fails with
 * -32602, saying what was malformed and where.
 */
export const decodeOrInvalid = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const decode = safeDecoder(schema)
  return (u: unknown): Effect.Effect<A, McpError> =>
    Either.match(decode(u), {
      onLeft: (detail) => Effect.fail(McpError.invalidParams(`malformed ${what}: ${detail}`)),
      onRight: Effect.succeed
    })
}

/**
 * The entries of a definition's table of functions or texts by name (completers,
 * say) as a `Map`, own keys only: a client names what it wants, and a name
 * such as `constructor` or `__proto__` must find nothing rather than what
 * every object inherits.
 */
export const ownEntries = <A>(
  table: { readonly [name: string]: A | undefined } | undefined
): ReadonlyMap<string, A> => {
  const entries = new Map<string, A>()
  for (const [name, value] of Object.entries(table ?? {})) if (value !== undefined) entries.set(name, value)
  return entries
}
