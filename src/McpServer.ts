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
import { Context, Effect, Either, FiberRef, HashSet, Layer, ParseResult, Runtime, Schema, Scope } from "effect"
import type * as Completion from "./Completion.js"
import { DefinitionError, McpError, MessageEncodingError } from "./McpError.js"
import { encodable } from "./internal/encode.js"
import * as McpSchema from "./McpSchema.js"
import * as Peer from "./Peer.js"
import * as Prompt from "./Prompt.js"
import * as RequestContext from "./RequestContext.js"
import * as Resource from "./Resource.js"
import * as Tool from "./Tool.js"
import type { Receiver, Transport } from "./Transport.js"
import type * as UriTemplate from "./UriTemplate.js"
import { isRecord } from "./internal/guards.js"
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
  /** Subscribed resource URIs; made on first subscribe. */
  subscriptions: Set<string> | undefined
  readonly peer: Peer.Peer
  readonly transport: Transport
}

/** Options of one session run by {@link Service.run}. */
export interface RunOptions {
  /** The transport's session id, if it has sessions. */
  readonly sessionId?: string
  /**
   * Serves requests without a prior `initialize`, at this version and with no
   * client capabilities: for stateless transports, where every request stands
   * alone. An `initialize` is still answered.
   */
  readonly initialized?: { readonly protocolVersion: string }
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
  readonly run: (transport: Transport, options?: RunOptions) => Effect.Effect<void>
  /**
   * Opens a session on a transport for the life of the scope, without a fiber
   * of its own: messages go in through `receiver` (the transport's `run` is
   * not called unless `run` is). For transports that hold many idle sessions,
   * such as HTTP; closing the scope interrupts the session's handlers.
   */
  readonly connect: (
    transport: Transport,
    options?: RunOptions
  ) => Effect.Effect<{ readonly receiver: Receiver; readonly run: Effect.Effect<void> }, never, Scope.Scope>
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
    return isRecord(meta) ? meta : undefined
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
  get closeStream() {
    return Effect.sync(() => this.session.transport.closeStream?.(this.incoming.id))
  }
  readResource(uri: string): Effect.Effect<McpSchema.ReadResourceResult, McpError> {
    const answer = this.server.read(uri, this)
    if (answer instanceof McpError) return Effect.fail(answer)
    return Effect.provide(answer.effect, answer.context) as Effect.Effect<McpSchema.ReadResourceResult, McpError>
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
  const params = (data: unknown) => (logger === undefined ? { level, data } : { level, logger, data })
  try {
    session.peer.notify("notifications/message", params(data), related)
  } catch (thrown) {
    if (!(thrown instanceof MessageEncodingError)) throw thrown
    // A log is best-effort: data JSON cannot encode goes out as near as it can, rather than failing the handler.
    session.peer.notify("notifications/message", params(encodable(data)), related)
  }
}

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

/** What a method answers: an effect needing only the request context, or one with its registration's services. */
type Answer = Effect.Effect<unknown, McpError, RequestContext.RequestContext> | Peer.WithContext | McpError

type Handler = (params: Record<string, unknown> | undefined, ctx: ServerRequestContext) => Answer


/** What `Resource.make` and `Prompt.make` throw for a malformed definition. */
const asDefinitionError = (e: unknown): DefinitionError =>
  e instanceof DefinitionError ? e : new DefinitionError({ message: e instanceof Error ? e.message : String(e) })

/** A registered definition with the services it was registered with. */
interface Registered<A> {
  readonly value: A
  readonly context: Context.Context<never>
}

/** Runs a registered handler with its services and the request context, as the fiber's whole context. */
const inContext = (
  registered: Registered<unknown>,
  effect: Effect.Effect<unknown, McpError, unknown>,
  ctx: ServerRequestContext
): Peer.WithContext =>
  // The registration erased which services the handler needs; its captured context holds them.
  Peer.withContext(effect, Context.add(registered.context, RequestContext.RequestContext, ctx) as Context.Context<unknown>)

/** Decodes params once per method with a compiled decoder; a mismatch answers -32602. */
const withParams = <A, I>(
  schema: Schema.Schema<A, I>,
  handle: (params: A, ctx: ServerRequestContext) => Answer
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
  readonly read: (uri: string, ctx: ServerRequestContext) => Peer.WithContext | McpError
}

const ALWAYS_ALLOWED = new Set(["initialize", "ping"])

/**
 * One session: its state, and the peer's request handler. A class, so that
 * the handlers are prototype methods and an idle session holds only its
 * fields (servers keep thousands of idle HTTP sessions).
 */
class ServerSession implements Session, Peer.Handlers {
  initialized = false
  protocolVersion: string
  clientInfo: McpSchema.Implementation | undefined = undefined
  clientCapabilities: McpSchema.ClientCapabilities = {}
  logLevel: McpSchema.LoggingLevel | undefined = undefined
  subscriptions: Set<string> | undefined = undefined
  readonly id: string | undefined
  readonly peer: ReturnType<typeof Peer.unsafeMake>
  private readonly stateless: boolean

  constructor(
    readonly transport: Transport,
    runOptions: RunOptions | undefined,
    runtime: Runtime.Runtime<never>,
    private readonly methods: ReadonlyMap<string, Handler>,
    private readonly server: Server
  ) {
    this.id = runOptions?.sessionId
    this.stateless = runOptions?.initialized !== undefined
    this.protocolVersion = runOptions?.initialized?.protocolVersion ?? McpSchema.LATEST_PROTOCOL_VERSION
    this.peer = Peer.unsafeMake(transport, this, runtime)
  }

  onRequest(request: Peer.IncomingRequest): Peer.Answer {
    const handler = this.methods.get(request.method)
    if (handler === undefined) return undefined
    if (!this.initialized && !this.stateless && !ALWAYS_ALLOWED.has(request.method)) {
      return McpError.invalidRequest(`the session is not initialized; send initialize before ${request.method}`)
    }
    const ctx = new ServerRequestContext(this, request, this.server)
    const answer = handler(request.params, ctx)
    return Effect.isEffect(answer) ? Peer.withContext(answer, Context.make(RequestContext.RequestContext, ctx)) : answer
  }

  acceptsBatch(): boolean {
    return this.initialized && this.protocolVersion === "2025-03-26"
  }
}

/** Makes the server service; {@link layer} is the usual way to provide it. */
export const make = (options: Options): Effect.Effect<Service> =>
  // Sessions run their handlers on the server's runtime, captured once: Effect.log* inside handlers reaches the
  // client as notifications/message, and no session pays for a runtime of its own.
  Effect.map(
    Effect.locallyWith(Effect.runtime<never>(), FiberRef.currentLoggers, HashSet.add(RequestContext.clientLogger)),
    (runtime) => {
    const info: McpSchema.Implementation = {
      name: options.name,
      version: options.version,
      ...(options.title !== undefined ? { title: options.title } : {}),
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(options.icons !== undefined ? { icons: options.icons } : {}),
      ...(options.websiteUrl !== undefined ? { websiteUrl: options.websiteUrl } : {})
    }
    const pageSize = options.pageSize ?? 100
    const tools = new Map<string, Registered<Tool.Tool<unknown>>>()
    const resources = new Map<string, Registered<Resource.Resource<unknown>>>()
    const templates = new Map<string, Registered<Resource.Template<unknown>>>()
    const prompts = new Map<string, Registered<Prompt.Prompt<unknown>>>()
    const sessions = new Set<Session>()

    const broadcast = (method: string) =>
      Effect.sync(() => {
        for (const session of sessions) if (session.initialized) session.peer.notify(method, {})
      })

    const remove = (registry: Map<string, unknown>, key: string, notification: string) =>
      Effect.suspend(() => (registry.delete(key) ? Effect.as(broadcast(notification), true) : Effect.succeed(false)))

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

    /** Handlers keep the services they were registered with. */
    const register = <A>(value: A): Effect.Effect<Registered<A>> =>
      Effect.map(Effect.context<never>(), (context) => ({ value, context }))

    const read = (uri: string, ctx: ServerRequestContext): Peer.WithContext | McpError => {
      const resource = resources.get(uri)
      if (resource !== undefined) return inContext(resource, resource.value.read(uri), ctx)
      for (const template of templates.values()) {
        const result = template.value.read(uri)
        if (result !== undefined) return inContext(template, result, ctx)
      }
      return McpError.resourceNotFound(uri)
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

    const completeRef = (params: McpSchema.CompleteRequestParams, ctx: ServerRequestContext): Answer => {
      const context: Completion.Context = { arguments: params.context?.arguments ?? {} }
      if (params.ref.type === "ref/prompt") {
        const prompt = prompts.get(params.ref.name)
        return prompt === undefined
          ? McpError.invalidParams(`Unknown prompt: ${params.ref.name}`)
          : inContext(prompt, prompt.value.complete(params.argument.name, params.argument.value, context), ctx)
      }
      const template = templates.get(params.ref.uri)
      if (template !== undefined) {
        return inContext(template, template.value.complete(params.argument.name, params.argument.value, context), ctx)
      }
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
      ["tools/list", list("tools", () => Array.from(tools.values()), (t, v) => Versioning.tool(t.value.definition, v))],
      // The hot path: checked by hand rather than decoded, since the tool's own decoder reads the arguments anyway.
      ["tools/call", (params, ctx) => {
        const name = params?.name
        const args = params?.arguments
        if (typeof name !== "string") return McpError.invalidParams("name must be a string")
        if (args !== undefined && !isRecord(args)) return McpError.invalidParams("arguments must be an object")
        const tool = tools.get(name)
        if (tool === undefined) return McpError.invalidParams(`Unknown tool: ${name}`)
        const result = tool.value.call(args)
        return inContext(
          tool,
          McpSchema.versionAtLeast(ctx.protocolVersion, "2025-06-18")
            ? result
            : Effect.map(result, (r) => Versioning.callToolResult(r, ctx.protocolVersion)),
          ctx
        )
      }],
      [
        "resources/list",
        list("resources", () => Array.from(resources.values()), (r, v) => Versioning.described(r.value.definition, v))
      ],
      [
        "resources/templates/list",
        list("resourceTemplates", () => Array.from(templates.values()), (t, v) => Versioning.described(t.value.definition, v))
      ],
      ["resources/read", withParams(McpSchema.ReadResourceRequestParams, (params, ctx) => read(params.uri, ctx))],
      ["resources/subscribe", withParams(McpSchema.SubscribeRequestParams, (params, ctx) => {
        ;(ctx.session.subscriptions ??= new Set()).add(params.uri)
        return Effect.succeed({})
      })],
      ["resources/unsubscribe", withParams(McpSchema.SubscribeRequestParams, (params, ctx) => {
        ctx.session.subscriptions?.delete(params.uri)
        return Effect.succeed({})
      })],
      ["prompts/list", list("prompts", () => Array.from(prompts.values()), (p, v) => Versioning.described(p.value.definition, v))],
      ["prompts/get", withParams(McpSchema.GetPromptRequestParams, (params, ctx) => {
        const prompt = prompts.get(params.name)
        if (prompt === undefined) return McpError.invalidParams(`Unknown prompt: ${params.name}`)
        return inContext(
          prompt,
          Effect.map(prompt.value.get(params.arguments), (r) => Versioning.promptResult(r, ctx.protocolVersion)),
          ctx
        )
      })],
      ["completion/complete", withParams(McpSchema.CompleteRequestParams, completeRef)]
    ])

    const connect = (transport: Transport, runOptions?: RunOptions) =>
      Effect.flatMap(Effect.scope, (scope) => {
        const session = openSession(transport, runOptions, runtime)
        // Scope.addFinalizer, not Effect.addFinalizer: the latter keeps the calling fiber's FiberRefs for the
        // finalizer, which an idle session would then hold for its whole life.
        const close = Effect.suspend(() => {
          sessions.delete(session)
          return session.peer.shutdown
        })
        return Effect.as(Scope.addFinalizer(scope, close), { receiver: session.peer.receiver, run: session.peer.run })
      })

    /** A plain function, so that an idle session holds only what it needs. */
    const openSession = (
      transport: Transport,
      runOptions: RunOptions | undefined,
      runtime: Runtime.Runtime<never>
    ): ServerSession => {
      const session = new ServerSession(transport, runOptions, runtime, methods, server)
      sessions.add(session)
      return session
    }

    const run = (transport: Transport, runOptions?: RunOptions) =>
      Effect.scoped(Effect.flatMap(connect(transport, runOptions), (connection) => connection.run))

    const server: Server = {
      info,
      options,
      capabilities,
      connect,
      run,
      read,
      addTool: (tool) =>
        Tool.validate(tool).pipe(
          Effect.flatMap(register),
          Effect.tap((registered) => tools.set(tool.name, registered)),
          Effect.zipRight(broadcast("notifications/tools/list_changed"))
        ),
      removeTool: (name) => remove(tools, name, "notifications/tools/list_changed"),
      addResource: (resource) =>
        register(resource).pipe(
          Effect.tap((registered) =>
            resource._tag === "Resource"
              ? resources.set(resource.uri, registered as Registered<Resource.Resource<unknown>>)
              : templates.set(resource.uriTemplate.template, registered as Registered<Resource.Template<unknown>>)
          ),
          Effect.zipRight(broadcast("notifications/resources/list_changed"))
        ),
      removeResource: (uri) =>
        Effect.zipWith(
          remove(resources, uri, "notifications/resources/list_changed"),
          remove(templates, uri, "notifications/resources/list_changed"),
          (a, b) => a || b
        ),
      addPrompt: (prompt) =>
        register(prompt).pipe(
          Effect.tap((registered) => prompts.set(prompt.name, registered)),
          Effect.zipRight(broadcast("notifications/prompts/list_changed"))
        ),
      removePrompt: (name) => remove(prompts, name, "notifications/prompts/list_changed"),
      notifyResourceUpdated: (uri) =>
        Effect.sync(() => {
          for (const session of sessions) {
            if (session.subscriptions?.has(uri)) session.peer.notify("notifications/resources/updated", { uri })
          }
        })
    }
    return server
  }
  )

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
    catch: asDefinitionError
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
    catch: asDefinitionError
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
