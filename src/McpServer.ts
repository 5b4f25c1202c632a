/**
 * The MCP server: a service holding the registry of tools, resources,
 * resource templates and prompts, and the engine that serves one session per
 * transport connection.
 *
 * Each tool, resource and prompt is a `Layer` that registers into the
 * `McpServer` service, so a server is composed like any Effect program, and
 * handlers may require the user's own services (a database acquired with
 * `Layer.scoped`, say).
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * const Add = McpServer.tool("add", {
 *   description: "Add two numbers",
 *   parameters: { a: Schema.Number, b: Schema.Number },
 *   success: Schema.Number
 * }, ({ a, b }) => Effect.succeed(a + b))
 *
 * const Greeting = McpServer.resource("greeting://{name}", { description: "A greeting" }, ({ name }) =>
 *   Effect.succeed(`Hello, ${name}!`))
 *
 * export const ServerLive = Layer.mergeAll(Add, Greeting).pipe(
 *   Layer.provideMerge(McpServer.layer({ name: "Demo", version: "1.0.0" }))
 * )
 * ```
 *
 * @since 0.1.0
 */
import { Context, Effect, Either, FiberRef, HashSet, Layer, ParseResult, Schema } from "effect"
import type { Scope } from "effect"
import type * as Completion from "./Completion.js"
import type { DefinitionError } from "./McpError.js"
import { McpError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import * as Peer from "./Peer.js"
import * as Prompt from "./Prompt.js"
import * as RequestContext from "./RequestContext.js"
import * as Resource from "./Resource.js"
import * as Tool from "./Tool.js"
import type { Transport } from "./Transport.js"
import type * as UriTemplate from "./UriTemplate.js"
import * as Versioning from "./internal/versioning.js"

/** Options of {@link layer}. */
export interface Options {
  readonly name: string
  readonly version: string
  readonly title?: string
  readonly description?: string
  readonly icons?: ReadonlyArray<McpSchema.Icon>
  readonly websiteUrl?: string
  /** Sent in the initialize result: how to use this server. */
  readonly instructions?: string
  /** Items per page of every list method. Default 100. */
  readonly pageSize?: number
  /** Options of the server's requests to the client (sampling, elicitation, roots). */
  readonly clientRequests?: Peer.RequestOptions
  /** Capabilities to declare even before anything that implies them is registered. */
  readonly capabilities?: McpSchema.ServerCapabilities
}

/** One connection's state; in the handshake era it comes from `initialize`. */
export interface Session {
  readonly id: string | undefined
  initialized: boolean
  protocolVersion: string
  clientInfo: McpSchema.Implementation | undefined
  clientCapabilities: McpSchema.ClientCapabilities
  logLevel: McpSchema.LoggingLevel | undefined
  readonly subscriptions: Set<string>
  readonly peer: Peer.Peer
}

export interface Service {
  readonly info: McpSchema.Implementation
  readonly options: Options
  /** Registers a tool; sends `notifications/tools/list_changed` to initialized sessions. */
  readonly addTool: <R>(tool: Tool.Tool<R>) => Effect.Effect<void, DefinitionError, R>
  readonly removeTool: (name: string) => Effect.Effect<boolean>
  /** Registers a resource or resource template. */
  readonly addResource: <R>(resource: Resource.Resource<R> | Resource.Template<R>) => Effect.Effect<void, never, R>
  /** Removes a resource by URI, or a template by its template string. */
  readonly removeResource: (uri: string) => Effect.Effect<boolean>
  readonly addPrompt: <R>(prompt: Prompt.Prompt<R>) => Effect.Effect<void, never, R>
  readonly removePrompt: (name: string) => Effect.Effect<boolean>
  /** Sends `notifications/resources/updated` to the sessions subscribed to `uri`. */
  readonly notifyResourceUpdated: (uri: string) => Effect.Effect<void>
  /** The capabilities declared to a client that initializes now. */
  readonly capabilities: () => McpSchema.ServerCapabilities
  /** Serves one session on a transport until its input ends. */
  readonly run: (transport: Transport, options?: { readonly sessionId?: string }) => Effect.Effect<void>
}

export class McpServer extends Context.Tag("mcp-effect/McpServer")<McpServer, Service>() {}

// ---------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------

const encodeCursor = (offset: number) => Buffer.from(`o:${offset}`).toString("base64url")

const decodeCursor = (cursor: string): number | undefined => {
  const text = Buffer.from(cursor, "base64url").toString()
  if (!text.startsWith("o:")) return undefined
  const offset = Number(text.slice(2))
  return Number.isSafeInteger(offset) && offset >= 0 ? offset : undefined
}

const paginate = <A>(
  items: ReadonlyArray<A>,
  cursor: string | undefined,
  pageSize: number
): Either.Either<{ readonly page: ReadonlyArray<A>; readonly nextCursor?: string }, McpError> => {
  const offset = cursor === undefined ? 0 : decodeCursor(cursor)
  if (offset === undefined || offset > items.length) return Either.left(McpError.invalidParams(`invalid cursor`))
  const end = offset + pageSize
  const page = items.slice(offset, end)
  return Either.right(end < items.length ? { page, nextCursor: encodeCursor(end) } : { page })
}

// ---------------------------------------------------------------------------
// Request context
// ---------------------------------------------------------------------------

class ServerRequestContext implements RequestContext.Service {
  private lastProgress = -Infinity
  constructor(
    readonly session: Session,
    readonly incoming: Peer.IncomingRequest,
    private readonly server: Server
  ) {}
  get requestId() {
    return this.incoming.id
  }
  get method() {
    return this.incoming.method
  }
  get meta() {
    const meta = this.incoming.params?._meta
    return typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>) : undefined
  }
  get progressToken() {
    return this.incoming.progressToken
  }
  get protocolVersion() {
    return this.session.protocolVersion
  }
  get clientInfo() {
    return this.session.clientInfo
  }
  get clientCapabilities() {
    return this.session.clientCapabilities
  }
  get logLevel() {
    return this.session.logLevel
  }
  get sessionId() {
    return this.session.id
  }
  progress(progress: number, total?: number, message?: string) {
    return Effect.sync(() => {
      const token = this.incoming.progressToken
      // Progress must increase, and stops once the request has answered.
      if (token === undefined || progress <= this.lastProgress || !this.session.peer.isActive(this.incoming.id)) return
      this.lastProgress = progress
      this.session.peer.notify(
        "notifications/progress",
        {
          progressToken: token,
          progress,
          ...(total !== undefined ? { total } : {}),
          ...(message !== undefined ? { message } : {})
        },
        this.incoming.id
      )
    })
  }
  log(level: McpSchema.LoggingLevel, data: unknown, logger?: string) {
    return Effect.sync(() => sendLog(this.session, level, data, logger, this.incoming.id))
  }
  request(method: string, params: Record<string, unknown>, options?: Peer.RequestOptions) {
    return this.session.peer.request(method, params, {
      ...this.server.options.clientRequests,
      ...options,
      relatedRequestId: this.incoming.id
    })
  }
  readResource(uri: string) {
    return this.server.read(uri).pipe(Effect.provideService(RequestContext.RequestContext, this))
  }
}

const sendLog = (
  session: Session,
  level: McpSchema.LoggingLevel,
  data: unknown,
  logger: string | undefined,
  related: McpSchema.RequestId | undefined
) => {
  if (session.logLevel !== undefined && McpSchema.loggingLevelRank[level] < McpSchema.loggingLevelRank[session.logLevel]) {
    return
  }
  session.peer.notify("notifications/message", logger === undefined ? { level, data } : { level, logger, data }, related)
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

type Handler = (
  params: Record<string, unknown> | undefined,
  ctx: ServerRequestContext
) => Effect.Effect<unknown, McpError, RequestContext.RequestContext> | McpError

/** Decodes params once per method with a compiled decoder; a mismatch answers -32602. */
const withParams = <A, I>(
  schema: Schema.Schema<A, I>,
  handle: (params: A, ctx: ServerRequestContext) => Effect.Effect<unknown, McpError, RequestContext.RequestContext> | McpError
): Handler => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all" })
  return (params, ctx) => {
    const decoded = decode(params ?? {})
    return Either.isLeft(decoded)
      ? McpError.invalidParams(ParseResult.TreeFormatter.formatErrorSync(decoded.left))
      : handle(decoded.right, ctx)
  }
}

const fromEither = <A>(either: Either.Either<A, McpError>): Effect.Effect<A, McpError> | McpError =>
  Either.isLeft(either) ? either.left : Effect.succeed(either.right)

interface Server extends Service {
  readonly read: (uri: string) => Effect.Effect<McpSchema.ReadResourceResult, McpError, RequestContext.RequestContext>
}

const ALWAYS_ALLOWED = new Set(["initialize", "ping"])

/** Makes the server service; {@link layer} is the usual way to provide it. */
export const make = (options: Options): Effect.Effect<Service> =>
  Effect.sync(() => {
    const info: McpSchema.Implementation = {
      name: options.name,
      version: options.version,
      ...(options.title !== undefined ? { title: options.title } : {}),
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(options.icons !== undefined ? { icons: options.icons } : {}),
      ...(options.websiteUrl !== undefined ? { websiteUrl: options.websiteUrl } : {})
    }
    const pageSize = options.pageSize ?? 100
    const tools = new Map<string, Tool.Tool<never>>()
    const resources = new Map<string, Resource.Resource<never>>()
    const templates = new Map<string, Resource.Template<never>>()
    const prompts = new Map<string, Prompt.Prompt<never>>()
    const sessions = new Set<Session>()

    const broadcast = (method: string) =>
      Effect.sync(() => {
        for (const session of sessions) if (session.initialized) session.peer.notify(method, {})
      })

    const capabilities = (): McpSchema.ServerCapabilities => {
      const forced = options.capabilities ?? {}
      const hasResources = resources.size > 0 || templates.size > 0
      return {
        ...forced,
        logging: {},
        ...(tools.size > 0 || forced.tools ? { tools: { listChanged: true } } : {}),
        ...(hasResources || forced.resources ? { resources: { subscribe: true, listChanged: true } } : {}),
        ...(prompts.size > 0 || forced.prompts ? { prompts: { listChanged: true } } : {}),
        ...(prompts.size > 0 || templates.size > 0 || forced.completions ? { completions: {} } : {})
      }
    }

    /** Handlers keep the services they were registered with; the request context stays open. */
    const withContext = <A extends object>(value: A, wrap: (context: Context.Context<never>) => A) =>
      Effect.map(Effect.context<never>(), (context) => (context.unsafeMap.size === 0 ? value : wrap(context)))

    const read = (uri: string) => {
      const resource = resources.get(uri)
      if (resource !== undefined) return resource.read(uri)
      for (const template of templates.values()) {
        const result = template.read(uri)
        if (result !== undefined) return result
      }
      return Effect.fail(McpError.resourceNotFound(uri))
    }

    const list = <A, B>(
      key: string,
      items: () => ReadonlyArray<A>,
      render: (item: A, version: string) => B
    ): Handler =>
      withParams(McpSchema.PaginatedRequestParams, (params, ctx) =>
        fromEither(
          Either.map(paginate(items(), params.cursor, pageSize), ({ nextCursor, page }) => ({
            [key]: page.map((item) => render(item, ctx.protocolVersion)),
            ...(nextCursor !== undefined ? { nextCursor } : {})
          }))
        ))

    const completeRef = (
      params: McpSchema.CompleteRequestParams
    ): Effect.Effect<McpSchema.CompleteResult, McpError> | McpError => {
      const context: Completion.Context = { arguments: params.context?.arguments ?? {} }
      if (params.ref.type === "ref/prompt") {
        const prompt = prompts.get(params.ref.name)
        return prompt === undefined
          ? McpError.invalidParams(`Unknown prompt: ${params.ref.name}`)
          : prompt.complete(params.argument.name, params.argument.value, context)
      }
      const template = templates.get(params.ref.uri)
      if (template !== undefined) return template.complete(params.argument.name, params.argument.value, context)
      return resources.has(params.ref.uri)
        ? Effect.succeed({ completion: { values: [], total: 0, hasMore: false } })
        : McpError.invalidParams(`Unknown resource template: ${params.ref.uri}`)
    }

    const methods = new Map<string, Handler>([
      ["ping", () => Effect.succeed({})],
      ["initialize", withParams(McpSchema.InitializeRequestParams, (params, ctx) => {
        const session = ctx.session
        if (session.initialized) {
          return McpError.invalidRequest("the session is already initialized; initialize may be sent only once")
        }
        session.initialized = true
        session.protocolVersion = McpSchema.SUPPORTED_PROTOCOL_VERSIONS.includes(params.protocolVersion)
          ? params.protocolVersion
          : McpSchema.LATEST_PROTOCOL_VERSION
        session.clientInfo = params.clientInfo
        session.clientCapabilities = params.capabilities
        return Effect.succeed({
          protocolVersion: session.protocolVersion,
          capabilities: capabilities(),
          serverInfo: Versioning.described(info, session.protocolVersion),
          ...(options.instructions !== undefined ? { instructions: options.instructions } : {})
        })
      })],
      ["logging/setLevel", withParams(McpSchema.SetLevelRequestParams, (params, ctx) => {
        ctx.session.logLevel = params.level
        return Effect.succeed({})
      })],
      ["tools/list", list("tools", () => Array.from(tools.values()), (tool, v) => Versioning.tool(tool.definition, v))],
      ["tools/call", withParams(McpSchema.CallToolRequestParams, (params, ctx) => {
        const tool = tools.get(params.name)
        if (tool === undefined) return McpError.invalidParams(`Unknown tool: ${params.name}`)
        const result = tool.call(params.arguments)
        return McpSchema.versionAtLeast(ctx.protocolVersion, "2025-06-18")
          ? result
          : Effect.map(result, (r) => Versioning.callToolResult(r, ctx.protocolVersion))
      })],
      ["resources/list", list("resources", () => Array.from(resources.values()), (r, v) => Versioning.described(r.definition, v))],
      [
        "resources/templates/list",
        list("resourceTemplates", () => Array.from(templates.values()), (t, v) => Versioning.described(t.definition, v))
      ],
      ["resources/read", withParams(McpSchema.ReadResourceRequestParams, (params) => read(params.uri))],
      ["resources/subscribe", withParams(McpSchema.SubscribeRequestParams, (params, ctx) => {
        ctx.session.subscriptions.add(params.uri)
        return Effect.succeed({})
      })],
      ["resources/unsubscribe", withParams(McpSchema.SubscribeRequestParams, (params, ctx) => {
        ctx.session.subscriptions.delete(params.uri)
        return Effect.succeed({})
      })],
      ["prompts/list", list("prompts", () => Array.from(prompts.values()), (p, v) => Versioning.described(p.definition, v))],
      ["prompts/get", withParams(McpSchema.GetPromptRequestParams, (params, ctx) => {
        const prompt = prompts.get(params.name)
        if (prompt === undefined) return McpError.invalidParams(`Unknown prompt: ${params.name}`)
        return Effect.map(prompt.get(params.arguments), (r) => Versioning.promptResult(r, ctx.protocolVersion))
      })],
      ["completion/complete", withParams(McpSchema.CompleteRequestParams, (params) => completeRef(params))]
    ])

    const run = (transport: Transport, runOptions?: { readonly sessionId?: string }) =>
      Effect.scoped(
        Effect.gen(function*() {
          // Effect.log* inside handlers reaches the client as notifications/message.
          yield* Effect.locallyScopedWith(FiberRef.currentLoggers, HashSet.add(RequestContext.clientLogger))
          // The peer reads nothing before `run`, so its handlers may close over the session made after it.
          let session: Session
          const peer = yield* Peer.make(transport, {
            onRequest: (request) => {
              const handler = methods.get(request.method)
              if (handler === undefined) return undefined
              if (!session.initialized && !ALWAYS_ALLOWED.has(request.method)) {
                return McpError.invalidRequest(`the session is not initialized; send initialize before ${request.method}`)
              }
              const ctx = new ServerRequestContext(session, request, server)
              const answer = handler(request.params, ctx)
              return answer instanceof McpError
                ? answer
                : Effect.provideService(answer, RequestContext.RequestContext, ctx)
            },
            acceptsBatch: () => session.initialized && session.protocolVersion === "2025-03-26"
          })
          session = {
            id: runOptions?.sessionId,
            initialized: false,
            protocolVersion: McpSchema.LATEST_PROTOCOL_VERSION,
            clientInfo: undefined,
            clientCapabilities: {},
            logLevel: undefined,
            subscriptions: new Set(),
            peer
          }
          sessions.add(session)
          yield* Effect.addFinalizer(() => Effect.sync(() => sessions.delete(session)))
          yield* peer.run
        })
      )

    const server: Server = {
      info,
      options,
      capabilities,
      run,
      read,
      addTool: (tool) =>
        Effect.flatMap(Tool.validate(tool), (valid) =>
          withContext(valid as Tool.Tool<never>, (context) => ({
            ...valid,
            call: (args) => Effect.provide(valid.call(args), context)
          } as Tool.Tool<never>))).pipe(
            Effect.tap((registered) => tools.set(registered.name, registered)),
            Effect.zipRight(broadcast("notifications/tools/list_changed"))
          ),
      removeTool: (name) =>
        Effect.suspend(() =>
          tools.delete(name) ? Effect.as(broadcast("notifications/tools/list_changed"), true) : Effect.succeed(false)
        ),
      addResource: (resource) =>
        withContext(resource as Resource.Resource<never> | Resource.Template<never>, (context) =>
          resource._tag === "Resource"
            ? { ...resource, read: (uri: string) => Effect.provide(resource.read(uri), context) } as Resource.Resource<never>
            : {
              ...resource,
              read: (uri: string) => {
                const effect = resource.read(uri)
                return effect === undefined ? undefined : Effect.provide(effect, context)
              },
              complete: (argument: string, value: string, ctx: Completion.Context) =>
                Effect.provide(resource.complete(argument, value, ctx), context)
            } as Resource.Template<never>).pipe(
            Effect.tap((registered) =>
              registered._tag === "Resource"
                ? resources.set(registered.uri, registered)
                : templates.set(registered.uriTemplate.template, registered)
            ),
            Effect.zipRight(broadcast("notifications/resources/list_changed"))
          ),
      removeResource: (uri) =>
        Effect.suspend(() =>
          resources.delete(uri) || templates.delete(uri)
            ? Effect.as(broadcast("notifications/resources/list_changed"), true)
            : Effect.succeed(false)
        ),
      addPrompt: (prompt) =>
        withContext(prompt as Prompt.Prompt<never>, (context) => ({
          ...prompt,
          get: (args) => Effect.provide(prompt.get(args), context),
          complete: (argument, value, ctx) => Effect.provide(prompt.complete(argument, value, ctx), context)
        } as Prompt.Prompt<never>)).pipe(
          Effect.tap((registered) => prompts.set(registered.name, registered)),
          Effect.zipRight(broadcast("notifications/prompts/list_changed"))
        ),
      removePrompt: (name) =>
        Effect.suspend(() =>
          prompts.delete(name) ? Effect.as(broadcast("notifications/prompts/list_changed"), true) : Effect.succeed(false)
        ),
      notifyResourceUpdated: (uri) =>
        Effect.sync(() => {
          for (const session of sessions) {
            if (session.subscriptions.has(uri)) session.peer.notify("notifications/resources/updated", { uri })
          }
        })
    }
    return server
  })

/**
 * The server service, with nothing registered yet. Compose registrations on
 * top of it with `Layer.provideMerge`.
 */
export const layer = (options: Options): Layer.Layer<McpServer> => Layer.effect(McpServer, make(options))

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

/** Registers a tool with the server in scope. */
export const addTool = <R>(tool: Tool.Tool<R>) => Effect.flatMap(McpServer, (server) => server.addTool(tool))
export const removeTool = (name: string) => Effect.flatMap(McpServer, (server) => server.removeTool(name))
export const addResource = <R>(resource: Resource.Resource<R> | Resource.Template<R>) =>
  Effect.flatMap(McpServer, (server) => server.addResource(resource))
export const removeResource = (uri: string) => Effect.flatMap(McpServer, (server) => server.removeResource(uri))
export const addPrompt = <R>(prompt: Prompt.Prompt<R>) => Effect.flatMap(McpServer, (server) => server.addPrompt(prompt))
export const removePrompt = (name: string) => Effect.flatMap(McpServer, (server) => server.removePrompt(name))
/** Tells subscribed clients that a resource changed. */
export const notifyResourceUpdated = (uri: string) =>
  Effect.flatMap(McpServer, (server) => server.notifyResourceUpdated(uri))

/**
 * A tool as a layer: built, it registers the tool. An invalid name fails the
 * layer with a `DefinitionError`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) =>
 *   Effect.succeed(text))
 * ```
 */
export const tool = <
  const P extends Tool.Parameters = never,
  S extends Schema.Schema<any, any, never> | undefined = undefined,
  E = never,
  R = never
>(
  name: string,
  options: Tool.Options<P, S>,
  handler: (
    params: [P] extends [never] ? {} : Tool.ParametersType<P>
  ) => Effect.Effect<S extends Schema.Schema<infer A, infer _I, never> ? A : Tool.Output, E, R>
): Layer.Layer<never, DefinitionError, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Layer.effectDiscard(addTool(Tool.make(name, options, handler)))

/**
 * A resource, or a resource template when the URI has `{…}` expressions, as a
 * layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * const Greeting = McpServer.resource("greeting://{name}", {}, ({ name }) =>
 *   Effect.succeed(`Hello, ${name}!`))
 * ```
 */
export const resource = <const U extends string, P extends Resource.VariableSchemas<U> = {}, E = never, R = never>(
  uri: U,
  options: Resource.TemplateOptions<U, P, R>,
  handler: (params: Resource.Params<U, P>) => Effect.Effect<Resource.Output, E, R>
): Layer.Layer<never, DefinitionError, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Layer.effectDiscard(Effect.flatMap(Effect.try({
    try: () => Resource.make(uri, options, handler),
    catch: (e) => e as DefinitionError
  }), addResource))

/**
 * A prompt as a layer.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * const Review = McpServer.prompt("review", { parameters: { code: Schema.String } }, ({ code }) =>
 *   Effect.succeed(`Please review:\n${code}`))
 * ```
 */
export const prompt = <const P extends Prompt.Parameters = {}, E = never, R = never>(
  name: string,
  options: Prompt.Options<P, R>,
  handler: (args: Schema.Struct.Type<P>) => Effect.Effect<Prompt.Output, E, R>
): Layer.Layer<never, DefinitionError, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Layer.effectDiscard(Effect.flatMap(Effect.try({
    try: () => Prompt.make(name, options, handler),
    catch: (e) => e as DefinitionError
  }), addPrompt))

/** Serves one session on `transport` with the server in context, until the transport's input ends. */
export const run = (transport: Transport): Effect.Effect<void, never, McpServer> =>
  Effect.flatMap(McpServer, (server) => server.run(transport))

/**
 * Builds a server layer and serves one session on a transport with it. The
 * layer is built completely (every registration done) before the first
 * message is read, and released when the session ends.
 */
export const serve = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  transport: Transport
): Effect.Effect<void, E, Exclude<R, Scope.Scope>> =>
  Effect.scoped(Effect.flatMap(Layer.build(server), (context) => Context.get(context, McpServer).run(transport)))

export type { UriTemplate }
