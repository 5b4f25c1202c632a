/**
 * The client benchmark's mcp-effect client: `McpClient` over `NodeStdio.spawn`, or over `NodeHttp.connect` (with
 * `fetch`, `StreamableHttpClient.connect`); its calls made by fibers, `inFlight` of them, each looping until the
 * phase's calls are issued.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Exit, Layer, Runtime, Scope } from "effect"
import type { McpError } from "mcp-effect"
import { McpClient, StreamableHttpClient } from "mcp-effect"
import { NodeHttp, NodeStdio } from "mcp-effect/node"
import { BenchTelemetry } from "../servers/telemetry.js"
import type { Config, Run } from "./harness.js"
import { check, config, fail, serve, summarize, TEXT } from "./harness.js"

const options = { clientInfo: { name: "bench-effect", version: "1" }, protocolVersion: config.protocolVersion }

const connect = (config: Config & { readonly fetch?: boolean }) =>
  config.transport === "stdio"
    ? Effect.gen(function*() {
      const server = yield* NodeStdio.spawn({ command: config.command, args: config.args })
      const client = yield* McpClient.make(server.transport, options)
      return { client, serverPid: server.pid as number | undefined }
    })
    : Effect.map(
      // On fetch (no HttpClient provided), or on node:http as a Node program connects.
      config.fetch === true ? StreamableHttpClient.connect(config.url, options) : NodeHttp.connect(config.url, options),
      (client) => ({ client, serverPid: undefined })
    )

const phase = (client: McpClient.Service, run: Run) =>
  Effect.suspend(() => {
    const latencies: Array<number> = []
    let issued = 0
    const call = Effect.suspend(() => {
      const began = performance.now()
      return Effect.map(client.callTool("echo", { text: TEXT }), (result) => {
        const first = result.content[0]
        check(first?.type === "text" ? first.text : undefined)
        latencies.push(performance.now() - began)
      })
    })
    const worker: Effect.Effect<void, McpError.RequestError> = Effect.suspend(() =>
      issued++ < run.calls ? Effect.zipRight(call, worker) : Effect.void
    )
    const start = performance.now()
    return Effect.map(
      Effect.all(Array.from({ length: run.inFlight }, () => worker), { concurrency: "unbounded", discard: true }),
      () => summarize(latencies, performance.now() - start)
    )
  })

const main = async () => {
  const runtime = await Effect.runPromise(
    Effect.provide(Effect.runtime<NodeContext.NodeContext>(), Layer.merge(NodeContext.layer, BenchTelemetry))
  )
  const scope = Effect.runSync(Scope.make())
  const run = Runtime.runPromise(runtime)
  const { client, serverPid } = await run(Scope.extend(connect(config), scope))
  serve(serverPid, (r) => run(phase(client, r)), () => run(Scope.close(scope, Exit.void)))
}

main().catch(fail)
