/**
 * Loading a server module: a TypeScript or JavaScript file whose default
 * export (or the export named after a colon, `server.ts:Server`) is the
 * server layer, imported through tsx so that `.ts` runs without a build.
 */
import { Effect, Layer } from "effect"
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { register } from "tsx/esm/api"
import type * as McpServer from "../McpServer.js"
import { CliError, describe } from "./CliError.js"

/** A module reference as typed: a file and the export that holds the server layer. */
export interface ServerModuleRef {
  readonly file: string
  readonly exportName: string
}

/** Splits `file[:export]`; a drive letter (`C:\…`) is not an export. */
export const parseRef = (input: string): ServerModuleRef => {
  const colon = input.lastIndexOf(":")
  if (colon > 1 && !/[\\/]/.test(input.slice(colon + 1))) {
    return { file: resolve(input.slice(0, colon)), exportName: input.slice(colon + 1) }
  }
  return { file: resolve(input), exportName: "default" }
}

/**
 * The nearest tsconfig.json above `file`: the file's own project settings
 * (path aliases included) apply whatever the working directory a host
 * launches the server from.
 */
const nearestTsconfig = (file: string): string | false => {
  for (let dir = dirname(file);; dir = dirname(dir)) {
    const candidate = join(dir, "tsconfig.json")
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return false
  }
}

/**
 * Imports a server module and returns its server layer. `onImport` hears of
 * every file the module loads (the dev command watches them).
 */
export const load = Effect.fn("ServerModule.load")(function*(
  ref: ServerModuleRef,
  onImport?: (url: string) => void
) {
  if (!existsSync(ref.file)) return yield* new CliError({ message: `no such file: ${ref.file}` })
  const api = register({
    namespace: "mcp-effect",
    tsconfig: nearestTsconfig(ref.file),
    ...(onImport ? { onImport } : {})
  })
  const module = yield* Effect.tryPromise({
    try: (): Promise<Record<string, unknown>> => api.import(pathToFileURL(ref.file).href, import.meta.url),
    catch: (cause) => new CliError({ message: `cannot load ${ref.file}: ${describe(cause)}` })
  })
  const exported = module[ref.exportName]
  if (!Layer.isLayer(exported)) {
    return yield* new CliError({ message: missingLayer(ref, module) })
  }
  // A layer that provides the server is all we can check before building it.
  return exported as Layer.Layer<McpServer.McpServer, unknown, never>
})

const missingLayer = (ref: ServerModuleRef, module: Record<string, unknown>): string => {
  const layers = Object.keys(module).filter((name) => name !== "default" && Layer.isLayer(module[name]))
  const what = ref.exportName === "default"
    ? "has no default export that is a Layer"
    : `has no Layer export "${ref.exportName}"`
  const hint = layers.length > 0
    ? `; its layers: ${layers.join(", ")} (run ${ref.file}:${layers[0]})`
    : "; export your server layer (McpServer.layer with its tools) as default"
  return `${ref.file} ${what}${hint}`
}
