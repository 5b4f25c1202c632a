/**
 * What `bench/handler.ts` runs, bundled: the Streamable HTTP handler's own CPU
 * per call, in process and without sockets: one prebuilt `tools/call` replayed into `StreamableHttp.makeHandler`
 * (each is answered before the next starts: the handler fiber ends
 * synchronously), so that what is measured is the server's work alone, not
 * the client's nor the kernel's. Three requests: on a live handshake-era
 * session; the same carrying a modern request's `_meta` and headers (which
 * the session ignores: the cost of the payload alone); and a stateless
 * 2026-07-28 request. The median of 5 rounds, in which the requests take
 * turns in blocks of 1,000 calls; and the median of the rounds' modern ÷
 * session ratios. `--only a,b` measures only
 * the requests named (for a profile of one path).
 */
import { Effect, Layer, Schema } from "effect"
import { McpServer, StreamableHttp } from "mcp-effect"

const args = process.argv.slice(2)
/** A `--name VALUE` flag (common.js is not bundled here: it imports esbuild). */
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? undefined : args[i + 1]
}

const CALLS = Number(flag("calls") ?? 100_000)
const ONLY = flag("only")?.split(",")
const ROUNDS = 5
/** Calls of one request before the next takes its turn. */
const BLOCK = 1000

const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
const Server = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "bench", version: "1" })))

const ACCEPT = "application/json, text/event-stream"
const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1" }
}
const ECHO = { name: "echo", arguments: { text: "hello world" } }

const main = Effect.gen(function*() {
  const handle = yield* StreamableHttp.makeHandler({ maxRequestsPerSession: 1000 })
  /** One request, built once; `send` runs it through the handler and checks its answer. */
  const prepared = (headers: Record<string, string>, body: unknown) => {
    const text = JSON.stringify(body)
    const all: Record<string, string> = {
      "content-type": "application/json",
      host: "127.0.0.1",
      accept: ACCEPT,
      ...headers
    }
    const exchange: StreamableHttp.Exchange = {
      method: "POST",
      header: (name) => all[name],
      remoteAddress: "127.0.0.1",
      body: (_max, done) => done(text)
    }
    let last: StreamableHttp.Reply | undefined
    const reply = (answer: StreamableHttp.Reply) => {
      last = answer
    }
    /** The answer given since the last take, if any. */
    const take = (): StreamableHttp.Reply | undefined => {
      const answer = last
      last = undefined
      return answer
    }
    return () => {
      handle(exchange, reply)
      const answer = take()
      if (answer?._tag !== "Full" || answer.status !== 200 || !answer.body.includes("hello world")) {
        throw new Error(`bad or late answer: ${JSON.stringify(answer)}`)
      }
    }
  }
  const initialize = yield* Effect.async<StreamableHttp.Reply>((resume) =>
    handle({
      method: "POST",
      header: (name) => ({ "content-type": "application/json", host: "127.0.0.1", accept: ACCEPT } as const)[name],
      body: (_max, done) =>
        done(JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "1" } }
        }))
    }, (reply) => resume(Effect.succeed(reply)))
  )
  const sessionId = initialize.headers["mcp-session-id"] ?? ""
  const session = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" }
  const mirrored = { "mcp-method": "tools/call", "mcp-name": "echo" }
  const { ["io.modelcontextprotocol/protocolVersion"]: _, ...claimless } = META
  const requests = {
    "session": prepared(session, { jsonrpc: "2.0", id: 1, method: "tools/call", params: ECHO }),
    "session + payload": prepared({ ...session, ...mirrored }, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { ...ECHO, _meta: { ...claimless, version: "2026-07-28" } }
    }),
    "modern": prepared({ "mcp-protocol-version": "2026-07-28", ...mirrored }, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { ...ECHO, _meta: META }
    })
  }
  /** CPU µs spent on `calls` calls. */
  const measure = (send: () => void, calls: number) => {
    const before = process.cpuUsage()
    for (let i = 0; i < calls; i++) send()
    const used = process.cpuUsage(before)
    return used.user + used.system
  }
  const measured = Object.entries(requests).filter(([name]) => ONLY === undefined || ONLY.includes(name))
  for (const [, send] of measured) measure(send, CALLS / 2)
  const figures = new Map<string, Array<number>>()
  const ratios: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    // The requests take turns in blocks of BLOCK calls, so that the load of a shared machine falls on each alike.
    const used = new Map(measured.map(([name]) => [name, 0]))
    for (let done = 0; done < CALLS; done += BLOCK) {
      for (const [name, send] of measured) used.set(name, used.get(name)! + measure(send, BLOCK))
    }
    for (const [name, micros] of used) figures.set(name, [...figures.get(name) ?? [], micros / CALLS])
    const [session, modern] = [used.get("session"), used.get("modern")]
    if (session !== undefined && modern !== undefined) ratios.push(modern / session)
  }
  const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  process.stdout.write(
    `Streamable HTTP handler, in process: CPU µs per call, median of ${ROUNDS} rounds of ${CALLS} (interleaved)\n`
  )
  for (const [name, values] of figures) process.stdout.write(`  ${name.padEnd(18)} ${median(values).toFixed(2)}\n`)
  if (ratios.length > 0) process.stdout.write(`  modern ÷ session   ${median(ratios).toFixed(2)}x\n`)
})

Effect.runPromise(Effect.scoped(main.pipe(Effect.provide(Server))))
