import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { resolve } from "node:path"
import { BIN, cli, start } from "./cliHelpers.js"

const SERVER = resolve("test/fixtures/cli-server.ts")
const DEMO = resolve("examples/demo-server.ts")

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

  it.effect("lists a server's skills when it declares the extension", () =>
    Effect.gen(function*() {
      const text = yield* cli(["list", resolve("examples/skills.ts")])
      expect(text.stdout).toContain(
        "Skills (2)\n  skill://refund-policy/SKILL.md  Decide whether and how much to refund, by the house rules"
      )
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
      // No terminal, no progress bar.
      expect(result.stderr).not.toContain("step 1")
    }))

  it.effect("draws a progress bar on a terminal, and erases it for log lines and the result", () =>
    Effect.gen(function*() {
      const { url } = yield* Served
      // `script` runs the command on a pseudo-terminal, as a person at a terminal would.
      const command = [process.execPath, BIN, "call", url, "steps", "n=3", "--server-log-level", "info"].join(" ")
      const result = yield* Command.make("script", "-qec", command, "/dev/null").pipe(Command.string)
      const erase = "\r\x1b[2K"
      expect(result).toContain("[##########....................] 33% step 1")
      expect(result).toContain(`${erase}[info] steps done`)
      expect(result).toContain(`${erase}3 steps`)
    }).pipe(Effect.provide(NodeContext.layer)))

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
      const unclosed = yield* cli(["list", "node 'server.js"])
      expect(unclosed.stderr).toBe("mcp-effect: unclosed quote in node 'server.js\n")
    }))
})
