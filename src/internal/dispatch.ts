/**
 * The request core: one request, given its envelope and its channel back to
 * the client, answered from the registry. It serves the methods every era
 * shares (tools, resources, prompts, completion); the era adapters (the
 * handshake session today) serve their own lifecycle methods around it.
 *
 * Answers are plain values or effects with their whole context
 * (`WithContext`), built without a fiber: the peer starts the one fiber a
 * request runs on.
 *
 * Three extension points live here, so that they hold for every era and
 * transport: middlewares wrap the answer; session layers' services join each
 * handler's context; and mounted servers answer what this one does not have,
 * by their own names.
 */
import { Context, Effect, Either, Schema } from "effect"
import type { Runtime } from "effect"
import type * as Completion from "../Completion.js"
import { ErrorCode, McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type * as Middleware from "../Middleware.js"
import type { RequestOptions } from "../Peer.js"
import { RequestContext } from "../RequestContext.js"
import type { ClientChannel, Envelope } from "../RequestContext.js"
import type * as Resource from "../Resource.js"
import type * as Tool from "../Tool.js"
import { isRecord, safeDecoder } from "./guards.js"
import * as Modern from "./modern.js"
import { checkParamHeaders } from "./modernHeaders.js"
import type { InternalAnswer, WithContext } from "./peer.js"
import { withContext } from "./peer.js"
import * as ProtocolVersion from "./protocolVersion.js"
import type { Found, Registered, Registry } from "./registry.js"
import { paginate } from "./registry.js"
import type { Request } from "./requestContext.js"
import { RequestContextImpl } from "./requestContext.js"
import { filtersLists, insufficientScope, missingScopes } from "./scopes.js"
import type { ServicesOwner } from "./sessionServices.js"
import * as Skills from "./skills.js"

/** A method's handler: its params (not yet decoded) and the request's context. */
export type Handler = (params: Record<string, unknown> | undefined, ctx: RequestContextImpl) => InternalAnswer

/** An answer as an effect to run inside another's fiber (a middleware's `next`). */
const toEffect = (answer: InternalAnswer, method: string): Effect.Effect<unknown, McpError> => {
  if (answer === undefined) return Effect.fail(McpError.methodNotFound(method))
  if (answer instanceof McpError) return Effect.fail(answer)
  return Effect.isEffect(answer) ? answer : Effect.provide(answer.effect, answer.context)
}

/** Maps an answer's result, keeping its context. */
const mapAnswer = (answer: InternalAnswer, f: (result: unknown) => unknown): InternalAnswer => {
  if (answer === undefined || answer instanceof McpError) return answer
  return Effect.isEffect(answer) ? Effect.map(answer, f) : { ...answer, effect: Effect.map(answer.effect, f) }
}

/** A mounted server reads by its own URI: its contents are renamed back to the URI the client asked for. */
const renameContents = (inner: string, outer: string) => (result: unknown): unknown =>
  isRecord(result) && Array.isArray(result.contents)
    ? {
      ...result,
      contents: result.contents.map((c: unknown) => (isRecord(c) && c.uri === inner ? { ...c, uri: outer } : c))
    }
    : result

/** What a request is about, for middlewares: read from its params as sent. */
const requestInfo = (method: string, params: Record<string, unknown> | undefined): Middleware.Info => {
  const ref = params?.ref
  const name = method === "resources/read"
    ? params?.uri
    : method === "completion/complete"
    ? (isRecord(ref) ? ref.name ?? ref.uri : undefined)
    : params?.name
  const args = params?.arguments
  return {
    method,
    name: typeof name === "string" ? name : undefined,
    arguments: isRecord(args) ? args : undefined,
    params
  }
}

/** Decodes params once per method with a compiled decoder; a mismatch answers -32602. */
export const withParams = <A, I, C = RequestContextImpl>(
  schema: Schema.Schema<A, I>,
  handle: (params: A, ctx: C) => InternalAnswer
): (params: Record<string, unknown> | undefined, ctx: C) => InternalAnswer => {
  const decode = safeDecoder(schema, { errors: "all" })
  return (params, ctx) => {
    const decoded = decode(params ?? {})
    return Either.isLeft(decoded) ? McpError.invalidParams(decoded.left) : handle(decoded.right, ctx)
  }
}

const fromEither = <A>(either: Either.Either<A, McpError>): Effect.Effect<A, McpError> | McpError =>
  Either.isLeft(either) ? either.left : Effect.succeed(either.right)

/**
 * A 2026-07-28 request over HTTP mirrors the arguments its tool marks with
 * `x-mcp-header` in `Mcp-Param-*` headers, for intermediaries that route on
 * them: a header that disagrees with the body is -32020.
 */
const paramHeaderMismatch = (
  inputSchema: Record<string, unknown>,
  args: Record<string, unknown> | undefined,
  ctx: RequestContextImpl
): McpError | undefined => {
  const extras = ctx.extras
  if (extras?.header === undefined || !Modern.isModern(ctx.protocolVersion)) return undefined
  const problem = checkParamHeaders(inputSchema, args, (name) => extras.header?.(name))
  return problem === undefined
    ? undefined
    : new McpError({ code: ErrorCode.HeaderMismatch, message: `Header mismatch: ${problem.message}` })
}

/**
 * A resource's read, with its own caching hint where it has one and the
 * client is a 2026-07-28 one (the modern result keeps it over the server's).
 */
const withCacheHint = <E, R>(
  read: Effect.Effect<McpSchema.ReadResourceResult, E, R>,
  resource: Resource.Resource<unknown> | Resource.Template<unknown>,
  ctx: RequestContextImpl
): Effect.Effect<McpSchema.ReadResourceResult, E, R> => {
  const { cache } = resource
  return cache === undefined || !Modern.isModern(ctx.protocolVersion)
    ? read
    : Effect.map(read, (result) => ({ ...result, ...cache }))
}

/** The request core of one server. */
export interface Core {
  /**
   * Answers one request; `undefined` when the core does not serve its method.
   * `owner` holds the session-scoped services: the session's, or the
   * request's own when there is no session.
   */
  readonly handle: (
    request: Request,
    envelope: Envelope,
    channel: ClientChannel,
    owner: ServicesOwner
  ) => InternalAnswer
  /** Whether the core serves `method`. */
  readonly serves: (method: string) => boolean
  /** Reads one of this server's resources by its own URI, for a handler of `from` (a parent's): no middleware. */
  readonly readResource: (uri: string, from: RequestContextImpl) => WithContext | McpError
  /** A tool, here or in a mounted server (by the name this server gives it). */
  readonly tool: (name: string) => Tool.Tool<unknown> | undefined
  /**
   * The scopes a verified caller needs for a request: those of the tool,
   * resource or prompt it names, if that declares any.
   */
  readonly requiredScopes: (method: string, params: Record<string, unknown> | undefined) =>
    | ReadonlyArray<string>
    | undefined
}

/** Options of the request core. */
export interface CoreOptions {
  readonly pageSize: number
  readonly clientRequests: RequestOptions | undefined
  /** The server's runtime, on which session layers are built. */
  readonly runtime: Runtime.Runtime<never>
  /** The caching hint of a method whose result carries one (in every era: the skills extension's). */
  readonly cacheHint: (method: string) => Modern.CacheHint | undefined
}

/** -32602 about a URI, which the error's data names. */
const invalidUri = (detail: string, uri: string) =>
  new McpError({ code: ErrorCode.InvalidParams, message: `Invalid params: ${detail}`, data: { uri } })

const SkillRequest = Schema.Struct({ uri: Schema.String })
const DirectoryRequest = Schema.Struct({ uri: Schema.String, cursor: Schema.optional(Schema.String) })

export const make = (registry: Registry, options: CoreOptions): Core => new RequestCore(registry, options)

/** A class, so that each step is a method of its own and the per-request path allocates nothing for them. */
class RequestCore implements Core {
  private readonly methods: ReadonlyMap<string, Handler>

  constructor(private readonly registry: Registry, private readonly options: CoreOptions) {
    const list = <A, B>(
      key: string,
      items: () => ReadonlyArray<A>,
      render: (item: A, version: string) => B,
      scopes: (item: A) => ReadonlyArray<string> | undefined
    ) => this.list(key, items, render, scopes)
    this.methods = new Map<string, Handler>([
      [
        "tools/list",
        list("tools", () => registry.toolDefinitions(), ProtocolVersion.tool, (d) => registry.toolScopes(d.name))
      ],
      ["tools/call", (params, ctx) => this.callTool(params, ctx)],
      [
        "resources/list",
        list(
          "resources",
          () => registry.resourceDefinitions(),
          ProtocolVersion.described,
          (d) => registry.resourceScopes(d.uri)
        )
      ],
      [
        "resources/templates/list",
        list(
          "resourceTemplates",
          () => registry.templateDefinitions(),
          ProtocolVersion.described,
          (d) => registry.templateScopes(d.uriTemplate)
        )
      ],
      [
        "resources/read",
        withParams(McpSchema.ReadResourceRequestParams, (params, ctx) => this.readRequest(params, ctx))
      ],
      [
        "prompts/list",
        list(
          "prompts",
          () => registry.promptDefinitions(),
          ProtocolVersion.described,
          (d) => registry.promptScopes(d.name)
        )
      ],
      ["prompts/get", withParams(McpSchema.GetPromptRequestParams, (params, ctx) => this.getPrompt(params, ctx))],
      ["completion/complete", withParams(McpSchema.CompleteRequestParams, (params, ctx) => this.complete(params, ctx))],
      [
        "skills/list",
        this.withSkills(withParams(McpSchema.PaginatedRequestParams, (params) => this.listSkills(params)))
      ],
      ["skills/get", this.withSkills(withParams(SkillRequest, (params) => this.getSkill(params.uri)))],
      [
        "resources/directory/read",
        this.withSkills(withParams(DirectoryRequest, (params) => this.readDirectory(params)))
      ]
    ])
  }

  serves(method: string): boolean {
    return this.methods.has(method)
  }

  handle(request: Request, envelope: Envelope, channel: ClientChannel, owner: ServicesOwner): InternalAnswer {
    const handler = this.methods.get(request.method)
    if (handler === undefined) return undefined
    // Checked here, for every era and transport; Streamable HTTP refuses with its 403 before it gets this far.
    if (envelope.auth !== undefined) {
      const missing = missingScopes(envelope.auth, this.requiredScopes(request.method, request.params))
      if (missing.length > 0) return insufficientScope(missing)
    }
    const ctx = new RequestContextImpl(
      request,
      envelope,
      channel,
      this.readFromHandler,
      this.options.clientRequests,
      owner
    )
    return this.registry.middlewares.length === 0 ? this.direct(handler, ctx) : this.wrapped(handler, ctx)
  }

  tool(name: string): Tool.Tool<unknown> | undefined {
    const own = this.registry.tools.get(name)
    if (own !== undefined) return own.value
    const found = this.registry.mountedTool(name)
    return found?.mount.core.tool(found.key)
  }

  requiredScopes(method: string, params: Record<string, unknown> | undefined): ReadonlyArray<string> | undefined {
    switch (method) {
      case "tools/call":
        return typeof params?.name === "string" ? this.registry.toolScopes(params.name) : undefined
      case "prompts/get":
        return typeof params?.name === "string" ? this.registry.promptScopes(params.name) : undefined
      case "resources/read":
        return typeof params?.uri === "string" ? this.registry.resourceScopes(params.uri) : undefined
      default:
        return undefined
    }
  }

  readResource(uri: string, from: RequestContextImpl): WithContext | McpError {
    const { channel, envelope, incoming, owner } = from
    return this.read(
      uri,
      new RequestContextImpl(incoming, envelope, channel, this.readFromHandler, this.options.clientRequests, owner)
    )
  }

  /**
   * Runs a registered handler with its services, the session's services and
   * the request context, as the fiber's whole context. The session's
   * services are merged at once when built; the first request waits for them.
   */
  private inContext(
    registered: Registered<unknown>,
    effect: Effect.Effect<unknown, McpError, unknown>,
    ctx: RequestContextImpl
  ): WithContext {
    // The registration erased which services the handler needs; its captured context (and the session's) hold them.
    const base = Context.add(registered.context, RequestContext, ctx) as Context.Context<unknown>
    const layers = this.registry.sessionLayers
    if (layers.length === 0) return withContext(effect, base)
    const services = ctx.owner.sessionServices().get(this.registry, layers, this.options.runtime)
    return Context.isContext(services)
      ? withContext(
        effect,
        Context.add(Context.merge(registered.context, services), RequestContext, ctx) as Context.Context<unknown>
      )
      : withContext(Effect.flatMap(services, (session) => Effect.provide(effect, session)), base)
  }

  /** Hands a request to the mounted server that has what it names, with the name rewritten to its own. */
  private delegate(found: Found, ctx: RequestContextImpl, params: Record<string, unknown>): InternalAnswer {
    return found.mount.core.handle({ ...ctx.incoming, params }, ctx.envelope, ctx.channel, ctx.owner)
  }

  private readOwn(uri: string, ctx: RequestContextImpl): WithContext | undefined {
    const resource = this.registry.resources.get(uri)
    if (resource !== undefined) {
      return this.inContext(resource, withCacheHint(resource.value.read(uri), resource.value, ctx), ctx)
    }
    const skillFile = this.registry.skillFile(uri)
    if (skillFile !== undefined) {
      return this.inContext(skillFile.skill, Effect.succeed({ contents: [skillFile.file.contents] }), ctx)
    }
    for (const template of this.registry.templates.values()) {
      const result = template.value.read(uri)
      if (result !== undefined) return this.inContext(template, withCacheHint(result, template.value, ctx), ctx)
    }
    return undefined
  }

  /** A read for a handler: own resources, then templates, then mounted servers in mount order. */
  private read(uri: string, ctx: RequestContextImpl): WithContext | McpError {
    const own = this.readOwn(uri, ctx)
    if (own !== undefined) return own
    const found = this.registry.mountedResource(uri)
    if (found === undefined) return McpError.resourceNotFound(uri)
    const answer = found.mount.core.readResource(found.key, ctx)
    return answer instanceof McpError
      ? answer
      : { ...answer, effect: Effect.map(answer.effect, renameContents(found.key, uri)) }
  }

  /** `resources/read` as a request: a mounted server answers it as a request of its own (its middlewares apply). */
  private readRequest(params: McpSchema.ReadResourceRequestParams, ctx: RequestContextImpl): InternalAnswer {
    const own = this.readOwn(params.uri, ctx)
    if (own !== undefined) return own
    const found = this.registry.mountedResource(params.uri)
    if (found === undefined) return McpError.resourceNotFound(params.uri)
    return mapAnswer(
      this.delegate(found, ctx, { ...ctx.incoming.params, uri: found.key }),
      renameContents(found.key, params.uri)
    )
  }

  /** `RequestContext.readResource`: a read from inside a handler, with the reading request's context. */
  private readonly readFromHandler = (uri: string, ctx: RequestContextImpl) => {
    const answer = this.read(uri, ctx)
    if (answer instanceof McpError) return Effect.fail(answer)
    return Effect.provide(answer.effect, answer.context) as Effect.Effect<McpSchema.ReadResourceResult, McpError>
  }

  /** A list, paginated; a verified caller sees only what its scopes allow, unless its layer said otherwise. */
  private list<A, B>(
    key: string,
    items: () => ReadonlyArray<A>,
    render: (item: A, version: string) => B,
    scopes: (item: A) => ReadonlyArray<string> | undefined
  ): Handler {
    const { pageSize } = this.options
    return withParams(McpSchema.PaginatedRequestParams, (params, ctx) => {
      const auth = ctx.auth
      const filtered = filtersLists(auth)
      const visible = filtered ? items().filter((item) => missingScopes(auth, scopes(item)).length === 0) : items()
      return fromEither(
        Either.map(paginate(visible, params.cursor, pageSize), ({ nextCursor, page }) => ({
          [key]: page.map((item) => render(item, ctx.protocolVersion)),
          ...(nextCursor !== undefined ? { nextCursor } : {}),
          // A list that depends on the caller's token is no shared cache's to keep, whatever the server's hint.
          ...(filtered && Modern.isModern(ctx.protocolVersion) ? { cacheScope: "private" } : {})
        }))
      )
    })
  }

  // -------------------------------------------------------------------------
  // Skills: served only by a server that has some (here or mounted), as its capabilities say.
  // -------------------------------------------------------------------------

  private withSkills(handler: Handler): Handler {
    return (params, ctx) =>
      this.registry.some((r) => r.skills.size > 0) ? handler(params, ctx) : McpError.methodNotFound(ctx.incoming.method)
  }

  private listSkills(params: McpSchema.PaginatedRequestParams): InternalAnswer {
    return fromEither(
      Either.map(
        paginate(this.registry.skillEntries(), params.cursor, this.options.pageSize),
        ({ nextCursor, page }) => ({
          skills: page,
          ...(nextCursor !== undefined ? { nextCursor } : {}),
          ...this.options.cacheHint("skills/list")
        })
      )
    )
  }

  private getSkill(uri: string): InternalAnswer {
    const skill = this.registry.skillEntry(uri)
    return skill === undefined
      ? invalidUri(`Unknown skill: ${uri} (a skill is named by the URI of its SKILL.md)`, uri)
      : Effect.succeed({ skill, ...this.options.cacheHint("skills/get") })
  }

  private readDirectory(params: { readonly uri: string; readonly cursor?: string | undefined }): InternalAnswer {
    const children = Skills.directory(params.uri, this.registry.skillFileListings())
    if (children === undefined) {
      return invalidUri(`Not a directory: ${params.uri} (no skill file lies under it)`, params.uri)
    }
    return fromEither(
      Either.map(paginate(children, params.cursor, this.options.pageSize), ({ nextCursor, page }) => ({
        resources: page,
        ...(nextCursor !== undefined ? { nextCursor } : {})
      }))
    )
  }

  private complete(params: McpSchema.CompleteRequestParams, ctx: RequestContextImpl): InternalAnswer {
    const context: Completion.Context = { arguments: params.context?.arguments ?? {} }
    const { name, value } = params.argument
    const { ref } = params
    const registry = this.registry
    if (ref.type === "ref/prompt") {
      const prompt = registry.prompts.get(ref.name)
      if (prompt !== undefined) return this.inContext(prompt, prompt.value.complete(name, value, context), ctx)
      const found = registry.mountedPrompt(ref.name)
      return found === undefined
        ? McpError.invalidParams(`Unknown prompt: ${ref.name}`)
        : this.delegate(found, ctx, { ...ctx.incoming.params, ref: { ...ref, name: found.key } })
    }
    const template = registry.templates.get(ref.uri)
    if (template !== undefined) return this.inContext(template, template.value.complete(name, value, context), ctx)
    if (registry.resources.has(ref.uri)) return Effect.succeed({ completion: { values: [], total: 0, hasMore: false } })
    const found = registry.mountedCompletionRef(ref.uri)
    return found === undefined
      ? McpError.invalidParams(`Unknown resource template: ${ref.uri}`)
      : this.delegate(found, ctx, { ...ctx.incoming.params, ref: { ...ref, uri: found.key } })
  }

  // The hot path: checked by hand rather than decoded, since the tool's own decoder reads the arguments anyway.
  private callTool(params: Record<string, unknown> | undefined, ctx: RequestContextImpl): InternalAnswer {
    const name = params?.name
    const args = params?.arguments
    if (typeof name !== "string") return McpError.invalidParams("name must be a string")
    if (args !== undefined && !isRecord(args)) return McpError.invalidParams("arguments must be an object")
    const tool = this.registry.tools.get(name)
    if (tool === undefined) {
      const found = this.registry.mountedTool(name)
      return found === undefined
        ? McpError.invalidParams(`Unknown tool: ${name}`)
        : this.delegate(found, ctx, { ...params, name: found.key })
    }
    const mismatch = paramHeaderMismatch(tool.value.definition.inputSchema, args, ctx)
    if (mismatch !== undefined) return mismatch
    const result = tool.value.call(args)
    const version = ctx.protocolVersion
    return this.inContext(
      tool,
      ProtocolVersion.hasStructuredContent(version)
        ? result
        : Effect.map(result, (r) => ProtocolVersion.callToolResult(r, version)),
      ctx
    )
  }

  private getPrompt(params: McpSchema.GetPromptRequestParams, ctx: RequestContextImpl): InternalAnswer {
    const prompt = this.registry.prompts.get(params.name)
    if (prompt === undefined) {
      const found = this.registry.mountedPrompt(params.name)
      return found === undefined
        ? McpError.invalidParams(`Unknown prompt: ${params.name}`)
        : this.delegate(found, ctx, { ...ctx.incoming.params, name: found.key })
    }
    const version = ctx.protocolVersion
    return this.inContext(
      prompt,
      Effect.map(prompt.value.get(params.arguments), (r) => ProtocolVersion.promptResult(r, version)),
      ctx
    )
  }

  /** The handler's answer, unwrapped: an effect without services of its own runs with the request context alone. */
  private direct(handler: Handler, ctx: RequestContextImpl): InternalAnswer {
    const answer = handler(ctx.incoming.params, ctx)
    return Effect.isEffect(answer) ? withContext(answer, Context.make(RequestContext, ctx)) : answer
  }

  /**
   * The answer inside the middlewares that wrap its method, the first
   * registered outermost. Each runs with its own services; the handler runs
   * only when the innermost runs `next`.
   */
  private wrapped(handler: Handler, ctx: RequestContextImpl): InternalAnswer {
    const { method, params } = ctx.incoming
    const applicable = this.registry.middlewares.filter((m) =>
      m.value.methods === undefined || m.value.methods.has(method)
    )
    if (applicable.length === 0) return this.direct(handler, ctx)
    const info = requestInfo(method, params)
    const layer = (index: number, next: Effect.Effect<unknown, McpError>): WithContext => {
      const middleware = applicable[index]!
      return this.inContext(middleware, Effect.suspend(() => middleware.value.run(next, info)), ctx)
    }
    let next: Effect.Effect<unknown, McpError> = Effect.suspend(() => toEffect(handler(params, ctx), method))
    for (let index = applicable.length - 1; index > 0; index--) next = toEffect(layer(index, next), method)
    return layer(0, next)
  }
}
