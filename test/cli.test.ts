import { describe, expect, it, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { NodeStdio } from "mcp-effect/node"
import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { stripVTControlCharacters } from "node:util"
import { beforeAll } from "vitest"
import { BIN, build, cli, hasStack, start, tempDir } from "./cliHelpers.js"

const SERVER = resolve("test/fixtures/cli-server.ts")
const DEMO = resolve("examples/demo-server.ts")

beforeAll(build, 120_000)

describe("mcp-effect run", () => {
  it.scoped("serves a module's default export over stdio, from any working directory", () =>
    Effect.gen(function*() {
      const client = yield* NodeStdio.connect({ command: process.execPath, args: [BIN, "run", SERVER], cwd: tmpdir() })
      expect(client.serverInfo.name).toBe("cli-server")
      expect(yield* client.callTool("repeat", { text: "ab", times: 2 })).toMatchObject({
        content: [{ type: "text", text: "abab" }]
      })
    }))

  it.effect("keeps stdout for protocol: the module's console.log goes to stderr", () =>
    Effect.gen(function*() {
      const input = [
        {
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } }
        },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "repeat", arguments: { text: "x", times: 3 } } }
      ].map((m) => JSON.stringify(m)).join("\n") + "\n"
      // stdin ends after the input: the server answers what it read, then exits.
      const result = yield* cli(["run", SERVER], { input })
      expect(result.code).toBe(0)
      const lines = result.stdout.trim().split("\n").map((line) => JSON.parse(line))
      expect(lines.map((m) => m.id)).toEqual([1, 2])
      expect(lines[1].result.content[0].text).toBe("xxx")
      expect(result.stderr).toContain("cli-server loading")
      expect(result.stderr).toContain("repeat called")
    }))

  it.effect("serves a named export with file:Name", () =>
    Effect.gen(function*() {
      const result = yield* cli(["list", `${SERVER}:Small`, "--json"])
      expect(result.code).toBe(0)
      expect(JSON.parse(result.stdout).tools.map((t: { name: string }) => t.name)).toEqual(["repeat"])
    }))

  it.effect("serves Streamable HTTP with --http", () =>
    Effect.gen(function*() {
      const server = yield* start(["run", SERVER, "--http", "--port", "0"])
      const [, url] = yield* server.next(/listening on (http:\/\/\S+?)"/)
      const listed = yield* cli(["list", url!])
      expect(listed.stdout).toContain("repeat(text: string, times: integer, loud?: boolean)")
      const called = yield* cli(["call", url!, "repeat", "text=hi", "times=2"])
      expect(called.stdout.trim()).toBe("hihi")
    }).pipe(Effect.scoped))

  it.effect("says in one line what is wrong with a module, without a stack", () =>
    Effect.gen(function*() {
      const missing = yield* cli(["run", "no/such/file.ts"])
      expect(missing.code).toBe(1)
      expect(missing.stderr.trim()).toMatch(/^mcp-effect: no such file: .*no\/such\/file\.ts$/)
      const notLayer = yield* cli(["run", `${SERVER}:notALayer`])
      expect(notLayer.code).toBe(1)
      expect(notLayer.stderr).toContain(`has no Layer export "notALayer"; its layers: CliServer, Small`)
      expect(hasStack(missing.stderr + notLayer.stderr)).toBe(false)
    }))
})

/** The fixture served over HTTP once for the client commands: each command is then one process, with no server to start. */
class Served extends Context.Tag("test/Served")<Served, { readonly url: string }>() {}
const ServedLive = Layer.scoped(
  Served,
  Effect.gen(function*() {
    const server = yield* start(["run", SERVER, "--http", "--port", "0"])
    const [, url] = yield* server.next(/listening on (http:\/\/\S+?)"/)
    return { url: url! }
  }).pipe(Effect.orDie)
)

layer(ServedLive, { timeout: 60_000 })("mcp-effect list, call, read, prompt", (it) => {
  it.effect("lists what a module offers, as text and as JSON", () =>
    Effect.gen(function*() {
      // A module as the server: the command runs it with `mcp-effect run`.
      const text = yield* cli(["list", DEMO])
      expect(text.code).toBe(0)
      expect(text.stdout).toContain("Tools (2)\n  add(a: number, b: number)  Add two numbers")
      expect(text.stdout).toContain("Resource templates (1)\n  greeting://{name}  A personalized greeting")
      expect(text.stdout).toContain("Prompts (1)\n  review_code(code, language?)  Ask for a code review")
      const json = JSON.parse((yield* cli(["list", DEMO, "--json"])).stdout)
      expect(json.resources.map((r: { uri: string }) => r.uri)).toEqual(["demo://about"])
    }))

  it.effect("calls a tool with key=value arguments typed by its schema, or --json-args", () =>
    Effect.gen(function*() {
      const { url } = yield* Served
      const typed = yield* cli(["call", url, "repeat", "text=7", "times=2", "loud=true"])
      expect(typed.stdout.trim()).toBe("77")
      const json = yield* cli(["call", url, "repeat", "--json-args", "{\"text\":\"a\",\"times\":3}", "--json"])
      expect(JSON.parse(json.stdout)).toMatchObject({ content: [{ type: "text", text: "aaa" }] })
      const bad = yield* cli(["call", url, "repeat", "text=a", "times=many"])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toBe("mcp-effect: times=many: not a valid integer\n")
    }))

  it.effect("fails with the tool's message when the tool fails", () =>
    Effect.gen(function*() {
      const { url } = yield* Served
      const result = yield* cli(["call", url, "fail"])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain("mcp-effect: fail failed: the disk is full")
      const unknown = yield* cli(["call", url, "nope"])
      expect(unknown.stderr).toContain("no tool \"nope\"; the server has: repeat, fail, steps")
    }))

  it.effect("sends the server's log messages to stderr, and the result alone to stdout", () =>
    Effect.gen(function*() {
      const { url } = yield* Served
      const result = yield* cli(["call", url, "steps", "n=3", "--server-log-level", "info"])
      expect(result.code).toBe(0)
      expect(result.stdout).toBe("3 steps\n")
      expect(result.stderr).toContain("[info] steps done")
    }))

  it.effect("reads resources and gets prompts", () =>
    Effect.gen(function*() {
      const { url } = yield* Served
      expect((yield* cli(["read", url, "note://7"])).stdout).toBe("note 7\n")
      const prompt = yield* cli(["prompt", url, "greet", "name=Ada"])
      expect(prompt.stdout).toBe("[user]\nSay hello to Ada\n")
      const missing = yield* cli(["read", url, "other://x"])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/^mcp-effect: resources\/read other:\/\/x failed: /m)
    }))

  it.effect("spawns a command line as the server", () =>
    Effect.gen(function*() {
      const result = yield* cli([
        "call",
        `'${process.execPath}' '${BIN}' run '${SERVER}'`,
        "repeat",
        "text=q",
        "times=1"
      ])
      expect(result.stdout.trim()).toBe("q")
      const missing = yield* cli(["list", "no-such-command-here"])
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/^mcp-effect: cannot connect to no-such-command-here: .*ENOENT/)
    }))
})

describe("mcp-effect --help and usage errors", () => {
  it.effect("prints help for every command", () =>
    Effect.forEach(["run", "dev", "install", "list", "call", "read", "prompt"], (command) =>
      Effect.gen(function*() {
        const result = yield* cli([command, "--help"])
        expect(result.code).toBe(0)
        expect(stripVTControlCharacters(result.stdout)).toContain(`USAGE\n\n$ ${command} `)
      })))

  it.effect("refuses an unknown option with a non-zero exit and no stack", () =>
    Effect.gen(function*() {
      const result = yield* cli(["run", "--bogus", SERVER])
      expect(result.code).not.toBe(0)
      expect(hasStack(result.stderr)).toBe(false)
    }))
})

describe("mcp-effect install", () => {
  it.scoped("writes each host's configuration, with absolute paths that work from any directory", () =>
    Effect.gen(function*() {
      const home = yield* tempDir()
      const env = { HOME: home, XDG_CONFIG_HOME: "" }
      const envFile = join(home, "server.env")
      writeFileSync(envFile, "# settings\nAPI_URL=https://example.test\nexport TOKEN=\"a b\"\n")
      const result = yield* cli(
        [
          "install",
          "test/fixtures/cli-server.ts",
          "--client",
          "claude-desktop",
          "--env",
          "MODE=dev",
          "--env-file",
          envFile
        ],
        { env }
      )
      expect(result.code).toBe(0)
      const file = join(home, ".config", "Claude", "claude_desktop_config.json")
      const entry = JSON.parse(readFileSync(file, "utf8")).mcpServers["cli-server"]
      expect(entry).toEqual({
        command: process.execPath,
        args: [BIN, "run", SERVER],
        env: { API_URL: "https://example.test", TOKEN: "a b", MODE: "dev" }
      })
      // The host's command, started from another directory, serves the module.
      const client = yield* NodeStdio.connect({ command: entry.command, args: entry.args, cwd: "/", env: entry.env })
      expect(yield* client.callTool("repeat", { text: "ok", times: 1 })).toMatchObject({ content: [{ text: "ok" }] })
    }))

  it.scoped("keeps the rest of the file, and replaces an entry only with --force", () =>
    Effect.gen(function*() {
      const home = yield* tempDir()
      const file = join(home, ".claude.json")
      writeFileSync(file, JSON.stringify({ theme: "dark", mcpServers: { other: { command: "x" } } }))
      const args = ["install", SERVER, "--client", "claude-code", "--name", "mine"]
      expect((yield* cli(args, { env: { HOME: home } })).code).toBe(0)
      const again = yield* cli(args, { env: { HOME: home } })
      expect(again.code).toBe(1)
      expect(again.stderr).toContain(`"mine" is already in ${file}; pass --force to replace it`)
      expect((yield* cli([...args, "--force"], { env: { HOME: home } })).code).toBe(0)
      const config = JSON.parse(readFileSync(file, "utf8"))
      expect(config.theme).toBe("dark")
      expect(Object.keys(config.mcpServers)).toEqual(["other", "mine"])
      expect(config.mcpServers.mine).toMatchObject({ type: "stdio", command: process.execPath })
    }))

  it.scoped("writes Cursor's and VS Code's files, and prints instead of writing with --print", () =>
    Effect.gen(function*() {
      const home = yield* tempDir()
      const env = { HOME: home, XDG_CONFIG_HOME: "" }
      yield* cli(["install", SERVER, "--client", "cursor"], { env })
      yield* cli(["install", SERVER, "--client", "vscode"], { env })
      expect(JSON.parse(readFileSync(join(home, ".cursor", "mcp.json"), "utf8")).mcpServers["cli-server"]).toBeDefined()
      const vscode = JSON.parse(readFileSync(join(home, ".config", "Code", "User", "mcp.json"), "utf8"))
      expect(vscode.servers["cli-server"]).toMatchObject({ type: "stdio", args: [BIN, "run", SERVER] })
      const printed = yield* cli(["install", SERVER, "--client", "claude-desktop", "--print"], { env })
      expect(JSON.parse(printed.stdout).mcpServers["cli-server"].args).toEqual([BIN, "run", SERVER])
      expect(() => readFileSync(join(home, ".config", "Claude", "claude_desktop_config.json"))).toThrow()
    }))
})

describe("mcp-effect dev", () => {
  it.scoped("restarts the server on the same port when a file it loaded changes", () =>
    Effect.gen(function*() {
      // Inside the repository, so that the module's "mcp-effect" import resolves as a user's would.
      const folder = yield* tempDir("mcp-effect-dev-", resolve("test"))
      const file = join(folder, "server.ts")
      copyFileSync(SERVER, file)
      const dev = yield* start(["dev", file, "--port", "0", "--no-inspector"])
      const [, url] = yield* dev.next(/serving (http:\/\/\S+)/)
      const before = JSON.parse((yield* cli(["list", url!, "--json"])).stdout)
      expect(before.tools[0].description).toBe("Repeats a text")
      writeFileSync(file, readFileSync(file, "utf8").replace("Repeats a text", "Repeats a text, again"))
      yield* dev.next(/server\.ts changed, restarting/)
      const [, again] = yield* dev.next(/serving (http:\/\/\S+)/)
      expect(again).toBe(url)
      const after = JSON.parse((yield* cli(["list", url!, "--json"])).stdout)
      expect(after.tools[0].description).toBe("Repeats a text, again")
    }))

  it.scoped("waits for a fix when the module fails to load, and stops its server with itself", () =>
    Effect.gen(function*() {
      const folder = yield* tempDir("mcp-effect-dev-", resolve("test"))
      const file = join(folder, "server.ts")
      writeFileSync(file, "export default 1\n")
      const dev = yield* start(["dev", file, "--port", "0", "--no-inspector"])
      yield* dev.next(/has no default export that is a Layer/)
      yield* dev.next(/the server exited \(code 1\); waiting for a change/)
      copyFileSync(SERVER, file)
      const [, url] = yield* dev.next(/serving (http:\/\/\S+)/)
      expect((yield* cli(["call", url!, "repeat", "text=x", "times=2"])).stdout).toBe("xx\n")
      dev.child.kill("SIGTERM")
      yield* Effect.promise(() => dev.exited)
      const gone = yield* cli(["list", url!])
      expect(gone.code).toBe(1)
    }))
})
