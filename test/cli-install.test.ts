import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { NodeStdio } from "mcp-effect/node"
import { readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { BIN, cli, tempDir } from "./cliHelpers.js"

const SERVER = resolve("test/fixtures/cli-server.ts")

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
