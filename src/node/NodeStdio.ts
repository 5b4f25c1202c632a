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
import { Command } from "@effect/platform"
import type { CommandExecutor } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Fiber, Layer, Logger, Queue, Stream } from "effect"
import type { Scope } from "effect"
import { encode } from "../internal/encode.js"
import * as McpClient from "../McpClient.js"
import { McpError } from "../McpError.js"
import type { RequestError } from "../McpError.js"
import * as McpServer from "../McpServer.js"
import type { Receiver, Transport } from "../Transport.js"
import { lineSplitter } from "./internal/lineSplitter.js"

/**
 * Buffers outgoing frames and writes them in one call per microtask: under
 * load many responses share a write (and a syscall), and a lone response is
 * still written before the event loop turns.
 */
const batchedWriter = (write: (data: string) => void) => {
  let pending: Array<string> = []
  const flush = () => {
    const data = pending.join("\n") + "\n"
    pending = []
    write(data)
  }
  return (frame: string) => {
    if (pending.push(frame) === 1) queueMicrotask(flush)
  }
}

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
  })
  // Output that fails (EPIPE: the host stopped reading) ends the connection like the end of input does.
  let onOutputError: (() => void) | undefined
  stdout.on("error", () => onOutputError?.())
  const tooLarge = McpError.invalidRequest(`the message exceeds ${maxMessageBytes} bytes`)
  const tooLargeFrame = encode({ jsonrpc: "2.0", id: null, error: { code: tooLarge.code, message: tooLarge.message } })
  return {
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
  readonly cwd?: string
  readonly env?: Record<string, string>
  /** Where the server's stderr goes. Default: this process's stderr. */
  readonly stderr?: "inherit" | "pipe"
  /** How long to wait for the server to exit after its stdin is closed, before it is killed. Default 2 s. */
  readonly exitGracePeriod?: number
}

/**
 * Spawns a server process and returns a transport on its stdin and stdout.
 * Closing the scope ends its stdin, waits for it to exit, and kills it if it
 * does not.
 *
 * @since 0.1.0
 * @category constructors
 */
export const spawnTransport = (
  options: SpawnOptions
): Effect.Effect<Transport, PlatformError, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    let command = Command.make(options.command, ...(options.args ?? [])).pipe(
      Command.stderr(options.stderr ?? "inherit")
    )
    if (options.cwd !== undefined) command = Command.workingDirectory(command, options.cwd)
    if (options.env !== undefined) command = Command.env(command, options.env)
    const outbox = yield* Queue.unbounded<string>()
    const child = yield* Command.start(command)
    const writer = yield* Stream.fromQueue(outbox).pipe(
      Stream.map((frame) => new TextEncoder().encode(frame + "\n")),
      Stream.run(child.stdin),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() =>
      Queue.shutdown(outbox).pipe(
        Effect.zipRight(Fiber.await(writer)),
        Effect.zipRight(child.exitCode),
        // Finalizers are uninterruptible: only an interruptible wait can be cut short by the timeout.
        Effect.interruptible,
        Effect.timeout(options.exitGracePeriod ?? 2000),
        Effect.ignore
      )
    )
    return {
      run: (receiver) =>
        child.stdout.pipe(
          Stream.decodeText(),
          Stream.splitLines,
          Stream.runForEach((line) => Effect.sync(() => line.length > 0 && receiver.frame(line))),
          Effect.catchAll((error) => Effect.logWarning("Reading the server's stdout failed", error))
        ),
      send: (message) => {
        Queue.unsafeOffer(outbox, encode(message))
      }
    }
  })

/**
 * A client connected to a spawned server process, for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  spawn: SpawnOptions,
  options?: McpClient.Options
): Effect.Effect<McpClient.Service, PlatformError | RequestError, Scope.Scope> =>
  Effect.flatMap(spawnTransport(spawn), (transport) => McpClient.make(transport, options)).pipe(
    Effect.provide(NodeContext.layer)
  )

/**
 * {@link connect} as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  spawn: SpawnOptions,
  options?: McpClient.Options
): Layer.Layer<McpClient.McpClient, PlatformError | RequestError> =>
  Layer.scoped(McpClient.McpClient, connect(spawn, options))

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
