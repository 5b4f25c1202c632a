/**
 * Argument completion for prompts and resource templates
 * (`completion/complete`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Completion } from "mcp-effect"
 *
 * const languages: Completion.Completer = (value) =>
 *   Effect.succeed(["python", "typescript", "rust"].filter((l) => l.startsWith(value)))
 * ```
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type * as McpSchema from "./McpSchema.js"

/**
 * The values already given for the other arguments.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  readonly arguments: Readonly<Record<string, string>>
}

/**
 * Suggests values for one argument, given what has been typed so far.
 *
 * @since 0.1.0
 * @category models
 */
export type Completer<R = never> = (
  value: string,
  context: Context
) => Effect.Effect<ReadonlyArray<string>, never, R>

/**
 * Completers keyed by argument name.
 *
 * @since 0.1.0
 * @category models
 */
export type Completers<R = never> = Readonly<Record<string, Completer<R>>>

/**
 * The spec's cap on values in one completion result.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_VALUES = 100

/**
 * The completion that offers nothing.
 *
 * @since 0.1.0
 * @category constants
 */
export const EMPTY: McpSchema.CompleteResult = { completion: { values: [], total: 0, hasMore: false } }

/**
 * Runs a completer and caps its answer at 100 values, with `total` and `hasMore`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = <R>(
  completer: Completer<R> | undefined,
  value: string,
  context: Context
): Effect.Effect<McpSchema.CompleteResult, never, R> =>
  completer === undefined
    ? Effect.succeed(EMPTY)
    : Effect.map(Effect.suspend(() => completer(value, context)), (values) => ({
      completion: {
        values: values.slice(0, MAX_VALUES),
        total: values.length,
        hasMore: values.length > MAX_VALUES
      }
    }))
