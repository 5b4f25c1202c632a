/**
 * A spawned server process for the stdio client, on `node:child_process`
 * directly rather than `@effect/platform`'s `Command`: every message of a
 * stdio client passes through its pipes, and the platform's stdin `Sink` and
 * stdout `Stream` woke a writer fiber and a reader fiber, with their channel
 * machinery, for each one. Measured (bench/client.ts), that was most of what
 * our client cost per call beyond the SDK's; here a frame is written in one
 * batched call per microtask and each chunk read is split and delivered by a
 * plain listener, as the server side of stdio does. The lifecycle (exit,
 * signals to the process group) keeps the platform executor's behaviour.
 */
import { SystemError } from "@effect/platform/Error"
import type { PlatformError } from "@effect/platform/Error"
import { Deferred, Effect } from "effect"
import type { Scope } from "effect"
import * as ChildProcess from "node:child_process"
import type { Readable, Writable } from "node:stream"
import type { ExitStatus } from "../NodeStdio.js"
import { batchedWriter } from "./batchedWriter.js"

export interface ChildOptions {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string | undefined
  readonly env: Record<string, string>
  readonly stderr: "inherit" | "pipe" | "ignore"
}

export interface Child {
  readonly pid: number
  readonly stdout: Readable
  /** `null` unless spawned with `stderr: "pipe"`. */
  readonly stderr: Readable | null
  /** Queues a frame (a line without its newline); frames queued in one microtask are written together. */
  readonly write: (frame: string) => void
  /** Writes what is queued and ends the process's stdin; completes once it is flushed or failed. */
  readonly endInput: Effect.Effect<void>
  /** Signals the process group (POSIX), or the process where that fails. */
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  readonly exited: Effect.Effect<ExitStatus>
}

const posix = process.platform !== "win32"

const reasonOf = (code: unknown) =>
  code === "ENOENT" ? "NotFound" : code === "EACCES" || code === "EPERM" ? "PermissionDenied" : "Unknown"

const spawnError = (command: string, error: NodeJS.ErrnoException): PlatformError =>
  new SystemError({
    reason: reasonOf(error.code),
    module: "Command",
    method: "spawn",
    pathOrDescriptor: command,
    description: error.message,
    cause: error
  })

/** Spawns the process once it has started (or fails as the executor does), for the life of the scope. */
export const spawn = (options: ChildOptions): Effect.Effect<Child, PlatformError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<ChildProcess.ChildProcess, PlatformError>((resume) => {
      const handle = ChildProcess.spawn(options.command, options.args, {
        cwd: options.cwd,
        env: options.env,
        stdio: ["pipe", "pipe", options.stderr],
        // Its own process group, so that signals reach the processes it starts (`npx` runs the real server).
        detached: posix
      })
      handle.once("error", (error) => resume(Effect.fail(spawnError(options.command, error))))
      handle.once("spawn", () => resume(Effect.succeed(handle)))
    }),
    // The shutdown steps run before this. As the platform's executor does, what a server that failed (or still runs)
    // left in its process group is ended here; a server that exited cleanly keeps what it started on purpose.
    (handle) =>
      Effect.sync(() => {
        if (handle.exitCode !== 0) signalGroup(handle, "SIGTERM")
      })
  ).pipe(Effect.flatMap(makeChild))

const signalGroup = (handle: ChildProcess.ChildProcess, signal: NodeJS.Signals): boolean => {
  if (handle.pid === undefined) return false
  try {
    if (posix) return process.kill(-handle.pid, signal)
  } catch {
    // The group is gone, or was never ours: signal the process itself.
  }
  return handle.exitCode === null && handle.signalCode === null && handle.kill(signal)
}

const makeChild = (handle: ChildProcess.ChildProcess): Effect.Effect<Child> =>
  Effect.gen(function*() {
    const exited = yield* Deferred.make<ExitStatus>()
    const settle = (code: number | null, signal: NodeJS.Signals | null) =>
      Deferred.unsafeDone(exited, Effect.succeed({ code: code ?? undefined, signal: signal ?? undefined }))
    if (handle.exitCode !== null || handle.signalCode !== null) settle(handle.exitCode, handle.signalCode)
    else handle.once("exit", settle)
    const stdin = handle.stdin as Writable
    // A server that exits makes writes fail (EPIPE): its exit ends the connection, not an unhandled error.
    stdin.on("error", () => {})
    const writer = batchedWriter((data) => {
      if (!stdin.writableEnded && !stdin.destroyed) stdin.write(data)
    })
    return {
      pid: handle.pid!,
      stdout: handle.stdout as Readable,
      stderr: handle.stderr,
      write: writer.write,
      endInput: Effect.async<void>((resume) => {
        writer.flush()
        if (stdin.writableFinished || stdin.destroyed) return resume(Effect.void)
        const done = () => resume(Effect.void)
        stdin.once("finish", done)
        stdin.once("close", done)
        stdin.end()
      }),
      kill: (signal) => Effect.sync(() => void signalGroup(handle, signal)),
      exited: Deferred.await(exited)
    }
  })
