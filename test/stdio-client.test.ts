/**
 * The stdio client against real processes: test/fixtures/stdio-client-server.mjs, run with `node`. Timeouts here are
 * upper bounds only: no test depends on how fast a process starts, answers or dies.
 */
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Queue, Schedule, Scope, Stream } from "effect"
import { McpClient, McpError } from "mcp-effect"
import { NodeStdio } from "mcp-effect/node"
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

const FIXTURE = resolve("test/fixtures/stdio-client-server.mjs")

const fixture = (options: Partial<NodeStdio.SpawnOptions> & { readonly flags?: ReadonlyArray<string> } = {}) => {
  const { flags = [], ...rest } = options
  return { command: process.execPath, args: [FIXTURE, ...flags], ...rest }
}

const textOf = (result: { readonly content: ReadonlyArray<unknown> }) => (result.content[0] as { text: string }).text

/**
 * Spawns the fixture in a scope of its own, runs `use` on it, closes the scope (stopping the process) and returns how
 * the process ended and every line it wrote to stderr.
 */
const spawnAndStop = (
  options: Parameters<typeof fixture>[0],
  use: (server: NodeStdio.SpawnedServer) => Effect.Effect<void, unknown, Scope.Scope> = () => Effect.void
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const server = yield* NodeStdio.spawn(fixture({ ...options, stderr: "pipe" })).pipe(Scope.extend(scope))
    // A daemon: it must see the lines written while the scope closes; the stream ends when the process is stopped.
    const stderr = yield* Effect.forkDaemon(Stream.runCollect(server.stderr))
    yield* use(server).pipe(Scope.extend(scope), Effect.ensuring(Scope.close(scope, Exit.void)))
    return { status: yield* server.exitStatus, stderr: Chunk.toArray(yield* Fiber.join(stderr)) }
  }).pipe(Effect.provide(NodeContext.layer))

const initialize = (server: NodeStdio.SpawnedServer) =>
  Effect.asVoid(McpClient.make(server.transport, { requestOptions: { timeout: "30 seconds" } }))

describe("stdio client", () => {
  it.scopedLive("passes args, cwd and env, over a minimal inherited environment", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "mcp-effect-stdio-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      process.env.MCP_EFFECT_TEST_SECRET = "not for servers"
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env.MCP_EFFECT_TEST_SECRET))
      const client = yield* NodeStdio.connect(
        fixture({ flags: ["--flag", "a b"], cwd: dir, env: { GREETING: "hello", UNSET: undefined } })
      )
      expect(client.serverInfo.name).toBe("fixture")
      expect(JSON.parse(textOf(yield* client.callTool("env")))).toEqual({
        args: ["--flag", "a b"],
        cwd: realpathSync(dir),
        greeting: "hello",
        hasPath: true
      })
    }))

  it.scopedLive("forwards the whole environment when asked", () =>
    Effect.gen(function*() {
      process.env.MCP_EFFECT_TEST_SECRET = "passed on"
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env.MCP_EFFECT_TEST_SECRET))
      const client = yield* NodeStdio.connect(fixture({ env: process.env }))
      expect(JSON.parse(textOf(yield* client.callTool("env"))).secret).toBe("passed on")
    }))

  it.scopedLive("defaultEnvironment holds only the safe variables", () =>
    Effect.sync(() => {
      const keys = Object.keys(NodeStdio.defaultEnvironment())
      expect(keys).toContain("PATH")
      for (const key of keys) expect(["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"]).toContain(key)
    }))

  it.live("fails with a PlatformError when the command cannot be spawned, without waiting on close", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const onStderr = (line: string) => Effect.sync(() => lines.push(line))
      const spawn = NodeStdio.connect({ command: "/nonexistent/mcp-server", exitGracePeriod: "1 hour" }, { onStderr })
      const error = yield* Effect.flip(Effect.scoped(spawn))
      expect(error).toMatchObject({ _tag: "SystemError", reason: "NotFound" })
      expect(lines).toEqual([])
    }))

  it.scopedLive("delivers stderr lines to onStderr, from the first one written before initialize", () =>
    Effect.gen(function*() {
      const lines = yield* Queue.unbounded<string>()
      const client = yield* NodeStdio.connect(fixture(), { onStderr: (line) => Queue.offer(lines, line) })
      expect(yield* Queue.take(lines)).toBe("fixture starting")
      yield* client.callTool("log")
      expect(yield* Queue.take(lines)).toBe("first line")
      expect(yield* Queue.take(lines)).toBe("second line")
    }))

  it.live("exposes stderr as a stream that replays what came before it was run and ends with the process", () =>
    Effect.gen(function*() {
      const { stderr } = yield* spawnAndStop({ exitGracePeriod: "20 seconds" }, (server) =>
        Effect.gen(function*() {
          yield* initialize(server)
          // Run after the first line was written: the replay still has it.
          expect(Chunk.toArray(yield* Stream.runCollect(Stream.take(server.stderr, 1)))).toEqual(["fixture starting"])
        }))
      expect(stderr).toEqual(["fixture starting", "stdin closed"])
    }))

  it.scopedLive("fails a pending call at once with the exit code when the server exits mid-call", () =>
    Effect.gen(function*() {
      // A generous grace period bounds the wait for the exit code after stdout ends: it comes at once, but may be slow.
      const client = yield* NodeStdio.connect(fixture({ stderr: "ignore", exitGracePeriod: "20 seconds" }))
      // Far beyond the test's own timeout: only the process's exit can end the call in time.
      const error = yield* Effect.flip(client.callTool("exit", {}, { timeout: "10 minutes" }))
      expect(error).toBeInstanceOf(McpError.ConnectionClosedError)
      expect(error).toMatchObject({ method: "tools/call", reason: "the server process exited with code 3" })
      expect(error.message).toBe(
        "Connection closed before tools/call was answered: the server process exited with code 3"
      )
      // Later calls fail the same way, without waiting.
      expect(yield* Effect.flip(client.ping)).toMatchObject({ reason: "the server process exited with code 3" })
    }))

  it.scopedLive("names the signal when the server is killed mid-call", () =>
    Effect.gen(function*() {
      const client = yield* NodeStdio.connect(fixture({ stderr: "ignore", exitGracePeriod: "20 seconds" }))
      const error = yield* Effect.flip(client.callTool("kill", {}, { timeout: "10 minutes" }))
      expect(error).toMatchObject({ _tag: "ConnectionClosedError", reason: "the server process was killed by SIGKILL" })
    }))

  it.live("closes stdin and lets a well-behaved server exit by itself", () =>
    Effect.gen(function*() {
      // A generous grace period: the server's own exit must win, however loaded the machine.
      const { status, stderr } = yield* spawnAndStop({ exitGracePeriod: "20 seconds" }, initialize)
      expect(status).toEqual({ code: 0, signal: undefined })
      expect(stderr).toContain("stdin closed")
    }))

  it.live("leaves what a cleanly exited server started, and ends what a failed one left in its process group", () =>
    Effect.gen(function*() {
      const childOf = (stderr: ReadonlyArray<string>) =>
        Number(stderr.find((line) => line.startsWith("child "))?.slice(6))
      const alive = (pid: number) => {
        try {
          return process.kill(pid, 0)
        } catch {
          return false
        }
      }
      const clean = yield* spawnAndStop({ flags: ["--leave-child"], exitGracePeriod: "20 seconds" }, initialize)
      expect(clean.status).toEqual({ code: 0, signal: undefined })
      const kept = childOf(clean.stderr)
      expect(alive(kept)).toBe(true)
      process.kill(kept, "SIGKILL")
      const failed = yield* spawnAndStop(
        { flags: ["--leave-child", "--fail-on-close"], exitGracePeriod: "20 seconds" },
        initialize
      )
      expect(failed.status).toEqual({ code: 1, signal: undefined })
      const ended = childOf(failed.stderr)
      // SIGTERM was sent to the group as the scope closed; the child's exit is awaited (an upper bound, not a race).
      yield* Effect.sync(() => alive(ended)).pipe(
        Effect.repeat({ while: (stillAlive) => stillAlive, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("20 seconds")
      )
    }))

  it.live("sends SIGTERM to a server that ignores the end of its stdin", () =>
    Effect.gen(function*() {
      const { status, stderr } = yield* spawnAndStop(
        // The grace period leaves the server time to see the end of its stdin (and say so) first.
        { flags: ["--ignore-stdin-close"], exitGracePeriod: "3 seconds" },
        initialize
      )
      expect(status).toEqual({ code: undefined, signal: "SIGTERM" })
      expect(stderr).toContain("stdin closed")
    }))

  it.live("sends SIGKILL to a server that ignores SIGTERM too", () =>
    Effect.gen(function*() {
      const { status, stderr } = yield* spawnAndStop(
        { flags: ["--ignore-sigterm"], exitGracePeriod: "3 seconds" },
        initialize
      )
      expect(status).toEqual({ code: undefined, signal: "SIGKILL" })
      expect(stderr).toEqual(["fixture starting", "stdin closed", "got SIGTERM"])
    }))

  it.scopedLive("ends the connection on a line over maxMessageBytes instead of buffering it", () =>
    Effect.gen(function*() {
      // The server answers initialize with a line that never ends: without the limit, the client would buffer it
      // until memory ran out, and initialize would never fail.
      const error = yield* Effect.flip(
        NodeStdio.connect(
          fixture({ flags: ["--endless-line"], stderr: "ignore", maxMessageBytes: 1024 * 1024, exitGracePeriod: 500 }),
          { requestOptions: { timeout: "10 minutes" } }
        )
      )
      expect(error).toMatchObject({
        _tag: "ConnectionClosedError",
        method: "initialize",
        reason: "the server wrote a line over 1048576 bytes (maxMessageBytes)"
      })
    }))
})
