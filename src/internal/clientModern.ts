/**
 * The client's side of the 2026-07-28 revision: every request carries the
 * client's envelope in `_meta`; an `input_required` result is answered by
 * the client's own handlers and the request retried, under a new id, with
 * the answers and the server's `requestState`; a -32022 naming this
 * revision among the supported ones is retried once.
 */
import { Effect, Option, Schema } from "effect"
import type { RequestError } from "../McpError.js"
import { ErrorCode, McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import type * as Peer from "../Peer.js"
import { isRecord } from "./guards.js"
import * as Modern from "./modern.js"
import { paramHeadersOf, xMcpHeaderProblem } from "./modernHeaders.js"
import type * as Telemetry from "./telemetry.js"

export const VERSION = Modern.VERSION

/** What answers an input request: the client's handler for its method. */
export type Answer = (method: string, params: unknown) => Effect.Effect<unknown, McpError> | undefined

/** What the client says about itself on every modern request. */
export interface Envelope {
  readonly clientCapabilities: McpSchema.ClientCapabilities
  readonly clientInfo: McpSchema.Implementation
}

const DEFAULT_MAX_ROUNDS = 10

/** The modern era of one connection: its envelope, log level, and the tools whose headers it mirrors. */
export class ModernClient {
  logLevel: McpSchema.LoggingLevel | undefined = undefined
  /** Input schemas of the tools listed so far, for their `Mcp-Param-*` headers. */
  private readonly inputSchemas = new Map<string, unknown>()

  constructor(
    private readonly peer: Peer.Peer,
    private readonly envelope: Envelope,
    private readonly answer: Answer,
    private readonly maxRounds: number = DEFAULT_MAX_ROUNDS,
    private readonly telemetry?: Telemetry.Telemetry | undefined
  ) {}

  /** The `_meta` of a request: the caller's own keys, then the client's envelope (with `extensions` declared too). */
  meta(own: unknown, extensions?: Readonly<Record<string, object>>): Record<string, unknown> {
    const capabilities = this.envelope.clientCapabilities
    return {
      ...(isRecord(own) ? own : {}),
      [Modern.Meta.protocolVersion]: VERSION,
      [Modern.Meta.clientCapabilities]: extensions === undefined
        ? capabilities
        : { ...capabilities, extensions: { ...capabilities.extensions, ...extensions } },
      [Modern.Meta.clientInfo]: this.envelope.clientInfo,
      ...(this.logLevel !== undefined ? { [Modern.Meta.logLevel]: this.logLevel } : {})
    }
  }

  /**
   * Sends a request until it completes: each `input_required` round is
   * answered and retried, up to the client's limit of rounds.
   */
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: Peer.RequestOptions | undefined,
    /** Extensions this request declares beyond the client's (tasks, for a call that may become one). */
    extensions?: Readonly<Record<string, object>>
  ): Effect.Effect<unknown, RequestError> {
    // Read when sent: a tool listed just before its first call has its schema by then.
    let headers: Record<string, string> | undefined
    const send = (
      current: Record<string, unknown> | undefined,
      versionRetried: boolean
    ): Effect.Effect<unknown, RequestError> =>
      this.peer.request(method, { ...current, _meta: this.meta(current?._meta, extensions) }, {
        ...options,
        ...(headers !== undefined ? { headers: { ...options?.headers, ...headers } } : {})
      }).pipe(
        Effect.catchIf(
          (error) => !versionRetried && offersThisVersion(error),
          () => send(current, true)
        )
      )
    const round = (current: Record<string, unknown> | undefined, n: number): Effect.Effect<unknown, RequestError> =>
      Effect.flatMap(send(current, false), (result) => {
        if (!isRecord(result) || result.resultType !== "input_required") {
          return Effect.succeed(method === "server/discover" ? result : withoutServerInfo(result))
        }
        if (n >= this.maxRounds) {
          return Effect.fail(
            new McpError({
              code: ErrorCode.InternalError,
              message: `${method} still asked for input after ${this.maxRounds} rounds; the client gave up`
            })
          )
        }
        return Effect.flatMap(this.answerInputs(result.inputRequests), (inputResponses) => {
          const { inputResponses: _, requestState: __, ...rest } = current ?? {}
          // The state goes back exactly as it came, and only when it came (an absent one stays absent).
          const next = {
            ...rest,
            inputResponses,
            ...(result.requestState !== undefined ? { requestState: result.requestState } : {})
          }
          return round(next, n + 1)
        })
      })
    return Effect.suspend(() => {
      headers = method === "tools/call" ? this.paramHeaders(params) : undefined
      return round(params, 0)
    })
  }

  /** The handler's answer to one input request, traced as a request the server made (under its `_meta` context). */
  private traced(method: string, params: unknown) {
    const answered = this.answer(method, params)
    if (answered === undefined || this.telemetry === undefined) return answered
    const operation = this.telemetry.incoming(method, params, undefined)
    const effect = operation.span === undefined ? answered : Effect.withParentSpan(answered, operation.span)
    return Effect.onExit(effect, (exit) => Effect.sync(() => operation.exited(exit)))
  }

  /** Answers a round's (or a task's) input requests, all at once, each by the handler for its method. */
  answerInputs(requests: unknown): Effect.Effect<Record<string, unknown>, McpError> {
    if (!isRecord(requests)) {
      return Effect.fail(McpError.invalidParams("an input_required result must carry inputRequests"))
    }
    return Effect.forEach(Object.entries(requests), ([key, request]) => {
      const method = isRecord(request) ? request.method : undefined
      const answered = typeof method === "string" && isRecord(request) ? this.traced(method, request.params) : undefined
      return answered === undefined
        ? Effect.fail(
          new McpError({
            code: ErrorCode.MethodNotFound,
            message: `The server asked for ${
              JSON.stringify(method)
            } (input ${key}), which this client has no handler for`
          })
        )
        : Effect.map(answered, (value) => [key, value] as const)
    }, { concurrency: "unbounded" }).pipe(Effect.map(Object.fromEntries))
  }

  /**
   * Keeps the tools a 2026-07-28 client may call: a tool whose
   * `x-mcp-header` annotations are invalid is dropped (its headers could not
   * be sent right), with a warning that says why.
   */
  usableTools(
    tools: ReadonlyArray<McpSchema.ToolDefinition>
  ): Effect.Effect<ReadonlyArray<McpSchema.ToolDefinition>> {
    return Effect.filter(tools, (tool) => {
      const problem = xMcpHeaderProblem(tool.inputSchema)
      if (problem !== undefined) {
        return Effect.as(Effect.logWarning(`Ignoring tool ${JSON.stringify(tool.name)}: ${problem}`), false)
      }
      this.inputSchemas.set(tool.name, tool.inputSchema)
      return Effect.succeed(true)
    })
  }

  /** Whether the tool's schema is known (listed), so that its call can mirror its parameters. */
  knows(name: string): boolean {
    return this.inputSchemas.has(name)
  }

  private paramHeaders(params: Record<string, unknown> | undefined): Record<string, string> | undefined {
    const name = params?.name
    const schema = typeof name === "string" ? this.inputSchemas.get(name) : undefined
    return schema === undefined ? undefined : paramHeadersOf(schema, params?.arguments)
  }
}

/**
 * A result as the handshake era would have it: the server's info, which a
 * 2026-07-28 server repeats in every result's `_meta`, is the client's to
 * keep once (from discovery), not each result's.
 */
const withoutServerInfo = (result: unknown): unknown => {
  if (!isRecord(result) || !isRecord(result._meta) || !(Modern.Meta.serverInfo in result._meta)) return result
  const { [Modern.Meta.serverInfo]: _, ...meta } = result._meta
  const { _meta: __, ...rest } = result
  return Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta }
}

/** A -32022 whose supported versions include this revision: a server that will take the request again. */
const offersThisVersion = (error: RequestError): boolean =>
  error instanceof McpError && error.code === ErrorCode.UnsupportedProtocolVersion && isRecord(error.data) &&
  Array.isArray(error.data.supported) && error.data.supported.includes(VERSION)

/** What `server/discover` says: the versions, and the server itself. */
export interface Discovered {
  readonly supportedVersions: ReadonlyArray<string>
  readonly capabilities: McpSchema.ServerCapabilities
  readonly serverInfo: McpSchema.Implementation
  readonly instructions: string | undefined
}

const decodeCapabilities = Schema.decodeUnknownOption(McpSchema.ServerCapabilities)
const decodeInfo = Schema.decodeUnknownOption(McpSchema.Implementation)

/** Reads a `server/discover` result; its server info is in `_meta` (or, from some servers, at the top level). */
export const discovered = (result: unknown): Discovered | undefined => {
  if (!isRecord(result) || !Array.isArray(result.supportedVersions)) return undefined
  const meta = isRecord(result._meta) ? result._meta : {}
  return {
    supportedVersions: result.supportedVersions.filter((v): v is string => typeof v === "string"),
    capabilities: Option.getOrElse(decodeCapabilities(result.capabilities), () => ({})),
    serverInfo: Option.getOrElse(
      Option.orElse(decodeInfo(meta[Modern.Meta.serverInfo]), () => decodeInfo(result.serverInfo)),
      () => ({ name: "unknown", version: "" })
    ),
    instructions: typeof result.instructions === "string" ? result.instructions : undefined
  }
}
