/**
 * One layer that switches a server from the in-memory defaults to state
 * shared by every node on a Postgres database: handshake-era sessions
 * (`PgSessionStore`), their SSE events (`PgEventStore`), change notifications
 * (`PgChangeFeed`) and 2026-07-28 tasks (`PgTaskStore`), whose handlers run
 * durably on an `@effect/cluster` runner on every node: a task outlives the
 * node that started it, and runs again on another when its node dies. Tool
 * code does not change.
 *
 * The layer also refuses to start without the key that signs 2026-07-28
 * `requestState` (`MCP_REQUEST_STATE_KEY`, read from `Config` as the server
 * reads it): a retry may reach any node, so every node must sign and verify
 * with the same key, and the ephemeral key a single process falls back to
 * would make another node refuse the state.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { McpCluster } from "mcp-effect/cluster"
 * import { NodeHttp } from "mcp-effect/node"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
 * const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })))
 *
 * // A node: DATABASE_URL and MCP_REQUEST_STATE_KEY come from the environment, the same on every node.
 * const main = () =>
 *   NodeHttp.layer({ port: 3000, host: "0.0.0.0" }).pipe(
 *     Layer.provide(ServerLive),
 *     Layer.provide(McpCluster.layerConfig()),
 *     Layer.launch,
 *     NodeRuntime.runMain
 *   )
 * ```
 *
 * @since 0.2.0
 */
import * as ClusterWorkflowEngine from "@effect/cluster/ClusterWorkflowEngine"
import * as RunnerAddress from "@effect/cluster/RunnerAddress"
import * as ShardingConfig from "@effect/cluster/ShardingConfig"
import * as SqlMessageStorage from "@effect/cluster/SqlMessageStorage"
import * as SqlRunnerStorage from "@effect/cluster/SqlRunnerStorage"
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import type * as SocketServer from "@effect/platform/SocketServer"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { ConfigError, Duration } from "effect"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import type * as ChangeFeed from "../ChangeFeed.js"
import type * as EventStore from "../EventStore.js"
import type * as SessionStore from "../SessionStore.js"
import * as TaskRunner from "../TaskRunner.js"
import * as TaskStore from "../TaskStore.js"
import { defaultTablePrefix, millis, purgeEvery } from "./internal/sql.js"
import * as ClusterTaskRunner from "./internal/taskRunner.js"
import * as PgChangeFeed from "./PgChangeFeed.js"
import * as PgEventStore from "./PgEventStore.js"
import * as PgSessionStore from "./PgSessionStore.js"
import * as PgTaskStore from "./PgTaskStore.js"

/**
 * Options of {@link layer}: what every store shares, then each store's own.
 * Every node of a deployment must use the same.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The prefix of every table's name. Default `mcp_`. */
  readonly tablePrefix?: string | undefined
  /** The channel of the change feed. Default `mcp_effect_changes`. */
  readonly channel?: string | undefined
  /** How often each store purges what expired, unless its own options say otherwise. Default: one minute. */
  readonly purgeInterval?: Duration.DurationInput | undefined
  /** Handshake-era sessions: their time to live (default one hour). */
  readonly sessions?: Omit<PgSessionStore.Options, "tablePrefix"> | undefined
  /** The events of SSE streams: their time to live (default one hour) and bounds. */
  readonly events?: Omit<PgEventStore.Options, "tablePrefix"> | undefined
  /** 2026-07-28 tasks (each has its own time to live, `ttlMs`). */
  readonly tasks?: Omit<PgTaskStore.Options, "tablePrefix"> | undefined
  /**
   * This node's `@effect/cluster` runner, which runs 2026-07-28 tasks
   * durably: a task runs on one node and, when that node stops, again on
   * another. `false`: tasks run in the process that starts them, and end
   * with it. Default: a runner at `localhost:34431` ({@link layerConfig}:
   * `MCP_RUNNER_HOST` and `MCP_RUNNER_PORT`).
   */
  readonly runner?: RunnerOptions | false | undefined
}

/**
 * Where this node's runner is, for the other nodes: the runners talk to each
 * other over TCP, and keep their shards and messages in Postgres (tables
 * `<tablePrefix>cluster_*`).
 *
 * @since 0.2.0
 * @category models
 */
export interface RunnerOptions {
  /** The host the other nodes reach this node's runner at. Default `localhost`. */
  readonly host?: string | undefined
  /** The port they reach it at. Default 34431. */
  readonly port?: number | undefined
  /** Where the runner listens, when not at `host` and `port` (`0.0.0.0` behind a NAT, say). */
  readonly listen?: { readonly host: string; readonly port: number } | undefined
  /** More of `@effect/cluster`'s `ShardingConfig` (poll intervals, lock expiry, …), the same on every node. */
  readonly sharding?: Partial<ShardingConfig.ShardingConfig["Type"]> | undefined
}

/**
 * Options of {@link layerConfig}: {@link Options}, and the database's.
 *
 * @since 0.2.0
 * @category models
 */
export interface ConfigOptions extends Options {
  /** The `PgClient`'s configuration. Default: `{ url: Config.redacted("DATABASE_URL") }`. */
  readonly database?: Config.Config.Wrap<PgClient.PgClientConfig> | undefined
}

/**
 * The services {@link layer} provides.
 *
 * @since 0.2.0
 * @category models
 */
export type Stores =
  | SessionStore.SessionStore
  | EventStore.EventStore
  | ChangeFeed.ChangeFeed
  | TaskStore.TaskStore
  | TaskRunner.TaskRunner

/**
 * What building {@link layer} can fail with: the key, the database, the
 * change feed's listen, the runner's socket and configuration.
 *
 * @since 0.2.0
 * @category errors
 */
export type LayerError =
  | StateKeyError
  | SqlError
  | PgChangeFeed.ListenError
  | SocketServer.SocketServerError
  | ConfigError.ConfigError

/**
 * The configuration key of the `requestState` signing key, as the server
 * reads it.
 *
 * @since 0.2.0
 * @category constants
 */
export const stateKeyName = "MCP_REQUEST_STATE_KEY"

/**
 * The shortest signing key cluster mode accepts, in bytes (of its UTF-8
 * text): the size of an HMAC-SHA-256 digest, below which the key, not the
 * hash, is the weak point.
 *
 * @since 0.2.0
 * @category constants
 */
export const minimumKeyBytes = 32

/**
 * The node has no usable `requestState` signing key: it is not started.
 * The message says what to set; it never shows the key.
 *
 * @since 0.2.0
 * @category errors
 */
export class StateKeyError extends Schema.TaggedError<StateKeyError>()("McpCluster/StateKeyError", {
  reason: Schema.Literal("missing", "tooShort")
}) {
  /**
   * @since 0.2.0
   */
  override get message(): string {
    const what = this.reason === "missing"
      ? `${stateKeyName} is not set`
      : `${stateKeyName} is shorter than ${minimumKeyBytes} bytes`
    return `McpCluster: ${what}. Every node must sign and verify 2026-07-28 requestState with the same key, ` +
      `since a retry may reach any node: set ${stateKeyName}, the same on every node, to a random secret of at ` +
      `least ${minimumKeyBytes} bytes (for example the output of \`openssl rand -base64 32\`).`
  }
}

/**
 * Checks the `requestState` signing key in `Config`: present, and at least
 * {@link minimumKeyBytes} long. What the server would treat as absent (and
 * replace with a key of its process) is absent here.
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { McpCluster } from "mcp-effect/cluster"
 *
 * const checked = McpCluster.requireStateKey.pipe(
 *   Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["MCP_REQUEST_STATE_KEY", "short"]])))
 * )
 * // Fails with StateKeyError { reason: "tooShort" }.
 * ```
 *
 * @since 0.2.0
 * @category checks
 */
export const requireStateKey: Effect.Effect<void, StateKeyError> = Config.redacted(stateKeyName).pipe(
  Config.option,
  Effect.orElseSucceed(Option.none<Redacted.Redacted>),
  Effect.flatMap(Option.match({
    onNone: () => new StateKeyError({ reason: "missing" }),
    // Measured as the server uses it: the UTF-8 bytes of the text.
    onSome: (key) =>
      new TextEncoder().encode(Redacted.value(key)).length < minimumKeyBytes
        ? new StateKeyError({ reason: "tooShort" })
        : Effect.void
  })),
  Effect.withSpan("McpCluster.requireStateKey")
)

const purgeIntervalOf = (own: Duration.DurationInput | undefined, options: Options) => own ?? options.purgeInterval

/** The stores and the runner on the `PgClient` in context (the SQL stores take it as their `SqlClient`). */
const stores = (options: Options): Layer.Layer<Stores, LayerError, PgClient.PgClient> => {
  const { tablePrefix } = options
  const taskOptions = {
    ...options.tasks,
    tablePrefix,
    purgeInterval: purgeIntervalOf(options.tasks?.purgeInterval, options)
  }
  const tasks = options.runner === false
    ? Layer.merge(PgTaskStore.layer(taskOptions), TaskRunner.layerInProcess)
    : tasksOnRunner(taskOptions).pipe(Layer.provideMerge(runner(options.runner ?? {}, tablePrefix)))
  return Layer.mergeAll(
    PgSessionStore.layer({
      ...options.sessions,
      tablePrefix,
      purgeInterval: purgeIntervalOf(options.sessions?.purgeInterval, options)
    }),
    PgEventStore.layer({
      ...options.events,
      tablePrefix,
      purgeInterval: purgeIntervalOf(options.events?.purgeInterval, options)
    }),
    tasks,
    PgChangeFeed.layer({ channel: options.channel })
  ).pipe(Layer.provide(Layer.effect(SqlClient.SqlClient, PgClient.PgClient)))
}

/**
 * The runner: `@effect/cluster` over sockets, its shards and messages in
 * Postgres under the stores' prefix (so that two deployments on one
 * database stay apart), the workflow engine, and the tasks' workflow.
 */
const runner = (options: RunnerOptions, tablePrefix: string | undefined) => {
  const shardingConfig: Partial<ShardingConfig.ShardingConfig["Type"]> = {
    // A dead node's tasks move within seconds (@effect/cluster's defaults: a minute and three seconds).
    runnerHealthCheckInterval: "5 seconds",
    refreshAssignmentsInterval: "1 second",
    runnerAddress: Option.some(RunnerAddress.make(options.host ?? "localhost", options.port ?? 34431)),
    ...(options.listen !== undefined
      ? { runnerListenAddress: Option.some(RunnerAddress.make(options.listen.host, options.listen.port)) }
      : {}),
    ...options.sharding
  }
  const prefix = `${tablePrefix ?? defaultTablePrefix}cluster`
  const storage = Layer.merge(SqlMessageStorage.layerWith({ prefix }), SqlRunnerStorage.layerWith({ prefix })).pipe(
    Layer.provide(ShardingConfig.layer(shardingConfig))
  )
  return ClusterTaskRunner.layer({ tablePrefix: tablePrefix ?? defaultTablePrefix }).pipe(
    Layer.provideMerge(ClusterWorkflowEngine.layer),
    Layer.provideMerge(NodeClusterSocket.layer({ storage: "byo", shardingConfig })),
    Layer.provideMerge(storage)
  )
}

/** The task store, whose purge also forgets the executions of the tasks it deleted. */
const tasksOnRunner = (options: PgTaskStore.Options) =>
  Layer.scoped(
    TaskStore.TaskStore,
    Effect.gen(function*() {
      const store = yield* PgTaskStore.make(options)
      const { forget } = yield* ClusterTaskRunner.ClusterTaskRunner
      yield* purgeEvery(Effect.flatMap(store.purge, forget), millis(options.purgeInterval, "1 minute"), "PgTaskStore")
      return store
    })
  )

/** Checks the key before anything else is built: a node without one never touches the database. */
const keyChecked = Layer.effectDiscard(requireStateKey)

/**
 * The sessions, events, change feed and tasks of a server, on the
 * `PgClient` in context; fails with {@link StateKeyError} before building
 * them when the `requestState` signing key is missing or too short.
 *
 * @example
 * ```ts
 * import { PgClient } from "@effect/sql-pg"
 * import { Layer, Redacted } from "effect"
 * import { McpCluster } from "mcp-effect/cluster"
 *
 * const Cluster = McpCluster.layer({
 *   tablePrefix: "myapp_mcp_",
 *   channel: "myapp_mcp_changes",
 *   sessions: { timeToLive: "2 hours" },
 *   events: { maxEventsPerStream: 500 }
 * }).pipe(Layer.provide(PgClient.layer({ url: Redacted.make("postgres://mcp@db/mcp") })))
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Stores, LayerError, PgClient.PgClient> =>
  Layer.provide(stores(options), keyChecked)

/**
 * {@link layer} on a `PgClient` configured from `Config` (by default the URL
 * in `DATABASE_URL`), which it provides too, for the program's own queries.
 * The key is checked before the database is connected to.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { McpCluster } from "mcp-effect/cluster"
 *
 * // DATABASE_URL and MCP_REQUEST_STATE_KEY from the environment.
 * const Cluster = McpCluster.layerConfig()
 *
 * // Or the database's configuration from elsewhere.
 * const Custom = McpCluster.layerConfig({
 *   tablePrefix: "myapp_mcp_",
 *   database: { url: Config.redacted("MYAPP_DATABASE_URL"), maxConnections: Config.succeed(20) }
 * })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  options: ConfigOptions = {}
): Layer.Layer<Stores | PgClient.PgClient | SqlClient.SqlClient, LayerError> =>
  Layer.unwrapEffect(Effect.map(runnerConfig(options.runner), (runner) => stores({ ...options, runner }))).pipe(
    Layer.provideMerge(PgClient.layerConfig(options.database ?? { url: Config.redacted("DATABASE_URL") })),
    Layer.provide(keyChecked)
  )

/** The runner's address from `MCP_RUNNER_HOST` and `MCP_RUNNER_PORT`, where the options leave it out. */
const runnerConfig = (
  options: RunnerOptions | false | undefined
): Effect.Effect<RunnerOptions | false, ConfigError.ConfigError> =>
  options === false ? Effect.succeed(false) : Effect.map(
    Config.all({
      host: Config.option(Config.string("MCP_RUNNER_HOST")),
      port: Config.option(Config.port("MCP_RUNNER_PORT"))
    }),
    ({ host, port }): RunnerOptions => ({
      ...options,
      host: options?.host ?? Option.getOrUndefined(host),
      port: options?.port ?? Option.getOrUndefined(port)
    })
  )
