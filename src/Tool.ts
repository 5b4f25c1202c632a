/**
 * Tools: functions the model can call. A tool's parameters and result are
 * Effect Schemas; its input and output JSON Schemas (dialect 2020-12) are
 * derived from them once, when the tool is made.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Tool } from "mcp-effect"
 *
 * const add = Tool.make("add", {
 *   description: "Add two numbers",
 *   parameters: { a: Schema.Number, b: Schema.Number },
 *   success: Schema.Number
 * }, ({ a, b }) => Effect.succeed(a + b))
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Either, Option, ParseResult, Schema, SchemaAST } from "effect"
import * as Content from "./Content.js"
import { failureMessage, recover } from "./internal/cause.js"
import { safeDecoder } from "./internal/guards.js"
import { type JsonObject, objectRoot, rootJsonSchema } from "./internal/jsonSchema.js"
import { xMcpHeaderProblem } from "./internal/modernHeaders.js"
import type { McpError } from "./McpError.js"
import { DefinitionError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import type { RequestContext } from "./RequestContext.js"

/**
 * A JSON Schema passed through to clients unchanged; arguments reach the handler undecoded.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonSchemaParameters {
  readonly _tag: "JsonSchema"
  readonly schema: JsonObject
}

/**
 * Declares parameters with a raw JSON Schema, sent to clients byte for byte as given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jsonSchema = (schema: JsonObject): JsonSchemaParameters => ({ _tag: "JsonSchema", schema })

/**
 * What a tool's `parameters` may be: struct fields, a schema of an object, or a raw JSON Schema.
 *
 * @since 0.1.0
 * @category models
 */
export type Parameters = Schema.Struct.Fields | Schema.Schema<any, any, never> | JsonSchemaParameters

/**
 * The decoded arguments a handler receives for the given parameters.
 *
 * @since 0.1.0
 * @category models
 */
export type ParametersType<P> = P extends JsonSchemaParameters ? Readonly<Record<string, unknown>>
  : P extends Schema.Schema<infer A, infer _I, infer _R> ? A
  : P extends Schema.Struct.Fields ? Schema.Struct.Type<P>
  : never

/**
 * What a handler without a `success` schema returns.
 *
 * @since 0.1.0
 * @category models
 */
export type Output =
  | string
  | McpSchema.ContentBlock
  | ReadonlyArray<McpSchema.ContentBlock>
  | McpSchema.CallToolResult

/**
 * Options of a tool: what clients see of it, its parameters and its result's schema.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<P extends Parameters, S extends Schema.Schema<any, any, never> | undefined> {
  readonly description?: string
  readonly title?: string
  readonly icons?: ReadonlyArray<McpSchema.Icon>
  readonly annotations?: McpSchema.ToolAnnotations
  readonly _meta?: McpSchema.Meta
  /** The arguments; omitted for a tool that takes none. */
  readonly parameters?: P
  /** The result's schema: the result is sent as `structuredContent` with a JSON text rendering. */
  readonly success?: S
  /**
   * The schema of the handler's typed failures: one that it matches is sent
   * as the error result's text (its message) and, encoded, in the result's
   * `_meta["mcp-effect/failure"]`, which a typed client (`Toolkit`) decodes
   * back into the same error. Other failures become error results as usual.
   *
   * @since 0.2.0
   */
  readonly failure?: Schema.Schema<any, any, never>
  /**
   * Whether a 2026-07-28 client that declares the tasks extension gets a task
   * for a call (`tasks/get` to follow it), rather than waiting for the
   * result: `"optional"` runs as a task for such a client and at once for
   * others; `"required"` refuses others with -32021. Default: never a task.
   */
  readonly task?: "optional" | "required"
  /**
   * When a call that becomes a task starts it: with the call (`"call"`, the
   * default), or when the handler runs `RequestContext.continueAsTask`
   * (`"explicit"`): before that point it runs as any request does, its
   * questions answered in rounds; a handler that ends before it answers the
   * call at once.
   */
  readonly taskStart?: "call" | "explicit"
  /**
   * What becomes of a task whose node stopped while it ran this tool, where
   * tasks run durably on several nodes (`mcp-effect/cluster`): `"rerun"`
   * (the default) runs the handler again on another node, its `once` steps
   * not repeated; `"fail"` fails the task, saying so, for a handler that
   * must not run twice even in part.
   *
   * @since 0.2.0
   */
  readonly taskRecovery?: "rerun" | "fail"
  /**
   * The OAuth scopes a caller's token must hold to call this tool, where an
   * authorization layer verified one (`ProtectedResource.layer`): over HTTP
   * a call without them is refused with 403 and the scopes to ask for, and
   * the tool is left out of the caller's `tools/list`. Where no principal was
   * verified (stdio, an unprotected endpoint) they are not checked.
   *
   * @since 0.2.0
   */
  readonly scopes?: ReadonlyArray<string>
}

/**
 * A tool ready to register: its wire definition and its handler.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tool<R = never> {
  readonly name: string
  readonly definition: McpSchema.ToolDefinition
  /** When a call that becomes a task starts it (see {@link Options.taskStart}). */
  readonly taskStart?: "call" | "explicit"
  /** What becomes of its task where its node stopped (see {@link Options.taskRecovery}). */
  readonly taskRecovery?: "rerun" | "fail"
  /** The scopes a verified caller must hold (see {@link Options.scopes}). */
  readonly scopes?: ReadonlyArray<string>
  readonly call: (
    args: Readonly<Record<string, unknown>> | undefined
  ) => Effect.Effect<McpSchema.CallToolResult, McpError, R | RequestContext>
}

const NAME = /^[A-Za-z0-9_.-]{1,128}$/

/**
 * Checks a tool name against the spec: 1–128 characters from `[A-Za-z0-9_.-]`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const validateName = (name: string): Either.Either<string, DefinitionError> =>
  NAME.test(name)
    ? Either.right(name)
    : Either.left(
      new DefinitionError({
        message: `Invalid tool name ${
          JSON.stringify(name)
        }: a tool name must be 1 to 128 characters from A-Z, a-z, 0-9, "_", "-" and "."`
      })
    )

const isJsonSchemaParameters = (p: unknown): p is JsonSchemaParameters =>
  typeof p === "object" && p !== null && "_tag" in p && p._tag === "JsonSchema"

const EMPTY_INPUT: JsonObject = { type: "object", properties: {}, additionalProperties: false }

const errorResult = (text: string): McpSchema.CallToolResult => ({ content: [Content.text(text)], isError: true })

const isCallToolResult = (u: Output): u is McpSchema.CallToolResult =>
  typeof u === "object" && !Array.isArray(u) && "content" in u && Array.isArray(u.content)

const toResult = (output: Output): McpSchema.CallToolResult => {
  if (typeof output === "string") return { content: [Content.text(output)] }
  if (Array.isArray(output)) return { content: output }
  if (isCallToolResult(output)) return output
  return { content: [output as McpSchema.ContentBlock] }
}

/**
 * The output side: a `success` schema whose JSON Schema is not an object is
 * wrapped as `{ result }`, since `structuredContent` must be an object.
 */
/**
 * Whether a tool's results of this `success` schema travel wrapped as
 * `{ result }`: its JSON Schema does not describe an object, and
 * `structuredContent` must be one.
 *
 * @since 0.2.0
 * @category combinators
 */
export const wrapsResult = (schema: Schema.Schema<any, any, never>): boolean => rootJsonSchema(schema).type !== "object"

const makeStructured = (schema: Schema.Schema<any, any, never>) => {
  const json = rootJsonSchema(schema)
  const wrap = json.type !== "object"
  const encode = Schema.encodeEither(schema)
  const outputSchema: JsonObject = wrap
    ? { type: "object", properties: { result: json }, required: ["result"] }
    : json
  return {
    outputSchema,
    toResult: (value: unknown): Effect.Effect<McpSchema.CallToolResult> =>
      Either.match(encode(value), {
        onLeft: (error) =>
          Effect.die(
            new Error(
              `Tool result does not match its success schema: ${ParseResult.TreeFormatter.formatErrorSync(error)}`
            )
          ),
        onRight: (encoded) => {
          const structuredContent: JsonObject = wrap ? { result: encoded } : encoded
          return Effect.succeed({ content: [Content.text(JSON.stringify(structuredContent))], structuredContent })
        }
      })
  }
}

/**
 * The `_meta` key under which a tool's typed failure travels, encoded, in its
 * error result (see {@link Options.failure}).
 *
 * @since 0.2.0
 * @category constants
 */
export const FAILURE_META = "mcp-effect/failure"

/** A typed failure as an error result (its message, and itself encoded); `undefined` for an error it does not match. */
const makeFailure = (schema: Schema.Schema<any, any, never>) => {
  const is = Schema.is(schema)
  const encode = Schema.encodeEither(schema)
  return (error: unknown): McpSchema.CallToolResult | undefined => {
    if (!is(error)) return undefined
    return Either.match(encode(error), {
      onLeft: () => undefined,
      onRight: (encoded) => ({ ...errorResult(failureMessage(error)), _meta: { [FAILURE_META]: encoded } })
    })
  }
}

const makeInput = (name: string, parameters: Parameters | undefined) => {
  if (parameters === undefined) {
    return { inputSchema: EMPTY_INPUT, decode: (args: unknown) => Either.right(args ?? {}) }
  }
  if (isJsonSchemaParameters(parameters)) {
    return { inputSchema: parameters.schema, decode: (args: unknown) => Either.right(args ?? {}) }
  }
  const schema = (Schema.isSchema(parameters) ? parameters : Schema.Struct(parameters)) as Schema.Schema<
    any,
    any,
    never
  >
  const decode = safeDecoder(schema, { errors: "all" })
  const json = rootJsonSchema(schema)
  return {
    // What does not describe objects is kept as it is, for `validate` to refuse with the schema in its message.
    inputSchema: objectRoot(json) ?? json,
    decode: (args: unknown) =>
      Either.mapLeft(decode(args ?? {}), (detail) => `Invalid arguments for tool "${name}": ${detail}`)
  }
}

/**
 * Makes a tool. The handler receives the decoded arguments. With a `success`
 * schema it returns a value of that schema; without one it returns text,
 * content blocks or a whole `CallToolResult`.
 *
 * Arguments that fail to decode and handler failures become `isError: true`
 * results with a message the model can read; an `McpError` failure becomes a
 * JSON-RPC error instead.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  const P extends Parameters = never,
  S extends Schema.Schema<any, any, never> | undefined = undefined,
  E = never,
  R = never
>(
  name: string,
  options: Options<P, S>,
  handler: (
    params: [P] extends [never] ? {} : ParametersType<P>
  ) => Effect.Effect<S extends Schema.Schema<infer A, infer _I, never> ? A : Output, E, R>
): Tool<Exclude<R, RequestContext>> => {
  const input = makeInput(name, options.parameters)
  const structured = options.success === undefined ? undefined : makeStructured(options.success)
  const definition: McpSchema.ToolDefinition = {
    name,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    inputSchema: input.inputSchema,
    ...(structured !== undefined ? { outputSchema: structured.outputSchema } : {}),
    ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
    ...(options.icons !== undefined ? { icons: options.icons } : {}),
    ...(options.task !== undefined ? { execution: { taskSupport: options.task } } : {}),
    ...(options._meta !== undefined ? { _meta: options._meta } : {})
  }
  // The decoder's output is the handler's input by construction of `makeInput`; and R is always within
  // `Exclude<R, RequestContext> | RequestContext`, which TypeScript cannot prove for a generic R.
  const run = (params: unknown) => {
    // Suspended: a handler that throws before returning its effect fails like any other.
    const effect = Effect.suspend(() => handler(params as [P] extends [never] ? {} : ParametersType<P>))
    return (structured === undefined
      ? Effect.map(effect, (output) => toResult(output as Output))
      : Effect.flatMap(effect, structured.toResult)) as Effect.Effect<
        McpSchema.CallToolResult,
        unknown,
        Exclude<R, RequestContext> | RequestContext
      >
  }
  const typedFailure = options.failure === undefined ? undefined : makeFailure(options.failure)
  const recoverCause = recover(
    `Tool "${name}"`,
    (error) => Effect.succeed(typedFailure?.(error) ?? errorResult(failureMessage(error))),
    () => Effect.succeed(errorResult(`Tool "${name}" failed with an internal error`))
  )
  return {
    name,
    definition,
    ...(options.taskStart !== undefined ? { taskStart: options.taskStart } : {}),
    ...(options.taskRecovery !== undefined ? { taskRecovery: options.taskRecovery } : {}),
    ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
    call: (args) =>
      Either.match(input.decode(args), {
        onLeft: (message) => Effect.succeed(errorResult(message)),
        onRight: (params) => Effect.catchAllCause(run(params), recoverCause)
      })
  }
}

/**
 * A tool from its wire definition, sent to clients as given (its input and
 * output JSON Schemas verbatim), and a handler of the arguments as they came:
 * nothing is decoded and the result is sent as the handler returns it. For
 * tools whose definition comes from elsewhere, such as another server's
 * `tools/list` (a proxy). The definition is still checked when registered.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpServer, Tool } from "mcp-effect"
 *
 * const Shout = McpServer.addTool(Tool.fromDefinition({
 *   name: "shout",
 *   inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] }
 * }, (args) => Effect.succeed({ content: [{ type: "text", text: String(args.text).toUpperCase() }] })))
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromDefinition = <R = never>(
  definition: McpSchema.ToolDefinition,
  handler: (
    args: Readonly<Record<string, unknown>>
  ) => Effect.Effect<McpSchema.CallToolResult, McpError, R>
): Tool<Exclude<R, RequestContext>> => ({
  name: definition.name,
  definition,
  // R is within `Exclude<R, RequestContext> | RequestContext`, which TypeScript cannot prove for a generic R.
  call: (args) =>
    Effect.suspend(() => handler(args ?? {})) as Effect.Effect<
      McpSchema.CallToolResult,
      McpError,
      Exclude<R, RequestContext> | RequestContext
    >
})

/**
 * Checks that a tool's input schema, and its output schema if any, has
 * `type: "object"` at its root: MCP requires it (arguments and structured
 * results are JSON objects), and clients such as the official SDK refuse a
 * whole tool list that breaks it.
 */
const validateSchemas = (definition: McpSchema.ToolDefinition): Either.Either<void, DefinitionError> => {
  const schemas = [["input", definition.inputSchema], ["output", definition.outputSchema]] as const
  for (const [side, schema] of schemas) {
    if (schema === undefined || schema.type === "object") continue
    return Either.left(
      new DefinitionError({
        message:
          `Invalid ${side} schema for tool ${JSON.stringify(definition.name)}: a tool's ${side} schema must have ` +
          `type "object" at its root, got ${JSON.stringify(schema)}`
      })
    )
  }
  // Clients drop a tool whose header annotations break the rules: refused here instead of vanishing there.
  const headerProblem = xMcpHeaderProblem(definition.inputSchema)
  return headerProblem === undefined ? Either.void : Either.left(
    new DefinitionError({
      message: `Invalid x-mcp-header in tool ${JSON.stringify(definition.name)}: ${headerProblem}`
    })
  )
}

/**
 * Marks a string, integer or boolean parameter to be mirrored in an
 * `Mcp-Param-<name>` HTTP header by 2026-07-28 clients (`x-mcp-header`), so
 * that gateways and load balancers can route on it without reading the
 * body. The server checks the header against the argument (-32020 when they
 * disagree). A tool whose marks break the rules (not a token, a duplicate, on
 * a number or a nested array) is refused when registered.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer, Tool } from "mcp-effect"
 *
 * const Forecast = McpServer.tool("forecast", {
 *   parameters: { region: Schema.String.pipe(Tool.header("Region")), days: Schema.Int }
 * }, ({ days, region }) => Effect.succeed(`${days} days of sun in ${region}`))
 * ```
 *
 * @since 0.2.0
 * @category parameters
 */
export const header = (name: string) => <S extends Schema.Annotable.All>(schema: S): Schema.Annotable.Self<S> => {
  // Merged into the schema's own JSON Schema annotation (Schema.Int's `type: "integer"`), not in its place.
  const own = Option.getOrElse(SchemaAST.getJSONSchemaAnnotation(schema.ast), () => ({}))
  return schema.annotations({ jsonSchema: { ...own, "x-mcp-header": name } })
}

/**
 * Validates a tool when it is registered: its name, and its schemas' root type.
 *
 * @since 0.1.0
 * @category combinators
 */
export const validate = <R>(tool: Tool<R>): Effect.Effect<Tool<R>, DefinitionError> =>
  Either.match(Either.flatMap(validateName(tool.name), () => validateSchemas(tool.definition)), {
    onLeft: Effect.fail,
    onRight: () => Effect.succeed(tool)
  })
