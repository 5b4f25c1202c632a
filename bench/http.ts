/**
 * Streamable HTTP `tools/call` benchmark: mcp-effect against the official
 * TypeScript SDK (and, as floors, a bare node:http endpoint and the cheapest
 * answer an @effect/platform server can give), driven by the
 * same keep-alive client in the same run.
 *
 * Every server runs at once, and each round measures them all in turn (the
 * median of 5 rounds is reported), so that the noise of a shared machine
 * falls on all of them alike. The modes a server tells apart by the request
 * alone (mcp-effect's) share one server process.
 *
 * For JSON and SSE response modes, sequentially and with 64 in flight, it
 * reports throughput, p50/p99 latency and the server process's CPU per call;
 * and for "streamed" calls, whose tool reports progress before it answers, so
 * that the answer is an SSE stream of two events on every server. And, for
 * mcp-effect, "modern": a stateless 2026-07-28 `tools/call` (its envelope in
 * `params._meta`, no session), whose CPU per call is set beside that of a
 * JSON call on a live handshake-era session from the same run; and "payload":
 * that session call carrying a modern request's `_meta` (without its version
 * claim) and mirrored headers, which the session ignores: what the bytes of a
 * modern request cost alone.
 * Then the server heap per idle session (the slope over 1,000 sessions, after
 * a forced GC) and whether one mcp-effect process holds 10,000 idle sessions.
 *
 *   npx tsx bench/http.ts [--sequential N] [--calls N] [--sessions N] [--many N] [--baseline DIR]
 *     [--servers mcp-effect,baseline] [--modes json,modern]
 *
 * `--servers` and `--modes` measure only those (the bare node:http floor is
 * always measured, since every row is divided by it) and skip the heap figures.
 */
import { spawn } from "node:child_process"
import { Agent, request } from "node:http"
import { performance } from "node:perf_hooks"
import { baseline, bundle, flag, measure, median, stringFlag, tableHeader, tableRow } from "./common.js"
import type { Phase } from "./common.js"

const SEQUENTIAL = flag("sequential", 3000)
const CONCURRENT = flag("calls", 10000)
const IN_FLIGHT = flag("in-flight", 64)
const WARMUP = flag("warmup", 2000)
const ROUNDS = flag("rounds", 5)
const SESSIONS = flag("sessions", 1000)
const MANY = flag("many", 10000)
const ONLY_SERVERS = stringFlag("servers")?.split(",")
const ONLY_MODES = stringFlag("modes")?.split(",")

type Mode = "json" | "sse" | "streamed" | "modern" | "payload"

interface Server {
  readonly name: string
  readonly args: (mode: Mode) => ReadonlyArray<string>
  /** The Accept header that selects the mode on this server. */
  readonly accept: (mode: Mode) => string
  readonly modes: ReadonlyArray<Mode>
  /** Extra environment: `MCP_BENCH_TELEMETRY=traced` installs a tracer (`bench/servers/telemetry.ts`). */
  readonly env?: Readonly<Record<string, string>>
}

/** mcp-effect answers as the client prefers: SSE listed first asks for SSE. */
const effectAccept = (mode: Mode) =>
  mode === "sse" || mode === "streamed" ? "text/event-stream, application/json" : "application/json, text/event-stream"

const servers: ReadonlyArray<Server> = [
  {
    name: "mcp-effect",
    args: () => ["--expose-gc", ".bench/effect-http.mjs"],
    accept: effectAccept,
    modes: ["json", "sse", "streamed", "modern", "payload"]
  },
  {
    name: "mcp-effect traced",
    args: () => [".bench/effect-http.mjs"],
    accept: effectAccept,
    modes: ["json", "modern"],
    env: { MCP_BENCH_TELEMETRY: "traced" }
  },
  {
    name: "official SDK",
    args: (mode) => ["--expose-gc", "bench/servers/sdk-http.mjs", ...(mode === "json" ? ["--json"] : [])],
    accept: () => "application/json, text/event-stream",
    modes: ["json", "sse", "streamed"]
  },
  {
    name: "platform floor",
    args: () => [".bench/platform-floor.mjs"],
    accept: () => "application/json",
    modes: ["json"]
  },
  {
    name: "bare node:http",
    args: () => ["bench/servers/bare-http.mjs"],
    accept: () => "application/json",
    modes: ["json"]
  },
  ...(baseline === undefined ? [] : [{
    name: "baseline",
    args: () => ["--expose-gc", ".bench/effect-http-baseline.mjs"],
    accept: effectAccept,
    modes: ["json", "sse", "streamed", "modern", "payload"] as ReadonlyArray<Mode>
  }])
]

const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })

interface Reply {
  readonly status: number
  readonly sessionId: string | undefined
  readonly body: string
}

const post = (port: number, headers: Record<string, string>, body: unknown, path = "/mcp") =>
  new Promise<Reply>((resolve, reject) => {
    const text = body === undefined ? "" : JSON.stringify(body)
    const req = request({
      host: "127.0.0.1",
      port,
      path,
      method: body === undefined ? "GET" : "POST",
      agent,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers }
    }, (res) => {
      let data = ""
      res.setEncoding("utf8")
      res.on("data", (c) => (data += c))
      res.on("end", () => {
        const sessionId = res.headers["mcp-session-id"]
        resolve({
          status: res.statusCode ?? 0,
          sessionId: typeof sessionId === "string" ? sessionId : undefined,
          body: data
        })
      })
    })
    req.on("error", reject)
    req.end(body === undefined ? undefined : text)
  })

const start = (server: Server, mode: Mode) =>
  new Promise<{ pid: number; port: number; stop: () => void }>((resolve, reject) => {
    const child = spawn("node", [...server.args(mode)], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ...server.env }
    })
    child.stdout.setEncoding("utf8")
    child.stdout.once("data", (line: string) => {
      const port = Number(/listening (\d+)/.exec(line)?.[1])
      resolve({ pid: child.pid!, port, stop: () => child.kill() })
    })
    child.on("error", reject)
  })

const openSession = async (port: number, accept: string) => {
  const init = await post(port, { accept }, {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1" } }
  })
  if (init.status !== 200) throw new Error(`initialize failed: ${init.status} ${init.body}`)
  const headers: Record<string, string> = {
    accept,
    ...(init.sessionId !== undefined ? { "mcp-session-id": init.sessionId } : {}),
    "mcp-protocol-version": "2025-11-25"
  }
  await post(port, headers, { jsonrpc: "2.0", method: "notifications/initialized" })
  return headers
}

/** A 2026-07-28 request carries what a session would hold in its `_meta`, and headers that mirror its body. */
const MODERN_META_VERSION = "io.modelcontextprotocol/protocolVersion"
const MODERN_META = {
  [MODERN_META_VERSION]: "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" }
}

const modernHeaders = (accept: string, tool: string) => ({
  accept,
  "mcp-protocol-version": "2026-07-28",
  "mcp-method": "tools/call",
  "mcp-name": tool
})

const heap = async (port: number) => Number((await post(port, {}, undefined, "/__heap")).body)

/**
 * The server processes started so far, by server and arguments: the modes that a server tells apart by the request
 * alone (mcp-effect's, by their Accept header and body) share one process, so that a stateless call and a session
 * call are measured in turn on the same process, its heap and JIT state alike, rather than on two processes whose own
 * differences are as large as the figures compared.
 */
const started = new Map<string, ReturnType<typeof start>>()

const startShared = (server: Server, mode: Mode) => {
  const key = `${server.name} ${server.args(mode).join(" ")}`
  const process = started.get(key) ?? start(server, mode)
  started.set(key, process)
  return process
}

/** One server in one mode, warmed up and ready to be measured. */
const prepare = async (server: Server, mode: Mode) => {
  process.stderr.write(`${server.name} (${mode})...\n`)
  const { pid, port, stop } = await startShared(server, mode)
  const { [MODERN_META_VERSION]: version, ...claimless } = MODERN_META
  const headers = mode === "modern"
    ? modernHeaders(server.accept(mode), "echo")
    : mode === "payload"
    ? { ...(await openSession(port, server.accept(mode))), "mcp-method": "tools/call", "mcp-name": "echo" }
    : await openSession(port, server.accept(mode))
  let id = 1
  const params = mode === "streamed"
    ? { name: "echo-progress", arguments: { text: "hello world" }, _meta: { progressToken: "p" } }
    : mode === "modern"
    ? { name: "echo", arguments: { text: "hello world" }, _meta: MODERN_META }
    : mode === "payload"
    ? { name: "echo", arguments: { text: "hello world" }, _meta: { ...claimless, version } }
    : { name: "echo", arguments: { text: "hello world" } }
  const call = async () => {
    const began = performance.now()
    const reply = await post(port, headers, { jsonrpc: "2.0", id: id++, method: "tools/call", params })
    if (reply.status !== 200 || !reply.body.includes("hello world")) {
      throw new Error(`bad reply: ${reply.status} ${reply.body}`)
    }
    if (mode === "streamed" && !reply.body.includes("notifications/progress")) {
      throw new Error(`not streamed: ${reply.body}`)
    }
    return performance.now() - began
  }
  await measure(pid, WARMUP, IN_FLIGHT, call)
  return { name: server.name, mode, pid, call, stop, sequential: new Array<Phase>(), concurrent: new Array<Phase>() }
}
/** Heap growth per idle session: the slope over `count` sessions after as many for warm-up, with a forced GC each side. */
const heapPerSession = async (server: Server, count: number) => {
  const { port, stop } = await start(server, "json")
  // Warm up first, so that what the slope measures is sessions, not the JIT's code for opening them.
  for (let i = 0; i < count; i++) await openSession(port, server.accept("json"))
  const before = await heap(port)
  for (let i = 0; i < count; i++) await openSession(port, server.accept("json"))
  const after = await heap(port)
  stop()
  return (after - before) / count
}

const main = async () => {
  await bundle("bench/servers/effect-http.ts", ".bench/effect-http.mjs")
  await bundle("bench/servers/platform-floor.ts", ".bench/platform-floor.mjs")
  if (baseline !== undefined) {
    await bundle(`${baseline}/bench/servers/effect-http.ts`, ".bench/effect-http-baseline.mjs")
  }
  process.stdout.write(
    `HTTP tools/call: ${SEQUENTIAL} sequential, ${CONCURRENT} at ${IN_FLIGHT} in flight, median of ${ROUNDS} rounds\n\n`
  )
  const targets = []
  for (const server of servers) {
    if (ONLY_SERVERS !== undefined && !ONLY_SERVERS.includes(server.name) && server.name !== "bare node:http") continue
    for (const mode of server.modes) {
      if (ONLY_MODES === undefined || ONLY_MODES.includes(mode) || server.name === "bare node:http") {
        targets.push(await prepare(server, mode))
      }
    }
  }
  // Rounds go across every server in turn, so that whatever else the machine is doing meanwhile weighs on all alike.
  for (let round = 0; round < ROUNDS; round++) {
    process.stderr.write(`round ${round + 1} of ${ROUNDS}\n`)
    for (const target of targets) {
      target.sequential.push(await measure(target.pid, SEQUENTIAL, 1, target.call))
      target.concurrent.push(await measure(target.pid, CONCURRENT, IN_FLIGHT, target.call))
    }
  }
  for (const target of targets) target.stop()
  const results = targets.map((t) => ({
    name: t.name,
    mode: t.mode,
    sequential: median(t.sequential),
    concurrent: median(t.concurrent)
  }))
  // Every mode is divided by the bare node:http endpoint (which answers JSON): what a call costs above the floor.
  const floor = results.find((r) => r.name === "bare node:http")!
  process.stdout.write(tableHeader)
  for (const r of results) {
    process.stdout.write(tableRow(r.name, `${r.mode} sequential`, r.sequential, floor.sequential))
    process.stdout.write(tableRow(r.name, `${r.mode} ${IN_FLIGHT} in flight`, r.concurrent, floor.concurrent))
  }
  process.stdout.write("\nmcp-effect / official SDK, CPU per call (target ≤ 0.5x in json and sse):\n")
  for (const mode of ["json", "sse", "streamed"] as const) {
    const ours = results.find((r) => r.name === "mcp-effect" && r.mode === mode)
    const sdk = results.find((r) => r.name === "official SDK" && r.mode === mode)
    if (ours === undefined || sdk === undefined) continue
    process.stdout.write(
      `  ${mode.padEnd(8)} sequential ${(ours.sequential.cpuPerCall / sdk.sequential.cpuPerCall).toFixed(2)}x, ` +
        `${IN_FLIGHT} in flight ${(ours.concurrent.cpuPerCall / sdk.concurrent.cpuPerCall).toFixed(2)}x\n`
    )
  }
  process.stdout.write("\nstateless 2026-07-28 call / json call on a live session, CPU per call (target ≤ 1.00x):\n")
  for (const [name, mode] of [["mcp-effect", "modern"], ["baseline", "modern"], ["mcp-effect", "payload"]] as const) {
    const modern = results.find((r) => r.name === name && r.mode === mode)
    const session = results.find((r) => r.name === name && r.mode === "json")
    if (modern === undefined || session === undefined) continue
    process.stdout.write(
      `  ${(mode === "payload" ? `${name} (the session call with a modern payload)` : name).padEnd(10)} sequential ${
        (modern.sequential.cpuPerCall / session.sequential.cpuPerCall).toFixed(2)
      }x, ` +
        `${IN_FLIGHT} in flight ${(modern.concurrent.cpuPerCall / session.concurrent.cpuPerCall).toFixed(2)}x\n`
    )
  }
  if (ONLY_SERVERS !== undefined || ONLY_MODES !== undefined) return agent.destroy()
  const oursHeap = await heapPerSession(servers[0]!, SESSIONS)
  const sdkHeap = await heapPerSession(servers[1]!, SESSIONS)
  process.stdout.write(
    `\nheap per idle session (slope over ${SESSIONS} after ${SESSIONS} for warm-up, after GC): mcp-effect ${
      (oursHeap / 1024).toFixed(2)
    } KB, ` +
      `official SDK ${(sdkHeap / 1024).toFixed(2)} KB (target ≤ 2 KB)\n`
  )
  const { port, stop } = await start(servers[0]!, "json")
  let held = 0
  try {
    for (; held < MANY; held++) await openSession(port, servers[0]!.accept("json"))
    const check = await post(port, await openSession(port, servers[0]!.accept("json")), {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "hello world" } }
    })
    process.stdout.write(
      `${MANY.toLocaleString("en")} idle sessions in one mcp-effect process: ${
        check.status === 200 ? "held, and still serving" : `failed (${check.status})`
      }; ` +
        `heap ${((await heap(port)) / 1024 / 1024).toFixed(1)} MB\n`
    )
  } catch (e) {
    process.stdout.write(`${MANY} idle sessions: failed after ${held}: ${e instanceof Error ? e.message : String(e)}\n`)
  } finally {
    stop()
  }
  agent.destroy()
}

main()
