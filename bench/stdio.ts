/**
 * stdio `tools/call` benchmark: mcp-effect against the official TypeScript
 * SDK (and a bare Node loop as a floor), driven by the same raw client in the
 * same run.
 *
 * It reports throughput, p50/p99 latency and the server process's CPU time
 * per call (from /proc/<pid>/stat), sequentially and with 64 requests in
 * flight, plus the server's peak RSS.
 *
 *   npm run bench            # defaults
 *   npm run bench -- --calls 20000
 *   npx tsx bench/stdio.ts --baseline ../before   # also an earlier checkout's server, in the same rounds
 *
 * Rounds go across every server in turn, so that whatever else the machine
 * does meanwhile weighs on all alike.
 */
import { spawn } from "node:child_process"
import { performance } from "node:perf_hooks"
import { baseline, bundle, flag, measure, median, peakRssMb, tableHeader, tableRow } from "./common.js"
import type { Phase } from "./common.js"

const SEQUENTIAL = flag("sequential", 10000)
const CONCURRENT = flag("calls", 20000)
const IN_FLIGHT = flag("in-flight", 64)
const WARMUP = flag("warmup", 3000)
const ROUNDS = flag("rounds", 3)

interface Server {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Extra environment: `MCP_BENCH_TELEMETRY=traced` installs a tracer (`bench/servers/telemetry.ts`). */
  readonly env?: Readonly<Record<string, string>>
  /** Speaks 2026-07-28: no `initialize`, each request with its `_meta` envelope (stdio pins the era per process). */
  readonly modern?: boolean
}

/** A 2026-07-28 request's envelope, as a client sends it with every request. */
const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" }
}

const servers: ReadonlyArray<Server> = [
  // Bundled to plain JS first, like the SDK's own published build: no loader in the measured process.
  { name: "mcp-effect", command: "node", args: [".bench/effect-echo.mjs"] },
  {
    name: "mcp-effect traced",
    command: "node",
    args: [".bench/effect-echo.mjs"],
    env: { MCP_BENCH_TELEMETRY: "traced" }
  },
  { name: "mcp-effect 2026", command: "node", args: [".bench/effect-echo.mjs"], modern: true },
  { name: "official SDK", command: "node", args: ["bench/servers/sdk-echo.mjs"] },
  { name: "bare loop", command: "node", args: ["bench/servers/bare-echo.mjs"] },
  ...(baseline === undefined ? [] : [{ name: "baseline", command: "node", args: [".bench/effect-echo-baseline.mjs"] }])
]

const connect = async (server: Server) => {
  const child = spawn(server.command, [...server.args], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...server.env }
  })
  child.on("exit", (code) => {
    if (code !== 0 && code !== null) {
      process.stderr.write(`${server.name} exited with code ${code}\n`)
      process.exit(1)
    }
  })
  const waiting = new Map<number, (t: number) => void>()
  let buffer = ""
  child.stdout.setEncoding("utf8")
  child.stdout.on("data", (chunk: string) => {
    buffer += chunk
    let newline = buffer.indexOf("\n")
    while (newline !== -1) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      newline = buffer.indexOf("\n")
      const message = JSON.parse(line)
      const resolve = waiting.get(message.id)
      if (resolve !== undefined) {
        waiting.delete(message.id)
        resolve(performance.now())
      }
    }
  })
  let nextId = 0
  const request = (method: string, params: unknown) =>
    new Promise<number>((resolve) => {
      const id = nextId++
      waiting.set(id, resolve)
      child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n")
    })
  if (!server.modern) {
    await request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "bench", version: "1" }
    })
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n")
  }
  const params = server.modern
    ? { name: "echo", arguments: { text: "hello world" }, _meta: MODERN_META }
    : { name: "echo", arguments: { text: "hello world" } }
  const call = async () => {
    const start = performance.now()
    const end = await request("tools/call", params)
    return end - start
  }
  return { child, call, pid: child.pid! }
}

const prepare = async (server: Server) => {
  const connection = await connect(server)
  await measure(connection.pid, WARMUP, IN_FLIGHT, connection.call)
  await measure(connection.pid, WARMUP / 3, 1, connection.call)
  return { server, ...connection, sequential: new Array<Phase>(), concurrent: new Array<Phase>() }
}

const main = async () => {
  await bundle("bench/servers/effect-echo.ts", ".bench/effect-echo.mjs")
  if (baseline !== undefined) {
    await bundle(`${baseline}/bench/servers/effect-echo.ts`, ".bench/effect-echo-baseline.mjs")
  }
  process.stdout.write(
    `stdio tools/call: ${SEQUENTIAL} sequential, ${CONCURRENT} at ${IN_FLIGHT} in flight, median of ${ROUNDS} rounds\n\n`
  )
  const targets = []
  for (const server of servers) targets.push(await prepare(server))
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of targets) {
      target.sequential.push(await measure(target.pid, SEQUENTIAL, 1, target.call))
      target.concurrent.push(await measure(target.pid, CONCURRENT, IN_FLIGHT, target.call))
    }
  }
  const results = []
  for (const target of targets) {
    const rss = peakRssMb(target.pid)
    target.child.stdin.end()
    await new Promise((resolve) => target.child.on("exit", resolve))
    results.push({
      name: target.server.name,
      sequential: median(target.sequential),
      concurrent: median(target.concurrent),
      rss
    })
  }
  const floor = results.find((r) => r.name === "bare loop")!
  process.stdout.write(tableHeader)
  for (const r of results) {
    process.stdout.write(tableRow(r.name, "sequential", r.sequential, floor.sequential))
    process.stdout.write(tableRow(r.name, `${IN_FLIGHT} in flight`, r.concurrent, floor.concurrent))
  }
  process.stdout.write("\npeak RSS: " + results.map((r) => `${r.name} ${r.rss.toFixed(1)} MB`).join(", ") + "\n")
  const ours = results[0]!
  const sdk = results.find((r) => r.name === "official SDK")!
  process.stdout.write(
    `\nmcp-effect / official SDK:\n` +
      `  CPU per call   sequential ${(ours.sequential.cpuPerCall / sdk.sequential.cpuPerCall).toFixed(2)}x, ` +
      `${IN_FLIGHT} in flight ${
        (ours.concurrent.cpuPerCall / sdk.concurrent.cpuPerCall).toFixed(2)
      }x (target ≤ 0.67x)\n` +
      `  throughput     sequential ${(ours.sequential.throughput / sdk.sequential.throughput).toFixed(2)}x, ` +
      `${IN_FLIGHT} in flight ${(ours.concurrent.throughput / sdk.concurrent.throughput).toFixed(2)}x (target ≥ 1x)\n`
  )
}

main()
