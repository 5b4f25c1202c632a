/**
 * MCP over stdio on Node: newline-delimited JSON-RPC on a process's stdin and
 * stdout, the way MCP hosts launch servers; and the client side, which spawns
 * a server process and talks to it.
 *
 * While a server runs, nothing but protocol reaches stdout: writes to
 * `process.stdout` from anywhere else (a stray `console.log`, a native module)
 * are sent to stderr, and the default logger writes to stderr.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
 *
 * // Called by the program's entry point: serves on stdin and stdout until stdin ends.
 * const main = () =>
 *   Echo.pipe(
 *     Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })),
 *     NodeStdio.run
 *   )
 * ```
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeStream from "@effect/platform-node/NodeStream"
import type { PlatformError } from "@effect/platform/Error"
import { Deferred, Duration, Effect, Exit, Fiber, identity, Layer, Logger, Option, PubSub, Stream } from "effect"
import type { Scope } from "effect"
import type { Readable } from "node:stream"
import { encode } from "../internal/encode.js"
import * as Telemetry from "../internal/telemetry.js"
import * as McpClient from "../McpClient.js"
import { McpError } from "../McpError.js"
import type { RequestError } from "../McpError.js"
import * as McpServer from "../McpServer.js"
import type { Receiver, Transport } from "../Transport.js"
import { batchedWriter } from "./internal/batchedWriter.js"
import * as ChildProcess from "./internal/childProcess.js"
import type { Child } from "./internal/childProcess.js"
import { lineSplitter, makeLineSplitter } from "./internal/lineSplitter.js"

/**
 * Options of a stdio transport: the streams it reads and writes, and its limits.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamOptions {
  readonly stdin?: NodeJS.ReadableStream
  readonly stdout?: NodeJS.WritableStream
  /**
   * The longest message read, in bytes of its line (without the line ending).
   * A longer line is dropped as it arrives, never buffered whole, and answered
   * with one -32600 error (id null); the connection goes on. Default 32 MiB.
   */
  readonly maxMessageBytes?: number
}

const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024

/**
 * A transport on a readable and a writable stream (the process's stdin and
 * stdout by default). `run` ends when the input ends.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeTransport = (options: StreamOptions = {}): Transport => {
  const stdin = options.stdin ?? process.stdin
  const stdout = options.stdout ?? process.stdout
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  // Bound now, so that the stdout guard below does not redirect our own writes.
  const write = stdout.write.bind(stdout)
  const enqueue = batchedWriter((data) => {
    write(data)
  }).write
  // Output that fails (EPIPE: the host stopped reading) ends the connection like the end of input does.
  let onOutputError: (() => void) | undefined
  stdout.on("error", () => onOutputError?.())
  const tooLarge = McpError.invalidRequest(`the message exceeds ${maxMessageBytes} bytes`)
  const tooLargeFrame = encode({ jsonrpc: "2.0", id: null, error: { code: tooLarge.code, message: tooLarge.message } })
  return {
    telemetry: Telemetry.STDIO,
    run: (receiver: Receiver) =>
      Effect.async<void>((resume) => {
        const onData = lineSplitter({
          maxLineBytes: maxMessageBytes,
          onLine: (line) => receiver.frame(line),
          onOversized: () => enqueue(tooLargeFrame)
        })
        const onEnd = () => resume(Effect.void)
        onOutputError = onEnd
        stdin.on("data", onData)
        stdin.once("end", onEnd)
        stdin.once("close", onEnd)
        if ("resume" in stdin && typeof stdin.resume === "function") stdin.resume()
        return Effect.sync(() => {
          onOutputError = undefined
          stdin.off("data", onData)
          stdin.off("end", onEnd)
          stdin.off("close", onEnd)
          if ("pause" in stdin && typeof stdin.pause === "function") stdin.pause()
        })
      }),
    send: (message) => enqueue(encode(message))
  }
}

/**
 * Redirects every other write to `process.stdout` to stderr for the life of
 * the scope, so that only protocol reaches stdout.
 *
 * @since 0.1.0
 * @category utils
 */
export const guardStdout: Effect.Effect<void, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const original = process.stdout.write
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write
    return original
  }),
  (original) =>
    Effect.sync(() => {
      process.stdout.write = original
    })
).pipe(Effect.asVoid)

/**
 * The default logger, writing to stderr instead of stdout.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStderrLogger: Layer.Layer<never> = Logger.replace(
  Logger.defaultLogger,
  Logger.withConsoleError(Logger.logfmtLogger)
)

/**
 * Serves a server layer on the process's stdin and stdout until stdin ends,
 * then interrupts in-flight handlers and releases every scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = <E, R>(
  server: Layer.Layer<McpServer.McpServer, E, R>
): Effect.Effect<void, E, Exclude<R, Scope.Scope>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const transport = makeTransport()
      yield* guardStdout
      yield* McpServer.serve(server, transport)
    })
  ).pipe(Effect.provide(layerStderrLogger))

/**
 * Runs a server layer over stdio as the program's main, the way an MCP host launches it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = <E>(server: Layer.Layer<McpServer.McpServer, E, never>): void =>
  NodeRuntime.runMain(serve(server), { disablePrettyLogger: true })

// ---------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------

/**
 * How to spawn a server process for the client side.
 *
 * @since 0.1.0
 * @category models
 */
export interface SpawnOptions {
  readonly command: string
  readonly args?: ReadonlyArray<string>
  /** The server's working directory. Default: this process's. */
  readonly cwd?: string
  /**
   * Variables set for the server, over {@link defaultEnvironment} (`HOME`,
   * `LOGNAME`, `PATH`, `SHELL`, `TERM` and `USER` from this process, on
   * POSIX), as MCP hosts launch servers: the rest of this process's
   * environment (its tokens and keys) does not reach the server unless passed
   * here. `env: process.env` passes all of it; `undefined` values are skipped.
   *
   * @since 0.2.0
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  /**
   * Where the server's stderr goes: this process's stderr (`"inherit"`, the
   * default), the `stderr` stream of the {@link SpawnedServer} (`"pipe"`), or
   * nowhere (`"ignore"`).
   *
   * @since 0.2.0
   */
  readonly stderr?: "inherit" | "pipe" | "ignore"
  /**
   * How long each step of the shutdown waits for the server to exit: after
   * its stdin is closed, then after SIGTERM, before SIGKILL. A number is
   * milliseconds. Default 2 s.
   */
  readonly exitGracePeriod?: Duration.DurationInput
  /**
   * The longest message read from the server, in bytes of its line. A longer
   * line is not buffered: it ends the connection, and the requests waiting
   * for an answer fail with a `ConnectionClosedError` that says so (which
   * answer it carried cannot be known). Default 32 MiB, as on the server side.
   *
   * @since 0.2.0
   */
  readonly maxMessageBytes?: number
}

/**
 * How a server process ended: its exit code, or the signal that killed it.
 *
 * @since 0.2.0
 * @category models
 */
export interface ExitStatus {
  readonly code: number | undefined
  readonly signal: string | undefined
}

/**
 * A server process spawned for the life of a scope, with a transport on its
 * stdin and stdout.
 *
 * @since 0.2.0
 * @category models
 */
export interface SpawnedServer {
  readonly pid: number
  readonly transport: Transport
  /**
   * The server's stderr, line by line, when spawned with `stderr: "pipe"`
   * (empty otherwise). It ends when the server's stderr does, at the latest
   * when the scope closes. Each run of it starts with up to the last 256 lines
   * already written, so that what a server said before it is run (why it
   * failed to start) is not lost; a consumer more than 1024 lines behind loses
   * the oldest. A line over 16 KiB is replaced with a notice that it was
   * dropped.
   */
  readonly stderr: Stream.Stream<string>
  /** Waits for the process to exit. */
  readonly exitStatus: Effect.Effect<ExitStatus>
}

const DEFAULT_INHERITED_ENV = process.platform === "win32"
  ? [
    "APPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "LOCALAPPDATA",
    "PATH",
    "PROCESSOR_ARCHITECTURE",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "TEMP",
    "USERNAME",
    "USERPROFILE",
    "PROGRAMFILES"
  ]
  : ["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"]

/**
 * The variables of this process's environment that a spawned server gets
 * whatever its `env`: the list of the official TypeScript SDK (after sudo's).
 * Values that start with `()` (exported shell functions) are left out.
 *
 * @since 0.2.0
 * @category utils
 */
export const defaultEnvironment = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const key of DEFAULT_INHERITED_ENV) {
    const value = process.env[key]
    if (value !== undefined && !value.startsWith("()")) env[key] = value
  }
  return env
}

const serverEnvironment = (env: SpawnOptions["env"]): Record<string, string> => {
  const merged = defaultEnvironment()
  for (const [key, value] of Object.entries(env ?? {})) {
    if (value !== undefined) merged[key] = value
  }
  return merged
}

const DEFAULT_EXIT_GRACE_PERIOD = Duration.seconds(2)
const STDERR_MAX_LINE_BYTES = 16 * 1024
const STDERR_REPLAY = 256
const STDERR_CAPACITY = 1024

const describeExit = (status: ExitStatus): string =>
  status.code !== undefined
    ? `the server process exited with code ${status.code}`
    : `the server process was killed by ${status.signal ?? "a signal"}`

/**
 * Reads the server's stderr to its end into a stream of lines. Returns the
 * stream and the reader, which ends (and so ends the stream) at the latest
 * when the scope closes.
 */
const readStderr = (
  stderr: Readable
): Effect.Effect<readonly [Stream.Stream<string>, Fiber.Fiber<void>], never, Scope.Scope> =>
  Effect.gen(function*() {
    // Sliding: a slow consumer, or none, never stalls the reader. `None` ends the stream; the replay keeps it.
    const lines = yield* PubSub.sliding<Option.Option<string>>({ capacity: STDERR_CAPACITY, replay: STDERR_REPLAY })
    const batch: Array<Option.Option<string>> = []
    const splitter = makeLineSplitter({
      maxLineBytes: STDERR_MAX_LINE_BYTES,
      onLine: (line) => batch.push(Option.some(line)),
      onOversized: () => batch.push(Option.some(`[a stderr line over ${STDERR_MAX_LINE_BYTES} bytes was dropped]`))
    })
    const publish = Effect.suspend(() => PubSub.publishAll(lines, batch.splice(0))).pipe(Effect.asVoid)
    const reader = yield* NodeStream.fromReadable<unknown>(() => stderr, identity).pipe(
      Stream.runForEach((chunk) => Effect.zipRight(Effect.sync(() => splitter.push(chunk)), publish)),
      Effect.ignore,
      Effect.zipRight(Effect.zipRight(Effect.sync(() => splitter.end()), publish)),
      Effect.ensuring(PubSub.publish(lines, Option.none())),
      Effect.forkScoped
    )
    const stream = Stream.fromPubSub(lines).pipe(
      Stream.takeWhile(Option.isSome),
      Stream.map((line) => line.value)
    )
    return [stream, reader] as const
  })

/** Waits up to `grace` for `step` and then for the process to exit: whether it exited in time. */
const exitsWithin = (child: Child, grace: Duration.Duration, step: Effect.Effect<void>): Effect.Effect<boolean> =>
  step.pipe(
    Effect.zipRight(child.exited),
    // Finalizers are uninterruptible: only an interruptible wait can be cut short by the timeout.
    Effect.interruptible,
    Effect.timeoutTo({ duration: grace, onSuccess: () => true, onTimeout: () => false })
  )

/** Ends the server's stdin, then signals SIGTERM, then SIGKILL (to its process group), each after a grace period. */
const stopProcess = (child: Child, grace: Duration.Duration): Effect.Effect<void> =>
  Effect.gen(function*() {
    if (yield* exitsWithin(child, grace, child.endInput)) return
    yield* Effect.logDebug("The server process did not exit when its stdin closed: sending SIGTERM")
    if (yield* exitsWithin(child, grace, child.kill("SIGTERM"))) return
    yield* Effect.logWarning("The server process ignored SIGTERM: sending SIGKILL")
    if (yield* exitsWithin(child, grace, child.kill("SIGKILL"))) return
    yield* Effect.logWarning("The server process did not exit after SIGKILL")
  }).pipe(Effect.annotateLogs("pid", child.pid))

/**
 * Delivers the server's stdout line by line until it ends. Completes with why
 * it stopped early, if it did: a line over the limit (never buffered whole),
 * or a read error.
 */
const readMessages = (
  stdout: Readable,
  receiver: Receiver,
  maxMessageBytes: number
): Effect.Effect<string | undefined> =>
  Effect.async<string | undefined>((resume) => {
    let done = false
    const finish = (failure: string | undefined) => {
      if (done) return
      done = true
      stdout.off("data", onData)
      resume(Effect.succeed(failure))
    }
    const splitter = makeLineSplitter({
      maxLineBytes: maxMessageBytes,
      // Lines after an oversized one in the same chunk are not delivered: the connection is ending.
      onLine: (line) => {
        if (!done) receiver.frame(line)
      },
      onOversized: () => finish(`the server wrote a line over ${maxMessageBytes} bytes (maxMessageBytes)`)
    })
    const onData = (chunk: Buffer) => splitter.push(chunk)
    stdout.on("data", onData)
    stdout.once("end", () => finish(undefined))
    stdout.once("close", () => finish(undefined))
    stdout.once("error", (error) => finish(`reading the server's stdout failed: ${error.message}`))
    return Effect.sync(() => {
      done = true
      stdout.off("data", onData)
    })
  }).pipe(
    Effect.tap((failure) =>
      failure === undefined ? Effect.void : Effect.logWarning(`Ending the connection: ${failure}`)
    )
  )

/**
 * Spawns a server process for the life of the scope, with a transport on its
 * stdin and stdout.
 *
 * The transport's input ends when the server's stdout ends or the process
 * exits; the requests still waiting for an answer then fail at once with a
 * `ConnectionClosedError` whose `reason` says what happened ("the server
 * process exited with code 1"). Closing the scope ends the server's stdin,
 * waits `exitGracePeriod` for it to exit, then sends SIGTERM, waits again,
 * then SIGKILL. On POSIX the server runs in its own process group, and the
 * signals go to the whole group.
 *
 * @example
 * ```ts
 * import { Console, Effect, Stream } from "effect"
 * import { McpClient } from "mcp-effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const program = Effect.gen(function*() {
 *   const server = yield* NodeStdio.spawn({ command: "npx", args: ["tsx", "examples/echo.ts"], stderr: "pipe" })
 *   // The stream ends with the server's stderr: a daemon fiber also gets what it writes while it shuts down.
 *   yield* Effect.forkDaemon(Stream.runForEach(server.stderr, (line) => Console.error(`[echo] ${line}`)))
 *   const client = yield* McpClient.make(server.transport)
 *   return yield* client.callTool("echo_tool", { message: "hi" })
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const spawn = (options: SpawnOptions): Effect.Effect<SpawnedServer, PlatformError, Scope.Scope> =>
  Effect.gen(function*() {
    const grace = Duration.decode(options.exitGracePeriod ?? DEFAULT_EXIT_GRACE_PERIOD)
    const child = yield* ChildProcess.spawn({
      command: options.command,
      args: options.args ?? [],
      cwd: options.cwd,
      env: serverEnvironment(options.env),
      stderr: options.stderr ?? "inherit"
    })
    const [stderr, stderrReader] = child.stderr === null
      ? [Stream.empty, Fiber.void] as const
      : yield* readStderr(child.stderr)
    yield* Effect.addFinalizer(() =>
      stopProcess(child, grace).pipe(
        // What the server wrote to stderr as it stopped is read before the stream ends.
        Effect.zipRight(Fiber.await(stderrReader).pipe(Effect.interruptible, Effect.timeout(grace), Effect.ignore))
      )
    )
    return {
      pid: child.pid,
      transport: childTransport(child, grace, options.maxMessageBytes),
      stderr,
      exitStatus: child.exited
    }
  })

/** The transport on a spawned server's stdin and stdout. */
const childTransport = (
  child: Child,
  grace: Duration.Duration,
  maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES
): Transport => {
  let closeReason: string | undefined
  return {
    run: (receiver) =>
      Effect.gen(function*() {
        const reading = yield* Effect.fork(readMessages(child.stdout, receiver, maxMessageBytes))
        yield* Effect.raceFirst(Fiber.await(reading), child.exited)
        // The other follows at once, unless a grandchild holds stdout open or the server closed it and runs on.
        const failure = yield* Fiber.join(reading).pipe(
          Effect.timeoutTo({ duration: grace, onSuccess: (failure) => failure, onTimeout: () => undefined })
        )
        closeReason = failure ?? (yield* child.exited.pipe(
          Effect.timeoutTo({
            duration: grace,
            onSuccess: describeExit,
            onTimeout: () => "the server closed its stdout"
          })
        ))
        yield* Fiber.interrupt(reading)
      }),
    send: (message) => child.write(encode(message)),
    closeReason: () => closeReason,
    telemetry: Telemetry.STDIO
  }
}

/**
 * Spawns a server process and returns a transport on its stdin and stdout:
 * {@link spawn} without the rest of the {@link SpawnedServer}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const spawnTransport = (
  options: SpawnOptions
): Effect.Effect<Transport, PlatformError, Scope.Scope> => Effect.map(spawn(options), (server) => server.transport)

/**
 * Options of {@link connect}: the client's, and where the server's stderr goes.
 *
 * @since 0.2.0
 * @category models
 */
export interface ConnectOptions extends McpClient.Options {
  /**
   * Receives each line the server writes to stderr, which is then piped
   * whatever the spawn options' `stderr`: from its first line (why it failed
   * to start) to its last (what it wrote as it stopped, when the scope
   * closes). A failure of the effect stops the delivery, not the client.
   */
  readonly onStderr?: (line: string) => Effect.Effect<void>
}

/**
 * A client connected to a spawned server process, for the life of the scope
 * (see {@link spawn}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* NodeStdio.connect(
 *     { command: "npx", args: ["tsx", "examples/echo.ts"], env: { LOG_LEVEL: "debug" } },
 *     { onStderr: (line) => Effect.logDebug(line).pipe(Effect.annotateLogs("server", "echo")) }
 *   )
 *   return yield* client.callTool("echo_tool", { message: "hi" })
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  spawnOptions: SpawnOptions,
  options: ConnectOptions = {}
): Effect.Effect<McpClient.Service, PlatformError | RequestError, Scope.Scope> => {
  const { onStderr, ...clientOptions } = options
  return Effect.gen(function*() {
    if (onStderr === undefined) return yield* McpClient.make(yield* spawnTransport(spawnOptions), clientOptions)
    const delivered = yield* Deferred.make<void>()
    // Added before the process's own finalizer, so it runs after it: the server's last lines get delivered.
    yield* Effect.addFinalizer(() =>
      Deferred.await(delivered).pipe(
        Effect.interruptible,
        Effect.timeout(spawnOptions.exitGracePeriod ?? DEFAULT_EXIT_GRACE_PERIOD),
        Effect.ignore
      )
    )
    const server = yield* spawn({ ...spawnOptions, stderr: "pipe" }).pipe(
      Effect.onError(() => Deferred.done(delivered, Exit.void))
    )
    // A daemon, as it outlives the scope's other fibers; the stream ends, at the latest, when the process is stopped.
    yield* Effect.forkDaemon(
      Stream.runForEach(server.stderr, onStderr).pipe(Effect.ensuring(Deferred.done(delivered, Exit.void)))
    )
    return yield* McpClient.make(server.transport, clientOptions)
  })
}

/**
 * {@link connect} as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  spawnOptions: SpawnOptions,
  options?: ConnectOptions
): Layer.Layer<McpClient.McpClient, PlatformError | RequestError> =>
  Layer.scoped(McpClient.McpClient, connect(spawnOptions, options))

/**
 * Serves the `McpServer` in context on the process's stdin and stdout, for
 * the life of the layer: the transport as a layer, composed beside the
 * program's other layers. While it serves, nothing but protocol reaches
 * stdout. When stdin ends (the host closed the connection) the session ends
 * and the fiber that built the layer is interrupted, so that a launched
 * program exits as a stdio server should.
 *
 * @example
 * ```ts
 * import { NodeRuntime } from "@effect/platform-node"
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer } from "mcp-effect"
 * import { NodeStdio } from "mcp-effect/node"
 *
 * const Echo = McpServer.tool("echo", { parameters: { text: Schema.String } }, ({ text }) => Effect.succeed(text))
 * const ServerLive = Echo.pipe(Layer.provideMerge(McpServer.layer({ name: "echo", version: "1.0.0" })))
 *
 * // Called by the program's entry point: serves on stdin and stdout until stdin ends.
 * const main = () =>
 *   NodeStdio.layer.pipe(
 *     Layer.provide(ServerLive),
 *     Layer.launch,
 *     Effect.provide(NodeStdio.layerStderrLogger),
 *     NodeRuntime.runMain
 *   )
 * ```
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, McpServer.McpServer> = Layer.scopedDiscard(
  Effect.gen(function*() {
    const server = yield* McpServer.McpServer
    // Made before the guard, which it must not write through.
    const transport = makeTransport()
    yield* guardStdout
    // The layer's builder is the program's main fiber under `Layer.launch`: ending it on EOF ends the program.
    const builder = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber) =>
      Effect.succeed(fiber)
    )
    yield* server.run(transport).pipe(
      Effect.zipRight(Effect.sync(() => builder.unsafeInterruptAsFork(builder.id()))),
      Effect.forkScoped
    )
  })
)
