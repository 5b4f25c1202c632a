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
