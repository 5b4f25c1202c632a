import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { NodeStdio } from "mcp-effect/node"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { PassThrough, Writable } from "node:stream"
import { spawnStdio } from "./helpers.js"

const tsx = ["node_modules/.bin/tsx"]

describe("stdio", () => {
  it.scoped("serves an example over real stdio, driven by McpClient", () =>
    Effect.gen(function*() {
      const client = yield* NodeStdio.connect({ command: tsx[0]!, args: ["examples/echo.ts"] })
      expect(client.serverInfo).toEqual({ name: "Echo", version: "1.0.0" })
      expect((yield* client.listTools).map((t) => t.name)).toEqual(["echo_tool"])
      expect(yield* client.callTool("echo_tool", { message: "hi" })).toEqual({
        content: [{ type: "text", text: "Tool echo: hi" }]
      })
      expect((yield* client.readResource("echo://x")).contents[0]).toMatchObject({ text: "Resource echo: x" })
    }), 30_000)

  it.scoped(
    "serves an example run through a symlink on a path with a space (regression)",
    () =>
      Effect.gen(function*() {
        // Its main-module check compared import.meta.url (the real path, percent-encoded) with argv[1] (as typed):
        // run from here, the example exited at once, serving nothing.
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => mkdtempSync(join(tmpdir(), "mcp-effect-"))),
          (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
        )
        const linked = join(dir, "my examples")
        mkdirSync(linked)
        symlinkSync(resolve("examples/echo.ts"), join(linked, "echo server.ts"))
        const client = yield* NodeStdio.connect({ command: tsx[0]!, args: [join(linked, "echo server.ts")] })
        expect(client.serverInfo).toEqual({ name: "Echo", version: "1.0.0" })
        expect(yield* client.callTool("echo_tool", { message: "hi" })).toEqual({
          content: [{ type: "text", text: "Tool echo: hi" }]
        })
      }),
    30_000
  )

  it("keeps stdout protocol-only and shuts down cleanly when stdin ends", async () => {
    const server = spawnStdio("test/fixtures/noisy-server.ts")
    const { child, output, send, waitFor } = server
    server.initialize()
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "noisy" } })
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "slow" } })
    // Split a message across writes: the line buffer joins it.
    child.stdin.write("{\"jsonrpc\":\"2.0\",\"id\":4,")
    child.stdin.write("\"method\":\"ping\"}\r\n")
    await waitFor(() => output.stdout.includes("\"id\":4"))
    expect(await server.end()).toBe(0)
    const { stderr, stdout } = output
    const lines = stdout.trim().split("\n")
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([1, 2, 4])
    expect(stdout).not.toContain("stray")
    expect(stderr).toContain("stray console.log")
    expect(stderr).toContain("stray write")
    expect(stderr).toContain("slow interrupted")
    expect(stderr).toContain("lifespan released")
  }, 30_000)
})

describe("stdio transport", () => {
  it.scoped("ends the connection when its output fails (the host stopped reading), without an unhandled error", () =>
    Effect.gen(function*() {
      const stdin = new PassThrough()
      const stdout = new Writable({ write: (_chunk, _encoding, done) => done(new Error("EPIPE")) })
      const transport = NodeStdio.makeTransport({ stdin, stdout })
      const run = yield* Effect.fork(transport.run({ frame: () => {}, message: () => {} }))
      transport.send({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x" } })
      expect(Exit.isSuccess(yield* Fiber.await(run))).toBe(true)
    }))
})
