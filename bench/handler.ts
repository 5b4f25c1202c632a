/**
 * The Streamable HTTP handler's own CPU per call, in process and without
 * sockets (`bench/servers/handler-loop.ts`): a call on a live handshake-era
 * session, the same carrying a modern request's payload, and a stateless
 * 2026-07-28 call. Bundled to plain JavaScript first, as the other
 * benchmarks' servers are: under tsx, every closure made per request also
 * pays for the loader's `keepNames` helper, which weighed on the modern path
 * (more closures per request) by about 3 µs a call.
 *
 * With `--baseline DIR`, the same loop also runs against another checkout's
 * `src/` (an earlier commit), in a process of its own after ours.
 *
 *   npx tsx bench/handler.ts [--calls N] [--only session,modern] [--baseline DIR] [--cpu-prof-dir=DIR]
 */
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { resolve } from "node:path"
import { baseline } from "./common.js"

const LOOP = "bench/servers/handler-loop.ts"

/** Bundles the loop, with `mcp-effect` from `src` (ours, or the baseline's). */
const bundleLoop = async (outfile: string, src?: string) => {
  await build({
    entryPoints: [LOOP],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["effect", "@effect/*", "yaml", "ajv", "ajv/*"],
    ...(src === undefined ? {} : { alias: { "mcp-effect": resolve(src, "src/index.ts") } }),
    logLevel: "warning"
  })
}

const args = process.argv.slice(2)
const baselineAt = args.indexOf("--baseline")
const rest = baselineAt === -1 ? args : args.filter((_, i) => i !== baselineAt && i !== baselineAt + 1)
const nodeFlags = rest.filter((arg) => arg.startsWith("--cpu-prof") || arg === "--expose-gc")
const own = rest.filter((arg) => !nodeFlags.includes(arg))
const run = (file: string, label: string) => {
  process.stdout.write(`${label}\n`)
  return spawnSync("node", [...nodeFlags, file, ...own], { stdio: "inherit" }).status ?? 1
}

await bundleLoop(".bench/handler-loop.mjs")
let status = run(".bench/handler-loop.mjs", "mcp-effect (this checkout)")
if (baseline !== undefined) {
  await bundleLoop(".bench/handler-loop-baseline.mjs", baseline)
  status ||= run(".bench/handler-loop-baseline.mjs", `baseline (${baseline})`)
}
process.exitCode = status
