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
import type { Schema } from "effect"
import { Context, Effect, FiberRef, HashSet, Layer, Option, Runtime, Scope } from "effect"
import * as Changes from "./internal/changes.js"
import * as Dispatch from "./internal/dispatch.js"
import * as InputRequired from "./internal/inputRequired.js"
import * as Modern from "./internal/modern.js"
import { ModernEra } from "./internal/modernEra.js"
import { Registry } from "./internal/registry.js"
import type { Server, SessionOptions } from "./internal/session.js"
import { ServerSession, setStateless } from "./internal/session.js"
import { SessionServices } from "./internal/sessionServices.js"
import { Subscribers } from "./internal/subscribers.js"
import * as Tasks from "./internal/tasks.js"
import { DefinitionError, McpError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import * as Middleware from "./Middleware.js"
import type * as Peer from "./Peer.js"
import * as Prompt from "./Prompt.js"
import * as RequestContext from "./RequestContext.js"
import * as Resource from "./Resource.js"
import type * as Skill from "./Skill.js"
import * as TaskRunner from "./TaskRunner.js"
import * as TaskStore from "./TaskStore.js"
import * as Tool from "./Tool.js"
import type { Receiver, Transport } from "./Transport.js"
import type * as UriTemplate from "./UriTemplate.js"

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
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
  /**
   * How long 2026-07-28 clients may cache what the cacheable methods return
   * (`server/discover`, the lists, `resources/read`), and whether a shared
   * cache may hold it, by method. Default for each: `{ ttlMs: 0, cacheScope:
   * "private" }` (immediately stale), since a stale tool list is worse than a
   * second request. A result that depends on who asks must stay `"private"`.
   *
   * @since 0.2.0
   */
  readonly cacheHints?: Partial<Record<CacheableMethod, CacheHint>>
  /**
   * 2026-07-28 tasks: how long a task stays readable after it was created
   * (`ttlMs`, default one hour; `null` keeps it until the `TaskStore` drops
   * it), and how often clients should poll it (`pollIntervalMs`, default
   * 1000).
   *
   * @since 0.2.0
   */
  readonly tasks?: { readonly ttlMs?: number | null; readonly pollIntervalMs?: number }
}

/**
 * A method whose 2026-07-28 result carries caching hints.
 *
 * @since 0.2.0
 * @category models
 */
export type CacheableMethod =
  | "server/discover"
  | "tools/list"
  | "prompts/list"
  | "resources/list"
  | "resources/templates/list"
  | "resources/read"
  | "skills/list"
  | "skills/get"

/**
 * A caching hint: how long the result stays fresh, in ms, and who may cache it.
 *
 * @since 0.2.0
 * @category models
 */
export interface CacheHint {
  readonly ttlMs: number
  readonly cacheScope: "public" | "private"
}

/**
 * Options of one session run by {@link Service.run} or {@link Service.connect}.
 *
 * @since 0.1.0
 * @category models
 */
export type RunOptions = SessionOptions

/**
 * A request as the request core takes it: after its JSON-RPC envelope was
 * checked.
 *
 * @since 0.2.0
 * @category models
 */
export interface Request {
  readonly id: McpSchema.RequestId
  readonly method: string
  readonly params: Record<string, unknown> | undefined
}

/**
 * The server: its registry, and the ways to serve it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly info: McpSchema.Implementation
  readonly options: Options
  /** Registers a tool; sends `notifications/tools/list_changed`. A name already registered fails. */
  readonly addTool: <R>(tool: Tool.Tool<R>) => Effect.Effect<void, DefinitionError, R>
  readonly removeTool: (name: string) => Effect.Effect<boolean>
  /** Registers a resource or resource template. A URI or template already registered fails. */
  readonly addResource: <R>(
    resource: Resource.Resource<R> | Resource.Template<R>
  ) => Effect.Effect<void, DefinitionError, R>
  /** Removes a resource by URI, or a template by its template string. */
  readonly removeResource: (uri: string) => Effect.Effect<boolean>
  readonly addPrompt: <R>(prompt: Prompt.Prompt<R>) => Effect.Effect<void, DefinitionError, R>
  readonly removePrompt: (name: string) => Effect.Effect<boolean>
  /**
   * Registers a skill: its files become resources under `skill://`, and the
   * server declares the skills extension. A file URI already served fails.
   *
   * @since 0.2.0
   */
  readonly addSkill: (skill: Skill.Skill) => Effect.Effect<void, DefinitionError>
  /**
   * Removes a skill by the URI of its `SKILL.md`; `true` when it was there.
   *
   * @since 0.2.0
   */
  readonly removeSkill: (uri: string) => Effect.Effect<boolean>
  /**
   * Wraps the requests the request core serves (or those of the
   * middleware's methods); the first registered is outermost.
   *
   * @since 0.2.0
   */
  readonly addMiddleware: <R>(
    middleware: Middleware.Middleware<R>
  ) => Effect.Effect<void, never, Exclude<R, RequestContext.RequestContext>>
  /**
   * Builds `layer` once per session, on the session's first request that
   * runs a handler or middleware, and releases it when the session ends; its
   * services join every handler's context on that session. Without a
   * session (`handle` called directly), it is built for each request and
   * released when the request ends. The same layer added twice is built once.
   *
   * @since 0.2.0
   */
  readonly addSessionLayer: <ROut, E, RIn>(layer: Layer.Layer<ROut, E, RIn>) => Effect.Effect<void, never, RIn>
  /**
   * Serves `child`'s tools, resources and prompts as this server's, under
   * `prefix`, for the life of the scope: a live view, so what the child adds
   * or removes later shows here too (with `list_changed`).
   *
   * @since 0.2.0
   */
  readonly mount: (prefix: string, child: Service) => Effect.Effect<void, DefinitionError, Scope.Scope>
  /** Sends `notifications/resources/updated` to the sessions subscribed to `uri`. */
  readonly notifyResourceUpdated: (uri: string) => Effect.Effect<void>
  /** The capabilities declared to a client that initializes now. */
  readonly capabilities: () => McpSchema.ServerCapabilities
  /**
   * The request core: answers one request given its envelope (what the
   * client says about itself) and its channel back to the client, whatever
   * the era or transport. Fails with -32601 for a method the core does not
   * serve (the handshake's own methods, such as `initialize`, belong to
   * sessions).
   */
  readonly handle: (
    request: Request,
    envelope: RequestContext.Envelope,
    channel: RequestContext.ClientChannel
  ) => Effect.Effect<unknown, McpError>
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

/**
 * The server service.
 *
 * @since 0.1.0
 * @category tags
 */
export class McpServer extends Context.Tag("mcp-effect/McpServer")<McpServer, Service>() {}

/** What mounting and a task runner need of a server, kept off its public face. */
const internals = new WeakMap<
  Service,
  {
    readonly registry: Registry
    readonly core: Dispatch.Core
    readonly tasks: Tasks.Tasks
    /** One run of a durable task's handler (see `TaskRunner.TaskRunner`). */
    readonly runTask: TaskRunner.Registration["run"]
  }
>()

/** A `subscriptions/listen` request in progress. */
interface Listen {
  readonly filter: Modern.ListenFilter
  readonly notify: (method: string, params: Record<string, unknown>) => void
}

/** What the server says of itself, from its options. */
const implementationOf = (options: Options): McpSchema.Implementation => ({
  name: options.name,
  version: options.version,
  ...(options.title !== undefined ? { title: options.title } : {}),
  ...(options.description !== undefined ? { description: options.description } : {}),
  ...(options.icons !== undefined ? { icons: options.icons } : {}),
  ...(options.websiteUrl !== undefined ? { websiteUrl: options.websiteUrl } : {})
})

/** Tells a server's own clients of a change: handshake sessions per their subscriptions, listens per their filters. */
const deliverTo = (
  { listens, registry, sessions }: Audience,
  store: TaskStore.Service,
  tasks: () => Tasks.Tasks | undefined
): Changes.Deliver => ({
  announces: (method) => {
    const capabilities = registry.capabilities()
    switch (method) {
      case "notifications/tools/list_changed":
        return capabilities.tools?.listChanged === true
      case "notifications/prompts/list_changed":
        return capabilities.prompts?.listChanged === true
      case "notifications/resources/list_changed":
        return capabilities.resources?.listChanged === true
    }
  },
  listChanged: (method) => {
    for (const session of sessions) if (session.initialized) session.peer.notify(method, {})
    for (const listen of listens) if (Modern.hears(listen.filter, method)) listen.notify(method, {})
  },
  resourceUpdated: (uri) => {
    const method = "notifications/resources/updated"
    for (const session of sessions) if (session.subscriptions?.has(uri)) session.peer.notify(method, { uri })
    for (const listen of listens) if (Modern.hears(listen.filter, method, uri)) listen.notify(method, { uri })
  },
  taskChanged: (task) => notifyTask(listens, task),
  taskHeard: (taskId, status) =>
    Effect.suspend(() => {
      // A task cancelled through another node stops here, if it runs here; one answered finds its answers.
      if (status === "cancelled") tasks()?.stopDurable(taskId)
      else tasks()?.poke(taskId)
      const heard = (listen: Listen) => Modern.hears(listen.filter, "notifications/tasks", taskId)
      if (!Array.from(listens).some(heard)) return Effect.void
      return Effect.map(store.get(taskId), Option.map((task) => notifyTask(listens, task)))
    })
})

/** Tells the listens that asked for a task of its change. */
const notifyTask = (listens: ReadonlySet<Listen>, task: TaskStore.Task) => {
  const { resultType: _, ...params } = Tasks.detailed(task)
  for (const listen of listens) {
    if (Modern.hears(listen.filter, "notifications/tasks", task.taskId)) listen.notify("notifications/tasks", params)
  }
}

/**
 * Makes the server service; {@link layer} is the usual way to provide it.
 *
 * With a `ChangeFeed` in context, the server publishes every change it makes
 * (list changes, `notifyResourceUpdated`) and tells its own clients of the
 * changes other servers published, for the life of the scope it is made in;
 * made outside any scope, it warns and tells its own clients only.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service> =>
  Effect.suspend(() => {
    const sessions = new Set<ServerSession>()
    // 2026-07-28 `subscriptions/listen` requests, each with what it asked to hear.
    const listens = new Set<Listen>()
    const registry = new Registry(options.capabilities ?? {})
    return makeWith(options, { sessions, listens, registry })
  })

/** Who a server's changes reach, made before the rest so that a change heard from the feed finds them. */
interface Audience {
  readonly sessions: Set<ServerSession>
  readonly listens: Set<Listen>
  readonly registry: Registry
}

const makeWith = (options: Options, audience: Audience): Effect.Effect<Service> => {
  const { listens, registry, sessions } = audience
  // Made last, but heard of as soon as the feed is connected.
  let madeTasks: Tasks.Tasks | undefined
  // Sessions run their handlers on the server's runtime, captured once: Effect.log* inside handlers reaches the
  // client as notifications/message, and no session pays for a runtime of its own.
  // Tasks go to the TaskStore in context, if the program provides one.
  const taskStoreInContext = Effect.flatMap(
    Effect.serviceOption(TaskStore.TaskStore),
    Option.match({ onNone: () => TaskStore.makeMemory, onSome: Effect.succeed })
  )
  return Effect.flatMap(taskStoreInContext, (taskStore) =>
    Effect.map(
      Effect.all([
        Effect.locallyWith(Effect.runtime<never>(), FiberRef.currentLoggers, HashSet.add(RequestContext.clientLogger)),
        InputRequired.configuredKey,
        // Its changes reach its own clients, and, through the ChangeFeed in context if any, other servers' clients.
        Changes.connect(deliverTo(audience, taskStore, () => madeTasks))
      ]),
      ([runtime, stateKey, own]): Service => {
        const info = implementationOf(options)
        registry.listen(own)
        const cacheHint = (method: string) => Modern.cacheHint(options.cacheHints, method)
        const tasks = madeTasks = new Tasks.Tasks(taskStore, own.taskChanged, {
          ...Tasks.DEFAULT_SETTINGS,
          ...options.tasks
        })
        const core = Dispatch.make(registry, {
          pageSize: options.pageSize ?? 100,
          clientRequests: options.clientRequests,
          runtime,
          cacheHint
        })
        const subscribers = new Subscribers((uri) => registry.subscriberOf(uri), Runtime.runFork(runtime))
        // A resource registered after its first subscription starts its hook for the subscribers it already has.
        registry.listen({
          listChanged: (notification) =>
            notification === "notifications/resources/list_changed"
              ? Effect.sync(() => subscribers.unsafeRefresh())
              : Effect.void,
          resourceUpdated: () => Effect.void
        })
        const sessionServer = {
          core,
          subscribers,
          info,
          instructions: options.instructions,
          capabilities: () => registry.capabilities(),
          cacheHint,
          stateKey,
          tasks,
          listen: (filter: Modern.ListenFilter, notify: Listen["notify"]) => {
            const listen: Listen = { filter, notify }
            listens.add(listen)
            return () => listens.delete(listen)
          }
        }

        const connect = connectTo(sessions, runtime, sessionServer)

        const service: Service = {
          info,
          options,
          capabilities: () => registry.capabilities(),
          handle: (request, envelope, channel) => {
            // No session: the request holds the session layers' services, built for it and released when it ends.
            const services = new SessionServices()
            const answer = core.handle(request, envelope, channel, services)
            if (answer === undefined) return Effect.fail(McpError.methodNotFound(request.method))
            if (answer instanceof McpError) return Effect.fail(answer)
            const effect = Effect.isEffect(answer) ? answer : Effect.provide(answer.effect, answer.context)
            return Effect.ensuring(effect, services.close)
          },
          connect,
          run: (transport, runOptions) =>
            Effect.scoped(Effect.flatMap(connect(transport, runOptions), (connection) => connection.run)),
          addTool: (tool) => registry.addTool(tool),
          removeTool: (name) => registry.removeTool(name),
          addResource: (resource) => registry.addResource(resource),
          removeResource: (uri) => registry.removeResource(uri),
          addPrompt: (prompt) => registry.addPrompt(prompt),
          removePrompt: (name) => registry.removePrompt(name),
          addSkill: (skill) => registry.addSkill(skill),
          removeSkill: (uri) => registry.removeSkill(uri),
          addMiddleware: (middleware) => registry.addMiddleware(middleware),
          addSessionLayer: (layer) => registry.addSessionLayer(layer),
          mount: (prefix, child) => {
            const mounted = internals.get(child)
            return mounted === undefined
              ? Effect.fail(
                new DefinitionError({
                  message: "Only a server made by McpServer.make or McpServer.layer can be mounted"
                })
              )
              : registry.mount(prefix, mounted)
          },
          notifyResourceUpdated: (uri) => registry.resourceUpdated(uri)
        }
        // A durable task's handler runs on no connection: what it sends the client has nowhere to go.
        const detached = new ModernEra({
          server: sessionServer,
          peer: { notify: () => {}, isActive: () => true },
          transport: {}
        })
        const runTask: TaskRunner.Registration["run"] = (taskId, request, journal) =>
          detached.runTask(taskId, request, journal)
        internals.set(service, { registry, core, tasks, runTask })
        setStateless(service, { server: sessionServer, runtime })
        return service
      }
    ))
}

/** Opens sessions on the server's transports, each in the caller's scope, among `sessions` until it closes. */
const connectTo = (sessions: Set<ServerSession>, runtime: Runtime.Runtime<never>, server: Server) =>
(
  transport: Transport,
  runOptions?: RunOptions
): Effect.Effect<{ readonly receiver: Receiver; readonly run: Effect.Effect<void> }, never, Scope.Scope> =>
  Effect.flatMap(Effect.scope, (scope) => {
    const session = new ServerSession(transport, runOptions, runtime, server)
    const { subscribers } = server
    sessions.add(session)
    // A session taken up from a store brings its subscriptions: what runs for them starts here too.
    if (session.subscriptions !== undefined) subscribers.unsafeAddAll(session.subscriptions)
    // Scope.addFinalizer, not Effect.addFinalizer: the latter keeps the calling fiber's FiberRefs for the
    // finalizer, which an idle session would then hold for its whole life. The session's services go last,
    // once no handler can use them.
    const close = Effect.suspend(() => {
      sessions.delete(session)
      session.ended = true
      const subscribed = session.subscriptions ?? []
      session.subscriptions = undefined
      return Effect.zipRight(
        session.peer.shutdown,
        Effect.suspend(() => session.services?.close ?? Effect.void)
      ).pipe(Effect.zipRight(subscribers.unsafeRemoveAll(subscribed)))
    })
    return Effect.as(Scope.addFinalizer(scope, close), { receiver: session.peer.receiver, run: session.peer.run })
  })

/** What `Resource.make` and `Prompt.make` throw for a malformed definition. */
const asDefinitionError = (e: unknown): DefinitionError =>
  e instanceof DefinitionError ? e : new DefinitionError({ message: e instanceof Error ? e.message : String(e) })

/**
 * The server service, with nothing registered yet. Compose registrations on
 * top of it with `Layer.provideMerge`. Releasing the layer ends the
 * 2026-07-28 tasks still running: their handlers are interrupted and the
 * tasks stored as failed, saying the server shut down. With a `TaskRunner`
 * in context (`McpCluster`'s), the server registers with it, and its tasks
 * are the runner's: they run on another node instead.
 *
 * With a `ChangeFeed` in context, the server's change notifications reach
 * the clients of every server on that feed, its own once: see `ChangeFeed`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ChangeFeed, McpServer } from "mcp-effect"
 *
 * // A server on the feed: its changes reach the clients of every server on the same feed, and theirs its own.
 * const Node = McpServer.layer({ name: "node", version: "1.0.0" }).pipe(Layer.provide(ChangeFeed.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<McpServer> =>
  Layer.scoped(
    McpServer,
    Effect.tap(make(options), (service) => {
      const own = internals.get(service)
      if (own === undefined) return Effect.void
      // Tasks outlive their requests, not their server: releasing the layer ends those still running here.
      const shutdown = Effect.addFinalizer(() => own.tasks.shutdown)
      // With a task runner in context, tasks are its own, for the life of the layer.
      const durable = Effect.flatMap(Effect.serviceOption(TaskRunner.TaskRunner), (runner) =>
        Option.isNone(runner) ? Effect.void : Effect.map(
          runner.value.register({ name: service.info.name, run: own.runTask }),
          (durable) =>
            void (own.tasks.durable = Option.getOrUndefined(durable))
        ))
      return Effect.zipRight(shutdown, durable)
    })
  )

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

/**
 * Registers a tool with the server in scope.
 *
 * @since 0.1.0
 * @category registration
 */
export const addTool = <R>(tool: Tool.Tool<R>) => Effect.flatMap(McpServer, (server) => server.addTool(tool))
/**
 * Removes a tool from the server in scope; `true` when it was there.
 *
 * @since 0.1.0
 * @category registration
 */
export const removeTool = (name: string) => Effect.flatMap(McpServer, (server) => server.removeTool(name))
/**
 * Registers a resource or resource template with the server in scope.
 *
 * @since 0.1.0
 * @category registration
 */
export const addResource = <R>(resource: Resource.Resource<R> | Resource.Template<R>) =>
  Effect.flatMap(McpServer, (server) => server.addResource(resource))
/**
 * Removes a resource by URI, or a template by its template string.
 *
 * @since 0.1.0
 * @category registration
 */
export const removeResource = (uri: string) => Effect.flatMap(McpServer, (server) => server.removeResource(uri))
/**
 * Registers a prompt with the server in scope.
 *
 * @since 0.1.0
 * @category registration
 */
export const addPrompt = <R>(prompt: Prompt.Prompt<R>) =>
  Effect.flatMap(McpServer, (server) => server.addPrompt(prompt))
/**
 * Removes a prompt from the server in scope; `true` when it was there.
 *
 * @since 0.1.0
 * @category registration
 */
export const removePrompt = (name: string) => Effect.flatMap(McpServer, (server) => server.removePrompt(name))
/**
 * Registers a skill with the server in scope.
 *
 * @since 0.2.0
 * @category registration
 */
export const addSkill = (skill: Skill.Skill) => Effect.flatMap(McpServer, (server) => server.addSkill(skill))
/**
 * Removes a skill by the URI of its `SKILL.md`; `true` when it was there.
 *
 * @since 0.2.0
 * @category registration
 */
export const removeSkill = (uri: string) => Effect.flatMap(McpServer, (server) => server.removeSkill(uri))
/**
 * Tells subscribed clients that a resource changed.
 *
 * @since 0.1.0
 * @category registration
 */
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
 *
 * @since 0.1.0
 * @category layers
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
 *
 * @since 0.1.0
 * @category layers
 */
export const resource = <
  const U extends string,
  P extends Resource.VariableSchemas<U> = {},
  E = never,
  R = never,
  RS = never
>(
  uri: U,
  options: Resource.TemplateOptions<U, P, R, RS>,
  handler: (params: Resource.Params<U, P>) => Effect.Effect<Resource.Output, E, R>
): Layer.Layer<
  never,
  DefinitionError,
  McpServer | Exclude<R, RequestContext.RequestContext> | Exclude<RS, Scope.Scope>
> =>
  Layer.effectDiscard(Effect.flatMap(
    Effect.try({
      try: () => Resource.make(uri, options, handler),
      catch: asDefinitionError
    }),
    addResource
  ))

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
 *
 * @since 0.1.0
 * @category layers
 */
export const prompt = <const P extends Prompt.Parameters = {}, E = never, R = never>(
  name: string,
  options: Prompt.Options<P, R>,
  handler: (args: Schema.Struct.Type<P>) => Effect.Effect<Prompt.Output, E, R>
): Layer.Layer<never, DefinitionError, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Layer.effectDiscard(Effect.flatMap(
    Effect.try({
      try: () => Prompt.make(name, options, handler),
      catch: asDefinitionError
    }),
    addPrompt
  ))

/**
 * Skills as a layer: defined in code (`Skill.make`), or read when the layer
 * is built (`Skill.fromDirectory`). Each one's files are served as
 * resources under `skill://`, and `skills/list`, `skills/get` and
 * `resources/directory/read` serve the lot, in both eras.
 *
 * @example
 * ```ts
 * import { NodeContext } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { McpServer, Skill } from "mcp-effect"
 *
 * const Greeting = Skill.make("greeting", {
 *   description: "Greet a user in their language",
 *   instructions: "Ask for the user's language, then greet them in it."
 * })
 *
 * // Both: one skill written here, and every skill in ./skills.
 * const Skills = Layer.merge(
 *   McpServer.skills([Greeting]),
 *   McpServer.skills(Skill.fromDirectory("./skills")).pipe(Layer.provide(NodeContext.layer))
 * )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const skills = <E = never, R = never>(
  skills: Iterable<Skill.Skill> | Effect.Effect<Iterable<Skill.Skill>, E, R>
): Layer.Layer<never, DefinitionError | E, McpServer | R> =>
  Layer.effectDiscard(
    Effect.flatMap(
      Effect.isEffect(skills) ? skills : Effect.succeed(skills),
      (all) => Effect.forEach(all, addSkill, { discard: true })
    )
  )

// ---------------------------------------------------------------------------
// Middleware
// ---------------------------------------------------------------------------

/**
 * Registers a middleware with the server in scope.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpServer, Middleware } from "mcp-effect"
 *
 * const register = McpServer.addMiddleware(Middleware.make((next) => Effect.zipRight(Effect.logDebug("request"), next)))
 * ```
 *
 * @since 0.2.0
 * @category registration
 */
export const addMiddleware = <R>(
  middleware: Middleware.Middleware<R>
): Effect.Effect<void, never, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Effect.flatMap(McpServer, (server) => server.addMiddleware(middleware))

/**
 * A middleware as a layer: an Effect around every request the request core
 * serves (tools, resources, prompts, completion), or around those of
 * `options.methods`. It receives the request's answer as `next` and what the
 * request is about as `info`; `RequestContext` is available inside. It may
 * run `next`, replace its result, or fail with an `McpError` (answered as a
 * JSON-RPC error) without running it. Middlewares compose in registration
 * order, the first registered outermost; their services are captured when
 * the layer is built, as a tool's are.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { McpServer, RequestContext } from "mcp-effect"
 *
 * const Audit = McpServer.middleware((next, info) =>
 *   Effect.gen(function*() {
 *     const ctx = yield* RequestContext.current
 *     yield* Effect.logInfo(`${ctx.auth?.subject ?? "anonymous"}: ${info.method} ${info.name ?? ""}`)
 *     return yield* next
 *   }))
 *
 * const Server = Audit.pipe(Layer.provideMerge(McpServer.layer({ name: "audited", version: "1.0.0" })))
 * ```
 *
 * @since 0.2.0
 * @category middleware
 */
export const middleware = <R = never>(
  run: (next: Effect.Effect<unknown, McpError>, info: Middleware.Info) => Effect.Effect<unknown, McpError, R>,
  options?: Middleware.Options
): Layer.Layer<never, never, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Layer.effectDiscard(addMiddleware(Middleware.make(run, options)))

/**
 * A middleware around tool calls only, as a layer: `next` answers the call's
 * `CallToolResult`, and `info` has the tool's name and arguments.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Ref } from "effect"
 * import { McpError, McpServer } from "mcp-effect"
 *
 * // At most 100 tool calls for the life of the server.
 * const RateLimit = Layer.unwrapEffect(Effect.map(Ref.make(0), (calls) =>
 *   McpServer.toolMiddleware((next) =>
 *     Effect.flatMap(Ref.getAndUpdate(calls, (n) => n + 1), (n) =>
 *       n < 100 ? next : Effect.fail(McpError.McpError.invalidRequest("rate limit exceeded"))))))
 * ```
 *
 * @since 0.2.0
 * @category middleware
 */
export const toolMiddleware = <R = never>(
  run: (
    next: Effect.Effect<McpSchema.CallToolResult, McpError>,
    info: Middleware.ToolCallInfo
  ) => Effect.Effect<McpSchema.CallToolResult, McpError, R>
): Layer.Layer<never, never, McpServer | Exclude<R, RequestContext.RequestContext>> =>
  Layer.effectDiscard(addMiddleware(Middleware.tools(run)))

// ---------------------------------------------------------------------------
// Per-session lifespan
// ---------------------------------------------------------------------------

/**
 * What a session layer provides when the server is built: nothing. Its
 * services exist only per session, and the request core merges them into
 * each handler's context on that session (`inContext` in
 * `internal/dispatch.ts`). This is the one place where the requirement is
 * met per session rather than now, and the cast says exactly that; a layer
 * that reads a session service while it is being built fails with "Service
 * not found".
 */
const perSession = <ROut>(): Context.Context<ROut> => Context.empty() as Context.Context<ROut>

/**
 * Registers a session layer with the server in scope (see
 * {@link layerSession}).
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * class Cart extends Context.Tag("Cart")<Cart, { readonly items: Array<string> }>() {}
 *
 * const register = McpServer.addSessionLayer(Layer.sync(Cart, () => ({ items: [] })))
 * ```
 *
 * @since 0.2.0
 * @category registration
 */
export const addSessionLayer = <ROut, E, RIn>(
  layer: Layer.Layer<ROut, E, RIn>
): Effect.Effect<void, never, McpServer | RIn> => Effect.flatMap(McpServer, (server) => server.addSessionLayer(layer))

/**
 * Per-session lifespan: `session` is built once for each session, lazily on
 * the session's first request that runs a handler or middleware, and
 * released when the session ends (the connection closes, the client sends
 * DELETE, or the session expires idle), after its handlers were stopped.
 * Handlers `yield*` its services like any other.
 *
 * Provide it to the registrations that need its services with
 * `Layer.provide`: their requirement is then met, and each gets the
 * session's own instance per request. The layer's own requirements are
 * captured when the server is built, so a session layer may use server-wide
 * services (a pool to take a connection from). A session layer that fails
 * answers the request with an error (its `McpError`, or -32603) and is tried
 * again on the next request; the server keeps serving.
 *
 * Without a session (`McpServer.handle` called directly, as the stateless
 * 2026-07-28 revision will), each request is its own session: the layer is
 * built for the request and released when it ends.
 *
 * Install session layers when the server is built: a session that has
 * already built its services keeps them as they are.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * class Connection extends Context.Tag("Connection")<Connection, { readonly id: number }>() {}
 *
 * let opened = 0
 * const ConnectionLive = Layer.scoped(
 *   Connection,
 *   Effect.acquireRelease(Effect.sync(() => ({ id: ++opened })), () => Effect.void)
 * )
 *
 * const Whoami = McpServer.tool("connection", {}, () =>
 *   Effect.map(Connection, (connection) => `connection ${connection.id}`))
 *
 * const Server = Whoami.pipe(
 *   Layer.provide(McpServer.layerSession(ConnectionLive)),
 *   Layer.provideMerge(McpServer.layer({ name: "sessions", version: "1.0.0" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category lifespan
 */
export const layerSession = <ROut, E, RIn>(
  session: Layer.Layer<ROut, E, RIn>
): Layer.Layer<ROut, never, McpServer | RIn> =>
  Layer.effectContext(Effect.as(addSessionLayer(session), perSession<ROut>()))

// ---------------------------------------------------------------------------
// Composition
// ---------------------------------------------------------------------------

/**
 * Mounts another server into this one under `prefix`, as FastMCP's `mount`
 * does: the child's tools and prompts appear as `prefix_name`, and its
 * resources and templates with the prefix as the first segment after the
 * scheme (`data://config` as `data://prefix/config`, `file:///a` as
 * `file://prefix//a`, `urn:x` as `urn:prefix/x`).
 *
 * The mount is a live view: lookups fall through to the child with the
 * prefix stripped, and what the child adds or removes at run time reaches
 * this server's clients as `list_changed`. The server's own definitions win
 * over mounted ones of the same name. The child's middlewares still wrap its
 * own requests, inside this server's; its session layers are built per
 * session of this server; and its handlers see the child as their server
 * (`RequestContext.readResource` reads the child's resources by their own
 * URIs). The child layer is built with this one, sharing its memoized layers,
 * and released with it.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { McpServer } from "mcp-effect"
 *
 * const Weather = McpServer.tool("forecast", {}, () => Effect.succeed("sunny")).pipe(
 *   Layer.provideMerge(McpServer.layer({ name: "weather", version: "1.0.0" }))
 * )
 *
 * // Lists the tool "weather_forecast".
 * const Main = McpServer.mount("weather", Weather).pipe(
 *   Layer.provideMerge(McpServer.layer({ name: "main", version: "1.0.0" }))
 * )
 * ```
 *
 * @since 0.2.0
 * @category composition
 */
export const mount = <E, R>(
  prefix: string,
  child: Layer.Layer<McpServer, E, R>
): Layer.Layer<never, E | DefinitionError, McpServer | Exclude<R, Scope.Scope>> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const server = yield* McpServer
    const memoMap = yield* Layer.CurrentMemoMap
    const built = yield* Layer.buildWithMemoMap(child, memoMap, yield* Effect.scope)
    yield* server.mount(prefix, Context.get(built, McpServer))
  }))

/**
 * Serves one session on `transport` with the server in context, until the transport's input ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (transport: Transport): Effect.Effect<void, never, McpServer> =>
  Effect.flatMap(McpServer, (server) => server.run(transport))

/**
 * Builds a server layer and serves one session on a transport with it. The
 * layer is built completely (every registration done) before the first
 * message is read, and released when the session ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = <E, R>(
  server: Layer.Layer<McpServer, E, R>,
  transport: Transport
): Effect.Effect<void, E, Exclude<R, Scope.Scope>> =>
  Effect.scoped(Effect.flatMap(Layer.build(server), (context) => Context.get(context, McpServer).run(transport)))

export type {
  /**
   * The types of the `UriTemplate` module, re-exported (types only).
   *
   * @since 0.1.0
   * @category models
   */
  UriTemplate
}
