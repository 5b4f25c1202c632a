/**
 * The test kit: one call turns a server layer into a connected in-memory
 * client, with scriptable sampling, elicitation and roots. Nothing is
 * spawned and no timer is real, so it runs under `TestClock`.
 *
 * @example
 * ```ts
 * import { Effect, Layer, Schema } from "effect"
 * import { McpServer, McpTest } from "mcp-effect"
 *
 * const Server = McpServer.tool("add", {
 *   parameters: { a: Schema.Number, b: Schema.Number },
 *   success: Schema.Number
 * }, ({ a, b }) => Effect.succeed(a + b)).pipe(
 *   Layer.provideMerge(McpServer.layer({ name: "test", version: "1.0.0" }))
 * )
 *
 * // A test's body: `it.scoped("adds", () => adds)`, with `it` from "@effect/vitest".
 * const adds = Effect.gen(function*() {
 *   const client = yield* McpTest.makeClient(Server)
 *   const result = yield* client.callTool("add", { a: 1, b: 2 })
 *   // result.structuredContent is { result: 3 }
 * })
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Layer, Queue } from "effect"
import type { Scope } from "effect"
import * as InMemoryTransport from "./InMemoryTransport.js"
import * as McpClient from "./McpClient.js"
import type { McpError, RequestError } from "./McpError.js"
import * as McpSchema from "./McpSchema.js"
import * as McpServer from "./McpServer.js"

/**
 * Options of a test client: the client's own options, and scripted answers to the server's requests.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends McpClient.Options {
  /** Answers `sampling/createMessage`; declares the `sampling` capability. */
  readonly sampling?: (
    params: McpSchema.CreateMessageRequestParams
  ) => Effect.Effect<McpSchema.CreateMessageResult, McpError>
  /** Declares `sampling.tools` too. */
  readonly samplingTools?: boolean
  /** Answers `elicitation/create`; declares the `elicitation` capability. */
  readonly elicitation?: (params: McpSchema.ElicitRequestParams) => Effect.Effect<McpSchema.ElicitResult, McpError>
  /** Declares `elicitation.url` too. */
  readonly elicitationUrl?: boolean
  /** Answers `roots/list`; declares the `roots` capability. */
  readonly roots?: ReadonlyArray<McpSchema.Root> | Effect.Effect<ReadonlyArray<McpSchema.Root>>
}

/** Builds the server layer and serves it on one end of an in-memory pair, for the life of the scope. */
const connect = <E, R>(server: Layer.Layer<McpServer.McpServer, E, R>) =>
  Effect.gen(function*() {
    const [clientSide, serverSide] = InMemoryTransport.makePair()
    const context = yield* Layer.build(server)
    yield* Effect.forkScoped(McpServer.run(serverSide).pipe(Effect.provide(context)))
    return clientSide
  })

/**
 * A connected client for `server`, both living as long as the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = <E, R>(
  server: Layer.Layer<McpServer.McpServer, E, R>,
  options: Options = {}
): Effect.Effect<McpClient.Service, E | RequestError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const transport = yield* connect(server)
    // The handshake era unless the test asks for another: a test's era is its author's choice, not a probe's.
    let make = McpClient.make(transport, {
      ...options,
      protocolVersion: options.protocolVersion ?? McpSchema.LATEST_PROTOCOL_VERSION
    })
    if (options.sampling) {
      make = Effect.provideService(make, McpClient.Sampling, {
        createMessage: options.sampling,
        tools: options.samplingTools ?? false
      })
    }
    if (options.elicitation) {
      make = Effect.provideService(make, McpClient.Elicitation, {
        elicit: options.elicitation,
        url: options.elicitationUrl ?? false
      })
    }
    if (options.roots) {
      const roots = options.roots
      make = Effect.provideService(make, McpClient.Roots, {
        list: Effect.isEffect(roots) ? roots : Effect.succeed(roots)
      })
    }
    return yield* make
  })

/**
 * {@link makeClient} as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E, R>(
  server: Layer.Layer<McpServer.McpServer, E, R>,
  options?: Options
): Layer.Layer<McpClient.McpClient, E | RequestError, Exclude<R, Scope.Scope>> =>
  Layer.scoped(McpClient.McpClient, makeClient(server, options))

/**
 * A connection that speaks raw JSON-RPC, for testing what a well-behaved client never sends.
 *
 * @since 0.1.0
 * @category models
 */
export interface RawConnection {
  /** Sends a frame as is: a string is sent verbatim (it may be malformed JSON), anything else serialized. */
  readonly send: (message: unknown) => Effect.Effect<void>
  /** The next message from the server. */
  readonly receive: Effect.Effect<unknown>
  /** Sends `initialize` and `notifications/initialized`, and returns the initialize response. */
  readonly initialize: (protocolVersion?: string) => Effect.Effect<unknown>
}

/**
 * A raw connection to `server`, for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const raw = <E, R>(
  server: Layer.Layer<McpServer.McpServer, E, R>
): Effect.Effect<RawConnection, E, Scope.Scope | R> =>
  Effect.gen(function*() {
    const transport = yield* connect(server)
    const inbox = yield* Queue.unbounded<unknown>()
    yield* Effect.forkScoped(transport.run({
      frame: (text) => Queue.unsafeOffer(inbox, JSON.parse(text)),
      message: (message) => Queue.unsafeOffer(inbox, message)
    }))
    const send = (message: unknown) =>
      Effect.sync(() => (typeof message === "string" ? transport.sendText(message) : transport.send(message)))
    return {
      send,
      receive: Queue.take(inbox),
      initialize: (protocolVersion = "2025-11-25") =>
        Effect.gen(function*() {
          yield* send({
            jsonrpc: "2.0",
            id: "init",
            method: "initialize",
            params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "0" } }
          })
          const response = yield* Queue.take(inbox)
          yield* send({ jsonrpc: "2.0", method: "notifications/initialized" })
          return response
        })
    }
  })
