/**
 * `mcp-effect install`: adds a server module to an MCP host's configuration,
 * with absolute paths so that it starts from whatever working directory the
 * host launches it in.
 */
import { FileSystem, Path } from "@effect/platform"
import { Console, Effect } from "effect"
import { realpathSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { isRecord } from "../internal/guards.js"
import { CliError, describe } from "./CliError.js"
import { parseRef } from "./serverModule.js"

/** The hosts `install` knows how to configure. */
export const HOSTS = ["claude-desktop", "claude-code", "cursor", "vscode"] as const

/** One of {@link HOSTS}. */
export type Host = typeof HOSTS[number]

interface HostConfig {
  readonly title: string
  /** The configuration file, from the environment and the platform. */
  readonly file: (env: Environment) => string
  /** The key of the object of servers in that file. */
  readonly key: "mcpServers" | "servers"
  /** Hosts that read a `type` on each entry want `"stdio"`. */
  readonly typed: boolean
}

/** Where configuration lives: the home folder, and the platform's settings folder. */
interface Environment {
  readonly home: string
  readonly platform: NodeJS.Platform
  readonly appData: string | undefined
  readonly xdgConfigHome: string | undefined
}

const settingsFolder = (env: Environment, ...path: Array<string>): string => {
  switch (env.platform) {
    case "darwin":
      return join(env.home, "Library", "Application Support", ...path)
    case "win32":
      return join(env.appData ?? join(env.home, "AppData", "Roaming"), ...path)
    default:
      return join(env.xdgConfigHome ?? join(env.home, ".config"), ...path)
  }
}

const HOST_CONFIGS: Record<Host, HostConfig> = {
  "claude-desktop": {
    title: "Claude Desktop",
    file: (env) => settingsFolder(env, "Claude", "claude_desktop_config.json"),
    key: "mcpServers",
    typed: false
  },
  "claude-code": {
    title: "Claude Code",
    file: (env) => join(env.home, ".claude.json"),
    key: "mcpServers",
    typed: true
  },
  cursor: { title: "Cursor", file: (env) => join(env.home, ".cursor", "mcp.json"), key: "mcpServers", typed: false },
  vscode: {
    title: "VS Code",
    file: (env) => settingsFolder(env, "Code", "User", "mcp.json"),
    key: "servers",
    typed: true
  }
}

/** What `install` was asked. */
export interface InstallOptions {
  readonly module: string
  readonly host: Host
  readonly name: string | undefined
  readonly env: Record<string, string>
  readonly envFile: string | undefined
  readonly print: boolean
  readonly force: boolean
  /** This command line's own entry point, which the host will run. */
  readonly self: string
}

/** Writes (or with `print`, shows) the host's configuration entry for a server module. */
export const install = Effect.fn("cli.install")(function*(options: InstallOptions) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const ref = parseRef(options.module)
  if (!(yield* fs.exists(ref.file).pipe(Effect.orElseSucceed(() => false)))) {
    return yield* new CliError({ message: `no such file: ${ref.file}` })
  }
  const name = options.name ?? path.basename(ref.file).replace(/\.[^.]*$/, "")
  const fileEnv = options.envFile === undefined ? {} : yield* readEnvFile(options.envFile)
  const env = { ...fileEnv, ...options.env }
  const host = HOST_CONFIGS[options.host]
  const entry = {
    ...(host.typed ? { type: "stdio" } : {}),
    command: process.execPath,
    // Run the way this command runs (from a checkout, through tsx's loader flags).
    args: [
      ...process.execArgv,
      realPath(options.self),
      "run",
      ref.exportName === "default" ? ref.file : `${ref.file}:${ref.exportName}`
    ],
    ...(Object.keys(env).length > 0 ? { env } : {})
  }
  if (options.print) return yield* Console.log(JSON.stringify({ [host.key]: { [name]: entry } }, null, 2))
  if (/[\\/]_npx[\\/]/.test(options.self)) {
    yield* Console.error(
      "warning: mcp-effect runs from npx's cache; install it in your project (npm i mcp-effect) " +
        "so that the path written here stays valid"
    )
  }
  const file = host.file(environment())
  yield* writeEntry(file, host.key, name, entry, options.force)
  yield* Console.error(`Added "${name}" to ${host.title} (${file}). Restart ${host.title} to load it.`)
})

const environment = (): Environment => ({
  home: homedir(),
  platform: process.platform,
  appData: process.env.APPDATA || undefined,
  xdgConfigHome: process.env.XDG_CONFIG_HOME || undefined
})

const realPath = (file: string): string => {
  try {
    return realpathSync(file)
  } catch {
    return file
  }
}

/** Adds `entry` under `key` in a JSON file, keeping everything else in it; the file is replaced in one rename. */
const writeEntry = Effect.fn("cli.writeEntry")(function*(
  file: string,
  key: string,
  name: string,
  entry: unknown,
  force: boolean
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const existing = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false))
  const config = existing ? yield* readJsonObject(file) : {}
  const servers = config[key] ?? {}
  if (!isRecord(servers)) return yield* new CliError({ message: `${file}: "${key}" is not an object` })
  if (Object.hasOwn(servers, name) && !force) {
    return yield* new CliError({ message: `"${name}" is already in ${file}; pass --force to replace it` })
  }
  const updated = { ...config, [key]: { ...servers, [name]: entry } }
  const temporary = `${file}.${process.pid}.tmp`
  yield* fs.makeDirectory(path.dirname(file), { recursive: true }).pipe(
    Effect.zipRight(fs.writeFileString(temporary, JSON.stringify(updated, null, 2) + "\n")),
    Effect.zipRight(fs.rename(temporary, file)),
    Effect.mapError((error) => new CliError({ message: `cannot write ${file}: ${error.message}` }))
  )
})

const readJsonObject = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.mapError((error) => new CliError({ message: `cannot read ${file}: ${error.message}` })),
    Effect.flatMap((text) =>
      Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: (error) =>
          new CliError({
            message: `${file} is not plain JSON (${describe(error)}); add the entry by hand (see --print)`
          })
      })
    ),
    Effect.filterOrFail(isRecord, () => new CliError({ message: `${file} does not hold a JSON object` }))
  )

/**
 * Reads a dotenv file: `KEY=value` lines, `#` comments, an optional
 * `export `, and values in single or double quotes (double quotes know `\n`).
 */
export const readEnvFile = (file: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.mapError((error) => new CliError({ message: `cannot read ${file}: ${error.message}` })),
    Effect.flatMap((text) => parseEnv(file, text))
  )

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/

const parseEnv = (file: string, text: string) =>
  Effect.gen(function*() {
    const env: Record<string, string> = {}
    for (const [index, line] of text.split(/\r?\n/).entries()) {
      if (/^\s*(?:#.*)?$/.test(line)) continue
      const match = ENV_LINE.exec(line)
      if (match === null) return yield* new CliError({ message: `${file}:${index + 1}: expected KEY=value` })
      env[match[1]!] = unquote(match[2]!)
    }
    return env
  })

const unquote = (value: string): string => {
  const quoted = /^(['"])(.*)\1$/.exec(value)
  if (quoted === null) return value.replace(/\s+#.*$/, "")
  return quoted[1] === "\"" ? quoted[2]!.replace(/\\n/g, "\n").replace(/\\"/g, "\"") : quoted[2]!
}
