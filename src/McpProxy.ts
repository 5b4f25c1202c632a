/**
 * A proxy: the `McpServer` in context re-exposes other servers' tools,
 * resources, resource templates and prompts, under prefixed names (as
 * `McpClients` lists them), and forwards what happens during a call both
 * ways: the upstream server's progress reaches the downstream client as the
 * progress of its request; interrupting the downstream request (a
 * `notifications/cancelled`) cancels the upstream call; and the upstream
 * server's sampling, elicitation and roots requests are asked of the
 * downstream client, on behalf of the request being served.
 *
 * The mirror is kept in sync: an upstream `list_changed`, or a connection
 * that fails or comes back, re-lists that kind of definition and registers
 * or removes what changed, which the downstream clients hear as their own
 * `list_changed`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { McpProxy, McpServer } from "mcp-effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const Proxy = McpProxy.layer({
 *   echo: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/echo.ts"] }),
 *   notes: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/mount.ts"] })
 * }).pipe(
 *   // Capabilities declared whatever is reachable when a client connects.
 *   Layer.provideMerge(McpServer.layer({
 *     name: "proxy",
 *     version: "1.0.0",
 *     capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } }
 *   }))
 * )
 *
 * // NodeStdio.run(Proxy) serves it over stdio.
 * ```
 *
 * @since 0.2.0
 */
import { Context, Effect, Either, Layer, Option, Queue, Stream } from "effect"
import type { Scope } from "effect"
import * as McpClient from "./McpClient.js"
import * as McpClients from "./McpClients.js"
import type { RequestError } from "./McpError.js"
import { CapabilityNotSupportedError, DefinitionError, ErrorCode, McpError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import * as McpServer from "./McpServer.js"
import type * as Peer from "./Peer.js"
import type * as Prompt from "./Prompt.js"
import * as RequestContext from "./RequestContext.js"
import type * as Resource from "./Resource.js"
import * as Tool from "./Tool.js"
import * as UriTemplate from "./UriTemplate.js"

/**
 * Options of {@link layer}.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * Options of each forwarded tool call (its timeout). A call whose caller
   * asked for progress restarts its timeout on each progress, unless this
   * says otherwise.
   */
  readonly requestOptions?: Peer.RequestOptions
}

/**
 * The services the proxy gives each upstream connection: its answers to the
 * upstream server's sampling, elicitation and roots requests, and where its
 * log messages go.
 *
 * @since 0.2.0
 * @category models
 */
export type Forwarded = McpClient.Sampling | McpClient.Elicitation | McpClient.Roots | McpClient.Logging

/**
 * Connects to every upstream server (as `McpClients.make` does, each
 * connection failing alone) and registers what they serve on the
 * `McpServer` in context, for the life of the layer. The layer provides the
 * `McpClients`, to read the connections' status or reconnect one.
 *
 * Each connection is made with handlers for sampling, elicitation and roots
 * (so the upstream server sees those capabilities) that ask the downstream
 * client of the request forwarded to that server. A question that says which
 * forwarded call it belongs to goes to that call's client: one on a
 * Streamable HTTP POST's stream or from an in-memory upstream, and every
 * 2026-07-28 round. One that does not (a handshake-era upstream over stdio
 * or legacy SSE, where nothing on the wire says) goes to the one request
 * forwarded to that server and still in flight; with none, or several, it is
 * refused with an error, and a roots request is answered with no roots. A
 * question the downstream client did not declare the capability for is
 * refused without being sent.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = <const C extends McpClients.Connections>(
  connections: C,
  options: Options = {}
): Layer.Layer<
  McpClients.McpClients,
  DefinitionError,
  McpServer.McpServer | Exclude<McpClients.Requirements<C>, Forwarded>
> =>
  Layer.scoped(
    McpClients.McpClients,
    Effect.gen(function*() {
      const server = yield* McpServer.McpServer
      const forwarders = new Map(Object.keys(connections).map((name) => [name, new Forwarder(name)]))
      const wired: Record<string, Effect.Effect<McpClient.Service, unknown, unknown>> = {}
      for (const [name, forwarder] of forwarders) {
        const connection = connections[name]
        if (connection !== undefined) wired[name] = Effect.tap(Effect.provide(connection, forwarder.context), hearAll)
      }
      // The forwarders' services are given to every connection: what is left to require is the rest of C's.
      const clients = yield* McpClients.make(
        wired as Readonly<
          Record<string, Effect.Effect<McpClient.Service, unknown, Exclude<McpClients.Requirements<C>, Forwarded>>>
        >
      )
      const mirror = new Mirror(server, clients, forwarders, options)
      const notifications = yield* clients.subscribe
      yield* mirror.sync(ALL)
      yield* Effect.forkScoped(mirror.follow(notifications))
      return clients
    })
  )

/**
 * Asks an upstream server for all its log messages: the downstream clients' own levels filter them when passed on
 * (and a 2026-07-28 server sends none to a client that named no level).
 */
const hearAll = (client: McpClient.Service) =>
  client.serverCapabilities.logging === undefined ? Effect.void : Effect.ignore(client.setLevel("debug"))

type Kind = "tools" | "resources" | "prompts"

const ALL: ReadonlySet<Kind> = new Set(["tools", "resources", "prompts"])

/** The kinds of definition an upstream notification says have changed. */
const changedBy = (method: string): ReadonlyArray<Kind> => {
  switch (method) {
    case "notifications/tools/list_changed":
      return ["tools"]
    case "notifications/resources/list_changed":
      return ["resources"]
    case "notifications/prompts/list_changed":
      return ["prompts"]
    default:
      return []
  }
}

/** What a downstream handler fails with when the upstream request did: as it came, or as a -32603. */
const toMcpError = (error: RequestError | CapabilityNotSupportedError): McpError => {
  if (error instanceof McpError) return error
  if (error instanceof CapabilityNotSupportedError) {
    return new McpError({ code: ErrorCode.MethodNotFound, message: error.message })
  }
  return McpError.internal(error.message)
}

/**
 * One upstream connection's way back to the downstream clients: the requests
 * forwarded to it and in flight, and the handlers that ask their clients.
 */
class Forwarder {
  private readonly calls: Array<RequestContext.Service> = []

  constructor(readonly server: string) {}

  /** Runs a forwarded request with `ctx` in flight: the upstream server's questions meanwhile go to its client. */
  during<A, E, R>(ctx: RequestContext.Service, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.acquireUseRelease(
      Effect.sync(() => this.calls.push(ctx)),
      () => effect,
      () =>
        Effect.sync(() => {
          const index = this.calls.indexOf(ctx)
          if (index >= 0) this.calls.splice(index, 1)
        })
    )
  }

  /**
   * The request an upstream question (or log message) belongs to: the forwarded call it came with, found among the
   * handler's services, if it is still in flight here (one that is not, a completion's, gets no other request in its
   * place); with none, the only request in flight.
   */
  private get askingFor(): Effect.Effect<Either.Either<RequestContext.Service, McpError>> {
    return Effect.map(Effect.serviceOption(RequestContext.RequestContext), (related) => {
      if (Option.isNone(related)) return this.asking
      // A request of another kind (a completion, say): never another client's request in its place.
      return this.calls.includes(related.value)
        ? Either.right(related.value)
        : Either.left(McpError.invalidRequest("the proxy forwards no request it belongs to"))
    })
  }

  /** The only request in flight. */
  private get asking(): Either.Either<RequestContext.Service, McpError> {
    const [only, ...more] = this.calls
    if (only !== undefined && more.length === 0) return Either.right(only)
    const name = JSON.stringify(this.server)
    return Either.left(
      new McpError({
        code: ErrorCode.InvalidRequest,
        message: only === undefined
          ? `The proxy has no request forwarded to ${name} in progress to ask its client on behalf of`
          : `The proxy has ${this.calls.length} requests forwarded to ${name} in progress: ` +
            "which one this request belongs to cannot be told"
      })
    )
  }

  /**
   * Asks the client of the request a question belongs to: the forwarded call's
   * own, when the question came with it (the upstream transport said which
   * call it belongs to, and the handler runs with that call's services), else
   * the only request in flight.
   */
  private ask<A>(
    question: Effect.Effect<A, RequestError | CapabilityNotSupportedError, RequestContext.RequestContext>
  ): Effect.Effect<A, McpError> {
    return Effect.flatMap(this.askingFor, (asking) =>
      Either.match(asking, {
        onLeft: Effect.fail,
        onRight: (ctx) =>
          question.pipe(Effect.provideService(RequestContext.RequestContext, ctx), Effect.mapError(toMcpError))
      }))
  }

  /**
   * An upstream log message, passed on as one of the request it belongs to: the forwarded call's own when the
   * message came with it, else the only request in flight (dropped when that cannot be told).
   */
  private log({ data, level, logger }: McpSchema.LoggingMessageNotificationParams): Effect.Effect<void> {
    return Effect.flatMap(this.askingFor, (asking) =>
      Either.match(asking, {
        onLeft: () => Effect.void,
        onRight: (ctx) => ctx.log(level, data, logger)
      }))
  }

  get context(): Context.Context<Forwarded> {
    return Context.make(McpClient.Sampling, {
      // Declared in full upstream; whether the downstream client has `sampling.tools` is checked per request.
      tools: true,
      createMessage: ({ _meta: _, messages, ...options }) => this.ask(RequestContext.sample(messages, options))
    }).pipe(
      Context.add(McpClient.Elicitation, {
        url: true,
        elicit: (params) =>
          this.ask(
            "requestedSchema" in params
              ? RequestContext.elicitJson(params.message, params.requestedSchema)
              : RequestContext.elicitUrl({
                message: params.message,
                url: params.url,
                elicitationId: params.elicitationId
              })
          )
      }),
      Context.add(McpClient.Roots, {
        // Roots cannot be refused: a server that cannot be given its client's roots is given none.
        list: Effect.orElseSucceed(this.ask(RequestContext.listRoots), () => [])
      }),
      Context.add(McpClient.Logging, { message: (params) => this.log(params) })
    )
  }
}

/** The upstream servers' definitions as registered on the proxy's server, kept in sync with them. */
class Mirror {
  /** What is registered, by kind and key, with its definition as JSON to tell a changed one. */
  private readonly registered = {
    tools: new Map<string, string>(),
    resources: new Map<string, string>(),
    templates: new Map<string, string>(),
    prompts: new Map<string, string>()
  }

  constructor(
    private readonly server: McpServer.Service,
    private readonly clients: McpClients.Service,
    private readonly forwarders: ReadonlyMap<string, Forwarder>,
    private readonly options: Options
  ) {}

  /** Re-lists the kinds given and registers or removes what changed. */
  sync(kinds: ReadonlySet<Kind>): Effect.Effect<void> {
    const { clients, registered, server } = this
    const steps: Array<Effect.Effect<void>> = []
    if (kinds.has("tools")) {
      steps.push(
        Effect.flatMap(clients.listTools, (tools) =>
          reconcile(
            registered.tools,
            tools,
            (t) => t.name,
            server.removeTool,
            (t) => server.addTool(this.tool(t))
          ))
      )
    }
    if (kinds.has("resources")) {
      steps.push(
        Effect.flatMap(clients.listResources, (resources) =>
          reconcile(
            registered.resources,
            resources,
            (r) => r.uri,
            server.removeResource,
            (r) => server.addResource(this.resource(r))
          )),
        Effect.flatMap(clients.listResourceTemplates, (templates) =>
          reconcile(
            registered.templates,
            templates,
            (t) => t.uriTemplate,
            server.removeResource,
            (t) => Effect.flatMap(this.template(t), server.addResource)
          ))
      )
    }
    if (kinds.has("prompts")) {
      steps.push(Effect.flatMap(clients.listPrompts, (prompts) =>
        reconcile(
          registered.prompts,
          prompts,
          (p) => p.name,
          server.removePrompt,
          (p) => server.addPrompt(this.prompt(p))
        )))
    }
    return Effect.all(steps, { discard: true }).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("The proxy failed to sync with its upstream servers", cause))
    )
  }

  /**
   * Follows the upstream servers: a list change, or a connection's change of
   * status, re-lists (changes that arrive meanwhile are synced together); a
   * resource update is passed on to the subscribed downstream clients.
   */
  follow(notifications: Queue.Dequeue<McpClients.Notification>): Effect.Effect<void> {
    const { clients, server } = this
    return Effect.gen(this, function*() {
      const wake = yield* Queue.unbounded<ReadonlyArray<Kind>>()
      yield* Effect.forkScoped(Stream.runForEach(clients.statusChanges, () => wake.offer([...ALL])))
      yield* Effect.forkScoped(
        Effect.forever(
          Effect.flatMap(
            notifications.take,
            ({ method, params }) =>
              method === "notifications/resources/updated" && typeof params?.uri === "string"
                ? server.notifyResourceUpdated(params.uri)
                : wake.offer(changedBy(method))
          )
        )
      )
      return yield* Effect.forever(Effect.gen(this, function*() {
        const first = yield* wake.take
        const rest = yield* wake.takeAll
        const kinds = new Set([...first, ...Array.from(rest).flat()])
        if (kinds.size > 0) yield* this.sync(kinds)
      }))
    }).pipe(Effect.scoped)
  }

  /** Runs a request to `server` on behalf of the request being served. */
  private forward<A>(
    server: string,
    request: (ctx: RequestContext.Service) => Effect.Effect<A, RequestError>
  ): Effect.Effect<A, McpError, RequestContext.RequestContext> {
    return Effect.flatMap(RequestContext.RequestContext, (ctx) => {
      const forwarder = this.forwarders.get(server)
      const effect = Effect.mapError(request(ctx), toMcpError)
      return forwarder === undefined ? effect : forwarder.during(ctx, effect)
    })
  }

  private serverOf(route: Option.Option<McpClients.Route>): string {
    return Option.match(route, { onNone: () => "", onSome: (found) => found.server })
  }

  /** A tool call's options: the downstream request's progress becomes that of the upstream call. */
  private callOptions(ctx: RequestContext.Service): Peer.RequestOptions {
    const own = this.options.requestOptions ?? {}
    if (ctx.progressToken === undefined) return own
    return {
      resetTimeoutOnProgress: true,
      ...own,
      onProgress: ({ message, progress, total }) => Effect.runSync(ctx.progress(progress, total, message))
    }
  }

  private tool(definition: McpSchema.ToolDefinition): Tool.Tool {
    const server = this.serverOf(this.clients.route(definition.name))
    return Tool.fromDefinition(
      definition,
      (args) =>
        this.forward(server, (ctx) => this.clients.callTool(definition.name, { ...args }, this.callOptions(ctx)))
    )
  }

  private read(server: string, uri: string) {
    return this.forward(server, () => this.clients.readResource(uri))
  }

  /**
   * While a downstream client is subscribed to a proxied resource, the proxy
   * is subscribed upstream (whose updates `follow` passes on), and again on
   * each new connection to that server (a remade connection holds no
   * subscription). An upstream that refuses is logged: the downstream
   * subscription stands, and hears nothing.
   */
  private subscribeUpstream(uri: string): Effect.Effect<void, never, Scope.Scope> {
    const { clients } = this
    const server = this.serverOf(clients.routeUri(uri))
    const connectedOf = (statuses: ReadonlyMap<string, McpClients.Status>) => {
      const status = statuses.get(server)
      return status?._tag === "Connected" ? Option.some(status.client) : Option.none()
    }
    const subscribe = Effect.tap(
      Effect.either(clients.subscribeResource(uri)),
      Either.match({
        onLeft: (error) => Effect.logWarning(`The proxy could not subscribe to ${uri} upstream`, error),
        onRight: () => Effect.void
      })
    )
    return Effect.gen(function*() {
      // The connection subscribed on now; any other that connects later holds no subscription, and gets one.
      const first = connectedOf(yield* clients.status)
      yield* Effect.addFinalizer(() => Effect.ignore(clients.unsubscribeResource(uri)))
      yield* subscribe
      yield* Effect.forkScoped(
        clients.statusChanges.pipe(
          Stream.filterMap(connectedOf),
          Stream.changesWith((a, b) => a === b),
          Stream.filter((client) => Option.isNone(first) || client !== first.value),
          Stream.runForEach(() => subscribe)
        )
      )
    })
  }

  private resource(definition: McpSchema.Resource): Resource.Resource {
    const server = this.serverOf(this.clients.routeUri(definition.uri))
    return {
      _tag: "Resource",
      uri: definition.uri,
      definition,
      read: (uri) => this.read(server, uri),
      subscribe: (uri) => this.subscribeUpstream(uri)
    }
  }

  private template(definition: McpSchema.ResourceTemplate): Effect.Effect<Resource.Template, DefinitionError> {
    const server = this.serverOf(this.clients.routeUri(definition.uriTemplate))
    return Effect.map(
      Effect.try({
        try: () => UriTemplate.parse(definition.uriTemplate),
        catch: (e) => new DefinitionError({ message: e instanceof Error ? e.message : String(e) })
      }),
      (uriTemplate): Resource.Template => ({
        _tag: "Template",
        uriTemplate,
        definition,
        read: (uri) => uriTemplate.match(uri) === undefined ? undefined : this.read(server, uri),
        subscribe: (uri) => this.subscribeUpstream(uri),
        complete: (argument, value, context) =>
          this.complete({ type: "ref/resource", uri: definition.uriTemplate }, argument, value, context)
      })
    )
  }

  private prompt(definition: McpSchema.Prompt): Prompt.Prompt {
    const server = this.serverOf(this.clients.route(definition.name))
    return {
      name: definition.name,
      definition,
      get: (args) => this.forward(server, () => this.clients.getPrompt(definition.name, args && { ...args })),
      complete: (argument, value, context) =>
        this.complete({ type: "ref/prompt", name: definition.name }, argument, value, context)
    }
  }

  /** Completion upstream; a server that cannot complete suggests nothing. */
  private complete(
    ref: McpSchema.CompleteRequestParams["ref"],
    argument: string,
    value: string,
    context: { readonly arguments: Readonly<Record<string, string>> }
  ): Effect.Effect<McpSchema.CompleteResult> {
    return this.clients.complete(ref, { name: argument, value }, { ...context.arguments }).pipe(
      Effect.map((completion) => ({ completion })),
      Effect.orElseSucceed(() => ({ completion: { values: [] } }))
    )
  }
}

/**
 * Makes `registered` what `next` lists: removes what is gone or changed, then
 * adds what is new. A definition the server refuses (a name taken, a schema
 * that is not an object) is left out, with a warning.
 */
const reconcile = <D>(
  registered: Map<string, string>,
  next: ReadonlyArray<D>,
  keyOf: (definition: D) => string,
  remove: (key: string) => Effect.Effect<boolean>,
  add: (definition: D) => Effect.Effect<void, DefinitionError>
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const wanted = new Map(next.map((definition) => [keyOf(definition), definition]))
    for (const [key, json] of registered) {
      const definition = wanted.get(key)
      if (definition !== undefined && JSON.stringify(definition) === json) continue
      registered.delete(key)
      yield* remove(key)
    }
    for (const [key, definition] of wanted) {
      if (registered.has(key)) continue
      yield* add(definition).pipe(
        Effect.matchEffect({
          onFailure: (error) => Effect.logWarning(`The proxy cannot serve ${key}: ${error.message}`),
          onSuccess: () => Effect.sync(() => registered.set(key, JSON.stringify(definition)))
        })
      )
    }
  })
