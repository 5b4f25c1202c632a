/**
 * The `<server>` of the client commands: an `http(s)://` URL, a server
 * module (a file this command line runs), or a command to spawn.
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import type * as McpClient from "../McpClient.js"
import * as NodeStdio from "../node/NodeStdio.js"
import * as StreamableHttpClient from "../StreamableHttpClient.js"
import { CliError } from "./CliError.js"
import { parseRef } from "./serverModule.js"
import { version } from "./version.js"

/** How the client commands reach a server. */
export interface ConnectOptions {
  readonly headers: Record<string, string>
  readonly timeoutSeconds: number
  /** This command line's own entry point, to run server modules with. */
  readonly self: string
}

const MODULE_EXTENSION = /\.(?:[cm]?[jt]s|tsx)$/

/** Connects to `server` for the life of the scope. */
export const connect = (server: string, options: ConnectOptions) => {
  const clientOptions: McpClient.Options = {
    clientInfo: { name: "mcp-effect-cli", version },
    requestOptions: { timeout: `${options.timeoutSeconds} seconds`, resetTimeoutOnProgress: true }
  }
  const connected = /^https?:\/\//i.test(server)
    ? StreamableHttpClient.connect(server, { ...clientOptions, http: { headers: options.headers } })
    : Effect.flatMap(spawnOptions(server, options.self), (spawn) => NodeStdio.connect(spawn, clientOptions))
  return connected.pipe(
    Effect.timeoutFail({
      duration: `${options.timeoutSeconds} seconds`,
      onTimeout: () => new CliError({ message: `${server} did not answer initialize in ${options.timeoutSeconds} s` })
    }),
    Effect.mapError((error) =>
      error._tag === "CliError" ? error : new CliError({ message: `cannot connect to ${server}: ${error.message}` })
    )
  )
}

/**
 * A lone existing module file runs through `mcp-effect run`; anything else is a command line. Either gets this
 * process's whole environment, as a command run from the shell does (a host would pass only a safe few).
 */
const spawnOptions = (server: string, self: string): Effect.Effect<NodeStdio.SpawnOptions, CliError> => {
  const words = splitCommand(server)
  if (words === undefined) return Effect.fail(new CliError({ message: `unclosed quote in ${server}` }))
  const only = words.length === 1 ? words[0]! : undefined
  if (only !== undefined && MODULE_EXTENSION.test(parseRef(only).file) && existsSync(parseRef(only).file)) {
    return Effect.succeed({
      command: process.execPath,
      args: [...process.execArgv, self, "run", only],
      env: process.env
    })
  }
  const [command = "", ...args] = words
  return Effect.succeed({ command, args, env: process.env })
}

/**
 * Splits a command line the way a POSIX shell splits words: whitespace
 * separates, single quotes keep everything, double quotes and backslashes
 * keep what they quote. Nothing is expanded. `undefined` when a quote is
 * left open.
 */
const splitCommand = (line: string): Array<string> | undefined => {
  const words: Array<string> = []
  let word: string | undefined
  let quote: "'" | "\"" | undefined
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!
    if (quote === "'") {
      if (char === "'") quote = undefined
      else word += char
    } else if (char === "\\" && i + 1 < line.length && (quote === undefined || "\"\\$`".includes(line[i + 1]!))) {
      word = (word ?? "") + line[++i]
    } else if (quote === "\"") {
      if (char === "\"") quote = undefined
      else word += char
    } else if (char === "'" || char === "\"") {
      quote = char
      word ??= ""
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else {
      word = (word ?? "") + char
    }
  }
  if (quote !== undefined) return undefined
  if (word !== undefined) words.push(word)
  return words
}
