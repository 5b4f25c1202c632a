/**
 * Tools shared as values between a server and its clients, as `@effect/rpc`
 * shares its groups: a `Toolkit` names its tools' parameters, results and
 * typed failures once; the server implements it with `toLayer`, and a client
 * calls it with `client`, each tool an `Effect` of its decoded result that
 * fails with its decoded typed failure. No other MCP SDK gives this.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpClient, Toolkit } from "mcp-effect"
 *
 * class DivideByZero extends Schema.TaggedError<DivideByZero>()("DivideByZero", {}) {}
 *
 * const Calculator = Toolkit.make(
 *   Toolkit.tool("add", { parameters: { a: Schema.Number, b: Schema.Number }, success: Schema.Number }),
 *   Toolkit.tool("divide", {
 *     parameters: { a: Schema.Number, b: Schema.Number },
 *     success: Schema.Number,
 *     failure: DivideByZero
 *   })
 * )
 *
 * // The server's side: one handler per tool, typed by the toolkit.
 * export const CalculatorLive = Calculator.toLayer({
 *   add: ({ a, b }) => Effect.succeed(a + b),
 *   divide: ({ a, b }) => b === 0 ? Effect.fail(new DivideByZero()) : Effect.succeed(a / b)
 * })
 *
 * // A client's side: `math.divide` fails with DivideByZero, decoded.
 * export const program = (client: McpClient.Service) =>
 *   Effect.gen(function*() {
 *     const math = Calculator.client(client)
 *     return yield* math.add({ a: 2, b: 3 })
 *   })
 * ```
 *
 * @since 0.2.0
 */
import { Effect, Layer, Option, ParseResult, Schema } from "effect"
import { isRecord } from "./internal/guards.js"
import type * as McpClient from "./McpClient.js"
import type { DefinitionError, RequestError } from "./McpError.js"
import { ToolCallError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import * as McpServer from "./McpServer.js"
import type { RequestContext } from "./RequestContext.js"
import * as Tool from "./Tool.js"

/**
 * A tool's definition without its handler: its name, and the schemas of its
 * parameters, result and typed failures.
 *
 * @since 0.2.0
 * @category models
 */
export interface Definition<
  Name extends string,
  P extends Schema.Struct.Fields,
  S extends Schema.Schema.AnyNoContext,
  F extends Schema.Schema.AnyNoContext | undefined
> {
  readonly name: Name
  readonly options: ToolOptions<P, S, F>
}

/**
 * Any tool definition.
 *
 * @since 0.2.0
 * @category models
 */
export type Any = Definition<
  string,
  Schema.Struct.Fields,
  Schema.Schema.AnyNoContext,
  Schema.Schema.AnyNoContext | undefined
>

/**
 * Options of {@link tool}: a tool's options, with its `success` schema
 * required (a typed call returns a value), and `failure` the schema of its
 * typed failures.
 *
 * @since 0.2.0
 * @category models
 */
export type ToolOptions<
  P extends Schema.Struct.Fields,
  S extends Schema.Schema.AnyNoContext,
  F extends Schema.Schema.AnyNoContext | undefined
> = Omit<Tool.Options<P, S>, "parameters" | "success" | "failure"> & {
  readonly parameters?: P
  readonly success: S
  readonly failure?: F
}

/**
 * Defines a tool, without its handler.
 *
 * @since 0.2.0
 * @category constructors
 */
export const tool = <
  const Name extends string,
  S extends Schema.Schema.AnyNoContext,
  P extends Schema.Struct.Fields = {},
  F extends Schema.Schema.AnyNoContext | undefined = undefined
>(name: Name, options: ToolOptions<P, S, F>): Definition<Name, P, S, F> => ({ name, options })

/** The decoded parameters, result and failure of a definition. */
type Params<T extends Any> = Schema.Struct.Type<NonNullable<T["options"]["parameters"]>>
type Success<T extends Any> = Schema.Schema.Type<T["options"]["success"]>
type Failure<T extends Any> = NonNullable<T["options"]["failure"]> extends Schema.Schema<infer A, infer _I, never> ? A
  : never

/**
 * The handlers of a toolkit's tools, by name.
 *
 * @since 0.2.0
 * @category models
 */
export type Handlers<Tools extends Any, R> = {
  readonly [T in Tools as T["name"]]: (params: Params<T>) => Effect.Effect<Success<T>, Failure<T>, R>
}

/**
 * A typed client of a toolkit's tools, by name.
 *
 * @since 0.2.0
 * @category models
 */
export type Client<Tools extends Any> = {
  readonly [T in Tools as T["name"]]: (
    params: Params<T>
  ) => Effect.Effect<Success<T>, Failure<T> | ToolCallError | RequestError>
}

/**
 * Tools defined together, implemented by a server and called by clients.
 *
 * @since 0.2.0
 * @category models
 */
export interface Toolkit<Tools extends Any> {
  readonly tools: ReadonlyArray<Tools>
  /** Registers the tools on the `McpServer` in context, each with its handler. */
  readonly toLayer: <R = never>(
    handlers: Handlers<Tools, R>
  ) => Layer.Layer<never, DefinitionError, McpServer.McpServer | Exclude<R, RequestContext>>
  /** Typed calls of the tools, through a connected client. */
  readonly client: (client: McpClient.Service) => Client<Tools>
}

/**
 * Makes a toolkit of tool definitions.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = <const Tools extends ReadonlyArray<Any>>(...tools: Tools): Toolkit<Tools[number]> => ({
  tools,
  toLayer: <R>(handlers: Handlers<Tools[number], R>) =>
    Layer.mergeAll(
      Layer.empty,
      ...tools.map((definition) =>
        Layer.effectDiscard(
          McpServer.addTool(Tool.make(definition.name, toolOptions(definition), handlerOf(handlers, definition)))
        )
      )
    ),
  // A record built from its entries: its keys are the tools' names, as `Client` maps them.
  client: (client) =>
    Object.fromEntries(tools.map((definition) => [definition.name, typedCall(client, definition)])) as Client<
      Tools[number]
    >
})

/** A definition's options as `Tool.make` takes them (no `failure` key when there is none). */
const toolOptions = ({ options }: Any) => {
  const { failure, ...rest } = options
  return failure === undefined ? rest : { ...rest, failure }
}

/** The handler of one tool, looked up by its own name (own keys only). */
const handlerOf = <R>(handlers: Handlers<Any, R>, definition: Any) => {
  const handler = Object.hasOwn(handlers, definition.name) ? handlers[definition.name] : undefined
  return (params: Schema.Struct.Type<Schema.Struct.Fields>) =>
    handler === undefined ? Effect.die(new Error(`No handler for tool ${definition.name}`)) : handler(params)
}

/** A typed call: arguments encoded, the result or typed failure decoded. */
const typedCall = (client: McpClient.Service, definition: Any) => {
  const { failure, parameters, success } = definition.options
  const encodeParams = Schema.encodeUnknown(Schema.Struct(parameters ?? {}))
  const decodeSuccess = Schema.decodeUnknown(success)
  const decodeFailure = failure === undefined ? () => Option.none() : Schema.decodeUnknownOption(failure)
  const callError = (message: string) => new ToolCallError({ tool: definition.name, message })
  return (params: unknown) =>
    Effect.gen(function*() {
      const args = yield* Effect.mapError(encodeParams(params), (e) =>
        callError(ParseResult.TreeFormatter.formatErrorSync(e)))
      const result = yield* client.callTool(definition.name, args)
      if (result.isError) {
        const typed = decodeFailure(result._meta?.[Tool.FAILURE_META])
        return yield* typed._tag === "Some" ? Effect.fail(typed.value) : Effect.fail(callError(textOf(result)))
      }
      return yield* Effect.mapError(
        decodeSuccess(unwrapped(result.structuredContent, success)),
        (e) =>
          callError(`its result does not decode: ${ParseResult.TreeFormatter.formatErrorSync(e)}`)
      )
    })
}

/** A result's text, for an error without a typed failure. */
const textOf = (result: McpSchema.CallToolResult): string =>
  result.content.flatMap((block) => block.type === "text" ? [block.text] : []).join("\n") || "the tool failed"

/** A success schema that is not an object travels as `{ result }` (structured content must be an object). */
const unwrapped = (structured: unknown, success: Schema.Schema<any, any, never>): unknown =>
  Tool.wrapsResult(success) && isRecord(structured) ? structured.result : structured
