/**
 * Resources: data the client can read by URI. A URI with RFC 6570
 * expressions makes a resource template, whose variables reach the handler
 * typed from the template string itself (or decoded by `parameters` schemas).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Resource } from "mcp-effect"
 *
 * const readme = Resource.make("file:///readme.md", { mimeType: "text/markdown" }, () =>
 *   Effect.succeed("# Hello"))
 *
 * const greeting = Resource.make("greeting://{name}", { description: "A greeting" }, ({ name }) =>
 *   Effect.succeed(`Hello, ${name}!`))
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Either } from "effect"
import type { Schema, Scope } from "effect"
import * as Completion from "./Completion.js"
import * as Content from "./Content.js"
import { recoverAsError } from "./internal/cause.js"
import { ownEntries, safeDecoder } from "./internal/guards.js"
import { DefinitionError, McpError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import type * as McpServer from "./McpServer.js"
import type { RequestContext } from "./RequestContext.js"
import * as UriTemplate from "./UriTemplate.js"

/**
 * What a resource handler returns: text, bytes, or whole contents.
 *
 * @since 0.1.0
 * @category models
 */
export type Output =
  | string
  | Uint8Array
  | McpSchema.ResourceContents
  | ReadonlyArray<McpSchema.ResourceContents>

/**
 * Options of a resource: what clients see of it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Defaults to the URI. */
  readonly name?: string
  readonly title?: string
  readonly description?: string
  readonly mimeType?: string
  readonly size?: number
  readonly annotations?: McpSchema.Annotations
  readonly icons?: ReadonlyArray<McpSchema.Icon>
  readonly _meta?: McpSchema.Meta
  /**
   * How long a 2026-07-28 client may cache what this resource reads, and
   * whether a shared cache may: overrides the server's hint for
   * `resources/read` (`cacheHints`), for this resource only.
   *
   * @since 0.2.0
   */
  readonly cache?: McpServer.CacheHint
  /**
   * The OAuth scopes a caller's token must hold to read this resource (every
   * URI of a template), where an authorization layer verified one
   * (`ProtectedResource.layer`): over HTTP a read without them is refused
   * with 403 and the scopes to ask for, and the resource is left out of the
   * caller's lists. Not checked where no principal was verified (stdio).
   *
   * @since 0.2.0
   */
  readonly scopes?: ReadonlyArray<string>
}

/**
 * Schemas decoding template variables from their string form, by name: any
 * schema whose encoded side is a string (or string literals), with no
 * requirements.
 *
 * @since 0.1.0
 * @category models
 */
export type VariableSchemas<U extends string> = {
  readonly [K in keyof UriTemplate.Variables<U>]?: Schema.Schema<any, any, never>
}

/**
 * What stands in a variable's place when its schema does not decode from a
 * string: the compiler then names the rule.
 *
 * @since 0.2.0
 * @category models
 */
export interface VariableMustDecodeFromAString {
  readonly "a template variable's schema must decode from a string": never
}

/**
 * `P`, with each schema whose encoded side is not a string replaced by
 * `VariableMustDecodeFromAString`.
 *
 * @since 0.2.0
 * @category models
 */
export type StringVariables<P> = {
  readonly [K in keyof P]: P[K] extends Schema.Schema.Any
    ? [Schema.Schema.Encoded<P[K]>] extends [string] ? P[K] : VariableMustDecodeFromAString
    : VariableMustDecodeFromAString
}

/**
 * Options of a resource template: a resource's, plus schemas and completers for its variables.
 *
 * @since 0.1.0
 * @category models
 */
export interface TemplateOptions<U extends string, P extends VariableSchemas<U>, R, RS = never> extends Options {
  readonly parameters?: P & StringVariables<P>
  /** Completers for the template's variables. */
  readonly complete?: { readonly [K in keyof UriTemplate.Variables<U>]?: Completion.Completer<R> }
  /**
   * Runs while any client is subscribed to a URI this resource serves (a
   * handshake-era `resources/subscribe`, or a 2026-07-28
   * `subscriptions/listen` naming it), across all the server's sessions:
   * started by the first subscription, which is answered once it has
   * started; its scope closed, and its finalizers run, when the last one
   * ends (an unsubscribe, a listen cancelled, a session closed). For work
   * that pays only while someone listens: watching a file, subscribing to an
   * upstream source. Call `McpServer.notifyResourceUpdated` when the
   * resource changes. Its services are the resource's requirements; it
   * runs outside any request, so one that asks for `RequestContext` leaves
   * that among them, unprovided. Two runs for one URI never overlap (a
   * start waits for every earlier stop), and one still starting when the
   * last subscriber leaves is interrupted. A hook that dies is logged; the
   * subscription stays.
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { McpServer } from "mcp-effect"
   *
   * const Clock = McpServer.resource("clock://now", {
   *   subscribe: (uri) =>
   *     Effect.gen(function*() {
   *       const server = yield* McpServer.McpServer
   *       // Ticks only while someone is subscribed; interrupted when the last one leaves.
   *       yield* Effect.forkScoped(Effect.forever(
   *         Effect.zipRight(Effect.sleep("1 second"), server.notifyResourceUpdated(uri))
   *       ))
   *     })
   * }, () => Effect.sync(() => new Date().toISOString()))
   * ```
   *
   * @since 0.2.0
   */
  readonly subscribe?: (uri: string) => Effect.Effect<void, never, RS | Scope.Scope>
}

/**
 * The variables a handler receives: decoded where a schema is given, strings otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type Params<U extends string, P> = {
  readonly [K in keyof UriTemplate.Variables<U>]: K extends keyof P
    ? P[K] extends Schema.Schema<infer A, infer _I, never> ? A : UriTemplate.Variables<U>[K]
    : UriTemplate.Variables<U>[K]
}

/**
 * A resource with a fixed URI.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resource<R = never> {
  readonly _tag: "Resource"
  readonly uri: string
  readonly definition: McpSchema.Resource
  /** Its own caching hint for 2026-07-28 reads, if it has one. */
  readonly cache?: McpServer.CacheHint
  /** The scopes a verified caller must hold (see {@link Options.scopes}). */
  readonly scopes?: ReadonlyArray<string>
  readonly read: (uri: string) => Effect.Effect<McpSchema.ReadResourceResult, McpError, R | RequestContext>
  /** What runs while clients are subscribed to it (see {@link TemplateOptions.subscribe}). */
  readonly subscribe?: (uri: string) => Effect.Effect<void, never, R | Scope.Scope>
}

/**
 * A resource template: every URI its pattern matches.
 *
 * @since 0.1.0
 * @category models
 */
export interface Template<R = never> {
  readonly _tag: "Template"
  readonly uriTemplate: UriTemplate.UriTemplate
  readonly definition: McpSchema.ResourceTemplate
  /** Its own caching hint for 2026-07-28 reads, if it has one. */
  readonly cache?: McpServer.CacheHint
  /** The scopes a verified caller must hold (see {@link Options.scopes}). */
  readonly scopes?: ReadonlyArray<string>
  /** Reads `uri`, or answers `undefined` when the template does not match it. */
  readonly read: (
    uri: string
  ) => Effect.Effect<McpSchema.ReadResourceResult, McpError, R | RequestContext> | undefined
  readonly complete: (argument: string, value: string, context: Completion.Context) => Effect.Effect<
    McpSchema.CompleteResult,
    never,
    R
  >
  /** What runs while clients are subscribed to a URI it matches (see {@link TemplateOptions.subscribe}). */
  readonly subscribe?: (uri: string) => Effect.Effect<void, never, R | Scope.Scope>
}

const toContents = (uri: string, mimeType: string | undefined, output: Output): McpSchema.ReadResourceResult => {
  if (typeof output === "string") return { contents: [{ uri, mimeType: mimeType ?? "text/plain", text: output }] }
  if (output instanceof Uint8Array) {
    return { contents: [{ uri, mimeType: mimeType ?? "application/octet-stream", blob: Content.base64(output) }] }
  }
  const list: ReadonlyArray<McpSchema.ResourceContents> = Array.isArray(output) ? output : [output]
  return {
    contents: list.map((c) => (c.mimeType === undefined && mimeType !== undefined ? { ...c, mimeType } : c))
  }
}

const describe = (uri: string, options: Options) => ({
  name: options.name ?? uri,
  ...(options.title !== undefined ? { title: options.title } : {}),
  ...(options.description !== undefined ? { description: options.description } : {}),
  ...(options.mimeType !== undefined ? { mimeType: options.mimeType } : {}),
  ...(options.annotations !== undefined ? { annotations: options.annotations } : {}),
  ...(options.icons !== undefined ? { icons: options.icons } : {}),
  ...(options._meta !== undefined ? { _meta: options._meta } : {})
})

const makeDecoder = (parameters: Readonly<Record<string, Schema.Schema<any, string, never> | undefined>>) => {
  const decoders = Object.entries(parameters).flatMap(([name, schema]) =>
    schema === undefined ? [] : [[name, safeDecoder(schema)] as const]
  )
  return (vars: Record<string, string>): Either.Either<Record<string, unknown>, string> => {
    const decoded: Record<string, unknown> = { ...vars }
    for (const [name, decode] of decoders) {
      const raw = Object.hasOwn(vars, name) ? vars[name] : undefined
      if (raw === undefined) continue
      const result = decode(raw)
      if (Either.isLeft(result)) return Either.left(`Invalid value for "${name}": ${result.left}`)
      decoded[name] = result.right
    }
    return Either.right(decoded)
  }
}

/**
 * Makes a resource, or a resource template when `uri` has `{…}` expressions.
 * Throws a `DefinitionError` for a malformed template: any brace makes `uri`
 * a template (a URI cannot hold one), so an unclosed `{` or a stray `}` is
 * refused rather than served as a static URI.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <
  const U extends string,
  P extends VariableSchemas<U> = {},
  E = never,
  R = never,
  RS = never
>(
  uri: U,
  options: TemplateOptions<U, P, R, RS>,
  handler: (params: Params<U, P>) => Effect.Effect<Output, E, R>
):
  | Resource<Exclude<R, RequestContext> | Exclude<RS, Scope.Scope>>
  | Template<Exclude<R, RequestContext> | Exclude<RS, Scope.Scope>> =>
{
  const run = (target: string, params: Record<string, unknown>) =>
    // Suspended: a handler that throws before returning its effect fails like any other.
    Effect.suspend(() => handler(params as Params<U, P>)).pipe(
      Effect.map((output) => toContents(target, options.mimeType, output)),
      Effect.catchAllCause(recoverAsError(`Reading ${target}`, `Failed to read ${target}`))
    ) as Effect.Effect<McpSchema.ReadResourceResult, McpError, Exclude<R, RequestContext> | RequestContext>
  // The same function: its requirements with `Scope` said once (the compiler cannot tell RS is within the union).
  const subscribe = options.subscribe as
    | ((uri: string) => Effect.Effect<void, never, Exclude<RS, Scope.Scope> | Scope.Scope>)
    | undefined
  if (!UriTemplate.isTemplate(uri)) {
    return {
      _tag: "Resource",
      uri,
      definition: {
        uri,
        ...describe(uri, options),
        ...(options.size !== undefined ? { size: options.size } : {})
      },
      ...(options.cache !== undefined ? { cache: options.cache } : {}),
      ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
      ...(subscribe !== undefined ? { subscribe } : {}),
      read: (target) => run(target, {})
    }
  }
  let uriTemplate: UriTemplate.UriTemplate
  try {
    uriTemplate = UriTemplate.parse(uri)
  } catch (e) {
    throw new DefinitionError({ message: e instanceof Error ? e.message : String(e) })
  }
  const decode = makeDecoder(options.parameters ?? {})
  // Own keys only: a client names the variable, and `constructor` must not find Object's.
  const completers = ownEntries<Completion.Completer<R>>(options.complete)
  return {
    _tag: "Template",
    uriTemplate,
    definition: { uriTemplate: uri, ...describe(uri, options) },
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
    ...(subscribe !== undefined ? { subscribe } : {}),
    read: (target) => {
      const vars = uriTemplate.match(target)
      if (vars === undefined) return undefined
      return Either.match(decode(vars), {
        onLeft: (message) => Effect.fail(McpError.invalidParams(message)),
        onRight: (params) => run(target, params)
      })
    },
    complete: (argument, value, context) =>
      Completion.run(completers.get(argument), value, context) as Effect.Effect<
        McpSchema.CompleteResult,
        never,
        Exclude<R, RequestContext>
      >
  }
}
