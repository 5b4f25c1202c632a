/**
 * Several servers at once: named client connections whose tools, resources
 * and prompts are exposed under prefixed names, as `McpServer.mount` names a
 * mounted server's (`prefix_tool`, `scheme://prefix/rest`). Calls are routed
 * to the server a name belongs to, notifications are merged and tagged with
 * their server, and each connection fails alone: a server that cannot
 * connect, or whose connection ends, shows in its `Status` while the others
 * go on serving.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpClients } from "mcp-effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const program = Effect.gen(function*() {
 *   const clients = yield* McpClients.make({
 *     echo: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/echo.ts"] }),
 *     weather: NodeStdio.connect({ command: "npx", args: ["tsx", "examples/mount.ts"] })
 *   })
 *   const tools = yield* clients.listTools // "echo_echo_tool", "weather_hello", …
 *   return yield* clients.callTool("echo_echo_tool", { message: "hi" })
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 */
import type { Queue } from "effect"
import {
  Cause,
  Context,
  Data,
  Effect,
  Either,
  ExecutionStrategy,
  Exit,
  Layer,
  Option,
  PubSub,
  Scope,
  Stream,
  SubscriptionRef
} from "effect"
import { prefixName, prefixUri, unprefixName, unprefixUri, validatePrefix } from "./internal/mount.js"
import type * as McpClient from "./McpClient.js"
import type { DefinitionError, RequestError } from "./McpError.js"
import { ConnectionClosedError, McpError } from "./McpError.js"
import type * as McpSchema from "./McpSchema.js"
import type * as Peer from "./Peer.js"

/**
 * Where a connection stands: being made, connected (with its client),
 * failed to connect (with why), or closed after it was made (a server that
 * exited, found when a request through it failed with
 * `ConnectionClosedError`).
 *
 * @since 0.2.0
 * @category models
 */
export type Status = Data.TaggedEnum<{
  Connecting: {}
  Connected: { readonly client: McpClient.Service }
  Failed: { readonly cause: Cause.Cause<unknown> }
  Closed: { readonly error: ConnectionClosedError }
}>

/**
 * Constructors and matchers of {@link Status}.
 *
 * @since 0.2.0
 * @category models
 */
export const Status = Data.taggedEnum<Status>()

/**
 * A notification from one of the servers, with the server's name. The URI
 * of a `notifications/resources/updated` is prefixed, as the resource is
 * listed here.
 *
 * @since 0.2.0
 * @category models
 */
export interface Notification extends McpClient.Notification {
  readonly server: string
}

/**
 * What a prefixed name or URI stands for: the server, and the server's own
 * name (or URI) for it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Route {
  readonly server: string
  readonly name: string
}

/**
 * The connections, and their servers' features under prefixed names.
 *
 * Lists ask every connected server that declares the feature, concurrently,
 * and skip a server whose list fails (logged as a warning): one server's
 * trouble does not hide the others' tools. A request for a name of a server
 * that is not connected fails with `ConnectionClosedError`, its `reason`
 * saying why.
 *
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** The servers' names (their prefixes), in the order given. */
  readonly servers: ReadonlyArray<string>
  /** Every connection's status, by server. */
  readonly status: Effect.Effect<ReadonlyMap<string, Status>>
  /** The statuses now, then at each change. */
  readonly statusChanges: Stream.Stream<ReadonlyMap<string, Status>>
  /** The client of one server, if it is connected. */
  readonly client: (server: string) => Effect.Effect<McpClient.Service, ConnectionClosedError>
  /** Closes one server's connection (if open) and connects it again; returns its new status. */
  readonly reconnect: (server: string) => Effect.Effect<Status>
  /** The server of a prefixed tool or prompt name, and its own name for it. */
  readonly route: (name: string) => Option.Option<Route>
  /** The server of a prefixed resource URI (or template), and its own URI for it. */
  readonly routeUri: (uri: string) => Option.Option<Route>
  readonly listTools: Effect.Effect<ReadonlyArray<McpSchema.ToolDefinition>>
  readonly callTool: (
    name: string,
    args?: Record<string, unknown>,
    options?: Peer.RequestOptions
  ) => Effect.Effect<McpSchema.CallToolResult, RequestError>
  readonly listResources: Effect.Effect<ReadonlyArray<McpSchema.Resource>>
  readonly listResourceTemplates: Effect.Effect<ReadonlyArray<McpSchema.ResourceTemplate>>
  /** Reads a resource by its prefixed URI; contents under the server's URI for it carry the prefixed one. */
  readonly readResource: (uri: string) => Effect.Effect<McpSchema.ReadResourceResult, RequestError>
  readonly subscribeResource: (uri: string) => Effect.Effect<void, RequestError>
  readonly unsubscribeResource: (uri: string) => Effect.Effect<void, RequestError>
  readonly listPrompts: Effect.Effect<ReadonlyArray<McpSchema.Prompt>>
  readonly getPrompt: (
    name: string,
    args?: Record<string, string>
  ) => Effect.Effect<McpSchema.GetPromptResult, RequestError>
  /** Completes an argument of a prefixed prompt or resource template. */
  readonly complete: (
    ref: McpSchema.CompleteRequestParams["ref"],
    argument: { readonly name: string; readonly value: string },
    context?: Record<string, string>
  ) => Effect.Effect<McpSchema.CompleteResult["completion"], RequestError>
  /** Every server's notifications, merged, from the moment the stream is run. */
  readonly notifications: Stream.Stream<Notification>
  /** Subscribes now: notifications sent after this returns are in the queue. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Notification>, never, Scope.Scope>
}

/**
 * The aggregated clients, for programs that provide them as a layer.
 *
 * @since 0.2.0
 * @category tags
 */
export class McpClients extends Context.Tag("mcp-effect/McpClients")<McpClients, Service>() {}

/**
 * How each server is connected, by name: any effect that makes a client in
 * a scope (`NodeStdio.connect`, `McpClient.make` on a transport,
 * `McpTest.makeClient`).
 *
 * @since 0.2.0
 * @category models
 */
export type Connections = Readonly<Record<string, Effect.Effect<McpClient.Service, unknown, unknown>>>

/**
 * What the connections of `C` require, besides the scope they are made in.
 *
 * @since 0.2.0
 * @category models
 */
export type Requirements<C extends Connections> = Exclude<Effect.Effect.Context<C[keyof C]>, Scope.Scope>

/** One named connection and its own scope, closed when it is remade or the whole closes. */
interface Connection {
  readonly server: string
  /** Opens the connection in `scope`, with the services `C`'s effects were given and nothing of the caller's. */
  readonly connect: (scope: Scope.Scope) => Effect.Effect<McpClient.Service, unknown>
  readonly lock: Effect.Semaphore
  scope: Scope.CloseableScope | undefined
}

/**
 * Connects to every server concurrently, and returns once each is connected
 * or has failed: a failure is its `Status`, never this effect's. Server
 * names are prefixes, and must be valid ones (1 to 64 characters from
 * `A-Za-z0-9_.-`). The connections last as long as the scope.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = <const C extends Connections>(
  connections: C
): Effect.Effect<Service, DefinitionError, Scope.Scope | Requirements<C>> =>
  Effect.gen(function*() {
    const servers = Object.keys(connections)
    for (const server of servers) {
      const invalid = validatePrefix(server)
      if (Either.isLeft(invalid)) return yield* invalid.left
    }
    const pool = yield* makePool(connections, servers)
    yield* pool.openAll
    const routes: Routes = { route: router(servers, unprefixName), routeUri: router(servers, unprefixUri) }
    return {
      servers,
      status: SubscriptionRef.get(pool.statuses),
      statusChanges: pool.statuses.changes,
      client: (server) => pool.client(server, "client"),
      reconnect: (server) => pool.reconnect(server),
      ...routes,
      ...tools(pool, routes),
      ...resources(pool, routes),
      ...prompts(pool, routes),
      complete: completion(pool, routes),
      ...merged(pool.hub)
    } satisfies Service
  })

/** The pool of `connections`, none opened yet: each with its requirements provided, so that only a scope is left to give. */
const makePool = <C extends Connections>(
  connections: C,
  servers: ReadonlyArray<string>
): Effect.Effect<Pool, never, Scope.Scope | Requirements<C>> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<Requirements<C>>()
    const scope = yield* Effect.scope
    const statuses = yield* SubscriptionRef.make<ReadonlyMap<string, Status>>(
      new Map(servers.map((server) => [server, Status.Connecting()]))
    )
    const hub = yield* Effect.acquireRelease(PubSub.unbounded<Notification>(), PubSub.shutdown)
    const table = new Map<string, Connection>()
    for (const server of servers) {
      table.set(server, {
        server,
        // The requirements are those of `C`'s effects, which `context` holds, and the connection's own scope (in place
        // of the one the pool was made in, so that closing it closes the connection). Their whole context: a
        // reconnection made from a request handler must not leave that request's services to the client.
        connect: (own) =>
          Effect.mapInputContext(
            connections[server] as Effect.Effect<McpClient.Service, unknown, Scope.Scope | Requirements<C>>,
            (_: Context.Context<never>) => Context.add(context, Scope.Scope, own)
          ),
        lock: yield* Effect.makeSemaphore(1),
        scope: undefined
      })
    }
    return new Pool(servers, table, statuses, hub, scope)
  })

/**
 * The connections and their statuses. Each connection has a scope of its
 * own, forked from the whole's, so that one server can close or be remade
 * while the others go on; its lock keeps an opening and a closing of it from
 * interleaving.
 */
class Pool {
  constructor(
    readonly servers: ReadonlyArray<string>,
    private readonly table: ReadonlyMap<string, Connection>,
    readonly statuses: SubscriptionRef.SubscriptionRef<ReadonlyMap<string, Status>>,
    /** Every server's notifications, merged. */
    readonly hub: PubSub.PubSub<Notification>,
    private readonly scope: Scope.Scope
  ) {}

  /** Opens every connection concurrently; a failure is the connection's status. */
  get openAll(): Effect.Effect<void> {
    return Effect.forEach(this.table.values(), (connection) => this.open(connection), {
      concurrency: "unbounded",
      discard: true
    })
  }

  /** Closes one server's connection (if open) and opens it again. */
  reconnect(server: string): Effect.Effect<Status> {
    const connection = this.table.get(server)
    return connection === undefined
      ? Effect.succeed(Status.Failed({ cause: Cause.fail(`No server is named ${JSON.stringify(server)}`) }))
      : Effect.zipRight(
        // Connecting before the old connection closes: its calls then failing do not mark it closed first.
        Effect.zipRight(this.setStatus(server, Status.Connecting()), this.close(connection)).pipe(
          connection.lock.withPermits(1)
        ),
        this.open(connection)
      )
  }

  /** The connected servers, in the order given, with their clients. */
  get connected(): Effect.Effect<ReadonlyArray<{ readonly server: string; readonly client: McpClient.Service }>> {
    return Effect.map(
      SubscriptionRef.get(this.statuses),
      (map) =>
        this.servers.flatMap((server) => {
          const status = map.get(server)
          return status?._tag === "Connected" ? [{ server, client: status.client }] : []
        })
    )
  }

  /** The client of one server, or why there is none as the error a request for `method` fails with. */
  client(server: string, method: string): Effect.Effect<McpClient.Service, ConnectionClosedError> {
    return Effect.flatMap(SubscriptionRef.get(this.statuses), (map) => {
      const status = map.get(server)
      return status?._tag === "Connected"
        ? Effect.succeed(status.client)
        : Effect.fail(new ConnectionClosedError({ method, reason: unavailable(server, status) }))
    })
  }

  /** Runs a request on one server's client, marking the connection closed if the request finds it so. */
  on<A, E>(
    server: string,
    method: string,
    f: (client: McpClient.Service) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | ConnectionClosedError> {
    return Effect.flatMap(this.client(server, method), (client) =>
      Effect.tapError(
        f(client),
        (error) => error instanceof ConnectionClosedError ? this.markClosed(server, client, error) : Effect.void
      ))
  }

  private open(connection: Connection): Effect.Effect<Status> {
    return Effect.gen(this, function*() {
      const own = yield* Scope.fork(this.scope, ExecutionStrategy.sequential)
      connection.scope = own
      yield* this.setStatus(connection.server, Status.Connecting())
      const exit = yield* Effect.exit(connection.connect(own))
      if (Exit.isFailure(exit)) {
        connection.scope = undefined
        yield* Scope.close(own, exit)
        const status = Status.Failed({ cause: exit.cause })
        yield* this.setStatus(connection.server, status)
        return status
      }
      const client = exit.value
      const queue = yield* Scope.extend(client.subscribe, own)
      yield* Effect.forkIn(pump(connection.server, queue, this.hub), own)
      const status = Status.Connected({ client })
      yield* this.setStatus(connection.server, status)
      return status
    }).pipe(connection.lock.withPermits(1))
  }

  private close(connection: Connection): Effect.Effect<void> {
    return Effect.suspend(() => {
      const own = connection.scope
      connection.scope = undefined
      return own === undefined ? Effect.void : Scope.close(own, Exit.void)
    })
  }

  /** A connection found dead: marked closed (unless already remade), and its scope released in the background. */
  private markClosed(server: string, client: McpClient.Service, error: ConnectionClosedError): Effect.Effect<void> {
    return Effect.gen(this, function*() {
      const current = (yield* SubscriptionRef.get(this.statuses)).get(server)
      if (current?._tag !== "Connected" || current.client !== client) return
      yield* this.setStatus(server, Status.Closed({ error }))
      const connection = this.table.get(server)
      // Closing may wait for a process to exit: not on the caller's time.
      if (connection !== undefined) yield* Effect.forkIn(this.close(connection), this.scope)
    })
  }

  private setStatus(server: string, status: Status): Effect.Effect<void> {
    return SubscriptionRef.update(this.statuses, (map) => new Map(map).set(server, status))
  }
}

/** The server a prefixed name (or URI) stands for. */
interface Routes {
  readonly route: (name: string) => Option.Option<Route>
  readonly routeUri: (uri: string) => Option.Option<Route>
}

const router =
  (servers: ReadonlyArray<string>, unprefix: (prefix: string, name: string) => string | undefined) =>
  (name: string): Option.Option<Route> => {
    let found: Route | undefined
    for (const server of servers) {
      const own = unprefix(server, name)
      // Prefixes may nest ("a" and "a_b"): the longest one that matches is meant.
      if (own !== undefined && (found === undefined || server.length > found.server.length)) {
        found = { server, name: own }
      }
    }
    return Option.fromNullable(found)
  }

/** A request for a prefixed name: routed to its server, or refused as the servers would refuse it. */
const routed = <A>(
  pool: Pool,
  found: Option.Option<Route>,
  method: string,
  unknown: () => McpError,
  f: (client: McpClient.Service, own: string) => Effect.Effect<A, RequestError>
): Effect.Effect<A, RequestError> =>
  Option.match(found, {
    onNone: () => Effect.fail(unknown()),
    onSome: ({ name, server }) => pool.on(server, method, (client) => f(client, name))
  })

/** Every connected server's list, renamed; a server whose list fails is skipped, so that it hides no other's. */
const listAll = <A>(
  pool: Pool,
  method: string,
  declares: (capabilities: McpSchema.ServerCapabilities) => boolean,
  list: (client: McpClient.Service) => Effect.Effect<ReadonlyArray<A>, RequestError>,
  rename: (server: string, item: A) => A
): Effect.Effect<ReadonlyArray<A>> =>
  Effect.flatMap(pool.connected, (open) =>
    Effect.map(
      Effect.forEach(
        open.filter(({ client }) => declares(client.serverCapabilities)),
        ({ server }) =>
          pool.on(server, method, list).pipe(
            Effect.map((items) => items.map((item) => rename(server, item))),
            Effect.catchAll((error) =>
              Effect.as(
                Effect.logWarning(`${method} failed on server ${JSON.stringify(server)}: ${error.message}`),
                []
              )
            )
          ),
        { concurrency: "unbounded" }
      ),
      (lists) => lists.flat()
    ))

const tools = (pool: Pool, { route }: Routes): Pick<Service, "listTools" | "callTool"> => ({
  listTools: listAll(
    pool,
    "tools/list",
    (c) => c.tools !== undefined,
    (client) => client.listTools,
    (server, tool) => ({ ...tool, name: prefixName(server, tool.name) })
  ),
  callTool: (name, args, options) =>
    routed(
      pool,
      route(name),
      "tools/call",
      () => McpError.invalidParams(`Unknown tool: ${name}`),
      (client, own) => client.callTool(own, args, options)
    )
})

const resources = (
  pool: Pool,
  { routeUri }: Routes
): Pick<
  Service,
  "listResources" | "listResourceTemplates" | "readResource" | "subscribeResource" | "unsubscribeResource"
> => {
  const onResource = <A>(
    uri: string,
    method: string,
    f: (client: McpClient.Service, own: string) => Effect.Effect<A, RequestError>
  ) => routed(pool, routeUri(uri), method, () => McpError.resourceNotFound(uri), f)
  return {
    listResources: listAll(
      pool,
      "resources/list",
      (c) => c.resources !== undefined,
      (client) => client.listResources,
      (server, resource) => ({ ...resource, uri: prefixUri(server, resource.uri) })
    ),
    listResourceTemplates: listAll(
      pool,
      "resources/templates/list",
      (c) => c.resources !== undefined,
      (client) => client.listResourceTemplates,
      (server, template) => ({ ...template, uriTemplate: prefixUri(server, template.uriTemplate) })
    ),
    readResource: (uri) =>
      onResource(
        uri,
        "resources/read",
        (client, own) => Effect.map(client.readResource(own), renameContents(own, uri))
      ),
    subscribeResource: (uri) => onResource(uri, "resources/subscribe", (client, own) => client.subscribeResource(own)),
    unsubscribeResource: (uri) =>
      onResource(uri, "resources/unsubscribe", (client, own) => client.unsubscribeResource(own))
  }
}

const prompts = (pool: Pool, { route }: Routes): Pick<Service, "listPrompts" | "getPrompt"> => ({
  listPrompts: listAll(
    pool,
    "prompts/list",
    (c) => c.prompts !== undefined,
    (client) => client.listPrompts,
    (server, prompt) => ({ ...prompt, name: prefixName(server, prompt.name) })
  ),
  getPrompt: (name, args) =>
    routed(
      pool,
      route(name),
      "prompts/get",
      () => McpError.invalidParams(`Unknown prompt: ${name}`),
      (client, own) => client.getPrompt(own, args)
    )
})

/** Completion goes to the server of the prompt or resource template the reference names. */
const completion = (pool: Pool, { route, routeUri }: Routes): Service["complete"] => (ref, argument, context) =>
  ref.type === "ref/prompt"
    ? routed(
      pool,
      route(ref.name),
      "completion/complete",
      () => McpError.invalidParams(`Unknown prompt: ${ref.name}`),
      (client, own) => client.complete({ ...ref, name: own }, argument, context)
    )
    : routed(
      pool,
      routeUri(ref.uri),
      "completion/complete",
      () => McpError.resourceNotFound(ref.uri),
      (client, own) => client.complete({ ...ref, uri: own }, argument, context)
    )

/** The merged notifications, read from the hub each connection's pump publishes to. */
const merged = (hub: PubSub.PubSub<Notification>): Pick<Service, "notifications" | "subscribe"> => {
  const subscribe = PubSub.subscribe(hub)
  return {
    notifications: Stream.unwrapScoped(Effect.map(subscribe, (queue) => Stream.fromQueue(queue))),
    subscribe
  }
}

/**
 * {@link make} as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = <const C extends Connections>(
  connections: C
): Layer.Layer<McpClients, DefinitionError, Requirements<C>> => Layer.scoped(McpClients, make(connections))

/** Why a server has no client now, for the `reason` of the error its requests fail with. */
const unavailable = (server: string, status: Status | undefined): string => {
  const name = JSON.stringify(server)
  if (status === undefined) return `no server is named ${name}`
  switch (status._tag) {
    case "Connecting":
      return `server ${name} is still connecting`
    case "Failed":
      return `server ${name} failed to connect: ${causeMessage(status.cause)}`
    case "Closed":
      return `server ${name} is no longer connected: ${status.error.message}`
    case "Connected":
      return `server ${name} is connected`
  }
}

const causeMessage = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

/** Forwards one server's notifications into the merged hub, with its name (and its resource URIs prefixed). */
const pump = (server: string, queue: Queue.Dequeue<McpClient.Notification>, hub: PubSub.PubSub<Notification>) =>
  Effect.forever(
    Effect.flatMap(queue.take, (notification) => PubSub.publish(hub, tagged(server, notification)))
  )

const tagged = (server: string, { method, params }: McpClient.Notification): Notification =>
  method === "notifications/resources/updated" && typeof params?.uri === "string"
    ? { server, method, params: { ...params, uri: prefixUri(server, params.uri) } }
    : { server, method, params }

/** A server reads by its own URI: contents under it carry the URI asked for, as for a mounted server. */
const renameContents = (own: string, asked: string) => (result: McpSchema.ReadResourceResult) =>
  own === asked ? result : {
    ...result,
    contents: result.contents.map((content) => content.uri === own ? { ...content, uri: asked } : content)
  }
