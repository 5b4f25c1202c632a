/**
 * Errors of mcp-effect.
 *
 * `McpError` is the one error that crosses the wire: a handler fails with it to
 * answer with a JSON-RPC error object. The others are typed failures of local
 * operations.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { McpError } from "mcp-effect"
 *
 * const notFound = Effect.fail(McpError.McpError.resourceNotFound("file:///missing"))
 * ```
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * JSON-RPC and MCP error codes.
 *
 * @since 0.1.0
 * @category models
 */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ResourceNotFound: -32002,
  UrlElicitationRequired: -32042,
  RequestTimeout: -32001,
  ConnectionClosed: -32000,
  /** An HTTP request refused before any JSON-RPC handling (a bad header, a limit), as the official SDKs send it. */
  ServerError: -32000,
  /** The HTTP session named by `Mcp-Session-Id` is gone, as the official SDKs send it. */
  SessionNotFound: -32001,
  /** 2026-07-28: an `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` or `Mcp-Param-*` header disagrees with the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: the request needs a client capability it did not declare (`data.requiredCapabilities`). */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the request's protocol version is not spoken here (`data.supported`, `data.requested`). */
  UnsupportedProtocolVersion: -32022
} as const

/**
 * A JSON-RPC error: sent to the peer as `{ code, message, data }` when a
 * handler fails with it, and received as it when the peer answers with one.
 *
 * @since 0.1.0
 * @category errors
 */
export class McpError extends Schema.TaggedError<McpError>()("McpError", {
  code: Schema.Number,
  message: Schema.String,
  data: Schema.optional(Schema.Unknown)
}) {
  /**
   * -32700: the message is not valid JSON.
   *
   * @since 0.1.0
   */
  static parseError(detail: string) {
    return new McpError({ code: ErrorCode.ParseError, message: `Parse error: ${detail}` })
  }
  /**
   * -32600: the message is not a valid request, or the request is refused.
   *
   * @since 0.1.0
   */
  static invalidRequest(detail: string) {
    return new McpError({ code: ErrorCode.InvalidRequest, message: `Invalid request: ${detail}` })
  }
  /**
   * -32601: no handler for the method.
   *
   * @since 0.1.0
   */
  static methodNotFound(method: string) {
    return new McpError({ code: ErrorCode.MethodNotFound, message: `Method not found: ${method}` })
  }
  /**
   * -32602: the params do not fit the method (or the tool, prompt or resource).
   *
   * @since 0.1.0
   */
  static invalidParams(detail: string) {
    return new McpError({ code: ErrorCode.InvalidParams, message: `Invalid params: ${detail}` })
  }
  /**
   * -32603, with a detail that is safe to show the peer (never a stack or a path).
   *
   * @since 0.1.0
   */
  static internal(detail?: string) {
    return new McpError({
      code: ErrorCode.InternalError,
      message: detail === undefined ? "Internal error" : `Internal error: ${detail}`
    })
  }
  /**
   * -32002: no resource at the URI; the URI is sent as `data.uri`.
   *
   * @since 0.1.0
   */
  static resourceNotFound(uri: string) {
    return new McpError({ code: ErrorCode.ResourceNotFound, message: `Resource not found: ${uri}`, data: { uri } })
  }
}

/**
 * The peer answered neither a result nor an error in time.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeoutError extends Schema.TaggedError<RequestTimeoutError>()("RequestTimeoutError", {
  method: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message() {
    return `Request ${this.method} timed out after ${this.timeoutMillis} ms`
  }
}

/**
 * An outgoing message JSON cannot encode (a BigInt, a cycle). Transports throw
 * it in the fiber that sent the message; a response is never refused this way
 * (it becomes a -32603 for its id instead).
 *
 * @since 0.1.0
 * @category errors
 */
export class MessageEncodingError extends Schema.TaggedError<MessageEncodingError>()("MessageEncodingError", {
  detail: Schema.String
}) {
  override get message() {
    return `The message cannot be encoded as JSON: ${this.detail}`
  }
}

/**
 * The connection ended before the peer answered. `reason` says why, where the
 * transport knows (a spawned server process exited, with its exit code).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionClosedError extends Schema.TaggedError<ConnectionClosedError>()("ConnectionClosedError", {
  method: Schema.String,
  /** @since 0.2.0 */
  reason: Schema.optional(Schema.String)
}) {
  override get message() {
    const base = `Connection closed before ${this.method} was answered`
    return this.reason === undefined ? base : `${base}: ${this.reason}`
  }
}

/**
 * A server→client request was refused locally because the client did not
 * declare the capability it needs. Nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class CapabilityNotSupportedError extends Schema.TaggedError<CapabilityNotSupportedError>()(
  "CapabilityNotSupportedError",
  { capability: Schema.String, method: Schema.String }
) {
  override get message() {
    return `The client did not declare the "${this.capability}" capability required by ${this.method}`
  }
}

/**
 * A skill file that does not match what the server listed for it (its
 * size, its digest, or for `SKILL.md` its frontmatter): it was changed, or
 * tampered with, between listing and reading, and must not be used.
 *
 * @since 0.2.0
 * @category errors
 */
export class SkillVerificationError extends Schema.TaggedError<SkillVerificationError>()("SkillVerificationError", {
  uri: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Skill file ${this.uri} does not match its listing: ${this.reason}`
  }
}

/**
 * A tool call that did not give what the caller expects of it: an error
 * result (without a typed failure a `Toolkit` knows), or structured content
 * that is missing or does not decode.
 *
 * @since 0.2.0
 * @category errors
 */
export class ToolCallError extends Schema.TaggedError<ToolCallError>()("ToolCallError", {
  tool: Schema.String,
  message: Schema.String
}) {}

/**
 * Anything a request to the peer can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestError = McpError | RequestTimeoutError | ConnectionClosedError

/**
 * A definition was refused when its layer was built.
 *
 * @since 0.1.0
 * @category errors
 */
export class DefinitionError extends Schema.TaggedError<DefinitionError>()("DefinitionError", {
  message: Schema.String
}) {}
