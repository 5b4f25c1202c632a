/**
 * Replays each attack of issue 8 ("Hold under hostile input and load") at full size against an mcp-effect server
 * in a child process on 127.0.0.1, one attack after another, and prints for each: the server's memory (RSS, heap and
 * buffers after a forced GC, before and after; peak RSS meanwhile; RSS does not shrink back when buffers are freed,
 * since the allocator keeps the pages for reuse), whether a legitimate client was served meanwhile (a
 * `tools/call` every 200 ms on its own session), and what the server logged as errors.
 *
 * The legitimate client connects from 127.0.0.2 (still loopback), so that the per-client session limit can tell it
 * from the attacker. The server runs with the default limits except where the output's first lines say otherwise:
 * shorter timeouts so that the whole run stays under about three minutes (the defaults are 30 s, 30 s and 60 s:
 * those attacks would simply last longer), and a per-client session limit, which is off by default.
 *
 *   npm run bench:abuse            (or: npx tsx bench/abuse.ts)
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import type { OutgoingHttpHeaders } from "node:http"
import net from "node:net"
import { performance } from "node:perf_hooks"

const CONFIG = {
  headersTimeout: "10 seconds",
  bodyTimeout: "10 seconds",
  unusedSessionTimeout: "15 seconds",
  maxSessionsPerClient: 1000
}

const LEGIT_ADDRESS = "127.0.0.2"
const MB = 1024 * 1024

// --- the server ---------------------------------------------------------------------------------------------------

const child = spawn(process.execPath, [
  "--expose-gc",
  "--import",
  "tsx",
  "bench/servers/abuse-server.ts",
  JSON.stringify(CONFIG)
], {
  stdio: ["ignore", "pipe", "pipe", "ipc"]
})
// Whatever happens, the run ends: by itself within four minutes, and never leaves the server behind.
const watchdog = setTimeout(() => {
  process.stderr.write("abuse bench: out of time\n")
  child.kill()
  process.exit(1)
}, 240_000)
process.on("exit", () => child.kill())
const { stderr, stdout } = child
if (stdout === null || stderr === null) throw new Error("the server's output is not piped")

let logged = 0
let loggedSample = ""
const countLogs = (text: string) => {
  for (const line of text.split("\n")) {
    if (/level=(ERROR|WARN|FATAL)|^\s+at |Error:/.test(line)) {
      logged++
      if (loggedSample === "") loggedSample = line.slice(0, 200)
    }
  }
}
stderr.setEncoding("utf8").on("data", countLogs)

const port = await new Promise<number>((resolve, reject) => {
  let text = ""
  stdout.setEncoding("utf8")
  const onData = (chunk: string) => {
    text += chunk
    const match = /listening (\d+)/.exec(text)
    if (match === null) return
    stdout.off("data", onData)
    stdout.on("data", countLogs)
    resolve(Number(match[1]))
  }
  stdout.on("data", onData)
  child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening: ${text}`)))
})

interface Memory {
  readonly rss: number
  readonly heapUsed: number
  /** Buffers (request bodies, socket backlogs) live outside the heap. */
  readonly arrayBuffers: number
}

const memory = () =>
  new Promise<Memory>((resolve) => {
    child.once("message", (message) => resolve(message as Memory))
    child.send("memory")
  })

const rssNow = () => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))
  return match ? Number(match[1]) * 1024 : 0
}

// --- HTTP ---------------------------------------------------------------------------------------------------------

const attacker = new Agent({ keepAlive: true, maxSockets: 64 })
const legit = new Agent({ keepAlive: true, maxSockets: 4 })

interface Reply {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly body: string
}

const JSON_AND_SSE = { accept: "application/json, text/event-stream", "content-type": "application/json" }

const send = (
  agent: Agent,
  options: { method?: string; headers?: OutgoingHttpHeaders; body?: string; timeout?: number }
) =>
  new Promise<Reply>((resolve) => {
    const body = options.body
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/mcp",
      method: options.method ?? "POST",
      agent,
      ...(agent === legit ? { localAddress: LEGIT_ADDRESS } : {}),
      headers: { ...(body === undefined ? {} : { "content-length": Buffer.byteLength(body) }), ...options.headers }
    }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (text += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      res.on("error", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.setTimeout(options.timeout ?? 30_000, () => req.destroy())
    req.on("error", (e) => resolve({ status: 0, headers: {}, body: e.message }))
    req.end(body)
  })

const rpc = (id: number | string, method: string, params?: unknown) =>
  JSON.stringify(params === undefined ? { jsonrpc: "2.0", id, method } : { jsonrpc: "2.0", id, method, params })

const openSession = async (agent: Agent, protocolVersion = "2025-11-25") => {
  const init = await send(agent, {
    headers: JSON_AND_SSE,
    body: rpc(0, "initialize", { protocolVersion, capabilities: {}, clientInfo: { name: "abuse", version: "1" } })
  })
  const id = init.headers["mcp-session-id"]
  if (typeof id !== "string") throw new Error(`initialize failed: ${init.status} ${init.body.slice(0, 200)}`)
  const headers = { ...JSON_AND_SSE, "mcp-session-id": id, "mcp-protocol-version": protocolVersion }
  await send(agent, { headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) })
  return headers
}

const endSession = (agent: Agent, headers: Record<string, string>) => send(agent, { method: "DELETE", headers })

/** Runs `count` tasks with at most `width` at once. */
const pool = async <A>(count: number, width: number, task: (index: number) => Promise<A>) => {
  const results = new Array<A>(count)
  let next = 0
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) {
      const index = next++
      results[index] = await task(index)
    }
  }))
  return results
}

const tally = (values: ReadonlyArray<string>) => {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return [...counts].map(([value, n]) => `${n} × ${value}`).join(", ")
}

/** "status code" of a JSON-RPC reply (the first error code in the body, or ok). */
const outcomeOf = (reply: Reply) => {
  const code = /"code":(-?\d+)/.exec(reply.body)?.[1]
  return `${reply.status} ${code ?? (reply.status === 200 ? "ok" : "")}`.trim()
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** A raw connection: writes what it is given, reads nothing unless asked, tells when the server closed it. */
const rawSocket = () => {
  const socket = net.connect(port, "127.0.0.1")
  let received = 0
  let head = ""
  let tail = ""
  let writeError: string | undefined
  socket.on("data", (chunk: Buffer) => {
    received += chunk.length
    if (head.length < 200) head += chunk.toString("latin1", 0, Math.min(chunk.length, 200))
    tail = (tail + chunk.toString("latin1", Math.max(0, chunk.length - 200))).slice(-200)
  })
  socket.on("error", (e) => (writeError ??= (e as NodeJS.ErrnoException).code ?? e.message))
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now())))
  return {
    socket,
    closed,
    write: (data: string | Buffer) =>
      new Promise<void>((resolve) =>
        socket.write(data, (error) => {
          if (error) writeError ??= (error as NodeJS.ErrnoException).code ?? error.message
          resolve()
        })
      ),
    get received() {
      return received
    },
    get head() {
      return head
    },
    get tail() {
      return tail
    },
    get writeError() {
      return writeError
    }
  }
}

const requestHead = (lines: ReadonlyArray<string>) =>
  [
    "POST /mcp HTTP/1.1",
    "Host: 127.0.0.1",
    "Content-Type: application/json",
    "Accept: application/json, text/event-stream",
    ...lines
  ]
    .join("\r\n") + "\r\n\r\n"

// --- the legitimate client ------------------------------------------------------------------------------------------

const legitHeaders = await openSession(legit)

/** Calls `add` every 200 ms until stopped: how many were served, and the slowest. */
const watchLegit = () => {
  let running = true
  let served = 0
  let failed = 0
  let slowest = 0
  let id = 0
  const loop = (async () => {
    while (running) {
      const began = performance.now()
      const reply = await send(legit, {
        headers: legitHeaders,
        body: rpc(++id, "tools/call", { name: "add", arguments: { a: 1, b: 2 } }),
        timeout: 10_000
      })
      slowest = Math.max(slowest, performance.now() - began)
      if (reply.status === 200 && reply.body.includes("\"result\":3")) served++
      else failed++
      await sleep(200)
    }
  })()
  return async () => {
    running = false
    await loop
    return { served, failed, slowest }
  }
}

// --- the report -----------------------------------------------------------------------------------------------------

const mb = (bytes: number) => `${(bytes / MB).toFixed(0)} MB`

interface Row {
  readonly name: string
  readonly outcome: string
  readonly before: Memory
  readonly peak: number
  readonly after: Memory
  readonly legit: { readonly served: number; readonly failed: number; readonly slowest: number }
  readonly logged: number
  readonly seconds: number
}

const rows: Array<Row> = []

const attack = async (name: string, description: string, run: () => Promise<string>) => {
  process.stdout.write(`\n### ${name}\n${description}\n`)
  const before = await memory()
  const loggedBefore = logged
  let peak = rssNow()
  const sampler = setInterval(() => (peak = Math.max(peak, rssNow())), 50)
  const stopLegit = watchLegit()
  const began = performance.now()
  const outcome = await run()
  const seconds = (performance.now() - began) / 1000
  const served = await stopLegit()
  // A moment for the server to finish closing what the attack left (its sockets' last events) before measuring.
  await sleep(1000)
  clearInterval(sampler)
  const after = await memory()
  const row: Row = { name, outcome, before, peak, after, legit: served, logged: logged - loggedBefore, seconds }
  rows.push(row)
  process.stdout.write(
    `- outcome: ${outcome}\n` +
      `- server memory: RSS ${mb(before.rss)} before, ${mb(peak)} at peak, ${mb(after.rss)} after; ` +
      `heap ${mb(before.heapUsed)} before, ${mb(after.heapUsed)} after; ` +
      `buffers ${mb(before.arrayBuffers)} before, ${mb(after.arrayBuffers)} after\n` +
      `- legitimate client meanwhile: ${served.served}/${served.served + served.failed} calls served, slowest ${
        served.slowest.toFixed(0)
      } ms\n` +
      `- server log: ${row.logged} error lines${row.logged > 0 ? ` (first: ${loggedSample})` : ""}\n` +
      `- took ${seconds.toFixed(1)} s\n`
  )
}

process.stdout.write(
  `mcp-effect abuse benchmark: server pid ${child.pid} on 127.0.0.1:${port}, Node ${process.version}\n` +
    `server options (the rest are defaults): ${JSON.stringify(CONFIG)}\n`
)

// --- 1. SSE flood with an unread client ---------------------------------------------------------------------------

await attack(
  "SSE flood with an unread client",
  "10 clients each call a tool that logs 60 MB on its SSE stream, read the headers, then read nothing for 8 s.",
  async () => {
    const headers = await openSession(attacker)
    const sockets = Array.from({ length: 10 }, (_, i) => {
      const s = rawSocket()
      s.socket.pause()
      void s.write(
        requestHead([
          `Mcp-Session-Id: ${headers["mcp-session-id"]}`,
          "MCP-Protocol-Version: 2025-11-25",
          "Connection: close",
          `Content-Length: ${Buffer.byteLength(rpc(i, "tools/call", { name: "flood" }))}`
        ]) +
          rpc(i, "tools/call", { name: "flood" })
      )
      return s
    })
    await sleep(8000)
    for (const s of sockets) s.socket.resume()
    await Promise.all(sockets.map((s) => s.closed))
    await endSession(attacker, headers)
    const complete = sockets.filter((s) => s.tail.includes("flooded")).length
    const read = sockets.map((s) => s.received / MB)
    return `${sockets.length - complete}/${sockets.length} responses dropped by the server (each client then read ` +
      `${Math.min(...read).toFixed(1)}–${
        Math.max(...read).toFixed(1)
      } MB of the 60 MB, then the end); ${complete} completed`
  }
)

// --- 2. Event-store eviction across sessions ----------------------------------------------------------------------

await attack(
  "Event-store eviction across sessions",
  "A victim leaves a result in the event store for a resumption; an attacker session then makes 10,064 calls that each leave one too.",
  async () => {
    const victim = await openSession(legit)
    const parked = await send(legit, { headers: victim, body: rpc("victim", "tools/call", { name: "detached" }) })
    const victimEvent = /^id: (\S+)/.exec(parked.body)?.[1] ?? ""
    const headers = await openSession(attacker)
    let first = ""
    const statuses = await pool(10_064, 32, async (i) => {
      const reply = await send(attacker, { headers, body: rpc(i, "tools/call", { name: "detached" }) })
      if (i === 0) first = /^id: (\S+)/.exec(reply.body)?.[1] ?? ""
      return String(reply.status)
    })
    const resume = (agent: Agent, h: Record<string, string>, lastEventId: string) =>
      send(agent, { method: "GET", headers: { ...h, accept: "text/event-stream", "last-event-id": lastEventId } })
    const mine = await resume(legit, victim, victimEvent)
    const theirs = await resume(attacker, headers, first)
    await endSession(attacker, headers)
    await endSession(legit, victim)
    return `attacker calls: ${tally(statuses)}; the victim's resumption: ${mine.status}` +
      `${mine.body.includes("kept result") ? " with its result" : " WITHOUT its result"}; ` +
      `the attacker's resumption of its first call: ${theirs.status} (${
        /no longer kept/.test(theirs.body) ? "no longer kept" : theirs.body.slice(0, 80)
      })`
  }
)

// --- 3. Slow headers ----------------------------------------------------------------------------------------------

await attack(
  "Slow headers",
  "500 connections send a request line, then one header byte a second.",
  async () => {
    const began = performance.now()
    const sockets = Array.from({ length: 500 }, () => {
      const s = rawSocket()
      void s.write("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
      const drip = setInterval(() => (s.socket.writable ? s.socket.write("x") : clearInterval(drip)), 1000)
      void s.closed.then(() => clearInterval(drip))
      return s
    })
    const closedAt = await Promise.all(sockets.map((s) => s.closed))
    const after = closedAt.map((t) => (t - began) / 1000)
    const answered408 = sockets.filter((s) => s.head.startsWith("HTTP/1.1 408")).length
    return `500/500 closed by the server ${Math.min(...after).toFixed(1)}–${
      Math.max(...after).toFixed(1)
    } s after they opened ` +
      `(${answered408} with 408)`
  }
)

// --- 4. Unfinished bodies -----------------------------------------------------------------------------------------

await attack(
  "Unfinished bodies",
  "300 connections each send 4 MiB less 4 KiB of a chunked body (just under maxBodyBytes), then stop.",
  async () => {
    const size = 4 * MB - 4096
    const chunk = Buffer.alloc(size, 0x20)
    const began = performance.now()
    const sockets = await pool(300, 300, async () => {
      const s = rawSocket()
      await s.write(requestHead(["Transfer-Encoding: chunked"]) + `${size.toString(16)}\r\n`)
      await s.write(chunk)
      return s
    })
    const sent = (performance.now() - began) / 1000
    const closedAt = await Promise.all(sockets.map((s) => s.closed))
    const after = closedAt.map((t) => (t - began) / 1000)
    return `${(300 * size / MB / 1024).toFixed(2)} GB sent in ${sent.toFixed(1)} s; 300/300 closed by the server ` +
      `${Math.min(...after).toFixed(1)}–${Math.max(...after).toFixed(1)} s after they started (${
        sockets.filter((s) => s.head.startsWith("HTTP/1.1 408")).length
      } with 408)`
  }
)

// --- 5. Over-long batches -----------------------------------------------------------------------------------------

await attack(
  "Over-long batch",
  "20 batches of 90,000 pings each (3.9 MB, under maxBodyBytes) on a 2025-03-26 session, 4 at a time.",
  async () => {
    const headers = await openSession(attacker, "2025-03-26")
    const batch = `[${Array.from({ length: 90_000 }, (_, i) => rpc(i, "ping")).join(",")}]`
    const outcomes = await pool(20, 4, async () => outcomeOf(await send(attacker, { headers, body: batch })))
    await endSession(attacker, headers)
    return tally(outcomes)
  }
)

// --- 6. Session-cap fill ------------------------------------------------------------------------------------------

await attack(
  "Session-cap fill",
  "One client sends 10,000 initializes, 64 at a time; a new client then opens a session; the attacker's unused sessions are left to expire.",
  async () => {
    const body = rpc(0, "initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "filler", version: "1" }
    })
    const outcomes = await pool(
      10_000,
      64,
      async () => String((await send(attacker, { headers: JSON_AND_SSE, body })).status)
    )
    const fresh = await send(legit, { headers: JSON_AND_SSE, body })
    const freshId = fresh.headers["mcp-session-id"]
    if (typeof freshId === "string") await endSession(legit, { ...JSON_AND_SSE, "mcp-session-id": freshId })
    const began = performance.now()
    let again: Reply
    do {
      await sleep(1000)
      again = await send(attacker, { headers: JSON_AND_SSE, body })
    } while (again.status === 429 && performance.now() - began < 60_000)
    const againId = again.headers["mcp-session-id"]
    if (typeof againId === "string") await endSession(attacker, { ...JSON_AND_SSE, "mcp-session-id": againId })
    return `attacker: ${tally(outcomes)}; a new client meanwhile: ${fresh.status}; ` +
      `the attacker's unused sessions expired ${
        ((performance.now() - began) / 1000).toFixed(0)
      } s later (its next initialize: ${again.status})`
  }
)

// --- 7. A 20 MiB body ---------------------------------------------------------------------------------------------

await attack(
  "20 MiB body",
  "20 clients each send a 20 MiB body in one go (Connection: close), without waiting for an answer.",
  async () => {
    const body = Buffer.alloc(20 * MB, 0x20)
    const sockets = await pool(20, 20, async () => {
      const s = rawSocket()
      await s.write(requestHead(["Connection: close", `Content-Length: ${body.length}`]))
      await s.write(body)
      await s.closed
      return s
    })
    const answered =
      sockets.filter((s) => s.head.startsWith("HTTP/1.1 413") && s.tail.includes("Payload Too Large")).length
    const errors = sockets.flatMap((s) => (s.writeError === undefined ? [] : [s.writeError]))
    return `${answered}/20 received the whole 413 with its JSON-RPC error; write errors: ${
      errors.length === 0 ? "none" : tally(errors)
    }`
  }
)

// --- 8. Deep nesting ----------------------------------------------------------------------------------------------

await attack(
  "Deep nesting",
  "300 requests with values nested 100,000 deep: prompts/get arguments, resources/unsubscribe params, a tools/list cursor.",
  async () => {
    const headers = await openSession(attacker)
    const deep = "[".repeat(100_000) + "]".repeat(100_000)
    const bodies = [
      `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"review","arguments":{"code":${deep}}}}`,
      `{"jsonrpc":"2.0","id":2,"method":"resources/unsubscribe","params":{"uri":${deep}}}`,
      `{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":${deep}}}`
    ]
    const outcomes = await pool(300, 8, async (i) => outcomeOf(await send(attacker, { headers, body: bodies[i % 3]! })))
    await endSession(attacker, headers)
    return tally(outcomes)
  }
)

// --- 9. Prototype names -------------------------------------------------------------------------------------------

await attack(
  "Prototype names",
  "1,000 requests naming inherited members (constructor, __proto__, toString...) as completion arguments, prompts, tools, methods.",
  async () => {
    const headers = await openSession(attacker)
    const names = ["constructor", "__proto__", "toString", "valueOf", "hasOwnProperty"]
    const shapes = (name: string): Array<[string, unknown]> => [
      ["completion/complete", { ref: { type: "ref/prompt", name: "review" }, argument: { name, value: "" } }],
      ["completion/complete", {
        ref: { type: "ref/resource", uri: "greeting://{name}" },
        argument: { name, value: "" }
      }],
      ["prompts/get", { name }],
      ["tools/call", { name, arguments: {} }],
      [name, {}]
    ]
    const requests = names.flatMap(shapes)
    const outcomes = await pool(1000, 16, async (i) => {
      const [method, params] = requests[i % requests.length]!
      const reply = await send(attacker, { headers, body: rpc(i, method, params) })
      return /"values":\[\]/.test(reply.body) ? `${reply.status} empty completion` : outcomeOf(reply)
    })
    await endSession(attacker, headers)
    return tally(outcomes)
  }
)

// --- summary ------------------------------------------------------------------------------------------------------

process.stdout.write(
  "\n| attack | RSS before → peak → after | heap before → after | buffers before → after | legitimate client served | server errors logged | time |\n" +
    "|---|---|---|---|---|---|---|\n" +
    rows.map((r) =>
      `| ${r.name} | ${mb(r.before.rss)} → ${mb(r.peak)} → ${mb(r.after.rss)} | ${mb(r.before.heapUsed)} → ${
        mb(r.after.heapUsed)
      } | ` +
      `${mb(r.before.arrayBuffers)} → ${mb(r.after.arrayBuffers)} | ` +
      `${r.legit.served}/${r.legit.served + r.legit.failed} (slowest ${
        r.legit.slowest.toFixed(0)
      } ms) | ${r.logged} | ${r.seconds.toFixed(1)} s |`
    ).join("\n") + "\n"
)

clearTimeout(watchdog)
child.kill()
process.exit(0)
