/** Running the built `mcp-effect` command as a user would: `node dist/cli/bin.js …`. */
import { Effect } from "effect"
import { execFile, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { promisify } from "node:util"

export const BIN = resolve("dist/cli/bin.js")

/** Compiles the package (`npm run build`), as `prepack` does. */
export const build = () =>
  promisify(execFile)(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"])

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the command to its end. */
export const cli = (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Record<string, string>; readonly input?: string } = {}
) =>
  Effect.async<CliResult>((resume) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    child.stdin.end(options.input ?? "")
    return Effect.sync(() => child.kill())
  })

/** A temporary folder for the scope. */
export const tempDir = (prefix = "mcp-effect-cli-", parent = tmpdir()) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(parent, prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** Output without a stack trace: no `at file:line` frames. */
export const hasStack = (text: string) => /^\s+at .+:\d+/m.test(text)

/** A long-running command (`run --http`, `dev`), stopped with the scope. */
export const start = (args: ReadonlyArray<string>, options: { readonly env?: Record<string, string> } = {}) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, ...options.env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      let seen = 0
      const waiters = new Set<() => void>()
      child.stderr.on("data", (chunk) => {
        stderr += chunk
        for (const waiter of waiters) waiter()
      })
      child.stdout.resume()
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve))
      return {
        child,
        exited,
        stderr: () => stderr,
        /** The next match of `pattern` in stderr after the previous one: waits for output, not for time. */
        next: (pattern: RegExp) =>
          Effect.async<RegExpExecArray, Error>((resume) => {
            const check = () => {
              const match = new RegExp(pattern.source, "g")
              match.lastIndex = seen
              const found = match.exec(stderr)
              if (found === null) return
              seen = match.lastIndex
              waiters.delete(check)
              resume(Effect.succeed(found))
            }
            const onExit = () => resume(Effect.fail(new Error(`exited before ${pattern}: ${stderr}`)))
            waiters.add(check)
            child.once("exit", onExit)
            check()
            return Effect.sync(() => {
              waiters.delete(check)
              child.off("exit", onExit)
            })
          })
      }
    }),
    ({ child, exited }) =>
      Effect.promise(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
        return exited
      })
  )
