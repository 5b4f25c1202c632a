import { Effect, TestClock } from "effect"
import type { Duration } from "effect"
import { spawn } from "node:child_process"

/** Lets every queued message cross the in-memory transport. */
export const flush = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/**
 * Runs `effect` again, `every` apart, until its result satisfies `done`, and gives that result: for what a server
 * does on fibers of its own after it answered. Never timed: the test's timeout bounds the wait.
 */
export const pollUntil = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  every: Duration.DurationInput = "10 millis"
): Effect.Effect<A, E, R> =>
  effect.pipe(
    Effect.tap((a) => done(a) ? Effect.void : Effect.sleep(every)),
    Effect.repeat({ until: done })
  )

/** Moves the TestClock forward in steps, letting messages cross between steps. */
export const advance = (step: Duration.DurationInput, steps: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < steps; i++) {
      yield* flush
      yield* TestClock.adjust(step)
      yield* flush
    }
  })

/**
 * Spawns a stdio server script with tsx and speaks raw JSON-RPC to it: `send` writes a line, `output` is everything
 * it wrote so far, `waitFor` polls until a condition holds (the test's timeout bounds it), and `end` closes its stdin and
 * resolves with its exit code.
 */
export const spawnStdio = (file: string) => {
  const child = spawn("node_modules/.bin/tsx", [file], { stdio: ["pipe", "pipe", "pipe"] })
  const output = { stdout: "", stderr: "" }
  child.stdout.on("data", (d) => (output.stdout += d))
  child.stderr.on("data", (d) => (output.stderr += d))
  const send = (message: unknown) => child.stdin.write(JSON.stringify(message) + "\n")
  return {
    child,
    output,
    send,
    /** Sends initialize (id 1) and notifications/initialized. */
    initialize: () => {
      send({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } }
      })
      send({ jsonrpc: "2.0", method: "notifications/initialized" })
    },
    /** Waits until `predicate` holds, however long that takes on a loaded machine: the test's timeout bounds it. */
    waitFor: async (predicate: () => boolean) => {
      while (!predicate()) await new Promise((r) => setTimeout(r, 20))
    },
    end: () => {
      child.stdin.end()
      return new Promise<number | null>((resolve) => child.on("exit", resolve))
    }
  }
}
