/**
 * The 2026-07-28 revision ("modern"): a request carries its protocol version,
 * client capabilities and client info in `params._meta`, and is served on its
 * own, without a handshake or a session. This module tells the eras apart,
 * reads and checks a modern request's `_meta`, and shapes modern results
 * (`resultType`, caching hints, `serverInfo`).
 */
import { Either, Schema } from "effect"
import { ErrorCode, McpError } from "../McpError.js"
import * as McpSchema from "../McpSchema.js"
import { ControlSignal } from "./cause.js"
import { isRecord, safeDecoder } from "./guards.js"

/** The modern revision this server speaks. */
export const VERSION = "2026-07-28"

/** Every modern revision spoken here, for `server/discover` and -32022. */
export const SUPPORTED: ReadonlyArray<string> = [VERSION]

/** The `_meta` keys of a modern request and result. */
export const Meta = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo"
} as const

/** What a modern request's `_meta` says about its client. */
export interface RequestMeta {
  readonly protocolVersion: string
  readonly clientCapabilities: McpSchema.ClientCapabilities
  readonly clientInfo: McpSchema.Implementation | undefined
  readonly logLevel: McpSchema.LoggingLevel | undefined
}

/**
 * Whether params claim the modern era: `_meta` names a protocol version. A
 * `_meta` that is not an object is no claim (and is refused by
 * {@link checkMeta}, which every request passes through).
 */
export const claimsModern = (params: Record<string, unknown> | undefined): boolean => {
  const meta = params?._meta
  return isRecord(meta) && Object.hasOwn(meta, Meta.protocolVersion)
}

/** A `_meta` of the wrong type is refused in either era, never dropped. */
export const checkMeta = (params: Record<string, unknown> | undefined): McpError | undefined =>
  params !== undefined && Object.hasOwn(params, "_meta") && !isRecord(params._meta)
    ? McpError.invalidParams("_meta must be an object")
    : undefined

/** Whether two JSON values are equal, looking at no more than 64 of their nodes (else: not known equal). */
const sameJson = (a: unknown, b: unknown): boolean => compare(a, b, 64) >= 0

/**
 * The budget left after finding `a` and `b` equal, each node visited taking
 * one; -1 when they differ or the budget runs out. Loops, not closures: it
 * runs for every modern request.
 */
const compare = (a: unknown, b: unknown, budget: number): number => {
  if (--budget < 0) return -1
  if (a === b) return budget
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return -1
    for (let i = 0; i < a.length && budget >= 0; i++) budget = compare(a[i], b[i], budget)
    return budget
  }
  if (!isRecord(a) || !isRecord(b) || Array.isArray(b)) return -1
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return -1
  for (let i = 0; i < keys.length && budget >= 0; i++) {
    const key = keys[i]!
    budget = Object.hasOwn(b, key) ? compare(a[key], b[key], budget) : -1
  }
  return budget
}

/**
 * A decoder that keeps its last input and answer: a client sends the same
 * capabilities and info with every request, and comparing a small JSON value
 * costs less than decoding it (and allocates next to nothing). The answer
 * is shared by the requests that sent the same value, read-only as its type
 * says.
 */
const remembering = <A>(decode: (u: unknown) => Either.Either<A, string>) => {
  let last: { readonly input: unknown; readonly answer: Either.Either<A, string> } | undefined
  return (u: unknown): Either.Either<A, string> => {
    if (last !== undefined && sameJson(u, last.input)) return last.answer
    const answer = decode(u)
    last = { input: u, answer }
    return answer
  }
}

const decodeCapabilities = remembering(safeDecoder(McpSchema.ClientCapabilities))
const decodeImplementation = remembering(safeDecoder(McpSchema.Implementation))
const decodeLevel = safeDecoder(McpSchema.LoggingLevel)

/** The last `_meta` read well, and what it said: a client sends the same with every request. */
let lastRead:
  | {
    readonly version: unknown
    readonly capabilities: unknown
    readonly clientInfo: unknown
    readonly logLevel: unknown
    readonly read: RequestMeta
  }
  | undefined

/**
 * Reads a modern request's `_meta`: -32602 when a required field is missing
 * or malformed, -32022 when its version is not spoken here. A `_meta` that
 * says what the last one read well said has the same reading (shared,
 * read-only as its type says).
 */
export const readMeta = (params: Record<string, unknown> | undefined): RequestMeta | McpError => {
  const meta = isRecord(params?._meta) ? params._meta : {}
  const last = lastRead
  if (
    last !== undefined && meta[Meta.protocolVersion] === last.version && meta[Meta.logLevel] === last.logLevel &&
    Object.hasOwn(meta, Meta.clientCapabilities) && sameJson(meta[Meta.clientCapabilities], last.capabilities) &&
    sameJson(meta[Meta.clientInfo], last.clientInfo)
  ) return last.read
  const read = readAfresh(meta)
  if (!(read instanceof McpError)) {
    lastRead = {
      version: meta[Meta.protocolVersion],
      capabilities: meta[Meta.clientCapabilities],
      clientInfo: meta[Meta.clientInfo],
      logLevel: meta[Meta.logLevel],
      read
    }
  }
  return read
}

const readAfresh = (meta: Record<string, unknown>): RequestMeta | McpError => {
  const version = meta[Meta.protocolVersion]
  if (typeof version !== "string") return McpError.invalidParams(`_meta["${Meta.protocolVersion}"] must be a string`)
  if (!Object.hasOwn(meta, Meta.clientCapabilities)) {
    return McpError.invalidParams(`_meta["${Meta.clientCapabilities}"] is required ({} declares none)`)
  }
  const capabilities = decodeCapabilities(meta[Meta.clientCapabilities])
  if (Either.isLeft(capabilities)) {
    return McpError.invalidParams(`_meta["${Meta.clientCapabilities}"]: ${capabilities.left}`)
  }
  const clientInfo = optional(meta, Meta.clientInfo, decodeImplementation)
  if (clientInfo instanceof McpError) return clientInfo
  const logLevel = optional(meta, Meta.logLevel, decodeLevel)
  if (logLevel instanceof McpError) return logLevel
  if (!SUPPORTED.includes(version)) return unsupportedVersion(version)
  return { protocolVersion: version, clientCapabilities: capabilities.right, clientInfo, logLevel }
}

const optional = <A>(
  meta: Record<string, unknown>,
  key: string,
  decode: (u: unknown) => Either.Either<A, string>
): A | undefined | McpError => {
  if (meta[key] === undefined) return undefined
  const decoded = decode(meta[key])
  return Either.isLeft(decoded) ? McpError.invalidParams(`_meta["${key}"]: ${decoded.left}`) : decoded.right
}

/** -32022, with the versions spoken here and the one asked for. */
export const unsupportedVersion = (requested: string): McpError =>
  new McpError({
    code: ErrorCode.UnsupportedProtocolVersion,
    message: `Unsupported protocol version: ${JSON.stringify(requested).slice(0, 100)}; supported: ${
      SUPPORTED.join(", ")
    }`,
    data: { supported: SUPPORTED, requested }
  })

/**
 * Methods the modern era removed: on a modern request they are unknown
 * (-32601), whatever the handshake era does with them.
 */
export const REMOVED: ReadonlySet<string> = new Set([
  "initialize",
  "ping",
  "logging/setLevel",
  "resources/subscribe",
  "resources/unsubscribe",
  "tasks/result",
  "tasks/list"
])

/** Results a client may cache: they carry `ttlMs` and `cacheScope`. */
const CACHEABLE: ReadonlySet<string> = new Set([
  "server/discover",
  "tools/list",
  "prompts/list",
  "resources/list",
  "resources/templates/list",
  "resources/read",
  "skills/list",
  "skills/get"
])

/** How long a result may be cached, and by whom. */
export interface CacheHint {
  readonly ttlMs: number
  readonly cacheScope: "public" | "private"
}

/** Nothing is cached unless the server says so: stale tools are worse than a second request. */
export const DEFAULT_CACHE_HINT: CacheHint = { ttlMs: 0, cacheScope: "private" }

/** The hint a server configured for `method`, or the default; `undefined` for a method whose result is not cacheable. */
export const cacheHint = (
  configured: Readonly<Record<string, CacheHint | undefined>> | undefined,
  method: string
): CacheHint | undefined => CACHEABLE.has(method) ? configured?.[method] ?? DEFAULT_CACHE_HINT : undefined

/**
 * A complete modern result: `resultType`, the caching hint where the method's
 * result is cacheable, and the server's info in `_meta`.
 */
export const complete = (
  method: string,
  result: unknown,
  serverInfo: McpSchema.Implementation,
  hint: CacheHint | undefined = cacheHint(undefined, method)
): Record<string, unknown> => {
  const body = isRecord(result) ? result : {}
  const meta = isRecord(body._meta) ? body._meta : {}
  // An interim result (input_required) is never cached.
  const cacheable = CACHEABLE.has(method) && hint !== undefined && (body.resultType ?? "complete") === "complete"
  return {
    ...(cacheable ? hint : {}),
    ...body,
    resultType: typeof body.resultType === "string" ? body.resultType : "complete",
    _meta: { ...meta, [Meta.serverInfo]: serverInfo }
  }
}

/** The HTTP status of a modern error from a handler: its own codes are 400, an unknown method 404 (the spec's table). */
export const httpStatus = (code: number): number => {
  switch (code) {
    case ErrorCode.MethodNotFound:
      return 404
    case ErrorCode.HeaderMismatch:
    case ErrorCode.MissingRequiredClientCapability:
    case ErrorCode.UnsupportedProtocolVersion:
      return 400
    default:
      return 200
  }
}

/** Whether a request's protocol version is of the modern era. */
export const isModern = (protocolVersion: string): boolean => protocolVersion >= VERSION

/**
 * Raised (as a defect, through the handler's own recovery) when a modern
 * request's handler needs a client capability the request did not declare:
 * the request is answered -32021, as the spec requires, rather than with the
 * handler's error result.
 */
export class MissingCapability extends ControlSignal {
  constructor(readonly capability: string, readonly method: string) {
    super()
  }
}

/** -32021, with the capability as a `ClientCapabilities` object (`elicitation.form` → `{ elicitation: { form: {} } }`). */
export const missingCapabilityError = (signal: MissingCapability): McpError =>
  new McpError({
    code: ErrorCode.MissingRequiredClientCapability,
    message: `Missing required client capability: ${signal.capability} (needed for ${signal.method})`,
    data: {
      requiredCapabilities: signal.capability.split(".").reduceRight<Record<string, unknown>>(
        (inner, part) => ({ [part]: inner }),
        {}
      )
    }
  })

/** What a `subscriptions/listen` asks to hear of. */
export interface ListenFilter {
  readonly toolsListChanged?: boolean | undefined
  readonly promptsListChanged?: boolean | undefined
  readonly resourcesListChanged?: boolean | undefined
  readonly resourceSubscriptions?: ReadonlyArray<string> | undefined
  /** Tasks whose status changes to send (`notifications/tasks`), with the tasks extension. */
  readonly taskIds?: ReadonlyArray<string> | undefined
}

const ListenParams = Schema.Struct({
  notifications: Schema.optional(Schema.Struct({
    toolsListChanged: Schema.optional(Schema.Boolean),
    promptsListChanged: Schema.optional(Schema.Boolean),
    resourcesListChanged: Schema.optional(Schema.Boolean),
    resourceSubscriptions: Schema.optional(Schema.Array(Schema.String)),
    taskIds: Schema.optional(Schema.Array(Schema.String))
  }))
})

const decodeListen = safeDecoder(ListenParams)

/** A listen's filter, as asked: -32602 when malformed. */
export const listenFilter = (params: Record<string, unknown> | undefined): ListenFilter | McpError => {
  const decoded = decodeListen(params ?? {})
  return Either.isLeft(decoded) ? McpError.invalidParams(decoded.left) : decoded.right.notifications ?? {}
}

/** What of `asked` the server honours: only what its capabilities say it announces (tasks: always). */
export const honoured = (asked: ListenFilter, capabilities: McpSchema.ServerCapabilities): ListenFilter => ({
  ...(asked.taskIds !== undefined ? { taskIds: asked.taskIds } : {}),
  ...(asked.toolsListChanged && capabilities.tools?.listChanged ? { toolsListChanged: true } : {}),
  ...(asked.promptsListChanged && capabilities.prompts?.listChanged ? { promptsListChanged: true } : {}),
  ...(asked.resourcesListChanged && capabilities.resources?.listChanged ? { resourcesListChanged: true } : {}),
  ...(asked.resourceSubscriptions !== undefined && capabilities.resources?.subscribe
    ? { resourceSubscriptions: asked.resourceSubscriptions }
    : {})
})

/** Whether a listen with `filter` hears `method` (about `about`: a resource's uri, or a task's id). */
export const hears = (filter: ListenFilter, method: string, about?: string): boolean => {
  switch (method) {
    case "notifications/tools/list_changed":
      return filter.toolsListChanged === true
    case "notifications/prompts/list_changed":
      return filter.promptsListChanged === true
    case "notifications/resources/list_changed":
      return filter.resourcesListChanged === true
    case "notifications/resources/updated":
      return about !== undefined && (filter.resourceSubscriptions?.includes(about) ?? false)
    case "notifications/tasks":
      return about !== undefined && (filter.taskIds?.includes(about) ?? false)
    default:
      return false
  }
}

/** The `_meta` every message of a listen carries. */
export const subscriptionMeta = (id: McpSchema.RequestId) => ({ "io.modelcontextprotocol/subscriptionId": id })
