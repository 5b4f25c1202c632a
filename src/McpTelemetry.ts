/**
 * OpenTelemetry for servers and clients, after the semantic conventions for
 * MCP (`mcp.*`, GenAI): a span per request and per notification, trace
 * context carried in `params._meta`, and the four duration histograms.
 *
 * It goes through Effect's own `Tracer` and `Metric`, so any exporter
 * `@effect/opentelemetry` offers receives it. Nothing is traced until a
 * tracer other than Effect's built-in one is installed (`NodeSdk.layer`,
 * `Layer.setTracer`): with none, a connection checks once when it opens and
 * then costs nothing per message. `layer` overrides the defaults.
 *
 * @example
 * ```ts
 * import { NodeSdk } from "@effect/opentelemetry"
 * import { ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
 * import { Layer } from "effect"
 * import { McpServer, McpTelemetry } from "mcp-effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const Server = McpServer.layer({ name: "traced", version: "1.0.0" })
 *
 * const Telemetry = Layer.merge(
 *   NodeSdk.layer(() => ({
 *     resource: { serviceName: "traced" },
 *     spanProcessor: new SimpleSpanProcessor(new ConsoleSpanExporter())
 *   })),
 *   // Tool arguments and results are recorded only when asked for.
 *   McpTelemetry.layer({ recordArguments: true })
 * )
 *
 * const main = NodeStdio.layer.pipe(Layer.provide(Server), Layer.provide(Telemetry))
 * ```
 *
 * @since 0.2.0
 */
import { Context, Layer } from "effect"

/**
 * What to record. Every field is optional; `"auto"` is the default.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /**
   * Spans, and trace context read from and written to `params._meta`.
   * `"auto"`: when a tracer other than Effect's built-in one is installed
   * (and tracing is not disabled with `Layer.setTracerEnabled(false)`).
   */
  readonly tracing?: boolean | "auto" | undefined
  /**
   * The `mcp.{server,client}.{operation,session}.duration` histograms, in
   * Effect's metric registry (exported by `@effect/opentelemetry`'s metric
   * reader). `"auto"`: whenever tracing is on.
   */
  readonly metrics?: boolean | "auto" | undefined
  /** Records a tool call's arguments as `gen_ai.tool.call.arguments`. They may hold secrets: off by default. */
  readonly recordArguments?: boolean | undefined
  /** Records a tool call's result as `gen_ai.tool.call.result`. Off by default. */
  readonly recordResults?: boolean | undefined
}

/**
 * The telemetry options in effect: a reference with `"auto"` defaults, read
 * when a connection opens (a session, a client, an HTTP endpoint).
 *
 * @since 0.2.0
 * @category services
 */
export class McpTelemetry extends Context.Reference<McpTelemetry>()("mcp-effect/McpTelemetry", {
  defaultValue: (): Options => ({})
}) {}

/**
 * Sets the telemetry options for what is built with this layer in context.
 *
 * @example
 * ```ts
 * import { McpTelemetry } from "mcp-effect"
 *
 * // Histograms without spans, for a deployment that only scrapes metrics.
 * const MetricsOnly = McpTelemetry.layer({ tracing: false, metrics: true })
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<never> => Layer.succeed(McpTelemetry, options)

/**
 * The attribute names this module records, as the semantic conventions spell
 * them.
 *
 * @since 0.2.0
 * @category constants
 */
export const Attributes = {
  methodName: "mcp.method.name",
  sessionId: "mcp.session.id",
  protocolVersion: "mcp.protocol.version",
  resourceUri: "mcp.resource.uri",
  requestId: "jsonrpc.request.id",
  toolName: "gen_ai.tool.name",
  promptName: "gen_ai.prompt.name",
  operationName: "gen_ai.operation.name",
  toolCallArguments: "gen_ai.tool.call.arguments",
  toolCallResult: "gen_ai.tool.call.result",
  errorType: "error.type",
  statusCode: "rpc.response.status_code",
  networkTransport: "network.transport",
  networkProtocolName: "network.protocol.name",
  networkProtocolVersion: "network.protocol.version",
  serverAddress: "server.address",
  serverPort: "server.port",
  clientAddress: "client.address"
} as const

/**
 * The histograms this module records, in seconds, with the conventions'
 * bucket boundaries.
 *
 * @since 0.2.0
 * @category constants
 */
export const MetricNames = {
  serverOperationDuration: "mcp.server.operation.duration",
  clientOperationDuration: "mcp.client.operation.duration",
  serverSessionDuration: "mcp.server.session.duration",
  clientSessionDuration: "mcp.client.session.duration"
} as const
