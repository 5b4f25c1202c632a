/**
 * Tracing for the bench servers, when `MCP_BENCH_TELEMETRY=traced`: the OpenTelemetry SDK through
 * `@effect/opentelemetry`, every span through a batch processor to an exporter that drops it, and the duration
 * histograms. It measures our instrumentation and the SDK's span handling, not an exporter's encoding or network.
 */
import { NodeSdk } from "@effect/opentelemetry"
import type { SpanExporter } from "@opentelemetry/sdk-trace-base"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Layer } from "effect"

const dropping: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve()
}

export const BenchTelemetry = process.env.MCP_BENCH_TELEMETRY === "traced"
  ? NodeSdk.layer(() => ({ resource: { serviceName: "bench" }, spanProcessor: new BatchSpanProcessor(dropping) }))
  : Layer.empty
