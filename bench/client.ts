/**
 * Client `tools/call` benchmark: our `McpClient` against the official SDK v1 client (and a hand-written floor), each
 * in a process of its own, against the same mcp-effect bench server, over stdio and over Streamable HTTP.
 *
 * Each client process (bench/clients/) connects, then makes the calls this process asks for, sequentially and with
 * 64 in flight; around each phase this process reads the client's CPU time, and the server's, from /proc. It
 * reports, per client: throughput, p50/p99 latency, the client's CPU per call, the server's, and their sum (end to
 * end). Our client is pinned to 2025-11-25, the SDK's revision; it is also measured in 2026-07-28 mode.
 *
 * Over stdio each client spawns its own server process (the bundled bench server); over HTTP one server process
 * serves every client, each in a session of its own. Every client runs at once, idle but for its own phase, and the
 * rounds go across all of them in turn, so that whatever else the machine does weighs on all alike.
 *
 *   npx tsx bench/client.ts [--sequential N] [--calls N] [--rounds N] [--warmup N] [--in-flight N] [--only stdio|http]
 *                           [--diagnose]  # also, over HTTP, the raw floor on node:http rather than fetch
 *                           [--baseline DIR]  # also the client of another checkout (bench/common.ts)
 *
 * "mcp-effect traced" runs with an OpenTelemetry tracer installed (bench/servers/telemetry.ts), and so does the
 * stdio server it spawns: its end-to-end figure is a traced call on both sides.
 *
 * Over HTTP our client is measured twice: on `NodeHttp.connect` (node:http, the way a Node program connects) and on
 * `StreamableHttpClient.connect` with no `HttpClient` provided (fetch, as the SDK client and the raw floor use).
 */
import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import type { Config, Result } from "./clients/harness.js"
import { baseline, bundle, cpuMicros, flag, median, stringFlag } from "./common.js"

const IN_FLIGHT = flag("in-flight", 64)
const ROUNDS = flag("rounds", 3)
const ONLY = stringFlag("only")
const DIAGNOSE = process.argv.includes("--diagnose")

/** Per transport, the calls of a phase (fewer than the server benchmarks': here the clients are the slow side). */
const sizes = {
  stdio: { sequential: flag("sequential", 5000), concurrent: flag("calls", 10000), warmup: flag("warmup", 3000) },
  http: { sequential: flag("sequential", 2000), concurrent: flag("calls", 5000), warmup: flag("warmup", 2000) }
}

type Transport = keyof typeof sizes

interface Client {
  readonly name: string
  readonly file: string
  readonly protocolVersion: string
  /** Our client: over HTTP, `StreamableHttpClient.connect` on fetch rather than `NodeHttp.connect`. */
  readonly fetch?: boolean
  /** The raw floor: over HTTP, node:http rather than fetch. */
  readonly nodeHttp?: boolean
  /** Measured on these transports only. */
  readonly only?: Transport
  /** Extra environment: `MCP_BENCH_TELEMETRY=traced` traces the client and the stdio server it spawns. */
  readonly env?: Readonly<Record<string, string>>
}

const clients: ReadonlyArray<Client> = [
  { name: "mcp-effect", file: ".bench/effect-client.mjs", protocolVersion: "2025-11-25" },
  { name: "official SDK", file: ".bench/sdk-client.mjs", protocolVersion: "2025-11-25" },
  { name: "raw floor", file: ".bench/raw-client.mjs", protocolVersion: "2025-11-25" },
  { name: "mcp-effect 2026", file: ".bench/effect-client.mjs", protocolVersion: "2026-07-28" },
  {
    name: "mcp-effect traced",
    file: ".bench/effect-client.mjs",
    protocolVersion: "2025-11-25",
    env: { MCP_BENCH_TELEMETRY: "traced" }
  },
  ...(baseline === undefined ? [] : [
    { name: "baseline", file: ".bench/effect-client-baseline.mjs", protocolVersion: "2025-11-25" }
  ] satisfies ReadonlyArray<Client>),
  {
    name: "mcp-effect fetch",
    file: ".bench/effect-client.mjs",
    protocolVersion: "2025-11-25",
    fetch: true,
    only: "http"
  },
  // `--diagnose`, not a target: the floor for a client on node:http (keep-alive) rather than fetch.
  ...(DIAGNOSE
    ? [{
      name: "raw node:http",
      file: ".bench/raw-client.mjs",
      protocolVersion: "2025-11-25",
      nodeHttp: true,
      only: "http"
    }] satisfies ReadonlyArray<Client>
    : [])
]

interface Phase {
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly clientCpu: number
  readonly serverCpu: number
}

/** A client process, connected and warmed up. */
interface Target {
  readonly client: Client
  readonly transport: Transport
  readonly pid: number
  readonly serverPid: number
  readonly run: (calls: number, inFlight: number) => Promise<Phase>
  readonly stop: () => Promise<void>
  readonly sequential: Array<Phase>
  readonly concurrent: Array<Phase>
}

/** Every process this one started and that still runs, stopped (by pid) if this one exits early. */
const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) child.kill()
})

const start = async (client: Client, transport: Transport, config: Config, httpServerPid: number): Promise<Target> => {
  process.stderr.write(`${client.name} (${transport})...\n`)
  const child: ChildProcess = spawn(
    process.execPath,
    [
      client.file,
      JSON.stringify({
        ...config,
        protocolVersion: client.protocolVersion,
        fetch: client.fetch,
        nodeHttp: client.nodeHttp
      })
    ],
    { stdio: ["ignore", "inherit", "inherit", "ipc"], env: { ...process.env, ...client.env } }
  )
  children.add(child)
  child.on("exit", (code) => {
    children.delete(child)
    if (code !== 0 && code !== null) {
      process.stderr.write(`${client.name} (${transport}) exited with code ${code}\n`)
      process.exit(1)
    }
  })
  const next = () => new Promise<any>((resolve) => child.once("message", resolve))
  const ready = await next()
  const serverPid: number = ready.serverPid ?? httpServerPid
  const pid = child.pid!
  const run = async (calls: number, inFlight: number): Promise<Phase> => {
    const clientBefore = cpuMicros(pid)
    const serverBefore = cpuMicros(serverPid)
    child.send({ type: "run", calls, inFlight })
    const result: Result = await next()
    const clientCpu = (cpuMicros(pid) - clientBefore) / calls
    const serverCpu = (cpuMicros(serverPid) - serverBefore) / calls
    return { throughput: calls / (result.elapsedMs / 1000), p50: result.p50, p99: result.p99, clientCpu, serverCpu }
  }
  const size = sizes[transport]
  await run(size.warmup, IN_FLIGHT)
  await run(Math.round(size.warmup / 3), 1)
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      child.send({ type: "stop" })
    })
  return { client, transport, pid, serverPid, run, stop, sequential: [], concurrent: [] }
}

/** The bench's HTTP server (the one bench/http.ts measures), listening on a port of its own. */
const startHttpServer = () =>
  new Promise<{ pid: number; url: string; stop: () => void }>((resolve, reject) => {
    const child = spawn(process.execPath, [".bench/effect-http.mjs"], { stdio: ["ignore", "pipe", "inherit"] })
    children.add(child)
    child.on("exit", () => children.delete(child))
    child.stdout.setEncoding("utf8")
    child.stdout.once("data", (line: string) => {
      const port = Number(/listening (\d+)/.exec(line)?.[1])
      resolve({ pid: child.pid!, url: `http://127.0.0.1:${port}/mcp`, stop: () => child.kill() })
    })
    child.on("error", reject)
  })

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9)

const header = "client               | mode            |  calls/s  |  p50 µs   |  p99 µs   | client CPU µs/call | " +
  "server CPU µs/call | end-to-end µs/call | client ÷ floor\n" +
  "---------------------|-----------------|-----------|-----------|-----------|--------------------|" +
  "--------------------|--------------------|---------------\n"

const row = (name: string, mode: string, p: Phase, floor: Phase) =>
  `${name.padEnd(21)}| ${mode.padEnd(15)} |${fmt(p.throughput)}  |${fmt(p.p50)}  |${fmt(p.p99)}  |` +
  `${fmt(p.clientCpu, 1)}          |${fmt(p.serverCpu, 1)}          |${fmt(p.clientCpu + p.serverCpu, 1)}          | ` +
  `${(p.clientCpu / floor.clientCpu).toFixed(2)}x\n`

const main = async () => {
  await bundle("bench/servers/effect-echo.ts", ".bench/effect-echo.mjs")
  await bundle("bench/servers/effect-http.ts", ".bench/effect-http.mjs")
  await bundle("bench/clients/effect-client.ts", ".bench/effect-client.mjs")
  if (baseline !== undefined) {
    await bundle(`${baseline}/bench/clients/effect-client.ts`, ".bench/effect-client-baseline.mjs")
  }
  // The SDK stays in node_modules as it ships; only the harness is bundled in.
  await bundle("bench/clients/sdk-client.ts", ".bench/sdk-client.mjs", ["@modelcontextprotocol/*"])
  await bundle("bench/clients/raw-client.ts", ".bench/raw-client.mjs")
  const transports = (["stdio", "http"] as const).filter((t) => ONLY === undefined || ONLY === t)
  process.stdout.write(
    `client tools/call against the mcp-effect bench server, ${
      transports.map((t) =>
        `${t}: ${sizes[t].sequential} sequential and ${sizes[t].concurrent} at ${IN_FLIGHT} in flight`
      ).join("; ")
    }; median of ${ROUNDS} rounds\n\n`
  )
  const http = await startHttpServer()
  const targets: Array<Target> = []
  for (const transport of transports) {
    const config: Config = transport === "stdio"
      ? { transport, command: process.execPath, args: [".bench/effect-echo.mjs"] }
      : { transport, url: http.url }
    for (const client of clients) {
      if (client.only === undefined || client.only === transport) {
        targets.push(await start(client, transport, config, http.pid))
      }
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`round ${round + 1} of ${ROUNDS}\n`)
    for (const target of targets) {
      const size = sizes[target.transport]
      target.sequential.push(await target.run(size.sequential, 1))
      target.concurrent.push(await target.run(size.concurrent, IN_FLIGHT))
    }
  }
  for (const target of targets) await target.stop()
  http.stop()
  for (const transport of transports) {
    const results = targets.filter((t) => t.transport === transport).map((t) => ({
      name: t.client.name,
      sequential: median(t.sequential),
      concurrent: median(t.concurrent)
    }))
    const floor = results.find((r) => r.name === "raw floor")!
    process.stdout.write(`${transport}\n${header}`)
    for (const r of results) {
      process.stdout.write(row(r.name, "sequential", r.sequential, floor.sequential))
      process.stdout.write(row(r.name, `${IN_FLIGHT} in flight`, r.concurrent, floor.concurrent))
    }
    const sdk = results.find((r) => r.name === "official SDK")!
    const ratios = (name: string, f: (p: Phase) => number) => {
      const ours = results.find((r) => r.name === name)!
      return `sequential ${(f(ours.sequential) / f(sdk.sequential)).toFixed(2)}x, ${IN_FLIGHT} in flight ${
        (f(ours.concurrent) / f(sdk.concurrent)).toFixed(2)
      }x`
    }
    const clientCpu = (p: Phase) => p.clientCpu
    const endToEnd = (p: Phase) => p.clientCpu + p.serverCpu
    process.stdout.write(
      `\n${transport}: mcp-effect / official SDK client\n` +
        `  client CPU per call           ${ratios("mcp-effect", clientCpu)} (target ≤ 0.5x)\n` +
        `  end-to-end CPU per call       ${ratios("mcp-effect", endToEnd)} (target ≤ 1x)\n` +
        `  2026-07-28 mode, client CPU   ${ratios("mcp-effect 2026", clientCpu)}\n` +
        `  2026-07-28 mode, end to end   ${ratios("mcp-effect 2026", endToEnd)}\n` +
        (transport === "http"
          ? `  over fetch, client CPU        ${ratios("mcp-effect fetch", clientCpu)}\n` +
            `  over fetch, end to end        ${ratios("mcp-effect fetch", endToEnd)}\n`
          : "") +
        (DIAGNOSE && transport === "http"
          ? `  raw node:http, client CPU     ${ratios("raw node:http", clientCpu)}\n`
          : "") +
        "\n"
    )
  }
}

main()
