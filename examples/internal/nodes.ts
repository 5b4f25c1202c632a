/**
 * Node processes of a local deployment (examples/cluster-local.ts, test/slow/cluster.test.ts): each runs
 * `examples/cluster-node.ts` on a free loopback port with the environment given, and is killed when the scope
 * closes if it still runs.
 */
import { Deferred, Effect, FiberId } from "effect"
import type { Scope } from "effect"
import { spawn } from "node:child_process"
import { createServer } from "node:net"

export interface Node {
  readonly pid: number
  readonly port: number
  /** Completed when the process exits, however it ends: with its exit code (`null` when a signal ended it). */
  readonly exited: Deferred.Deferred<number | null>
}

/** A port free on loopback now: for a node's task runner (each node's runner listens on its own). */
export const freePort = Effect.async<number, Error>((resume) => {
  const server = createServer()
  server.once("error", (error) => resume(Effect.fail(error)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Starts a node and waits until it listens (it prints its URL to stderr); its runner on a port of its own. */
export const start = (env: Readonly<Record<string, string | undefined>>): Effect.Effect<Node, Error, Scope.Scope> =>
  Effect.flatMap(
    freePort,
    (runnerPort) => launch({ MCP_RUNNER_HOST: "127.0.0.1", MCP_RUNNER_PORT: String(runnerPort), ...env })
  )

const launch = (env: Readonly<Record<string, string | undefined>>): Effect.Effect<Node, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Node, Error>((resume) => {
      const child = spawn(process.execPath, ["--import", "tsx", "examples/cluster-node.ts", "--port", "0"], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, ...env }
      })
      const exited = Deferred.unsafeMake<number | null>(FiberId.none)
      let output = ""
      child.stderr.on("data", (chunk) => {
        output += chunk
        const match = /listening http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)
        if (match) resume(Effect.succeed({ pid: child.pid!, port: Number(match[1]), exited }))
      })
      child.on("exit", (code) => {
        Deferred.unsafeDone(exited, Effect.succeed(code))
        resume(Effect.fail(new Error(`a node exited before listening: ${output}`)))
      })
    }),
    // A node killed on purpose is gone already.
    (node) => Effect.ignore(Effect.try(() => process.kill(node.pid, "SIGKILL")))
  )
