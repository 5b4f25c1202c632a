/**
 * A server traced with OpenTelemetry: every request becomes a span (kind
 * server, named `tools/call forecast`, with the MCP semantic conventions'
 * attributes), the handler's own spans nest under it, and the duration
 * histograms are exported every ten seconds. Spans go to the console and,
 * like the metrics, to an OTLP collector (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * http://localhost:4318 by default: a Jaeger or Grafana all-in-one container
 * listens there).
 *
 *   npx tsx examples/observability.ts --port 3002
 *
 * A client that sends `traceparent` in `params._meta` (ours does, when it is
 * traced) gets its trace continued here.
 */
import { NodeSdk } from "@effect/opentelemetry"
import { NodeRuntime } from "@effect/platform-node"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Schema } from "effect"
import { McpServer, McpTelemetry, RequestContext } from "mcp-effect"
import { NodeHttp } from "mcp-effect/node"
import { isMain } from "./internal/isMain.js"

/** A slow dependency, traced as a span of its own under the request's. */
const lookUp = (city: string) =>
  Effect.sleep("20 millis").pipe(
    Effect.as(city.length * 3),
    Effect.withSpan("weather.lookUp", { attributes: { "weather.city": city } })
  )

const Forecast = McpServer.tool("forecast", {
  description: "Tomorrow's temperature in a city",
  parameters: { city: Schema.String },
  success: Schema.Struct({ celsius: Schema.Number })
}, ({ city }) =>
  Effect.gen(function*() {
    const celsius = yield* lookUp(city)
    yield* RequestContext.log("info", `forecast for ${city}`)
    return { celsius }
  }))

export const ObservedServer = Forecast.pipe(
  Layer.provideMerge(McpServer.layer({ name: "observability-example", version: "1.0.0" }))
)

/** The server layer, which `npx mcp-effect run examples/observability.ts` serves (untraced). */
export default ObservedServer

/** The OpenTelemetry SDK: spans to the console and to OTLP, metrics to OTLP. */
export const Telemetry = Layer.merge(
  NodeSdk.layer(() => ({
    resource: { serviceName: "observability-example" },
    spanProcessor: [
      new SimpleSpanProcessor(new ConsoleSpanExporter()),
      new BatchSpanProcessor(new OTLPTraceExporter())
    ],
    metricReader: new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter(),
      exportIntervalMillis: 10_000
    })
  })),
  // Tool arguments may hold what users typed: recorded here because this example's are harmless.
  McpTelemetry.layer({ recordArguments: true })
)

if (isMain(import.meta.url)) {
  const port = process.argv.includes("--port") ? Number(process.argv[process.argv.indexOf("--port") + 1]) : 3002
  NodeHttp.layer({ port }).pipe(
    Layer.provide(ObservedServer),
    Layer.provide(Telemetry),
    Layer.launch,
    NodeRuntime.runMain
  )
}
