import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { copyFileSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { cli, start, tempDir } from "./cliHelpers.js"

const SERVER = resolve("test/fixtures/cli-server.ts")

/** dev, the server it compiles and starts (twice), and command-line clients: many seconds on a loaded machine. */
const DEV_TIMEOUT = 120_000

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
    }), DEV_TIMEOUT)

  it.scoped(
    "waits for a fix when the module fails to load, and stops its server with itself",
    () =>
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
      }),
    DEV_TIMEOUT
  )
})
