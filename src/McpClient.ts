/**
 * The MCP client: initializes a session over a transport, then calls the
 * server's tools, resources and prompts. Server notifications arrive as a
 * `Stream`; the client's own features (sampling, elicitation, roots) are
 * answered by handlers given as services, and declared as capabilities only
 * when a handler is there.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpClient } from "mcp-effect"
 * import type { Transport } from "mcp-effect"
 *
 * declare const transport: Transport.Transport
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* McpClient.make(transport, { clientInfo: { name: "demo", version: "1.0.0" } })
 *   const result = yield* client.callTool("add", { a: 1, b: 2 })
 *   return result.structuredContent
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 */
import { Chunk, Context, Duration, Effect, Layer, Option, ParseResult, PubSub, Schema, Stream } from "effect"
import type { Queue, Scope } from "effect"
import * as ClientModern from "./internal/clientModern.js"
import { start as startTask } from "./internal/clientTasks.js"
import { decodeOrInvalid, isRecord } from "./internal/guards.js"
import * as Listens from "./internal/listens.js"
import { OutputSchemas } from "./internal/outputSchemas.js"
import * as PeerInternal from "./internal/peer.js"
import * as SkillFiles from "./internal/skillFiles.js"
import * as Telemetry from "./internal/telemetry.js"
import type { RequestError, SkillVerificationError } from "./McpError.js"
import { ConnectionClosedError, ErrorCode, McpError, ToolCallError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import type * as Peer from "./Peer.js"
import type { Transport } from "./Transport.js"

/**
 * Answers the server's `sampling/createMessage`.
 *
 * @since 0.1.0
 * @category tags
 */
export class Sampling extends Context.Tag("mcp-effect/McpClient/Sampling")<
  Sampling,
  {
    readonly createMessage: (
      params: McpSchema.CreateMessageRequestParams
    ) => Effect.Effect<McpSchema.CreateMessageResult, McpError>
    /** Whether tool use in sampling is supported (2025-11-25). */
    readonly tools?: boolean
  }
>() {}

/**
 * Answers the server's `elicitation/create`, in form mode and, if `url` is set, URL mode.
 *
 * @since 0.1.0
 * @category tags
 */
export class Elicitation extends Context.Tag("mcp-effect/McpClient/Elicitation")<
  Elicitation,
  {
    readonly elicit: (params: McpSchema.ElicitRequestParams) => Effect.Effect<McpSchema.ElicitResult, McpError>
    readonly url?: boolean
  }
>() {}

/**
 * Answers the server's `roots/list`.
 *
 * @since 0.1.0
 * @category tags
 */
export class Roots extends Context.Tag("mcp-effect/McpClient/Roots")<
  Roots,
  { readonly list: Effect.Effect<ReadonlyArray<McpSchema.Root>> }
>() {}

/**
 * Hears the server's log messages (`notifications/message`), besides the
 * notification stream. A message that belongs to one of the client's calls
 * (one that came on the stream of that call's POST, over Streamable HTTP; in
 * memory) is heard with the services of that call, as the server's requests
 * are: a proxy passes it on as a log message of the request it forwarded.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { McpClient } from "mcp-effect"
 *
 * const logging = Layer.succeed(McpClient.Logging, {
 *   message: ({ level, data }) => Effect.logInfo(`server says (${level})`, data)
 * })
 * ```
 *
 * @since 0.2.0
 * @category tags
 */
export class Logging extends Context.Tag("mcp-effect/McpClient/Logging")<
  Logging,
  { readonly message: (params: McpSchema.LoggingMessageNotificationParams) => Effect.Effect<void> }
>() {}

/**
 * Options of a client connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly clientInfo?: McpSchema.Implementation
  /**
   * The protocol version: `"2026-07-28"` pins the stateless revision, a
   * handshake-era version pins `initialize` with it. Default: probe with
   * `server/discover`, and fall back to `initialize` with the latest
   * handshake-era version.
   */
  readonly protocolVersion?: string
  /** Extra capabilities to declare, merged with those implied by the handlers. */
  readonly capabilities?: McpSchema.ClientCapabilities
  /** Defaults for every request (timeouts). */
  readonly requestOptions?: Peer.RequestOptions
  /**
   * How long the 2026-07-28 probe (`server/discover`) may wait for an
   * answer before the client falls back to `initialize`, when the era is not
   * pinned by `protocolVersion`. Default 10 s.
   *
   * @since 0.2.0
   */
  readonly discoverTimeout?: Duration.DurationInput
  /**
   * Most `input_required` rounds a 2026-07-28 request may take before the
   * client gives up. Default 10.
   *
   * @since 0.2.0
   */
  readonly maxInputRounds?: number
}

/**
 * A notification from the server.
 *
 * @since 0.1.0
 * @category models
 */
export interface Notification {
  readonly method: string
  readonly params: Record<string, unknown> | undefined
}

/**
 * What a tool call reports as it runs (`callToolEvents`): its progress, then
 * its result.
 *
 * @since 0.2.0
 * @category models
 */
export type CallEvent =
  | { readonly _tag: "Progress"; readonly progress: McpSchema.ProgressNotificationParams }
  | { readonly _tag: "Result"; readonly result: McpSchema.CallToolResult }

/**
 * A task as the server reports it (`tasks/get`).
 *
 * @since 0.2.0
 * @category models
 */
export interface TaskState {
  readonly taskId: string
  readonly status: "working" | "input_required" | "completed" | "failed" | "cancelled"
  readonly statusMessage?: string | undefined
  readonly pollIntervalMs?: number | undefined
  readonly inputRequests?: { readonly [key: string]: unknown } | undefined
  readonly result?: McpSchema.CallToolResult | undefined
  readonly error?: { readonly code: number; readonly message: string; readonly data?: unknown } | undefined
}

/**
 * A tool call running as a task on the server (`callToolAsTask`).
 *
 * @since 0.2.0
 * @category models
 */
export interface TaskHandle {
  /** The task's id; `undefined` when the server ran the call at once instead. */
  readonly taskId: string | undefined
  /** The task as the server has it now. */
  readonly get: Effect.Effect<TaskState, RequestError>
  /** Follows the task to its end, answering its questions with the client's handlers: its result, or its failure. */
  readonly await: Effect.Effect<McpSchema.CallToolResult, RequestError>
  /** Asks the server to cancel the task. */
  readonly cancel: Effect.Effect<void, RequestError>
}

/**
 * A connected client: what the server said about itself, and its methods.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly serverInfo: McpSchema.Implementation
  readonly serverCapabilities: McpSchema.ServerCapabilities
  readonly protocolVersion: string
  readonly instructions: string | undefined
  /**
   * Every notification from the server, from the moment the stream is run.
   * In the 2026-07-28 era, where a server announces changes only to a
   * `subscriptions/listen` request, reading them opens one (for the list
   * changes the server announces, and the resources subscribed to).
   */
  readonly notifications: Stream.Stream<Notification>
  /** Subscribes now: notifications sent after this returns are in the queue (a listen opens as for `notifications`). */
  readonly subscribe: Effect.Effect<Queue.Dequeue<Notification>, never, Scope.Scope>
  /** Sends any request and decodes its result. */
  readonly request: <A, I>(
    method: string,
    params: Record<string, unknown> | undefined,
    result: Schema.Schema<A, I>,
    options?: Peer.RequestOptions
  ) => Effect.Effect<A, RequestError>
  readonly notify: (method: string, params?: Record<string, unknown>) => Effect.Effect<void>
  readonly ping: Effect.Effect<void, RequestError>
  /** Lists every tool, following cursors. */
  readonly listTools: Effect.Effect<ReadonlyArray<McpSchema.ToolDefinition>, RequestError>
  /**
   * The tools page by page, as a `Stream` (`listTools` collects it); likewise
   * `streamResources`, `streamResourceTemplates`, `streamPrompts` and
   * `streamSkills`.
   *
   * @since 0.2.0
   */
  readonly streamTools: Stream.Stream<McpSchema.ToolDefinition, RequestError>
  /** @since 0.2.0 */
  readonly streamResources: Stream.Stream<McpSchema.Resource, RequestError>
  /** @since 0.2.0 */
  readonly streamResourceTemplates: Stream.Stream<McpSchema.ResourceTemplate, RequestError>
  /** @since 0.2.0 */
  readonly streamPrompts: Stream.Stream<McpSchema.Prompt, RequestError>
  /** @since 0.2.0 */
  readonly streamSkills: Stream.Stream<McpSchema.SkillEntry, RequestError>
  readonly callTool: (
    name: string,
    args?: Record<string, unknown>,
    options?: Peer.RequestOptions
  ) => Effect.Effect<McpSchema.CallToolResult, RequestError>
  /**
   * Calls a tool and decodes its `structuredContent` with `output`: an error
   * result, or structured content that is missing or does not decode, fails
   * with `ToolCallError` saying which.
   *
   * @since 0.2.0
   */
  readonly callToolStructured: <A, I>(
    name: string,
    args: Record<string, unknown> | undefined,
    output: Schema.Schema<A, I>,
    options?: Peer.RequestOptions
  ) => Effect.Effect<A, RequestError | ToolCallError>
  /**
   * Calls a tool as a task (2026-07-28, a tool that supports tasks): the
   * request declares the tasks extension, and the handle follows the task
   * (`await` polls it at the server's interval and answers its questions
   * with the client's handlers), reads it (`get`) or cancels it. A call the
   * server answered at once is a handle whose `await` gives its result. A
   * handshake-era server has no tasks: this fails.
   *
   * @since 0.2.0
   */
  readonly callToolAsTask: (
    name: string,
    args?: Record<string, unknown>
  ) => Effect.Effect<TaskHandle, RequestError>
  /**
   * Calls a tool and streams what it reports: each progress notification,
   * then its result, then the stream ends. Stopping the stream early cancels
   * the call.
   *
   * @since 0.2.0
   */
  readonly callToolEvents: (
    name: string,
    args?: Record<string, unknown>,
    options?: Peer.RequestOptions
  ) => Stream.Stream<CallEvent, RequestError>
  readonly listResources: Effect.Effect<ReadonlyArray<McpSchema.Resource>, RequestError>
  readonly listResourceTemplates: Effect.Effect<ReadonlyArray<McpSchema.ResourceTemplate>, RequestError>
  readonly readResource: (uri: string) => Effect.Effect<McpSchema.ReadResourceResult, RequestError>
  readonly subscribeResource: (uri: string) => Effect.Effect<void, RequestError>
  /**
   * Every skill the server serves (`skills/list`, the skills extension),
   * every page; -32601 from a server without skills.
   *
   * @since 0.2.0
   */
  readonly listSkills: Effect.Effect<ReadonlyArray<McpSchema.SkillEntry>, RequestError>
  /**
   * Reads one file of a listed skill (its `SKILL.md` by default) and checks
   * it against the listing: its size and SHA-256 digest, and for `SKILL.md`
   * its frontmatter. A file that does not match fails with
   * `SkillVerificationError` and must not be used (nor the files it names).
   *
   * @since 0.2.0
   */
  readonly readSkillFile: (
    skill: McpSchema.SkillEntry,
    uri?: string
  ) => Effect.Effect<McpSchema.ReadResourceResult, RequestError | SkillVerificationError>
  readonly unsubscribeResource: (uri: string) => Effect.Effect<void, RequestError>
  readonly listPrompts: Effect.Effect<ReadonlyArray<McpSchema.Prompt>, RequestError>
  readonly getPrompt: (
    name: string,
    args?: Record<string, string>
  ) => Effect.Effect<McpSchema.GetPromptResult, RequestError>
  readonly complete: (
    ref: McpSchema.CompleteRequestParams["ref"],
    argument: { readonly name: string; readonly value: string },
    context?: Record<string, string>
  ) => Effect.Effect<McpSchema.CompleteResult["completion"], RequestError>
  readonly setLevel: (level: McpSchema.LoggingLevel) => Effect.Effect<void, RequestError>
  /** Tells the server the roots changed. */
  readonly notifyRootsListChanged: Effect.Effect<void>
}

/**
 * The client service, for programs that provide a connected client as a layer.
 *
 * @since 0.1.0
 * @category tags
 */
export class McpClient extends Context.Tag("mcp-effect/McpClient")<McpClient, Service>() {}

/** Serves a server→client request with a decoded-params handler. */
const serveRequest = <A, I>(
  schema: Schema.Schema<A, I>,
  method: string,
  handle: (params: A) => Effect.Effect<unknown, McpError>
) => {
  const decode = decodeOrInvalid(schema, `${method} params`)
  return (params: unknown) => Effect.flatMap(decode(params ?? {}), handle)
}

/**
 * Connects over `transport`: runs the peer in the scope and settles the
 * protocol era. With no `protocolVersion` in the options, it probes with a
 * 2026-07-28 `server/discover` and falls back to `initialize` (and
 * `notifications/initialized`) on any other answer, or none within
 * `discoverTimeout`; `"2026-07-28"` or a handshake-era version pins the era.
 * Handlers for sampling, elicitation and roots are taken from the context
 * when present.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  transport: Transport,
  options: Options = {}
): Effect.Effect<Service, RequestError, Scope.Scope> =>
  Effect.gen(function*() {
    const connection = yield* open(transport, options)
    const listens = connection.isModern
      ? yield* Listens.make(
        (params) => connection.modern.request("subscriptions/listen", params, { timeout: Duration.infinity }),
        connection.era.capabilities,
        connection.pubsub
      )
      : undefined
    const lists = makeLists(connection)
    const tools = makeToolCalls(connection, lists)
    return {
      ...aboutTheServer(connection, listens),
      ...lists.service,
      ...tools,
      ...resourcesAndPrompts(connection, listens)
    } satisfies Service
  })

/** One connection, its era settled: what every piece of the client is built on. */
interface Connection {
  readonly peer: Peer.Peer
  readonly pubsub: PubSub.PubSub<Notification>
  readonly modern: ClientModern.ModernClient
  readonly era: Era
  readonly isModern: boolean
  /** Sends a request in the connection's era and decodes its result. */
  readonly request: Service["request"]
}

const isLogMessage = Schema.is(McpSchema.LoggingMessageNotificationParams)

/** Runs the peer, with the handlers in context for the server's requests, and settles the era. */
const open = (transport: Transport, options: Options) =>
  Effect.gen(function*() {
    const sampling = yield* Effect.serviceOption(Sampling)
    const elicitation = yield* Effect.serviceOption(Elicitation)
    const roots = yield* Effect.serviceOption(Roots)
    const logging = yield* Effect.serviceOption(Logging)
    const context = yield* Effect.context<never>()
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<Notification>(), PubSub.shutdown)
    const handlers = clientHandlers(sampling, elicitation, roots)
    // What telemetry records of the connection; its version once the era is settled.
    const facts: { protocolVersion: string | undefined; sessionId: undefined } = {
      protocolVersion: undefined,
      sessionId: undefined
    }
    let telemetry: Telemetry.Telemetry | undefined
    const peer = yield* PeerInternal.scoped(transport, {
      onRequest: (request) => handlers.get(request.method)?.(request.params),
      onNotification: (method, params, extras) => {
        pubsub.unsafeOffer({ method, params })
        if (Option.isSome(logging) && method === "notifications/message" && isLogMessage(params)) {
          peer.runFor(extras?.relatedRequestId, logging.value.message(params), context)
        }
      }
    }, (runtime) => telemetry = Telemetry.make(runtime, "client", transport.telemetry, facts))
    yield* Effect.forkScoped(peer.run)
    const capabilities = clientCapabilities(options, sampling, elicitation, roots)
    const clientInfo = options.clientInfo ?? DEFAULT_CLIENT_INFO
    const modern = new ClientModern.ModernClient(
      peer,
      { clientCapabilities: capabilities, clientInfo },
      (method, params) => handlers.get(method)?.(params),
      options.maxInputRounds,
      telemetry
    )
    const era = yield* settleEra(peer, modern, options, capabilities, clientInfo)
    facts.protocolVersion = era.protocolVersion
    const isModern = era.protocolVersion === ClientModern.VERSION
    const request: Service["request"] = (method, params, result, requestOptions) => {
      const merged = { ...options.requestOptions, ...requestOptions }
      return Effect.flatMap(
        isModern ? modern.request(method, params, merged) : peer.request(method, params, merged),
        decodeOrInvalid(result, `${method} result`)
      )
    }
    return { peer, pubsub, modern, era, isModern, request } satisfies Connection
  })

const empty = (request: Service["request"], method: string, params?: Record<string, unknown>) =>
  Effect.asVoid(request(method, params, McpSchema.EmptyResult))

/** What the server said about itself, its notifications, and the methods of the session itself. */
const aboutTheServer = ({ era, isModern, modern, peer, pubsub, request }: Connection, listens?: Listens.Listens) => {
  // A 2026-07-28 server announces changes only on a listen: one opens when someone first reads the notifications.
  const subscribe = listens === undefined
    ? PubSub.subscribe(pubsub)
    : Effect.tap(PubSub.subscribe(pubsub), () => listens.listChanges)
  return {
    serverInfo: era.serverInfo,
    serverCapabilities: era.capabilities,
    protocolVersion: era.protocolVersion,
    instructions: era.instructions,
    notifications: Stream.unwrapScoped(Effect.map(subscribe, (queue) => Stream.fromQueue(queue))),
    subscribe,
    request,
    notify: (method: string, params?: Record<string, unknown>) => Effect.sync(() => peer.notify(method, params)),
    // The 2026-07-28 revision has no ping: discovery is the cheapest request that proves the server answers.
    ping: isModern
      ? Effect.asVoid(request("server/discover", {}, Schema.Unknown))
      : empty(request, "ping"),
    // A 2026-07-28 server hears the level on each request (`_meta`); there is nothing to send.
    setLevel: (level: McpSchema.LoggingLevel) =>
      isModern
        ? Effect.sync(() => void (modern.logLevel = level))
        : empty(request, "logging/setLevel", { level }),
    // A 2026-07-28 server asks for the roots each time it needs them: a change needs no notice.
    notifyRootsListChanged: Effect.sync(() => isModern || peer.notify("notifications/roots/list_changed", undefined))
  }
}

/** The paginated lists, as Streams and collected; the tools' output schemas remembered as they are listed. */
const makeLists = ({ isModern, modern, request }: Connection) => {
  const pages = <P extends { readonly nextCursor?: string | undefined }, I, A>(
    method: string,
    schema: Schema.Schema<P, I>,
    itemsOf: (page: P) => ReadonlyArray<A>
  ) => paginate((cursor) => request(method, cursor === undefined ? {} : { cursor }, schema), itemsOf, method)
  const outputSchemas = new OutputSchemas()
  const allTools = pages("tools/list", McpSchema.ListToolsResult, (p) => p.tools).pipe(
    // Each page's output schemas are remembered, to check the results of the tools' calls.
    Stream.mapChunks((tools) => {
      outputSchemas.remember(Chunk.toReadonlyArray(tools))
      return tools
    })
  )
  // A 2026-07-28 client calls only the tools whose headers it can send right.
  const streamTools = isModern
    ? Stream.mapChunksEffect(
      allTools,
      (tools) => Effect.map(modern.usableTools(Chunk.toReadonlyArray(tools)), Chunk.fromIterable)
    )
    : allTools
  const streamResources = pages("resources/list", McpSchema.ListResourcesResult, (p) => p.resources)
  const streamResourceTemplates = pages(
    "resources/templates/list",
    McpSchema.ListResourceTemplatesResult,
    (p) => p.resourceTemplates
  )
  const streamPrompts = pages("prompts/list", McpSchema.ListPromptsResult, (p) => p.prompts)
  const streamSkills = pages("skills/list", McpSchema.ListSkillsResult, (p) => p.skills)
  return {
    outputSchemas,
    service: {
      streamTools,
      listTools: collect(streamTools),
      streamResources,
      listResources: collect(streamResources),
      streamResourceTemplates,
      listResourceTemplates: collect(streamResourceTemplates),
      streamPrompts,
      listPrompts: collect(streamPrompts),
      streamSkills,
      listSkills: collect(streamSkills)
    }
  }
}

/** `tools/call`, and the ways to call it: decoded, as a stream of events, as a task. */
const makeToolCalls = (connection: Connection, lists: ReturnType<typeof makeLists>) => {
  const { era, isModern, modern, request } = connection
  const callTool: Service["callTool"] = (name, args, requestOptions) => {
    const call = request(
      "tools/call",
      args === undefined ? { name } : { name, arguments: args },
      McpSchema.CallToolResult,
      requestOptions
    ).pipe(Effect.flatMap((result) => {
      const mismatch = lists.outputSchemas.check(name, result)
      return mismatch === undefined ? Effect.succeed(result) : Effect.fail(mismatch)
    }))
    // A 2026-07-28 call mirrors parameters in headers, which the tool's schema names: listed once if need be.
    return isModern && !modern.knows(name) ? Effect.zipRight(Effect.ignore(lists.service.listTools), call) : call
  }
  return {
    callTool,
    callToolStructured: <A, I>(
      name: string,
      args: Record<string, unknown> | undefined,
      output: Schema.Schema<A, I>,
      requestOptions?: Peer.RequestOptions
    ) => Effect.flatMap(callTool(name, args, requestOptions), (result) => structured(name, result, output)),
    callToolEvents: (name: string, args?: Record<string, unknown>, requestOptions?: Peer.RequestOptions) =>
      callEvents(callTool, name, args, requestOptions),
    callToolAsTask: (name: string, args?: Record<string, unknown>) =>
      isModern
        ? startTask(modern, args === undefined ? { name } : { name, arguments: args })
        : Effect.fail(
          new McpError({
            code: ErrorCode.MethodNotFound,
            message: `Tasks need protocol ${ClientModern.VERSION}; this server speaks ${era.protocolVersion}`
          })
        )
  }
}

/** A call's progress, then its result, as a Stream; ending the stream early interrupts (cancels) the call. */
const callEvents = (
  callTool: Service["callTool"],
  name: string,
  args: Record<string, unknown> | undefined,
  requestOptions: Peer.RequestOptions | undefined
) =>
  Stream.asyncScoped<CallEvent, RequestError>((emit) =>
    callTool(name, args, {
      ...requestOptions,
      onProgress: (progress) => {
        requestOptions?.onProgress?.(progress)
        void emit.single({ _tag: "Progress", progress })
      }
    }).pipe(
      Effect.matchEffect({
        onFailure: (error) => Effect.promise(() => emit.fail(error)),
        onSuccess: (result) =>
          Effect.promise(() => emit.single({ _tag: "Result", result })).pipe(
            Effect.zipRight(Effect.promise(() => emit.end()))
          )
      }),
      Effect.forkScoped
    )
  )

/** Resources (with subscriptions in either era), skills, prompts and completion. */
const resourcesAndPrompts = ({ request }: Connection, listens?: Listens.Listens) => {
  const read = (uri: string) => request("resources/read", { uri }, McpSchema.ReadResourceResult)
  return {
    readResource: read,
    subscribeResource: (uri: string) =>
      listens === undefined ? empty(request, "resources/subscribe", { uri }) : listens.add(uri),
    unsubscribeResource: (uri: string) =>
      listens === undefined ? empty(request, "resources/unsubscribe", { uri }) : listens.remove(uri),
    readSkillFile: (skill: McpSchema.SkillEntry, uri = skill.uri) =>
      Effect.flatMap(read(uri), (result) => SkillFiles.verify(skill, uri, result)),
    getPrompt: (name: string, args?: Record<string, string>) =>
      request("prompts/get", args === undefined ? { name } : { name, arguments: args }, McpSchema.GetPromptResult),
    complete: (
      ref: McpSchema.CompleteRequestParams["ref"],
      argument: { readonly name: string; readonly value: string },
      context?: Record<string, string>
    ) =>
      Effect.map(
        request(
          "completion/complete",
          context === undefined ? { ref, argument } : { ref, argument, context: { arguments: context } },
          McpSchema.CompleteResult
        ),
        (r) => r.completion
      )
  }
}

const DEFAULT_CLIENT_INFO: McpSchema.Implementation = { name: "mcp-effect-client", version: "0.1.0" }

/** What the client knows of the server once the era is settled. */
interface Era {
  readonly protocolVersion: string
  readonly serverInfo: McpSchema.Implementation
  readonly capabilities: McpSchema.ServerCapabilities
  readonly instructions: string | undefined
}

/**
 * Settles the era: pinned by `protocolVersion`, or probed with a 2026-07-28
 * `server/discover`, falling back to the handshake on any answer that is not
 * a modern one.
 */
const settleEra = (
  peer: Peer.Peer,
  modern: ClientModern.ModernClient,
  options: Options,
  capabilities: McpSchema.ClientCapabilities,
  clientInfo: McpSchema.Implementation
): Effect.Effect<Era, RequestError> => {
  const pinned = options.protocolVersion
  const handshake = initialize(peer, pinned ?? McpSchema.LATEST_PROTOCOL_VERSION, capabilities, clientInfo)
  if (pinned !== undefined && pinned !== ClientModern.VERSION) return handshake
  const discover = Effect.flatMap(
    modern.request("server/discover", {}, {
      ...options.requestOptions,
      timeout: options.discoverTimeout ?? "10 seconds"
    }),
    (result) => {
      const found = ClientModern.discovered(result)
      return found !== undefined && found.supportedVersions.includes(ClientModern.VERSION)
        ? Effect.succeed<Era>({ ...found, protocolVersion: ClientModern.VERSION })
        : Effect.fail(
          new McpError({
            code: ErrorCode.UnsupportedProtocolVersion,
            message: `The server does not support protocol version ${ClientModern.VERSION}`
          })
        )
    }
  )
  if (pinned === ClientModern.VERSION) return discover
  return Effect.catchAll(discover, (error) => error instanceof ConnectionClosedError ? Effect.fail(error) : handshake)
}

/** The handshake: `initialize` with `version`, then `notifications/initialized`. */
const initialize = (
  peer: Peer.Peer,
  version: string,
  capabilities: McpSchema.ClientCapabilities,
  clientInfo: McpSchema.Implementation
): Effect.Effect<Era, RequestError> =>
  Effect.gen(function*() {
    const init = yield* peer.request("initialize", { protocolVersion: version, capabilities, clientInfo }).pipe(
      Effect.flatMap(decodeOrInvalid(McpSchema.InitializeResult, "initialize result"))
    )
    if (!McpSchema.SUPPORTED_PROTOCOL_VERSIONS.includes(init.protocolVersion)) {
      return yield* new McpError({
        code: ErrorCode.InvalidRequest,
        message: `The server answered with protocol version ${init.protocolVersion}, which this client does not support`
      })
    }
    peer.notify("notifications/initialized", undefined)
    return {
      protocolVersion: init.protocolVersion,
      serverInfo: init.serverInfo,
      capabilities: init.capabilities,
      instructions: init.instructions
    }
  })

type Handlers = Map<string, (params: unknown) => Effect.Effect<unknown, McpError>>

/** The server→client requests this client answers: ping, and each feature whose handler is in context. */
const clientHandlers = (
  sampling: Option.Option<Sampling["Type"]>,
  elicitation: Option.Option<Elicitation["Type"]>,
  roots: Option.Option<Roots["Type"]>
): Handlers => {
  const handlers: Handlers = new Map([["ping", () => Effect.succeed({})]])
  if (Option.isSome(sampling)) {
    handlers.set(
      "sampling/createMessage",
      serveRequest(McpSchema.CreateMessageRequestParams, "sampling/createMessage", sampling.value.createMessage)
    )
  }
  if (Option.isSome(elicitation)) {
    const elicit = elicitation.value.elicit
    handlers.set(
      "elicitation/create",
      serveRequest(
        McpSchema.ElicitRequestParams,
        "elicitation/create",
        (params) => Effect.map(elicit(params), (result) => withDefaults(params, result))
      )
    )
  }
  if (Option.isSome(roots)) handlers.set("roots/list", () => Effect.map(roots.value.list, (list) => ({ roots: list })))
  return handlers
}

/**
 * An accepted form with the requested schema's defaults (SEP-1034) in the
 * fields the user left out: a default is what the user accepted when they
 * did not change it.
 */
const withDefaults = (
  params: McpSchema.ElicitRequestParams,
  result: McpSchema.ElicitResult
): McpSchema.ElicitResult => {
  if (result.action !== "accept" || !("requestedSchema" in params)) return result
  const defaults: Record<string, string | number | boolean | ReadonlyArray<string>> = {}
  for (const [name, property] of Object.entries(params.requestedSchema.properties)) {
    const value = isRecord(property) ? property.default : undefined
    if (isFieldValue(value)) defaults[name] = value
  }
  return Object.keys(defaults).length === 0 ? result : { ...result, content: { ...defaults, ...result.content } }
}

const isFieldValue = (value: unknown): value is string | number | boolean | ReadonlyArray<string> =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean" ||
  (Array.isArray(value) && value.every((item) => typeof item === "string"))

/** The capabilities declared: the options' own, and those implied by the handlers in context. */
const clientCapabilities = (
  options: Options,
  sampling: Option.Option<Sampling["Type"]>,
  elicitation: Option.Option<Elicitation["Type"]>,
  roots: Option.Option<Roots["Type"]>
): McpSchema.ClientCapabilities => ({
  ...options.capabilities,
  ...(Option.isSome(sampling) ? { sampling: sampling.value.tools ? { tools: {} } : {} } : {}),
  ...(Option.isSome(elicitation) ? { elicitation: elicitation.value.url ? { form: {}, url: {} } : { form: {} } } : {}),
  ...(Option.isSome(roots) ? { roots: { listChanged: true } } : {})
})

/** A tool result's structured content, decoded; an error result or undecodable content is a `ToolCallError`. */
const structured = <A, I>(
  tool: string,
  result: McpSchema.CallToolResult,
  output: Schema.Schema<A, I>
): Effect.Effect<A, ToolCallError> => {
  const fail = (message: string) => Effect.fail(new ToolCallError({ tool, message }))
  if (result.isError) {
    return fail(result.content.flatMap((c) => c.type === "text" ? [c.text] : []).join("\n") || "the tool failed")
  }
  if (result.structuredContent === undefined) return fail("its result has no structured content")
  return Effect.catchAll(
    Schema.decodeUnknown(output)(result.structuredContent),
    (error) => fail(`its structured content does not decode: ${ParseResult.TreeFormatter.formatErrorSync(error)}`)
  )
}

/**
 * Every item of a paginated list, page after page, as they come. A server
 * that hands back a cursor it gave before would loop forever: that fails.
 */
const paginate = <P extends { readonly nextCursor?: string | undefined }, A>(
  page: (cursor: string | undefined) => Effect.Effect<P, RequestError>,
  itemsOf: (page: P) => ReadonlyArray<A>,
  method: string
): Stream.Stream<A, RequestError> =>
  Stream.paginateChunkEffect(
    { cursor: undefined as string | undefined, seen: new Set<string>() },
    ({ cursor, seen }) =>
      Effect.flatMap(page(cursor), (current) => {
        const next = current.nextCursor
        if (next !== undefined && seen.has(next)) {
          return Effect.fail(
            new McpError({ code: ErrorCode.InvalidRequest, message: `${method} handed back the cursor ${next} again` })
          )
        }
        if (next !== undefined) seen.add(next)
        return Effect.succeed(
          [
            Chunk.fromIterable(itemsOf(current)),
            next === undefined ? Option.none() : Option.some({ cursor: next, seen })
          ] as const
        )
      })
  )

const collect = <A, E>(stream: Stream.Stream<A, E>): Effect.Effect<ReadonlyArray<A>, E> =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/**
 * The client as a layer over a transport.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  transport: Transport,
  options?: Options
): Layer.Layer<McpClient, RequestError> => Layer.scoped(McpClient, make(transport, options))
