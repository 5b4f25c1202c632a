/** What the stdio and HTTP benchmarks share: flags, /proc readings, statistics and the bundling step. */
import { build } from "esbuild"
import { readFileSync } from "node:fs"

const args = process.argv.slice(2)

/** A numeric `--name N` flag. */
export const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(args[i + 1])
}

/** A string `--name VALUE` flag. */
export const stringFlag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i === -1 ? undefined : args[i + 1]
}

/**
 * `--baseline DIR`: another checkout of this repository (an earlier commit, say) whose bench server is measured as
 * "baseline" in the same run, beside today's, so that a change is judged against the same noise.
 */
export const baseline = stringFlag("baseline")

const TICK_MICROS = 1e6 / 100 // USER_HZ is 100 on Linux

/** A process's user + system CPU time so far, in microseconds. */
export const cpuMicros = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS
}

export const peakRssMb = (pid: number) => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match ? Number(match[1]) / 1024 : NaN
}

export interface Phase {
  readonly throughput: number
  readonly p50: number
  readonly p99: number
  readonly cpuPerCall: number
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** Runs `calls` calls with `inFlight` at a time, measuring the server process's CPU. */
export const measure = async (
  pid: number,
  calls: number,
  inFlight: number,
  call: () => Promise<number>
): Promise<Phase> => {
  const latencies: Array<number> = []
  const cpuBefore = cpuMicros(pid)
  const start = performance.now()
  let issued = 0
  const worker = async () => {
    while (issued < calls) {
      issued++
      latencies.push(await call())
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  const elapsed = performance.now() - start
  const cpu = cpuMicros(pid) - cpuBefore
  latencies.sort((a, b) => a - b)
  return {
    throughput: calls / (elapsed / 1000),
    p50: percentile(latencies, 0.5) * 1000,
    p99: percentile(latencies, 0.99) * 1000,
    cpuPerCall: cpu / calls
  }
}

/** The median of each figure over the rounds, to damp noise (whatever figures a phase has). */
export const median = <K extends string>(phases: ReadonlyArray<Readonly<Record<K, number>>>): Record<K, number> => {
  const result: Partial<Record<K, number>> = {}
  for (const figure of Object.keys(phases[0]!) as Array<K>) {
    const values = phases.map((p) => p[figure]).sort((a, b) => a - b)
    result[figure] = values[Math.floor(values.length / 2)]!
  }
  // Every figure of the first phase was set above.
  return result as Record<K, number>
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9)

export const tableHeader =
  "server             | mode                  |  calls/s  |  p50 µs   |  p99 µs   | CPU µs/call | ÷ bare floor\n" +
  "-------------------|-----------------------|-----------|-----------|-----------|-------------|-------------\n"

/** A row; `floor` is the bare floor's phase of the same run and concurrency, whose CPU per call each row is divided by. */
export const tableRow = (name: string, mode: string, phase: Phase, floor: Phase) =>
  `${name.padEnd(19)}| ${mode.padEnd(21)} |${fmt(phase.throughput)}  |${fmt(phase.p50)}  |${fmt(phase.p99)}  |${
    fmt(phase.cpuPerCall, 1)
  }   | ${(phase.cpuPerCall / floor.cpuPerCall).toFixed(2)}x\n`

/**
 * Bundles one of our TypeScript bench servers to plain JavaScript (as the SDK ships), so that no loader runs in
 * the measured process. Effect itself stays in node_modules, and so do our other dependencies (yaml is CommonJS,
 * which an ESM bundle cannot `require`).
 */
export const bundle = async (entry: string, outfile: string, external: ReadonlyArray<string> = []) => {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // CommonJS dependencies (yaml, ajv, OpenTelemetry) stay outside the ESM bundle, which cannot require Node's built-ins.
    external: ["effect", "@effect/*", "@opentelemetry/*", "yaml", "ajv", "ajv/*", ...external],
    logLevel: "warning"
  })
}
