/**
 * What the client benchmark's client processes share: their configuration, the IPC protocol with bench/client.ts
 * (which reads each process's CPU from /proc around a phase) and the statistics of a phase.
 *
 * A client process connects, reports `ready` (with the pid of the stdio server it spawned), then runs each `run`
 * message's calls and answers with its latencies; on `stop` it closes and exits.
 */

/** How a client process reaches the server: it spawns it (stdio), or the server listens at `url` (HTTP). */
export type Config =
  | { readonly transport: "stdio"; readonly command: string; readonly args: ReadonlyArray<string> }
  | { readonly transport: "http"; readonly url: string }

export interface Run {
  readonly type: "run"
  readonly calls: number
  readonly inFlight: number
}

export interface Result {
  readonly type: "result"
  readonly elapsedMs: number
  readonly p50: number
  readonly p99: number
}

export const config: Config & {
  readonly protocolVersion: string
  /** Our client over HTTP: `StreamableHttpClient.connect` on fetch rather than `NodeHttp.connect`. */
  readonly fetch?: boolean
  /** The raw floor over HTTP: node:http with a keep-alive agent rather than `fetch` (`--diagnose`). */
  readonly nodeHttp?: boolean
} = JSON.parse(process.argv[2]!)

/** The tool call every client makes, and the text its answer must carry. */
export const TEXT = "hello world"

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** A phase's result from its latencies (ms) and its duration. */
export const summarize = (latencies: Array<number>, elapsedMs: number): Result => {
  latencies.sort((a, b) => a - b)
  return { type: "result", elapsedMs, p50: percentile(latencies, 0.5) * 1000, p99: percentile(latencies, 0.99) * 1000 }
}

/** `calls` calls, `inFlight` at a time, each timed: the plain-Promise loop of the SDK and raw clients. */
export const loop = async (run: Run, call: () => Promise<void>): Promise<Result> => {
  const latencies: Array<number> = []
  let issued = 0
  const worker = async () => {
    while (issued < run.calls) {
      issued++
      const began = performance.now()
      await call()
      latencies.push(performance.now() - began)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: run.inFlight }, worker))
  return summarize(latencies, performance.now() - start)
}

/** Answers the bench's messages: `run` phases, then `stop`. */
export const serve = (
  serverPid: number | undefined,
  phase: (run: Run) => Promise<Result>,
  stop: () => Promise<void>
) => {
  process.on("message", (message: Run | { readonly type: "stop" }) => {
    if (message.type === "run") {
      phase(message).then((result) => process.send!(result), fail)
    } else {
      stop().then(() => process.exit(0), fail)
    }
  })
  // The bench gone (it failed), this process goes too; a stdio server follows when its stdin closes.
  process.on("disconnect", () => process.exit(1))
  process.send!({ type: "ready", serverPid })
}

export const fail = (error: unknown) => {
  process.stderr.write(`client failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
}

export const check = (text: unknown) => {
  if (text !== TEXT) throw new Error(`bad answer: ${JSON.stringify(text)}`)
}
