/**
 * Prompts: reusable message templates the user picks. Arguments are strings on
 * the wire; their schemas decode them (so `Schema.NumberFromString` gives a
 * number) and `Schema.optional` marks an argument as not required.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Prompt } from "mcp-effect"
 *
 * const review = Prompt.make("review_code", {
 *   description: "Review a piece of code",
 *   parameters: { code: Schema.String }
 * }, ({ code }) => Effect.succeed(`Please review this code:\n\n${code}`))
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Either, Option, Schema, SchemaAST } from "effect"
import * as Completion from "./Completion.js"
import * as Content from "./Content.js"
import { recoverAsError } from "./internal/cause.js"
import { ownEntries, safeDecoder } from "./internal/guards.js"
import { DefinitionError, McpError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import type { RequestContext } from "./RequestContext.js"

/**
 * Argument schemas, by name. Each must decode from a string (its encoded side
 * a string, or a subtype such as a literal union); `Options` checks that, by
 * name, since a schema's type parameters are invariant and a bound of
 * `Schema<any, string>` would refuse `Schema.Literal("short", "long")`.
 *
 * @since 0.1.0
 * @category models
 */
export type Parameters = {
  readonly [name: string]:
    | Schema.Schema<any, any, never>
    | Schema.PropertySignature<"?:", any, PropertyKey, "?:", any, boolean, never>
}

/**
 * What an argument that does not decode from a string is checked against, so
 * that the compiler's error names the rule.
 *
 * @since 0.2.0
 *
 * @category models
 */
export interface ArgumentMustDecodeFromAString {
  readonly "a prompt argument's schema must decode from a string": never
}

/**
 * `P`, with each argument whose encoded side is not a string (or, optional,
 * a string or undefined) replaced by `ArgumentMustDecodeFromAString`.
 *
 * @since 0.2.0
 *
 * @category models
 */
export type StringArguments<P> = {
  readonly [K in keyof P]: P[K] extends Schema.Schema.Any
    ? [Schema.Schema.Encoded<P[K]>] extends [string] ? P[K] : ArgumentMustDecodeFromAString
    : [Schema.Schema.Encoded<P[K]>] extends [string | undefined] ? P[K]
    : ArgumentMustDecodeFromAString
}

/**
 * What a handler returns: text (one user message), messages, or a whole result.
 *
 * @since 0.1.0
 * @category models
 */
export type Output =
  | string
  | McpSchema.PromptMessage
  | ReadonlyArray<McpSchema.PromptMessage>
  | McpSchema.GetPromptResult

/**
 * Options of a prompt: what clients see of it, its arguments, their descriptions and completers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<P extends Parameters, R> {
  readonly title?: string
  readonly description?: string
  readonly icons?: ReadonlyArray<McpSchema.Icon>
  readonly _meta?: McpSchema.Meta
  readonly parameters?: P & StringArguments<P>
  /** Argument descriptions shown to the user, by name. */
  readonly descriptions?: { readonly [K in keyof P]?: string }
  readonly complete?: { readonly [K in keyof P]?: Completion.Completer<R> }
  /**
   * The OAuth scopes a caller's token must hold to get this prompt, where an
   * authorization layer verified one (`ProtectedResource.layer`): over HTTP
   * a request without them is refused with 403 and the scopes to ask for,
   * and the prompt is left out of the caller's `prompts/list`. Not checked
   * where no principal was verified (stdio).
   *
   * @since 0.2.0
   */
  readonly scopes?: ReadonlyArray<string>
}

/**
 * A prompt ready to register: its wire definition, its handler and its completers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Prompt<R = never> {
  readonly name: string
  readonly definition: McpSchema.Prompt
  /** The scopes a verified caller must hold (see {@link Options.scopes}). */
  readonly scopes?: ReadonlyArray<string>
  readonly get: (
    args: Readonly<Record<string, string>> | undefined
  ) => Effect.Effect<McpSchema.GetPromptResult, McpError, R | RequestContext>
  readonly complete: (argument: string, value: string, context: Completion.Context) => Effect.Effect<
    McpSchema.CompleteResult,
    never,
    R
  >
}

/**
 * A user message.
 *
 * @since 0.1.0
 * @category combinators
 */
export const user = (content: string | McpSchema.ContentBlock): McpSchema.PromptMessage => ({
  role: "user",
  content: typeof content === "string" ? Content.text(content) : content
})

/**
 * An assistant message.
 *
 * @since 0.1.0
 * @category combinators
 */
export const assistant = (content: string | McpSchema.ContentBlock): McpSchema.PromptMessage => ({
  role: "assistant",
  content: typeof content === "string" ? Content.text(content) : content
})

const isResult = (output: Output): output is McpSchema.GetPromptResult =>
  typeof output === "object" && !Array.isArray(output) && "messages" in output

const toResult = (description: string | undefined, output: Output): McpSchema.GetPromptResult => {
  if (typeof output === "string") return withDescription(description, [user(output)])
  if (Array.isArray(output)) return withDescription(description, output)
  if (isResult(output)) return output
  return withDescription(description, [output as McpSchema.PromptMessage])
}

const withDescription = (description: string | undefined, messages: ReadonlyArray<McpSchema.PromptMessage>) =>
  description === undefined ? { messages } : { description, messages }

/**
 * Makes a prompt. Missing required or undecodable arguments answer -32602.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const P extends Parameters = {}, E = never, R = never>(
  name: string,
  options: Options<P, R>,
  handler: (args: Schema.Struct.Type<P>) => Effect.Effect<Output, E, R>
): Prompt<Exclude<R, RequestContext>> => {
  if (name.length === 0) throw new DefinitionError({ message: "A prompt name must not be empty" })
  const struct = Schema.Struct(options.parameters ?? {})
  const decode = safeDecoder(struct, { errors: "all" }) as (u: unknown) => Either.Either<Schema.Struct.Type<P>, string>
  const descriptions: Readonly<Record<string, string | undefined>> = options.descriptions ?? {}
  // Own keys only: a client names the argument, and `constructor` must not find Object's.
  const completers = ownEntries<Completion.Completer<R>>(options.complete)
  const ast = struct.ast
  const signatures = SchemaAST.isTypeLiteral(ast) ? ast.propertySignatures : []
  const args = signatures.map((ps): McpSchema.PromptArgument => {
    const argName = String(ps.name)
    // The bare `Schema.String` carries a generic description ("a string"); only a user's own is worth sending.
    const annotated = ps.type === SchemaAST.stringKeyword
      ? undefined
      : Option.getOrUndefined(SchemaAST.getDescriptionAnnotation(ps.type))
    const description = (Object.hasOwn(descriptions, argName) ? descriptions[argName] : undefined) ?? annotated
    return {
      name: argName,
      ...(description !== undefined ? { description } : {}),
      required: !ps.isOptional
    }
  })
  const definition: McpSchema.Prompt = {
    name,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(args.length > 0 ? { arguments: args } : {}),
    ...(options.icons !== undefined ? { icons: options.icons } : {}),
    ...(options._meta !== undefined ? { _meta: options._meta } : {})
  }
  const recoverCause = recoverAsError(`Prompt "${name}"`, `Prompt "${name}" failed`)
  return {
    name,
    definition,
    ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
    get: (input) =>
      Either.match(decode(input ?? {}), {
        onLeft: (detail) => Effect.fail(McpError.invalidParams(`Invalid arguments for prompt "${name}": ${detail}`)),
        onRight: (decoded) =>
          // Suspended: a handler that throws before returning its effect fails like any other.
          Effect.suspend(() => handler(decoded)).pipe(
            Effect.map((output) => toResult(options.description, output)),
            Effect.catchAllCause(recoverCause)
          ) as Effect.Effect<McpSchema.GetPromptResult, McpError, Exclude<R, RequestContext> | RequestContext>
      }),
    complete: (argument, value, context) =>
      Completion.run(completers.get(argument), value, context) as Effect.Effect<
        McpSchema.CompleteResult,
        never,
        Exclude<R, RequestContext>
      >
  }
}
