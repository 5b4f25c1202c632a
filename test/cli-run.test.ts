import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { NodeStdio } from "mcp-effect/node"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { stripVTControlCharacters } from "node:util"
import { BIN, cli, hasStack, start } from "./cliHelpers.js"

const SERVER = resolve("test/fixtures/cli-server.ts")

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
      expect(notLayer.stderr).toContain(`has no Layer export "notALayer"; its layers: CliServer, Small, Unserved`)
      const unserved = yield* cli(["run", `${SERVER}:Unserved`])
      expect(unserved.stderr).toContain("mcp-effect: the layer does not provide McpServer: merge its tools into")
      expect(hasStack(missing.stderr + notLayer.stderr + unserved.stderr)).toBe(false)
    }))
})

describe("mcp-effect --help and usage errors", () => {
  // Seven processes, two at a time: seconds each on a loaded machine, hence a timeout of its own.
  it.effect(
    "prints help for every command",
    () =>
      Effect.forEach(["run", "dev", "install", "list", "call", "read", "prompt"], (command) =>
        Effect.gen(function*() {
          const result = yield* cli([command, "--help"])
          expect(result.code).toBe(0)
          expect(stripVTControlCharacters(result.stdout)).toContain(`USAGE\n\n$ ${command} `)
        }), { concurrency: 2 }),
    120_000
  )

  it.effect("refuses an unknown option with a non-zero exit and no stack", () =>
    Effect.gen(function*() {
      const result = yield* cli(["run", "--bogus", SERVER])
      expect(result.code).not.toBe(0)
      expect(hasStack(result.stderr)).toBe(false)
    }))
})
