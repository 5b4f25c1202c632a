import * as McpSchema from "../McpSchema.js"

/**
 * Protocol revisions and their rules, in one place: which revisions are
 * spoken, how a client's request is negotiated, which revision has batches or
 * primes its SSE streams, which header a session accepts, and how what the
 * server sends is adapted to an older client's revision.
 */

const V2025_03_26 = "2025-03-26"
const V2025_06_18 = "2025-06-18"
const V2025_11_25 = "2025-11-25"
const V2026_07_28 = "2026-07-28"

/** The newest handshake-era revision. */
export const latest = McpSchema.LATEST_PROTOCOL_VERSION

/** Every handshake-era revision, newest first. */
export const supported = McpSchema.SUPPORTED_PROTOCOL_VERSIONS

export const isSupported = (version: string): boolean => supported.includes(version)

/** Revisions compare as ISO dates, so string order is revision order. */
export const atLeast = McpSchema.versionAtLeast

/** What `initialize` settles on: the client's revision when spoken here, else the newest (the client then decides). */
export const negotiate = (requested: string): string => isSupported(requested) ? requested : latest

/** JSON-RPC batches exist in 2025-03-26 only: added there, removed in 2025-06-18. */
export const hasBatches = (version: string | undefined): boolean => version === V2025_03_26

/**
 * SSE streams open with a priming event and a `retry` field from 2025-11-25
 * on (SEP-1699), until 2026-07-28 took resumption away.
 */
export const primesStreams = (version: string): boolean => atLeast(version, V2025_11_25) && version < V2026_07_28

/** Tool results carry `structuredContent` from 2025-06-18 on. */
export const hasStructuredContent = (version: string): boolean => atLeast(version, V2025_06_18)

/**
 * Checks an HTTP request's `MCP-Protocol-Version` header against the
 * session's negotiated revision: the reason to refuse it, or `undefined`.
 */
export const checkHeader = (header: string | undefined, negotiated: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  if (!isSupported(header)) {
    return `Unsupported MCP-Protocol-Version ${JSON.stringify(header)}; supported: ${supported.join(", ")}`
  }
  if (negotiated !== undefined && header > negotiated) {
    return `MCP-Protocol-Version ${header} is newer than the session's negotiated ${negotiated}`
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Adapting what the server sends to an older client's revision
// ---------------------------------------------------------------------------

/**
 * What the server sends is written for the newest revision; these functions
 * take out what an older client's revision does not have, so a strict client
 * never meets a field or content type it cannot read.
 */

const omit = <A extends object, K extends keyof A>(value: A, keys: ReadonlyArray<K>): A => {
  if (!keys.some((key) => key in value)) return value
  const copy = { ...value }
  for (const key of keys) delete copy[key]
  return copy
}

export const tool = (definition: McpSchema.ToolDefinition, version: string): McpSchema.ToolDefinition => {
  // Tasks are served in 2026-07-28 only: a handshake-era client is not told a tool supports them.
  if (atLeast(version, V2026_07_28)) return definition
  if (atLeast(version, V2025_06_18)) return omit(definition, ["execution"])
  return omit(
    definition,
    atLeast(version, V2025_03_26)
      ? ["outputSchema", "title", "icons", "execution"]
      : ["outputSchema", "title", "icons", "execution", "annotations"]
  )
}

export const described = <A extends { readonly title?: string | undefined; readonly icons?: unknown }>(
  definition: A,
  version: string
): A => atLeast(version, V2025_06_18) ? definition : omit(definition, ["title", "icons"])

/** Resource links (2025-06-18) become text; audio (2025-03-26) becomes a text note. */
export const content = (block: McpSchema.ContentBlock, version: string): McpSchema.ContentBlock => {
  if (block.type === "resource_link" && !atLeast(version, V2025_06_18)) {
    return { type: "text", text: `Resource: ${block.uri}${block.description ? ` (${block.description})` : ""}` }
  }
  if (block.type === "audio" && !atLeast(version, V2025_03_26)) {
    return { type: "text", text: `[audio content of type ${block.mimeType} is not supported by protocol ${version}]` }
  }
  return block
}

export const callToolResult = (result: McpSchema.CallToolResult, version: string): McpSchema.CallToolResult => {
  if (atLeast(version, V2025_06_18)) return result
  return { ...omit(result, ["structuredContent"]), content: result.content.map((block) => content(block, version)) }
}

export const promptResult = (result: McpSchema.GetPromptResult, version: string): McpSchema.GetPromptResult => {
  if (atLeast(version, V2025_06_18)) return result
  return { ...result, messages: result.messages.map((m) => ({ ...m, content: content(m.content, version) })) }
}
